//! Validation where people look: `validate --file`, the pull's report, and big files under
//! a small memory cap (the real binary and its isolated worker).

use ontofetch_testsupport::{Reply, TestServer};
use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::Command;

fn ontofetch(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ontofetch"))
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env("PYSTOW_HOME", dir.join("home"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let v = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), v, format!("{stdout}{}", String::from_utf8_lossy(&out.stderr)))
}

fn spec(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn validate_file_reports_like_a_pull_and_exits_by_verdict() {
    let d = tempfile::tempdir().unwrap();
    let ttl = d.path().join("g.ttl");
    std::fs::write(&ttl, "@prefix : <http://x.org/> .\n:a :p :b .\n:b :p :c .\n").unwrap();
    let (code, r, out) = ontofetch(d.path(), &["validate", "--file", ttl.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        (r["validator"].as_str(), r["status"].as_str(), r["statements"].as_u64()),
        (Some("rdf"), Some("ok"), Some(2))
    );
    assert_eq!(r["normalization"], "sorted-ntriples");
    assert_eq!(r["normalized_sha256"].as_str().unwrap().len(), 64);
    assert!(r["outputs"][0]["path"].as_str().unwrap().starts_with("(not kept)"), "{r}");
    // --output-dir keeps the normalised files
    let keep = d.path().join("out");
    let (code, r, out) = ontofetch(
        d.path(),
        &["validate", "--file", ttl.to_str().unwrap(), "--output-dir", keep.to_str().unwrap(), "--json"],
    );
    assert_eq!(code, 0, "{out}");
    let nt = std::fs::read_to_string(keep.join("g.nt")).unwrap();
    assert_eq!(nt.lines().count(), 2);
    assert!(keep.join("g.ttl").is_file(), "normalize_to: [ttl] by default");
    assert_eq!(r["outputs"].as_array().unwrap().len(), 2);
    // the text report says the same
    let (code, _, text) = ontofetch(d.path(), &["validate", "--file", ttl.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(text.contains("rdf ok") && text.contains("statements 2") && text.contains("canonical sha256"), "{text}");
    // a broken file fails with its line, exit 1
    let bad = d.path().join("bad.ttl");
    std::fs::write(&bad, "@prefix : <http://x.org/> .\n:a :p :b .\n:b :p \"open .\n").unwrap();
    let (code, r, _) = ontofetch(d.path(), &["validate", "--file", bad.to_str().unwrap(), "--json"]);
    assert_eq!(code, 1);
    assert_eq!(r["status"], "failed");
    assert!(r["message"].as_str().unwrap().contains("line 3"), "{r}");
    // OBO: validated, then translated to OWL in the worker's second pass
    let obo = d.path().join("x.obo");
    std::fs::write(&obo, "format-version: 1.2\nontology: x\n\n[Term]\nid: X:1\nname: one\n\n[Term]\nid: X:2\nname: two\nis_a: X:1\nis_obsolete: true\n").unwrap();
    let (code, r, out) = ontofetch(d.path(), &["validate", "--file", obo.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!((r["validator"].as_str(), r["terms"].as_u64(), r["obsolete"].as_u64()), (Some("obo"), Some(2), Some(1)));
    assert_eq!(r["normalization"], "obo-owl", "{r}");
    // a syntax error deep in OBO: the one job that translates fails, the validation then
    // runs on its own and its verdict, with the line, is the one reported
    let broken = d.path().join("broken.obo");
    std::fs::write(&broken, "format-version: 1.2\nontology: x\n\n[Term]\nid: X:1\nname: one\n\n[Term]\nid X:2 oops\n")
        .unwrap();
    let (code, r, out) = ontofetch(d.path(), &["validate", "--file", broken.to_str().unwrap(), "--json"]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(r["status"], "failed", "{r}");
    assert!(r["message"].as_str().unwrap_or_default().contains("OBO 1.4 parse error at line 9"), "{r}");
    // bad input
    let (code, _, out) = ontofetch(d.path(), &["validate", "--file", "/nonexistent/x.owl"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("E_USAGE") && out.contains("/nonexistent/x.owl"), "{out}");
}

/// Files bigger than the worker's address-space cap validate: memory is bounded by windows,
/// batches and sort buffers, not by the file.
#[test]
fn files_larger_than_the_memory_cap_validate_and_normalise() {
    let d = tempfile::tempdir().unwrap();
    const MB: u64 = 1 << 20;
    let ttl_path = d.path().join("big.ttl");
    let mut ttl = std::io::BufWriter::new(std::fs::File::create(&ttl_path).unwrap());
    writeln!(
        ttl,
        "@prefix obo: <http://purl.obolibrary.org/obo/> .\n@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> ."
    )
    .unwrap();
    let mut triples = 0u64;
    let mut i = 0u64;
    while ttl.get_ref().metadata().unwrap().len() < 140 * MB {
        for _ in 0..1000 {
            writeln!(ttl, "obo:X_{i:08} rdfs:label \"a term with a label of some length {i}\" ;\n    rdfs:subClassOf obo:X_{:08} .", i / 2).unwrap();
            triples += 2;
            i += 1;
        }
        ttl.flush().unwrap();
    }
    drop(ttl);
    let obo_path = d.path().join("big.obo");
    let mut obo = std::io::BufWriter::new(std::fs::File::create(&obo_path).unwrap());
    writeln!(obo, "format-version: 1.2\nontology: big").unwrap();
    let mut terms = 0u64;
    while obo.get_ref().metadata().unwrap().len() < 140 * MB {
        for _ in 0..1000 {
            writeln!(obo, "\n[Term]\nid: BIG:{terms:08}\nname: term {terms}\ndef: \"A definition of term {terms}.\" [PMID:1]\nis_a: BIG:{:08}", terms / 2).unwrap();
            terms += 1;
        }
        obo.flush().unwrap();
    }
    drop(obo);
    // Canonical N-Triples (the external sort) but no Turtle rendering: the sort is what
    // memory could grow with.
    let capped = spec(
        d.path(),
        "capped.yaml",
        "defaults:\n  normalize_to: []\n  validation:\n    max_memory_mb: 128\n    parser_timeout_sec: 600\nontologies: []\n",
    );
    let (code, r, out) =
        ontofetch(d.path(), &["validate", "--spec", &capped, "--file", ttl_path.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(r["statements"].as_u64(), Some(triples), "{r}");
    // More distinct subjects than are counted exactly: a bounded estimate, marked as one.
    let estimate = r["terms"].as_u64().unwrap() as f64;
    assert!(r["terms_estimated"] == true && (estimate - i as f64).abs() / (i as f64) < 0.03, "{i} subjects: {r}");
    assert_eq!(r["normalization"], "sorted-ntriples", "canonicalised under the cap too: {r}");
    let (code, r, out) =
        ontofetch(d.path(), &["validate", "--spec", &capped, "--file", obo_path.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!((r["validator"].as_str(), r["terms"].as_u64()), (Some("obo"), Some(terms)), "{r}");
    // The cap is real: far below what the worker needs, it dies and says so.
    let tiny = spec(d.path(), "tiny.yaml", "defaults:\n  validation:\n    max_memory_mb: 64\nontologies: []\n");
    let (code, r, _) =
        ontofetch(d.path(), &["validate", "--spec", &tiny, "--file", ttl_path.to_str().unwrap(), "--json"]);
    assert_eq!(code, 1);
    assert!(r["message"].as_str().unwrap().contains("max_memory_mb = 64"), "{r}");
    assert_eq!(r["validator"], "rdf", "the failure is labelled with the file's validator");
}

/// The pull's JSON and table carry each ontology's validation; the manifest records how
/// the canonical hash was made.
#[test]
fn a_pull_reports_validation_and_the_obo_translation() {
    let d = tempfile::tempdir().unwrap();
    let server = TestServer::start();
    let obo = "format-version: 1.2\ndata-version: x/releases/2026-01-01\nontology: x\n\n[Term]\nid: X:1\nname: one\n\n[Term]\nid: X:2\nname: two\nis_a: X:1\n";
    server.route("/x.obo", vec![Reply::ok(obo, "text/plain")]);
    server.route("/broken.ttl", vec![Reply::ok("@prefix : <http://x.org/> .\n:a :b", "text/turtle")]);
    let s = spec(
        d.path(),
        "sources.yaml",
        &format!(
            "ontologies:\n  - id: x\n    resolver: direct\n    extras: {{url: \"{}\"}}\n  - id: broken\n    resolver: direct\n    extras: {{url: \"{}\"}}\n",
            server.url("/x.obo"),
            server.url("/broken.ttl")
        ),
    );
    let allow = server.allow_entry();
    let (code, results, out) =
        ontofetch(d.path(), &["pull", "--spec", &s, "--allowed-hosts", &allow, "--no-lock", "--json"]);
    assert_eq!(code, 1, "broken failed validation: {out}");
    let by = |id: &str| results.as_array().unwrap().iter().find(|r| r["id"] == id).unwrap().clone();
    let x = by("x");
    assert_eq!(x["validation"]["status"], "ok", "{x}");
    assert_eq!(x["validation"]["validators"][0]["key"], "obo");
    assert_eq!(x["validation"]["validators"][0]["terms"], 2);
    assert_eq!(x["validation"]["validators"][0]["normalization"], "obo-owl");
    let broken = by("broken");
    assert_eq!(broken["status"], "failed", "lenient mode stores it, counted as failing…");
    assert_eq!(broken["error"]["code"], "E_VALIDATION");
    assert_eq!(broken["validation"]["status"], "failed", "…and says it failed: {broken}");
    let version = x["version"].as_str().unwrap();
    let vdir = d.path().join("home/ontology-fetcher/ontologies/x").join(version);
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(vdir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["normalization"]["mode"], "obo-owl");
    let ttl = std::fs::read_to_string(vdir.join("normalized/x.ttl")).unwrap();
    assert!(ttl.contains("obo:X_1 a owl:Class"), "{ttl}");
    assert_eq!(manifest["validation"]["obo"]["output_files"][0], "normalized/x.ttl");
    // the table shows the same (a fresh root, so the versions are new again)
    let other = d.path().join("other-root");
    let (code, _, table) = ontofetch(
        d.path(),
        &["pull", "--spec", &s, "--allowed-hosts", &allow, "--no-lock", "--data-root", other.to_str().unwrap()],
    );
    assert_eq!(code, 1, "broken failed");
    assert!(table.contains("validation: ok (obo: 2 statements, 2 terms)"), "{table}");
    assert!(table.contains("validation: failed (rdf:"), "{table}");
    // `show` answers where the file is, whether it validated and what was noted
    let (code, _, shown) = ontofetch(d.path(), &["show", "x", "--spec", &s, "--allowed-hosts", &allow]);
    assert_eq!(code, 0, "{shown}");
    let original = vdir.join("original/x.obo");
    assert!(shown.contains(&format!("file:       {}", original.display())), "{shown}");
    assert!(shown.contains("validation: obo: ok, 2 statements, 2 terms"), "{shown}");
    assert!(shown.contains("outputs:    normalized/x.ttl"), "{shown}");
    assert!(shown.contains("canonical:") && shown.contains("(obo-owl)"), "{shown}");
    // no accept_licenses of the user's: no policy, so no "licence unknown" warning either
    assert!(!shown.contains("licence unknown"), "{shown}");
    let (_, _, broken) = ontofetch(d.path(), &["show", "broken", "--spec", &s, "--allowed-hosts", &allow]);
    assert!(
        broken.contains("validation: rdf: failed") && broken.contains("line"),
        "the parser's message with its line: {broken}"
    );
}

/// Triples RDF/XML cannot express (a literal with a control character or U+FFFF, a
/// predicate without a local name, `rdf:li`) never make a malformed RDF/XML rendering: that
/// rendering is skipped with a note, and the canonical hash and the Turtle stand, with and
/// without blank nodes (the sorted path and RDFC-1.0).
#[test]
fn triples_rdfxml_cannot_express_skip_that_rendering_not_the_hash() {
    let d = tempfile::tempdir().unwrap();
    let server = TestServer::start();
    let ground = "<http://x.org/s> <http://x.org/p> \"bell \\u0007 and \\uFFFF\" .\n\
                  <http://x.org/s> <http://x.org/> \"no local name\" .\n\
                  <http://x.org/s> <http://www.w3.org/1999/02/22-rdf-syntax-ns#li> \"li\" .\n\
                  <http://x.org/s> <http://www.w3.org/2000/01/rdf-schema#label> \"fine\" .\n";
    let blank =
        format!("{ground}_:b <http://x.org/p> \"in a blank node\" .\n<http://x.org/s> <http://x.org/q> _:b .\n");
    server.route("/g.nt", vec![Reply::ok(ground, "application/n-triples")]);
    server.route("/b.nt", vec![Reply::ok(blank, "application/n-triples")]);
    let spec = spec(
        d.path(),
        "sources.yaml",
        &format!(
            "defaults:\n  normalize_to: [ttl, owl]\n  accept_licenses: []\nontologies:\n  - id: g\n    resolver: direct\n    extras: {{url: \"{}\"}}\n  - id: b\n    resolver: direct\n    extras: {{url: \"{}\"}}\n",
            server.url("/g.nt"),
            server.url("/b.nt")
        ),
    );
    let (code, r, out) = ontofetch(
        d.path(),
        &["pull", "--json", "--no-lock", "--spec", &spec, "--allowed-hosts", &server.allow_entry()],
    );
    assert_eq!(code, 0, "{out}");
    for id in ["g", "b"] {
        let latest = d.path().join(format!("home/ontology-fetcher/ontologies/{id}/latest"));
        let manifest: Value =
            serde_json::from_str(&std::fs::read_to_string(latest.join("manifest.json")).unwrap()).unwrap();
        assert!(
            manifest["normalized_sha256"].as_str().is_some_and(|h| h.len() == 64),
            "{id}: {}",
            manifest["normalization"]
        );
        assert!(latest.join(format!("normalized/{id}.ttl")).is_file(), "{id}: the Turtle stands");
        assert!(!latest.join(format!("normalized/{id}.owl")).exists(), "{id}: a malformed RDF/XML was kept");
        assert!(manifest["notes"].to_string().contains("RDF/XML rendering skipped"), "{id}: {}", manifest["notes"]);
    }
    assert!(r.as_array().unwrap().iter().all(|x| x["status"] == "fresh"), "{r}");
}
