//! The fetcher against the fault-injecting loopback server.

#![allow(clippy::unwrap_used)] // a test states what it expects with unwrap

use ontofetch_metrics::{KnownSeries, Metrics};
use ontofetch_net::{Download, Fetched, Fetcher, HostCredential, NetConfig, NetError, Validators};
use ontofetch_policy::host::HostRule;
use ontofetch_policy::{Coded, NetPolicy, Policy};
use ontofetch_testsupport::{Fault, Reply, TestServer};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const OWL: &str = "application/rdf+xml";

fn body(n: usize) -> Vec<u8> {
    let mut v = b"<?xml version=\"1.0\"?>\n<rdf:RDF>".to_vec();
    v.extend((0..n).map(|i| b'a' + (i % 26) as u8));
    v
}

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

struct Rig {
    fetcher: Fetcher,
    metrics: Arc<Metrics>,
    dir: tempfile::TempDir,
}

fn rig(servers: &[&TestServer], tweak: impl FnOnce(&mut NetConfig)) -> Rig {
    let policy = Policy {
        net: NetPolicy {
            allowed_hosts: servers.iter().map(|s| HostRule::parse(&s.allow_entry()).unwrap()).collect(),
            ..NetPolicy::default()
        },
        ..Policy::default()
    };
    let metrics = Arc::new(Metrics::new(&KnownSeries::default()));
    let mut config = NetConfig {
        backoff_base: Duration::from_millis(10),
        max_retry_after: Duration::from_millis(50),
        ..NetConfig::default()
    };
    tweak(&mut config);
    let fetcher = Fetcher::new(Arc::new(policy), metrics.clone(), config).unwrap();
    Rig { fetcher, metrics, dir: tempfile::tempdir().unwrap() }
}

impl Rig {
    async fn get(&self, url: &str) -> Result<Fetched, NetError> {
        self.get_with(url, |_| {}).await
    }

