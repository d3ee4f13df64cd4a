//! `serve` as the mirror: the API, artifacts with ETag/Range/conditional requests, PURL-style
//! paths, the gates on every request path, separate auth for artifacts and metrics, and the
//! status page rendered by a real headless Chromium.

use ontofetch_testsupport::Reply;
use ontofetch_testsupport::cli::Sandbox;
use ontofetch_testsupport::fixtures::{RDF_XML as OWL, owl};
use ontofetch_testsupport::local::{ChildGuard, free_port, metric_value};
use ontofetch_testsupport::servers::{Need, available};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TINY_OBO: &str = "format-version: 1.2\ndata-version: 2025-01-01\nontology: tiny\n\n[Term]\nid: TINY:1\nname: one\n\n[Term]\nid: TINY:2\nname: two\nis_a: TINY:1\n";

/// A machine with a configured mirror: the harness's sandbox, its loopback server the
/// registry.
struct Mirror(Sandbox);

impl std::ops::Deref for Mirror {
    type Target = Sandbox;
    fn deref(&self) -> &Sandbox {
        &self.0
    }
}

/// One HTTP/1.0 exchange: (status, headers with lower-case names, body).
struct Answer {
    status: u16,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
}

fn request(port: u16, method: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    write!(s, "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n{extra}\r\n").unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Answer { status, headers, body: raw[split + 4..].to_vec() }
}

impl Mirror {
    fn new() -> Self {
        let m = Mirror(Sandbox::new(env!("CARGO_BIN_EXE_ontofetch")));
        let registry = &m.server;
        registry.route("/obo/bfo.owl", vec![Reply::ok(owl(None, "bfo served from the mirror"), OWL)]);
        registry.route("/files/tiny.obo", vec![Reply::ok(TINY_OBO, "text/plain")]);
        registry.route("/obo/evil.owl", vec![Reply::redirect(302, "http://169.254.169.254/latest/meta-data/")]);
        let spec = format!(
            "defaults:\n  resolver_fallback_enabled: false\nontologies:\n  - id: bfo\n  - id: evil\n  - id: tiny\n    resolver: direct\n    extras:\n      url: {}\n",
            m.server.url("/files/tiny.obo")
        );
        m.spec(&spec);
        m
    }

    /// The sandbox's command with the mirror's configuration.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.0.command(args);
        cmd.arg("--spec").arg(self.path("sources.yaml"));
        cmd
    }

    fn serve(&self, extra: &[&str]) -> (ChildGuard, u16) {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut args = vec!["serve", "--listen", &listen];
        args.extend_from_slice(extra);
        let child = ChildGuard(self.command(&args).stderr(Stdio::null()).spawn().unwrap());
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "serve did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        (child, port)
    }
}

