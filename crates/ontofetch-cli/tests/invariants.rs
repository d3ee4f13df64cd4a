//! The mirror's invariants (docs/architecture.md, "Invariants") under random sequences of
//! operations, checked after every step against a model of what the mirror should hold:
//! pulls of new, identical and broken releases, 304s, outages, re-validation (strict or
//! not), prune, doctor --fix, reads through `serve`, a pull killed with SIGKILL at a random
//! moment, pulls with their import closure (killed in the middle of it too), and files lost
//! from the store behind the tool's back. Run on SQLite + a
//! directory and on PostgreSQL + S3 (real servers on 127.0.0.1).
//!
//! A failure prints its seed; `ONTOFETCH_STATE_SEED=N` replays it and
//! `ONTOFETCH_STATE_STEPS=N` runs longer (docs/architecture.md, "Tests").

use ontofetch_provenance::VerifierKey;
use ontofetch_provenance::log;
use ontofetch_testsupport::cli::Sandbox;
use ontofetch_testsupport::fixtures::RDF_XML;
use ontofetch_testsupport::local::{ChildGuard, free_port, http_get};
use ontofetch_testsupport::pg::Cluster;
use ontofetch_testsupport::s3::S3Server;
use ontofetch_testsupport::servers::{Need, available};
use ontofetch_testsupport::{Fault, Reply};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const IDS: &[&str] = &["alpha", "beta"];
const BUCKET: &str = "mirror";

/// SplitMix64: tiny, seedable, good enough to pick moves.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The seed and the number of steps. CI runs fixed seeds (`fixed`, one per backend), so a
/// failure in CI is never chance and always replays; `ONTOFETCH_STATE_SEED=N` replays a
/// seed, `ONTOFETCH_STATE_SEED=random` explores a new one (printed first), and
/// `ONTOFETCH_STATE_STEPS=N` runs longer (docs/architecture.md, "Tests").
fn seed_and_steps(fixed: u64, default_steps: usize) -> (u64, usize) {
    let seed = match std::env::var("ONTOFETCH_STATE_SEED").ok().as_deref().map(str::trim) {
        Some("random") => {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(7)
        }
        Some(n) => n.parse().unwrap_or_else(|_| panic!("ONTOFETCH_STATE_SEED={n:?}: give a number or `random`")),
        None => fixed,
    };
    let steps = std::env::var("ONTOFETCH_STATE_STEPS").ok().and_then(|s| s.parse().ok()).unwrap_or(default_steps);
    (seed, steps)
}

/// How to replay a seed: the test binary is `integration`, the module `invariants`.
fn replay_hint(seed: u64) -> String {
    format!("ONTOFETCH_STATE_SEED={seed} cargo test -p ontofetch-cli --test integration invariants::")
}

/// One upstream release of an ontology.
#[derive(Clone, Debug)]
struct Release {
    version: String,
    good: bool,
    body: Vec<u8>,
    sha: String,
    etag: String,
}

impl Release {
    fn new(id: &str, n: u32, good: bool) -> Release {
        let version = format!("2025-{:02}-{:02}", 1 + n / 28, 1 + n % 28);
        let iri = format!("http://x.org/{id}/releases/{version}/{id}.owl");
        // Every other good release has blank nodes: a restriction, and a node that points
        // at itself (the RDFC-1.0 self-loop the fuzzer found), so the state machine's moves
        // (kills, adoption, re-validation, a lost catalog) run on canonicalised versions too.
        let blank = if n % 2 == 1 {
            format!(
                "<owl:Class rdf:about=\"http://x.org/{id}#D{n}\"><rdfs:subClassOf><owl:Restriction>\
                 <owl:onProperty rdf:resource=\"http://x.org/p\"/><owl:someValuesFrom rdf:nodeID=\"s{n}\"/>\
                 </owl:Restriction></rdfs:subClassOf></owl:Class>\n\
                 <rdf:Description rdf:nodeID=\"s{n}\"><rdfs:seeAlso rdf:nodeID=\"s{n}\"/></rdf:Description>\n"
            )
        } else {
            String::new()
        };
        let body = if good {
            format!(
                "<?xml version=\"1.0\"?>\n<rdf:RDF xmlns:owl=\"http://www.w3.org/2002/07/owl#\" \
                 xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" \
                 xmlns:rdfs=\"http://www.w3.org/2000/01/rdf-schema#\">\n\
                 <owl:Ontology rdf:about=\"http://x.org/{id}\"><owl:versionIRI rdf:resource=\"{iri}\"/></owl:Ontology>\n\
                 <owl:Class rdf:about=\"http://x.org/{id}#C{n}\"><rdfs:label>class {n}</rdfs:label></owl:Class>\n\
                 {blank}</rdf:RDF>\n"
            )
        } else {
            // Named like a release (the version is readable), but not well-formed XML.
            format!(
                "<?xml version=\"1.0\"?>\n<rdf:RDF xmlns:owl=\"http://www.w3.org/2002/07/owl#\" \
                 xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n\
                 <owl:Ontology rdf:about=\"http://x.org/{id}\"><owl:versionIRI rdf:resource=\"{iri}\"/></owl:Ontology>\n\
                 <owl:Class rdf:about=\"http://x.org/{id}#broken{n}\">\n</rdf:RDF>\n"
            )
        };
        let body = body.into_bytes();
        let sha = ontofetch_fsutil::sha256_bytes(&body);
        Release { version, good, etag: format!("\"{id}-{n}\""), body, sha }
    }

    /// What an upstream answers with 200 when it is not the ontology: an error text, or
    /// random bytes. Stored as a failed version; its name is the tool's (from the content).
    fn garbage(id: &str, n: u32, random: bool) -> Release {
        let body = if random {
            ontofetch_testsupport::fixtures::noise(20_000, u64::from(n))
        } else {
            format!("Service temporarily unavailable. Please try again later. ({id} {n})").into_bytes()
        };
        let sha = ontofetch_fsutil::sha256_bytes(&body);
        Release { version: String::new(), good: false, etag: format!("\"{id}-{n}-junk\""), body, sha }
    }

    /// A good release above the store's multipart threshold (16 MiB).
    fn big(id: &str, n: u32) -> Release {
        let mut r = Release::new(id, n, true);
        let text = String::from_utf8(r.body)
            .unwrap()
            .replace("</rdf:RDF>", &format!("<!-- {} -->\n</rdf:RDF>", "x".repeat(17 << 20)));
        r.body = text.into_bytes();
        r.sha = ontofetch_fsutil::sha256_bytes(&r.body);
        r.etag = format!("\"{id}-{n}-big\"");
        r
    }

    /// The version the mirror holds once it is stored.
    fn stored(&self) -> Stored {
        Stored { version: self.version.clone(), sha: self.sha.clone(), good: self.good, body: self.body.clone() }
    }