    async fn get_with(&self, url: &str, tweak: impl FnOnce(&mut Download<'_>)) -> Result<Fetched, NetError> {
        let dest = self.dest();
        let mut d = Download {
            url,
            service: "test",
            dest: &dest,
            conditional: None,
            expected_sha256: None,
            credential: None,
            progress: None,
            admit: None,
        };
        tweak(&mut d);
        self.fetcher.download(&d).await
    }

    fn dest(&self) -> std::path::PathBuf {
        self.dir.path().join("file.owl")
    }

    fn files(&self) -> Vec<String> {
        std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }

    fn metric(&self, series: &str) -> f64 {
        ontofetch_testsupport::local::metric_value(&self.metrics.encode().unwrap(), series).unwrap_or(0.0)
    }
}

fn downloaded(r: Result<Fetched, NetError>) -> ontofetch_net::DownloadInfo {
    match r {
        Ok(Fetched::Downloaded(i)) => *i,
        other => panic!("expected a download, got {other:?}"),
    }
}

#[tokio::test]
async fn plain_download_is_hashed_and_atomic() {
    let s = TestServer::start();
    let b = body(100_000);
    s.route("/bfo.owl", vec![Reply::ok(b.clone(), OWL).header("ETag", "\"v1\"")]);
    let r = rig(&[&s], |_| {});
    let info = downloaded(r.get(&s.url("/bfo.owl")).await);
    assert_eq!(info.sha256, sha(&b));
    assert_eq!(info.bytes, b.len() as u64);
    assert_eq!(info.etag.as_deref(), Some("\"v1\""));
    assert_eq!(std::fs::read(r.dest()).unwrap(), b);
    assert_eq!(r.files(), ["file.owl"]);
    let ua = s.seen()[0].headers.get("user-agent").cloned().unwrap_or_default();
    assert!(ua.starts_with("ontofetch/"), "polite User-Agent: {ua}");
    assert_eq!(r.metric("ontofetch_http_requests_total{service=\"test\",code_class=\"2xx\"}"), 1.0);
    assert_eq!(r.metric("ontofetch_download_bytes_total"), b.len() as f64);
}

#[tokio::test]
async fn dropped_body_resumes_with_range_and_stitches_the_hash() {
    let s = TestServer::start();
    let b = body(200_000);
    s.route("/x.owl", vec![Reply::ok(b.clone(), OWL).fault(Fault::DropAfter(70_000)), Reply::ok(b.clone(), OWL)]);
    let r = rig(&[&s], |_| {});
    let info = downloaded(r.get(&s.url("/x.owl")).await);
    assert!(info.resumed);
    assert_eq!(info.attempts, 2);
    assert_eq!(info.sha256, sha(&b), "hash covers the resumed prefix too");
    let range = s.seen()[1].headers.get("range").cloned();
    assert!(range.as_deref().is_some_and(|r| r.starts_with("bytes=") && r != "bytes=0-"), "{range:?}");
    assert_eq!(std::fs::read(r.dest()).unwrap(), b);
    assert_eq!(r.metric("ontofetch_http_retries_total{service=\"test\"}"), 1.0);
}

#[tokio::test]
async fn truncation_that_never_heals_fails_and_leaves_nothing() {
    let s = TestServer::start();
    let b = body(5_000);
    s.route("/t.owl", vec![Reply::ok(b, OWL).fault(Fault::LieLength(50_000))]);
    let r = rig(&[&s], |c| c.max_attempts = 3);
    let e = r.get(&s.url("/t.owl")).await.unwrap_err();
    assert_eq!(e.code().as_str(), "E_NETWORK", "{e}");
    assert_eq!(s.hits("/t.owl"), 3);
    assert!(r.files().is_empty(), "no partial artifact: {:?}", r.files());
}

#[tokio::test]
async fn retry_after_on_429_and_503_is_honoured() {
    let s = TestServer::start();
    let b = body(1000);
    s.route(
        "/r.owl",
        vec![
            Reply::status(429).header("Retry-After", "0"),
            Reply::status(503).header("Retry-After", "1"),
            Reply::ok(b.clone(), OWL),
        ],
    );
    let r = rig(&[&s], |_| {});
    let info = downloaded(r.get(&s.url("/r.owl")).await);
    assert_eq!(info.attempts, 3);
    assert_eq!(info.sha256, sha(&b));
    assert_eq!(r.metric("ontofetch_http_requests_total{service=\"test\",code_class=\"4xx\"}"), 1.0);
    assert_eq!(r.metric("ontofetch_http_requests_total{service=\"test\",code_class=\"5xx\"}"), 1.0);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let s = TestServer::start();
    s.route("/gone.owl", vec![Reply::status(404)]);
    let r = rig(&[&s], |_| {});
    let e = r.get(&s.url("/gone.owl")).await.unwrap_err();
    assert!(matches!(e, NetError::Status { status: 404, .. }), "{e}");
    assert_eq!(s.hits("/gone.owl"), 1);
}

#[tokio::test]
async fn redirect_chains_are_followed_and_every_hop_is_gated() {
    let s = TestServer::start();
    let b = body(500);
    s.route("/a", vec![Reply::redirect(301, "/b")]);
    s.route("/b", vec![Reply::redirect(302, &s.url("/c.owl"))]);
    s.route("/c.owl", vec![Reply::ok(b.clone(), OWL)]);
    s.route("/meta", vec![Reply::redirect(302, "http://169.254.169.254/latest/meta-data/")]);
    s.route("/mapped", vec![Reply::redirect(302, "http://[::ffff:127.0.0.1]:1/")]);
    s.route("/loop", vec![Reply::redirect(302, "/loop")]);
    s.route("/file", vec![Reply::redirect(302, "file:///etc/passwd")]);
    let r = rig(&[&s], |_| {});
    let info = downloaded(r.get(&s.url("/a")).await);
    assert_eq!(info.final_url, s.url("/c.owl"));
    for (path, code) in [("/meta", "E_PRIVATE_IP"), ("/loop", "E_REDIRECT_LIMIT"), ("/file", "E_SCHEME")] {
        let e = r.get(&s.url(path)).await.unwrap_err();
        assert_eq!(e.code().as_str(), code, "{path}: {e}");
    }
    // the mapped form of the allowed loopback address is allowed only on the allowed port
    assert_eq!(r.get(&s.url("/mapped")).await.unwrap_err().code().as_str(), "E_PORT");
    assert_eq!(s.hits("/loop"), 6, "initial request plus max_redirects hops, then refused");
    assert_eq!(r.metric("ontofetch_gate_rejections_total{gate=\"redirect\",code=\"E_PRIVATE_IP\"}"), 1.0);
    assert!(r.files().is_empty() || r.files() == ["file.owl"]);
}

#[tokio::test]
async fn html_error_pages_are_refused() {
    let s = TestServer::start();
    s.route("/page.owl", vec![Reply::ok("<!DOCTYPE HTML>\n<html><body>Not here</body></html>", "text/html")]);
    s.route("/lying.owl", vec![Reply::ok("  <html><head>", OWL)]);
    let r = rig(&[&s], |_| {});
    for p in ["/page.owl", "/lying.owl"] {
        let e = r.get(&s.url(p)).await.unwrap_err();
        assert_eq!(e.code().as_str(), "E_MEDIA_TYPE", "{p}");
    }
    assert!(r.files().is_empty());
}

#[tokio::test]
async fn conditional_get_yields_not_modified() {
    let s = TestServer::start();
    s.route("/c.owl", vec![Reply::ok(body(10), OWL).header("ETag", "\"abc\"")]);
    let r = rig(&[&s], |_| {});
    let got = r
        .get_with(&s.url("/c.owl"), |d| {
            d.conditional = Some(Validators {
                etag: Some("\"abc\"".into()),
                last_modified: Some("Wed, 21 Oct 2015 07:28:00 GMT".into()),
            })
        })
        .await
        .unwrap();
    assert!(matches!(got, Fetched::NotModified { .. }), "{got:?}");
    let seen = &s.seen()[0];
    assert_eq!(seen.headers.get("if-none-match").map(String::as_str), Some("\"abc\""));
    assert!(seen.headers.contains_key("if-modified-since"));
    assert!(r.files().is_empty());
    // a changed ETag downloads again
    let got = r
        .get_with(&s.url("/c.owl"), |d| {
            d.conditional = Some(Validators { etag: Some("\"old\"".into()), last_modified: None })
        })
        .await;
    assert_eq!(downloaded(got).etag.as_deref(), Some("\"abc\""));
}

#[tokio::test]
async fn size_cap_and_checksum_leave_nothing_behind() {
    let s = TestServer::start();
    let b = body(50_000);
    s.route("/big.owl", vec![Reply::ok(b.clone(), OWL)]);
    s.route("/chunked-big.owl", vec![Reply::ok(b.clone(), OWL).fault(Fault::BadLength)]);
    let small = rig(&[&s], |c| c.max_bytes = 10_000);
    assert_eq!(small.get(&s.url("/big.owl")).await.unwrap_err().code().as_str(), "E_SIZE_LIMIT");
    assert!(small.files().is_empty());
    let r = rig(&[&s], |_| {});
    let e = r.get_with(&s.url("/big.owl"), |d| d.expected_sha256 = Some("00".repeat(32))).await.unwrap_err();
    assert_eq!(e.code().as_str(), "E_CHECKSUM");
    assert!(r.files().is_empty());
    let ok = r.get_with(&s.url("/big.owl"), |d| d.expected_sha256 = Some(sha(&b).to_uppercase())).await;
    assert_eq!(downloaded(ok).sha256, sha(&b));
    // a malformed Content-Length is a protocol error for hyper (RFC 9112 §6.3): refused, nothing kept
    let e = small.get(&s.url("/chunked-big.owl")).await.unwrap_err();
    assert_eq!(e.code().as_str(), "E_NETWORK", "{e}");
    assert!(small.files().is_empty());
}

#[tokio::test]
async fn stale_partial_longer_than_the_resource_recovers_from_416() {
    let s = TestServer::start();
    let b = body(1000);
    s.route("/s.owl", vec![Reply::ok(b.clone(), OWL)]);
    let r = rig(&[&s], |_| {});
    std::fs::write(r.dir.path().join("file.owl.part"), vec![b'x'; 5000]).unwrap();
    let info = downloaded(r.get(&s.url("/s.owl")).await);
    assert_eq!(info.sha256, sha(&b));
    assert_eq!(s.seen()[0].headers.get("range").map(String::as_str), Some("bytes=5000-"));
    assert!(!s.seen()[1].headers.contains_key("range"), "retried without Range");
}

#[tokio::test]
async fn slow_bodies_time_out_and_partials_are_removed() {
    let s = TestServer::start();
    s.route(
        "/slow.owl",
        vec![Reply::ok(body(4000), OWL).fault(Fault::Slow { chunk: 100, delay: Duration::from_millis(50) })],
    );
    let r = rig(&[&s], |c| {
        c.attempt_deadline = Duration::from_millis(300);
        c.max_attempts = 2;
    });
    let e = r.get(&s.url("/slow.owl")).await.unwrap_err();
    assert_eq!(e.code().as_str(), "E_TIMEOUT", "{e}");
    assert!(r.files().is_empty(), "{:?}", r.files());
}

#[tokio::test]
async fn credentials_go_only_to_their_host_and_port() {
    let api = TestServer::start();
    let other = TestServer::start();
    other.route("/file.owl", vec![Reply::ok(body(10), OWL)]);
    api.route("/download", vec![Reply::redirect(302, &other.url("/file.owl"))]);
    let r = rig(&[&api, &other], |_| {});
    let port: u16 = api.allow_entry().rsplit(':').next().unwrap().parse().unwrap();
    let cred = HostCredential {
        host: "127.0.0.1".into(),
        port: Some(port),
        header: "Authorization".into(),
        value: "apikey token=SECRET".into(),
    };
    downloaded(r.get_with(&api.url("/download"), |d| d.credential = Some(cred)).await);
    assert_eq!(api.seen()[0].headers.get("authorization").map(String::as_str), Some("apikey token=SECRET"));
    assert!(!other.seen()[0].headers.contains_key("authorization"), "no credential after a cross-origin redirect");
}

#[tokio::test]
async fn unlisted_loopback_is_refused_before_connecting() {
    let s = TestServer::start();
    s.route("/x.owl", vec![Reply::ok(body(10), OWL)]);
    let r = rig(&[], |_| {});
    assert_eq!(r.get(&s.url("/x.owl")).await.unwrap_err().code().as_str(), "E_PRIVATE_IP");
    assert_eq!(s.hits("/x.owl"), 0);
}

#[tokio::test]
async fn the_resolver_gates_every_answer() {
    use reqwest::dns::Resolve;
    let metrics = Arc::new(Metrics::new(&KnownSeries::default()));
    let dns = Arc::new(ontofetch_net::resolver::Dns::new(&[]).unwrap());
    let resolver = ontofetch_net::resolver::GatedResolver::new(Arc::new(Policy::default()), metrics.clone(), 443, dns);
    // "localhost" resolves from /etc/hosts (no network) to loopback, which must be refused.
    let err = match resolver.resolve("localhost".parse().unwrap()).await {
        Ok(addrs) => panic!("resolved to {:?}", addrs.collect::<Vec<_>>()),
        Err(e) => e,
    };
    let policy = err.downcast_ref::<ontofetch_policy::PolicyError>().expect("a gate refusal");
    assert_eq!(policy.code().as_str(), "E_PRIVATE_IP");
    let text = metrics.encode().unwrap();
    assert!(
        text.contains("ontofetch_gate_rejections_total{gate=\"ip\",code=\"E_PRIVATE_IP\"} 1")
            || text.contains("ontofetch_gate_rejections_total{gate=\"ip\",code=\"E_PRIVATE_IP\"} 2"),
        "{text}"
    );
    let _ = Path::new("");
}

#[tokio::test]
async fn probe_uses_head_then_get_on_405_and_gates_redirects() {
    let s = TestServer::start();
    s.route("/h.owl", vec![Reply::status(405), Reply::ok(body(100), OWL).header("ETag", "\"p\"")]);
    s.route("/bad", vec![Reply::redirect(302, "http://[::1]/x")]);
    let r = rig(&[&s], |_| {});
    let info = r.fetcher.probe(&s.url("/h.owl"), "test", None).await.unwrap();
    assert_eq!(info.method, "GET");
    assert_eq!(info.etag.as_deref(), Some("\"p\""));
    let methods: Vec<String> = s.seen().iter().map(|x| x.method.clone()).collect();
    assert_eq!(methods, ["HEAD", "GET"]);
    let e = r.fetcher.probe(&s.url("/bad"), "test", None).await.unwrap_err();
    assert_eq!(e.code().as_str(), "E_PRIVATE_IP", "a redirect to a disallowed host is refused on HEAD too");
}

/// The storage gate sees the announced size before the body is read: a download that
/// cannot fit leaves no byte on disk.
#[tokio::test]
async fn the_announced_size_must_fit_before_a_byte_is_written() {
    use ontofetch_policy::storage::WriteFacts;
    use ontofetch_policy::{Gates, NoObserver, Policy};
    let s = TestServer::start();
    let b = body(50_000);
    s.route("/big.owl", vec![Reply::ok(b.clone(), OWL)]);
    let r = rig(&[&s], |_| {});
    let policy = Policy::default();
    let reserve = policy.storage.reserve_bytes;
    let root = r.dir.path().to_path_buf();
    let dest = r.dest();
    let with_free = |free: u64| {
        let (root, dest, policy) = (root.clone(), dest.clone(), policy.clone());
        move |bytes: u64| {
            Gates::new(&policy, &NoObserver).write(&WriteFacts {
                root: &root,
                target: &dest,
                root_is_symlink: false,
                bytes,
                free_bytes: Some(free),
            })
        }
    };
    let url = s.url("/big.owl");
    let download =
        |admit: &'static (dyn Fn(u64) -> Result<(), ontofetch_policy::PolicyError> + Send + Sync)| Download {
            url: &url,
            service: "test",
            dest: &dest,
            conditional: None,
            expected_sha256: None,
            credential: None,
            progress: None,
            admit: Some(admit),
        };
    let full: &'static _ = Box::leak(Box::new(with_free(reserve + 10_000)));
    let e = r.fetcher.download(&download(full)).await.unwrap_err();
    assert_eq!(e.code().as_str(), "E_DISK_SPACE", "{e}");
    assert!(e.to_string().contains(&format!("writing {} bytes", b.len())), "{e}");
    assert!(r.files().is_empty(), "nothing written: {:?}", r.files());
    let roomy: &'static _ = Box::leak(Box::new(with_free(reserve + 100_000)));
    let ok = r.fetcher.download(&download(roomy)).await;
    assert_eq!(downloaded(ok).bytes, b.len() as u64);
}

