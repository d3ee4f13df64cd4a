//! What a new user trips on in the second hour (issue 34): licences that do not block the
//! docs' own examples, versions and diffs that skip what failed, a registry file that
//! overlays the built-in one, ids as users write them.

use ontofetch_testsupport::Reply;
use ontofetch_testsupport::cli::{Sandbox, by_id};
use ontofetch_testsupport::fixtures::{RDF_XML as OWL, owl};

/// Pulls `id` from each `(path, version)` of the loopback server in turn, as a `direct`
/// entry under `defaults` (YAML lines, or empty); every pull must succeed.
fn pull_releases(env: &Sandbox, id: &str, defaults: &str, releases: &[(&str, &str)]) {
    for (path, version) in releases {
        let spec = env.write(
            &format!("{id}.yaml"),
            &format!(
                "{defaults}ontologies:\n  - id: {id}\n    resolver: direct\n    extras: {{url: \"{}\", version: \"{version}\"}}\n",
                env.server.url(path)
            ),
        );
        let (code, results) = env.json(&["pull", "--json", "--no-lock", "--spec", &spec]);
        assert_eq!(code, 0, "{results}");
    }
}

/// Under the defaults (no `accept_licenses` in the user's files) nothing is refused for
/// its licence: HP (`hpo`, outside the open list) is fetched with a warning note, and
/// `registry show` says so. A list the user sets refuses it before the body is fetched,
/// naming the licence and the one line that accepts it for the entry; that line works.
/// `init` writes no narrower list than the built-in default.
#[test]
fn licences_warn_without_a_policy_and_refuse_with_one_naming_the_fix() {
    let env = Sandbox::new(crate::BIN);
    env.server.route("/obo/hp.owl", vec![Reply::ok(owl(None, "hp"), OWL)]);
    let spec = env.spec("ontologies:\n  - id: hp\n").display().to_string();
    let (code, results) = env.json(&["pull", "--json", "--no-lock", "--spec", &spec]);
    assert_eq!(code, 0, "{results}");
    let manifest = env.manifest("hp");
    assert_eq!(manifest["license"], "hpo", "{manifest}");
    assert!(manifest["notes"].to_string().contains("outside the open-licence list"), "{manifest}");
    let (_, shown) = env.json(&["--json", "registry", "show", "HP", "--spec", &spec]);
    assert_eq!(shown["license_policy"]["verdict"], "warned", "{shown}");

    // a policy refuses, at plan time: the body is not fetched again
    let before = env.server.hits("/obo/hp.owl");
    let strict = env.spec("defaults:\n  accept_licenses: [CC-BY-4.0]\nontologies:\n  - id: hp\n").display().to_string();
    let (code, results) = env.json(&["pull", "--json", "--no-lock", "--spec", &strict]);
    assert_eq!(code, 3, "{results}");
    let error = &by_id(&results, "hp")["error"];
    assert_eq!(error["code"], "E_LICENSE", "{results}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("\"hpo\"") && message.contains("extras: {accept_licenses: [hpo]}"), "{message}");
    assert_eq!(env.server.hits("/obo/hp.owl"), before, "a refused licence costs no download");
    let (_, shown) = env.json(&["--json", "registry", "show", "hp", "--spec", &strict]);
    assert_eq!(shown["license_policy"]["verdict"], "refused", "{shown}");
    // the line the message names accepts it for that entry
    let fixed = env
        .spec("defaults:\n  accept_licenses: [CC-BY-4.0]\nontologies:\n  - id: hp\n    extras: {accept_licenses: [hpo]}\n")
        .display()
        .to_string();
    let (code, results) = env.json(&["pull", "--json", "--no-lock", "--spec", &fixed]);
    assert_eq!(code, 0, "{results}");

    // init and the built-in default agree: no list, so no refusal
    let written = env.path("init.yaml").display().to_string();
    let (code, out) = env.json(&["--json", "init", &written]);
    assert_eq!(code, 0, "{out}");
    let (_, shown) = env.json(&["--json", "config", "show", "--spec", &written]);
    let plain = env.write("plain.yaml", "ontologies: []\n");
    let (_, builtin) = env.json(&["--json", "config", "show", "--spec", &plain]);
    let accept = |v: &serde_json::Value| v.pointer("/config/defaults/accept_licenses").cloned();
    assert_eq!(accept(&shown), accept(&builtin), "{shown}");
    assert_eq!(accept(&builtin), Some(serde_json::json!([])), "{builtin}");
}