    /// A good release that imports `import` (a URL the test server answers).
    fn importing(id: &str, n: u32, import: &str) -> Release {
        let mut r = Release::new(id, n, true);
        let text = String::from_utf8(r.body).unwrap().replacen(
            "<owl:versionIRI",
            &format!("<owl:imports rdf:resource=\"{import}\"/><owl:versionIRI"),
            1,
        );
        r.body = text.into_bytes();
        r.sha = ontofetch_fsutil::sha256_bytes(&r.body);
        r.etag = format!("\"{id}-{n}-importing\"");
        r
    }
}

/// A version the mirror should hold.
#[derive(Clone, Debug, PartialEq)]
struct Stored {
    version: String,
    sha: String,
    good: bool,
    body: Vec<u8>,
}

/// What one ontology should look like.
#[derive(Default, Debug)]
struct Model {
    /// The release upstream serves now.
    upstream: Option<Release>,
    releases: u32,
    /// In download order (oldest first).
    stored: Vec<Stored>,
    /// The original's file name, when it is not `<id>.owl` (an import, named by its URL).
    file: Option<String>,
    /// The SHA-256 the lockfile pins for it: what its last successful pull stored.
    pinned: Option<String>,
}

impl Model {
    fn latest(&self) -> Option<&Stored> {
        self.stored.iter().rev().find(|s| s.good)
    }

    fn holding(&self, sha: &str) -> Option<&Stored> {
        self.stored.iter().find(|s| s.sha == sha)
    }

    /// `prune --keep k`: newest first, everything is kept until `k` good versions are.
    fn prune(&mut self, keep: usize) {
        let mut good = 0;
        let mut kept = Vec::new();
        for s in self.stored.iter().rev() {
            if good < keep {
                good += usize::from(s.good);
                kept.push(s.clone());
            }
        }
        kept.reverse();
        self.stored = kept;
    }
}

enum Backend {
    Local,
    Shared { _pg: Cluster, s3: S3Server, catalog_url: String },
}

struct Mirror {
    /// The machine: its home, data root and upstream on loopback.
    sandbox: Sandbox,
    backend: Backend,
    serve: Option<(ChildGuard, u16)>,
    seed: u64,
    step: usize,
    log: Vec<String>,
    /// The last step killed a pull: the next pull may adopt what it left (`cached`).
    after_kill: bool,
    /// A tree beside the data root that no command may change, and its digest.
    sentinel: (PathBuf, String),
    /// The mirror's verifier key (the state machine runs a signed mirror).
    vkey: Option<VerifierKey>,
    /// The log's checkpoint after the previous step: every later one must extend it.
    checkpoint: std::cell::RefCell<Option<Vec<u8>>>,
}

impl std::ops::Deref for Mirror {
    type Target = Sandbox;
    fn deref(&self) -> &Sandbox {
        &self.sandbox
    }
}

impl Mirror {
    fn new(backend: Backend, seed: u64) -> Mirror {
        let sandbox = Sandbox::new(env!("CARGO_BIN_EXE_ontofetch"));
        let (server, dir) = (&sandbox.server, &sandbox.dir);
        let entries: String = IDS
            .iter()
            .map(|id| {
                format!(
                    "  - id: {id}\n    resolver: direct\n    extras:\n      url: {}\n",
                    server.url(&format!("/{id}.owl"))
                )
            })
            .collect();
        std::fs::write(
            dir.path().join("sources.yaml"),
            format!(
                "defaults:\n  continue_on_error: true\n  resolver_fallback_enabled: false\n  http:\n    max_retries: 1\n    backoff_factor: 0.1\nontologies:\n{entries}"
            ),
        )
        .unwrap();
        for id in IDS {
            server.route(&format!("/{id}.owl"), vec![Reply::status(404)]);
        }
        let outside = dir.path().join("elsewhere");
        std::fs::create_dir_all(outside.join("2025-01-01/original")).unwrap();
        std::fs::write(outside.join("2025-01-01/original/alpha.owl"), b"not the mirror's").unwrap();
        std::fs::write(outside.join("precious.txt"), b"precious").unwrap();
        std::fs::create_dir_all(outside.join("alpha-1-1")).unwrap();
        let digest = ontofetch_testsupport::tree_digest(&outside);
        Mirror {
            sandbox,
            backend,
            serve: None,
            seed,
            step: 0,
            log: vec![],
            after_kill: false,
            sentinel: (outside, digest),
            vkey: None,
            checkpoint: std::cell::RefCell::new(None),
        }
    }