#[tokio::test]
async fn progress_reports_every_byte_and_the_total() {
    use std::sync::Mutex;
    let s = TestServer::start();
    let b = body(300_000);
    s.route("/p.owl", vec![Reply::ok(b.clone(), OWL)]);
    let r = rig(&[&s], |_| {});
    let seen: Mutex<Vec<(u64, Option<u64>)>> = Mutex::new(Vec::new());
    let record = |got: u64, total: Option<u64>| seen.lock().unwrap().push((got, total));
    let dest = r.dest();
    let url = s.url("/p.owl");
    let d = Download {
        url: &url,
        service: "test",
        dest: &dest,
        conditional: None,
        expected_sha256: None,
        credential: None,
        progress: Some(&record),
        admit: None,
    };
    downloaded(r.fetcher.download(&d).await);
    let calls = seen.into_inner().unwrap();
    assert!(!calls.is_empty());
    assert!(calls.windows(2).all(|w| w[0].0 <= w[1].0), "monotonic");
    assert_eq!(calls.last().unwrap(), &(b.len() as u64, Some(b.len() as u64)));
}

#[tokio::test]
async fn an_unsolicited_304_is_an_error_not_news() {
    let s = TestServer::start();
    s.route("/x.owl", vec![Reply::status(304)]);
    let r = rig(&[&s], |_| {});
    let e = r.get(&s.url("/x.owl")).await.unwrap_err();
    assert_eq!(e.code().as_str(), "E_HTTP_STATUS", "{e}");
    assert!(e.to_string().contains("304"), "{e}");
    // a 304 to a conditional request is the server saying nothing changed
    let etag = Validators { etag: Some("\"e\"".into()), last_modified: None };
    let f = r.get_with(&s.url("/x.owl"), |d| d.conditional = Some(etag)).await.unwrap();
    assert!(matches!(f, Fetched::NotModified { .. }));
}

