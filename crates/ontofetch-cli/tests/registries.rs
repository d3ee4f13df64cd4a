//! Every resolver end to end against the registries' real response shapes
//! (`ontofetch_testsupport::registries`, each fixture citing its source), served by the
//! loopback server with the real status codes and auth rules: `plan`, `pull`, and
//! `pull --lock` replay.

use ontofetch_testsupport::Reply;
use ontofetch_testsupport::cli::{Sandbox, by_id};
use ontofetch_testsupport::fixtures::{RDF_XML as OWL, owl};
use ontofetch_testsupport::local::metric_value;
use ontofetch_testsupport::registries::{self, fill};
use serde_json::Value;
use std::process::Command;

const KEY: &str = "bp-key-7f3a";
const SUBMISSION: &str =
    "/bp/ontologies/NCIT/latest_submission?display=submissionId,version,released,hasLicense,hasOntologyLanguage";

/// The shared harness, with the BioPortal key set.
struct Env(Sandbox);

impl Env {
    fn new() -> Self {
        Env(Sandbox::new(crate::BIN).with_env("BIOPORTAL_API_KEY", KEY))
    }

    fn spec(&self, text: &str) -> String {
        self.0.spec(text).display().to_string()
    }

    fn json(&self, args: &[&str]) -> (i32, Value, String) {
        let out = self.command(args).output().unwrap();
        let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (out.status.code().unwrap(), v, String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

impl std::ops::Deref for Env {
    type Target = Sandbox;
    fn deref(&self) -> &Sandbox {
        &self.0
    }
}

#[test]
fn ols_licence_comes_from_v2_and_filters() {
    let env = Env::new();
    let file = env.server.url("/files/efo.owl");
    env.server.route(
        "/ols/api/ontologies/efo",
        vec![Reply::ok(fill(registries::OLS_V1, &[("file", &file)]), "application/json")],
    );
    env.server.route("/ols/api/v2/ontologies/efo", vec![Reply::ok(registries::OLS_V2, "application/json")]);
    env.server.route("/files/efo.owl", vec![Reply::ok(owl(None, "efo"), OWL)]);
    let spec = env.spec(
        "defaults:\n  accept_licenses: [Apache-2.0]\n  resolver_fallback_enabled: false\nontologies:\n  - id: efo\n    resolver: ols\n",
    );
    let (code, results, err) = env.json(&["pull", "--json", "--spec", &spec]);
    assert_eq!(code, 0, "{results} {err}");
    assert_eq!(by_id(&results, "efo")["version"], "v3.62.0");
    assert_eq!(env.manifest("efo")["license"], "Apache-2.0");
    // the filter now filters: a licence outside the list refuses the plan
    let strict = env.spec(
        "defaults:\n  accept_licenses: [CC0-1.0]\n  resolver_fallback_enabled: false\nontologies:\n  - id: efo\n    resolver: ols\n",
    );
    let (code, plans, _) = env.json(&["plan", "--json", "--no-lock", "--spec", &strict]);
    assert_eq!(code, 3, "a licence refusal exits 3, as pull's does");
    assert_eq!(by_id(&plans, "efo")["error"]["code"], "E_LICENSE", "{plans}");
}

#[test]
fn bioportal_asks_for_the_licence_authenticates_everywhere_and_replays_from_the_lockfile() {
    let env = Env::new();
    let auth = format!("apikey token={KEY}");
    env.server.route(
        SUBMISSION,
        vec![Reply::ok(registries::BIOPORTAL_SUBMISSION, "application/json").requires("Authorization", &auth)],
    );
    // the download streams (no redirect), named by Content-Disposition, and needs the key
    env.server.route(
        "/bp/ontologies/NCIT/download",
        vec![
            Reply::ok(owl(None, "ncit"), OWL)
                .header("Content-Disposition", "attachment; filename=\"Thesaurus.owl\"")
                .requires("Authorization", &auth),
        ],
    );
    let spec = env.spec("ontologies:\n  - id: ncit\n    resolver: bioportal\n    extras: {acronym: NCIT}\n");

    // plan probes the download with the key (no 401 recorded in the lockfile)
    let (code, plans, err) = env.json(&["plan", "--json", "--spec", &spec]);
    assert_eq!(code, 0, "{plans} {err}");
    let ncit = by_id(&plans, "ncit");
    assert_eq!(ncit["probe"]["method"], "HEAD", "{ncit}");
    assert_eq!((ncit["license"].as_str(), ncit["version"].as_str()), (Some("CC-BY-4.0"), Some("24.01d")));
    assert_eq!(ncit["credential"], "bioportal", "the binding, never the key");

    let (code, results, err) = env.json(&["pull", "--json", "--spec", &spec]);
    assert_eq!(code, 0, "{results} {err}");
    let stored = by_id(&results, "ncit")["path"].as_str().unwrap().to_string();
    assert!(stored.ends_with("/original/Thesaurus.owl"), "{stored}");
    let lock = std::fs::read_to_string(env.dir.path().join("ontologies.lock.json")).unwrap();
    assert!(!lock.contains(KEY), "{lock}");

    // replay: a direct fetch of the locked URL, authenticated again by its binding
    let before = env.server.hits("/bp/ontologies/NCIT/download");
    let (code, replay, err) = env.json(&["pull", "--json", "--force", "--lock", "ontologies.lock.json"]);
    assert_eq!(code, 0, "{replay} {err}");
    assert_eq!(by_id(&replay, "ncit")["status"], "cached", "same bytes: {replay}");
    assert_eq!(env.server.hits("/bp/ontologies/NCIT/download"), before + 1);
    let seen = env.server.seen();
    let last = seen.iter().rev().find(|s| s.path == "/bp/ontologies/NCIT/download").unwrap();
    assert_eq!(last.headers.get("authorization").map(String::as_str), Some(auth.as_str()));
    assert!(seen.iter().all(|s| !s.path.contains(KEY)), "never in a URL");

    // without the key the registry says 401, and the plan fails with it
    let out = Command::new(env!("CARGO_BIN_EXE_ontofetch"))
        .args(["plan", "--json", "--no-lock", "--spec", &spec, "--allowed-hosts", &env.server.allow_entry()])
        .current_dir(env.dir.path())
        .env("PYSTOW_HOME", env.dir.path().join("home"))
        .env("HOME", env.dir.path())
        .env("ONTOFETCH_BIOPORTAL_BASE_URL", env.server.url("/bp"))
        .env("BIOPORTAL_API_KEY", "wrong")
        .output()
        .unwrap();
    let plans: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(by_id(&plans, "ncit")["error"]["code"], "E_HTTP_STATUS", "{plans}");
}

#[test]
fn lov_is_asked_by_vocab_and_the_latest_issued_version_is_taken() {
    let env = Env::new();
    let (old, new) = (env.server.url("/files/foaf-2010.rdf"), env.server.url("/files/foaf-2014.rdf"));
    env.server.route(
        "/lov/api/v2/vocabulary/info?vocab=foaf",
        vec![Reply::ok(fill(registries::LOV_INFO, &[("old", &old), ("file", &new)]), "application/json")],
    );
    // anything but vocab= is a server error at LOV
    env.server.route("/lov/api/v2/vocabulary/info?uri=foaf", vec![Reply::status(500)]);
    env.server.route("/files/foaf-2010.rdf", vec![Reply::ok(owl(None, "foaf 2010"), OWL)]);
    env.server.route("/files/foaf-2014.rdf", vec![Reply::ok(owl(None, "foaf 2014"), OWL)]);
    let spec = env.spec(
        "defaults:\n  accept_licenses: [CC-BY-4.0]\n  resolver_fallback_enabled: false\nontologies:\n  - id: foaf\n    resolver: lov\n",
    );
    let metrics = env.dir.path().join("m.prom");
    let (code, results, err) =
        env.json(&["--metrics-textfile", metrics.to_str().unwrap(), "pull", "--json", "--spec", &spec]);
    assert_eq!(code, 0, "{results} {err}");
    let foaf = by_id(&results, "foaf");
    assert_eq!(foaf["version"], "v0.99");
    assert_eq!(env.server.hits("/files/foaf-2014.rdf"), 1);
    assert_eq!(env.server.hits("/files/foaf-2010.rdf"), 0, "not the oldest");
    // LOV publishes no licence: fetched, with a warning, a manifest note and a metric
    assert!(err.contains("licence unknown"), "{err}");
    assert!(env.manifest("foaf")["notes"].to_string().contains("licence unknown"), "{}", env.manifest("foaf"));
    let prom = std::fs::read_to_string(&metrics).unwrap();
    assert_eq!(metric_value(&prom, "ontofetch_license_unknown_total{ontology=\"foaf\"}"), Some(1.0), "{prom}");
    // …or refused, when the configuration says so
    let strict = env.spec(
        "defaults:\n  accept_licenses: [CC-BY-4.0]\n  reject_unknown_licenses: true\n  resolver_fallback_enabled: false\nontologies:\n  - id: foaf\n    resolver: lov\n",
    );
    let (code, plans, _) = env.json(&["plan", "--json", "--no-lock", "--spec", &strict]);
    assert_eq!(code, 3);
    assert_eq!(by_id(&plans, "foaf")["error"]["code"], "E_LICENSE");
}

#[test]
fn a_plan_whose_url_is_gone_fails_naming_every_resolver_tried() {
    let env = Env::new();
    // the default chain falls back from OBO to OLS; neither has gonevocab (an id the
    // registry snapshot does not know: `obo` still tries its PURL)
    env.server.route("/obo/gonevocab.owl", vec![Reply::status(404)]);
    env.server.route("/ols/api/ontologies/gonevocab", vec![Reply::status(404)]);
    env.server.route("/obo/bfo.owl", vec![Reply::ok(owl(None, "bfo"), OWL)]);
    let spec = env.spec("defaults:\n  prefer_source: [obo, ols]\nontologies:\n  - id: gonevocab\n  - id: bfo\n");
    let (code, plans, err) = env.json(&["plan", "--json", "--spec", &spec]);
    assert_eq!(code, 1, "{plans} {err}");
    let gonevocab = by_id(&plans, "gonevocab");
    let message = gonevocab["error"]["message"].as_str().unwrap();
    assert!(message.contains("obo:") && message.contains("404") && message.contains("ols:"), "{message}");
    assert_eq!(gonevocab["error"]["code"], "E_HTTP_STATUS", "{gonevocab}");
    let lock: Value =
        serde_json::from_str(&std::fs::read_to_string(env.dir.path().join("ontologies.lock.json")).unwrap()).unwrap();
    let locked: Vec<&str> = lock["entries"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(locked, ["bfo"], "a failed plan is never locked");
    // an inconclusive probe (HEAD and GET refused) keeps the plan
    env.server.route("/obo/bfo.owl", vec![Reply::status(405), Reply::status(403)]);
    let (code, plans, _) = env.json(&["plan", "--json", "--no-lock", "--spec", &spec, "bfo"]);
    assert_eq!(code, 0, "{plans}");
    assert!(by_id(&plans, "bfo")["probe"]["error"].is_object(), "{plans}");
}

/// Issue 21: a registry snapshot fetched through the gates from a loopback "Bioregistry";
/// prefixes resolve in any spelling, outside the OBO Foundry through the registry's
/// download, with the registry's licence, which `accept_licenses` then filters.
#[test]
fn the_registry_snapshot_resolves_every_spelling_with_its_licence() {
    let env = Env::new();
    let registry = serde_json::json!({
        "efo": {"download_owl": env.server.url("/ebi/efo.owl"), "license": "Apache-2.0", "preferred_prefix": "EFO",
                "ols": {"name": "Experimental Factor Ontology"}},
        "hp": {"name": "Human Phenotype Ontology", "synonyms": ["HPO"], "license": "CC-BY-4.0",
               "obofoundry": {"status": "active", "prefix": "hp",
                              "artifacts": [{"type": "owl", "url": "http://purl.obolibrary.org/obo/hp.owl"}]}},
        "ncbitaxon": {"name": "NCBI Taxonomy", "synonyms": ["NCBITaxon"], "license": "CC0-1.0",
                      "obofoundry": {"status": "active", "prefix": "ncbitaxon",
                                     "artifacts": [{"type": "owl", "url": "http://purl.obolibrary.org/obo/ncbitaxon.owl"}]}},
        "mesh": {"name": "Medical Subject Headings", "license": "CC0-1.0"},
    });
    env.server.route("/bioregistry.json", vec![Reply::ok(registry.to_string(), "application/json")]);
    env.server.route("/ebi/efo.owl", vec![Reply::ok(owl(None, "efo"), OWL)]);
    env.server.route("/obo/hp.owl", vec![Reply::ok(owl(None, "hp"), OWL)]);
    env.server.route("/obo/ncbitaxon.owl", vec![Reply::ok(owl(None, "ncbitaxon"), OWL)]);

    // the update goes through the gates: without the allowlist entry, loopback is refused
    let url = env.server.url("/bioregistry.json");
    let refused = env.bare_command(&["registry", "update", "--from", &url]).output().unwrap();
    assert_eq!(refused.status.code(), Some(3), "{}", String::from_utf8_lossy(&refused.stderr));
    assert!(!env.root().join("registry/bioregistry.json").exists(), "nothing written");
    let (code, updated, err) = env.json(&["registry", "update", "--from", &url, "--json"]);
    assert_eq!(code, 0, "{updated} {err}");
    // overlaid on the built-in snapshot: these four records win, every other prefix stays
    assert!(updated["snapshot"]["prefixes"].as_u64().unwrap() > 2000, "{updated}");
    assert!(updated["snapshot"]["base"].as_str().unwrap().starts_with("bioregistry"), "{updated}");
    assert_eq!(updated["snapshot"]["sha256"].as_str().unwrap().len(), 64);
    // a document that is not Bioregistry's format is refused and the snapshot kept
    env.server.route("/bad.json", vec![Reply::ok("[1, 2, 3]", "application/json")]);
    let (code, _, err) = env.json(&["registry", "update", "--from", &env.server.url("/bad.json")]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("keyed by prefix"), "{err}");
    let (_, shown, _) = env.json(&["registry", "show", "HPO", "--json"]);
    assert_eq!((shown["entry"]["prefix"].as_str(), shown["route"].as_str()), (Some("hp"), Some("obo-purl")));

    let text = "defaults:\n  accept_licenses: [Apache-2.0, CC-BY-4.0, CC0-1.0]\n  prefer_source: [obo]\n  resolver_fallback_enabled: false\nontologies:\n  - id: efo\n    resolver: bioregistry\n  - id: HPO\n  - id: NCBITaxon\n  - id: mesh\n    resolver: bioregistry\n  - id: efp\n    resolver: bioregistry\n";
    let spec = env.spec(text);
    let (code, results, err) = env.json(&["pull", "--json", "--no-lock", "--spec", &spec]);
    assert_eq!(code, 1, "mesh and efp fail: {results} {err}");
    let efo = by_id(&results, "efo");
    assert_eq!(efo["status"], "fresh", "{efo}");
    assert_eq!(env.manifest("efo")["url"], env.server.url("/ebi/efo.owl"));
    assert_eq!(env.manifest("efo")["license"], "Apache-2.0");
    assert_eq!(env.manifest("HPO")["url"], env.server.url("/obo/hp.owl"), "a synonym resolves to the PURL");
    assert_eq!(env.manifest("HPO")["license"], "CC-BY-4.0");
    assert!(!env.manifest("HPO")["notes"].to_string().contains("licence unknown"), "{}", env.manifest("HPO"));
    assert_eq!(env.manifest("NCBITaxon")["url"], env.server.url("/obo/ncbitaxon.owl"), "mixed case");
    let mesh = by_id(&results, "mesh")["error"]["message"].as_str().unwrap().to_string();
    assert!(mesh.contains("publishes no download"), "{mesh}");
    let efp = by_id(&results, "efp")["error"]["message"].as_str().unwrap().to_string();
    assert!(efp.contains("not a prefix") && efp.contains("closest: efo"), "{efp}");

    // the registry's licence filters
    let strict = env.spec(
        "defaults:\n  accept_licenses: [CC0-1.0]\n  resolver_fallback_enabled: false\nontologies:\n  - id: EFO\n    resolver: bioregistry\n  - id: ncbitaxon\n",
    );
    let (code, plans, err) = env.json(&["plan", "--json", "--no-lock", "--spec", &strict]);
    assert_eq!(code, 3, "{plans} {err}");
    assert_eq!(by_id(&plans, "EFO")["error"]["code"], "E_LICENSE", "{plans}");
    assert!(by_id(&plans, "ncbitaxon")["error"].is_null(), "{plans}");

    // plans record the snapshot that answered; when a new snapshot moves a download,
    // plan-diff says so and names both snapshots
    let spec = env.spec(text);
    let (code, base, err) =
        env.json(&["plan-diff", "--json", "--spec", &spec, "--update-baseline", "--no-lock", "efo"]);
    assert_eq!(code, 0, "{base} {err}");
    let mut moved = registry.clone();
    moved["efo"]["download_owl"] = Value::String(env.server.url("/ebi/releases/efo.owl"));
    env.server.route("/bioregistry2.json", vec![Reply::ok(moved.to_string(), "application/json")]);
    env.server.route("/ebi/releases/efo.owl", vec![Reply::ok(owl(None, "efo2"), OWL)]);
    let (code, _, err) = env.json(&["registry", "update", "--from", &env.server.url("/bioregistry2.json")]);
    assert_eq!(code, 0, "{err}");
    let (code, diff, err) = env.json(&["plan-diff", "--json", "--spec", &spec, "--no-lock", "efo"]);
    assert_eq!(code, 0, "{diff} {err}");
    let efo = &diff["modified"][0];
    assert!(efo["changes"]["url"]["after"].as_str().is_some_and(|u| u.ends_with("/ebi/releases/efo.owl")), "{diff}");
    let snapshots = &efo["registry_snapshot"];
    assert!(snapshots["before"].is_string() && snapshots["after"].is_string(), "{diff}");
    assert_ne!(snapshots["before"], snapshots["after"]);
}

/// An ontology with `owl:imports`, its own IRI and its imports.
fn importing(iri: &str, imports: &[&str]) -> String {
    let imports: String = imports.iter().map(|i| format!("<owl:imports rdf:resource=\"{i}\"/>")).collect();
    format!(
        "<?xml version=\"1.0\"?>\n<rdf:RDF xmlns:owl=\"http://www.w3.org/2002/07/owl#\" xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n<owl:Ontology rdf:about=\"{iri}\">{imports}</owl:Ontology>\n</rdf:RDF>\n"
    )
}

/// Issue 21: the import closure. `a` imports the OBO PURL of `b`; `b` imports `c` (a plain
/// URL) and an address the gates refuse; `c` imports `a` back (a cycle). Every import goes
/// through the gates and the resolvers, is stored as an ontology of its own and recorded as
/// an edge; the refused one fails with its code and the rest stay stored; the XML catalog
/// then maps every import IRI to a stored file.
#[test]
fn the_import_closure_is_fetched_through_the_gates_with_its_cycle_and_its_refusal() {
    let env = Env::new();
    let (a_iri, b_iri) = ("http://example.org/a", "http://purl.obolibrary.org/obo/zzb.owl");
    let c_url = env.server.url("/c.owl");
    let private = "http://10.1.2.3/private.owl";
    // zzd, beside zzb, imports the refused address too: its edge says refused as well
    let d_iri = "http://purl.obolibrary.org/obo/zzd.owl";
    env.server.route("/a.owl", vec![Reply::ok(importing(a_iri, &[b_iri, d_iri]), OWL)]);
    env.server.route("/obo/zzb.owl", vec![Reply::ok(importing(b_iri, &[&c_url, private]), OWL)]);
    env.server.route("/obo/zzd.owl", vec![Reply::ok(importing(d_iri, &[private]), OWL)]);
    env.server.route("/c.owl", vec![Reply::ok(importing(&c_url, &[a_iri]), OWL)]);
    let spec = env.spec(&format!(
        "defaults:\n  accept_licenses: []\nontologies:\n  - id: a\n    resolver: direct\n    extras: {{url: \"{}\"}}\n",
        env.server.url("/a.owl")
    ));
    // without the flag, only `a`
    let (code, results, err) = env.json(&["pull", "--json", "--no-lock", "--spec", &spec]);
    assert_eq!((code, results.as_array().map(Vec::len)), (0, Some(1)), "{results} {err}");
    let (code, results, err) = env.json(&["pull", "--json", "--no-lock", "--with-imports", "--spec", &spec]);
    assert_eq!(code, 3, "the refused import is reported with its code (exit 3): {results} {err}");
    let ids: Vec<&str> = results.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 5, "a, zzb and zzd, then c and the refused one once — a is not fetched again: {ids:?}");
    assert_eq!(&ids[..3], ["a", "zzb", "zzd"]);
    let c_id = ids.iter().find(|i| i.starts_with("c-")).unwrap().to_string();
    let private_id = ids.iter().find(|i| i.starts_with("private-")).unwrap().to_string();
    assert_eq!(by_id(&results, &private_id)["error"]["code"], "E_PRIVATE_IP", "{results}");
    assert!(env.version_dirs(&private_id).is_empty(), "nothing stored for the refused import");
    assert_eq!(by_id(&results, &c_id)["status"], "fresh", "the rest is stored");
    assert_eq!(env.server.hits("/a.owl"), 2, "once per pull, never for the cycle");
    // the edges, as show reports them
    let (_, b, _) = env.json(&["show", "zzb", "--json", "--spec", &spec]);
    let edges = b["import_closure"].as_array().unwrap();
    let by_iri = |iri: &str| edges.iter().find(|e| e["iri"] == iri).unwrap().clone();
    assert_eq!(
        (by_iri(&c_url)["status"].as_str(), by_iri(&c_url)["target"].as_str()),
        (Some("stored"), Some(c_id.as_str()))
    );
    let refused = by_iri(private);
    assert_eq!(refused["status"], "refused", "{refused}");
    assert_eq!(refused["code"], "E_PRIVATE_IP", "{refused}");
    let (_, zzd, _) = env.json(&["show", "zzd", "--json", "--spec", &spec]);
    let shared = &zzd["import_closure"][0];
    assert_eq!((shared["status"].as_str(), shared["code"].as_str()), (Some("refused"), Some("E_PRIVATE_IP")), "{zzd}");
    let zzb_notes = b["notes"].to_string();
    assert!(zzb_notes.contains("zzb is not in the registry snapshot"), "an unknown id is noted: {zzb_notes}");
    let (_, c, _) = env.json(&["show", &c_id, "--json", "--spec", &spec]);
    assert_eq!(c["import_closure"][0]["target"], "a", "the cycle links back: {c}");
    let text = env.command(&["show", "zzb", "--spec", &spec]).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains(&format!("imports:    {private} -> {private_id} (refused E_PRIVATE_IP)")), "{text}");
    // the XML catalog maps every import IRI of the closure to a stored file
    let out = env.path("catalog-v001.xml");
    let r = env.command(&["export", "catalog-xml", "--spec", &spec, "--out", out.to_str().unwrap()]).output().unwrap();
    assert_eq!(r.status.code(), Some(0), "{}", String::from_utf8_lossy(&r.stderr));
    let xml = std::fs::read_to_string(&out).unwrap();
    for iri in [a_iri, b_iri, d_iri, c_url.as_str()] {
        let at = xml.find(&format!("name=\"{iri}\"")).unwrap_or_else(|| panic!("{iri} not mapped: {xml}"));
        let uri = xml[at..].split("uri=\"").nth(1).unwrap().split('"').next().unwrap();
        assert!(std::path::Path::new(uri).is_file(), "{iri} maps to {uri}, which is not a stored file");
    }
}

/// A snapshot's label never carries a URL's credentials or query string (it reaches
/// manifests, the catalog, events and the API), and a local snapshot file is capped like a
/// download (64 MiB, streamed: a bigger file is refused, the old snapshot kept).
#[test]
fn registry_updates_keep_tokens_out_of_labels_and_cap_local_files() {
    let env = Env::new();
    let registry = serde_json::json!({"hp": {"name": "Human Phenotype Ontology", "license": "CC-BY-4.0",
                                             "obofoundry": {"status": "active"}}});
    // The loopback server routes on the whole request target, query included.
    env.server.route("/bioregistry.json?token=s3cr3t", vec![Reply::ok(registry.to_string(), "application/json")]);
    let url = format!("{}?token=s3cr3t#frag", env.server.url("/bioregistry.json"));
    let (code, updated, err) = env.json(&["registry", "update", "--from", &url, "--json"]);
    assert_eq!(code, 0, "{updated} {err}");
    let label = updated["snapshot"]["label"].as_str().unwrap().to_string();
    assert!(!label.contains("s3cr3t") && !label.contains('?') && label.ends_with("/bioregistry.json"), "{label}");
    let stored = std::fs::read_to_string(env.root().join("registry/bioregistry.json")).unwrap();
    assert!(!stored.contains("s3cr3t"), "the token was stored with the snapshot");
    let big = env.0.path("big.json");
    std::fs::File::create(&big).unwrap().set_len((64 << 20) + 1).unwrap();
    let (code, _, err) = env.json(&["registry", "update", "--file", big.to_str().unwrap(), "--json"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("E_SIZE_LIMIT"), "{err}");
    assert_eq!(std::fs::read_to_string(env.root().join("registry/bioregistry.json")).unwrap(), stored, "kept");
}

/// IRI squatting: an ontology whose own IRI is the BFO PURL (and whose id sorts first)
/// never takes BFO's place. In one `pull --with-imports` run, another ontology's import of
/// the BFO PURL fetches the real BFO and links to it; the XML catalog maps the PURL once,
/// to BFO, and reports the squatter's claim as dropped.
#[test]
fn an_ontology_claiming_another_sources_iri_is_never_linked_or_mapped_as_it() {
    let env = Env::new();
    let bfo = "http://purl.obolibrary.org/obo/bfo.owl";
    env.server.route("/aaa.owl", vec![Reply::ok(importing(bfo, &[]), OWL)]);
    env.server.route("/user.owl", vec![Reply::ok(importing("http://example.org/user", &[bfo]), OWL)]);
    env.server.route(
        "/obo/bfo.owl",
        vec![Reply::ok(importing(bfo, &[]).replace("</rdf:RDF>", "<!-- the real one -->\n</rdf:RDF>"), OWL)],
    );
    let spec = env.spec(&format!(
        "defaults:\n  accept_licenses: []\nontologies:\n  - id: aaa\n    resolver: direct\n    extras: {{url: \"{}\"}}\n  - id: user\n    resolver: direct\n    extras: {{url: \"{}\"}}\n",
        env.server.url("/aaa.owl"),
        env.server.url("/user.owl")
    ));
    let (code, results, err) = env.json(&["pull", "--json", "--no-lock", "--with-imports", "--spec", &spec]);
    assert_eq!(code, 0, "{results} {err}");
    assert_eq!(env.server.hits("/obo/bfo.owl"), 1, "the real BFO was never fetched: {results}");
    let (_, user, _) = env.json(&["show", "user", "--json", "--spec", &spec]);
    assert_eq!(user["import_closure"][0]["target"], "bfo", "{}", user["import_closure"]);
    let out = env.path("catalog-v001.xml");
    let (code, exported, err) =
        env.json(&["export", "catalog-xml", "--json", "--spec", &spec, "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let xml = std::fs::read_to_string(&out).unwrap();
    assert_eq!(xml.matches(&format!("name=\"{bfo}\"")).count(), 1, "{xml}");
    let at = xml.find(&format!("name=\"{bfo}\"")).unwrap();
    assert!(xml[at..].split('"').nth(3).unwrap().contains("/bfo/"), "the PURL maps to BFO: {xml}");
    let dropped = &exported["dropped_claims"];
    assert_eq!(
        (dropped[0]["claimed_by"].as_str(), dropped[0]["owner"].as_str()),
        (Some("aaa"), Some("bfo")),
        "{exported}"
    );
    // An OASIS resolver nobody here wrote (libxml2's) resolves each name to the stored file.
    if ontofetch_testsupport::servers::available(
        "an_ontology_claiming_another_sources_iri_is_never_linked_or_mapped_as_it (xmlcatalog)",
        &[ontofetch_testsupport::servers::Need::XmlCatalog],
    ) {
        for name in [bfo.to_string(), env.server.url("/user.owl")] {
            let resolved = Command::new("xmlcatalog").arg(&out).arg(&name).output().unwrap();
            let text = String::from_utf8_lossy(&resolved.stdout);
            let path = text.lines().find(|l| !l.starts_with("No entry")).unwrap_or_default().trim().to_string();
            assert!(
                resolved.status.success() && std::path::Path::new(&path).is_file(),
                "xmlcatalog {name}: {text}{}",
                String::from_utf8_lossy(&resolved.stderr)
            );
        }
    }
}

/// `max_imports` bounds the closure, not a run: a release that names new imports on every
/// run cannot grow the mirror past it (3 runs with a cap of 3 once left 9 ontologies).
#[test]
fn max_imports_bounds_what_an_ontology_brings_in_across_runs() {
    let env = Env::new();
    let spec = env.spec(&format!(
        "defaults:\n  accept_licenses: []\n  max_imports: 3\nontologies:\n  - id: x\n    resolver: direct\n    extras: {{url: \"{}\"}}\n",
        env.server.url("/x.owl")
    ));
    for run in 0..3 {
        let imports: Vec<String> = (0..3).map(|i| env.server.url(&format!("/r{run}i{i}.owl"))).collect();
        for url in &imports {
            let path = url.rsplit_once('/').map(|(_, f)| format!("/{f}")).unwrap();
            env.server.route(&path, vec![Reply::ok(importing(url, &[]), OWL)]);
        }
        let refs: Vec<&str> = imports.iter().map(String::as_str).collect();
        env.server.route("/x.owl", vec![Reply::ok(importing(&format!("http://example.org/x{run}"), &refs), OWL)]);
        let (code, results, err) = env.json(&["pull", "--json", "--no-lock", "--with-imports", "--spec", &spec]);
        assert_eq!(code, 0, "run {run}: {results} {err}");
    }
    let (_, versions, _) = env.json(&["db", "versions", "--json", "--spec", &spec]);
    let mut ids: Vec<String> =
        versions["versions"].as_array().unwrap().iter().map(|v| v["ontology"].as_str().unwrap().to_string()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 1 + 3, "x and at most 3 imports: {ids:?}");
    let (_, shown, _) = env.json(&["show", "x", "--json", "--spec", &spec]);
    let skipped = shown["import_closure"].as_array().unwrap().iter().filter(|e| e["code"] == "E_IMPORT_LIMIT").count();
    assert_eq!(skipped, 3, "the latest release's imports are over the cap: {}", shown["import_closure"]);
}