    /// The sandbox's command with this mirror's configuration, its output piped, and the
    /// shared backend's catalog and bucket when it has them.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.sandbox.command(args);
        cmd.arg("--spec").arg(self.dir.path().join("sources.yaml")).stdout(Stdio::piped()).stderr(Stdio::piped());
        if let Backend::Shared { s3, catalog_url, .. } = &self.backend {
            cmd.env("ONTOFETCH_CATALOG_URL", catalog_url)
                .env("ONTOFETCH_STORE_URL", format!("s3://{BUCKET}/team"))
                .envs(s3.env());
        }
        cmd
    }

    fn context(&self) -> String {
        let tail: Vec<&String> = self.log.iter().rev().take(12).collect();
        let tail: Vec<&str> = tail.into_iter().rev().map(String::as_str).collect();
        format!(
            "seed {} (replay: {}), step {}; last steps:\n  {}",
            self.seed,
            replay_hint(self.seed),
            self.step,
            tail.join("\n  ")
        )
    }

    fn run(&self, args: &[&str]) -> (i32, Value, Output) {
        let out = self.command(args).output().unwrap();
        let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (out.status.code().unwrap_or(-1), v, out)
    }

    fn fail(&self, what: &str, out: &Output) -> ! {
        panic!(
            "{what}\n{}\nstdout: {}\nstderr: {}",
            self.context(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    fn serve_upstream(&self, id: &str, release: &Release) {
        self.server
            .route(&format!("/{id}.owl"), vec![Reply::ok(release.body.clone(), RDF_XML).header("ETag", &release.etag)]);
    }

    /// Where the original of a stored version lives, to lose it.
    fn original_path(&self, id: &str, version: &str) -> PathBuf {
        let rel = format!("ontologies/{id}/{version}/original/{id}.owl");
        match &self.backend {
            Backend::Local => self.root().join(rel),
            Backend::Shared { s3, .. } => s3.bucket_dir(BUCKET).join("team").join(rel),
        }
    }

    fn start_serve(&mut self) {
        let port = free_port();
        let child = self
            .command(&["serve", "--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let guard = ChildGuard(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while http_get(port, "/healthz", &[]).is_none() {
            assert!(Instant::now() < deadline, "serve did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        self.serve = Some((guard, port));
    }

    /// Where the store keeps the transparency log.
    fn log_dir(&self) -> PathBuf {
        match &self.backend {
            Backend::Local => self.root().join("log"),
            Backend::Shared { s3, .. } => s3.bucket_dir(BUCKET).join("team/log"),
        }
    }

    /// The log (I11): the published checkpoint verifies under the mirror's key and extends
    /// the one after the previous step (proven from the store's tiles: no entry rewritten,
    /// reordered or removed, whatever was killed or restarted), and no attestation is in it
    /// twice. `doctor --verify` has already proven every entry's inclusion and that the
    /// catalog's order is the published one.
    fn check_log(&self) {
        let Some(vkey) = &self.vkey else { return };
        let dir = self.log_dir();
        let Ok(note) = std::fs::read(dir.join("checkpoint")) else {
            assert!(self.checkpoint.borrow().is_none(), "the log's checkpoint vanished\n{}", self.context());
            return;
        };
        let cp = log::open_checkpoint(&note, vkey)
            .unwrap_or_else(|e| panic!("the checkpoint does not verify: {e}\n{}", self.context()));
        let tiles: std::collections::HashMap<String, Vec<u8>> = log::Tiles::needed(cp.size())
            .into_iter()
            .filter_map(|p| Some((p.clone(), std::fs::read(dir.join(&p)).ok()?)))
            .collect();
        let tiles = log::Tiles::new(tiles);
        if let Some(old) = self.checkpoint.borrow().as_deref() {
            let old = log::open_checkpoint(old, vkey).unwrap();
            if let Err(e) = log::check_consistency(&old, &cp, &tiles) {
                panic!("the log does not extend the previous step's: {e}\n{}", self.context());
            }
        }
        let mut entries = std::collections::HashSet::new();
        for (_, tile) in log::bundles_of(0, cp.size()) {
            let bundle = std::fs::read(dir.join(log::tile_path(&tile))).unwrap();
            for e in log::unbundle(&bundle).unwrap() {
                assert!(entries.insert(e), "an attestation is in the log twice\n{}", self.context());
            }
        }
        *self.checkpoint.borrow_mut() = Some(note);
    }

    /// Every invariant, and the mirror against the model.
    fn check(&self, models: &BTreeMap<&str, Model>) {
        self.check_log();
        let (code, report, out) = self.run(&["doctor", "--verify", "--json"]);
        let integrity = &report["store"]["integrity"];
        if code != 0 || integrity["findings"].as_array().is_none_or(|f| !f.is_empty()) {
            self.fail(&format!("doctor --verify found problems: {}", report["problems"]), &out);
        }
        let (code, versions, out) = self.run(&["db", "versions", "--json", "--limit", "100000"]);
        if code != 0 {
            self.fail("db versions failed", &out);
        }
        let recorded: Vec<(String, String, String)> = versions["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
                (s("ontology"), s("version"), s("sha256"))
            })
            .collect();
        let mut expected: Vec<(String, String, String)> = models
            .iter()
            .flat_map(|(id, m)| m.stored.iter().map(|s| (id.to_string(), s.version.clone(), s.sha.clone())))
            .collect();
        let mut got = recorded.clone();
        expected.sort();
        got.sort();
        if got != expected {
            self.fail(&format!("catalog {got:?}\nmodel   {expected:?}"), &out);
        }
        let (_, latest, out) = self.run(&["db", "latest", "--json"]);
        for (id, m) in models {
            let got = latest["latest"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|r| r["ontology"] == *id)
                .map(|r| r["version"].as_str().unwrap_or("").to_string());
            let want = m.latest().map(|s| s.version.clone());
            if got != want {
                self.fail(&format!("{id}: latest is {got:?}, the model says {want:?}"), &out);
            }
            if let Some((_, port)) = &self.serve {
                self.check_served(*port, id, m);
            }
        }
        let lock = self.dir.path().join("ontologies.lock.json");
        if let Ok(text) = std::fs::read_to_string(&lock) {
            let doc: Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("lockfile torn: {e}\n{}", self.context()));
            assert!(
                doc["entries"].as_array().is_some_and(|e| !e.is_empty()),
                "the lockfile was replaced by an empty one: {text}\n{}",
                self.context()
            );
            // The pins hold: every ontology pulled keeps its entry (a run over other ids
            // merges), pinned to what its last successful pull stored.
            for (id, m) in models {
                let Some(want) = &m.pinned else { continue };
                let got = doc["entries"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|e| e["id"] == *id)
                    .map(|e| e["expected_checksum"]["value"].clone());
                assert_eq!(
                    got.as_ref().and_then(Value::as_str),
                    Some(want.as_str()),
                    "{id}: the lockfile's pin is {got:?}, the model's {want}\n{text}\n{}",
                    self.context()
                );
            }
        }
        // Nothing outside the data root changed.
        assert_eq!(
            ontofetch_testsupport::tree_digest(&self.sentinel.0),
            self.sentinel.1,
            "the tree beside the root changed\n{}",
            self.context()
        );
    }

    /// What `serve` hands out as latest is the model's latest, byte for byte.
    fn check_served(&self, port: u16, id: &str, m: &Model) {
        let file = m.file.clone().unwrap_or_else(|| format!("{id}.owl"));
        let got = http_get(port, &format!("/ontologies/{id}/latest/original/{file}"), &[]);
        match (m.latest(), got) {
            (Some(s), Some((status, body))) => assert!(
                status.contains("200") && body.as_bytes() == s.body.as_slice(),
                "serve handed out {status} with {} bytes for {id}/latest; the model's latest is {} ({} bytes)\n{}",
                body.len(),
                s.version,
                s.body.len(),
                self.context()
            ),
            (None, Some((status, _))) => {
                assert!(status.contains("404"), "{id} has no latest but serve says {status}\n{}", self.context())
            }
            (_, None) => panic!("serve did not answer\n{}", self.context()),
        }
    }

    /// After a killed pull of `release` of `id`: whether the catalog holds it, and if so the
    /// model takes it too (the pull may have finished before the signal).
    fn take_landed(&self, id: &str, release: &Release, m: &mut Model) -> bool {
        let (_, v, _) = self.run(&["db", "versions", id, "--json"]);
        let landed = v["versions"].as_array().into_iter().flatten().any(|r| r["sha256"] == release.sha.as_str());
        if landed && m.holding(&release.sha).is_none() {
            m.stored.push(release.stored());
        }
        landed
    }

    /// `pull ID` and what the model says it must do.
    fn pull(&mut self, id: &str, m: &mut Model) {
        if m.upstream.is_none() {
            return;
        }
        let (code, results, out) = self.run(&["pull", id, "--json"]);
        if results[0]["exit_code"].as_i64() != Some(i64::from(code)) {
            self.fail(&format!("pull {id}: exit {code} but the result says {}", results[0]["exit_code"]), &out);
        }
        self.judge(id, m, &results[0], &out);
    }

    /// `pull ID…` of several ids in one run, each result judged by the model.
    fn pull_ids(&mut self, models: &mut BTreeMap<&'static str, Model>, ids: &[&'static str]) {
        let mut args = vec!["pull"];
        args.extend_from_slice(ids);
        args.push("--json");
        let (code, results, out) = self.run(&args);
        let mut worst = 0;
        for id in ids {
            let Some(r) = results.as_array().into_iter().flatten().find(|r| r["id"] == *id).cloned() else {
                self.fail(&format!("pull {}: no result for {id}", ids.join(" ")), &out);
            };
            worst = worst.max(r["exit_code"].as_i64().unwrap_or(-1));
            self.judge(id, models.get_mut(id).unwrap(), &r, &out);
        }
        if i64::from(code) != worst {
            self.fail(&format!("pull {}: exit {code}, the worst result {worst}", ids.join(" ")), &out);
        }
    }

    /// One ontology's pull result against the model (which takes what it stored).
    fn judge(&mut self, id: &str, m: &mut Model, r: &Value, out: &Output) {
        let Some(up) = m.upstream.clone() else { return };
        let code = r["exit_code"].as_i64().unwrap_or(-1);
        let (want_code, want_status) = match m.holding(&up.sha) {
            Some(s) if s.good => (0, "cached"),
            Some(_) => (1, "failed"),
            None => {
                let good = up.good;
                m.stored.push(up.stored());
                if good { (0, if m.stored.len() == 1 { "fresh" } else { "updated" }) } else { (1, "failed") }
            }
        };
        let status = r["status"].as_str().unwrap_or("");
        let fresh_or_updated = matches!(status, "fresh" | "updated") && matches!(want_status, "fresh" | "updated");
        // A pull killed after promoting and before recording left a complete version: the
        // next pull adopts it, and finds its bytes stored.
        let adopted =
            std::mem::take(&mut self.after_kill) && status == "cached" && matches!(want_status, "fresh" | "updated");
        if code != want_code || !(status == want_status || fresh_or_updated || adopted) {
            self.fail(
                &format!("pull {id}: exit {code} status {status}; expected exit {want_code} status {want_status}"),
                out,
            );
        }
        if !up.good && r["error"]["code"] != "E_VALIDATION" {
            self.fail(&format!("pull {id} of a broken release: code {}", r["error"]["code"]), out);
        }
        if code == 0 && r["version"] != up.version.as_str() {
            self.fail(&format!("pull {id}: version {} but the release is {}", r["version"], up.version), out);
        }
        self.name_garbage(id, r, m, &up, out);
        if code == 0 {
            m.pinned = Some(up.sha.clone());
        }
        if code == 0 && matches!(status, "fresh" | "updated") && up.good {
            self.canonical_as_alone(id, &up, out);
        }
    }

    /// A version just stored has the canonical hash, and the mode, that validating its
    /// release alone gives (one job: the tally, the facts and RDFC-1.0 from one parse):
    /// RDFC-1.0 when it has blank nodes, its sorted N-Triples when not.
    fn canonical_as_alone(&self, id: &str, up: &Release, out: &Output) {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join(format!("{id}.owl"));
        std::fs::write(&file, &up.body).unwrap();
        let normalize = ontofetch_validate::Normalize {
            dir: d.path().join("normalized"),
            stem: id.to_string(),
            formats: vec!["ttl".into()],
            rdfc_max_component: 100_000,
            sort_memory_bytes: 8 << 20,
            second_pass: false,
            terms: true,
            fused: true,
            lowercase_language_tags: false,
        };
        let alone = ontofetch_validate::validate(
            &file,
            &ontofetch_validate::Options { normalize: Some(normalize), threads: 1 },
        );
        let (_, shown, show_out) = self.run(&["show", id, "--json"]);
        let want_mode = if up.body.windows(7).any(|w| w == b"nodeID=") { "rdfc-1.0" } else { "sorted-ntriples" };
        if shown["normalization"]["mode"] != want_mode
            || shown["normalized_sha256"].as_str() != alone.normalized_sha256.as_deref()
        {
            self.fail(
                &format!(
                    "pull {id}: stored canonical form {} ({}), validating the release alone gives {:?} ({:?}); {}",
                    shown["normalized_sha256"],
                    shown["normalization"]["mode"],
                    alone.normalized_sha256,
                    alone.normalization,
                    String::from_utf8_lossy(&show_out.stdout)
                ),
                out,
            );
        }
    }

    /// A garbage answer's version is named by the tool from its content: the model takes
    /// the name the result gives.
    fn name_garbage(&self, id: &str, r: &Value, m: &mut Model, up: &Release, out: &Output) {
        if let Some(s) = m.stored.iter_mut().find(|s| s.sha == up.sha && s.version.is_empty()) {
            match r["version"].as_str() {
                Some(v) => s.version = v.to_string(),
                None => self.fail(&format!("pull {id} of an error page: no version in the result"), out),
            }
        }
    }

    /// Runs every remedy `doctor --verify` names for a finding whose key ends with
    /// `key_end`, as named; afterwards `check` proves they cleared it. Returns what ran.
    fn apply_remedies(&self, key_end: &str) -> String {
        let (code, report, out) = self.run(&["doctor", "--verify", "--json"]);
        let findings: Vec<Value> = report["store"]["integrity"]["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["key"].as_str().is_some_and(|k| k.ends_with(key_end)))
            .cloned()
            .collect();
        if code == 0 || findings.is_empty() {
            self.fail(&format!("doctor --verify did not find the damage to {key_end}: {}", report["problems"]), &out);
        }
        let mut ran: Vec<String> = Vec::new();
        for f in &findings {
            let cmd = match &f["remedy"] {
                Value::String(t) if t == "doctor_fix" => "ontofetch doctor --fix".to_string(),
                Value::Object(o) => o["run"].as_str().unwrap_or_default().to_string(),
                other => self.fail(&format!("an unknown remedy {other}"), &out),
            };
            if ran.contains(&cmd) {
                continue;
            }
            let mut args: Vec<&str> = cmd.split_whitespace().skip(1).collect();
            args.push("--json");
            // Its exit status is the command's business (a pull of a broken release exits 1
            // while repairing); whether it cleared the finding is `check`'s.
            let _ = self.run(&args);
            ran.push(cmd);
        }
        ran.join(" and ")
    }
}

/// A worker paused (SIGSTOP) while it uploads a release large enough for multipart, across
/// a PostgreSQL restart, while a second worker pulls the same release: the second stores it;
/// the first, resumed, is fenced (or, when it had recorded before the pause, finds it
/// stored) and writes over nothing; what it uploaded under its lost token is what doctor
/// reports and `--fix` removes.
fn paused_across_a_restart(mx: &mut Mirror, m: &mut Model, id: &str) -> String {
    m.releases += 1;
    let rel = Release::big(id, m.releases);
    mx.serve_upstream(id, &rel);
    m.upstream = Some(rel.clone());
    let mut paused = mx.command(&["pull", id, "--json"]).spawn().unwrap();
    let uploading = || match &mx.backend {
        // An upload under a token has begun: a multipart upload is open, or an object is there
        // (empty directories of earlier uploads do not count).
        Backend::Shared { s3, .. } => {
            s3.open_uploads() > 0 || has_files(&s3.bucket_dir(BUCKET).join("team/.uploads").join(id))
        }
        Backend::Local => unreachable!("guarded"),
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while !uploading() && paused.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the paused worker never uploaded\n{}", mx.context());
        std::thread::sleep(Duration::from_millis(2));
    }
    let pid = paused.id().to_string();
    let _ = Command::new("kill").args(["-STOP", &pid]).status();
    if let Backend::Shared { _pg, .. } = &mut mx.backend {
        _pg.stop();
        std::thread::sleep(Duration::from_millis(300));
        _pg.resume();
    }
    let (code, results, out) = mx.run(&["pull", id, "--json"]);
    let _ = Command::new("kill").args(["-CONT", &pid]).status();
    let first = paused.wait_with_output().unwrap();
    if code != 0 {
        mx.fail(&format!("pull {id} beside a paused worker: exit {code}"), &out);
    }
    let v: Value = serde_json::from_slice(&first.stdout).unwrap_or(Value::Null);
    let how = v[0]["error"]["code"].as_str().unwrap_or(v[0]["status"].as_str().unwrap_or("?")).to_string();
    if !matches!(how.as_str(), "E_FENCED" | "E_STORE" | "cached" | "fresh" | "updated") {
        mx.fail(&format!("the paused worker of {id} ended with {how}"), &first);
    }
    m.stored.push(rel.stored());
    m.pinned = Some(rel.sha.clone());
    // What the fenced worker uploaded under its lost token: doctor names `--fix`.
    let (code, r, out) = mx.run(&["doctor", "--fix", "--json"]);
    if code != 0 {
        mx.fail(&format!("doctor --fix after a fenced worker: exit {code}: {}", r["problems"]), &out);
    }
    format!(
        "pull {id} of a {} MiB release beside a worker paused across a restart (it: {how}; the other: {})",
        rel.body.len() >> 20,
        results[0]["status"]
    )
}

/// Plants links where another local user could: at `.staging`, at an ontology's
/// directory (its real one moved aside), at the rate-limit files; runs a pull and
/// `doctor --fix` beside them; then removes them as the person would. Nothing outside the
/// root may change (checked after every step).
fn plant_links(mx: &mut Mirror, models: &mut BTreeMap<&'static str, Model>, id: &'static str, rng: &mut Rng) -> String {
    use std::os::unix::fs::symlink;
    let root = mx.root();
    let outside = mx.sentinel.0.clone();
    let at = match rng.below(3) {
        0 => {
            let real = root.join(".staging");
            let aside = root.join(".staging-aside");
            let _ = std::fs::rename(&real, &aside);
            symlink(&outside, &real).unwrap();
            if models.get(id).is_some_and(|m| m.upstream.is_some()) {
                // `--force` downloads whatever upstream says: the pull needs staging, and
                // refuses the link rather than stage through it.
                let (code, r, out) = mx.run(&["pull", id, "--force", "--json"]);
                if code == 0 || r[0]["error"]["code"] != "E_LINK" {
                    mx.fail(&format!("a pull with .staging planted: exit {code}, {}", r[0]["error"]), &out);
                }
            }
            let (code, r, out) = mx.run(&["doctor", "--fix", "--json"]);
            if code == 0 || !r["problems"].to_string().contains("planted at .staging") {
                mx.fail(&format!("doctor with .staging planted: exit {code}: {}", r["problems"]), &out);
            }
            std::fs::remove_file(&real).unwrap();
            let _ = std::fs::rename(&aside, &real);
            ".staging"
        }
        1 => {
            let real = root.join("ontologies").join(id);
            let aside = mx.dir.path().join("aside");
            std::fs::rename(&real, &aside).unwrap();
            symlink(&outside, &real).unwrap();
            for args in [&["doctor", "--fix", "--json"][..], &["prune", "--keep", "1", "--json"][..]] {
                let (code, _, out) = mx.run(args);
                if code == 0 {
                    mx.fail(&format!("{} with ontologies/{id} planted succeeded", args[0]), &out);
                }
            }
            std::fs::remove_file(&real).unwrap();
            std::fs::rename(&aside, &real).unwrap();
            "an ontology's directory"
        }
        _ => {
            let rates = root.join("cache/rate-limits");
            let mut planted = 0;
            for e in std::fs::read_dir(&rates).into_iter().flatten().flatten() {
                if e.file_type().is_ok_and(|t| t.is_file()) {
                    std::fs::remove_file(e.path()).unwrap();
                    symlink(outside.join("precious.txt"), e.path()).unwrap();
                    planted += 1;
                }
            }
            if let Some(m) = models.get_mut(id) {
                mx.pull(id, m);
            }
            for e in std::fs::read_dir(&rates).into_iter().flatten().flatten() {
                if e.file_type().is_ok_and(|t| t.is_symlink()) {
                    std::fs::remove_file(e.path()).unwrap();
                }
            }
            if planted == 0 { "no rate-limit files yet" } else { "the rate-limit files" }
        }
    };
    format!("links planted at {at}, then removed")
}

/// Whether any regular file is under `dir`.
fn has_files(dir: &std::path::Path) -> bool {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => return true,
                _ => {}
            }
        }
    }
    false
}

