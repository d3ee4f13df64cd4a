//! One truth across catalog, store, manifests and lockfiles: each seam that once broke,
//! driven through the binary, and `doctor --verify` finding what breaks it
//! (docs/architecture.md, "Invariants").

use ontofetch_testsupport::Reply;
use ontofetch_testsupport::cli::Sandbox;
use ontofetch_testsupport::fixtures::{RDF_XML as OWL, owl};
use serde_json::Value;
use std::path::Path;

fn sandbox() -> Sandbox {
    Sandbox::new(env!("CARGO_BIN_EXE_ontofetch"))
}

/// A spec of one `direct` ontology `x` served at `/x.owl`.
fn one(s: &Sandbox) -> String {
    s.spec(&format!(
        "defaults:\n  continue_on_error: true\n  resolver_fallback_enabled: false\n  http:\n    max_retries: 1\nontologies:\n  - id: x\n    resolver: direct\n    extras:\n      url: {}\n",
        s.server.url("/x.owl")
    ))
    .display()
    .to_string()
}

fn release(version: &str, label: &str) -> Vec<u8> {
    owl(Some(&format!("http://x.org/x/releases/{version}/x.owl")), label)
}

fn broken(version: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\"?>\n<rdf:RDF xmlns:owl=\"http://www.w3.org/2002/07/owl#\" xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n<owl:Ontology rdf:about=\"http://x.org/o\"><owl:versionIRI rdf:resource=\"http://x.org/x/releases/{version}/x.owl\"/></owl:Ontology>\n<owl:Class>\n</rdf:RDF>\n"
    )
    .into_bytes()
}

fn serve(s: &Sandbox, body: Vec<u8>, etag: &str) {
    s.server.route("/x.owl", vec![Reply::ok(body, OWL).header("ETag", etag)]);
}

fn sha(path: &Path) -> String {
    ontofetch_fsutil::sha256_file(path).unwrap()
}

fn files(v: &Value) -> Vec<Value> {
    v["files"].as_array().cloned().unwrap_or_default()
}

