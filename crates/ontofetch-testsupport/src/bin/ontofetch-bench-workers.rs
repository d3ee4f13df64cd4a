//! `bench/workers.sh`: throughput of 1, 2 and 3 workers sharing one PostgreSQL catalog and
//! one S3 bucket, pulling the same ontologies from a loopback registry that adds latency to
//! every request (so the work is network-bound, as against real registries). Prints a
//! table; asserts nothing about time.
//!
//! Usage: ontofetch-bench-workers ONTOFETCH_BINARY [ONTOLOGIES=30] [LATENCY_MS=400] [SIZE=200000]

// A bench that cannot set up its fixture stops there and then.
#![allow(clippy::unwrap_used)]

use ontofetch_testsupport::fixtures::{RDF_XML, owl};
use ontofetch_testsupport::pg::Cluster;
use ontofetch_testsupport::s3::S3Server;
use ontofetch_testsupport::{Reply, TestServer};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Run {
    workers: usize,
    rate: &'static str,
    seconds: f64,
    downloads: usize,
    peak_per_second: usize,
}

fn arg(n: usize, default: u64) -> u64 {
    std::env::args().nth(n).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The most requests the registry saw within any one second.
fn peak_per_second(server: &TestServer) -> usize {
    let times: Vec<Instant> = server.seen().iter().map(|s| s.at).collect();
    times
        .iter()
        .map(|t| times.iter().filter(|u| **u >= *t && u.duration_since(*t) < Duration::from_secs(1)).count())
        .max()
        .unwrap_or(0)
}

#[allow(clippy::too_many_arguments)]
fn run(
    bin: &Path,
    pg: &Cluster,
    s3: &S3Server,
    n: usize,
    ids: &[String],
    latency: Duration,
    size: usize,
    rate: &'static str,
) -> Run {
    let registry = TestServer::start();
    for id in ids {
        registry.route(
            &format!("/obo/{id}.owl"),
            vec![Reply::ok(owl(None, &format!("{id} {}", "x".repeat(size))), RDF_XML).latency(latency)],
        );
    }
    let label = format!("w{n}-{}", rate.replace('/', "-"));
    let catalog = pg.database(&label);
    let bucket = label.clone();
    std::fs::create_dir_all(s3.bucket_dir(&bucket)).expect("bucket");
    let work = tempfile::tempdir().expect("temp dir");
    let spec = work.path().join("sources.yaml");
    let list: String = ids.iter().map(|id| format!("  - id: {id}\n")).collect();
    std::fs::write(
        &spec,
        format!(
            "defaults:\n  resolver_fallback_enabled: false\n  http:\n    concurrent_downloads: 4\nontologies:\n{list}"
        ),
    )
    .expect("spec");
    let started = Instant::now();
    let children: Vec<_> = (0..n)
        .map(|w| {
            let home = work.path().join(format!("worker{w}"));
            std::fs::create_dir_all(&home).expect("home");
            Command::new(bin)
                .args(["pull", "--json", "--no-lock"])
                .arg("--spec")
                .arg(&spec)
                .arg("--allowed-hosts")
                .arg(registry.allow_entry())
                .env("HOME", &home)
                .env("PYSTOW_HOME", &home)
                .env("ONTOFETCH_OBO_BASE_URL", registry.url("/obo"))
                .env("ONTOFETCH_CATALOG_URL", &catalog)
                .env("ONTOFETCH_STORE_URL", format!("s3://{bucket}"))
                .env("ONTOFETCH_WORKER_ID", format!("worker{w}"))
                .env("ONTOFETCH_PER_HOST_RATE_LIMIT", rate)
                .envs(s3.env())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(work.path().join(format!("worker{w}.log"))).expect("log"))
                .spawn()
                .expect("start a worker")
        })
        .collect();
    for (w, mut c) in children.into_iter().enumerate() {
        let status = c.wait().expect("worker");
        let log = std::fs::read_to_string(work.path().join(format!("worker{w}.log"))).unwrap_or_default();
        assert!(status.success(), "worker{w} failed: {log}");
    }
    let seconds = started.elapsed().as_secs_f64();
    let downloads = ids.iter().map(|id| registry.hits(&format!("/obo/{id}.owl"))).sum();
    Run { workers: n, rate, seconds, downloads, peak_per_second: peak_per_second(&registry) }
}

fn main() {
    let bin = std::env::args()
        .nth(1)
        .expect("usage: ontofetch-bench-workers ONTOFETCH_BINARY [ONTOLOGIES] [LATENCY_MS] [SIZE]");
    let count = arg(2, 30) as usize;
    let latency = Duration::from_millis(arg(3, 400));
    let size = arg(4, 200_000) as usize;
    let ids: Vec<String> = (0..count).map(|i| format!("onto{i:03}")).collect();
    let pg = Cluster::start();
    let s3 = S3Server::start("unused");
    let bin = Path::new(&bin);
    let mut runs = Vec::new();
    for n in 1..=3 {
        runs.push(run(bin, &pg, &s3, n, &ids, latency, size, "100/second"));
    }
    runs.push(run(bin, &pg, &s3, 3, &ids, latency, size, "4/second"));
    println!(
        "\n{count} ontologies of ~{} kB, {} ms added to every request, 4 downloads at once per worker;\nPostgreSQL catalog + S3 bucket shared by the workers (one fresh pair per row)\n",
        size / 1000,
        latency.as_millis()
    );
    println!(
        "| workers | per-host limit | seconds | ontologies/s | speed-up vs 1 | body downloads | peak requests/s |"
    );
    println!(
        "|--------:|---------------:|--------:|-------------:|--------------:|---------------:|----------------:|"
    );
    let base = runs[0].seconds;
    for r in &runs {
        println!(
            "| {} | {} | {:.2} | {:.2} | {:.2} | {} | {} |",
            r.workers,
            r.rate,
            r.seconds,
            count as f64 / r.seconds,
            base / r.seconds,
            r.downloads,
            r.peak_per_second
        );
    }
}
