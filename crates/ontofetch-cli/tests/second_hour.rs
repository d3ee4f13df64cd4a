//! What a new user trips on in the second hour (issue 34): licences that do not block the
//! docs' own examples, versions and diffs that skip what failed, a registry file that
//! overlays the built-in one, ids as users write them.

use ontofetch_testsupport::Reply;
use ontofetch_testsupport::cli::{Sandbox, by_id};
use ontofetch_testsupport::fixtures::{RDF_XML as OWL, owl};

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