fn chromium(args: &[&str]) -> std::process::Output {
    let profile = tempfile::tempdir().unwrap();
    let bin = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|b| {
            Command::new("sh").arg("-c").arg(format!("command -v {b}")).output().is_ok_and(|o| o.status.success())
        })
        .expect("chromium is installed by .ci/run");
    Command::new("timeout")
        .arg("90")
        .arg(bin)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn the_mirror_serves_what_the_catalog_records_and_nothing_else() {
    if !available("the_mirror_serves_what_the_catalog_records_and_nothing_else", &[Need::Chromium]) {
        return;
    }
    let m = Mirror::new();
    let out = m.command(&["pull", "--json", "--no-lock"]).output().unwrap();
    let pulled: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(3), "evil is refused, the others stored: {pulled}");
    let token = m.dir.path().join("artifacts.token");
    std::fs::write(&token, "mirror-token\n").unwrap();

    // artifacts protected, metrics open: each has its own credentials
    let (guard, port) = m.serve(&["--artifacts-bearer-token-file", token.to_str().unwrap()]);
    assert_eq!(request(port, "GET", "/api/v1/ontologies", &[]).status, 401);
    assert_eq!(request(port, "GET", "/obo/bfo.owl", &[]).status, 401);
    assert_eq!(request(port, "GET", "/metrics", &[]).status, 200);
    let auth = [("Authorization", "Bearer mirror-token")];
    assert_eq!(request(port, "GET", "/api/v1/ontologies", &auth).status, 200);
    drop(guard);

    let (_serve, port) = m.serve(&[]);
    let get = |path: &str, headers: &[(&str, &str)]| request(port, "GET", path, headers);

    // the API: one object per ontology, the latest version and how pulls ended
    let list = get("/api/v1/ontologies", &[]).json();
    let by_id = |id: &str| list.as_array().unwrap().iter().find(|o| o["id"] == id).cloned().unwrap();
    let bfo = by_id("bfo");
    let version = bfo["version"].as_str().unwrap().to_string();
    let sha = bfo["sha256"].as_str().unwrap().to_string();
    assert_eq!(bfo["validation"], "ok", "{bfo}");
    assert!(bfo["terms"].as_u64().unwrap() > 0, "{bfo}");
    assert_eq!(by_id("tiny")["terms"], 2);
    let evil = by_id("evil");
    assert_eq!((evil["version"].clone(), evil["last_error_code"].clone()), (Value::Null, "E_PRIVATE_IP".into()));
    assert_eq!(evil["refusals_24h"], 1);
    let detail = get("/api/v1/ontologies/bfo", &[]).json();
    assert_eq!(detail["manifest"]["sha256"], sha.as_str());
    let files: Vec<&str> =
        detail["versions"][0]["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert!(files.contains(&"original/bfo.owl") && files.contains(&"manifest.json"), "{files:?}");
    assert_eq!(get("/api/v1/ontologies/nope", &[]).status, 404);

    // the bytes, with a strong ETag, conditional requests and ranges
    let stored = std::fs::read(m.root().join(format!("ontologies/bfo/{version}/original/bfo.owl"))).unwrap();
    let whole = get("/ontologies/bfo/latest/original/bfo.owl", &[]);
    assert_eq!((whole.status, &whole.body), (200, &stored));
    let etag = format!("\"{sha}\"");
    assert_eq!(whole.header("etag"), etag);
    assert_eq!(whole.header("content-type"), "application/rdf+xml");
    assert_eq!(whole.header("cache-control"), "no-cache", "latest moves");
    assert!(httpdate::parse_http_date(whole.header("last-modified")).is_ok(), "{:?}", whole.headers);
    let same = get("/ontologies/bfo/latest/original/bfo.owl", &[("If-None-Match", &etag)]);
    assert_eq!((same.status, same.body.len()), (304, 0));
    let part = get("/ontologies/bfo/latest/original/bfo.owl", &[("Range", "bytes=5-14")]);
    assert_eq!((part.status, part.header("content-range")), (206, format!("bytes 5-14/{}", stored.len()).as_str()));
    assert_eq!(part.body, stored[5..15]);
    let past = get("/ontologies/bfo/latest/original/bfo.owl", &[("Range", &format!("bytes={}-", stored.len()))]);
    assert_eq!((past.status, past.header("content-range")), (416, format!("bytes */{}", stored.len()).as_str()));
    let stale = get("/ontologies/bfo/latest/original/bfo.owl", &[("Range", "bytes=0-3"), ("If-Range", "\"other\"")]);
    assert_eq!((stale.status, stale.body.len()), (200, stored.len()), "If-Range of another version: whole file");
    let head = request(port, "HEAD", "/ontologies/bfo/latest/original/bfo.owl", &[]);
    assert_eq!(
        (head.status, head.header("content-length"), head.body.len()),
        (200, stored.len().to_string().as_str(), 0)
    );
    let pinned = get(&format!("/ontologies/bfo/{version}/bfo.owl"), &[]);
    assert_eq!((pinned.status, pinned.header("cache-control")), (200, "public, max-age=31536000, immutable"));
    let manifest = get("/ontologies/bfo/latest/manifest.json", &[]).json();
    assert_eq!(manifest["id"], "bfo");

    // PURL-style paths redirect inside the mirror; a missing format names what exists
    let purl = get("/obo/bfo.owl", &[]);
    assert_eq!(
        (purl.status, purl.header("location")),
        (302, format!("/ontologies/bfo/{version}/original/bfo.owl").as_str())
    );
    assert_eq!(get("/obo/tiny.obo", &[]).status, 302);
    let missing = get("/obo/bfo.json", &[]);
    assert_eq!(missing.status, 404);
    let missing = missing.json();
    assert_eq!(missing["code"], "E_NOT_FOUND");
    assert!(missing["available"].as_array().unwrap().contains(&"/obo/bfo.owl".into()), "{missing}");
    assert_eq!(get("/obo/evil.owl", &[]).status, 404);

    // every request path goes through the gates, encoded or not
    for (path, code) in [
        ("/ontologies/bfo/latest/../../../../etc/passwd", "E_TRAVERSAL"),
        ("/ontologies/bfo/latest/..%2f..%2f..%2fetc%2fpasswd", "E_TRAVERSAL"),
        ("/ontologies/bfo/latest/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "E_TRAVERSAL"),
        ("/ontologies/..%5c..%5cetc/latest/passwd", "E_TRAVERSAL"),
        ("/ontologies/bfo/..%00/x", "E_TRAVERSAL"),
        ("/ontologies/bfo/latest/original/%00bfo.owl", "E_TRAVERSAL"),
    ] {
        let a = get(path, &[]);
        assert_eq!(a.status, 400, "{path}: {}", String::from_utf8_lossy(&a.body));
        assert_eq!(a.json()["code"], code, "{path}");
    }
    // only recorded files: a file (or link) planted in a version directory is not served
    let vdir = m.root().join(format!("ontologies/bfo/{version}/original"));
    std::os::unix::fs::symlink("/etc/passwd", vdir.join("passwd.owl")).unwrap();
    std::fs::write(vdir.join("planted.owl"), "planted").unwrap();
    assert_eq!(get("/ontologies/bfo/latest/original/passwd.owl", &[]).status, 404);
    assert_eq!(get("/ontologies/bfo/latest/original/planted.owl", &[]).status, 404);
    // and a recorded file swapped for a link out of the store is refused, never followed
    let tiny_latest = by_id("tiny")["version"].as_str().unwrap().to_string();
    let tiny = m.root().join(format!("ontologies/tiny/{tiny_latest}/original/tiny.obo"));
    std::fs::remove_file(&tiny).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", &tiny).unwrap();
    let swapped = get("/ontologies/tiny/latest/original/tiny.obo", &[]);
    assert_eq!(swapped.status, 503);
    assert!(!String::from_utf8_lossy(&swapped.body).contains("root:"), "never the target's bytes");
    for (method, path) in [("POST", "/api/v1/ontologies"), ("DELETE", "/ontologies/bfo/latest/original/bfo.owl")] {
        assert_eq!(request(port, method, path, &[]).status, 405, "{method} {path}");
    }

    // what was served is counted by route and class, refusals by gate and code
    let metrics = String::from_utf8(get("/metrics", &[]).body).unwrap();
    let value = |series: &str| metric_value(&metrics, series).unwrap_or_else(|| panic!("{series}\n{metrics}"));
    assert!(value("ontofetch_served_requests_total{route=\"artifact\",code_class=\"2xx\"}") >= 5.0);
    assert!(value("ontofetch_served_requests_total{route=\"artifact\",code_class=\"4xx\"}") >= 6.0);
    assert_eq!(value("ontofetch_served_requests_total{route=\"purl\",code_class=\"3xx\"}"), 2.0);
    assert!(value("ontofetch_served_bytes_total{route=\"artifact\"}") >= (2 * stored.len()) as f64);
    assert!(value("ontofetch_gate_rejections_total{gate=\"filesystem\",code=\"E_TRAVERSAL\"}") >= 2.0);

    // the status page, in a real browser: what a person sees, and at phone width
    let dom = chromium(&["--dump-dom", &format!("http://127.0.0.1:{port}/")]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("<table id=\"ontologies\""), "{dom}");
    let row = |id: &str| {
        let start = dom.find(&format!(">{id}<")).unwrap_or_else(|| panic!("{id} in {dom}"));
        dom[start..start + dom[start..].find("</tr>").unwrap()].to_string()
    };
    assert!(row("bfo").contains(&version) && row("bfo").contains("class=\"ok\""), "{}", row("bfo"));
    assert!(row("evil").contains("E_PRIVATE_IP") && row("evil").contains("not pulled yet"), "{}", row("evil"));
    assert!(dom.contains("2 of 3 ontologies mirrored") && dom.contains("1 gate refusals"), "{dom}");
    let shot = m.dir.path().join("status-phone.png");
    let out = chromium(&[
        &format!("--screenshot={}", shot.display()),
        "--window-size=390,844",
        "--hide-scrollbars",
        &format!("http://127.0.0.1:{port}/"),
    ]);
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert!(png.starts_with(b"\x89PNG") && png.len() > 5_000, "a rendered page, {} bytes", png.len());
    // kept for people to look at
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("status-phone.png");
    std::fs::copy(&shot, &keep).unwrap();
}

/// Two releases of a small ontology in RDF/XML, written the way the OBO tool chain
/// writes them: classes with labels, IAO:0000115 definitions, named and anonymous
/// superclasses, `owl:deprecated`.
/// (id, label, definition, named parents, deprecated)
type Class<'a> = (&'a str, &'a str, Option<&'a str>, &'a [&'a str], bool);

