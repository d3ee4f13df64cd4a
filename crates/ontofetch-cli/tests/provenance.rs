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
    let port = ontofetch_testsupport::local::free_port();
    let _serve = ontofetch_testsupport::local::ChildGuard(
        s.command(&["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let version = dir.file_name().unwrap().to_str().unwrap().to_string();
    let path = format!("/ontologies/onto/{version}/attestation.dsse.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let (status, body) = loop {
        if let Some(answer) = ontofetch_testsupport::local::http_get(port, &path, &[]) {
            break answer;
        }
        assert!(std::time::Instant::now() < deadline, "serve did not answer on {port}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
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
