//! Provenance a consumer can verify (issue 37, first part): the signing key, the signed
//! attestation stored with every version, `verify` of a stored version and of a file
//! handed out, and the envelope checked by securesystemslib, a DSSE implementation not
//! written here.

use ontofetch_testsupport::Reply;
use ontofetch_testsupport::cli::Sandbox;
use ontofetch_testsupport::fixtures::{RDF_XML, owl};
use ontofetch_testsupport::servers::{Need, available, workspace_root};
use serde_json::Value;
use std::path::PathBuf;

/// A mirror of one ontology, `onto`, pulled once.
fn mirror(signed: bool) -> (Sandbox, String) {
    let s = Sandbox::new(crate::BIN);
    s.server.route("/onto.owl", vec![Reply::ok(owl(None, "the attested release"), RDF_XML)]);
    // The plan's URL redirects (the redirect gate allows the hop): the predicate names it.
    s.server.route("/old/onto.owl", vec![Reply::redirect(302, &s.server.url("/onto.owl"))]);
    s.spec(&format!(
        "ontologies:\n  - id: onto\n    resolver: direct\n    extras: {{url: \"{}\"}}\n",
        s.server.url("/old/onto.owl")
    ));
    let mut vkey = String::new();
    if signed {
        let (code, made) = s.json(&["keys", "generate", "--name", "mirror.test/ontofetch", "--json"]);
        assert_eq!(code, 0, "{made}");
        vkey = made["verifier_key"].as_str().unwrap().to_string();
    }
    let pulled = s.run(&["pull", "onto", "--json", "--no-lock"]);
    assert_eq!(pulled.code, 0, "{}", pulled.stderr());
    (s, vkey)
}

fn version_dir(s: &Sandbox) -> PathBuf {
    let v = s.version_dirs("onto");
    assert_eq!(v.len(), 1, "{v:?}");
    s.root().join("ontologies/onto").join(&v[0])
}

