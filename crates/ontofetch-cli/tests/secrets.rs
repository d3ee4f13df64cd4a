//! A planted secret never rendered: catalog passwords in every form the driver accepts, an
//! object-storage endpoint with userinfo and a Pushgateway URL with a password, swept
//! through every command's text and JSON output, debug logs, error messages and `serve`'s
//! HTTP bodies while the catalog is unreachable (docs/architecture.md, "Secrets").

use ontofetch_testsupport::Reply;
use ontofetch_testsupport::cli::Sandbox;
use ontofetch_testsupport::fixtures::{RDF_XML as OWL, owl};
use ontofetch_testsupport::local::{ChildGuard, free_port, http_get};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// The secret: its distinctive part must appear nowhere.
const SECRET: &str = "Pl4nted-S3cr3t";
const MARK: &str = "Pl4nted";

/// Catalog URLs on a port nothing listens on, the password written every way tokio-postgres
/// reads it.
fn catalog_urls(port: u16) -> Vec<String> {
    vec![
        format!("postgresql://app:{SECRET}@127.0.0.1:{port}/mirror"),
        format!("postgresql://app@127.0.0.1:{port}/mirror?password={SECRET}&connect_timeout=2"),
        format!("postgres://app:{}@127.0.0.1:{port}/mirror", SECRET.replace('-', "%2D")),
        format!("host=127.0.0.1 port={port} user=app password={SECRET} dbname=mirror"),
        format!("postgresql://app:{SECRET}@127.0.0.1:{port},127.0.0.1:{}/mirror", port + 1),
        format!("postgresql://app:{SECRET}@127.0.0.1:notaport/mirror"),
        format!("postgrex://app:{SECRET}@127.0.0.1:{port}/mirror"),
    ]
}

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(MARK), "{what} rendered the secret:\n{text}");
}

#[test]
fn a_planted_secret_is_never_rendered() {
    let s = Sandbox::new(env!("CARGO_BIN_EXE_ontofetch"));
    s.server.route("/obo/bfo.owl", vec![Reply::ok(owl(None, "bfo"), OWL)]);
    let closed = free_port();
    let commands: &[&[&str]] = &[
        &["config", "show"],
        &["config", "show", "--json"],
        &["config", "validate"],
        &["doctor"],
        &["doctor", "--json"],
        &["db", "stats"],
        &["db", "stats", "--json"],
        &["pull", "bfo", "--json", "--no-lock"],
        &["show", "bfo"],
    ];
    for (i, url) in catalog_urls(closed).into_iter().enumerate() {
        for args in commands {
            let mut cmd = s.command(args);
            cmd.args(["--log-level", "debug"]).env("ONTOFETCH_CATALOG_URL", &url);
            if i == 0 {
                // Object storage too (once: an unreachable endpoint is retried, which is slow).
                cmd.env("ONTOFETCH_STORE_URL", "s3://bucket/prefix")
                    .env("AWS_ENDPOINT_URL", format!("http://minio:{SECRET}@127.0.0.1:{closed}/"))
                    .env("AWS_ACCESS_KEY_ID", "k")
                    .env("AWS_SECRET_ACCESS_KEY", SECRET)
                    .env("AWS_ALLOW_HTTP", "true")
                    .env("ONTOFETCH_STORE_RETRY_BUDGET_SEC", "1");
            }
            let out = cmd.output().unwrap();
            let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            assert_clean(&format!("{args:?} with {url}"), &all);
        }
    }
    // a refused Pushgateway URL is named without its password
    let r = s.run(&["pull", "bfo", "--no-lock", "--pushgateway", &format!("http://u:{SECRET}@127.0.0.1:{closed}/")]);
    assert_eq!(r.code, 3, "refused by the url gate before any work: {}", r.stderr());
    assert!(r.stderr().contains("E_USERINFO"), "{}", r.stderr());
    assert_clean("pull --pushgateway", &format!("{}{}", r.stdout(), r.stderr()));
}

#[test]
fn serve_says_nothing_about_an_unreachable_catalog() {
    let s = Sandbox::new(env!("CARGO_BIN_EXE_ontofetch"));
    let closed = free_port();
    for url in catalog_urls(closed).into_iter().take(4) {
        let port = free_port();
        let log = s.path(&format!("serve-{port}.log"));
        let child = s
            .command(&["serve", "--port", &port.to_string(), "--log-level", "debug"])
            .env("ONTOFETCH_CATALOG_URL", &url)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let _guard = ChildGuard(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while http_get(port, "/healthz", &[]).is_none() {
            assert!(Instant::now() < deadline, "serve did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let (status, body) = http_get(port, "/readyz", &[]).unwrap();
        assert!(status.contains("503"), "{status}");
        assert_eq!(body, "catalog not ready\n", "readyz names nothing about the connection");
        for path in
            ["/", "/api/v1/ontologies", "/api/v1/ontologies/bfo", "/ontologies/bfo/latest/bfo.owl", "/obo/bfo.owl"]
        {
            let (status, body) = http_get(port, path, &[]).unwrap();
            assert!(status.contains("503"), "{path}: {status} {body}");
            assert_clean(&format!("GET {path} with {url}"), &body);
        }
        drop(_guard);
        assert_clean(&format!("serve's log with {url}"), &std::fs::read_to_string(&log).unwrap());
    }
}
