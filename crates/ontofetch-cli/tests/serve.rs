//! `serve`, `monitor start|stop|status`, `pull --metrics-addr` and `--pushgateway`, end to end.

use ontofetch_testsupport::local::{ChildGuard, free_port, http_get};
use ontofetch_testsupport::{Fault, Reply, TestServer};
use serde_json::Value;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn ontofetch(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ontofetch"));
    c.env("PYSTOW_HOME", home).env("HOME", home);
    c
}

fn wait_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listening on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn metrics_need_the_token_health_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    std::fs::write(dir.path().join("token"), "s3cret-token\n").unwrap();
    let _serve = ChildGuard(
        ontofetch(dir.path())
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--bearer-token-file"])
            .arg(dir.path().join("token"))
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_port(port);
    assert!(http_get(port, "/healthz", &[]).unwrap().0.contains("200"));
    assert!(http_get(port, "/readyz", &[]).unwrap().0.contains("200"));
    assert!(http_get(port, "/metrics", &[]).unwrap().0.contains("401"));
    assert!(http_get(port, "/metrics", &[("Authorization", "Bearer wrong")]).unwrap().0.contains("401"));
    let (status, body) = http_get(port, "/metrics", &[("Authorization", "Bearer s3cret-token")]).unwrap();
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("ontofetch_build_info"));
    let (_, om) = http_get(
        port,
        "/metrics",
        &[("Authorization", "Bearer s3cret-token"), ("Accept", "application/openmetrics-text")],
    )
    .unwrap();
    assert!(om.ends_with("# EOF\n"), "OpenMetrics when asked for");
    assert!(http_get(port, "/other", &[]).unwrap().0.contains("404"));
}

#[test]
fn basic_auth_over_tls_and_graceful_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl makes the test certificate");
    assert!(made.success());
    std::fs::write(dir.path().join("basic"), "prom:pa55").unwrap();
    let port = free_port();
    let mut serve = ontofetch(dir.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--tls-cert"])
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .arg("--basic-auth-file")
        .arg(dir.path().join("basic"))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_port(port);
    let curl = |extra: &[&str], path: &str| {
        let out = Command::new("curl")
            .args(["-s", "-o", "-", "-w", "\n%{http_code}", "--cacert"])
            .arg(&cert)
            .args(extra)
            .arg(format!("https://127.0.0.1:{port}{path}"))
            .output()
            .expect("curl");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(curl(&[], "/healthz").ends_with("200"));
    assert!(curl(&[], "/metrics").ends_with("401"));
    assert!(curl(&["-u", "prom:wrong"], "/metrics").ends_with("401"));
    let ok = curl(&["-u", "prom:pa55"], "/metrics");
    assert!(ok.ends_with("200") && ok.contains("ontofetch_gate_decisions_total"), "{ok}");
    // plain HTTP to the TLS port gets no HTTP answer
    assert!(http_get(port, "/healthz", &[]).is_none_or(|(s, _)| !s.contains("200")));
    // SIGTERM: the server stops by itself, successfully
    let pid = serve.id();
    Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = serve.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
}

/// The process has exited (gone, or a zombie its reparented init has not reaped yet).
fn gone(pid: u64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.contains(") Z "),
    }
}

#[test]
fn monitor_start_status_stop_and_stale_pidfiles() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let json = |args: &[&str]| {
        let out = ontofetch(dir.path()).args(args).arg("--json").output().unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (out.status.code().unwrap(), v)
    };
    // the seed's habit: `monitor start --port N` listens on loopback
    let (code, started) = json(&["monitor", "start", "--port", &port.to_string()]);
    assert_eq!(code, 0, "{started}");
    assert_eq!(started["listen"], listen.as_str());
    let pid = started["pid"].as_u64().unwrap();
    let (code, status) = json(&["monitor", "status"]);
    assert_eq!((code, status["healthy"].as_bool()), (0, Some(true)), "{status}");
    assert_eq!(json(&["monitor", "start", "--listen", &listen]).0, 2, "a second start is refused");
    let (code, stopped) = json(&["monitor", "stop"]);
    assert_eq!((code, stopped["was_running"].as_bool()), (0, Some(true)), "{stopped}");
    assert!(gone(pid), "serve (pid {pid}) still running after stop");
    let (code, status) = json(&["monitor", "status"]);
    assert_eq!((code, status["running"].as_bool()), (1, Some(false)));
    // a pidfile left by a dead process is reported as stale and removed by stop
    let mut dead = Command::new("true").spawn().unwrap();
    let dead_pid = dead.id();
    dead.wait().unwrap();
    let pidfile = dir.path().join("ontology-fetcher/serve.pid");
    std::fs::write(&pidfile, format!("{{\"pid\": {dead_pid}, \"listen\": \"{listen}\"}}")).unwrap();
    let (_, status) = json(&["monitor", "status"]);
    assert_eq!(status["stale_pidfile"], true, "{status}");
    let (code, stopped) = json(&["monitor", "stop"]);
    assert_eq!((code, stopped["stale_pidfile"].as_bool()), (0, Some(true)));
    assert!(!pidfile.exists());
    let log = std::fs::read_to_string(dir.path().join("ontology-fetcher/logs/serve.log")).unwrap();
    assert!(log.contains("serve.start") && log.contains("serve.stop"), "{log}");
}