/// Item 1: a re-validation rewrites the manifest and the catalog together, and keeps the
/// term facts among its outputs.
#[test]
fn validate_keeps_the_catalog_and_the_manifest_in_step() {
    let s = sandbox();
    let spec = one(&s);
    serve(&s, release("2025-01-01", "first"), "\"1\"");
    assert_eq!(s.run(&["pull", "--spec", &spec, "--json"]).code, 0);
    let r = s.run(&["validate", "x", "--spec", &spec, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr());
    let vdir = s.root().join("ontologies/x/2025-01-01");
    let manifest_text = std::fs::read_to_string(vdir.join("manifest.json")).unwrap();
    let listed = s.run(&["db", "files", "x", "--spec", &spec, "--json"]);
    let row = files(&listed.json).into_iter().find(|f| f["kind"] == "manifest").expect("manifest row");
    assert_eq!(row["sha256"], sha(&vdir.join("manifest.json")), "the manifest row follows the rewrite");
    assert_eq!(row["bytes"], manifest_text.len() as u64);
    let manifest: Value = serde_json::from_str(&manifest_text).unwrap();
    let outputs = manifest["validation"]["rdf"]["output_files"].as_array().unwrap();
    assert!(outputs.iter().any(|o| o.as_str().unwrap().ends_with(".terms.tsv")), "terms kept: {outputs:?}");
    for f in files(&listed.json) {
        let on_disk = s.root().join(f["relpath"].as_str().unwrap());
        assert_eq!(sha(&on_disk), f["sha256"].as_str().unwrap(), "{}", f["relpath"]);
    }
    let doctor = s.run(&["doctor", "--verify", "--spec", &spec, "--json"]);
    assert_eq!(doctor.code, 0, "{}", doctor.json["problems"]);
    assert_eq!(doctor.json["store"]["integrity"]["verified"], true);
    assert!(doctor.json["store"]["integrity"]["bytes_hashed"].as_u64().unwrap() > 0);
}

/// Item 2: a typo or a failed run never replaces the lockfile; stored files are readable
/// as the umask allows.
#[test]
fn lockfiles_are_only_replaced_by_complete_ones_and_files_are_shared_readable() {
    let s = sandbox();
    let spec = one(&s);
    serve(&s, release("2025-01-01", "first"), "\"1\"");
    assert_eq!(s.run(&["pull", "--spec", &spec, "--json"]).code, 0);
    let lock = s.path("ontologies.lock.json");
    let before = std::fs::read(&lock).unwrap();
    // a typo of a command is a usage error, not a pull
    let typo = s.run(&["shw", "x", "--spec", &spec]);
    assert_eq!(typo.code, 2, "{}", typo.stderr());
    assert!(typo.stderr().contains("show"), "suggests the command: {}", typo.stderr());
    // the registry is down
    s.server.route("/x.owl", vec![Reply::status(503)]);
    let down = s.run(&["pull", "--spec", &spec, "--json", "--force"]);
    assert_eq!(down.code, 1);
    assert_eq!(std::fs::read(&lock).unwrap(), before, "the lockfile survived the outage");
    let want = ontofetch_fsutil::shared_file_mode();
    let vdir = s.root().join("ontologies/x/2025-01-01");
    for p in
        [lock.clone(), vdir.join("manifest.json"), vdir.join("validation/report.json"), vdir.join("original/x.owl")]
    {
        assert_eq!(Sandbox::mode(&p), want, "{}", p.display());
    }
}

/// Item 3: `pull --lock` checks the pin even when the server answers 304.
#[test]
fn a_pin_is_checked_even_when_the_server_says_not_modified() {
    let s = sandbox();
    let spec = one(&s);
    serve(&s, release("2025-01-01", "first"), "\"1\"");
    assert_eq!(s.run(&["pull", "--spec", &spec, "--json"]).code, 0);
    let lock = s.path("ontologies.lock.json");
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&lock).unwrap()).unwrap();
    doc["entries"][0]["expected_checksum"]["value"] = Value::from("ab".repeat(32));
    std::fs::write(&lock, doc.to_string()).unwrap();
    let r = s.run(&["pull", "--lock", lock.to_str().unwrap(), "--spec", &spec, "--json"]);
    assert_ne!(r.code, 0, "a pin the stored bytes do not match is not 'cached': {}", r.stdout());
    assert_eq!(r.json[0]["error"]["code"], "E_CHECKSUM", "{}", r.json);
    // a conditional request was not trusted: the body was asked for again
    let last = s.server.seen().into_iter().rev().find(|q| q.path == "/x.owl").unwrap();
    assert!(!last.headers.contains_key("if-none-match"), "{:?}", last.headers);
}

