//! The binary, end to end: exit statuses, JSON shapes, files written, metrics exported.

use ontofetch_testsupport::cli::Sandbox;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

/// The shared harness offline: no registry, none of the test's own `ONTOFETCH_*`
/// variables, a home of its own.
struct Env(Sandbox);

impl Env {
    fn new() -> Self {
        Env(Sandbox::offline(crate::BIN))
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }
}

impl std::ops::Deref for Env {
    type Target = Sandbox;
    fn deref(&self) -> &Sandbox {
        &self.0
    }
}

#[test]
fn check_url_refusal_has_the_documented_shape_and_exit_3() {
    let env = Env::new();
    let (code, v) = env.json(&["policy", "check-url", "--json", "http://169.254.169.254/latest/meta-data/"]);
    assert_eq!(code, 3);
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["allowed", "code", "gate", "normalized_url", "reason"]);
    assert_eq!(v["allowed"], false);
    assert_eq!(v["code"], "E_PRIVATE_IP");
    assert_eq!(v["gate"], "url");
    assert!(v["reason"].as_str().unwrap().contains("169.254.169.254"));
}

#[test]
fn check_url_allowed_and_normalised_exit_0() {
    let env = Env::new();
    let (code, v) = env.json(&["policy", "check-url", "--json", "http://PURL.obolibrary.org./obo/bfo.owl"]);
    assert_eq!(code, 0);
    assert_eq!(v["allowed"], true);
    assert_eq!(v["code"], Value::Null);
    assert_eq!(v["normalized_url"], "https://purl.obolibrary.org/obo/bfo.owl");
}

#[test]
fn usage_errors_exit_2() {
    let env = Env::new();
    assert_eq!(env.run(&["policy", "check-url"]).status.code(), Some(2));
    assert_eq!(env.run(&["policy", "check-path", "x"]).status.code(), Some(2), "--root is required");
    // an unknown word is an ontology id (`ontofetch hp` = `ontofetch pull hp`), checked before any network
    assert_eq!(env.run(&["../etc"]).status.code(), Some(2));
    assert_eq!(env.run(&["pull", "--concurrent-downloads", "0"]).status.code(), Some(2));
}

#[test]
fn loopback_is_reachable_only_through_an_allowlist_entry() {
    let env = Env::new();
    let url = "http://127.0.0.1:8080/bfo.owl";
    assert_eq!(env.json(&["policy", "check-url", "--json", url]).0, 3);
    let (code, v) = env.json(&["policy", "check-url", "--json", "--allowed-hosts", "127.0.0.1:8080", url]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["normalized_url"], url, "an IP allowlist entry allows plain http");
    let spec = env.write("s.yaml", "defaults:\n  http:\n    allowed_hosts: ['127.0.0.1:8080']\nontologies: []\n");
    assert_eq!(env.json(&["policy", "check-url", "--json", "--spec", &spec, url]).0, 0);
    // an allowlist narrows everything else
    let (code, v) = env.json(&["policy", "check-url", "--json", "--spec", &spec, "https://purl.obolibrary.org/"]);
    assert_eq!((code, v["code"].as_str()), (3, Some("E_HOST_DENIED")));
}