/// One random move. Returns a line for the log.
fn step(mx: &mut Mirror, models: &mut BTreeMap<&'static str, Model>, rng: &mut Rng) -> String {
    let id = IDS[rng.below(IDS.len() as u64) as usize];
    let roll = rng.below(131);
    let m = models.get_mut(id).unwrap();
    match roll {
        // A new release, good (mostly) or broken, then a pull.
        0..=29 => {
            m.releases += 1;
            let good = rng.below(4) != 0;
            let rel = Release::new(id, m.releases, good);
            mx.serve_upstream(id, &rel);
            m.upstream = Some(rel.clone());
            mx.pull(id, m);
            format!("new {} release {} of {id}, pulled", if good { "good" } else { "broken" }, rel.version)
        }
        // Pull again: 304 or identical bytes.
        30..=39 => {
            mx.pull(id, m);
            format!("pull {id} again")
        }
        // A release that imports `dep` (which may have changed too), pulled with its import
        // closure; half the time killed at a random moment while `dep` arrives slowly, then
        // the same command again converges.
        40..=44 => pull_with_imports(mx, models, id, rng),
        // Upstream down: nothing changes.
        45..=51 => {
            if let Some(up) = m.upstream.clone() {
                let fault = if rng.below(2) == 0 {
                    Reply::status(503)
                } else {
                    Reply::ok(up.body.clone(), RDF_XML).fault(Fault::DropAfter(up.body.len() / 2))
                };
                mx.server.route(&format!("/{id}.owl"), vec![fault]);
                let (code, results, out) = mx.run(&["pull", id, "--json", "--force"]);
                if code == 0 || results[0]["status"] != "failed" {
                    mx.fail(&format!("pull {id} during an outage: exit {code}"), &out);
                }
                mx.serve_upstream(id, &up);
            }
            format!("outage while pulling {id}")
        }
        // Re-validate the latest version.
        52..=59 => {
            if let Some(latest) = m.latest().cloned() {
                let (code, r, out) = mx.run(&["validate", id, "--json"]);
                if code != 0 || r["version"] != latest.version.as_str() || r["verdict"] != "valid" {
                    mx.fail(&format!("validate {id}: exit {code}"), &out);
                }
            }
            format!("validate {id}")
        }
        // validate --strict on a version that failed: it is retired.
        60..=64 => {
            let bad = m.stored.iter().find(|s| !s.good).cloned();
            if let Some(bad) = bad {
                let (code, r, out) = mx.run(&["validate", id, &bad.version, "--strict", "--json"]);
                if code != 1 || r["purged"] != true {
                    mx.fail(&format!("validate --strict {id} {}: exit {code}", bad.version), &out);
                }
                m.stored.retain(|s| s.version != bad.version);
                return format!("validate --strict {id} {} (purged)", bad.version);
            }
            format!("validate --strict {id}: nothing failed")
        }
        // Prune.
        65..=71 => {
            let keep = 1 + rng.below(2) as usize;
            let (code, _, out) = mx.run(&["prune", "--keep", &keep.to_string(), "--json"]);
            if code != 0 {
                mx.fail(&format!("prune --keep {keep}: exit {code}"), &out);
            }
            for m in models.values_mut() {
                m.prune(keep);
            }
            format!("prune --keep {keep}")
        }
        // doctor --fix finds nothing to do.
        72..=76 => {
            let (code, r, out) = mx.run(&["doctor", "--fix", "--json"]);
            // Creating the configs/logs directories is not a repair of the mirror.
            let repairs: Vec<&Value> = r["fixes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|f| !f.as_str().is_some_and(|t| t.starts_with("created ")))
                .collect();
            if code != 0 || !repairs.is_empty() {
                mx.fail(&format!("doctor --fix on a sound mirror: exit {code}, fixes {}", r["fixes"]), &out);
            }
            "doctor --fix".into()
        }
        // A pull killed with SIGKILL at a random moment, then a re-run converges.
        77..=88 => {
            m.releases += 1;
            let rel = Release::new(id, m.releases, true);
            let slow = Reply::ok(rel.body.clone(), RDF_XML)
                .header("ETag", &rel.etag)
                .fault(Fault::Slow { chunk: 64, delay: Duration::from_millis(15) });
            mx.server.route(&format!("/{id}.owl"), vec![slow]);
            m.upstream = Some(rel.clone());
            let mut child = mx.command(&["pull", id, "--json"]).spawn().unwrap();
            let wait = Duration::from_millis(50 + rng.below(400));
            std::thread::sleep(wait);
            let _ = child.kill();
            let _ = child.wait();
            // It may have finished before the signal: ask the catalog what it holds.
            let landed = mx.take_landed(id, &rel, m);
            mx.after_kill = true;
            mx.serve_upstream(id, &rel);
            mx.pull(id, m);
            format!("pull {id} killed after {wait:?} (landed: {landed}), then pulled again")
        }
        // A stored original lost behind the tool's back: prune refuses, then a pull (same
        // bytes upstream) or doctor --fix (older bytes) repairs.
        89..=95 => {
            let Some(victim) = m.stored.get(rng.below(m.stored.len() as u64) as usize).cloned() else {
                return format!("lose a file of {id}: nothing stored");
            };
            let upstream_has_it = m.upstream.as_ref().is_some_and(|u| u.sha == victim.sha);
            // Lost whole, or cut short (a torn copy): the second only where a pull repairs it,
            // since nothing in the store can.
            let path = mx.original_path(id, &victim.version);
            let truncated = upstream_has_it && rng.below(2) == 0;
            if truncated {
                let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
                f.set_len(victim.body.len() as u64 / 2).unwrap();
            } else {
                std::fs::remove_file(&path).unwrap();
            }
            let (code, r, out) = mx.run(&["prune", "--keep", "1", "--json"]);
            if code == 0 || !matches!(r["error"]["code"].as_str(), Some("E_DB_ORPHAN" | "E_DRIFT")) {
                mx.fail(&format!("prune with a lost original of {id}/{}: exit {code}", victim.version), &out);
            }
            if upstream_has_it {
                // The pull notices and fetches the bytes again; the model keeps the version
                // (re-recorded now: newest by download time).
                m.stored.retain(|s| s.sha != victim.sha);
                mx.pull(id, m);
                let how = if truncated { "truncated" } else { "lost" };
                format!("{how} {id}/{}; pull repaired it", victim.version)
            } else {
                let (code, _, out) = mx.run(&["doctor", "--fix", "--json"]);
                if code != 0 {
                    mx.fail(&format!("doctor --fix after losing {id}/{}: exit {code}", victim.version), &out);
                }
                m.stored.retain(|s| s.sha != victim.sha);
                format!("lost {id}/{}; doctor --fix retired it", victim.version)
            }
        }
        // The shared backends go down under a pull: PostgreSQL crashes and comes back, or
        // the S3 server is stopped for a moment; the pull rides it out.
        96..=97 if matches!(mx.backend, Backend::Shared { .. }) && rng.below(3) == 0 => {
            paused_across_a_restart(mx, m, id)
        }
        96..=97 if matches!(mx.backend, Backend::Shared { .. }) => {
            m.releases += 1;
            let rel = Release::new(id, m.releases, true);
            mx.serve_upstream(id, &rel);
            m.upstream = Some(rel.clone());
            let s3_down = rng.below(2) == 0;
            let asked = mx.server.hits(&format!("/{id}.owl"));
            let mut child = mx.command(&["pull", id, "--json"]).spawn().unwrap();
            // Once the worker is connected and at work (it asked upstream for the release): a
            // worker that starts while the catalog is down fails at once by design (E_DB); it
            // is the running one that must ride it out.
            let deadline = Instant::now() + Duration::from_secs(60);
            while mx.server.hits(&format!("/{id}.owl")) == asked && child.try_wait().unwrap().is_none() {
                assert!(Instant::now() < deadline, "the worker never asked for {id}\n{}", mx.context());
                std::thread::sleep(Duration::from_millis(5));
            }
            match &mut mx.backend {
                Backend::Shared { s3, .. } if s3_down => {
                    s3.stop();
                    std::thread::sleep(Duration::from_millis(1500));
                    s3.resume();
                }
                Backend::Shared { _pg, .. } => {
                    _pg.stop();
                    std::thread::sleep(Duration::from_millis(500));
                    _pg.resume();
                }
                Backend::Local => unreachable!("guarded"),
            }
            let out = child.wait_with_output().unwrap();
            let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
            if out.status.code() != Some(0) {
                mx.fail(&format!("pull {id} across a {} outage", if s3_down { "S3" } else { "PostgreSQL" }), &out);
            }
            m.stored.push(rel.stored());
            m.pinned = Some(rel.sha.clone());
            format!(
                "pull {id} of {} across a {} outage: {}",
                rel.version,
                if s3_down { "S3" } else { "PostgreSQL" },
                v[0]["status"]
            )
        }
        // Upstream answers 200 with an error text or random bytes for the RDF URL: the pull
        // fails validation, the version is kept for inspection and never becomes latest.
        100..=104 => {
            m.releases += 1;
            let random = rng.below(2) == 0;
            let junk = Release::garbage(id, m.releases, random);
            mx.serve_upstream(id, &junk);
            m.upstream = Some(junk);
            mx.pull(id, m);
            format!("upstream of {id} answers 200 with {}", if random { "random bytes" } else { "an error text" })
        }
        // The catalog is lost (a disk accident); a pull of the other ontology makes a fresh
        // one, then `doctor --fix` adopts every version the store holds. Nothing is lost.
        105..=107 if matches!(mx.backend, Backend::Local) => {
            for f in ["catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm"] {
                let _ = std::fs::remove_file(mx.root().join(f));
            }
            let other = IDS.iter().copied().find(|o| *o != id).unwrap();
            let om = models.get_mut(other).unwrap();
            // The other ontology's releases are all unrecorded now: its pull of bytes it
            // already holds adopts them (cached); new bytes make a version.
            let up = om.upstream.clone();
            if let Some(up) = up {
                let (code, results, out) = mx.run(&["pull", other, "--json"]);
                let status = results[0]["status"].as_str().unwrap_or("").to_string();
                let held = om.holding(&up.sha).cloned();
                let ok = match &held {
                    Some(h) if h.good => code == 0 && status == "cached",
                    Some(_) => code == 1,
                    None if up.good => code == 0 && matches!(status.as_str(), "fresh" | "updated"),
                    None => code == 1,
                };
                if !ok {
                    mx.fail(&format!("pull {other} after the catalog was lost: exit {code}, {status}"), &out);
                }
                if held.is_none() {
                    om.stored.push(up.stored());
                    mx.name_garbage(other, &results[0], om, &up, &out);
                }
                if code == 0 {
                    om.pinned = Some(up.sha.clone());
                }
            }
            let (code, r, out) = mx.run(&["doctor", "--fix", "--json"]);
            if code != 0 {
                mx.fail(&format!("doctor --fix after losing the catalog: exit {code}: {}", r["problems"]), &out);
            }
            // serve holds the lost catalog open: a new one serves the rebuilt catalog.
            mx.serve = None;
            mx.start_serve();
            format!("catalog lost; pulled {other}; doctor --fix adopted the store")
        }
        // A byte flipped in a stored original, same size: doctor --verify names a remedy,
        // which, run as named, repairs it (upstream still serves those bytes).
        108..=111 => {
            let Some(victim) = m.upstream.as_ref().and_then(|u| m.holding(&u.sha)).cloned() else {
                return format!("flip a byte of {id}: upstream's bytes are not stored");
            };
            let path = mx.original_path(id, &victim.version);
            let mut bytes = std::fs::read(&path).unwrap();
            let at = rng.below(bytes.len() as u64) as usize;
            bytes[at] ^= 0x01;
            std::fs::write(&path, &bytes).unwrap();
            let cleared = mx.apply_remedies(&format!("original/{id}.owl"));
            format!("flipped byte {at} of {id}/{}; ran {cleared}", victim.version)
        }
        // A manifest deleted: doctor names `doctor --fix`, which regenerates it.
        112..=115 => {
            let Some(victim) = m.stored.get(rng.below(m.stored.len() as u64) as usize).cloned() else {
                return format!("delete a manifest of {id}: nothing stored");
            };
            let path = mx.original_path(id, &victim.version).parent().unwrap().parent().unwrap().join("manifest.json");
            std::fs::remove_file(&path).unwrap();
            let cleared = mx.apply_remedies("manifest.json");
            format!("deleted the manifest of {id}/{}; ran {cleared}", victim.version)
        }
        // Links planted in the data root by another local user: at `.staging`, at an
        // ontology's directory, at the rate-limit files. A pull and doctor --fix follow none
        // (the sentinel tree beside the root is checked after every step); then the person
        // removes them.
        116..=119 if matches!(mx.backend, Backend::Local) => plant_links(mx, models, id, rng),
        // Three workers at once on one catalog and store, one of them killed with SIGKILL:
        // the log keeps one appender at a time, no gap, no entry twice, no reordering.
        116..=119 | 125..=130 => three_workers(mx, models, rng),
        // A pull of several ids in one run: the lockfile keeps and pins every one.
        120..=124 => {
            let ids: Vec<&'static str> = IDS.iter().copied().filter(|o| models[o].upstream.is_some()).collect();
            mx.pull_ids(models, &ids);
            format!("pull {} in one run", ids.join(" "))
        }
        // Reads through serve are checked after every step; here, a HEAD-like range read.
        _ => {
            if let (Some((_, port)), Some(latest)) = (&mx.serve, m.latest()) {
                let got =
                    http_get(*port, &format!("/ontologies/{id}/latest/original/{id}.owl"), &[("Range", "bytes=0-9")]);
                let ok = got.as_ref().is_some_and(|(s, b)| s.contains("206") && b.as_bytes() == &latest.body[..10]);
                assert!(ok, "range read of {id}/latest: {got:?}\n{}", mx.context());
            }
            format!("range read of {id}")
        }
    }
}

/// The step that pulls `id` with its import closure (see `step`).
fn pull_with_imports(
    mx: &mut Mirror,
    models: &mut BTreeMap<&'static str, Model>,
    id: &'static str,
    rng: &mut Rng,
) -> String {
    let url = mx.server.url("/dep.owl");
    let dep_id: &'static str = Box::leak(ontofetch_pipeline::imports::import_id(&url).into_boxed_str());
    let dep_model = models.entry(dep_id).or_insert_with(|| Model { file: Some("dep.owl".into()), ..Model::default() });
    if dep_model.upstream.is_none() || rng.below(2) == 0 {
        dep_model.releases += 1;
        dep_model.upstream = Some(Release::new("dep", dep_model.releases, true));
    }
    let dep = dep_model.upstream.clone().unwrap();
    let m = models.get_mut(id).unwrap();
    m.releases += 1;
    let rel = Release::importing(id, m.releases, &url);
    mx.serve_upstream(id, &rel);
    m.upstream = Some(rel.clone());
    let killed = rng.below(2) == 0;
    let mut what = String::new();
    if killed {
        let slow = Reply::ok(dep.body.clone(), RDF_XML)
            .header("ETag", &dep.etag)
            .fault(Fault::Slow { chunk: 64, delay: Duration::from_millis(15) });
        mx.server.route("/dep.owl", vec![slow]);
        let mut child = mx.command(&["pull", id, "--with-imports", "--json"]).spawn().unwrap();
        let wait = Duration::from_millis(50 + rng.below(600));
        std::thread::sleep(wait);
        let _ = child.kill();
        let _ = child.wait();
        // What landed before the signal is in the catalog, and the model takes it.
        for (oid, r) in [(id, &rel), (dep_id, &dep)] {
            let landed = mx.take_landed(oid, r, models.get_mut(oid).unwrap());
            what.push_str(&format!(" {oid} landed: {landed};"));
        }
        // Not checked here: a killed pull's staging is only swept by the next pull of that
        // ontology (or `doctor --fix`), and `doctor --verify` rightly reports it until then.
    }
    mx.server.route("/dep.owl", vec![Reply::ok(dep.body.clone(), RDF_XML).header("ETag", &dep.etag)]);
    let (code, results, out) = mx.run(&["pull", id, "--with-imports", "--json"]);
    if code != 0 {
        mx.fail(&format!("pull {id} --with-imports: exit {code}"), &out);
    }
    for (oid, r) in [(id, &rel), (dep_id, &dep)] {
        let got = results.as_array().into_iter().flatten().find(|x| x["id"] == oid);
        let Some(got) = got else { mx.fail(&format!("pull {id} --with-imports: no result for {oid}"), &out) };
        let om = models.get_mut(oid).unwrap();
        let want = if om.holding(&r.sha).is_some() {
            "cached"
        } else {
            om.stored.push(r.stored());
            if om.stored.len() == 1 { "fresh" } else { "updated" }
        };
        let status = got["status"].as_str().unwrap_or("");
        let new = matches!(want, "fresh" | "updated");
        // A killed pull that promoted and was not recorded left a version the re-run adopts.
        let adopted = killed && new && status == "cached";
        if status != want && !(matches!(status, "fresh" | "updated") && new) && !adopted {
            mx.fail(&format!("pull {id} --with-imports: {oid} is {status}, the model says {want}"), &out);
        }
        om.pinned = Some(r.sha.clone());
    }
    // The importing version's edge names the import and says it is stored.
    let (_, shown, out) = mx.run(&["show", id, "--json"]);
    let edge = &shown["import_closure"][0];
    if edge["iri"] != url.as_str() || edge["target"] != dep_id || edge["status"] != "stored" {
        mx.fail(&format!("show {id}: import closure {}", shown["import_closure"]), &out);
    }
    format!(
        "release {} of {id} importing dep {}, pulled --with-imports{}",
        rel.version,
        dep.version,
        if killed { format!(" (killed first:{what})") } else { String::new() }
    )
}

/// Three workers at once: `pull alpha`, `pull beta` and `pull alpha beta` of new releases
/// served slowly, each publishing the log when done; one is killed with SIGKILL at a random
/// moment (in a download, a record, a log append or a checkpoint). The survivors finish
/// (exit 0); the next pulls converge.
fn three_workers(mx: &mut Mirror, models: &mut BTreeMap<&'static str, Model>, rng: &mut Rng) -> String {
    let mut releases = Vec::new();
    for id in IDS {
        let m = models.get_mut(id).unwrap();
        m.releases += 1;
        let rel = Release::new(id, m.releases, true);
        let slow = Reply::ok(rel.body.clone(), RDF_XML)
            .header("ETag", &rel.etag)
            .fault(Fault::Slow { chunk: 64, delay: Duration::from_millis(10) });
        mx.server.route(&format!("/{id}.owl"), vec![slow]);
        m.upstream = Some(rel.clone());
        releases.push((*id, rel));
    }
    let commands: [&[&str]; 3] =
        [&["pull", "alpha", "--json"], &["pull", "beta", "--json"], &["pull", "alpha", "beta", "--json"]];
    let mut children: Vec<std::process::Child> =
        commands.iter().map(|args| mx.command(args).spawn().unwrap()).collect();
    let victim = rng.below(3) as usize;
    let wait = Duration::from_millis(30 + rng.below(400));
    std::thread::sleep(wait);
    let _ = children[victim].kill();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        if i != victim && !out.status.success() {
            mx.fail(&format!("`{}` beside two other workers: {}", commands[i].join(" "), out.status), &out);
        }
    }
    let mut landed = Vec::new();
    for (id, rel) in &releases {
        if mx.take_landed(id, rel, models.get_mut(id).unwrap()) {
            landed.push(*id);
        }
    }
    mx.after_kill = true;
    for (id, rel) in &releases {
        mx.serve_upstream(id, rel);
        mx.pull(id, models.get_mut(id).unwrap());
    }
    format!(
        "three workers, `{}` killed after {wait:?} (landed: {landed:?}), then pulled again",
        commands[victim].join(" ")
    )
}

