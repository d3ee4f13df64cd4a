//! Nothing good is ever lost (docs/architecture.md, "Invariants", I9, and "Filesystem
//! rule"): an upstream answering 200 with an error text never becomes a version that
//! counts, a lost catalog is rebuilt from the store, each repair doctor names repairs, a
//! run over some ids merges into the lockfile and its pins hold, no link planted in the data
//! root is followed, and Ctrl-C leaves no staging behind.

use ontofetch_testsupport::cli::Sandbox;
use ontofetch_testsupport::fixtures::{RDF_XML as OWL, owl};
use ontofetch_testsupport::{Fault, Reply};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

fn sandbox() -> Sandbox {
    Sandbox::new(env!("CARGO_BIN_EXE_ontofetch"))
}

/// A spec of `direct` ontologies, each served at `/<id>.owl`; `extra` goes under defaults.
fn spec(s: &Sandbox, ids: &[&str], defaults: &str) -> String {
    let entries: String = ids
        .iter()
        .map(|id| {
            format!(
                "  - id: {id}\n    resolver: direct\n    extras:\n      url: {}\n",
                s.server.url(&format!("/{id}.owl"))
            )
        })
        .collect();
    s.spec(&format!(
        "defaults:\n  resolver_fallback_enabled: false\n{defaults}  http:\n    max_retries: 1\nontologies:\n{entries}"
    ))
    .display()
    .to_string()
}

fn release(id: &str, version: &str) -> Vec<u8> {
    owl(Some(&format!("http://x.org/{id}/releases/{version}/{id}.owl")), version)
}

fn serve(s: &Sandbox, id: &str, body: Vec<u8>, etag: &str) {
    s.server.route(&format!("/{id}.owl"), vec![Reply::ok(body, OWL).header("ETag", etag)]);
}

fn latest(s: &Sandbox, spec: &str, id: &str) -> Option<String> {
    let r = s.run(&["db", "latest", "--spec", spec, "--json"]);
    r.json["latest"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|x| x["ontology"] == id)
        .and_then(|x| x["version"].as_str())
        .map(str::to_string)
}

fn versions(s: &Sandbox, spec: &str, id: &str) -> Vec<(String, String, String)> {
    let r = s.run(&["db", "versions", id, "--spec", spec, "--json"]);
    let mut v: Vec<(String, String, String)> = r.json["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|x| {
            let t = |k: &str| x[k].as_str().unwrap_or_default().to_string();
            (t("version"), t("sha256"), t("verdict"))
        })
        .collect();
    v.sort();
    v
}

fn doctor(s: &Sandbox, spec: &str, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["doctor", "--spec", spec, "--json"];
    all.extend_from_slice(args);
    s.json(&all)
}