fn release(classes: &[Class<'_>]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\"?>\n<rdf:RDF xmlns=\"http://purl.obolibrary.org/obo/demo.owl#\"\n \
         xmlns:obo=\"http://purl.obolibrary.org/obo/\"\n xmlns:owl=\"http://www.w3.org/2002/07/owl#\"\n \
         xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"\n xmlns:rdfs=\"http://www.w3.org/2000/01/rdf-schema#\">\n \
         <owl:Ontology rdf:about=\"http://purl.obolibrary.org/obo/demo.owl\"/>\n",
    );
    for (id, label, def, parents, deprecated) in classes {
        out.push_str(&format!(
            " <owl:Class rdf:about=\"http://purl.obolibrary.org/obo/{id}\">\n  <rdfs:label>{label}</rdfs:label>\n"
        ));
        if let Some(d) = def {
            out.push_str(&format!("  <obo:IAO_0000115>{d}</obo:IAO_0000115>\n"));
        }
        for p in *parents {
            out.push_str(&format!("  <rdfs:subClassOf rdf:resource=\"http://purl.obolibrary.org/obo/{p}\"/>\n"));
        }
        out.push_str(
            "  <rdfs:subClassOf><owl:Restriction><owl:onProperty rdf:resource=\"http://purl.obolibrary.org/obo/BFO_0000050\"/>\
             <owl:someValuesFrom rdf:resource=\"http://purl.obolibrary.org/obo/DEMO_0000001\"/></owl:Restriction></rdfs:subClassOf>\n",
        );
        if *deprecated {
            out.push_str(
                "  <owl:deprecated rdf:datatype=\"http://www.w3.org/2001/XMLSchema#boolean\">true</owl:deprecated>\n",
            );
        }
        out.push_str(" </owl:Class>\n");
    }
    out.push_str("</rdf:RDF>\n");
    out
}

