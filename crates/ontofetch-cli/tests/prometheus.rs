//! Observability against a real Prometheus (Debian's `prometheus`, installed by .ci/run):
//! `ontofetch serve` pulls on a schedule from a loopback registry (allowed, refused and
//! failing cases), Prometheus scrapes it and evaluates the generated rules, and every
//! dashboard query, alert signal and recording rule must return data; promtool checks the
//! rules, their unit tests and the exposition.

use ontofetch_testsupport::local::{ChildGuard, free_port, http_get};
use ontofetch_testsupport::servers::{Need, available};
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
    if !available("dashboards_and_alerts_return_data_on_a_real_prometheus", &[Need::Prometheus]) {
        return;
    }
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
    // A signed mirror: each refresh publishes the transparency log (its gauges are the
    // checkpoint-staleness alert's signal).
    let mut keys = Command::new(exe);
    keys.args(["keys", "generate", "--name", "prometheus.test/ontofetch"]);
    env(&mut keys);
    assert!(keys.stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap().success());
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
    // rate() needs a few samples in its window: wait until Prometheus holds three
    wait_for(prom_port, "count_over_time(up{job=\"ontofetch\"}[1m]) >= 3", deadline).unwrap();

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

/// Stops the monitoring stack when the test ends, passed or not.
struct Stack {
    script: PathBuf,
    env: Vec<(String, String)>,
}

impl Stack {
    fn run(&self, verb: &str) -> std::process::Output {
        Command::new("bash").arg(&self.script).arg(verb).envs(self.env.iter().cloned()).output().unwrap()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.run("stop");
    }
}

/// The whole alert path with the real Debian binaries, started by
/// deploy/monitoring-stack.sh from generated files: serve refuses an SSRF redirect,
/// Prometheus scrapes it and fires the alert, Alertmanager routes it to a webhook receiver
/// on 127.0.0.1 with the bearer token read from a file; the payload names gate and code.
#[test]
fn an_ssrf_refusal_reaches_a_webhook_through_alertmanager() {
    if !available("an_ssrf_refusal_reaches_a_webhook_through_alertmanager", &[Need::Prometheus, Need::Alertmanager]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let registry = TestServer::start();
    // slow enough that Prometheus sees the counter at 0 before the first refusal
    registry.route(
        "/obo/ro.owl",
        vec![Reply::redirect(302, "http://169.254.169.254/latest/meta-data/").latency(Duration::from_secs(3))],
    );
    let hook = TestServer::start();
    hook.route("/alerts", vec![Reply::status(200)]);
    let exe = env!("CARGO_BIN_EXE_ontofetch");
    let spec = dir.path().join("sources.yaml");
    std::fs::write(&spec, "defaults:\n  resolver_fallback_enabled: false\nontologies:\n  - id: ro\n").unwrap();
    let serve_port = free_port();
    let _serve = ChildGuard(
        Command::new(exe)
            .args(["--spec", spec.to_str().unwrap(), "--allowed-hosts", &registry.allow_entry(), "serve"])
            .args(["--listen", &format!("127.0.0.1:{serve_port}"), "--refresh", "5s"])
            .env("PYSTOW_HOME", dir.path().join("home"))
            .env("ONTOFETCH_OBO_BASE_URL", registry.url("/obo"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let token = dir.path().join("webhook-token");
    std::fs::write(&token, "hook-secret\n").unwrap();
    let (prom_port, am_port) = (free_port(), free_port());
    let stack_dir = dir.path().join("stack");
    let stack = Stack {
        script: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/monitoring-stack.sh"),
        env: vec![
            ("ONTOFETCH".into(), exe.into()),
            ("STACK_DIR".into(), stack_dir.display().to_string()),
            ("SERVE_TARGET".into(), format!("127.0.0.1:{serve_port}")),
            ("PROMETHEUS_ADDR".into(), format!("127.0.0.1:{prom_port}")),
            ("ALERTMANAGER_ADDR".into(), format!("127.0.0.1:{am_port}")),
            ("SCRAPE_INTERVAL".into(), "1s".into()),
            (
                "ALERT_ARGS".into(),
                format!(
                    "--receivers webhook --webhook-url {} --webhook-token-file {} --group-wait 1s",
                    hook.url("/alerts"),
                    token.display()
                ),
            ),
        ],
    };
    let started = stack.run("start");
    assert!(started.status.success(), "{}", String::from_utf8_lossy(&started.stderr));
    let status = stack.run("status");
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stdout));
    assert!(String::from_utf8_lossy(&status.stdout).contains("alertmanager running"));
    // the generated Alertmanager file passes amtool and holds no secret
    let am_config = std::fs::read_to_string(stack_dir.join("config/alertmanager/alertmanager.yml")).unwrap();
    assert!(!am_config.contains("hook-secret") && am_config.contains("credentials_file"), "{am_config}");
    let loopback_only = Command::new("bash")
        .arg(&stack.script)
        .arg("start")
        .env("PROMETHEUS_ADDR", "0.0.0.0:9090")
        .env("STACK_DIR", dir.path().join("other"))
        .output()
        .unwrap();
    assert_eq!(loopback_only.status.code(), Some(2), "the stack stays on loopback");

    // the alert arrives at the webhook, with the token, naming the gate and the code
    let deadline = Instant::now() + Duration::from_secs(120);
    let delivered = loop {
        let posts: Vec<_> = hook.seen().into_iter().filter(|s| s.method == "POST").collect();
        if let Some(p) = posts.iter().find(|p| String::from_utf8_lossy(&p.body).contains("OntofetchSSRFAttempt")) {
            break p.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no alert delivered; alerts in Prometheus: {:?}\n{}",
            query(prom_port, "ALERTS"),
            std::fs::read_to_string(stack_dir.join("logs/alertmanager.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(delivered.headers.get("authorization").map(String::as_str), Some("Bearer hook-secret"));
    let payload: Value = serde_json::from_slice(&delivered.body).unwrap();
    assert_eq!(payload["receiver"], "webhook");
    let alert = payload["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["labels"]["alertname"] == "OntofetchSSRFAttempt")
        .unwrap();
    assert_eq!(alert["labels"]["gate"], "redirect", "{alert}");
    assert_eq!(alert["labels"]["code"], "E_PRIVATE_IP", "{alert}");
    assert_eq!(alert["labels"]["severity"], "ticket");
    assert_eq!(alert["status"], "firing");

    let stopped = stack.run("stop");
    assert!(String::from_utf8_lossy(&stopped.stdout).contains("prometheus stopped"));
    assert_eq!(stack.run("status").status.code(), Some(3));
}