#[test]
fn batch_pulls_expose_and_push_their_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start();
    let body = format!(
        "<?xml version=\"1.0\"?><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description rdf:about=\"http://x.org/a\"><rdf:type rdf:resource=\"http://x.org/T\"/></rdf:Description></rdf:RDF><!-- {} -->",
        "x".repeat(40_000)
    );
    server.route(
        "/obo/bfo.owl",
        vec![
            Reply::ok(body, "application/rdf+xml").fault(Fault::Slow { chunk: 2048, delay: Duration::from_millis(40) }),
        ],
    );
    server.route("/gw/metrics/job/ontofetch", vec![Reply::status(200)]);
    let port = free_port();
    let mut pull = ontofetch(dir.path())
        .args([
            "--allowed-hosts",
            &server.allow_entry(),
            "pull",
            "bfo",
            "--no-lock",
            "--metrics-addr",
            &format!("127.0.0.1:{port}"),
            "--pushgateway",
            &server.url("/gw"),
        ])
        .env("ONTOFETCH_OBO_BASE_URL", server.url("/obo"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // scrape while the (slow) download runs
    let deadline = Instant::now() + Duration::from_secs(20);
    let scraped = loop {
        if let Some((s, b)) = http_get(port, "/metrics", &[]) {
            break (s, b);
        }
        assert!(Instant::now() < deadline, "no /metrics during the pull");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(scraped.0.contains("200") && scraped.1.contains("ontofetch_gate_decisions_total"));
    let status = pull.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "the exporter stops with the pull");
    let pushed = server.seen().into_iter().find(|s| s.path == "/gw/metrics/job/ontofetch").expect("pushed");
    assert_eq!(pushed.method, "PUT");
    let text = String::from_utf8(pushed.body).unwrap();
    assert!(text.contains("ontofetch_downloads_total{resolver=\"obo\",result=\"fetched\"} 1"), "{text}");
    assert!(!text.contains("# EOF"), "Prometheus text format for the Pushgateway");
}

/// 300 clients that send half a request line and stop: each is closed after the
/// header-read timeout, at most `--max-connections` are held at once (file descriptors
/// stay bounded), and a well-behaved client is still answered.
#[test]
fn slow_clients_are_cut_off_and_connections_are_capped() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let serve = ChildGuard(
        ontofetch(dir.path())
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--header-timeout-sec",
                "1",
                "--max-connections",
                "32",
            ])
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_port(port);
    let pid = serve.0.id();
    let fds = || std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0);
    let idle_fds = fds();
    let mut slow: Vec<TcpStream> = (0..300)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            let _ = s.write_all(b"GET /metr");
            s.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
            s
        })
        .collect();
    // The server sheds what is over --max-connections: waited for (bounded), not slept on.
    let deadline = Instant::now() + Duration::from_secs(30);
    while fds() > idle_fds + 32 + 4 {
        assert!(Instant::now() < deadline, "at most --max-connections held: {} fds (idle {idle_fds})", fds());
        std::thread::sleep(Duration::from_millis(20));
    }
    // a polite client gets its answer while the slow ones are being cut off
    let deadline = Instant::now() + Duration::from_secs(30);
    let health = loop {
        if let Some(r) = http_get(port, "/healthz", &[]) {
            break r;
        }
        assert!(Instant::now() < deadline, "no answer to /healthz");
    };
    assert!(health.0.contains("200"), "{health:?}");
    // every slow connection is closed by the server (EOF) within a bounded time
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut buf = [0u8; 64];
    while !slow.is_empty() {
        assert!(Instant::now() < deadline, "{} slow connections still open", slow.len());
        slow.retain_mut(|s| match s.read(&mut buf) {
            Ok(0) => false,
            Ok(_) => false,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => false,
            Err(_) => true,
        });
    }
    assert!(fds() <= idle_fds + 4, "descriptors released: {} (idle {idle_fds})", fds());
}

/// A connection from `ip` (another loopback address) that sends one request; with a tiny
/// receive buffer, a client that then stops reading stalls the server's writes at once.
fn client(ip: [u8; 4], port: u16, path: &str, tiny_buffer: bool) -> socket2::Socket {
    use socket2::{Domain, Socket, Type};
    use std::io::Write;
    let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    if tiny_buffer {
        s.set_recv_buffer_size(4096).unwrap();
    }
    s.bind(&std::net::SocketAddr::from((ip, 0)).into()).unwrap();
    s.connect(&std::net::SocketAddr::from(([127, 0, 0, 1], port)).into()).unwrap();
    (&s).write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).unwrap();
    s
}