/// A version that fails validation is listed with its verdict, `latest` stays marked on the
/// one that validated (JSON and table), and `validate --strict` on an ontology's only
/// version says no version is latest now instead of naming a previous good one.
#[test]
fn version_lists_mark_latest_and_verdicts_and_strict_says_where_latest_went() {
    let env = Sandbox::new(crate::BIN);
    let broken = "<?xml version=\"1.0\"?>\n<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n<rdf:Description rdf:about=\"http://x.org/a\"><oops</rdf:RDF>\n";
    env.server.route("/x1.owl", vec![Reply::ok(owl(None, "one"), OWL)]);
    env.server.route("/x2.owl", vec![Reply::ok(broken, OWL)]);
    env.server.route("/y.owl", vec![Reply::ok(broken, OWL)]);
    let entry = |id: &str, path: &str, version: &str| {
        format!(
            "  - id: {id}\n    resolver: direct\n    extras: {{url: \"{}\", version: \"{version}\"}}\n",
            env.server.url(path)
        )
    };
    for (path, version) in [("/x1.owl", "1"), ("/x2.owl", "2")] {
        let spec =
            env.write("x.yaml", &format!("ontologies:\n{}{}", entry("x", path, version), entry("y", "/y.owl", "1")));
        env.json(&["pull", "--json", "--no-lock", "--spec", &spec]);
    }
    let (code, listed) = env.json(&["--json", "show", "x", "--versions"]);
    assert_eq!(code, 0, "{listed}");
    assert_eq!(listed["latest"], "1", "{listed}");
    let row = |v: &str| listed["versions"].as_array().unwrap().iter().find(|r| r["version"] == v).cloned().unwrap();
    assert_eq!((row("1")["latest"].clone(), row("2")["latest"].clone()), (true.into(), false.into()), "{listed}");
    assert_eq!(row("2")["verdict"], "invalid", "{listed}");
    let table = env.run(&["show", "x", "--versions"]).stdout();
    let line = |v: &str| table.lines().find(|l| l.split_whitespace().nth(1) == Some(v)).unwrap_or_default().to_string();
    assert!(line("1").contains('*') && !line("2").contains('*') && line("2").contains("invalid"), "{table}");
    let (_, db) = env.json(&["--json", "db", "versions", "x"]);
    assert_eq!(db["versions"].as_array().unwrap().iter().filter(|r| r["latest"] == true).count(), 1, "{db}");

    // y's only version failed: purging it leaves no latest, and the message says so
    let strict = env.run(&["validate", "y", "--strict"]);
    assert_ne!(strict.code, 0);
    let said = strict.stdout();
    assert!(said.contains("no version of y is latest now") && !said.contains("previous good"), "{said}");
}

