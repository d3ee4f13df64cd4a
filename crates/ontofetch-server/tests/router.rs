//! The router called in-process, no socket: a mirror of one ontology in a temporary data
//! root (SQLite + a directory), and the conditional, range and credential combinations a
//! client can send, each with the answer RFC 9110 gives it. Errors are JSON with a stable
//! code; a catalog that cannot be reached is a 503, never an empty mirror.

#![allow(clippy::unwrap_used)] // a test states what it expects with unwrap

use http_body_util::BodyExt;
use hyper::{Request, Response, StatusCode};
use ontofetch_catalog::{ArtifactRow, Verdict, VersionRow};
use ontofetch_config::{Env, Flags, Overrides, Settings};
use ontofetch_metrics::{KnownSeries, Metrics};
use ontofetch_pipeline::{Backends, Open};
use ontofetch_server::{Auth, ServerState, respond};
use sha2::Digest;
use std::sync::Arc;

const BODY: &[u8] = b"<?xml version=\"1.0\"?><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"/>\n";
const DOWNLOADED: &str = "2025-06-01T10:00:00.000Z";
const FILE: &str = "/ontologies/hp/v1/original/hp.owl";

struct Mirror {
    _dir: tempfile::TempDir,
    state: ServerState,
    etag: String,
}

fn settings(dir: &std::path::Path, env: &[(&str, &str)], metrics: &Metrics) -> Settings {
    let spec = dir.join("sources.yaml");
    std::fs::write(&spec, "ontologies:\n  - id: hp\n").unwrap();
    let flags = Flags {
        spec: Some(spec),
        data_root: Some(dir.join("data")),
        builtin_only: false,
        overrides: Overrides::default(),
    };
    Settings::resolve(&flags, &Env::from_pairs(env.iter().copied()), dir, metrics).unwrap()
}

/// One ontology, one version, its original recorded and stored.
async fn mirror(artifacts_auth: Option<Auth>) -> Mirror {
    let dir = tempfile::tempdir().unwrap();
    let metrics = Arc::new(Metrics::new(&KnownSeries::default()));
    let settings = settings(dir.path(), &[], &metrics);
    let b = Backends::open(&settings, Open::Create).await.unwrap();
    let sha = store_hp(&b, "v1", BODY, DOWNLOADED).await;
    let state = ServerState::new(metrics, settings, None).with_artifacts_auth(artifacts_auth);
    Mirror { _dir: dir, state, etag: format!("\"{sha}\"") }
}

/// Stores `body` as hp's `version`, validated, downloaded at `at`, and records it; its SHA-256.
async fn store_hp(b: &Backends, version: &str, body: &[u8], at: &str) -> String {
    let sha = hex::encode(sha2::Sha256::digest(body));
    let key = format!("ontologies/hp/{version}/original/hp.owl");
    b.store.write(&key, body).await.unwrap();
    let row = VersionRow {
        ontology: "hp".into(),
        version: version.into(),
        resolver: "obo".into(),
        url: "https://purl.obolibrary.org/obo/hp.owl".into(),
        sha256: sha.clone(),
        bytes: body.len() as u64,
        filename: "hp.owl".into(),
        relpath: format!("ontologies/hp/{version}"),
        content_type: None,
        etag: None,
        last_modified: None,
        license: None,
        downloaded_at: at.into(),
        verdict: Verdict::Valid,
    };
    let file = ArtifactRow {
        relpath: key,
        sha256: sha.clone(),
        bytes: body.len() as u64,
        kind: ontofetch_catalog::ArtifactKind::Original,
    };
    b.catalog.record(&row, &[file], true, None).await.unwrap();
    sha
}

async fn get(st: &ServerState, method: &str, uri: &str, headers: &[(&str, &str)]) -> (Response<()>, Vec<u8>) {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let response = respond(&req.body(()).unwrap(), st).await;
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes().to_vec();
    (Response::from_parts(parts, ()), bytes)
}