#[test]
fn a_new_release_is_diffed_against_the_last_one_and_mapped_for_owl_tools() {
    let m = Mirror::new();
    let v1 = release(&[
        ("DEMO_0000001", "cell", Some("The basic unit of life."), &[], false),
        ("DEMO_0000002", "neuron", Some("A cell that fires."), &["DEMO_0000001"], false),
        ("DEMO_0000003", "glia", None, &["DEMO_0000001"], false),
        ("DEMO_0000004", "axon", Some("A projection."), &["DEMO_0000001"], false),
    ]);
    let v2 = release(&[
        ("DEMO_0000001", "cell", Some("The basic structural unit of life."), &[], false),
        ("DEMO_0000002", "nerve cell", Some("A cell that fires."), &["DEMO_0000001"], false),
        ("DEMO_0000003", "glial cell", None, &["DEMO_0000002"], false),
        ("DEMO_0000004", "axon", Some("A projection."), &["DEMO_0000001"], true),
        ("DEMO_0000005", "dendrite", None, &["DEMO_0000001"], false),
        ("DEMO_0000006", "synapse", None, &["DEMO_0000001"], false),
    ]);
    m.server.route("/obo/bfo.owl", vec![Reply::ok(v1, OWL)]);
    let metrics = m.dir.path().join("pull.prom");
    let pull = |extra: &[&str]| {
        let mut args =
            vec!["--metrics-textfile", metrics.to_str().unwrap(), "pull", "--json", "--no-lock", "bfo", "tiny"];
        args.extend_from_slice(extra);
        let out = m.command(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    pull(&[]);
    let (code, err) = {
        let out = m.command(&["diff", "bfo"]).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    assert_eq!(code, Some(2), "one version cannot be diffed");
    assert!(err.contains("needs two"), "{err}");

    m.server.route("/obo/bfo.owl", vec![Reply::ok(v2, OWL)]);
    m.server.route("/files/tiny.obo", vec![Reply::ok(TINY_OBO.replace("name: two", "name: deux"), "text/plain")]);
    let results = pull(&[]);
    let bfo = results.as_array().unwrap().iter().find(|r| r["id"] == "bfo").unwrap();
    assert_eq!(bfo["status"], "updated", "{bfo}");
    assert!(bfo["notes"].to_string().contains("2 added, 0 removed, 1 obsoleted, 2 relabelled"), "{bfo}");

    // the command, by default the two latest versions
    let out = m.command(&["diff", "bfo", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    let counts = &d["counts"];
    let n = |k: &str| counts[k].as_u64().unwrap();
    assert_eq!(
        (n("added"), n("removed"), n("obsoleted"), n("relabelled"), n("definition_changed"), n("parents_changed")),
        (2, 0, 1, 2, 1, 1),
        "{d}"
    );
    assert_eq!((d["terms_old"].as_u64(), d["terms_new"].as_u64()), (Some(4), Some(6)));
    let relabelled = d["changes"]["relabelled"].as_array().unwrap();
    assert!(
        relabelled.iter().any(|c| c["id"] == "http://purl.obolibrary.org/obo/DEMO_0000002"
            && c["before"] == "neuron"
            && c["after"] == "nerve cell"),
        "{d}"
    );
    let text = m.command(&["diff", "bfo"]).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("neuron → nerve cell") && text.contains("4 → 6 terms"), "{text}");
    // naming the versions the other way round is the reverse diff
    let versions = m.command(&["show", "bfo", "--versions", "--json"]).output().unwrap();
    let versions: Value = serde_json::from_slice(&versions.stdout).unwrap();
    let (newer, older) =
        (versions["versions"][0]["version"].as_str().unwrap(), versions["versions"][1]["version"].as_str().unwrap());
    let back = m.command(&["diff", "bfo", newer, older, "--json"]).output().unwrap();
    let back: Value = serde_json::from_slice(&back.stdout).unwrap();
    assert_eq!((back["counts"]["removed"].as_u64(), back["counts"]["added"].as_u64()), (Some(2), Some(0)), "{back}");
    // OBO too, from its frames
    let tiny: Value = serde_json::from_slice(&m.command(&["diff", "tiny", "--json"]).output().unwrap().stdout).unwrap();
    assert_eq!(tiny["counts"]["relabelled"], 1, "{tiny}");
    assert_eq!(tiny["changes"]["relabelled"][0]["id"], "TINY:2");

    // kept with the version: in the manifest, in the catalog (the API), in the metrics
    let manifest: Value =
        serde_json::from_slice(&m.command(&["show", "bfo", "--json"]).output().unwrap().stdout).unwrap();
    assert_eq!(
        (manifest["diff"]["previous"].as_str(), manifest["diff"]["counts"]["added"].as_u64()),
        (Some(older), Some(2))
    );
    let prom = std::fs::read_to_string(&metrics).unwrap();
    assert_eq!(metric_value(&prom, "ontofetch_ontology_terms{ontology=\"bfo\"}"), Some(6.0), "{prom}");
    assert_eq!(
        metric_value(&prom, "ontofetch_ontology_term_changes_total{ontology=\"bfo\",kind=\"added\"}"),
        Some(2.0)
    );
    assert_eq!(metric_value(&prom, "ontofetch_ontology_terms_removed_ratio{ontology=\"bfo\"}"), Some(0.0));
    let (_serve, port) = m.serve(&[]);
    let api = request(port, "GET", "/api/v1/ontologies/bfo", &[]).json();
    assert_eq!(api["diff"]["summary"]["counts"]["obsoleted"], 1, "{}", api["diff"]);

    // the XML catalog maps the PURL, the pulled URL and the version IRI to the mirror
    let catalog = m.dir.path().join("catalog-v001.xml");
    let base = format!("http://127.0.0.1:{port}");
    let out = m
        .command(&["export", "catalog-xml", "--base-url", &base, "--out", catalog.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let xml = std::fs::read_to_string(&catalog).unwrap();
    let target = format!("uri=\"{base}/ontologies/bfo/latest/original/bfo.owl\"");
    assert!(xml.contains(&format!("name=\"http://purl.obolibrary.org/obo/bfo.owl\" {target}")), "{xml}");
    assert!(xml.contains(&format!("name=\"{}\" {target}", m.server.url("/obo/bfo.owl"))), "{xml}");
    // and what it points at is served
    let served = request(port, "GET", "/ontologies/bfo/latest/original/bfo.owl", &[]);
    assert_eq!(served.status, 200);
    let bad = m.command(&["export", "catalog-xml", "--base-url", "file:///etc"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
