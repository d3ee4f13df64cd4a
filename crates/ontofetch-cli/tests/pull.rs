//! `ontofetch pull` end to end: the real binary against the fault-injecting loopback
//! server, with the registry endpoints pointed at it.

use ontofetch_testsupport::cli::{Sandbox, by_id};
use ontofetch_testsupport::{Fault, Reply};
use serde_json::Value;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use ontofetch_testsupport::fixtures::{RDF_XML as OWL, owl};

/// The shared harness, with bfo, ro and pato served by the registry.
struct Env(Sandbox);

impl Env {
    fn new() -> Self {
        let s = Sandbox::new(crate::BIN);
        s.server.route(
            "/obo/bfo.owl",
            vec![
                Reply::ok(owl(Some("http://purl.obolibrary.org/obo/bfo/2019-08-26/bfo.owl"), "bfo"), OWL)
                    .header("ETag", "\"bfo-1\""),
            ],
        );
        s.server.route("/obo/ro.owl", vec![Reply::ok(owl(None, "ro"), OWL).header("ETag", "\"ro-1\"")]);
        s.server.route(
            "/obo/pato.owl",
            vec![Reply::ok(owl(Some("http://purl.obolibrary.org/obo/pato/releases/2025-05-14/pato.owl"), "pato"), OWL)],
        );
        Env(s)
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn spec(&self, text: &str) -> String {
        self.0.spec(text).display().to_string()
    }
}

impl std::ops::Deref for Env {
    type Target = Sandbox;
    fn deref(&self) -> &Sandbox {
        &self.0
    }
}

#[test]
fn default_spec_pulls_into_store_catalog_manifest_and_lockfile() {
    let env = Env::new();
    let (code, results) = env.json(&["pull", "--json"]);
    assert_eq!(code, 0, "{results}");
    for id in ["bfo", "ro", "pato"] {
        assert_eq!(by_id(&results, id)["status"], "fresh", "{id}");
    }
    let bfo = by_id(&results, "bfo");
    assert_eq!(bfo["version"], "2019-08-26", "version from owl:versionIRI");
    assert_eq!(by_id(&results, "pato")["version"], "2025-05-14");
    let ro_version = by_id(&results, "ro")["version"].as_str().unwrap().to_string();
    assert!(ro_version.contains("-sha256-"), "unversioned source gets a content version: {ro_version}");
    // layout, manifest, latest
    let vdir = env.root().join("ontologies/bfo/2019-08-26");
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(vdir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["schema_version"], "1.0");
    assert_eq!(manifest["sha256"], bfo["sha256"]);
    assert_eq!(manifest["status"], "fresh");
    assert_eq!(manifest["resolver"], "obo");
    assert!(manifest["downloaded_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(manifest["resolver_attempts"][0]["status"], "ok");
    assert_eq!(manifest["fingerprint"].as_str().unwrap().len(), 64);
    for key in [
        "etag",
        "last_modified",
        "content_type",
        "content_length",
        "expected_checksum",
        "target_formats",
        "validation",
        "artifacts",
        "normalized_sha256",
        "filename",
        "url",
        "license",
        "id",
    ] {
        assert!(manifest.get(key).is_some(), "manifest lacks {key}");
    }
    assert_eq!(std::fs::read_link(env.root().join("ontologies/bfo/latest")).unwrap(), Path::new("2019-08-26"));
    assert!(env.staging_is_empty());
    // lockfile pinned to the downloaded digest
    let lock: Value =
        serde_json::from_str(&std::fs::read_to_string(env.dir.path().join("ontologies.lock.json")).unwrap()).unwrap();
    let entry = lock["entries"].as_array().unwrap().iter().find(|e| e["id"] == "bfo").unwrap();
    assert_eq!(entry["expected_checksum"]["value"], bfo["sha256"]);
    // catalog commands and show
    let (_, latest) = env.json(&["db", "latest", "--json"]);
    assert_eq!(latest["count"], 3);
    let (_, shown) = env.json(&["show", "bfo", "--json"]);
    assert_eq!(shown, manifest);
    let (_, stats) = env.json(&["db", "stats", "--json"]);
    assert_eq!(stats["statistics"]["versions"], 3);
    let (_, files) = env.json(&["db", "files", "bfo", "--json"]);
    assert!(
        files["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "original" && f["relpath"] == "ontologies/bfo/2019-08-26/original/bfo.owl")
    );
}

#[test]
fn second_pull_is_a_conditional_get_and_changes_nothing() {
    let env = Env::new();
    assert_eq!(env.json(&["pull", "--json", "bfo"]).0, 0);
    let (code, results) = env.json(&["pull", "--json", "bfo"]);
    assert_eq!(code, 0);
    assert_eq!(results[0]["status"], "cached");
    assert_eq!(results[0]["cache_status"], "hit");
    let last = env.server.seen().into_iter().rfind(|s| s.path == "/obo/bfo.owl").unwrap();
    assert_eq!(last.headers.get("if-none-match").map(String::as_str), Some("\"bfo-1\""));
    assert_eq!(env.version_dirs("bfo"), ["2019-08-26"]);
    // --force skips the conditional request; identical bytes still make no new directory
    let (_, forced) = env.json(&["pull", "--json", "--force", "ro"]);
    let (_, again) = env.json(&["pull", "--json", "--force", "ro"]);
    assert_eq!(again[0]["status"], "cached");
    assert_eq!(forced[0]["version"], again[0]["version"]);
    assert_eq!(env.version_dirs("ro").len(), 1, "never a new directory for identical bytes");
}

#[test]
fn upstream_change_under_the_same_version_is_kept_apart_and_latest_follows_download_time() {
    let env = Env::new();
    assert_eq!(env.json(&["pull", "--json", "bfo"]).0, 0);
    env.server.route(
        "/obo/bfo.owl",
        vec![
            Reply::ok(owl(Some("http://purl.obolibrary.org/obo/bfo/2019-08-26/bfo.owl"), "silently changed"), OWL)
                .header("ETag", "\"bfo-2\""),
        ],
    );
    let (code, results) = env.json(&["pull", "--json", "bfo"]);
    assert_eq!(code, 0);
    assert_eq!(results[0]["status"], "updated");
    let v = results[0]["version"].as_str().unwrap();
    assert!(v.starts_with("2019-08-26-sha256-"), "{v}");
    assert!(results[0]["notes"][0].as_str().unwrap().contains("same version"));
    assert_eq!(env.version_dirs("bfo").len(), 2);
    assert_eq!(
        std::fs::read_link(env.root().join("ontologies/bfo/latest")).unwrap(),
        Path::new(v),
        "latest is the newest download, not the greatest name"
    );
}

#[test]
fn pull_with_the_lockfile_refuses_changed_content() {
    let env = Env::new();
    assert_eq!(env.json(&["pull", "--json", "ro"]).0, 0);
    env.server.route("/obo/ro.owl", vec![Reply::ok(owl(None, "tampered"), OWL)]);
    let (code, results) = env.json(&["pull", "--json", "--lock", "ontologies.lock.json"]);
    assert_eq!(code, 3, "a checksum refusal is a gate's: {results}");
    assert_eq!(results[0]["status"], "failed");
    assert_eq!(results[0]["error"]["code"], "E_CHECKSUM");
    assert_eq!(env.version_dirs("ro").len(), 1, "store unchanged");
    assert!(env.staging_is_empty());
    let (_, versions) = env.json(&["db", "versions", "ro", "--json"]);
    assert_eq!(versions["count"], 1);
}

#[test]
fn refused_and_broken_downloads_leave_no_trace() {
    let env = Env::new();
    env.server.route("/obo/bfo.owl", vec![Reply::redirect(302, "http://169.254.169.254/latest/meta-data/")]);
    env.server
        .route("/obo/ro.owl", vec![Reply::ok("<!DOCTYPE html><html><body>maintenance</body></html>", "text/html")]);
    env.server.route("/obo/pato.owl", vec![Reply::ok(owl(None, "x"), OWL).fault(Fault::DropAfter(20))]);
    let prom = env.dir.path().join("m.prom");
    let out = env.run(&["pull", "--json", "--max-retries", "2", "--metrics-textfile", prom.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "a gate refused bfo and ro");
    let results: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(by_id(&results, "bfo")["error"]["code"], "E_PRIVATE_IP");
    assert_eq!(by_id(&results, "ro")["error"]["code"], "E_MEDIA_TYPE");
    assert_eq!(by_id(&results, "pato")["error"]["code"], "E_NETWORK");
    for id in ["bfo", "ro", "pato"] {
        assert!(env.version_dirs(id).is_empty(), "{id}");
    }
    assert!(env.staging_is_empty());
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(text.contains("ontofetch_downloads_total{resolver=\"obo\",result=\"failed\"} 3"), "{text}");
    assert!(text.contains("ontofetch_gate_rejections_total{gate=\"redirect\",code=\"E_PRIVATE_IP\"} 1"), "{text}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.lines().any(|l| l.starts_with("{\"error\"") || l.contains("\"event\":\"pull.done\"")),
        "JSON lines on stderr when not a TTY: {stderr}"
    );
}

#[test]
fn fallback_chain_and_ols_metadata_are_gated() {
    let env = Env::new();
    let file = env.server.url("/files/pato.owl");
    env.server.route("/files/pato.owl", vec![Reply::ok(owl(None, "pato via ols"), OWL)]);
    env.server.route(
        "/ols/api/ontologies/pato",
        vec![Reply::ok(
            format!("{{\"config\": {{\"fileLocation\": \"{file}\", \"version\": \"2024-03-01\"}}}}"),
            "application/json",
        )],
    );
    // OLS4 keeps the licence in its V2 document only
    env.server.route(
        "/ols/api/v2/ontologies/pato",
        vec![Reply::ok("{\"license\": {\"label\": \"CC BY 4.0\"}}", "application/json")],
    );
    env.server.route(
        "/ols/api/ontologies/evil",
        vec![Reply::ok("{\"config\": {\"fileLocation\": \"http://169.254.169.254/latest/\"}}", "application/json")],
    );
    env.server.route("/obo/hp.owl", vec![Reply::status(404)]);
    env.server.route("/files/hp.owl", vec![Reply::ok(owl(None, "hp direct"), OWL)]);
    let spec = env.spec(&format!(
        "defaults:\n  prefer_source: [obo, direct]\nontologies:\n  - id: pato\n    resolver: ols\n  - id: evil\n    resolver: ols\n  - id: hp\n    resolver: obo\n    extras:\n      url: {}\n",
        env.server.url("/files/hp.owl")
    ));
    let (code, results) = env.json(&["pull", "--json", "--spec", &spec, "pato", "evil", "hp"]);
    assert_eq!(code, 3, "evil was refused by a gate");
    let pato = by_id(&results, "pato");
    assert_eq!(
        (pato["status"].as_str(), pato["version"].as_str(), pato["resolver"].as_str()),
        (Some("fresh"), Some("2024-03-01"), Some("ols"))
    );
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(env.root().join("ontologies/pato/2024-03-01/manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["license"], "CC-BY-4.0");
    let hp = by_id(&results, "hp");
    assert_eq!(
        (hp["status"].as_str(), hp["resolver"].as_str()),
        (Some("fresh"), Some("direct")),
        "obo 404 falls back to direct: {hp}"
    );
    let evil = by_id(&results, "evil");
    assert_eq!(evil["status"], "failed");
    assert_eq!(evil["error"]["code"], "E_PRIVATE_IP", "the primary resolver's refusal is the reported code: {evil}");
}

#[test]
fn bioportal_key_goes_only_to_the_api_in_a_header() {
    let env = Env::new();
    env.server.route(
        "/bp/ontologies/NCIT/latest_submission?display=submissionId,version,released,hasLicense,hasOntologyLanguage",
        vec![Reply::ok("{\"version\": \"24.01d\"}", "application/json")],
    );
    env.server.route("/bp/ontologies/NCIT/download", vec![Reply::ok(owl(None, "ncit"), OWL)]);
    let spec = env.spec("ontologies:\n  - id: ncit\n    resolver: bioportal\n    extras: {acronym: NCIT}\n");
    let out =
        env.command(&["pull", "--json", "--spec", &spec]).env("BIOPORTAL_API_KEY", "SEKRIT-KEY").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let seen = env.server.seen();
    let sub = seen.iter().find(|s| s.path.contains("latest_submission")).unwrap();
    assert_eq!(sub.headers.get("authorization").map(String::as_str), Some("apikey token=SEKRIT-KEY"));
    assert!(seen.iter().all(|s| !s.path.contains("SEKRIT")), "never in a URL");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("SEKRIT"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("SEKRIT"));
    assert!(!std::fs::read_to_string(env.dir.path().join("ontologies.lock.json")).unwrap().contains("SEKRIT"));
    let manifest = std::fs::read_to_string(env.root().join("ontologies/ncit/24.01d/manifest.json")).unwrap();
    assert!(!manifest.contains("SEKRIT"));
}

#[test]
fn a_bare_id_means_pull_and_dry_run_only_plans() {
    let env = Env::new();
    let (code, plans) = env.json(&["--json", "pull", "--dry-run", "bfo"]);
    assert_eq!(code, 0);
    assert_eq!(plans[0]["url"], env.server.url("/obo/bfo.owl"));
    assert!(env.version_dirs("bfo").is_empty());
    let (code, results) = env.json(&["--json", "bfo"]);
    assert_eq!(code, 0);
    assert_eq!(results[0]["status"], "fresh");
}

#[test]
fn prune_keeps_the_newest_and_refuses_an_unsynchronised_catalog() {
    let env = Env::new();
    for i in 0..3 {
        env.server.route("/obo/ro.owl", vec![Reply::ok(owl(Some(&format!("http://x.org/ro/v{i}/ro.owl")), "ro"), OWL)]);
        assert_eq!(env.json(&["pull", "--json", "ro"]).0, 0);
        std::thread::sleep(Duration::from_millis(1100));
    }
    assert_eq!(env.version_dirs("ro"), ["v0", "v1", "v2"]);
    // a directory the catalog does not know: prune must not run
    std::fs::create_dir_all(env.root().join("ontologies/ro/stray/original")).unwrap();
    let out = env.run(&["prune", "--keep", "1"]);
    assert_eq!(out.status.code(), Some(3), "the db_boundary gate refuses");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("E_DB_ORPHAN")
            || String::from_utf8_lossy(&out.stderr).contains("doctor")
    );
    assert_eq!(env.version_dirs("ro").len(), 4, "nothing deleted");
    std::fs::remove_dir_all(env.root().join("ontologies/ro/stray")).unwrap();
    let (code, dry) = env.json(&["prune", "--keep", "1", "--dry-run", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(dry["total_deleted"], 2);
    assert_eq!(env.version_dirs("ro").len(), 3, "dry run deletes nothing");
    let (code, done) = env.json(&["prune", "--keep", "1", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(done["ontologies"][0]["retained"][0], "v2");
    assert_eq!(env.version_dirs("ro"), ["v2"]);
    assert_eq!(std::fs::read_link(env.root().join("ontologies/ro/latest")).unwrap(), Path::new("v2"));
}

#[test]
fn doctor_finds_and_fixes_orphans_on_either_side() {
    let env = Env::new();
    assert_eq!(env.json(&["pull", "--json", "bfo", "ro"]).0, 0);
    let ro_version = env.version_dirs("ro")[0].clone();
    std::fs::create_dir_all(env.root().join("ontologies/bfo/orphan/original")).unwrap();
    std::fs::remove_dir_all(env.root().join("ontologies/ro").join(&ro_version)).unwrap();
    // staging of a process that no longer runs (pid 999999999): a killed pull
    std::fs::create_dir_all(env.root().join(".staging/bfo-999999999-2/original")).unwrap();
    let (code, report) = env.json(&["doctor", "--json"]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["store"]["dirs_without_rows"][0], "ontologies/bfo/orphan");
    assert_eq!(report["store"]["rows_without_files"][0], format!("ontologies/ro/{ro_version}"));
    assert_eq!(report["store"]["stale_staging"].as_array().unwrap().len(), 1);
    let (code, fixed) = env.json(&["doctor", "--json", "--fix"]);
    assert_eq!(code, 0, "{fixed}");
    let (code, after) = env.json(&["doctor", "--json"]);
    assert_eq!(code, 0, "{after}");
    assert_eq!(env.version_dirs("bfo"), ["2019-08-26"]);
    let (_, versions) = env.json(&["db", "versions", "--json"]);
    assert_eq!(versions["count"], 1);
}

#[test]
fn kill_minus_nine_mid_pull_then_doctor_leaves_store_and_catalog_consistent() {
    let env = Env::new();
    let big = owl(None, &"x".repeat(400_000));
    env.server.route(
        "/obo/ro.owl",
        vec![Reply::ok(big, OWL).fault(Fault::Slow { chunk: 4096, delay: Duration::from_millis(20) })],
    );
    let mut child = env
        .command(&["pull", "--json", "ro"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // wait (bounded) until the download has started, then kill -9
    for _ in 0..200 {
        if env.server.hits("/obo/ro.owl") > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(env.version_dirs("ro").is_empty(), "nothing visible from a killed pull");
    let (code, report) = env.json(&["doctor", "--json", "--fix"]);
    assert_eq!(code, 0, "{report}");
    let (code, report) = env.json(&["doctor", "--json"]);
    assert_eq!(code, 0, "{report}");
    assert!(env.staging_is_empty());
    assert_eq!(report["store"]["versions"], 0);
}

#[test]
fn plan_probes_with_head_writes_a_lockfile_and_plan_diff_reports_changes() {
    let env = Env::new();
    env.server.route("/obo/ro.owl", vec![Reply::redirect(302, "http://10.0.0.1/ro.owl")]);
    env.server.route(
        "/lov/api/v2/vocabulary/info?vocab=http%3A%2F%2Fx.org%2Fvoc%2F",
        vec![Reply::ok(
            format!(
                "{{\"versions\": [{{\"fileURL\": \"{}\", \"name\": \"2020\"}}]}}",
                env.server.url("/files/voc.ttl")
            ),
            "application/json",
        )],
    );
    env.server.route("/files/voc.ttl", vec![Reply::ok("@prefix x: <http://x.org/> .", "text/turtle")]);
    let spec = env.spec("defaults:\n  resolver_fallback_enabled: false\nontologies:\n  - id: bfo\n  - id: ro\n  - id: voc\n    resolver: lov\n    extras: {uri: 'http://x.org/voc/'}\n");
    let (code, plans) = env.json(&["plan", "--json", "--spec", &spec]);
    assert_eq!(code, 3, "ro's redirect to a private address is refused, and plan exits 3 as pull does: {plans}");
    let bfo = by_id(&plans, "bfo");
    assert_eq!(bfo["probe"]["method"], "HEAD");
    assert!(bfo["content_length"].as_u64().unwrap() > 0);
    assert_eq!(by_id(&plans, "ro")["error"]["code"], "E_PRIVATE_IP");
    assert_eq!(by_id(&plans, "voc")["url"], env.server.url("/files/voc.ttl"));
    let lock: Value =
        serde_json::from_str(&std::fs::read_to_string(env.dir.path().join("ontologies.lock.json")).unwrap()).unwrap();
    assert_eq!(lock["entries"].as_array().unwrap().len(), 2, "only plans that succeeded are locked");
    // plan-diff: the first run creates the baseline, a changed URL shows up as modified
    let (code, first) = env.json(&["plan-diff", "--json", "--spec", &spec, "--update-baseline", "--no-lock", "bfo"]);
    assert_eq!(code, 0);
    assert_eq!(first["added"].as_array().unwrap().len(), 1);
    let spec2 = env.spec(&format!("defaults:\n  resolver_fallback_enabled: false\nontologies:\n  - id: bfo\n    resolver: direct\n    extras: {{url: '{}'}}\n", env.server.url("/obo/bfo.owl?mirror")));
    env.server.route("/obo/bfo.owl?mirror", vec![Reply::ok(owl(None, "m"), OWL)]);
    let (code, diff) = env.json(&["plan-diff", "--json", "--spec", &spec2, "--no-lock", "bfo"]);
    assert_eq!(code, 0, "{diff}");
    assert_eq!(diff["modified"][0]["id"], "bfo");
    assert!(diff["modified"][0]["changes"]["url"]["after"].as_str().unwrap().ends_with("?mirror"));
}

#[test]
fn archives_are_extracted_through_the_gates_or_refused_whole() {
    use ontofetch_testsupport::archives::{RawEntry, TarEntry, gz, tar, zip};
    let env = Env::new();
    let good =
        gz(&tar(&[TarEntry::file("mesh/mesh.owl", &owl(None, "mesh")), TarEntry::file("mesh/README", b"read me")]));
    env.server.route("/files/mesh.tar.gz", vec![Reply::ok(good, "application/gzip")]);
    env.server.route(
        "/files/slip.zip",
        vec![Reply::ok(
            zip(&[RawEntry::file("ok.owl", b"<rdf:RDF/>"), RawEntry::file("../../escape.owl", b"x")], &[]),
            "application/zip",
        )],
    );
    let spec = env.spec(&format!(
        "defaults:\n  resolver_fallback_enabled: false\nontologies:\n  - id: mesh\n    resolver: direct\n    extras: {{url: '{}'}}\n  - id: slip\n    resolver: direct\n    extras: {{url: '{}'}}\n",
        env.server.url("/files/mesh.tar.gz"),
        env.server.url("/files/slip.zip")
    ));
    let prom = env.dir.path().join("m.prom");
    let (code, results) = env.json(&["pull", "--json", "--spec", &spec, "--metrics-textfile", prom.to_str().unwrap()]);
    assert_eq!(code, 3, "hostile archives are refused by a gate");
    let mesh = by_id(&results, "mesh");
    assert_eq!(mesh["status"], "fresh", "{mesh}");
    let vdir = env.root().join("ontologies/mesh").join(mesh["version"].as_str().unwrap());
    assert_eq!(std::fs::read(vdir.join("original/mesh_extracted/mesh/README")).unwrap(), b"read me");
    assert!(vdir.join("original/mesh_extracted.audit.json").is_file());
    let (_, files) = env.json(&["db", "files", "mesh", "--json"]);
    assert!(
        files["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "extracted"
                && f["relpath"].as_str().unwrap().ends_with("mesh_extracted/mesh/mesh.owl"))
    );
    let slip = by_id(&results, "slip");
    assert_eq!(slip["error"]["code"], "E_TRAVERSAL", "{slip}");
    assert!(env.version_dirs("slip").is_empty());
    assert!(!env.dir.path().join("escape.owl").exists() && !env.root().join("escape.owl").exists());
    assert!(env.staging_is_empty());
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(text.contains("ontofetch_gate_rejections_total{gate=\"extraction\",code=\"E_TRAVERSAL\"} 1"), "{text}");
    assert!(!text.contains("ontofetch_extracted_bytes_total 0\n"), "extracted bytes counted");
}

#[test]
fn validation_runs_in_staging_strict_mode_keeps_the_last_good_version() {
    let env = Env::new();
    // a good first version, validated and normalised
    let (code, results) = env.json(&["pull", "--json", "bfo"]);
    assert_eq!(code, 0, "{results}");
    let v1 = results[0]["version"].as_str().unwrap().to_string();
    let vdir = env.root().join("ontologies/bfo").join(&v1);
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(vdir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["validation"]["rdf"]["ok"], true, "{}", manifest["validation"]);
    assert_eq!(manifest["validation"]["rdf"]["details"]["statements"], 2);
    assert_eq!(manifest["normalized_sha256"].as_str().unwrap().len(), 64);
    assert!(vdir.join("normalized/bfo.nt").is_file());
    let (_, rows) = env.json(&["db", "validations", "bfo", "--json"]);
    assert_eq!(rows["validations"][0]["result"], "ok");
    // upstream now serves a broken file: strict mode refuses to promote it
    env.server.route(
        "/obo/bfo.owl",
        vec![Reply::ok(
            "<?xml version=\"1.0\"?>\n<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><broken",
            OWL,
        )],
    );
    let strict = env.spec("defaults:\n  continue_on_error: false\nontologies:\n  - id: bfo\n");
    let (code, results) = env.json(&["pull", "--json", "--spec", &strict, "--force", "bfo"]);
    assert_eq!(code, 1);
    assert_eq!(results[0]["error"]["code"], "E_VALIDATION", "{results}");
    assert_eq!(env.version_dirs("bfo"), std::slice::from_ref(&v1), "the last good version stays, alone");
    assert!(env.staging_is_empty());
    // lenient mode stores it, with the failure recorded, counted as failing, not latest
    let lenient = env.spec("defaults:\n  continue_on_error: true\nontologies:\n  - id: bfo\n");
    let (code, results) = env.json(&["pull", "--json", "--spec", &lenient, "--force", "bfo"]);
    assert_eq!((code, results[0]["status"].as_str()), (1, Some("failed")), "{results}");
    assert_eq!(std::fs::read_link(env.root().join("ontologies/bfo/latest")).unwrap(), Path::new(&v1));
    let v2 = results[0]["version"].as_str().unwrap().to_string();
    let (_, rows) = env.json(&["db", "validations", "bfo", &v2, "--json"]);
    assert_eq!(rows["failure_count"], 1, "{rows}");
    // re-validating it strictly purges it and latest goes back to the good one
    let (code, out) = env.json(&["validate", "--json", "--strict", "bfo", &v2]);
    assert_eq!(code, 1);
    assert_eq!(out["purged"], true, "{out}");
    assert_eq!(env.version_dirs("bfo"), std::slice::from_ref(&v1));
    assert_eq!(std::fs::read_link(env.root().join("ontologies/bfo/latest")).unwrap(), Path::new(&v1));
    let (code, ok) = env.json(&["validate", "--json", "bfo"]);
    assert_eq!((code, ok["status"].as_str()), (0, Some("ok")), "{ok}");
}

#[test]
fn cas_mirror_keeps_a_content_addressed_copy() {
    let env = Env::new();
    let spec = env.spec("defaults:\n  enable_cas_mirror: true\nontologies:\n  - id: bfo\n");
    let (code, results) = env.json(&["pull", "--json", "--spec", &spec, "bfo"]);
    assert_eq!(code, 0, "{results}");
    let sha = results[0]["sha256"].as_str().unwrap();
    let key = format!("by-sha256/{}/{}/{sha}", &sha[..2], &sha[2..4]);
    let original = std::fs::read(results[0]["path"].as_str().unwrap()).unwrap();
    assert_eq!(std::fs::read(env.root().join(&key)).unwrap(), original);
    let (_, files) = env.json(&["db", "files", "bfo", "--json"]);
    assert!(
        files["files"].as_array().unwrap().iter().any(|f| f["kind"] == "cas" && f["relpath"] == key.as_str()),
        "{files}"
    );
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(
            env.root().join("ontologies/bfo").join(results[0]["version"].as_str().unwrap()).join("manifest.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(manifest["artifacts"].as_array().unwrap().iter().any(|a| a.as_str().unwrap().ends_with(&key)));
    // doctor agrees with the store
    assert_eq!(env.json(&["doctor", "--json"]).0, 0);
}

/// `target_formats` picks the file a registry is asked for; it does not cancel the
/// defaults' `normalize_to` (issue 20, item 14): the OBO download still gets its Turtle
/// rendering, and a lockfile replays both lists.
#[test]
fn target_formats_choose_the_download_and_keep_the_normalisation() {
    let env = Env::new();
    let obo =
        "format-version: 1.2\ndata-version: bfo/releases/2026-01-01\nontology: bfo\n\n[Term]\nid: BFO:1\nname: one\n";
    env.server.route("/obo/bfo.obo", vec![Reply::ok(obo, "text/plain")]);
    let spec = env.spec("defaults:\n  normalize_to: [ttl]\nontologies:\n  - id: bfo\n    target_formats: [obo]\n");
    let (code, results) = env.json(&["pull", "--json", "--spec", &spec, "bfo"]);
    assert_eq!(code, 0, "{results}");
    let vdir = env.root().join("ontologies/bfo").join(results[0]["version"].as_str().unwrap());
    let manifest = env.manifest("bfo");
    assert!(manifest["url"].as_str().unwrap().ends_with("/obo/bfo.obo"), "{manifest}");
    assert_eq!(manifest["target_formats"], serde_json::json!(["obo"]));
    assert_eq!(manifest["normalize_to"], serde_json::json!(["ttl"]));
    assert!(vdir.join("normalized/bfo.ttl").is_file(), "the defaults' ttl rendering was written");
    assert!(manifest["normalized_sha256"].is_string(), "{manifest}");
    let lock: Value =
        serde_json::from_str(&std::fs::read_to_string(env.dir.path().join("ontologies.lock.json")).unwrap()).unwrap();
    assert_eq!(lock["entries"][0]["normalize_to"], serde_json::json!(["ttl"]));
    assert_eq!(lock["entries"][0]["target_formats"], serde_json::json!(["obo"]));
}

/// DocsToKG keys that carry over act (issue 20): `concurrent_plans` plans in parallel,
/// `max_checksum_response_bytes` caps a checksum file.
#[test]
fn concurrent_plans_and_the_checksum_cap_are_honoured() {
    let env = Env::new();
    let latency = Duration::from_millis(1500);
    for id in ["a", "b", "c", "d"] {
        env.server.route(&format!("/obo/{id}.owl"), vec![Reply::ok(owl(None, id), OWL).latency(latency)]);
    }
    let ids = "ontologies:\n  - id: a\n  - id: b\n  - id: c\n  - id: d\n";
    let arrivals = |plans: u32| {
        let before = env.server.seen().len();
        let spec = env.spec(&format!("defaults:\n  http:\n    concurrent_plans: {plans}\n{ids}"));
        let (code, plans) = env.json(&["plan", "--json", "--spec", &spec]);
        assert_eq!(code, 0, "{plans}");
        let seen: Vec<_> = env.server.seen()[before..].iter().map(|s| s.at).collect();
        assert_eq!(seen.len(), 4, "one probe per ontology");
        seen
    };
    // In parallel every probe is sent before the first answer comes back; one at a time,
    // each waits for the one before it.
    let parallel = arrivals(4);
    assert!(parallel[3].duration_since(parallel[0]) < latency, "{parallel:?}");
    let serial = arrivals(1);
    assert!(serial[3].duration_since(serial[0]) >= latency * 3, "{serial:?}");

    let digest = format!("{}  x.owl\n{}", "ab".repeat(32), "#".repeat(4096));
    env.server.route("/x.owl", vec![Reply::ok(owl(None, "x"), OWL)]);
    env.server.route("/x.owl.sha256", vec![Reply::ok(digest, "text/plain")]);
    let entry = format!(
        "ontologies:\n  - id: x\n    resolver: direct\n    extras: {{url: \"{}\", checksum_url: \"{}\"}}\n",
        env.server.url("/x.owl"),
        env.server.url("/x.owl.sha256")
    );
    let small = env.spec(&format!("defaults:\n  http:\n    max_checksum_response_bytes: 1024\n{entry}"));
    let (code, refused) = env.json(&["plan", "--json", "--spec", &small]);
    assert_ne!(code, 0, "{refused}");
    assert!(refused.to_string().contains("1024"), "the cap is named: {refused}");
    let (code, planned) = env.json(&["plan", "--json", "--spec", &env.spec(&entry)]);
    assert_eq!(code, 0, "the default 256 KiB cap takes the 4 KiB file: {planned}");
}

/// `validate_media_type` (DocsToKG: a warning only): a Content-Type that does not fit the
/// announced media type is a manifest note; switched off, nothing is said.
#[test]
fn a_mislabelled_download_is_noted_unless_media_types_are_not_checked() {
    let env = Env::new();
    env.server.route("/m.owl", vec![Reply::ok(owl(None, "m"), "application/json")]);
    let entry = format!(
        "ontologies:\n  - id: m\n    resolver: direct\n    extras: {{url: \"{}\", media_type: application/rdf+xml}}\n",
        env.server.url("/m.owl")
    );
    let (code, out) = env.json(&["pull", "--json", "--no-lock", "--spec", &env.spec(&entry)]);
    assert_eq!(code, 0, "{out}");
    let notes = env.manifest("m")["notes"].to_string();
    assert!(notes.contains("Content-Type application/json") && notes.contains("application/rdf+xml"), "{notes}");
    env.server.route("/n.owl", vec![Reply::ok(owl(None, "n"), "application/json")]);
    let off = format!(
        "defaults:\n  http:\n    validate_media_type: false\nontologies:\n  - id: n\n    resolver: direct\n    extras: {{url: \"{}\", media_type: application/rdf+xml}}\n",
        env.server.url("/n.owl")
    );
    let (code, out) = env.json(&["pull", "--json", "--no-lock", "--spec", &env.spec(&off)]);
    assert_eq!(code, 0, "{out}");
    assert!(!env.manifest("n")["notes"].to_string().contains("Content-Type"), "{}", env.manifest("n"));
}

/// `export catalog-xml` maps what `owl:imports` name — the ontology's own IRI — for a
/// `direct` source too, and a version IRI to its own version (issue 20, item 15).
#[test]
fn the_xml_catalog_maps_a_direct_sources_ontology_iri_and_its_version_iri() {
    let env = Env::new();
    env.server.route("/d.owl", vec![Reply::ok(owl(Some("http://x.org/o/2026-01-01/o.owl"), "d"), OWL)]);
    let spec = env.spec(&format!(
        "ontologies:\n  - id: d\n    resolver: direct\n    extras: {{url: \"{}\"}}\n",
        env.server.url("/d.owl")
    ));
    let (code, results) = env.json(&["pull", "--json", "--no-lock", "--spec", &spec]);
    assert_eq!(code, 0, "{results}");
    let version = results[0]["version"].as_str().unwrap();
    let out = env.dir.path().join("catalog-v001.xml");
    let base = "https://mirror.example.org";
    let r = env.run(&["export", "catalog-xml", "--spec", &spec, "--base-url", base, "--out", out.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(0), "{}", String::from_utf8_lossy(&r.stderr));
    let xml = std::fs::read_to_string(&out).unwrap();
    assert!(
        xml.contains(&format!("name=\"http://x.org/o\" uri=\"{base}/ontologies/d/latest/original/d.owl\"")),
        "{xml}"
    );
    assert!(
        xml.contains(&format!(
            "name=\"http://x.org/o/2026-01-01/o.owl\" uri=\"{base}/ontologies/d/{version}/original/d.owl\""
        )),
        "{xml}"
    );
}

/// Issue 21: a source that publishes no licence but whose file states one in its header
/// (`dcterms:license`) gets that licence, and `accept_licenses` judges it: refused, the
/// download leaves nothing behind.
#[test]
fn a_licence_stated_in_the_header_is_recorded_and_filtered() {
    let env = Env::new();
    let with_license = |license: &str, filler: &str| {
        format!(
            "<?xml version=\"1.0\"?>\n<rdf:RDF xmlns:owl=\"http://www.w3.org/2002/07/owl#\" xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns:dcterms=\"http://purl.org/dc/terms/\">\n<owl:Ontology rdf:about=\"http://x.org/{filler}\"><dcterms:license rdf:resource=\"{license}\"/></owl:Ontology>\n</rdf:RDF>\n"
        )
    };
    env.server.route(
        "/cc0.owl",
        vec![Reply::ok(with_license("http://creativecommons.org/publicdomain/zero/1.0/", "a"), OWL)],
    );
    env.server
        .route("/nc.owl", vec![Reply::ok(with_license("http://creativecommons.org/licenses/by-nc/4.0/", "b"), OWL)]);
    let spec = env.spec(&format!(
        "defaults:\n  accept_licenses: [CC-BY-4.0, CC0-1.0]\nontologies:\n  - id: open\n    resolver: direct\n    extras: {{url: \"{}\"}}\n  - id: closed\n    resolver: direct\n    extras: {{url: \"{}\"}}\n",
        env.server.url("/cc0.owl"),
        env.server.url("/nc.owl")
    ));
    let (code, results) = env.json(&["pull", "--json", "--no-lock", "--spec", &spec]);
    assert_eq!(code, 3, "closed is refused: {results}");
    let manifest = env.manifest("open");
    assert_eq!(manifest["license"], "CC0-1.0", "{manifest}");
    let notes = manifest["notes"].to_string();
    assert!(notes.contains("from the file's own header") && !notes.contains("licence unknown"), "{notes}");
    let closed = by_id(&results, "closed");
    assert_eq!(closed["error"]["code"], "E_LICENSE", "{closed}");
    assert!(closed["error"]["message"].as_str().unwrap().contains("by-nc/4.0"), "{closed}");
    assert!(!env.root().join("ontologies/closed").exists() || env.version_dirs("closed").is_empty());
    assert!(env.staging_is_empty());
}