#[tokio::test]
async fn the_html_sniff_sees_past_chunk_boundaries_and_comments() {
    let s = TestServer::start();
    let page = b"\n\n<!DOCTYPE html><html><body>login</body></html>".to_vec();
    s.route("/a.owl", vec![Reply::ok(page, OWL).fault(Fault::Chunked(vec![2, 3]))]);
    let commented = b"<!-- served by a proxy -->\n<html><head><title>Error</title>".to_vec();
    s.route("/b.owl", vec![Reply::ok(commented, OWL)]);
    let mut rdf = b"<!-- generated -->\n".to_vec();
    rdf.extend(body(50_000));
    s.route("/c.owl", vec![Reply::ok(rdf.clone(), OWL).fault(Fault::Chunked(vec![1, 1, 7]))]);
    let r = rig(&[&s], |_| {});
    for path in ["/a.owl", "/b.owl"] {
        let e = r.get(&s.url(path)).await.unwrap_err();
        assert_eq!(e.code().as_str(), "E_MEDIA_TYPE", "{path}: {e}");
        assert!(r.files().is_empty(), "{path}: nothing left");
    }
    let f = downloaded(r.get(&s.url("/c.owl")).await);
    assert_eq!(f.sha256, sha(&rdf), "a chunked body arrives whole");
}