#[test]
fn resolve_runs_every_address_through_the_ip_gate() {
    let env = Env::new();
    let (code, v) = env.json(&["policy", "check-url", "--json", "--resolve", "https://[64:ff9b::a9fe:a9fe]/"]);
    assert_eq!(code, 3);
    assert_eq!(v["code"], "E_PRIVATE_IP");
    let (code, v) =
        env.json(&["policy", "check-url", "--json", "--resolve", "--allowed-hosts", "127.0.0.1", "http://127.0.0.1/"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["gate"], "ip");
    assert_eq!(v["resolved"][0]["address"], "127.0.0.1");
    assert_eq!(v["resolved"][0]["allowed"], true);
}

#[test]
fn check_path_refuses_traversal_and_symlinked_prefixes() {
    let env = Env::new();
    let root = env.path("root");
    std::fs::create_dir_all(root.join("real")).unwrap();
    std::os::unix::fs::symlink("/etc", root.join("escape")).unwrap();
    let r = root.to_str().unwrap();
    let (code, v) = env.json(&["policy", "check-path", "--json", "--root", r, "../../etc/passwd"]);
    assert_eq!((code, v["code"].as_str(), v["gate"].as_str()), (3, Some("E_TRAVERSAL"), Some("filesystem")));
    let (code, v) = env.json(&["policy", "check-path", "--json", "--root", r, "escape/passwd"]);
    assert_eq!((code, v["code"].as_str()), (3, Some("E_LINK")));
    let (code, v) = env.json(&["policy", "check-path", "--json", "--root", r, "real/./x.owl"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["normalized_path"], "real/x.owl");
    let inside = root.join("real/y.owl");
    let (code, _) = env.json(&["policy", "check-path", "--json", "--root", r, inside.to_str().unwrap()]);
    assert_eq!(code, 0);
}

#[test]
fn init_writes_once_and_the_result_validates() {
    let env = Env::new();
    let out = env.run(&["init", "cfg/sources.yaml"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let written = std::fs::read_to_string(env.path("cfg/sources.yaml")).unwrap();
    std::fs::write(env.path("cfg/sources.yaml"), "# mine\nontologies: []\n").unwrap();
    let again = env.run(&["init", "cfg/sources.yaml"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(
        std::fs::read_to_string(env.path("cfg/sources.yaml")).unwrap(),
        "# mine\nontologies: []\n",
        "not clobbered"
    );
    assert!(env.run(&["init", "--force", "cfg/sources.yaml"]).status.success());
    assert_eq!(std::fs::read_to_string(env.path("cfg/sources.yaml")).unwrap(), written);
    let (code, v) = env.json(&["config", "validate", "--json", "--spec", "cfg/sources.yaml"]);
    assert_eq!(code, 0);
    assert!(v["ontologies"].as_u64().unwrap() >= 2);
    let leftovers: Vec<_> = std::fs::read_dir(env.path("cfg")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 1, "no temp files left: {leftovers:?}");
}

#[test]
fn invalid_config_names_file_line_and_key() {
    let env = Env::new();
    let spec = env.write("bad.yaml", "defaults:\n  http:\n    max_retries: 3\n    timeout_secs: 9\nontologies: []\n");
    let out = env.run(&["config", "validate", "--spec", &spec]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("{spec}:4: defaults.http.timeout_secs")), "{stderr}");
    assert!(stderr.contains("E_CONFIG_INVALID"), "{stderr}");
    let (code, v) = env.json(&["config", "validate", "--json", "--spec", &spec]);
    assert_eq!(code, 2);
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"]["code"], "E_CONFIG_INVALID");
    assert!(stderr.contains("did you mean `timeout_sec`?"), "the closest key, not all 33: {stderr}");
    let far = env.write("far.yaml", "defaults:\n  http:\n    zzzzzz: 1\nontologies: []\n");
    let out = env.run(&["config", "validate", "--spec", &far]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected one of"), "nothing close: the list");
    let missing = env.run(&["config", "validate", "--spec", "nope.yaml"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nope.yaml"));
}

#[test]
fn config_show_masks_secrets_and_reports_layers() {
    let env = Env::new();
    let spec = env.write(
        "s.yaml",
        "defaults:\n  http:\n    polite_headers: {Authorization: Bearer sekrit}\nontologies:\n  - id: ncit\n    resolver: bioportal\n    extras: {api_key: sekrit, acronym: NCIT}\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_ontofetch"))
        .args(["config", "show", "--json", "--spec", &spec, "--max-retries", "2"])
        .env("PYSTOW_HOME", env.path("home"))
        .env("ONTOFETCH_TIMEOUT_SEC", "12")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!stdout.contains("sekrit"), "{stdout}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["config"]["ontologies"][0]["extras"]["api_key"], "***");
    assert_eq!(v["config"]["ontologies"][0]["extras"]["acronym"], "NCIT");
    assert_eq!(v["config"]["defaults"]["http"]["max_retries"], 2);
    assert_eq!(v["config"]["defaults"]["http"]["timeout_sec"], 12.0);
    assert_eq!(v["env_overrides"]["ONTOFETCH_TIMEOUT_SEC"], "defaults.http.timeout_sec");
    assert_eq!(v["cli_overrides"][0], "defaults.http.max_retries");
    let (_, builtin) = env.json(&["config", "show", "--json", "--defaults"]);
    assert_eq!(builtin["source"], "builtin");
    assert_eq!(builtin["spec_count"], 3);
}

fn metric(text: &str, series: &str) -> f64 {
    ontofetch_testsupport::local::metric_value(text, series).unwrap_or_else(|| panic!("{series} not in\n{text}"))
}

#[test]
fn metrics_textfile_counts_gate_calls_even_on_refusal() {
    let env = Env::new();
    let prom = env.path("m.prom");
    let out = env.run(&["policy", "check-url", "--metrics-textfile", prom.to_str().unwrap(), "http://10.0.0.1/"]);
    assert_eq!(out.status.code(), Some(3));
    let text = std::fs::read_to_string(&prom).unwrap();
    assert_eq!(metric(&text, "ontofetch_gate_rejections_total{gate=\"url\",code=\"E_PRIVATE_IP\"}"), 1.0);
    assert_eq!(metric(&text, "ontofetch_gate_decisions_total{gate=\"url\",decision=\"reject\"}"), 1.0);
    assert_eq!(metric(&text, "ontofetch_gate_decisions_total{gate=\"url\",decision=\"allow\"}"), 0.0);
    assert!(
        metric(&text, "ontofetch_gate_decisions_total{gate=\"config\",decision=\"allow\"}") > 10.0,
        "config values went through the config gate"
    );
    assert_eq!(metric(&text, "ontofetch_ontology_last_success_timestamp_seconds{ontology=\"bfo\"}"), 0.0);
    assert_eq!(metric(&text, "ontofetch_gate_errors_total{gate=\"extraction\"}"), 0.0);
}

#[test]
fn doctor_reports_and_fixes() {
    let env = Env::new();
    let (code, v) = env.json(&["doctor", "--json"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["directories"]["ontologies"]["exists"], false);
    assert_eq!(v["gate_self_test"].as_array().unwrap().len(), 4);
    let (code, v) = env.json(&["doctor", "--json", "--fix"]);
    assert_eq!(code, 0);
    assert_eq!(v["directories"]["ontologies"]["exists"], true);
    assert!(Path::new(&env.path("home/ontology-fetcher/ontologies")).is_dir());
    // a policy that lets the metadata endpoint through is a problem
    let spec = env.write("open.yaml", "defaults:\n  http:\n    allowed_hosts: ['169.254.0.0/16']\nontologies: []\n");
    let (code, v) = env.json(&["doctor", "--json", "--spec", &spec]);
    assert_eq!(code, 1);
    assert_eq!(v["ok"], false);
    assert!(v["problems"].to_string().contains("169.254.169.254"), "{v}");
}

#[test]
fn log_level_and_format_control_what_is_logged() {
    let env = Env::new();
    let quiet = env.run(&["config", "validate"]);
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("settings resolved"), "INFO hides debug events");
    let debug = env.run(&["--log-level", "DEBUG", "config", "validate"]);
    let stderr = String::from_utf8_lossy(&debug.stderr);
    assert!(stderr.contains("settings resolved"), "{stderr}");
    let spec = env.write("json.yaml", "defaults:\n  logging: {level: debug, format: json}\nontologies: []\n");
    let json = env.run(&["--spec", &spec, "config", "validate"]);
    let line =
        String::from_utf8_lossy(&json.stderr).lines().find(|l| l.contains("settings resolved")).map(str::to_string);
    let v: Value = serde_json::from_str(&line.expect("a JSON log line")).unwrap();
    assert_eq!(v["level"], "DEBUG");
    assert_eq!(v["fields"]["message"], "settings resolved");
}

#[test]
fn codes_list_every_code_with_its_meaning() {
    let env = Env::new();
    let (code, v) = env.json(&["policy", "codes", "--json"]);
    assert_eq!(code, 0);
    let codes = v["codes"].as_array().unwrap();
    let find = |c: &str| codes.iter().find(|x| x["code"] == c).unwrap_or_else(|| panic!("{c} missing"));
    assert_eq!(find("E_NETWORK")["kind"], "runtime");
    assert!(find("E_DB")["meaning"].as_str().unwrap().contains("catalog"));
    assert_eq!(find("E_PRIVATE_IP")["kind"], "refusal");
    assert!(find("E_PRIVATE_IP")["gates"].as_array().unwrap().iter().any(|g| g == "ip"));
    assert!(v["gates"].as_array().unwrap().iter().any(|g| g["gate"] == "db_boundary"));
}

#[test]
fn config_show_names_the_resolved_settings() {
    let env = Env::new();
    let out = {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ontofetch"));
        cmd.args(["config", "show", "--json"])
            .current_dir(env.dir.path())
            .env("PYSTOW_HOME", env.path("home"))
            .env("HOME", env.path("userhome"));
        cmd.env("ONTOFETCH_OLS_BASE_URL", "http://127.0.0.1:1/ols").env("BIOPORTAL_API_KEY", "SEKRIT");
        cmd.output().unwrap()
    };
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["settings"]["endpoints"]["ols"], "http://127.0.0.1:1/ols");
    assert_eq!(v["settings"]["endpoints"]["obo"], "https://purl.obolibrary.org/obo");
    assert_eq!(v["settings"]["secrets"]["bioportal_api_key"], "***");
    assert!(v["settings"]["dirs"]["root"].as_str().unwrap().ends_with("home/ontology-fetcher"));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("SEKRIT"));
    assert!(v["settings"]["user_agent"].as_str().unwrap().starts_with("ontofetch/"));
    assert!(!v["settings"]["user_agent"].as_str().unwrap().contains("github"), "no made-up URL");
}

/// Offline (the resolver cannot reach anything): each ontology fails once per host with one
/// short line, `E_DNS`, exit 1; the name is not looked up again and again.
#[test]
fn offline_pulls_fail_fast_with_one_short_line() {
    let s = ontofetch_testsupport::cli::Sandbox::new(env!("CARGO_BIN_EXE_ontofetch"));
    let dns = ontofetch_testsupport::dns::DnsStub::failing();
    let spec = s.spec(&format!(
        "defaults:\n  http:\n    dns_servers: [\"{}\"]\n    allowed_hosts: [purl.example.org]\nontologies:\n  - id: bfo\n  - id: ro\n",
        dns.addr()
    ));
    let out = s
        .command(&["pull", "--spec", spec.to_str().unwrap(), "--no-lock"])
        .env("ONTOFETCH_OBO_BASE_URL", "https://purl.example.org/obo")
        .env("ONTOFETCH_OLS_BASE_URL", "https://purl.example.org/ols")
        .env("ONTOFETCH_BIOPORTAL_BASE_URL", "https://purl.example.org/bp")
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    for id in ["bfo", "ro"] {
        let line = stdout.lines().find(|l| l.starts_with(id)).unwrap_or_else(|| panic!("no row for {id}: {stdout}"));
        assert!(line.contains("E_DNS") && line.contains("cannot resolve purl.example.org"), "{line}");
        assert!(line.len() < 200, "one short line: {line}");
    }
    // one lookup per host per resolver tried (obo, ols, bioportal…), never the retries of
    // a download: 2 ontologies × at most 4 resolvers
    assert!(dns.lookups() <= 8, "{} lookups", dns.lookups());
}

/// `init` writes `./sources.yaml`, and the next command reads it; an id that is not in it
/// names what is; a `direct` entry without a URL is caught by `config validate`.
#[test]
fn init_then_pull_reads_what_init_wrote_and_unknown_ids_are_named() {
    let s = ontofetch_testsupport::cli::Sandbox::new(env!("CARGO_BIN_EXE_ontofetch"));
    assert_eq!(s.run(&["init"]).code, 0);
    let shown = s.run(&["config", "show", "--json"]);
    assert!(shown.stdout().contains("sources.yaml"), "the written file is the one in effect: {}", shown.stdout());
    s.spec(&format!(
        "defaults:\n  prefer_source: [direct]\nontologies:\n  - id: a\n    resolver: direct\n    extras:\n      url: {}\n",
        s.server.url("/a.owl")
    ));
    let r = s.run(&["pull", "nosuch", "--no-lock"]);
    assert_eq!(r.code, 2, "{}", r.stderr());
    // off a terminal, stderr is JSON lines: the last one is the error
    let last: serde_json::Value = serde_json::from_str(r.stderr().lines().last().unwrap_or_default()).unwrap();
    let message = last["message"].as_str().unwrap_or_default();
    assert_eq!(last["code"], "E_USAGE", "{last}");
    assert!(message.contains("\"nosuch\" is not in") && message.contains("known: a"), "{message}");
    s.spec("ontologies:\n  - id: a\n    resolver: direct\n");
    let v = s.run(&["config", "validate"]);
    assert_eq!(v.code, 2, "{}", v.stderr());
    assert!(v.stderr().contains("ontologies[0].extras.url"), "{}", v.stderr());
}

/// A reader that goes away (`| head -1`) ends the command quietly, with no panic.
#[test]
fn a_closed_stdout_is_not_a_panic() {
    let s = ontofetch_testsupport::cli::Sandbox::new(env!("CARGO_BIN_EXE_ontofetch"));
    let mut child = s
        .command(&["policy", "codes"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{stderr}");
}

/// A Pushgateway that is down turns a successful pull into a warning, not a failure.
#[test]
fn a_pushgateway_that_is_down_is_a_warning() {
    let s = ontofetch_testsupport::cli::Sandbox::new(env!("CARGO_BIN_EXE_ontofetch"));
    s.server.route(
        "/obo/bfo.owl",
        vec![ontofetch_testsupport::Reply::ok(
            ontofetch_testsupport::fixtures::owl(None, "bfo"),
            ontofetch_testsupport::fixtures::RDF_XML,
        )],
    );
    s.server.route("/metrics/job/ontofetch", vec![ontofetch_testsupport::Reply::status(503)]);
    let r = s.run(&["pull", "bfo", "--no-lock", "--max-retries", "1", "--pushgateway", &s.server.base()]);
    assert_eq!(r.code, 0, "{}", r.stderr());
    assert!(r.stderr().contains("metrics not pushed"), "{}", r.stderr());
}

/// A DocsToKG key that ontofetch accepts but does not act on is named, with why, when it
/// is set; one it honours (`http2_enabled`) is not.
#[test]
fn keys_without_effect_are_named_when_set() {
    let s = ontofetch_testsupport::cli::Sandbox::new(env!("CARGO_BIN_EXE_ontofetch"));
    s.spec("defaults:\n  http:\n    http2_enabled: false\n    max_httpx_connections: 4\n    strict_dns: true\nontologies: []\n");
    let r = s.run(&["config", "validate"]);
    assert_eq!(r.code, 0, "{}", r.stderr());
    let err = r.stderr();
    assert!(err.contains("defaults.http.max_httpx_connections is accepted for compatibility"), "{err}");
    assert!(err.contains("concurrent_downloads"), "says what bounds connections instead: {err}");
    assert!(err.contains("defaults.http.strict_dns"), "{err}");
    assert!(!err.contains("http2_enabled"), "honoured, so not named: {err}");
    s.spec("ontologies: []\n");
    assert!(!s.run(&["config", "validate"]).stderr().contains("no effect"), "defaults say nothing");
}
