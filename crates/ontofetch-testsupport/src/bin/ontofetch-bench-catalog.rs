//! `bench/catalog.sh`: what the commands that read the whole mirror cost as the catalog
//! grows: 30, 100 and 300 ontologies × 3 versions, on SQLite + a directory, PostgreSQL + a
//! directory and PostgreSQL + S3 (real servers on 127.0.0.1). For each size it times `doctor`,
//! `prune --keep 1 --dry-run`, a fully cached `pull` (every answer a 304), and `serve`'s
//! status page and API list (median of 5 requests). Prints a table; asserts nothing about
//! time.
//!
//! Usage: ontofetch-bench-catalog ONTOFETCH_BINARY [SIZES=30,100,300]

// A bench that cannot set up its fixture stops there and then.
#![allow(clippy::unwrap_used)]

use ontofetch_testsupport::fixtures::{RDF_XML, owl};
use ontofetch_testsupport::local::{ChildGuard, free_port, http_get};
use ontofetch_testsupport::pg::Cluster;
use ontofetch_testsupport::s3::S3Server;
use ontofetch_testsupport::{Reply, TestServer};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One backend: the environment a command needs.
struct Backend {
    name: &'static str,
    env: Vec<(String, String)>,
}

struct Mirror<'a> {
    bin: &'a Path,
    home: PathBuf,
    spec: PathBuf,
    registry: &'a TestServer,
    backend: &'a Backend,
}

impl Mirror<'_> {
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(self.bin);
        c.args(args)
            .arg("--spec")
            .arg(&self.spec)
            .arg("--allowed-hosts")
            .arg(self.registry.allow_entry())
            .env("HOME", &self.home)
            .env("PYSTOW_HOME", &self.home)
            .env("ONTOFETCH_PER_HOST_RATE_LIMIT", "1000/second")
            .envs(self.backend.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    }

    /// Seconds a command takes (it must succeed).
    fn time(&self, args: &[&str]) -> f64 {
        let started = Instant::now();
        let status = self.command(args).status().expect("run ontofetch");
        assert!(status.success(), "{args:?} failed on {}", self.backend.name);
        started.elapsed().as_secs_f64()
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn release(id: &str, n: usize) -> Reply {
    let iri = format!("http://x.org/{id}/releases/2025-0{}-01/{id}.owl", n + 1);
    Reply::ok(owl(Some(&iri), &format!("{id} release {n}")), RDF_XML).header("ETag", &format!("\"{id}-{n}\""))
}

/// Seconds of `doctor`, `prune --dry-run`, a cached pull, and the median ms of `/` and the
/// API list, for `n` ontologies × 3 versions.
fn measure(bin: &Path, backend: &Backend, n: usize) -> (f64, f64, f64, f64, f64) {
    let registry = TestServer::start();
    let work = tempfile::tempdir().expect("temp dir");
    let ids: Vec<String> = (0..n).map(|i| format!("o{i:03}")).collect();
    let list: String = ids
        .iter()
        .map(|id| {
            format!(
                "  - id: {id}\n    resolver: direct\n    extras:\n      url: {}\n",
                registry.url(&format!("/{id}.owl"))
            )
        })
        .collect();
    let spec = work.path().join("sources.yaml");
    std::fs::write(
        &spec,
        format!("defaults:\n  normalize_to: []\n  http:\n    concurrent_downloads: 10\nontologies:\n{list}"),
    )
    .expect("spec");
    let m = Mirror { bin, home: work.path().join("home"), spec, registry: &registry, backend };
    for k in 0..3 {
        for id in &ids {
            registry.route(&format!("/{id}.owl"), vec![release(id, k)]);
        }
        m.time(&["pull", "--no-lock"]);
    }
    let doctor = {
        let started = Instant::now();
        // doctor exits 1 on a machine note-worthy problem (a full disk); time it anyway
        let _ = m.command(&["doctor", "--json"]).status();
        started.elapsed().as_secs_f64()
    };
    let prune = m.time(&["prune", "--keep", "1", "--dry-run", "--json"]);
    let cached = m.time(&["pull", "--no-lock"]);
    let port = free_port();
    let _serve = ChildGuard(m.command(&["serve", "--port", &port.to_string()]).spawn().expect("serve"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while http_get(port, "/healthz", &[]).is_none() {
        assert!(Instant::now() < deadline, "serve did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let ms = |path: &str| {
        let _ = http_get(port, path, &[]);
        median(
            (0..5)
                .map(|_| {
                    let started = Instant::now();
                    let got = http_get(port, path, &[]).expect("an answer");
                    assert!(got.0.contains("200"), "{path}: {}", got.0);
                    started.elapsed().as_secs_f64() * 1000.0
                })
                .collect(),
        )
    };
    (doctor, prune, cached, ms("/"), ms("/api/v1/ontologies"))
}

fn main() {
    let bin = std::env::args().nth(1).expect("usage: ontofetch-bench-catalog ONTOFETCH_BINARY [SIZES=30,100,300]");
    let sizes: Vec<usize> = std::env::args()
        .nth(2)
        .unwrap_or_else(|| "30,100,300".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let pg = Cluster::start();
    let s3 = S3Server::start("mirror");
    let mut rows = Vec::new();
    for &n in &sizes {
        let local = Backend { name: "SQLite + directory", env: vec![] };
        let mut env: Vec<(String, String)> = s3.env().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        env.push(("ONTOFETCH_CATALOG_URL".into(), pg.database(&format!("bench{n}"))));
        env.push(("ONTOFETCH_STORE_URL".into(), format!("s3://mirror/bench{n}")));
        let shared = Backend { name: "PostgreSQL + S3", env };
        // The catalog's share alone: PostgreSQL with a directory (s3s-fs walks the whole
        // bucket for every 1,000-key page of a listing; a real S3 does not).
        let pg_local = Backend {
            name: "PostgreSQL + directory",
            env: vec![("ONTOFETCH_CATALOG_URL".into(), pg.database(&format!("benchdir{n}")))],
        };
        for backend in [&local, &pg_local, &shared] {
            rows.push((backend.name, n, measure(Path::new(&bin), backend, n)));
        }
    }
    println!("\nontologies × 3 versions each, pulled from a loopback registry; one run per row (2 cores)\n");
    println!(
        "| backend | ontologies | versions | doctor s | prune --dry-run s | cached pull s | GET / ms | GET /api/v1/ontologies ms |"
    );
    println!("|---|--:|--:|--:|--:|--:|--:|--:|");
    for (name, n, (doctor, prune, cached, page, api)) in rows {
        println!("| {name} | {n} | {} | {doctor:.2} | {prune:.2} | {cached:.2} | {page:.1} | {api:.1} |", n * 3);
    }
}