/// A curated registry file overlays the built-in snapshot: its records win, the other
/// 2,900 prefixes stay, `registry show` names the snapshot that answered, and
/// `registry reset` returns to the built-in one.
#[test]
fn a_curated_registry_file_overlays_the_built_in_snapshot_and_reset_returns_to_it() {
    let env = Sandbox::new(crate::BIN);
    let curated = serde_json::json!({
        "labonto": {"name": "Our lab's ontology", "license": "CC0-1.0", "download_owl": env.server.url("/lab.owl")},
        "hp": {"name": "Human Phenotype Ontology (team copy)", "license": "CC-BY-4.0", "synonyms": ["HPO"],
               "download_owl": env.server.url("/hp-team.owl")},
    });
    let file = env.write("curated.json", &curated.to_string());
    let (code, updated) = env.json(&["--json", "registry", "update", "--file", &file, "--label", "team"]);
    assert_eq!(code, 0, "{updated}");
    let (_, shown) = env.json(&["--json", "registry", "show", "labonto", "hp", "go"]);
    let shown = shown["shown"].as_array().unwrap().clone();
    assert_eq!(
        (shown[0]["answered_by"].as_str(), shown[0]["resolves_to"].as_str()),
        (Some("team"), Some(env.server.url("/lab.owl").as_str()))
    );
    assert_eq!(
        (shown[1]["answered_by"].as_str(), shown[1]["entry"]["license"].as_str()),
        (Some("team"), Some("CC-BY-4.0"))
    );
    assert!(shown[2]["answered_by"].as_str().unwrap().starts_with("bioregistry"), "go stays: {}", shown[2]);
    assert!(shown[2]["entry"]["downloads"]["owl"].is_string(), "{}", shown[2]);

    // a curated record may not take a name another record answers to
    let squat =
        serde_json::json!({"mine": {"name": "squat", "synonyms": ["GO"], "download_owl": env.server.url("/x.owl")}});
    let file = env.write("squat.json", &squat.to_string());
    let (code, refused) = env.json(&["--json", "registry", "update", "--file", &file]);
    assert_ne!(code, 0, "{refused}");
    let (_, still) = env.json(&["--json", "registry", "show", "labonto"]);
    assert_eq!(still["answered_by"], "team", "a refused update keeps the previous overlay: {still}");

    let (code, reset) = env.json(&["--json", "registry", "reset"]);
    assert_eq!((code, reset["removed"].as_bool()), (0, Some(true)), "{reset}");
    let (code, gone) = env.json(&["--json", "registry", "show", "labonto"]);
    assert_ne!(code, 0, "{gone}");
    let (_, hp) = env.json(&["--json", "registry", "show", "hp"]);
    assert_eq!(hp["entry"]["license"], "hpo", "{hp}");
}

/// A read that passes its deadline is `E_TIMEOUT` (not `E_NETWORK`); `plan` exits 3 for a
/// licence refusal as `pull` does; `--version --json` and a usage error under `--json`
/// print one JSON document.
#[test]
fn timeouts_licence_refusals_and_usage_errors_have_their_codes() {
    let env = Sandbox::new(crate::BIN);
    env.server.route("/slow.owl", vec![Reply::ok(owl(None, "slow"), OWL).latency(std::time::Duration::from_secs(4))]);
    let spec = env.write(
        "slow.yaml",
        &format!(
            "ontologies:\n  - id: slow\n    resolver: direct\n    extras: {{url: \"{}\"}}\n",
            env.server.url("/slow.owl")
        ),
    );
    let (code, results) =
        env.json(&["pull", "--json", "--no-lock", "--spec", &spec, "--timeout-sec", "1", "--max-retries", "0"]);
    assert_eq!(code, 1, "{results}");
    assert_eq!(by_id(&results, "slow")["error"]["code"], "E_TIMEOUT", "{results}");

    env.server.route("/obo/hp.owl", vec![Reply::ok(owl(None, "hp"), OWL)]);
    let strict = env.write("strict.yaml", "defaults:\n  accept_licenses: [CC0-1.0]\nontologies:\n  - id: hp\n");
    let (code, plans) = env.json(&["plan", "--json", "--no-lock", "--spec", &strict]);
    assert_eq!(code, 3, "{plans}");

    let (code, version) = env.json(&["--version", "--json"]);
    assert_eq!((code, version["version"].as_str()), (0, Some(env!("CARGO_PKG_VERSION"))), "{version}");
    let (code, usage) = env.json(&["pull", "--no-such-flag", "--json"]);
    assert_eq!((code, usage["error"]["code"].as_str()), (2, Some("E_USAGE")), "{usage}");
}