/// Item 4: a release that fails validation is recorded, counted as failing, and never
/// becomes latest unless asked.
#[test]
fn a_release_that_fails_validation_never_becomes_latest() {
    let s = sandbox();
    let spec = one(&s);
    serve(&s, release("2025-01-01", "good"), "\"1\"");
    assert_eq!(s.run(&["pull", "--spec", &spec, "--json"]).code, 0);
    serve(&s, broken("2025-02-01"), "\"2\"");
    let r = s.run(&["pull", "--spec", &spec, "--json"]);
    assert_eq!(r.code, 1, "{}", r.stdout());
    assert_eq!(r.json[0]["status"], "failed");
    assert_eq!(r.json[0]["error"]["code"], "E_VALIDATION");
    assert_eq!(r.json[0]["version"], "2025-02-01", "the failed release is recorded for inspection");
    assert_eq!(r.json[0]["exit_code"], 1);
    let latest = s.run(&["db", "latest", "x", "--spec", &spec, "--json"]);
    assert_eq!(latest.json["latest"][0]["version"], "2025-01-01");
    assert_eq!(std::fs::read_link(s.root().join("ontologies/x/latest")).unwrap(), Path::new("2025-01-01"));
    let versions = s.run(&["db", "versions", "x", "--spec", &spec, "--json"]);
    let bad = versions.json["versions"].as_array().unwrap().iter().find(|v| v["version"] == "2025-02-01").unwrap();
    assert_eq!(bad["verdict"], "invalid");
    assert!(s.root().join("ontologies/x/2025-02-01/validation/report.json").is_file(), "its report is kept");
    // pulled again: still failing (upstream still serves it), still not latest
    let again = s.run(&["pull", "--spec", &spec, "--json"]);
    assert_eq!((again.code, again.json[0]["error"]["code"].as_str()), (1, Some("E_VALIDATION")));
    assert_eq!(s.run(&["doctor", "--verify", "--spec", &spec, "--json"]).code, 0);
    // what serve hands out as latest, and counts as failing
    let port = ontofetch_testsupport::local::free_port();
    let _serve = ontofetch_testsupport::local::ChildGuard(
        s.command(&["serve", "--spec", &spec, "--port", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let get = |path: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if let Some(r) = ontofetch_testsupport::local::http_get(port, path, &[]) {
                return r;
            }
            assert!(std::time::Instant::now() < deadline, "serve did not answer");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    let list: Value = serde_json::from_str(&get("/api/v1/ontologies").1).unwrap();
    let x = list.as_array().unwrap().iter().find(|o| o["id"] == "x").unwrap();
    assert_eq!(
        (x["version"].as_str(), x["last_error_code"].as_str()),
        (Some("2025-01-01"), Some("E_VALIDATION")),
        "{x}"
    );
    let (_, body) = get("/ontologies/x/latest/original/x.owl");
    assert_eq!(body.as_bytes(), release("2025-01-01", "good").as_slice(), "latest is the last good release");
    let one: Value = serde_json::from_str(&get("/api/v1/ontologies/x").1).unwrap();
    assert_eq!(one["latest"], "2025-01-01", "{}", one["latest"]);
    // opting in promotes the next broken release
    serve(&s, broken("2025-03-01"), "\"3\"");
    let promoted = s.run(&["pull", "--spec", &spec, "--json", "--promote-invalid"]);
    assert_eq!(promoted.code, 0, "{}", promoted.stdout());
    let latest = s.run(&["db", "latest", "x", "--spec", &spec, "--json"]);
    assert_eq!(latest.json["latest"][0]["version"], "2025-03-01");
    assert_eq!(latest.json["latest"][0]["verdict"], "invalid-promoted");
}

/// Item 6: nothing under a stored version points into staging.
#[test]
fn manifests_point_at_stored_files_not_at_staging() {
    let s = sandbox();
    let spec = one(&s);
    serve(&s, release("2025-01-01", "first"), "\"1\"");
    assert_eq!(s.run(&["pull", "--spec", &spec, "--json"]).code, 0);
    let vdir = s.root().join("ontologies/x/2025-01-01");
    let text = std::fs::read_to_string(vdir.join("manifest.json")).unwrap();
    assert!(!text.contains("/.staging/"), "{text}");
    let manifest: Value = serde_json::from_str(&text).unwrap();
    let details = &manifest["validation"]["rdf"]["details"];
    for o in details["outputs"].as_array().unwrap() {
        assert!(Path::new(o["path"].as_str().unwrap()).is_file(), "{o}");
    }
    assert!(Path::new(details["normalized_path"].as_str().unwrap()).is_file(), "{details}");
    let report = std::fs::read_to_string(vdir.join("validation/report.json")).unwrap();
    assert!(!report.contains("/.staging/"), "{report}");
}

/// Item 8: a gate refusal exits 3, during a pull (per ontology in --json too) and in the spec.
#[test]
fn gate_refusals_exit_3() {
    let s = sandbox();
    let spec = one(&s);
    s.server.route("/x.owl", vec![Reply::redirect(302, "http://169.254.169.254/latest/meta-data/")]);
    let r = s.run(&["pull", "--spec", &spec, "--json"]);
    assert_eq!(r.code, 3, "{}", r.stderr());
    assert_eq!(r.json[0]["error"]["code"], "E_PRIVATE_IP");
    assert_eq!(r.json[0]["exit_code"], 3);
    let bad =
        s.spec("ontologies:\n  - id: y\n    resolver: direct\n    extras:\n      url: http://169.254.169.254/x.owl\n");
    let r = s.run(&["pull", "--spec", bad.to_str().unwrap(), "--json"]);
    assert_eq!(r.code, 3, "{}", r.stderr());
    assert_eq!(r.json["error"]["code"], "E_PRIVATE_IP", "{}", r.json);
}

/// Item 9: doctor says which fix applies, and --fix leaves no empty ontology directory.
#[test]
fn doctor_names_the_fix_and_leaves_no_empty_directories() {
    let s = sandbox();
    let spec = one(&s);
    serve(&s, broken("2025-02-01"), "\"2\"");
    assert_eq!(s.run(&["pull", "--spec", &spec, "--json"]).code, 1);
    let purged = s.run(&["validate", "x", "2025-02-01", "--strict", "--spec", &spec, "--json"]);
    assert_eq!(purged.json["purged"], true, "{}", purged.stdout());
    std::fs::create_dir_all(s.root().join("ontologies/orphan/v1/original")).unwrap();
    std::fs::write(s.root().join("ontologies/orphan/v1/original/o.owl"), b"x").unwrap();
    let report = s.run(&["doctor", "--spec", &spec, "--json"]);
    assert_eq!(report.code, 1);
    let problems = report.json["problems"].to_string();
    assert!(problems.contains("doctor --fix"), "{problems}");
    let fixed = s.run(&["doctor", "--fix", "--spec", &spec, "--json"]);
    assert_eq!(fixed.code, 0, "{}", fixed.json["problems"]);
    let left: Vec<String> = std::fs::read_dir(s.root().join("ontologies"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.is_empty(), "empty ontology directories removed: {left:?}");
}

/// `doctor --verify` finds bytes that changed under the same size, a planted file and a
/// stale latest pointer; `--fix` repairs what the store can repair and names the rest.
#[test]
fn doctor_verify_finds_drift_that_sizes_do_not_show() {
    let s = sandbox();
    let spec = one(&s);
    serve(&s, release("2025-01-01", "first"), "\"1\"");
    assert_eq!(s.run(&["pull", "--spec", &spec, "--json"]).code, 0);
    let vdir = s.root().join("ontologies/x/2025-01-01");
    let nt = vdir.join("normalized/x.nt");
    let mut bytes = std::fs::read(&nt).unwrap();
    bytes[0] ^= 0x20; // same size, other bytes
    std::fs::write(&nt, &bytes).unwrap();
    std::fs::write(vdir.join("original/planted.owl"), b"<x/>").unwrap();
    let cheap = s.run(&["doctor", "--spec", &spec, "--json"]);
    let codes = |v: &Value| -> Vec<String> {
        v["store"]["integrity"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["fixed"] == false)
            .map(|f| format!("{} {}", f["code"].as_str().unwrap(), f["key"].as_str().unwrap()))
            .collect()
    };
    assert_eq!(codes(&cheap.json), ["E_DB_ORPHAN ontologies/x/2025-01-01/original/planted.owl"], "sizes agree");
    let deep = s.run(&["doctor", "--verify", "--spec", &spec, "--json"]);
    assert_eq!(deep.code, 1);
    assert!(
        codes(&deep.json).contains(&"E_DRIFT ontologies/x/2025-01-01/normalized/x.nt".to_string()),
        "{:?}",
        codes(&deep.json)
    );
    let fixed = s.run(&["doctor", "--verify", "--fix", "--spec", &spec, "--json"]);
    assert!(!vdir.join("original/planted.owl").exists(), "the planted file is removed");
    let left = codes(&fixed.json);
    assert_eq!(
        left,
        ["E_DRIFT ontologies/x/2025-01-01/normalized/x.nt"],
        "a normalised file is not repaired from itself"
    );
    assert!(
        fixed.json["problems"].to_string().contains("ontofetch validate x 2025-01-01"),
        "{}",
        fixed.json["problems"]
    );
    // the named remedy works
    assert_eq!(s.run(&["validate", "x", "--spec", &spec, "--json"]).code, 0);
    assert_eq!(s.run(&["doctor", "--verify", "--spec", &spec, "--json"]).code, 0);
}

/// A version whose files were lost is never what prune keeps instead of an intact
/// one, a pull fetches it again instead of calling it cached, and doctor checks every file.
#[test]
fn lost_files_stop_prune_and_are_fetched_again() {
    let s = sandbox();
    let spec = one(&s);
    for (v, tag) in [("2025-01-01", "\"1\""), ("2025-02-01", "\"2\""), ("2025-03-01", "\"3\"")] {
        serve(&s, release(v, v), tag);
        assert_eq!(s.run(&["pull", "--spec", &spec, "--json"]).code, 0);
    }
    let newest = s.root().join("ontologies/x/2025-03-01");
    std::fs::remove_file(newest.join("original/x.owl")).unwrap();
    let prune = s.run(&["prune", "--keep", "1", "--spec", &spec, "--json"]);
    assert_ne!(prune.code, 0, "prune refuses while a recorded file is missing: {}", prune.stdout());
    assert!(prune.stderr().contains("2025-03-01"), "{}", prune.stderr());
    assert_eq!(s.run(&["db", "versions", "x", "--spec", &spec, "--json"]).json["count"], 3, "nothing deleted");
    // the server says "not modified", but the stored copy is gone: fetched again
    let pull = s.run(&["pull", "--spec", &spec, "--json"]);
    assert_eq!(pull.code, 0, "{}", pull.stdout());
    assert!(newest.join("original/x.owl").is_file(), "repaired");
    assert_eq!(s.run(&["doctor", "--verify", "--spec", &spec, "--json"]).code, 0);
    // a lost manifest or normalised file is reported too
    std::fs::remove_file(newest.join("manifest.json")).unwrap();
    std::fs::remove_file(newest.join("normalized/x.nt")).unwrap();
    let doctor = s.run(&["doctor", "--spec", &spec, "--json"]);
    assert_eq!(doctor.code, 1);
    let problems = doctor.json["problems"].to_string();
    assert!(problems.contains("manifest.json") && problems.contains("normalized/x.nt"), "{problems}");
}

/// The version comes from the parsed triples, whatever the syntax (N-Triples
/// writes `owl:versionIRI` as a full IRI the text sniffer never sees).
#[test]
fn an_ntriples_version_iri_names_the_version() {
    let s = sandbox();
    let spec = s.spec(&format!(
        "ontologies:\n  - id: nt\n    resolver: direct\n    extras:\n      url: {}\n",
        s.server.url("/nt.nt")
    ));
    let body = "<http://x.org/nt> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/2002/07/owl#Ontology> .\n\
                <http://x.org/nt> <http://www.w3.org/2002/07/owl#versionIRI> <http://x.org/nt/releases/2025-06-01/nt.nt> .\n";
    s.server.route("/nt.nt", vec![Reply::ok(body, "application/n-triples")]);
    let r = s.run(&["pull", "--spec", spec.to_str().unwrap(), "--json", "--no-lock"]);
    assert_eq!(r.code, 0, "{}", r.stdout());
    assert_eq!(r.json[0]["version"], "2025-06-01", "{}", r.json);
}
