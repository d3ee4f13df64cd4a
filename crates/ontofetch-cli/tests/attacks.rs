//! Findings of an attacker's pass over the gates and the pull, each replayed against the
//! real binary and the loopback server: the hostile input is refused with its code, the
//! rest of the run is unaffected, and nothing is left behind.

use ontofetch_testsupport::cli::{Sandbox, by_id};
use ontofetch_testsupport::fixtures::{RDF_XML as OWL, owl};
use ontofetch_testsupport::{Fault, Reply};
use serde_json::Value;
use std::time::{Duration, Instant};

/// The shared harness; these tests add nothing of their own but the spec's path as text.
struct Env(Sandbox);

impl Env {
    fn new() -> Self {
        Env(Sandbox::new(crate::BIN))
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
fn an_unsolicited_304_fails_its_ontology_and_spares_the_rest() {
    let env = Env::new();
    env.server.route("/obo/bfo.owl", vec![Reply::status(304)]);
    env.server.route("/obo/ro.owl", vec![Reply::ok(owl(None, "ro"), OWL)]);
    let spec = env.spec("ontologies:\n  - id: bfo\n  - id: ro\n");
    let (code, results) = env.json(&["pull", "--json", "--spec", &spec, "--max-retries", "1"]);
    assert_eq!(code, 1, "a failure, not a crash (exit 101): {results}");
    let bfo = by_id(&results, "bfo");
    assert_eq!(bfo["error"]["code"], "E_HTTP_STATUS", "{bfo}");
    assert!(bfo["error"]["message"].as_str().unwrap().contains("304"));
    assert_eq!(by_id(&results, "ro")["status"], "fresh");
    assert!(env.staging_is_empty());
}

#[test]
fn a_symlinked_data_root_is_refused_however_it_is_written() {
    let env = Env::new();
    let real = env.dir.path().join("real");
    std::fs::create_dir_all(&real).unwrap();
    let link = env.dir.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    env.server.route("/obo/bfo.owl", vec![Reply::ok(owl(None, "bfo"), OWL)]);
    for written in [link.display().to_string(), format!("{}/", link.display()), format!("{}/.", link.display())] {
        let (code, v) = env.json(&["policy", "check-path", "x.owl", "--root", &written, "--json"]);
        assert_eq!((code, v["code"].as_str()), (3, Some("E_STORAGE_ROOT")), "{written}: {v}");
        let (code, v) = env.json(&["pull", "--json", "--no-lock", "--data-root", &written, "bfo"]);
        // A gate refused the command's own input: exit 3 (README, "Exit statuses").
        assert_eq!(code, 3, "{written}: {v}");
        assert_eq!(v["error"]["code"], "E_STORAGE_ROOT", "refused before anything is opened: {written}: {v}");
        let through: Vec<_> = std::fs::read_dir(&real).unwrap().collect();
        assert!(through.is_empty(), "{written}: nothing created through the link: {through:?}");
    }
}

#[test]
fn checksum_and_registry_requests_have_a_total_deadline() {
    let env = Env::new();
    let drip = Fault::Slow { chunk: 1, delay: Duration::from_millis(1000) };
    env.server.route("/files/x.owl", vec![Reply::ok(owl(None, "x"), OWL)]);
    env.server.route("/files/x.sha256", vec![Reply::ok(vec![b'a'; 64], "text/plain").fault(drip.clone())]);
    env.server.route("/ols/api/ontologies/y", vec![Reply::ok(vec![b' '; 64], "application/json").fault(drip)]);
    let spec = env.spec(&format!(
        "defaults:\n  http: {{timeout_sec: 3, download_timeout_sec: 5, max_retries: 1}}\n  resolver_fallback_enabled: false\nontologies:\n  - id: x\n    resolver: direct\n    extras: {{url: '{}', checksum_url: '{}'}}\n  - id: y\n    resolver: ols\n",
        env.server.url("/files/x.owl"),
        env.server.url("/files/x.sha256")
    ));
    let started = Instant::now();
    let (code, results) = env.json(&["pull", "--json", "--no-lock", "--spec", &spec]);
    assert_eq!(code, 1);
    assert_eq!(by_id(&results, "x")["error"]["code"], "E_TIMEOUT", "{results}");
    assert_eq!(by_id(&results, "y")["error"]["code"], "E_TIMEOUT", "{results}");
    assert!(started.elapsed() < Duration::from_secs(60), "held for {:?}", started.elapsed());
}

#[test]
fn a_registry_version_named_latest_never_squats_the_latest_pointer() {
    let env = Env::new();
    env.server.route("/files/v.owl", vec![Reply::ok(owl(None, "one"), OWL)]);
    let spec = env.spec(&format!(
        "ontologies:\n  - id: v\n    resolver: direct\n    extras: {{url: '{}', version: latest}}\n",
        env.server.url("/files/v.owl")
    ));
    let (code, first) = env.json(&["pull", "--json", "--no-lock", "--spec", &spec]);
    assert_eq!(code, 0, "{first}");
    assert_eq!(first[0]["version"], "latest-version");
    let latest = env.root().join("ontologies/v/latest");
    assert!(std::fs::symlink_metadata(&latest).unwrap().file_type().is_symlink());
    env.server.route("/files/v.owl", vec![Reply::ok(owl(None, "two"), OWL)]);
    let (code, second) = env.json(&["pull", "--json", "--no-lock", "--force", "--spec", &spec]);
    assert_eq!(code, 0, "{second}");
    assert_eq!(std::fs::read_link(&latest).unwrap().to_str(), second[0]["version"].as_str());
    let leftovers: Vec<String> = std::fs::read_dir(env.root().join("ontologies/v"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "no .latest.*.tmp left: {leftovers:?}");
}

#[test]
fn names_that_could_not_be_stored_fail_before_a_byte_is_fetched_and_long_ones_fit() {
    let env = Env::new();
    env.server.route("/files/con.ttl", vec![Reply::ok("@prefix x: <http://x.org/> .", "text/turtle")]);
    let long = format!("/files/{}.owl", "a".repeat(249));
    env.server.route(&long, vec![Reply::ok(owl(None, "long"), OWL)]);
    let spec = env.spec(&format!(
        "defaults:\n  resolver_fallback_enabled: false\nontologies:\n  - id: con\n    resolver: direct\n    extras: {{url: '{}'}}\n  - id: long\n    resolver: direct\n    extras: {{url: '{}'}}\n",
        env.server.url("/files/con.ttl"),
        env.server.url(&long)
    ));
    let (_, results) = env.json(&["pull", "--json", "--no-lock", "--spec", &spec]);
    assert_eq!(by_id(&results, "con")["error"]["code"], "E_RESERVED_NAME", "{results}");
    assert_eq!(env.server.hits("/files/con.ttl"), 0, "refused before downloading");
    let long = by_id(&results, "long");
    assert_eq!(long["status"], "fresh", "a 253-byte URL segment still fits its .part name: {long}");
    assert!(env.staging_is_empty());
}

#[test]
fn allowlist_entries_are_read_as_urls_read_hosts() {
    let env = Env::new();
    env.server.route("/obo/bfo.owl", vec![Reply::ok(owl(None, "bfo"), OWL)]);
    let port = env.server.allow_entry().rsplit(':').next().unwrap().to_string();
    let spec =
        env.spec(&format!("defaults:\n  http:\n    allowed_hosts: ['0x7f.1:{port}']\nontologies:\n  - id: bfo\n"));
    let out = env.bare_command(&["pull", "--json", "--no-lock", "--spec", &spec]).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["status"], "fresh", "0x7f.1 is 127.0.0.1: {v}");
}

/// RDF/XML built to hit quick-xml's quadratic attribute check (RUSTSEC-2026-0194): refused
/// by the guard in front of the parser, with a message that says so, in bounded time.
#[test]
fn hostile_xml_fails_bounded() {
    let env = Env::new();
    let attrs: String = (0..200_000).map(|i| format!(" a{i}=\"x\"")).collect();
    let hostile = format!(
        "<?xml version=\"1.0\"?>\n<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description{attrs}/></rdf:RDF>"
    );
    env.server.route("/obo/bfo.owl", vec![Reply::ok(hostile, OWL)]);
    let spec = env.spec(
        "defaults:\n  continue_on_error: false\n  validation: {parser_timeout_sec: 60}\nontologies:\n  - id: bfo\n",
    );
    let started = Instant::now();
    let (code, results) = env.json(&["pull", "--json", "--no-lock", "--spec", &spec]);
    assert_eq!(code, 1, "{results}");
    let error = &results[0]["error"];
    assert_eq!(error["code"], "E_VALIDATION", "{results}");
    assert!(error["message"].as_str().unwrap().contains("hostile XML"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(60), "bounded: {:?}", started.elapsed());
    assert!(env.staging_is_empty());
}

/// OWL nested 200,000 levels deep (functional syntax and OWL/XML), which overflowed a
/// parser's stack and aborted the validator: refused by the nesting guard before any parser
/// runs, with a message that says so, and nothing stored.
#[test]
fn deeply_nested_owl_is_refused_before_parsing() {
    let env = Env::new();
    let levels = 200_000;
    let ofn = format!(
        "Prefix(:=<http://e.org/>)\nOntology(<http://e.org/o>\nSubClassOf(:A {}:C{})\n)\n",
        "ObjectIntersectionOf(:B ".repeat(levels),
        ")".repeat(levels)
    );
    let owx = format!(
        "<?xml version=\"1.0\"?>\n<Ontology xmlns=\"http://www.w3.org/2002/07/owl#\" ontologyIRI=\"http://e.org/o\">\
         <SubClassOf><Class IRI=\"http://e.org/A\"/>{}<Class IRI=\"http://e.org/C\"/>{}</SubClassOf></Ontology>",
        "<ObjectIntersectionOf><Class IRI=\"http://e.org/B\"/>".repeat(levels),
        "</ObjectIntersectionOf>".repeat(levels)
    );
    env.server.route("/obo/bfo.owl", vec![Reply::ok(ofn, OWL)]);
    env.server.route("/obo/ro.owl", vec![Reply::ok(owx, OWL)]);
    let spec = env.spec("defaults:\n  continue_on_error: false\nontologies:\n  - id: bfo\n  - id: ro\n");
    let (code, results) = env.json(&["pull", "--json", "--no-lock", "--spec", &spec]);
    assert_eq!(code, 1, "{results}");
    for id in ["bfo", "ro"] {
        let error = &by_id(&results, id)["error"];
        assert_eq!(error["code"], "E_VALIDATION", "{id}: {results}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains("levels deep") && !message.contains("aborted"), "{id}: {error}");
    }
    assert!(env.staging_is_empty());
}