fn header<'a>(r: &'a Response<()>, name: &str) -> &'a str {
    r.headers().get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

fn code(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_else(|_| panic!("JSON: {body:?}"));
    v["code"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_file_is_served_whole_with_its_hash_as_a_strong_etag() {
    let m = mirror(None).await;
    let (r, body) = get(&m.state, "GET", FILE, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(body, BODY);
    assert_eq!(header(&r, "etag"), m.etag);
    assert_eq!(header(&r, "content-length"), BODY.len().to_string());
    assert_eq!(header(&r, "accept-ranges"), "bytes");
    assert!(header(&r, "cache-control").contains("immutable"), "a named version never changes");
    assert_eq!(header(&r, "last-modified"), "Sun, 01 Jun 2025 10:00:00 GMT");
    let (r, body) = get(&m.state, "HEAD", FILE, &[]).await;
    assert_eq!((r.status(), body.len()), (StatusCode::OK, 0));
    assert_eq!(header(&r, "content-length"), BODY.len().to_string(), "HEAD announces the size");
    let (r, body) = get(&m.state, "GET", "/ontologies/hp/latest/hp.owl", &[]).await;
    assert_eq!((r.status(), body.as_slice()), (StatusCode::OK, BODY), "a bare file name works under latest");
    assert_eq!(header(&r, "cache-control"), "no-cache", "latest moves");
}

#[tokio::test]
async fn if_none_match_and_if_modified_since_answer_304() {
    let m = mirror(None).await;
    let weak = format!("W/{}", m.etag);
    let list = format!("\"other\", {}", m.etag);
    for tag in [m.etag.as_str(), weak.as_str(), "*", list.as_str()] {
        let (r, body) = get(&m.state, "GET", FILE, &[("if-none-match", tag)]).await;
        assert_eq!((r.status(), body.len()), (StatusCode::NOT_MODIFIED, 0), "If-None-Match: {tag}");
        assert_eq!(header(&r, "etag"), m.etag);
    }
    let (r, _) = get(&m.state, "GET", FILE, &[("if-none-match", "\"other\"")]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let (r, _) = get(&m.state, "GET", FILE, &[("if-modified-since", "Sun, 01 Jun 2025 10:00:00 GMT")]).await;
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED, "not modified since its download");
    let (r, _) = get(&m.state, "GET", FILE, &[("if-modified-since", "Sat, 31 May 2025 10:00:00 GMT")]).await;
    assert_eq!(r.status(), StatusCode::OK, "downloaded after that date");
    let both = [("if-none-match", "\"other\""), ("if-modified-since", "Mon, 02 Jun 2025 10:00:00 GMT")];
    let (r, _) = get(&m.state, "GET", FILE, &both).await;
    assert_eq!(r.status(), StatusCode::OK, "If-None-Match wins over If-Modified-Since (RFC 9110 §13.1.3)");
}

#[tokio::test]
async fn ranges_are_honoured_one_at_a_time() {
    let m = mirror(None).await;
    let n = BODY.len();
    let (r, body) = get(&m.state, "GET", FILE, &[("range", "bytes=2-5")]).await;
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(body, &BODY[2..=5]);
    assert_eq!(header(&r, "content-range"), format!("bytes 2-5/{n}"));
    let (r, body) = get(&m.state, "GET", FILE, &[("range", "bytes=-3")]).await;
    assert_eq!((r.status(), body.as_slice()), (StatusCode::PARTIAL_CONTENT, &BODY[n - 3..]), "a suffix range");
    let (r, body) = get(&m.state, "GET", FILE, &[("range", "bytes=100000-")]).await;
    assert_eq!((r.status(), body.len()), (StatusCode::RANGE_NOT_SATISFIABLE, 0));
    assert_eq!(header(&r, "content-range"), format!("bytes */{n}"));
    let (r, body) = get(&m.state, "GET", FILE, &[("range", "bytes=0-1,4-5")]).await;
    assert_eq!((r.status(), body.as_slice()), (StatusCode::OK, BODY), "several ranges: the whole file");
    let (r, body) = get(&m.state, "GET", FILE, &[("range", "lines=1-2")]).await;
    assert_eq!((r.status(), body.as_slice()), (StatusCode::OK, BODY), "an unknown unit is ignored");
    let stale = [("range", "bytes=2-5"), ("if-range", "\"other\"")];
    let (r, body) = get(&m.state, "GET", FILE, &stale).await;
    assert_eq!((r.status(), body.as_slice()), (StatusCode::OK, BODY), "If-Range of another file: whole");
    let fresh = [("range", "bytes=2-5"), ("if-range", m.etag.as_str())];
    let (r, body) = get(&m.state, "GET", FILE, &fresh).await;
    assert_eq!((r.status(), body.as_slice()), (StatusCode::PARTIAL_CONTENT, &BODY[2..=5]));
}

#[tokio::test]
async fn the_mirror_takes_its_own_credentials_and_metrics_and_health_do_not() {
    let token = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(token.path(), "s3cret\n").unwrap();
    let auth = Auth::from_files(Some(token.path()), None).unwrap();
    let m = mirror(auth).await;
    for path in [FILE, "/", "/api/v1/ontologies", "/obo/hp.owl"] {
        let (r, _) = get(&m.state, "GET", path, &[]).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(header(&r, "www-authenticate"), "Bearer realm=\"ontofetch\"");
        let (r, _) = get(&m.state, "GET", path, &[("authorization", "Bearer wrong")]).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}: a wrong token");
    }
    let (r, body) = get(&m.state, "GET", FILE, &[("authorization", "bearer s3cret")]).await;
    assert_eq!((r.status(), body.as_slice()), (StatusCode::OK, BODY), "the scheme is case-insensitive");
    // A file that needs credentials is never for a shared cache.
    assert_eq!(header(&r, "cache-control"), "private, max-age=31536000, immutable");
    assert!(header(&r, "vary").contains("Authorization"), "{:?}", r.headers());
    let open = mirror(None).await;
    let (r, _) = get(&open.state, "GET", FILE, &[]).await;
    assert_eq!(header(&r, "cache-control"), "public, max-age=31536000, immutable");
    let (r, _) = get(&m.state, "GET", "/obo/hp.owl", &[("authorization", "Bearer s3cret")]).await;
    assert_eq!((r.status(), header(&r, "location")), (StatusCode::FOUND, "/ontologies/hp/v1/original/hp.owl"));
    for path in ["/metrics", "/healthz", "/readyz"] {
        let (r, _) = get(&m.state, "GET", path, &[]).await;
        assert_eq!(r.status(), StatusCode::OK, "{path} is not the mirror's");
    }
    let (_, metrics) = get(&m.state, "GET", "/metrics", &[]).await;
    let metrics = String::from_utf8(metrics).unwrap();
    assert!(metrics.contains("route=\"artifact\""), "answers are counted by route");
}

#[tokio::test]
async fn errors_are_json_with_stable_codes() {
    let m = mirror(None).await;
    let cases = [
        ("/ontologies/hp/v9/original/hp.owl", StatusCode::NOT_FOUND, "E_NOT_FOUND"),
        ("/ontologies/hp/v1/original/nope.owl", StatusCode::NOT_FOUND, "E_NOT_FOUND"),
        ("/ontologies/hp/v1/original%2F..%2F..%2Fetc", StatusCode::BAD_REQUEST, "E_TRAVERSAL"),
        ("/ontologies/hp/v1/%FF", StatusCode::BAD_REQUEST, "E_URL_INVALID"),
        ("/ontologies/hp/v1/../../../etc/passwd", StatusCode::BAD_REQUEST, "E_TRAVERSAL"),
        ("/api/v1/ontologies/nosuch", StatusCode::NOT_FOUND, "E_NOT_FOUND"),
        ("/api/v1/other", StatusCode::NOT_FOUND, "E_NOT_FOUND"),
        ("/obo/hp.ttl", StatusCode::NOT_FOUND, "E_NOT_FOUND"),
    ];
    for (path, status, want) in cases {
        let (r, body) = get(&m.state, "GET", path, &[]).await;
        assert_eq!(r.status(), status, "{path}: {}", String::from_utf8_lossy(&body));
        assert_eq!(code(&body), want, "{path}");
        assert_eq!(header(&r, "content-type"), "application/json", "{path}");
    }
    let (r, _) = get(&m.state, "POST", FILE, &[]).await;
    assert_eq!((r.status(), header(&r, "allow")), (StatusCode::METHOD_NOT_ALLOWED, "GET, HEAD"));
}

#[tokio::test]
async fn the_api_describes_the_ontology_with_typed_documents() {
    let m = mirror(None).await;
    let (r, body) = get(&m.state, "GET", "/api/v1/ontologies/hp", &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc["latest"], "v1");
    assert_eq!(doc["configured"], true);
    let v = &doc["versions"][0];
    assert_eq!((v["version"].as_str(), v["verdict"].as_str()), (Some("v1"), Some("valid")), "{v}");
    assert_eq!(v["files"][0]["url"], FILE);
    assert_eq!(v["files"][0]["kind"], "original");
    let (r, body) = get(&m.state, "GET", "/api/v1/ontologies", &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let list: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(list[0]["id"], "hp");
    assert_eq!(list[0]["version"], "v1");
}

#[tokio::test]
async fn an_unreachable_catalog_is_a_503_not_an_empty_mirror() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = Arc::new(Metrics::new(&KnownSeries::default()));
    // A port nothing listens on: the catalog cannot be opened.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("postgresql://ontofetch@127.0.0.1:{closed}/mirror");
    let settings = settings(dir.path(), &[("ONTOFETCH_CATALOG_URL", url.as_str())], &metrics);
    let st = ServerState::new(metrics, settings, None);
    let (r, body) = get(&st, "GET", "/api/v1/ontologies", &[]).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE, "{}", String::from_utf8_lossy(&body));
    assert_eq!(code(&body), "E_DB");
    let (r, body) = get(&st, "GET", "/", &[]).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(String::from_utf8_lossy(&body).starts_with("E_DB: "), "{}", String::from_utf8_lossy(&body));
    let (r, body) = get(&st, "GET", FILE, &[]).await;
    assert_eq!((r.status(), code(&body)), (StatusCode::SERVICE_UNAVAILABLE, "E_DB".to_string()));
    let (r, _) = get(&st, "GET", "/readyz", &[]).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let (r, _) = get(&st, "GET", "/healthz", &[]).await;
    assert_eq!(r.status(), StatusCode::OK, "alive, though not ready");
}

#[tokio::test]
async fn the_status_page_links_downloads_and_mutes_failures_a_later_pull_recovered_from() {
    let m = mirror(None).await;
    let b = Backends::open(&m.state.settings, Open::Existing).await.unwrap();
    let event = |at: &str, status: &str| ontofetch_catalog::PullEvent {
        ontology: "hp".into(),
        at: at.into(),
        status: ontofetch_catalog::PullStatus::parse(status),
        code: (status == "failed").then_some(ontofetch_policy::Code::Timeout),
        message: (status == "failed").then(|| "no answer".into()),
        worker: None,
    };
    let recent = |secs: u64| {
        humantime::format_rfc3339_millis(std::time::SystemTime::now() - std::time::Duration::from_secs(secs))
            .to_string()
    };
    b.catalog.record_event(&event(&recent(7200), "failed")).await.unwrap();
    b.catalog.record_event(&event(&recent(60), "updated")).await.unwrap();
    let (r, body) = get(&m.state, "GET", "/", &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = String::from_utf8(body).unwrap();
    assert!(page.contains(&format!("href=\"{FILE}\" download")), "the version downloads the original: {page}");
    assert!(page.contains("class=\"past\"><code>E_TIMEOUT</code>"), "a recovered failure is muted: {page}");
    assert!(page.contains("2 h ago"), "when, as a person reads it: {page}");
    b.catalog.record_event(&event(&recent(1), "failed")).await.unwrap();
    let (_, body) = get(&m.state, "GET", "/", &[]).await;
    let page = String::from_utf8(body).unwrap();
    assert!(page.contains("class=\"failed\"><code>E_TIMEOUT</code>"), "the latest pull failed: red: {page}");
}

/// Issue 21: the status page shows each ontology's import closure — a stored import links
/// the ontology it is stored as, a refused one is red with its code.
#[tokio::test]
async fn the_status_page_shows_the_import_closure() {
    let m = mirror(None).await;
    let b = Backends::open(&m.state.settings, Open::Existing).await.unwrap();
    let edge = |iri: &str, target: Option<&str>, status: &str, code: Option<&str>| ontofetch_catalog::ImportEdge {
        ontology: "hp".into(),
        version: "v1".into(),
        iri: iri.into(),
        target: target.map(str::to_string),
        status: ontofetch_catalog::ImportStatus::parse(status),
        code: code.map(|c| ontofetch_policy::Code::parse(c).expect("a known code")),
    };
    let edges = [
        edge("http://purl.obolibrary.org/obo/ro.owl", Some("ro"), "stored", None),
        edge("http://10.0.0.1/x.owl", Some("x-1"), "refused", Some("E_PRIVATE_IP")),
    ];
    b.catalog.record_imports("hp", "v1", &edges).await.unwrap();
    let (r, body) = get(&m.state, "GET", "/", &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = String::from_utf8(body).unwrap();
    assert!(page.contains("<th>Imports</th>"), "{page}");
    assert!(
        page.contains("<a href=\"/api/v1/ontologies/ro\" title=\"http://purl.obolibrary.org/obo/ro.owl\">ro</a>"),
        "{page}"
    );
    assert!(page.contains("refused <code>E_PRIVATE_IP</code>"), "{page}");
}

/// A version that declares many imports keeps the status page and the list API small: ten
/// edges inline with the count, the rest on the ontology's own page; an import a gate
/// refused counts in the refusals of the last day.
#[tokio::test]
async fn many_import_edges_are_listed_by_count_and_refused_ones_are_refusals() {
    use ontofetch_catalog::{ImportEdge, ImportStatus};
    let m = mirror(None).await;
    let metrics = Arc::new(Metrics::new(&KnownSeries::default()));
    let b = Backends::open(&settings(m._dir.path(), &[], &metrics), Open::Existing).await.unwrap();
    let now = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
    store_hp(&b, "v2", b"<rdf:RDF/>", &now).await;
    let edges: Vec<ImportEdge> = (0..15)
        .map(|i| ImportEdge {
            ontology: "hp".into(),
            version: "v2".into(),
            iri: format!("http://x.org/i{i:02}.owl"),
            target: (i != 0).then(|| format!("i{i:02}")),
            status: if i == 0 { ImportStatus::Refused } else { ImportStatus::Stored },
            code: (i == 0).then_some(ontofetch_policy::Code::PrivateIp),
        })
        .collect();
    b.catalog.record_imports("hp", "v2", &edges).await.unwrap();
    let (r, body) = get(&m.state, "GET", "/api/v1/ontologies", &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let list: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let hp = list.as_array().unwrap().iter().find(|s| s["id"] == "hp").unwrap();
    assert_eq!(hp["imports"].as_array().unwrap().len(), 10, "{hp}");
    assert_eq!(hp["imports_total"], 15);
    assert_eq!(hp["refusals_24h"], 1, "{hp}");
    let (_, page) = get(&m.state, "GET", "/", &[]).await;
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains("and 5 more</a>"), "{page}");
}

/// `/log/…` hands out the transparency log as c2sp.org/tlog-tiles lays it out: the
/// checkpoint and partial tiles revalidated, full tiles immutable (private behind
/// credentials). Only a path that is exactly a tile's is read: anything else under `/log/`
/// — a traversal, an encoded one, sumdb's height segment, a width of 0 or 256, a level over
/// 63, a file of the store that is not a tile — is a 404 that reads nothing.
#[tokio::test]
async fn the_log_is_served_as_tlog_tiles_and_nothing_else_under_it() {
    let m = mirror(None).await;
    let b = m.state.backends().await.unwrap().unwrap();
    let full = vec![7u8; 256 * 32];
    for (key, bytes) in [
        ("log/checkpoint", b"mirror.test/ontofetch\n3\nAAAA\n".to_vec()),
        ("log/tile/0/000.p/3", vec![1u8; 96]),
        ("log/tile/0/x001/234", full.clone()),
        ("log/tile/entries/000.p/3", b"\x00\x01a\x00\x01b\x00\x01c".to_vec()),
        ("log/secret", b"not a tile".to_vec()),
    ] {
        b.store.write(key, &bytes).await.unwrap();
    }
    let (r, body) = get(&m.state, "GET", "/log/checkpoint", &[]).await;
    assert_eq!((r.status(), header(&r, "cache-control")), (StatusCode::OK, "no-cache"));
    assert!(header(&r, "content-type").starts_with("text/plain"));
    assert!(body.starts_with(b"mirror.test/ontofetch\n3\n"));
    let (r, body) = get(&m.state, "GET", "/log/tile/0/000.p/3", &[]).await;
    assert_eq!((r.status(), header(&r, "cache-control"), body.len()), (StatusCode::OK, "no-cache", 96));
    let (r, body) = get(&m.state, "GET", "/log/tile/0/x001/234", &[]).await;
    assert_eq!((r.status(), header(&r, "cache-control")), (StatusCode::OK, "public, max-age=31536000, immutable"));
    assert_eq!(body, full);
    let (r, _) = get(&m.state, "GET", "/log/tile/entries/000.p/3", &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    for path in [
        "/log/secret",
        "/log/tile/0/../../catalog.sqlite",
        "/log/tile/0/%2e%2e/secret",
        "/log/tile/8/0/000",
        "/log/tile/0/000.p/0",
        "/log/tile/0/000.p/256",
        "/log/tile/64/000",
        "/log/tile/0/1234",
        "/log/tile/0/x000/001",
        "/log/tile/entries/../checkpoint",
        "/log//checkpoint",
        "/log/checkpoint/",
        "/log/tile/1/000",
    ] {
        let (r, body) = get(&m.state, "GET", path, &[]).await;
        assert_eq!((r.status(), code(&body)), (StatusCode::NOT_FOUND, "E_NOT_FOUND".to_string()), "{path}");
        assert!(!body.windows(10).any(|w| w == b"not a tile"), "{path} read a file that is not a tile");
    }
    let (r, _) = get(&m.state, "POST", "/log/checkpoint", &[]).await;
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    // Behind the mirror's credentials: refused without them; with them, never for a shared cache.
    let token = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(token.path(), "s3cret\n").unwrap();
    let locked = mirror(Auth::from_files(Some(token.path()), None).unwrap()).await;
    let lb = locked.state.backends().await.unwrap().unwrap();
    lb.store.write("log/tile/0/x001/234", &full).await.unwrap();
    let (r, _) = get(&locked.state, "GET", "/log/tile/0/x001/234", &[]).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let (r, _) = get(&locked.state, "GET", "/log/tile/0/x001/234", &[("authorization", "Bearer s3cret")]).await;
    assert_eq!((r.status(), header(&r, "cache-control")), (StatusCode::OK, "private, max-age=31536000, immutable"));
    assert_eq!(header(&r, "vary"), "Authorization");
}