#[tokio::test]
async fn small_requests_have_a_total_deadline() {
    let s = TestServer::start();
    s.route(
        "/sums.txt",
        vec![
            Reply::ok(vec![b'a'; 200], "text/plain").fault(Fault::Slow { chunk: 1, delay: Duration::from_millis(100) }),
        ],
    );
    let r = rig(&[&s], |c| {
        c.attempt_deadline = Duration::from_millis(600);
        c.max_attempts = 2;
    });
    let started = std::time::Instant::now();
    let e = r.fetcher.get_small(&s.url("/sums.txt"), "test", "text/plain", 1024, None).await.unwrap_err();
    assert_eq!(e.code().as_str(), "E_TIMEOUT", "{e}");
    assert!(started.elapsed() < Duration::from_secs(15), "bounded by attempts x deadline");
    assert_eq!(s.hits("/sums.txt"), 2, "each attempt under its deadline");
}

#[tokio::test]
async fn a_tab_in_location_is_refused_on_every_path() {
    let s = TestServer::start();
    s.route("/r", vec![Reply::redirect(302, "/x\t.owl")]);
    s.route("/x.owl", vec![Reply::ok(body(10), OWL)]);
    let r = rig(&[&s], |_| {});
    assert_eq!(r.get(&s.url("/r")).await.unwrap_err().code().as_str(), "E_URL_INVALID");
    let e = r.fetcher.get_small(&s.url("/r"), "test", "text/plain", 1024, None).await.unwrap_err();
    assert_eq!(e.code().as_str(), "E_URL_INVALID");
    assert_eq!(s.hits("/x.owl"), 0);
}