/// Item 1: what answers 200 but is no ontology fails validation (exit 1, E_VALIDATION),
/// never becomes latest, is not served as latest, does not count towards `prune --keep`,
/// and `validate --strict` purges it; with `continue_on_error: false` it is not stored.
#[test]
fn an_error_page_served_with_200_never_displaces_the_real_release() {
    let s = sandbox();
    let spec = spec(&s, &["x"], "  continue_on_error: true\n");
    let good = release("x", "2025-01-01");
    serve(&s, "x", good.clone(), "\"1\"");
    assert_eq!(s.run(&["pull", "x", "--spec", &spec, "--json"]).code, 0);
    let junk: [(&str, Vec<u8>); 3] = [
        ("text", b"Service temporarily unavailable. Please try again later.".to_vec()),
        (
            "varnish",
            b"Error 503 Backend fetch failed\nBackend fetch failed\nGuru Meditation:\nXID: 123456\nVarnish cache server\n"
                .to_vec(),
        ),
        ("noise", ontofetch_testsupport::fixtures::noise(200_000, 1)),
    ];
    for (n, (what, body)) in junk.iter().enumerate() {
        s.server.route("/x.owl", vec![Reply::ok(body.clone(), OWL).header("ETag", &format!("\"junk{n}\""))]);
        let r = s.run(&["pull", "x", "--spec", &spec, "--json"]);
        assert_eq!(r.code, 1, "{what}: {}", r.stdout());
        assert_eq!(r.json[0]["status"], "failed", "{what}");
        assert_eq!(r.json[0]["error"]["code"], "E_VALIDATION", "{what}: {}", r.json[0]);
        assert!(
            r.json[0]["error"]["message"].as_str().unwrap().contains("not recognised as an ontology"),
            "{what}: {}",
            r.json[0]["error"]
        );
        assert_eq!(latest(&s, &spec, "x").as_deref(), Some("2025-01-01"), "{what} became latest");
        let shown = std::fs::read(s.root().join("ontologies/x/latest/original/x.owl")).unwrap();
        assert_eq!(shown, good, "{what}: latest/ holds other bytes");
    }
    let stored = versions(&s, &spec, "x");
    assert_eq!(stored.iter().filter(|v| v.2 == "invalid").count(), 3, "{stored:?}");
    // prune --keep 1 keeps the real release: the junk never counted as a version to keep.
    let r = s.run(&["prune", "--keep", "1", "--spec", &spec, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr());
    let after = versions(&s, &spec, "x");
    assert!(after.iter().any(|v| v.0 == "2025-01-01" && v.2 == "valid"), "the release was pruned: {after:?}");
    assert!(s.root().join("ontologies/x/2025-01-01/original/x.owl").exists());
    // validate --strict on a junk version purges it.
    let junk_version = after.iter().find(|v| v.2 == "invalid").map(|v| v.0.clone());
    if let Some(v) = junk_version {
        let r = s.run(&["validate", "x", &v, "--strict", "--spec", &spec, "--json"]);
        assert_eq!((r.code, &r.json["purged"]), (1, &Value::Bool(true)), "{}", r.stdout());
    }
    let (code, d) = doctor(&s, &spec, &["--verify"]);
    assert_eq!(code, 0, "{}", d["problems"]);

    // Strict mode: refused before it is stored.
    let strict = sandbox();
    let sspec = spec_with(&strict, "x", "  continue_on_error: false\n", false);
    serve(&strict, "x", good.clone(), "\"1\"");
    assert_eq!(strict.run(&["pull", "x", "--spec", &sspec, "--json"]).code, 0);
    strict.server.route("/x.owl", vec![Reply::ok(junk[0].1.clone(), OWL).header("ETag", "\"2\"")]);
    let r = strict.run(&["pull", "x", "--spec", &sspec, "--json"]);
    assert_eq!((r.code, &r.json[0]["error"]["code"]), (1, &Value::from("E_VALIDATION")), "{}", r.stdout());
    assert_eq!(versions(&strict, &sspec, "x").len(), 1);
}

/// A spec of one entry `id`, optionally declared opaque.
fn spec_with(s: &Sandbox, id: &str, defaults: &str, opaque: bool) -> String {
    let opaque = if opaque { "      opaque: true\n" } else { "" };
    s.spec(&format!(
        "defaults:\n  resolver_fallback_enabled: false\n{defaults}  http:\n    max_retries: 1\nontologies:\n  - id: {id}\n    resolver: direct\n    extras:\n      url: {}\n{opaque}",
        s.server.url(&format!("/{id}.owl"))
    ))
    .display()
    .to_string()
}

/// An entry declared opaque stores what no validator recognises as `unvalidated` (exit 0);
/// such a version is latest only while none validated, and never displaces one that did.
#[test]
fn an_opaque_source_is_stored_unvalidated_and_never_displaces_a_validated_version() {
    let s = sandbox();
    let spec = spec_with(&s, "x", "  continue_on_error: true\n", true);
    s.server.route("/x.owl", vec![Reply::ok(b"just some text, deliberately".to_vec(), OWL).header("ETag", "\"1\"")]);
    let r = s.run(&["pull", "x", "--spec", &spec, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stdout());
    let first = r.json[0]["version"].as_str().unwrap().to_string();
    assert_eq!(latest(&s, &spec, "x").as_deref(), Some(first.as_str()), "the only version is latest");
    assert_eq!(versions(&s, &spec, "x")[0].2, "unvalidated");
    serve(&s, "x", release("x", "2025-02-02"), "\"2\"");
    assert_eq!(s.run(&["pull", "x", "--spec", &spec, "--json"]).code, 0);
    s.server.route("/x.owl", vec![Reply::ok(b"other text, newer".to_vec(), OWL).header("ETag", "\"3\"")]);
    let r = s.run(&["pull", "x", "--spec", &spec, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stdout());
    assert_eq!(latest(&s, &spec, "x").as_deref(), Some("2025-02-02"), "a newer opaque download displaced it");
    // prune --keep 1 counts only the validated version; the opaque ones older than it go.
    let r = s.run(&["prune", "--keep", "1", "--spec", &spec, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr());
    assert!(versions(&s, &spec, "x").iter().any(|v| v.0 == "2025-02-02"));
    let (code, d) = doctor(&s, &spec, &["--verify"]);
    assert_eq!(code, 0, "{}", d["problems"]);
}

/// Item 2: with the catalog gone, a pull of another ontology makes a fresh one; doctor says
/// so and `--fix` adopts every version directory whose manifest and bytes agree (latest
/// included), moves one that cannot prove itself into the quarantine, and deletes nothing.
#[test]
fn a_lost_catalog_is_rebuilt_from_the_store_and_nothing_is_deleted() {
    let s = sandbox();
    let spec = spec(&s, &["x", "y"], "  continue_on_error: true\n");
    serve(&s, "x", release("x", "2025-01-01"), "\"1\"");
    assert_eq!(s.run(&["pull", "x", "--spec", &spec, "--json"]).code, 0);
    serve(&s, "x", release("x", "2025-02-02"), "\"2\"");
    assert_eq!(s.run(&["pull", "x", "--spec", &spec, "--json"]).code, 0);
    let before = versions(&s, &spec, "x");
    assert_eq!(before.len(), 2);
    // A version directory that cannot prove itself: a copy whose original was damaged.
    let bad = s.root().join("ontologies/x/2024-12-12");
    copy_dir(&s.root().join("ontologies/x/2025-01-01"), &bad);
    std::fs::write(bad.join("original/x.owl"), b"tampered").unwrap();
    for f in ["catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm"] {
        let _ = std::fs::remove_file(s.root().join(f));
    }
    serve(&s, "y", release("y", "2025-03-03"), "\"y\"");
    assert_eq!(s.run(&["pull", "y", "--spec", &spec, "--json"]).code, 0);
    let (code, d) = doctor(&s, &spec, &[]);
    assert_eq!(code, 1, "unrecorded versions are a problem: {d}");
    assert!(s.root().join("ontologies/x/2025-01-01/original/x.owl").exists(), "doctor without --fix removed a version");
    let (code, d) = doctor(&s, &spec, &["--fix"]);
    assert_eq!(code, 0, "{}", d["problems"]);
    let fixes = d["fixes"].to_string();
    assert!(
        fixes.contains("adopted ontologies/x/2025-01-01") && fixes.contains("adopted ontologies/x/2025-02-02"),
        "{fixes}"
    );
    assert!(fixes.contains("quarantine/x/2024-12-12-"), "{fixes}");
    assert_eq!(versions(&s, &spec, "x"), before, "adopted as recorded before");
    assert_eq!(latest(&s, &spec, "x").as_deref(), Some("2025-02-02"));
    let quarantined = s.files_under("quarantine");
    assert!(quarantined.iter().any(|f| f.ends_with("original/x.owl")), "{quarantined:?}");
    let (code, d) = doctor(&s, &spec, &["--verify"]);
    assert_eq!(code, 0, "{}", d["problems"]);
    // The rebuilt catalog serves pulls as before: nothing new upstream, nothing new stored.
    let r = s.run(&["pull", "x", "--spec", &spec, "--json"]);
    assert_eq!((r.code, &r.json[0]["status"]), (0, &Value::from("cached")), "{}", r.stdout());
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// The remedy doctor names for `key` (`doctor_fix` or the command to run).
fn remedy_for(d: &Value, key_end: &str) -> Value {
    d["store"]["integrity"]["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["key"].as_str().is_some_and(|k| k.ends_with(key_end)))
        .map(|f| f["remedy"].clone())
        .unwrap_or_else(|| panic!("no finding for {key_end}: {}", d["problems"]))
}

/// Runs a remedy as doctor names it.
fn run_remedy(s: &Sandbox, spec: &str, remedy: &Value) {
    let args: Vec<String> = match remedy {
        Value::String(t) if t == "doctor_fix" => vec!["doctor".into(), "--fix".into()],
        Value::Object(o) => {
            let cmd = o["run"].as_str().unwrap();
            cmd.split_whitespace().skip(1).map(str::to_string).collect()
        }
        other => panic!("unknown remedy {other}"),
    };
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.extend(["--spec", spec, "--json"]);
    let r = s.run(&all);
    assert!(r.code == 0, "{args:?}: exit {}\n{}\n{}", r.code, r.stdout(), r.stderr());
}

/// Item 3: a byte flipped at the same size, and a deleted manifest: the remedy doctor names,
/// run as named, leaves `doctor --verify` clean, and what `latest/` holds is upstream's bytes.
#[test]
fn each_remedy_doctor_names_repairs_what_it_names() {
    let s = sandbox();
    let spec = spec(&s, &["x"], "");
    let good = release("x", "2025-01-01");
    serve(&s, "x", good.clone(), "\"1\"");
    assert_eq!(s.run(&["pull", "x", "--spec", &spec, "--json"]).code, 0);
    let original = s.root().join("ontologies/x/2025-01-01/original/x.owl");
    let mut bytes = std::fs::read(&original).unwrap();
    bytes[10] ^= 0x20;
    std::fs::write(&original, &bytes).unwrap();
    let (code, d) = doctor(&s, &spec, &["--verify"]);
    assert_eq!(code, 1);
    let remedy = remedy_for(&d, "original/x.owl");
    assert_eq!(remedy["run"], "ontofetch pull --force x", "{remedy}");
    run_remedy(&s, &spec, &remedy);
    let (code, d) = doctor(&s, &spec, &["--verify"]);
    assert_eq!(code, 0, "the remedy left {}", d["problems"]);
    assert_eq!(std::fs::read(s.root().join("ontologies/x/latest/original/x.owl")).unwrap(), good);

    std::fs::remove_file(s.root().join("ontologies/x/2025-01-01/manifest.json")).unwrap();
    let (code, d) = doctor(&s, &spec, &["--verify"]);
    assert_eq!(code, 1);
    let remedy = remedy_for(&d, "manifest.json");
    assert_eq!(remedy, "doctor_fix");
    run_remedy(&s, &spec, &remedy);
    let (code, d) = doctor(&s, &spec, &["--verify"]);
    assert_eq!(code, 0, "the remedy left {}", d["problems"]);
    let shown = s.run(&["show", "x", "--spec", &spec, "--json"]);
    assert_eq!(shown.code, 0, "{}", shown.stderr());
    assert_eq!(shown.json["sha256"], ontofetch_fsutil::sha256_bytes(&good));
    assert_eq!(s.run(&["validate", "x", "--spec", &spec, "--json"]).code, 0);
}

fn lock_entries(path: &Path) -> Vec<Value> {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["entries"].as_array().cloned().unwrap()
}

fn pin_of(entries: &[Value], id: &str) -> Option<String> {
    entries.iter().find(|e| e["id"] == id).and_then(|e| e["expected_checksum"]["value"].as_str()).map(str::to_string)
}

/// Item 4: a pull or a plan of some ids merges into the lockfile; a plan keeps the pins of
/// what is stored; `pull --lock` fills a missing pin, refuses other bytes (E_CHECKSUM,
/// exit 3, latest unchanged) unless `--update-lock`, and `--locked` never writes.
#[test]
fn lockfiles_merge_and_their_pins_hold() {
    let s = sandbox();
    let spec = spec(&s, &["a", "b", "c"], "");
    for id in ["a", "b", "c"] {
        serve(&s, id, release(id, "2025-01-01"), "\"1\"");
    }
    assert_eq!(s.run(&["pull", "--spec", &spec, "--json"]).code, 0);
    let lock = s.path("ontologies.lock.json");
    assert_eq!(lock_entries(&lock).len(), 3);
    assert_eq!(s.run(&["pull", "a", "--spec", &spec, "--json"]).code, 0);
    assert_eq!(lock_entries(&lock).len(), 3, "pull a cut the lockfile down");
    assert_eq!(s.run(&["plan", "b", "--spec", &spec, "--json"]).code, 0);
    let entries = lock_entries(&lock);
    assert_eq!(entries.len(), 3, "plan b cut the lockfile down");
    let pin_b = ontofetch_fsutil::sha256_bytes(&release("b", "2025-01-01"));
    assert_eq!(pin_of(&entries, "b").as_deref(), Some(pin_b.as_str()), "plan dropped b's pin");
    // A plan into a new file pins what the catalog stores for the same URL.
    assert_eq!(s.run(&["plan", "--spec", &spec, "--lock-output", "fresh.lock.json", "--json"]).code, 0);
    let fresh = lock_entries(&s.path("fresh.lock.json"));
    assert!(fresh.iter().all(|e| !e["expected_checksum"].is_null()), "{fresh:?}");

    // Upstream changes b: the pinned replay refuses it.
    serve(&s, "b", release("b", "2025-02-02"), "\"2\"");
    let lock_arg = lock.display().to_string();
    let r = s.run(&["pull", "--lock", &lock_arg, "b", "--spec", &spec, "--json"]);
    assert_eq!(r.code, 3, "{}", r.stdout());
    assert_eq!(r.json[0]["error"]["code"], "E_CHECKSUM");
    assert_eq!(latest(&s, &spec, "b").as_deref(), Some("2025-01-01"));
    // --locked never writes, --update-lock takes the new bytes and pins them.
    let r = s.run(&["pull", "--lock", &lock_arg, "b", "--update-lock", "--spec", &spec, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stdout());
    let pin_b2 = ontofetch_fsutil::sha256_bytes(&release("b", "2025-02-02"));
    assert_eq!(pin_of(&lock_entries(&lock), "b").as_deref(), Some(pin_b2.as_str()));
    assert_eq!(latest(&s, &spec, "b").as_deref(), Some("2025-02-02"));

    // An entry without a pin (written by hand, or by an older plan) is filled by the pull.
    let mut entries = lock_entries(&lock);
    for e in &mut entries {
        if e["id"] == "c" {
            e["expected_checksum"] = Value::Null;
        }
    }
    std::fs::write(&lock, serde_json::json!({"schema_version": "1.0", "entries": entries}).to_string()).unwrap();
    let r = s.run(&["pull", "--lock", &lock_arg, "c", "--locked", "--spec", &spec, "--json"]);
    assert_eq!(r.code, 2, "--locked pulled an unpinned entry: {}", r.stdout());
    assert!(pin_of(&lock_entries(&lock), "c").is_none(), "--locked wrote the lockfile");
    let r = s.run(&["pull", "--lock", &lock_arg, "c", "--spec", &spec, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stdout());
    let pin_c = ontofetch_fsutil::sha256_bytes(&release("c", "2025-01-01"));
    assert_eq!(pin_of(&lock_entries(&lock), "c").as_deref(), Some(pin_c.as_str()), "the pin was not filled");
    assert_eq!(lock_entries(&lock).len(), 3);
}

/// A tree beside the data root that no command may change: a directory named like a
/// version, and a file a link may point at.
fn sentinel(s: &Sandbox) -> std::path::PathBuf {
    let out = s.path("elsewhere");
    std::fs::create_dir_all(out.join("2025-01-01/original")).unwrap();
    std::fs::write(out.join("2025-01-01/original/x.owl"), b"not yours").unwrap();
    std::fs::write(out.join("precious.txt"), b"precious").unwrap();
    out
}

/// Item 5: links planted at `.staging`, at an ontology's directory, at a rate-limit file
/// and at a lease file are reported, never followed; doctor's text escapes planted names.
#[test]
fn links_planted_in_the_data_root_are_never_followed() {
    use std::os::unix::fs::symlink;
    let s = sandbox();
    let spec = spec(&s, &["x", "y"], "  continue_on_error: true\n");
    serve(&s, "x", release("x", "2025-01-01"), "\"1\"");
    serve(&s, "y", release("y", "2025-01-01"), "\"1\"");
    assert_eq!(s.run(&["pull", "--spec", &spec, "--json"]).code, 0);
    let out = sentinel(&s);
    // `.staging` -> elsewhere, with a directory there that looks like a killed pull's.
    std::fs::create_dir_all(out.join("x-999999-1")).unwrap();
    let digest = ontofetch_testsupport::tree_digest(&out);
    let root = s.root();
    std::fs::remove_dir_all(root.join(".staging")).ok();
    symlink(&out, root.join(".staging")).unwrap();
    serve(&s, "x", release("x", "2025-02-02"), "\"2\"");
    let r = s.run(&["pull", "x", "--spec", &spec, "--json"]);
    assert_ne!(r.code, 0, "a pull staged through a planted link: {}", r.stdout());
    let (code, d) = doctor(&s, &spec, &["--fix"]);
    assert_eq!(code, 1, "a planted link is a problem");
    assert!(d["problems"].to_string().contains("planted at .staging"), "{}", d["problems"]);
    assert_eq!(ontofetch_testsupport::tree_digest(&out), digest, "something outside the root changed");
    std::fs::remove_file(root.join(".staging")).unwrap();

    // ontologies/y -> elsewhere (which holds a directory named like a version).
    std::fs::rename(root.join("ontologies/y"), s.path("y-real")).unwrap();
    symlink(&out, root.join("ontologies/y")).unwrap();
    let (code, d) = doctor(&s, &spec, &["--fix"]);
    assert_eq!(code, 1);
    assert!(d["problems"].to_string().contains("planted at ontologies/y"), "{}", d["problems"]);
    serve(&s, "y", release("y", "2025-03-03"), "\"3\"");
    let _ = s.run(&["pull", "y", "--spec", &spec, "--json"]);
    assert_eq!(ontofetch_testsupport::tree_digest(&out), digest, "something outside the root changed");
    std::fs::remove_file(root.join("ontologies/y")).unwrap();
    std::fs::rename(s.path("y-real"), root.join("ontologies/y")).unwrap();

    // Rate-limit slots and lease files planted as links to a file outside.
    let rates = root.join("cache/rate-limits");
    std::fs::create_dir_all(&rates).unwrap();
    for e in std::fs::read_dir(&rates).unwrap().flatten() {
        std::fs::remove_file(e.path()).unwrap();
    }
    let host = format!("host_{}.gcra", s.server.allow_entry().replace(':', "_"));
    for name in ["service_direct.gcra", host.as_str(), "host_127.0.0.1.gcra"] {
        let _ = symlink(out.join("precious.txt"), rates.join(name));
    }
    std::fs::create_dir_all(root.join(".locks")).unwrap();
    let _ = std::fs::remove_file(root.join(".locks/x.lock"));
    symlink(out.join("precious.txt"), root.join(".locks/x.lock")).unwrap();
    let _ = s.run(&["pull", "--spec", &spec, "--json"]);
    assert_eq!(std::fs::read(out.join("precious.txt")).unwrap(), b"precious", "written through a planted link");
    assert_eq!(ontofetch_testsupport::tree_digest(&out), digest, "something outside the root changed");

    // Planted names cannot forge doctor's lines or reach the terminal raw.
    std::fs::create_dir_all(root.join("ontologies/x/\u{1b}[2J\nFAKE: all good")).unwrap();
    let r = s.run(&["doctor", "--spec", &spec]);
    let text = r.stdout();
    assert!(!text.contains('\u{1b}'), "a raw ESC reached the terminal: {text:?}");
    assert!(!text.lines().any(|l| l.starts_with("FAKE")), "a forged line: {text}");
}

/// Item 6: Ctrl-C on a pull removes its staging and exits 130; doctor then finds nothing.
#[test]
fn ctrl_c_cleans_its_staging_and_exits_130() {
    let s = sandbox();
    let spec = spec(&s, &["x"], "");
    // A body that arrives slowly enough to be interrupted mid-download.
    s.server.route(
        "/x.owl",
        vec![Reply::ok(vec![b' '; 2 << 20], OWL).fault(Fault::Slow { chunk: 4096, delay: Duration::from_millis(20) })],
    );
    let mut child = s.command(&["pull", "x", "--spec", &spec]).spawn().unwrap();
    // Once its staging exists, interrupt it.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while s.staging_is_empty() {
        assert!(std::time::Instant::now() < deadline, "the pull never staged");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    let sent = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert!(s.staging_is_empty(), "staging left: {:?}", std::fs::read_dir(s.root().join(".staging")).unwrap().count());
    let (code, d) = doctor(&s, &spec, &[]);
    assert_eq!(code, 0, "{}", d["problems"]);
}

/// What the store holds outside the layout (a `junk/` directory, a CAS copy no row records)
/// is listed by doctor and never deleted, `--fix` or not.
#[test]
fn strays_are_listed_and_never_deleted() {
    let s = sandbox();
    let spec = spec(&s, &["x"], "  enable_cas_mirror: true\n");
    serve(&s, "x", release("x", "2025-01-01"), "\"1\"");
    assert_eq!(s.run(&["pull", "x", "--spec", &spec, "--json"]).code, 0);
    std::fs::create_dir_all(s.root().join("junk")).unwrap();
    std::fs::write(s.root().join("junk/notes.txt"), b"mine").unwrap();
    let stray_cas = s.root().join("by-sha256/00/00");
    std::fs::create_dir_all(&stray_cas).unwrap();
    std::fs::write(stray_cas.join("0".repeat(64)), b"orphan copy").unwrap();
    for fix in [false, true] {
        let (code, d) = doctor(&s, &spec, if fix { &["--fix"] } else { &[] });
        assert_eq!(code, 0, "{}", d["problems"]);
        let strays = d["store"]["strays"].to_string();
        assert!(strays.contains("junk") && strays.contains(&"0".repeat(64)), "{strays}");
        assert!(d["notes"].to_string().contains("does not recognise"), "{}", d["notes"]);
        assert!(s.root().join("junk/notes.txt").exists() && stray_cas.join("0".repeat(64)).exists());
    }
}