/// `keys generate` writes a 0600 key and prints its verifier key in the signed-note form;
/// it never replaces a key; `keys show` prints the same verifier key; every pulled version
/// carries an attestation the catalog records, and `verify` checks it end to end.
#[test]
fn a_signed_mirror_attests_every_version_and_verify_checks_it() {
    use std::os::unix::fs::PermissionsExt;
    let (s, vkey) = mirror(true);
    let parts: Vec<&str> = vkey.splitn(3, '+').collect();
    assert_eq!(parts[0], "mirror.test/ontofetch", "{vkey}");
    assert_eq!(parts[1].len(), 8, "{vkey}");
    let key_file = s.root().join("keys/signing.key");
    assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    let again = s.run(&["keys", "generate", "--json"]);
    assert_eq!(again.code, 2, "never over an existing key: {}", again.stdout());
    let (code, shown) = s.json(&["keys", "show", "--json"]);
    assert_eq!((code, shown["verifier_key"].as_str()), (0, Some(vkey.as_str())));
    // The signing key's secret half (after `PRIVATE+KEY+name+id+`) is rendered nowhere: not by
    // the key commands, a pull, doctor, the configuration (even unredacted) or verify.
    let secret = std::fs::read_to_string(&key_file).unwrap();
    let secret = secret.trim().splitn(5, '+').nth(4).unwrap().to_string();
    for args in [
        vec!["keys", "show", "--json"],
        vec!["keys", "show"],
        vec!["pull", "onto", "--json", "--no-lock"],
        vec!["doctor", "--verify", "--json"],
        vec!["config", "show", "--no-redact", "--json"],
        vec!["verify", "onto", "--json"],
        vec!["show", "onto", "--json"],
    ] {
        let out = s.run(&args);
        assert!(
            !out.stdout().contains(&secret) && !out.stderr().contains(&secret),
            "{args:?} rendered the signing key"
        );
    }

    let dir = version_dir(&s);
    let envelope: Value = serde_json::from_slice(&std::fs::read(dir.join("attestation.dsse.json")).unwrap()).unwrap();
    assert_eq!(envelope["payloadType"], "application/vnd.in-toto+json");
    use base64::Engine as _;
    let payload = base64::engine::general_purpose::STANDARD.decode(envelope["payload"].as_str().unwrap()).unwrap();
    let statement: Value = serde_json::from_slice(&payload).unwrap();
    let p = &statement["predicate"];
    assert_eq!(p["url"], s.server.url("/old/onto.owl"), "{p}");
    assert_eq!(p["final_url"], s.server.url("/onto.owl"), "{p}");
    assert_eq!(p["redirects"], serde_json::json!([s.server.url("/old/onto.owl")]), "{p}");
    assert!(p["remote_address"].as_str().is_some_and(|a| a.starts_with("127.0.0.1:")), "{p}");
    assert_eq!(p["gates"], serde_json::json!(["url", "redirect", "ip", "storage", "filesystem", "db_boundary"]));
    let (code, files) = s.json(&["db", "files", "onto", "--json"]);
    assert_eq!(code, 0);
    let kinds: Vec<&str> = files["files"].as_array().unwrap().iter().filter_map(|f| f["kind"].as_str()).collect();
    assert!(kinds.contains(&"attestation"), "recorded like any file of the version: {kinds:?}");

    let (code, ok) = s.json(&["verify", "onto", "--json"]);
    assert_eq!(code, 0, "{ok}");
    let names: Vec<&str> = ok["files"].as_array().unwrap().iter().filter_map(|f| f["name"].as_str()).collect();
    assert!(names.contains(&"original/onto.owl") && names.iter().any(|n| n.starts_with("normalized/")), "{names:?}");
    let original = dir.join("original/onto.owl");
    let (code, file_ok) = s.json(&["verify", "--file", original.to_str().unwrap(), "--key", &vkey, "--json"]);
    assert_eq!(code, 0, "a file handed out, checked with the published key: {file_ok}");

    // doctor --verify checks every attestation under the key (I10); the key's directory is
    // part of the layout, not a stray.
    let (code, doctor) = s.json(&["doctor", "--verify", "--json"]);
    assert_eq!(code, 0, "{doctor}");
    assert_eq!(doctor["signing"]["verifier_key"].as_str(), Some(vkey.as_str()));
    assert!(!doctor["notes"].to_string().contains("keys"), "{}", doctor["notes"]);

    // A served mirror hands the attestation out beside the files, byte for byte.
    let (_serve, port) = serve(&s);
    let version = dir.file_name().unwrap().to_str().unwrap().to_string();
    let path = format!("/ontologies/onto/{version}/attestation.dsse.json");
    let (status, body) = ontofetch_testsupport::local::http_get(port, &path, &[]).unwrap();
    assert!(status.contains("200"), "{status} {body}");
    assert_eq!(body.as_bytes(), std::fs::read(dir.join("attestation.dsse.json")).unwrap().as_slice());

    // Another key is not the trusted one: refused with the stable code, exit 3.
    let stranger = Sandbox::new(crate::BIN);
    let (_, other) = stranger.json(&["keys", "generate", "--name", "mirror.test/ontofetch", "--json"]);
    let refused = s.run(&["verify", "onto", "--key", other["verifier_key"].as_str().unwrap()]);
    assert_eq!(refused.code, 3, "{}", refused.stderr());
    assert!(refused.stderr().contains("E_ATTESTATION"), "{}", refused.stderr());

    // A byte flipped without a size change: the bytes are not the attested ones.
    let mut bytes = std::fs::read(&original).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x20;
    std::fs::write(&original, &bytes).unwrap();
    for args in [vec!["verify", "onto"], vec!["verify", "--file", original.to_str().unwrap(), "--key", &vkey]] {
        let flipped = s.run(&args);
        assert_eq!(flipped.code, 3, "{args:?}: {}", flipped.stderr());
        assert!(flipped.stderr().contains("E_ATTESTATION") && flipped.stderr().contains("not the attested bytes"));
    }
}

