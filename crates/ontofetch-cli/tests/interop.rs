//! Interop with reference implementations nobody here wrote: the `bioregistry` package's
//! own answers for every prefix it knows. (The OASIS catalog against libxml2's
//! `xmlcatalog` is in `registries`; RDFC-1.0 against rdf-canonize in `validate`.)

use ontofetch_resolve::license::normalize;
use ontofetch_testsupport::cli::Sandbox;
use ontofetch_testsupport::servers::{Need, available, workspace_root};
use serde_json::{Map, Value};
use std::process::Command;

/// What the package answers (tests/bioregistry_reference.py).
fn reference() -> Value {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bioregistry_reference.py");
    let out = Command::new(workspace_root().join("target/py-venv/bin/python")).arg(script).output().unwrap();
    assert!(out.status.success(), "the reference script: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every id in one `registry show --json` (`--` keeps `-3dmet` an id).
fn show(sandbox: &Sandbox, ids: &[&str]) -> Vec<Value> {
    let mut args = vec!["--json", "registry", "show", "--"];
    args.extend_from_slice(ids);
    let (code, v) = sandbox.json(&args);
    assert_eq!(code, 0, "{v}");
    v["shown"].as_array().unwrap().clone()
}

/// The file an OBO PURL names (`apollo_sv.owl`), on any PURL host.
fn purl_file(url: &str) -> Option<&str> {
    url.split_once("purl.obolibrary.org/obo/").map(|(_, f)| f)
}

/// For all 2,937 prefixes, `registry show --json` answers what `bioregistry` 0.15.6 answers:
/// the downloads per format (`get_owl_download`… with their metaregistry fallbacks and
/// annotated URLs), the PURL named by the OBO Foundry id, the licence (`get_license`, as
/// SPDX: `CC-BY-3.0-IGO` stays itself), the name (`get_name`), deprecation
/// (`is_deprecated`, `inactive` included), Bioregistry's own key (`_3dmet`); and every
/// spelling `normalize_prefix` folds (`apollo_sv`, `APOLLO-SV`, `nif_cell`) finds the same
/// record. The snapshot is the package's own file (same SHA-256).
#[test]
fn registry_show_agrees_with_the_bioregistry_package() {
    if !available("registry_show_agrees_with_the_bioregistry_package", &[Need::PythonReferences]) {
        return;
    }
    let reference = reference();
    let prefixes: &Map<String, Value> = reference["prefixes"].as_object().unwrap();
    assert!(prefixes.len() > 2900, "{}", prefixes.len());
    let sandbox = Sandbox::offline(crate::BIN);
    let keys: Vec<&str> = prefixes.keys().map(String::as_str).collect();
    let shown = show(&sandbox, &keys);
    assert_eq!(shown[0]["snapshot"]["sha256"], reference["sha256"], "the snapshot is cut from the package's own file");

    let mut wrong: Vec<String> = Vec::new();
    let mut purls = 0;
    for (key, s) in keys.iter().zip(&shown) {
        let (e, r) = (&s["entry"], &prefixes[*key]);
        let mut differ = |what: &str, ours: &Value, theirs: &Value| {
            if ours != theirs {
                wrong.push(format!("{key} {what}: ontofetch {ours}, bioregistry {theirs}"));
            }
        };
        let ours_key = e["bioregistry_prefix"].as_str().or(e["prefix"].as_str()).unwrap();
        differ("key", &Value::from(ours_key), &Value::from(*key));
        differ("downloads", &e.get("downloads").cloned().unwrap_or(Value::Object(Map::new())), &r["downloads"]);
        differ("name", &e["name"], &r["name"]);
        differ("deprecated", &Value::from(e["deprecated"].as_bool().unwrap_or(false)), &r["deprecated"]);
        differ("obo_prefix", &e["obo_prefix"], &r["obo_prefix"]);
        let licence = r["license"].as_str().map(normalize).map(Value::from).unwrap_or(Value::Null);
        differ("licence", &e["license"], &licence);
        if e["license"].is_string() {
            differ("licence source", &Value::from(e["license_source"].is_string()), &Value::from(true));
        }
        // what a pull fetches: one of the package's downloads, a PURL through the obo endpoint
        let downloads: Vec<&str> = r["downloads"].as_object().unwrap().values().filter_map(Value::as_str).collect();
        let fetched = s["resolves_to"].as_str();
        let agrees = match (fetched, s["route"].as_str()) {
            (None, _) => downloads.is_empty(),
            (Some(url), Some("obo-purl")) => {
                purls += 1;
                url.starts_with("https://purl.obolibrary.org/obo/")
                    && downloads.iter().any(|d| purl_file(d).is_some() && purl_file(d) == purl_file(url))
            }
            (Some(url), _) => downloads.contains(&url) && purl_file(url).is_none(),
        };
        if !agrees {
            wrong.push(format!("{key} pulls {fetched:?} ({}), bioregistry downloads {downloads:?}", s["route"]));
        }
    }
    assert!(wrong.is_empty(), "{} disagreements, first: {:#?}", wrong.len(), &wrong[..wrong.len().min(12)]);
    assert!(purls > 200, "OBO Foundry ontologies route to their PURLs ({purls})");

    // the PURL is named by the OBO Foundry id, never by Bioregistry's key
    for (id, file) in
        [("apollosv", "apollo_sv.owl"), ("biomodels.kisao", "kisao.owl"), ("kisao", "kisao.owl"), ("geogeo", "geo.owl")]
    {
        let s = &show(&sandbox, &[id, "hp"])[0];
        assert_eq!(s["resolves_to"], format!("https://purl.obolibrary.org/obo/{file}"), "{id}");
    }

    let spelled: Vec<(&str, &str)> = keys
        .iter()
        .flat_map(|k| prefixes[*k]["spellings"].as_array().unwrap().iter().map(move |s| (*k, s.as_str().unwrap())))
        .collect();
    assert!(spelled.len() > 3 * keys.len(), "{}", spelled.len());
    let ids: Vec<&str> = spelled.iter().map(|(_, s)| *s).collect();
    let found = show(&sandbox, &ids);
    let lost: Vec<String> = spelled
        .iter()
        .zip(&found)
        .filter(|((key, _), s)| {
            s["entry"]["bioregistry_prefix"].as_str().or(s["entry"]["prefix"].as_str()) != Some(key)
        })
        .map(|((key, spelling), s)| format!("{spelling:?} -> {} (bioregistry: {key})", s["entry"]["prefix"]))
        .collect();
    assert!(lost.is_empty(), "{} spellings resolve elsewhere: {:?}", lost.len(), &lost[..lost.len().min(12)]);
}

/// A graph of `rings` blank-node rings (each node labelled, tags in several cases,
/// written consistently), twin rings, a few named subjects pointing into them, and the
/// pair from w3c/rdf-canon #155 whose blank-node order flips when tags are lower-cased.
fn tagged_graph(rings: usize, seed: u64) -> String {
    const TAGS: [&str; 7] = ["en-GB", "pt-BR", "EN", "zh-Hant-TW", "de", "fr-CA", "sr-Latn"];
    let mut state = seed;
    let mut next = |n: usize| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) as usize % n
    };
    let mut out = String::from("_:e1 <tag:p> \"foo\"@EN .\n_:e2 <tag:p> \"foo\"@fr .\n");
    for r in 0..rings {
        let len = 3 + next(4);
        let twin = r % 5 == 4; // every fifth ring repeats the one before it
        let base = if twin { r - 1 } else { r };
        for i in 0..len {
            let tag = TAGS[(base * 7 + i) % TAGS.len()];
            out.push_str(&format!("_:r{r}n{i} <http://example.org/next> _:r{r}n{} .\n", (i + 1) % len));
            out.push_str(&format!("_:r{r}n{i} <http://example.org/label> \"node {}\"@{tag} .\n", i % 3));
        }
        if next(3) == 0 {
            out.push_str(&format!("<http://example.org/s{r}> <http://example.org/has> _:r{r}n0 .\n"));
        }
    }
    out
}

