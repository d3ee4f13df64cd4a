//! Observability against a real Prometheus (Debian's `prometheus`, installed by .ci/run):
//! `ontofetch serve` pulls on a schedule from a loopback registry (allowed, refused and
//! failing cases), Prometheus scrapes it and evaluates the generated rules, and every
//! dashboard query, alert signal and recording rule must return data; promtool checks the
//! rules, their unit tests and the exposition.

use ontofetch_testsupport::local::{ChildGuard, free_port, http_get};
use ontofetch_testsupport::{Reply, TestServer};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn tool(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    found.unwrap_or_else(|| panic!("{name} is not installed: `apt-get install prometheus` (.ci/run does this)"))
}

fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn query(port: u16, promql: &str) -> Option<Vec<Value>> {
    let (_, body) = http_get(port, &format!("/api/v1/query?query={}", encode(promql)), &[])?;
    let v: Value = serde_json::from_str(&body).ok()?;
    (v["status"] == "success").then(|| v["data"]["result"].as_array().cloned().unwrap_or_default())
}

/// Polls until `promql` returns at least one series (bounded by `deadline`).
fn wait_for(port: u16, promql: &str, deadline: Instant) -> Result<Vec<Value>, String> {
    loop {
        match query(port, promql) {
            Some(r) if !r.is_empty() => return Ok(r),
            other if Instant::now() > deadline => return Err(format!("{promql}: {other:?}")),
            _ => std::thread::sleep(Duration::from_millis(500)),
        }
    }
}

fn promtool(args: &[&str], stdin: Option<&str>, dir: &Path) {
    let mut cmd = Command::new(tool("promtool"));
    cmd.args(args).current_dir(dir).stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool {args:?}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn dashboards_and_alerts_return_data_on_a_real_prometheus() {
    let prometheus = tool("prometheus");
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start();
    server.route(
        "/obo/bfo.owl",
        vec![Reply::ok("<?xml version=\"1.0\"?><rdf:RDF></rdf:RDF>", "application/rdf+xml").header("ETag", "\"b\"")],
    );
    server.route("/obo/ro.owl", vec![Reply::redirect(302, "http://169.254.169.254/latest/meta-data/")]);
    server.route("/obo/pato.owl", vec![Reply::status(404)]);
    let exe = env!("CARGO_BIN_EXE_ontofetch");
    let serve_port = free_port();
    let env = |cmd: &mut Command| {
        cmd.env("PYSTOW_HOME", dir.path().join("home"))
            .env("ONTOFETCH_OBO_BASE_URL", server.url("/obo"))
            .env("ONTOFETCH_OLS_BASE_URL", server.url("/ols"))
            .env("ONTOFETCH_BACKOFF_FACTOR", "0.1")
            .env("ONTOFETCH_MAX_RETRIES", "1")
            .env_remove("BIOPORTAL_API_KEY");
    };
    let mut serve = Command::new(exe);
    serve.args([
        "--allowed-hosts",
        &server.allow_entry(),
        "serve",
        "--listen",
        &format!("127.0.0.1:{serve_port}"),
        "--refresh",
        "2s",
    ]);
    env(&mut serve);
    let _serve = ChildGuard(serve.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap());

    // provisioning from the binary itself
    let prov = dir.path().join("prov");
    let mut provision = Command::new(exe);
    provision.args([
        "monitor",
        "grafana-config",
        "--out",
        prov.to_str().unwrap(),
        "--target",
        &format!("127.0.0.1:{serve_port}"),
    ]);
    env(&mut provision);
    assert!(provision.stdout(Stdio::null()).status().unwrap().success());
    let rules_dir = prov.join("prometheus");
    promtool(&["check", "rules", "ontofetch-rules.yml"], None, &rules_dir);
    promtool(&["test", "rules", "ontofetch-rules.test.yml"], None, &rules_dir);
    let dashboard: Value =
        serde_json::from_str(&std::fs::read_to_string(prov.join("grafana/dashboards/ontofetch.json")).unwrap())
            .unwrap();
    let rules: Value =
        serde_norway::from_str(&std::fs::read_to_string(rules_dir.join("ontofetch-rules.yml")).unwrap()).unwrap();

    // a fast-scraping Prometheus using the generated rules
    let prom_port = free_port();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\nrule_files: ['{}']\nscrape_configs:\n  - job_name: ontofetch\n    static_configs: [{{targets: ['127.0.0.1:{serve_port}']}}]\n",
            rules_dir.join("ontofetch-rules.yml").display()
        ),
    )
    .unwrap();
    let _prom = ChildGuard(
        Command::new(prometheus)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("tsdb").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );

    let deadline = Instant::now() + Duration::from_secs(90);
    let up = wait_for(prom_port, "up{job=\"ontofetch\"} == 1", deadline).expect("Prometheus scrapes serve");
    assert_eq!(up.len(), 1);
    // the scheduled pulls happened: one fetched, two failed (one of them refused by a gate)
    wait_for(prom_port, "ontofetch_downloads_total{resolver=\"obo\",result=\"fetched\"} > 0", deadline).unwrap();
    wait_for(prom_port, "ontofetch_downloads_total{result=\"failed\"} > 1", deadline).unwrap();
    // rate() needs a few samples in its window
    std::thread::sleep(Duration::from_secs(4));

    let mut failures = Vec::new();
    let mut exprs = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for t in panel["targets"].as_array().unwrap() {
            exprs.push((format!("panel {:?}", panel["title"]), t["expr"].as_str().unwrap().to_string()));
        }
    }
    for group in rules["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            if let Some(record) = rule["record"].as_str() {
                exprs.push((format!("recording {record}"), record.to_string()));
            }
        }
    }
    for alert in ontofetch_monitor::alerts() {
        exprs.push((format!("alert {} signal", alert.name), alert.signal.to_string()));
    }
    for (what, expr) in &exprs {
        if let Err(e) = wait_for(prom_port, expr, deadline) {
            failures.push(format!("{what}: no data: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} queries returned no data:\n{}",
        failures.len(),
        exprs.len(),
        failures.join("\n")
    );

    // the alerts this scenario must trigger do fire
    for name in ["OntofetchSSRFAttempt", "OntofetchDownloadFailureRatio"] {
        let firing = wait_for(prom_port, &format!("ALERTS{{alertname=\"{name}\",alertstate=\"firing\"}}"), deadline);
        assert!(firing.is_ok(), "{name} should fire: {firing:?}");
    }
    let ssrf = query(prom_port, "ALERTS{alertname=\"OntofetchSSRFAttempt\"}").unwrap();
    assert_eq!(ssrf[0]["metric"]["code"], "E_PRIVATE_IP");
    // and the quiet ones stay quiet
    for name in ["OntofetchGateErrors", "OntofetchExtractionBomb", "OntofetchDown"] {
        assert_eq!(query(prom_port, &format!("ALERTS{{alertname=\"{name}\"}}")).unwrap().len(), 0, "{name} fired");
    }

    // the exposition itself is lint-clean
    let (status, body) = http_get(serve_port, "/metrics", &[]).unwrap();
    assert!(status.contains("200"), "{status}");
    promtool(&["check", "metrics"], Some(&body), dir.path());
    let (ready, _) = http_get(serve_port, "/readyz", &[]).unwrap();
    assert!(ready.contains("200"), "{ready}");
}