/// Without a key everything works as before, unsigned: no attestation, `doctor` says so,
/// and `verify` says why it cannot.
#[test]
fn an_unsigned_mirror_says_so() {
    let (s, _) = mirror(false);
    assert!(!version_dir(&s).join("attestation.dsse.json").exists());
    let (code, doctor) = s.json(&["doctor", "--json"]);
    assert_eq!(code, 0, "{doctor}");
    let notes = doctor["notes"].to_string();
    assert!(notes.contains("stored unsigned"), "{notes}");
    let (_, stranger) = Sandbox::new(crate::BIN).json(&["keys", "generate", "--json"]);
    let out = s.run(&["verify", "onto", "--key", stranger["verifier_key"].as_str().unwrap()]);
    assert_eq!(out.code, 3, "{}", out.stderr());
    assert!(out.stderr().contains("stored unsigned"), "{}", out.stderr());
}

/// securesystemslib (PyPI) verifies the envelope under the mirror's public key and reads
/// the in-toto statement: its subjects are the stored files' SHA-256; a tampered payload
/// fails there too.
#[test]
fn securesystemslib_verifies_the_attestation() {
    if !available("securesystemslib_verifies_the_attestation", &[Need::PythonReferences]) {
        return;
    }
    let (s, _) = mirror(true);
    let (_, shown) = s.json(&["keys", "show", "--json"]);
    let keyid = {
        let v = shown["verifier_key"].as_str().unwrap();
        let mut p = v.splitn(3, '+');
        format!("{}+{}", p.next().unwrap(), p.next().unwrap())
    };
    let public = shown["public_key_hex"].as_str().unwrap().to_string();
    let dir = version_dir(&s);
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dsse_reference.py");
    let python = workspace_root().join("target/py-venv/bin/python");
    let check = |envelope: &std::path::Path| -> Value {
        let out =
            std::process::Command::new(&python).arg(&script).arg(envelope).arg(&keyid).arg(&public).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let theirs = check(&dir.join("attestation.dsse.json"));
    assert_eq!(theirs["verified"], true, "{theirs}");
    assert_eq!(theirs["statement_type"], "https://in-toto.io/Statement/v1");
    let original = ontofetch_fsutil::sha256_file(&dir.join("original/onto.owl")).unwrap();
    assert_eq!(theirs["subjects"]["original/onto.owl"], original.as_str(), "{theirs}");
    // The same envelope with another payload: securesystemslib refuses it as we do.
    let mut env: Value = serde_json::from_slice(&std::fs::read(dir.join("attestation.dsse.json")).unwrap()).unwrap();
    use base64::Engine as _;
    let mut statement: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD.decode(env["payload"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    statement["subject"][0]["digest"]["sha256"] = Value::from("0".repeat(64));
    env["payload"] = Value::from(base64::engine::general_purpose::STANDARD.encode(statement.to_string()));
    let forged = s.path("forged.json");
    std::fs::write(&forged, env.to_string()).unwrap();
    assert_eq!(check(&forged)["verified"], false);
}

/// Serves the sandbox's mirror on a free port until dropped; returns it with its port.
fn serve(s: &Sandbox) -> (ontofetch_testsupport::local::ChildGuard, u16) {
    let port = ontofetch_testsupport::local::free_port();
    let child = ontofetch_testsupport::local::ChildGuard(
        s.command(&["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while ontofetch_testsupport::local::http_get(port, "/healthz", &[]).is_none() {
        assert!(std::time::Instant::now() < deadline, "serve did not answer on {port}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    (child, port)
}

/// Pulls a new release of `onto` (a new version, a new log entry).
fn release(s: &Sandbox, text: &str) {
    s.server.route("/onto.owl", vec![Reply::ok(owl(None, text), RDF_XML)]);
    let pulled = s.run(&["pull", "onto", "--json", "--no-lock"]);
    assert_eq!(pulled.code, 0, "{}", pulled.stderr());
}

/// Runs Go's golang.org/x/mod/sumdb/{note,tlog} (tests/tlog_reference.go) against a served
/// log: it verifies the checkpoint, proves every entry's inclusion from the tiles and,
/// given an earlier checkpoint, the log's consistency with it.
fn go_verifier(base: &str, vkey: &str, earlier: Option<&std::path::Path>) -> Result<Value, String> {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tlog_reference.go");
    let cache = workspace_root().join("target/go-cache");
    let mut cmd = std::process::Command::new("go");
    cmd.arg("run").arg(&script).arg(base).arg(vkey);
    if let Some(e) = earlier {
        cmd.arg(e);
    }
    let out = cmd
        .env("GO111MODULE", "off")
        .env("GOPATH", ontofetch_testsupport::servers::GOPATH)
        .env("GOCACHE", &cache)
        .env("GOFLAGS", "-mod=mod")
        .env("GOTOOLCHAIN", "local")
        .env("HOME", &cache)
        .output()
        .unwrap();
    if out.status.success() {
        Ok(serde_json::from_slice(&out.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Every attestation goes into the transparency log in record order, under a checkpoint
/// signed by the mirror's key; `show` gives each version's index; `verify` proves the
/// inclusion and remembers the checkpoint; `serve` hands the log out as tlog-tiles lays it
/// out, and Go's sumdb/note and sumdb/tlog (not written here) verify the checkpoint, every
/// entry's inclusion and the log's growth from an earlier checkpoint. A log rolled back or
/// forked behind a consumer's back is refused with E_LOG_INCONSISTENT.
#[test]
fn the_log_is_published_served_and_checked_by_go() {
    let (s, vkey) = mirror(true);
    let (code, shown) = s.json(&["log", "show", "--json"]);
    assert_eq!(code, 0, "{shown}");
    assert_eq!((shown["size"].as_u64(), shown["pending"].as_u64()), (Some(1), Some(0)), "{shown}");
    assert_eq!(shown["origin"], "mirror.test/ontofetch");
    let earlier = s.path("earlier.checkpoint");
    std::fs::copy(s.root().join("log/checkpoint"), &earlier).unwrap();
    release(&s, "the second release");
    release(&s, "the third release");
    let (_, shown) = s.json(&["log", "show", "--json"]);
    assert_eq!((shown["size"].as_u64(), shown["catalog_entries"].as_u64()), (Some(3), Some(3)), "{shown}");
    let checkpoint = std::fs::read_to_string(s.root().join("log/checkpoint")).unwrap();
    assert!(checkpoint.starts_with("mirror.test/ontofetch\n3\n"), "{checkpoint}");
    // Each version's index, in record order; the latest's in `show --json`.
    let (code, history) = s.json(&["show", "onto", "--versions", "--json"]);
    assert_eq!(code, 0, "{history}");
    let mut indexes: Vec<(String, u64)> = history["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["downloaded_at"].as_str().unwrap().to_string(), v["log_index"].as_u64().unwrap()))
        .collect();
    indexes.sort();
    assert_eq!(indexes.iter().map(|(_, i)| *i).collect::<Vec<_>>(), [0, 1, 2], "{history}");
    let (_, latest) = s.json(&["show", "onto", "--json"]);
    assert_eq!(latest["log_index"], 2, "{latest}");
    let (code, ok) = s.json(&["verify", "onto", "--json"]);
    assert_eq!(code, 0, "{ok}");
    assert_eq!((ok["log"]["log_index"].as_u64(), ok["log"]["checkpoint_size"].as_u64()), (Some(2), Some(3)), "{ok}");

    let (_serve, port) = serve(&s);
    let base = format!("http://127.0.0.1:{port}/log");
    let (status, body) = ontofetch_testsupport::local::http_get(port, "/log/checkpoint", &[]).unwrap();
    assert!(status.contains("200"), "{status}");
    assert_eq!(body, checkpoint, "served byte for byte");
    // A partial tile changes with the log: fetched again each time, with the stored bytes.
    let (head, tile) = ontofetch_testsupport::local::http_get_raw(port, "/log/tile/0/000.p/3", &[]).unwrap();
    assert!(head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"), "{head}");
    assert!(head.to_ascii_lowercase().contains("cache-control: no-cache"), "{head}");
    assert_eq!(tile, std::fs::read(s.root().join("log/tile/0/000.p/3")).unwrap());
    assert_eq!(tile.len(), 3 * 32, "three leaf hashes");
    for bad in ["/log/tile/8/0/000", "/log/tile/0/000.p/0", "/log/tile/0/../../catalog.sqlite", "/log/keys"] {
        let (status, _) = ontofetch_testsupport::local::http_get(port, bad, &[]).unwrap();
        assert!(status.contains("404"), "{bad}: {status}");
    }
    if available("the_log_is_published_served_and_checked_by_go", &[Need::GoTlog]) {
        let theirs = go_verifier(&base, &vkey, Some(&earlier)).unwrap_or_else(|e| panic!("Go refused the log: {e}"));
        assert_eq!((theirs["size"].as_u64(), theirs["consistent_with"].as_i64()), (Some(3), Some(1)), "{theirs}");
        // The entries are the stored attestations, byte for byte, in record order.
        let mut stored: Vec<(String, String)> = s
            .version_dirs("onto")
            .iter()
            .map(|v| {
                let dir = s.root().join("ontologies/onto").join(v);
                let manifest: Value =
                    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
                let sha = ontofetch_fsutil::sha256_file(&dir.join("attestation.dsse.json")).unwrap();
                (manifest["downloaded_at"].as_str().unwrap().to_string(), sha)
            })
            .collect();
        stored.sort();
        let theirs: Vec<&str> = theirs["entries_sha256"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        assert_eq!(theirs, stored.iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>());
        // Go refuses an entry rewritten in its bundle (the tree no longer proves it).
        let bundle = s.root().join("log/tile/entries/000.p/3");
        let kept = std::fs::read(&bundle).unwrap();
        let mut flipped = kept.clone();
        let at = flipped.len() - 10;
        flipped[at] ^= 0x01;
        std::fs::write(&bundle, &flipped).unwrap();
        let refused = go_verifier(&base, &vkey, None).unwrap_err();
        assert!(refused.contains("not in the tree"), "{refused}");
        std::fs::write(&bundle, &kept).unwrap();
        // Go refuses a checkpoint signed by another key.
        let stranger = Sandbox::new(crate::BIN);
        let (_, other) = stranger.json(&["keys", "generate", "--name", "mirror.test/ontofetch", "--json"]);
        assert!(go_verifier(&base, other["verifier_key"].as_str().unwrap(), None).is_err());
    }

    // A consumer with a file, its attestation and the served log.
    let consumer = Sandbox::new(crate::BIN);
    let dir = version_dir_of(&s, 2);
    let file = dir.join("original/onto.owl");
    let allow = format!("127.0.0.1:{port}");
    let check = |args: &[&str]| {
        let mut all = vec!["verify", "--file", file.to_str().unwrap(), "--key", &vkey, "--log", &base, "--json"];
        all.extend_from_slice(args);
        let out = consumer.bare_command(&all).arg("--allowed-hosts").arg(&allow).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = check(&[]);
    assert_eq!(code, 0, "{out}{err}");
    let ok: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((ok["log"]["log_index"].as_u64(), ok["log"]["consistent_with"].as_u64()), (Some(2), None), "{ok}");
    let remembered = consumer.files_under("trust");
    assert_eq!(remembered.len(), 1, "the checkpoint is remembered per origin: {remembered:?}");

    // The mirror's log rolled back behind the consumer's back (the earlier checkpoint put
    // back): the consumer that saw 3 entries refuses a log of 1.
    let current = s.root().join("log/checkpoint");
    let kept = std::fs::read(&current).unwrap();
    std::fs::copy(&earlier, &current).unwrap();
    let first = version_dir_of(&s, 0).join("original/onto.owl");
    let out = consumer
        .bare_command(&["verify", "--file", first.to_str().unwrap(), "--key", &vkey, "--log", &base])
        .arg("--allowed-hosts")
        .arg(&allow)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("E_LOG_INCONSISTENT") && err.contains("rollback"), "{err}");
    std::fs::write(&current, &kept).unwrap();

    // A forked history signed by the same key (another mirror given a copy of the key):
    // the same size, another tree. The consumer refuses it.
    let fork = forked(&s);
    let (_fork_serve, fork_port) = serve(&fork);
    let fork_file = version_dir_of(&fork, 2).join("original/onto.owl");
    let out = consumer
        .bare_command(&[
            "verify",
            "--file",
            fork_file.to_str().unwrap(),
            "--key",
            &vkey,
            "--log",
            &format!("http://127.0.0.1:{fork_port}/log"),
        ])
        .arg("--allowed-hosts")
        .arg(format!("127.0.0.1:{fork_port}"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("E_LOG_INCONSISTENT") && err.contains("forked"), "{err}");
    // The mirror's own log is untouched by all this.
    let (code, ok) = s.json(&["verify", "onto", "--json"]);
    assert_eq!(code, 0, "{ok}");
}

/// Another mirror given a copy of `of`'s signing key, with a history of its own: three
/// releases of `onto`, so a log of the same origin and size as a mirror's of three, but
/// another tree.
fn forked(of: &Sandbox) -> Sandbox {
    let fork = Sandbox::new(crate::BIN);
    std::fs::create_dir_all(fork.root().join("keys")).unwrap();
    std::fs::copy(of.root().join("keys/signing.key"), fork.root().join("keys/signing.key")).unwrap();
    fork.spec(&format!(
        "ontologies:\n  - id: onto\n    resolver: direct\n    extras: {{url: \"{}\"}}\n",
        fork.server.url("/onto.owl")
    ));
    for text in ["fork one", "fork two", "fork three"] {
        fork.server.route("/onto.owl", vec![Reply::ok(owl(None, text), RDF_XML)]);
        assert_eq!(fork.run(&["pull", "onto", "--json", "--no-lock"]).code, 0);
    }
    fork
}

/// The version directory of `onto` recorded `nth` (0-based, by download time).
fn version_dir_of(s: &Sandbox, nth: usize) -> PathBuf {
    let mut dirs: Vec<(String, PathBuf)> = s
        .version_dirs("onto")
        .iter()
        .map(|v| {
            let dir = s.root().join("ontologies/onto").join(v);
            let manifest: Value = serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
            (manifest["downloaded_at"].as_str().unwrap().to_string(), dir)
        })
        .collect();
    dirs.sort();
    dirs.swap_remove(nth).1
}

/// A catalog lost from disk loses no log entry: the next publication restores the entries
/// from the store's bundles (proven against the signed checkpoint) before it appends, and
/// the adopted versions verify at their old indexes.
#[test]
fn a_lost_catalog_keeps_its_log() {
    let (s, _) = mirror(true);
    release(&s, "the second release");
    let (_, before) = s.json(&["verify", "onto", "--json"]);
    assert_eq!(before["log"]["log_index"], 1, "{before}");
    for f in ["catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm"] {
        let _ = std::fs::remove_file(s.root().join(f));
    }
    release(&s, "the third release");
    let (_, shown) = s.json(&["log", "show", "--json"]);
    assert_eq!((shown["size"].as_u64(), shown["catalog_entries"].as_u64()), (Some(3), Some(3)), "{shown}");
    let (code, fixed) = s.json(&["doctor", "--fix", "--json"]);
    assert_eq!(code, 0, "{fixed}");
    let (_, shown) = s.json(&["log", "show", "--json"]);
    assert_eq!(
        (shown["size"].as_u64(), shown["pending"].as_u64()),
        (Some(3), Some(0)),
        "adopted, not logged twice: {shown}"
    );
    let second = version_dir_of(&s, 1);
    let version = second.file_name().unwrap().to_str().unwrap();
    let (code, ok) = s.json(&["verify", "onto", version, "--json"]);
    assert_eq!(code, 0, "{ok}");
    assert_eq!(ok["log"]["log_index"], 1, "the index it had before the loss: {ok}");
    let (code, doctor) = s.json(&["doctor", "--verify", "--json"]);
    assert_eq!(code, 0, "{doctor}");
}

/// A laptop's mirror pulls from the team's (`resolver: mirror`): the same bytes under the
/// same version, the team's attestation kept beside, the team's checkpoint remembered.
/// Bytes the attestation does not name are refused before anything is stored, and so is a
/// history rewritten behind the laptop's back (another log under the same key).
#[test]
fn a_mirror_pulls_from_a_mirror_and_refuses_what_does_not_verify() {
    let (team, vkey) = mirror(true);
    let (_serve, port) = serve(&team);
    let base = format!("http://127.0.0.1:{port}");
    let allow = format!("127.0.0.1:{port}");
    let consumer = |name: &str| {
        let s = Sandbox::new(crate::BIN);
        s.spec(&format!(
            "ontologies:\n  - id: onto\n    resolver: mirror\n    extras: {{url: \"{base}\", key: \"{vkey}\"}}\n"
        ));
        assert!(!name.is_empty());
        s
    };
    let pull = |s: &Sandbox| {
        let out = s
            .bare_command(&["pull", "onto", "--json", "--no-lock"])
            .arg("--allowed-hosts")
            .arg(&allow)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
        )
    };
    let laptop = consumer("laptop");
    let (code, out) = pull(&laptop);
    assert_eq!(code, 0, "{out}");
    let theirs = version_dir(&team);
    let ours = version_dir(&laptop);
    assert_eq!(theirs.file_name(), ours.file_name(), "the same version");
    assert_eq!(
        std::fs::read(theirs.join("original/onto.owl")).unwrap(),
        std::fs::read(ours.join("original/onto.owl")).unwrap()
    );
    assert_eq!(
        std::fs::read(theirs.join("attestation.dsse.json")).unwrap(),
        std::fs::read(ours.join("upstream.attestation.dsse.json")).unwrap(),
        "the team's attestation, kept beside"
    );
    let json = |s: &Sandbox, args: &[&str]| {
        let out = s.bare_command(args).arg("--allowed-hosts").arg(&allow).output().unwrap();
        (out.status.code().unwrap_or(-1), serde_json::from_slice::<Value>(&out.stdout).unwrap_or(Value::Null))
    };
    let (_, files) = json(&laptop, &["db", "files", "onto", "--json"]);
    assert!(files.to_string().contains("\"upstream\""), "recorded: {files}");
    assert_eq!(laptop.files_under("trust").len(), 1, "the team's checkpoint is remembered");
    let (code, doctor) = json(&laptop, &["doctor", "--verify", "--json"]);
    assert_eq!(code, 0, "{doctor}");

    // A new release on the team's mirror: its log grew; the laptop follows.
    release(&team, "the second release");
    let (code, out) = pull(&laptop);
    assert_eq!(code, 0, "{out}");
    assert_eq!(laptop.version_dirs("onto").len(), 2);

    // Bytes the attestation does not name (a byte flipped in the team's store): refused,
    // nothing stored.
    let served = version_dir_of(&team, 1).join("original/onto.owl");
    let kept = std::fs::read(&served).unwrap();
    let mut flipped = kept.clone();
    let at = flipped.len() / 2;
    flipped[at] ^= 0x20;
    std::fs::write(&served, &flipped).unwrap();
    let fresh = consumer("fresh");
    let (code, out) = pull(&fresh);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("E_ATTESTATION") && out.contains("not the ones its attestation names"), "{out}");
    assert!(fresh.version_dirs("onto").is_empty(), "nothing stored");
    std::fs::write(&served, &kept).unwrap();

    // A history rewritten under the same key: another mirror given a copy of the team's key,
    // with its own releases, now answering at the team's address. The laptop, which saw
    // the team's log of 2 entries, refuses it.
    let fork = forked(&team);
    drop(_serve);
    let (_fork_serve, fork_port) = serve(&fork);
    let fork_base = format!("http://127.0.0.1:{fork_port}");
    laptop.spec(&format!(
        "ontologies:\n  - id: onto\n    resolver: mirror\n    extras: {{url: \"{fork_base}\", key: \"{vkey}\"}}\n"
    ));
    let before = laptop.version_dirs("onto");
    let out = laptop
        .bare_command(&["pull", "onto", "--json", "--no-lock"])
        .arg("--allowed-hosts")
        .arg(format!("127.0.0.1:{fork_port}"))
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("E_LOG_INCONSISTENT") && text.contains("rewritten"), "{text}");
    assert_eq!(laptop.version_dirs("onto"), before, "nothing stored from the forked mirror");
}

/// Over HTTPS the attestation names the TLS peer's leaf certificate (its DER's SHA-256)
/// beside the dialed address: a laptop pulling from the team's mirror served with TLS,
/// trusting the test's own CA.
#[test]
fn over_tls_the_attestation_names_the_peer_certificate() {
    let (team, vkey) = mirror(true);
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    let openssl = |args: &[&str]| {
        let ok = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("openssl makes the test certificates");
        assert!(ok.success(), "openssl {args:?}");
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=ontofetch test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
    ]);
    std::fs::write(p("ext"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n").unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "ext",
        "-out",
        "leaf.pem",
    ]);
    let port = ontofetch_testsupport::local::free_port();
    let _serve = ontofetch_testsupport::local::ChildGuard(
        team.command(&[
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--tls-cert",
            p("leaf.pem").to_str().unwrap(),
            "--tls-key",
            p("leaf.key").to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap(),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "serve did not listen on {port}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let laptop = Sandbox::new(crate::BIN);
    laptop.spec(&format!(
        "ontologies:\n  - id: onto\n    resolver: mirror\n    extras: {{url: \"https://127.0.0.1:{port}\", key: \"{vkey}\"}}\n"
    ));
    let run = |args: &[&str]| {
        laptop
            .bare_command(args)
            .arg("--allowed-hosts")
            .arg(format!("127.0.0.1:{port}"))
            .env("SSL_CERT_FILE", p("ca.pem"))
            .output()
            .unwrap()
    };
    assert!(run(&["keys", "generate", "--name", "laptop.test/ontofetch"]).status.success());
    let out = run(&["pull", "onto", "--json", "--no-lock"]);
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let envelope: Value =
        serde_json::from_slice(&std::fs::read(version_dir(&laptop).join("attestation.dsse.json")).unwrap()).unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let statement: Value = serde_json::from_slice(&b64.decode(envelope["payload"].as_str().unwrap()).unwrap()).unwrap();
    let pem = std::fs::read_to_string(p("leaf.pem")).unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = b64.decode(body).unwrap();
    let want = ontofetch_fsutil::sha256_bytes(&der);
    let predicate = &statement["predicate"];
    assert_eq!(predicate["tls_peer_certificate_sha256"], want.as_str(), "{predicate}");
    assert_eq!(predicate["remote_address"], format!("127.0.0.1:{port}"), "{predicate}");
    assert_eq!(predicate["resolver"], "mirror", "{predicate}");
}