fn run_sequence(backend: Backend, fixed_seed: u64, default_steps: usize) {
    let (seed, steps) = seed_and_steps(fixed_seed, default_steps);
    eprintln!("state machine: seed {seed}, {steps} steps (replay: {})", replay_hint(seed));
    let mut rng = Rng(seed);
    let mut mx = Mirror::new(backend, seed);
    // A signed mirror: every version carries an attestation, and `doctor --verify` after
    // every step checks it under the key (I10) whatever the moves did.
    let (code, key, out) = mx.run(&["keys", "generate", "--name", "state.machine/ontofetch", "--json"]);
    if code != 0 {
        mx.fail("keys generate", &out);
    }
    mx.vkey = Some(VerifierKey::parse(key["verifier_key"].as_str().unwrap()).unwrap());
    let mut models: BTreeMap<&'static str, Model> = IDS.iter().map(|id| (*id, Model::default())).collect();
    // A first release of each, so serve has a catalog to open.
    for id in IDS {
        let m = models.get_mut(id).unwrap();
        m.releases += 1;
        let rel = Release::new(id, m.releases, true);
        mx.serve_upstream(id, &rel);
        m.upstream = Some(rel);
        mx.pull(id, m);
    }
    mx.start_serve();
    mx.check(&models);
    for i in 0..steps {
        mx.step = i + 1;
        let line = step(&mut mx, &mut models, &mut rng);
        eprintln!("{}: {line}", i + 1);
        mx.log.push(format!("{}: {line}", i + 1));
        mx.check(&models);
    }
}

#[test]
fn invariants_hold_on_sqlite_and_a_directory() {
    run_sequence(Backend::Local, 0x5EED_0001, 200);
}

#[test]
fn invariants_hold_on_postgresql_and_s3() {
    if !available("invariants_hold_on_postgresql_and_s3", &[Need::Postgres, Need::S3]) {
        return;
    }
    // Durable: the state machine crashes it, and a crash must not lose what it acknowledged
    // (the fast test default, fsync and synchronous_commit off, would).
    let pg = Cluster::start_durable();
    let catalog_url = pg.database("mirror");
    let s3 = S3Server::start(BUCKET);
    run_sequence(Backend::Shared { _pg: pg, s3, catalog_url }, 0x5EED_0002, 120);
}