/// `prune` reports every byte it reclaimed (the normalised files and the manifest, not the
/// original alone), and `export catalog-xml --out -` prints the catalog instead of writing
/// a file named `-`.
#[test]
fn prune_counts_every_byte_and_catalog_xml_goes_to_stdout() {
    let env = Sandbox::new(crate::BIN);
    env.server.route("/p1.owl", vec![Reply::ok(owl(None, "one"), OWL)]);
    env.server.route("/p2.owl", vec![Reply::ok(owl(None, "two"), OWL)]);
    pull_releases(&env, "p", "", &[("/p1.owl", "1"), ("/p2.owl", "2")]);
    let dir = env.root().join("ontologies/p/1");
    let on_disk: u64 =
        env.files_under("ontologies/p/1").iter().map(|f| std::fs::metadata(dir.join(f)).unwrap().len()).sum();
    let files = env.files_under("ontologies/p/1");
    assert!(files.iter().any(|f| f.ends_with(".ttl")) && files.iter().any(|f| f == "manifest.json"), "{files:?}");
    let original = env.manifest("p")["content_length"].as_u64().unwrap_or(0).max(owl(None, "one").len() as u64);
    assert!(on_disk > original, "normalised files and the manifest are there too");
    let (code, report) = env.json(&["--json", "prune", "--keep", "1"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["total_reclaimed_bytes"], on_disk, "{report}");

    let out = env.run(&["export", "catalog-xml", "--out", "-"]);
    assert_eq!(out.code, 0, "{}", out.stderr());
    assert!(out.stdout().starts_with("<?xml") && out.stdout().contains("urn:oasis:names:tc:entity:xmlns:xml:catalog"));
    assert!(!env.path("-").exists(), "no file named -");
}

/// Which `sources.yaml` is in use is never a secret: `./sources.yaml` takes over from the
/// data root's, and `config show`, the debug log and an `allowed_hosts` refusal name it.
#[test]
fn the_file_in_use_is_named_where_it_matters() {
    let env = Sandbox::new(crate::BIN).with_env("ONTOFETCH_OBO_BASE_URL", "https://purl.example.com/obo");
    let rooted = env.root().join("configs/sources.yaml");
    std::fs::create_dir_all(rooted.parent().unwrap()).unwrap();
    std::fs::write(&rooted, "ontologies: []\n").unwrap();
    let here = env.spec("defaults:\n  http:\n    allowed_hosts: [example.org]\nontologies:\n  - id: hp\n");
    let here = here.canonicalize().unwrap().display().to_string();
    let (_, shown) = env.json(&["--json", "config", "show"]);
    let path = shown["path"].as_str().unwrap_or_else(|| panic!("{shown}"));
    assert_eq!(std::path::Path::new(path).canonicalize().unwrap().display().to_string(), here);
    let debug = env.run(&["config", "validate", "--log-level", "DEBUG"]);
    assert!(debug.stderr().contains("sources.yaml"), "{}", debug.stderr());
    // the obo endpoint is not in the file's list
    let out = env.bare_command(&["plan", "--json", "--no-lock"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    let plans: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let error = &by_id(&plans, "hp")["error"];
    assert_eq!(error["code"], "E_HOST_DENIED", "{plans}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("sources.yaml"), "the refusal names the file that set the list: {message}");
}

/// OWL/XML, as owlready2's pizza is written.
fn pizza(version: &str, label: &str, hawaiian: bool) -> String {
    let extra = if hawaiian {
        "  <Declaration><Class IRI=\"http://example.org/pizza#Hawaiian\"/></Declaration>\n  <SubClassOf><Class IRI=\"http://example.org/pizza#Hawaiian\"/><Class IRI=\"http://example.org/pizza#Pizza\"/></SubClassOf>\n"
    } else {
        ""
    };
    format!(
        "<?xml version=\"1.0\"?>\n<Ontology xmlns=\"http://www.w3.org/2002/07/owl#\" ontologyIRI=\"http://example.org/pizza\" versionIRI=\"http://example.org/pizza/{version}\">\n\
  <Prefix name=\"rdfs\" IRI=\"http://www.w3.org/2000/01/rdf-schema#\"/>\n\
  <Declaration><Class IRI=\"http://example.org/pizza#Pizza\"/></Declaration>\n\
  <Declaration><Class IRI=\"http://example.org/pizza#Margherita\"/></Declaration>\n\
  <Declaration><Class IRI=\"http://example.org/pizza#Topping\"/></Declaration>\n\
  <Declaration><ObjectProperty IRI=\"http://example.org/pizza#hasTopping\"/></Declaration>\n\
  <SubClassOf><Class IRI=\"http://example.org/pizza#Margherita\"/><Class IRI=\"http://example.org/pizza#Pizza\"/></SubClassOf>\n\
  <SubClassOf><Class IRI=\"http://example.org/pizza#Pizza\"/><ObjectSomeValuesFrom><ObjectProperty IRI=\"http://example.org/pizza#hasTopping\"/><Class IRI=\"http://example.org/pizza#Topping\"/></ObjectSomeValuesFrom></SubClassOf>\n\
  <AnnotationAssertion><AnnotationProperty abbreviatedIRI=\"rdfs:label\"/><IRI>http://example.org/pizza#Margherita</IRI><Literal>{label}</Literal></AnnotationAssertion>\n\
{extra}</Ontology>\n"
    )
}

/// OWL/XML is first-class: validated by parsing, given a canonical hash and renderings
/// through the RDF path (`owl-rdf+rdfc-1.0`; the same graph written as RDF/XML hashes the
/// same), and diffed by class IRI, label and parents.
#[test]
fn owl_xml_gets_a_canonical_hash_renderings_and_diffs() {
    let env = Sandbox::new(crate::BIN);
    env.server.route("/pizza1.owl", vec![Reply::ok(pizza("1", "Margherita", false), "application/owl+xml")]);
    env.server.route("/pizza2.owl", vec![Reply::ok(pizza("2", "Pizza Margherita", true), "application/owl+xml")]);
    let defaults = "defaults:\n  normalize_to: [ttl, owl]\n";
    pull_releases(&env, "pizza", defaults, &[("/pizza1.owl", "1"), ("/pizza2.owl", "2")]);
    let manifest = env.manifest("pizza");
    assert_eq!(manifest["normalization"]["mode"], "owl-rdf+rdfc-1.0", "{manifest}");
    assert_eq!(manifest["normalized_sha256"].as_str().map(str::len), Some(64), "{manifest}");
    let files = env.files_under("ontologies/pizza/2");
    for ext in [".nt", ".ttl", ".owl", ".terms.tsv"] {
        assert!(files.iter().any(|f| f.starts_with("normalized/") && f.ends_with(ext)), "{ext} in {files:?}");
    }
    assert!(!files.iter().any(|f| f.contains("owl-rdf")), "the intermediate mapping is not kept: {files:?}");

    // the RDF/XML rendering is the same graph: it hashes the same
    let rendered = files.iter().find(|f| f.starts_with("normalized/") && f.ends_with(".owl")).unwrap();
    let path = env.root().join("ontologies/pizza/2").join(rendered).display().to_string();
    let (code, again) = env.json(&["--json", "validate", "--file", &path]);
    assert_eq!(code, 0, "{again}");
    assert_eq!(again["normalized_sha256"], manifest["normalized_sha256"], "{again}");

    let (code, diff) = env.json(&["--json", "diff", "pizza"]);
    assert_eq!(code, 0, "{diff}");
    assert_eq!((diff["old"].as_str(), diff["new"].as_str()), (Some("1"), Some("2")), "{diff}");
    assert_eq!(diff["counts"]["added"], 1, "{diff}");
    assert_eq!(diff["counts"]["relabelled"], 1, "{diff}");
    let added = diff["changes"]["added"].to_string();
    assert!(added.contains("http://example.org/pizza#Hawaiian"), "{diff}");
}

/// Ids as users write them: `pull HP` (no entry names it) stores the registry's `hp`, which
/// `show HP`, `show HPO`, `show hp --versions` and `diff` find; `show hpp` suggests `hp`.
#[test]
fn registry_ids_are_normalised_and_a_near_miss_is_suggested() {
    let env = Sandbox::new(crate::BIN);
    env.server.route("/obo/hp.owl", vec![Reply::ok(owl(None, "hp"), OWL)]);
    let spec = env.write("empty.yaml", "ontologies: []\n");
    let (code, results) = env.json(&["pull", "HP", "hpo", "--json", "--no-lock", "--spec", &spec]);
    assert_eq!(code, 0, "{results}");
    assert_eq!(results[0]["id"], "hp", "{results}");
    assert_eq!(results.as_array().map(Vec::len), Some(1), "HP and hpo are one ontology: {results}");
    assert!(env.root().join("ontologies/hp").is_dir() && !env.root().join("ontologies/HP").exists());
    for asked in ["HP", "HPO", "hp"] {
        let (code, shown) = env.json(&["--json", "show", asked, "--spec", &spec]);
        assert_eq!((code, shown["id"].as_str()), (0, Some("hp")), "{asked}: {shown}");
    }
    let (code, versions) = env.json(&["--json", "show", "Hp", "--versions", "--spec", &spec]);
    assert_eq!(code, 0, "{versions}");
    assert_eq!(versions["versions"].as_array().map(Vec::len), Some(1), "{versions}");
    let out = env.run(&["show", "hpp", "--spec", &spec]);
    assert_ne!(out.code, 0);
    assert!(out.stderr().contains("did you mean hp"), "{}", out.stderr());
}

/// A single-file `.gz` takes its version from the `data-version` inside, as the plain file
/// would.
#[test]
fn a_single_file_gz_takes_its_version_from_inside() {
    use ontofetch_testsupport::archives::gz;
    let env = Sandbox::new(crate::BIN);
    let obo = "format-version: 1.2\ndata-version: 2026-03-01\nontology: zz\n\n[Term]\nid: ZZ:0000001\nname: one\n";
    env.server.route("/zz.obo.gz", vec![Reply::ok(gz(obo.as_bytes()), "application/gzip")]);
    let spec = env.write(
        "zz.yaml",
        &format!(
            "ontologies:\n  - id: zz\n    resolver: direct\n    extras: {{url: \"{}\"}}\n",
            env.server.url("/zz.obo.gz")
        ),
    );
    let (code, results) = env.json(&["pull", "--json", "--no-lock", "--spec", &spec]);
    assert_eq!(code, 0, "{results}");
    assert_eq!(by_id(&results, "zz")["version"], "2026-03-01", "{results}");
}

/// An ontology pulled as `.obo` is also mapped under the `.owl` PURL that imports name, to
/// its OWL translation.
#[test]
fn an_obo_pull_is_mapped_under_its_owl_purl_to_the_translation() {
    let env = Sandbox::new(crate::BIN);
    let obo = "format-version: 1.2\ndata-version: 2026-03-01\nontology: hp\n\n[Term]\nid: HP:0000001\nname: All\n";
    env.server.route("/obo/hp.obo", vec![Reply::ok(obo, "text/obo")]);
    let spec = env.write("hp.yaml", "ontologies:\n  - id: hp\n    target_formats: [obo]\n");
    let (code, results) = env.json(&["pull", "--json", "--no-lock", "--spec", &spec]);
    assert_eq!(code, 0, "{results}");
    let (code, exported) = env.json(&["--json", "export", "catalog-xml", "--out", "-", "--spec", &spec]);
    assert_eq!(code, 0, "{exported}");
    let mapped = |name: &str| {
        exported["mappings"].as_array().unwrap().iter().find(|m| m["name"] == name).map(|m| m["uri"].to_string())
    };
    assert!(mapped("http://purl.obolibrary.org/obo/hp.obo").is_some_and(|u| u.contains(".obo")), "{exported}");
    assert!(mapped("http://purl.obolibrary.org/obo/hp.owl").is_some_and(|u| u.contains("normalized/")), "{exported}");
}

/// The README's quick start as written: `ontofetch pull` on the built-in default spec
/// (bfo, ro, pato from their OBO PURLs, here a loopback "PURL service") stores all three
/// under the defaults, licences included, and a second run downloads nothing.
#[test]
fn the_readme_quick_start_runs_as_written() {
    let env = Sandbox::new(crate::BIN);
    for id in ["bfo", "ro", "pato"] {
        env.server
            .route(&format!("/obo/{id}.owl"), vec![Reply::ok(owl(None, id), OWL).header("ETag", &format!("\"{id}\""))]);
    }
    let (code, results) = env.json(&["pull", "--json"]);
    assert_eq!(code, 0, "{results}");
    for id in ["bfo", "ro", "pato"] {
        assert_eq!(by_id(&results, id)["status"], "fresh", "{results}");
    }
    let (code, again) = env.json(&["pull", "--json"]);
    assert_eq!(code, 0, "{again}");
    assert!(again.as_array().unwrap().iter().all(|r| r["status"] == "cached"), "{again}");
}