/// Language tags keep their case in the canonical form, so `normalized_sha256` equals what
/// pyld (and rdf-canonize) compute, on graphs with blank nodes (RDFC-1.0) and without
/// (sorted N-Triples), read as N-Triples, Turtle and RDF/XML. `language_tags: lowercase`
/// gives the hash of the lower-cased graph, and says so in the mode; a file that writes
/// one tag in two cases is hashed lower case with a note, because no restoration can
/// match implementations that keep both.
#[test]
fn canonical_hashes_equal_pyld_with_mixed_case_language_tags() {
    if !available("canonical_hashes_equal_pyld_with_mixed_case_language_tags", &[Need::PythonReferences]) {
        return;
    }
    let sandbox = Sandbox::offline(crate::BIN);
    let dir = sandbox.root().join("graphs");
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let big = tagged_graph(120, 7);
    let named = "<http://example.org/a> <http://www.w3.org/2000/01/rdf-schema#label> \"colour\"@en-GB .\n\
                 <http://example.org/a> <http://www.w3.org/2000/01/rdf-schema#label> \"cor\"@pt-BR .\n\
                 <http://example.org/b> <http://www.w3.org/2000/01/rdf-schema#label> \"Farbe\"@DE .\n";
    let rdfxml = r#"<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">
  <rdf:Description rdf:nodeID="a"><ex:label xml:lang="en-GB">colour</ex:label><ex:next rdf:nodeID="b"/></rdf:Description>
  <rdf:Description rdf:nodeID="b"><ex:label xml:lang="pt-BR">cor</ex:label><ex:next rdf:nodeID="a"/></rdf:Description>
  <rdf:Description rdf:nodeID="c"><ex:label xml:lang="EN">foo</ex:label></rdf:Description>
  <rdf:Description rdf:nodeID="d"><ex:label xml:lang="fr">foo</ex:label></rdf:Description>
</rdf:RDF>
"#;
    let rdfxml_nt = "_:a <http://example.org/label> \"colour\"@en-GB .\n_:a <http://example.org/next> _:b .\n\
                     _:b <http://example.org/label> \"cor\"@pt-BR .\n_:b <http://example.org/next> _:a .\n\
                     _:c <http://example.org/label> \"foo\"@EN .\n_:d <http://example.org/label> \"foo\"@fr .\n";
    let twice = "_:x <tag:p> \"a\"@en-GB .\n_:y <tag:p> \"b\"@en-gb .\n_:z <tag:p> \"c\"@EN .\n";
    let files = [
        write("big.nt", &big),
        write("big.ttl", &big),
        write("named.nt", named),
        write("doc.rdf", rdfxml),
        write("doc.nt", rdfxml_nt),
        write("twice.nt", twice),
        write("big-lower.nt", &big.to_lowercase_tags()),
        write("twice-lower.nt", &twice.to_lowercase_tags()),
    ];
    assert!(big.lines().count() > 1000, "{}", big.lines().count());
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rdfc_reference.py");
    let out = Command::new(workspace_root().join("target/py-venv/bin/python"))
        .arg(script)
        .args([&files[0], &files[2], &files[4], &files[6], &files[7]])
        .output()
        .unwrap();
    assert!(out.status.success(), "pyld: {}", String::from_utf8_lossy(&out.stderr));
    let pyld: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(str::to_string).collect();
    let [big_ref, named_ref, doc_ref, big_lower_ref, twice_lower_ref] = <[String; 5]>::try_from(pyld).unwrap();
    assert_ne!(big_ref, big_lower_ref, "the case of the tags changes the hash (the test would prove nothing)");

    let validate = |file: &str, spec: Option<&str>| {
        let mut args = vec!["--json", "validate", "--file", file];
        if let Some(s) = spec {
            args.extend(["--spec", s]);
        }
        let (code, v) = sandbox.json(&args);
        assert_eq!(code, 0, "{file}: {v}");
        (
            v["normalized_sha256"].as_str().unwrap_or("none").to_string(),
            v["normalization"].as_str().unwrap().to_string(),
            v,
        )
    };
    for (file, want, mode) in [
        (&files[0], &big_ref, "rdfc-1.0"),
        (&files[1], &big_ref, "rdfc-1.0"),
        (&files[2], &named_ref, "sorted-ntriples"),
        (&files[3], &doc_ref, "rdfc-1.0"),
    ] {
        let (hash, got_mode, v) = validate(file, None);
        assert_eq!((&hash, got_mode.as_str()), (want, mode), "{file}: {v}");
    }
    // lower case, forced by a tag written in two cases
    let (hash, mode, v) = validate(&files[5], None);
    assert_eq!((&hash, mode.as_str()), (&twice_lower_ref, "rdfc-1.0+lowercase-language-tags"), "{v}");
    assert!(v["normalization_note"].as_str().is_some_and(|m| m.contains("two cases")), "{v}");
    // lower case, asked for (last: the spec is ./sources.yaml, which every later command would read)
    let spec =
        sandbox.spec("defaults:\n  validation:\n    language_tags: lowercase\nontologies: []\n").display().to_string();
    let (hash, mode, v) = validate(&files[0], Some(&spec));
    assert_eq!((&hash, mode.as_str()), (&big_lower_ref, "rdfc-1.0+lowercase-language-tags"), "{v}");
}

/// Lower-cases the language tags of an N-Triples document (test input only: a tag is
/// `@` after a closing quote, and these documents have no `@` elsewhere).
trait LowercaseTags {
    fn to_lowercase_tags(&self) -> String;
}

impl LowercaseTags for str {
    fn to_lowercase_tags(&self) -> String {
        self.lines()
            .map(|l| match l.rsplit_once("\"@") {
                Some((head, tail)) => format!("{head}\"@{}", tail.to_lowercase()),
                None => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    }
}