mod dns {
    use super::*;
    use ontofetch_testsupport::dns::DnsStub;

    fn rig_with_dns(stub: &DnsStub, allowed: &[String]) -> Rig {
        let policy = Policy {
            net: NetPolicy {
                allowed_hosts: allowed.iter().map(|h| HostRule::parse(h).unwrap()).collect(),
                allow_plain_http_for_allowlist: true,
                ..NetPolicy::default()
            },
            ..Policy::default()
        };
        let metrics = Arc::new(Metrics::new(&KnownSeries::default()));
        let config = NetConfig {
            nameservers: vec![stub.addr()],
            connect_timeout: Duration::from_millis(800),
            backoff_base: Duration::from_millis(10),
            max_attempts: 2,
            ..NetConfig::default()
        };
        Rig {
            fetcher: Fetcher::new(Arc::new(policy), metrics.clone(), config).unwrap(),
            metrics,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn port(s: &TestServer) -> u16 {
        s.allow_entry().rsplit(':').next().unwrap().parse().unwrap()
    }

    /// First answer public, every later one loopback (TTL 0): the client dials only what it
    /// checked, so the loopback server never sees a request.
    #[tokio::test]
    async fn a_rebinding_name_never_reaches_the_private_address() {
        let s = TestServer::start();
        s.route("/x.owl", vec![Reply::ok(body(10), OWL)]);
        let stub = DnsStub::start(vec![vec!["1.1.1.1".parse().unwrap()], vec!["127.0.0.1".parse().unwrap()]]);
        let r = rig_with_dns(&stub, &[format!("rebind.example.org:{}", port(&s))]);
        let e = r.get(&format!("http://rebind.example.org:{}/x.owl", port(&s))).await.unwrap_err();
        assert_eq!(e.code().as_str(), "E_PRIVATE_IP", "the second answer is judged before any dial: {e}");
        assert_eq!(s.hits("/x.owl"), 0, "never dialled the private address");
        assert!(stub.lookups() >= 2, "each connection resolved again (TTL 0), {} lookups", stub.lookups());
    }

    #[tokio::test]
    async fn a_mixed_answer_is_refused_whole() {
        let s = TestServer::start();
        s.route("/x.owl", vec![Reply::ok(body(10), OWL)]);
        let stub = DnsStub::start(vec![vec!["1.1.1.1".parse().unwrap(), "127.0.0.1".parse().unwrap()]]);
        let r = rig_with_dns(&stub, &[format!("mixed.example.org:{}", port(&s))]);
        let e = r.get(&format!("http://mixed.example.org:{}/x.owl", port(&s))).await.unwrap_err();
        assert_eq!(e.code().as_str(), "E_PRIVATE_IP");
        assert_eq!(s.hits("/x.owl"), 0);
        let text = r.metrics.encode().unwrap();
        assert!(!text.contains("ontofetch_gate_rejections_total{gate=\"ip\",code=\"E_PRIVATE_IP\"} 0"), "counted");
    }

    /// `["127.0.0.1:<a>", "mirror.example.com:<b>"]` with the mirror resolving to 127.0.0.1:
    /// the loopback entry lifts the refusal on its own port only, not on the mirror's.
    #[tokio::test]
    async fn an_ip_entry_with_a_port_does_not_open_loopback_to_another_name_and_port() {
        let loopback = TestServer::start();
        let mirror = TestServer::start();
        mirror.route("/x.ttl", vec![Reply::ok(body(10), "text/turtle")]);
        let stub = DnsStub::start(vec![vec!["127.0.0.1".parse().unwrap()]]);
        let r = rig_with_dns(&stub, &[loopback.allow_entry(), format!("mirror.example.com:{}", port(&mirror))]);
        let e = r.get(&format!("http://mirror.example.com:{}/x.ttl", port(&mirror))).await.unwrap_err();
        assert_eq!(e.code().as_str(), "E_PRIVATE_IP", "{e}");
        assert_eq!(mirror.hits("/x.ttl"), 0);
        // listing the address with the mirror's port is the operator saying yes
        let r = rig_with_dns(
            &stub,
            &[format!("127.0.0.1:{}", port(&mirror)), format!("mirror.example.com:{}", port(&mirror))],
        );
        downloaded(r.get(&format!("http://mirror.example.com:{}/x.ttl", port(&mirror))).await);
    }
}