/// Clients that ask for an artifact and stop reading hold neither every connection nor
/// every download slot: one address holds at most its share, health and metrics answer
/// while the downloads are taken, a stalled download is closed after the write timeout, and
/// a slow reader that keeps reading gets the whole file.
#[test]
fn stalled_downloads_cannot_take_every_slot() {
    use std::io::Read;
    let s = ontofetch_testsupport::cli::Sandbox::new(env!("CARGO_BIN_EXE_ontofetch"));
    let big: Vec<u8> = (0..4 << 20).map(|i| b"abcdefghijklmnopqrstuvwxyz\n"[i % 27]).collect();
    s.server.route("/big.txt", vec![Reply::ok(big.clone(), "text/plain")]);
    // Plain text is no ontology: the entry says its source is deliberately opaque.
    let spec = s.spec(&format!(
        "ontologies:\n  - id: big\n    resolver: direct\n    extras:\n      url: {}\n      opaque: true\n",
        s.server.url("/big.txt")
    ));
    let spec = spec.to_str().unwrap();
    let pulled = s.run(&["pull", "--spec", spec, "--json", "--no-lock"]);
    assert_eq!(pulled.code, 0, "{}", pulled.stdout());
    let port = free_port();
    let _serve = ChildGuard(
        s.command(&[
            "serve",
            "--spec",
            spec,
            "--port",
            &port.to_string(),
            "--max-connections",
            "16",
            "--max-connections-per-client",
            "8",
            "--write-timeout-sec",
            "8",
        ])
        .stderr(Stdio::null())
        .spawn()
        .unwrap(),
    );
    wait_port(port);
    let path = "/ontologies/big/latest/original/big.txt";
    // one address asks 12 times: its share (8) is served, the rest closed at once
    let first: Vec<_> = (0..12).map(|_| client([127, 0, 0, 2], port, path, true)).collect();
    // Each connection's first bytes say what became of it (a status line, or the close of
    // one over the address's share): read, each within a bound, instead of slept on.
    let status_of = |c: &socket2::Socket| {
        c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut head = [0u8; 12];
        let mut got = 0;
        while got < head.len() {
            let mut r: &socket2::Socket = c;
            let read = r.read(&mut head[got..]);
            match read {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
        String::from_utf8_lossy(&head[..got]).into_owned()
    };
    let answers: Vec<String> = first.iter().map(status_of).collect();
    let served = answers.iter().filter(|a| a.ends_with("200")).count();
    assert_eq!(served, 8, "one address holds at most its share: {answers:?}");
    assert_eq!(answers.iter().filter(|a| a.is_empty()).count(), 4, "the rest are closed at once: {answers:?}");
    // a second address takes the remaining connections: 6 more downloads fill the 14 slots,
    // 2 are told to come back and let go of their connections
    let second: Vec<_> = (0..8).map(|_| client([127, 0, 0, 3], port, path, true)).collect();
    let answers: Vec<String> = second.iter().map(status_of).collect();
    assert_eq!(answers.iter().filter(|a| a.ends_with("200")).count(), 6, "{answers:?}");
    assert_eq!(answers.iter().filter(|a| a.ends_with("503")).count(), 2, "{answers:?}");
    let stalled = (first, second);
    // health and metrics answer while every download slot is held
    let health = http_get(port, "/healthz", &[]).expect("healthz answers");
    assert!(health.0.contains("200"), "{health:?}");
    let metrics = http_get(port, "/metrics", &[]).expect("metrics answer");
    assert!(metrics.0.contains("200"), "{:?}", metrics.0);
    // ...and the slots were still held when they answered: a download is turned away.
    let (busy, _) = http_get(port, path, &[]).expect("an answer while every slot is held");
    assert!(busy.contains("503"), "every slot held, so a download waits: {busy}");
    // after the write timeout the stalled downloads are gone: a polite client is served
    // (until then it is told to come back: 503 and Retry-After)
    let deadline = Instant::now() + Duration::from_secs(30);
    let (status, body) = loop {
        let (status, body) = http_get(port, path, &[]).expect("an answer while the stalled clients time out");
        if status.contains("200") || Instant::now() > deadline {
            break (status, body);
        }
        assert!(status.contains("503"), "{status}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(status.contains("200"), "{status}");
    assert_eq!(body.len(), big.len());
    drop(stalled);
    // a slow reader that keeps reading (a pause of 1 s, under the 8 s timeout) gets it all
    let slow = client([127, 0, 0, 5], port, path, false);
    slow.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut got = Vec::new();
    let mut chunk = vec![0u8; 1 << 20];
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "slow read did not finish");
        match (&slow).read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(e) => panic!("the slow reader was cut off after {} bytes: {e}", got.len()),
        }
        if got.ends_with(&big[big.len() - 27..]) && got.len() > big.len() {
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    assert!(got.len() > big.len(), "headers and the whole body: {} bytes", got.len());
}
