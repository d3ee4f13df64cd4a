//! ns/call of the hot gates: they run on every URL, redirect hop, address and archive entry.

// A bench that cannot set up its input stops there and then.
#![allow(clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use ontofetch_policy::extraction::{EntryFacts, EntryKind, EntryLedger, check_entry};
use ontofetch_policy::filesystem::{PathFacts, check_path};
use ontofetch_policy::host::HostRule;
use ontofetch_policy::ip::{IpFacts, check_ip};
use ontofetch_policy::url_gate::check_url;
use ontofetch_policy::{ExtractionPolicy, NetPolicy, PathPolicy};
use std::hint::black_box;
use std::path::Path;

fn gates(c: &mut Criterion) {
    let open = NetPolicy::default();
    let listed = NetPolicy {
        allowed_hosts: ["purl.obolibrary.org", "*.ebi.ac.uk", "data.bioontology.org", "10.0.0.0/8"]
            .iter()
            .map(|h| HostRule::parse(h).unwrap())
            .collect(),
        ..NetPolicy::default()
    };
    let mut g = c.benchmark_group("url_gate");
    g.bench_function("allow_domain", |b| {
        b.iter(|| check_url(&open, black_box("https://purl.obolibrary.org/obo/bfo.owl")))
    });
    g.bench_function("allow_domain_allowlist", |b| {
        b.iter(|| check_url(&listed, black_box("https://www.ebi.ac.uk/ols4/api/ontologies/pato")))
    });
    g.bench_function("refuse_metadata_ip", |b| {
        b.iter(|| check_url(&open, black_box("http://169.254.169.254/latest/meta-data/")))
    });
    g.bench_function("refuse_userinfo", |b| b.iter(|| check_url(&open, black_box("http://evil.com@127.0.0.1/"))));
    g.bench_function("refuse_idn_homograph", |b| {
        b.iter(|| check_url(&open, black_box("https://purl.obolibrаry.org/obo/bfo.owl")))
    });
    g.finish();

    let mut g = c.benchmark_group("ip_gate");
    let public = IpFacts {
        ip: "193.62.193.80".parse().unwrap(),
        host: Some("www.ebi.ac.uk"),
        port: Some(443),
        host_allows_internal: false,
    };
    let teredo = IpFacts {
        ip: "2001:0:4136:e378:8000:63bf:3fff:fdd2".parse().unwrap(),
        host: None,
        port: Some(443),
        host_allows_internal: false,
    };
    g.bench_function("allow_public_v4", |b| b.iter(|| check_ip(&open, black_box(&public))));
    g.bench_function("refuse_teredo", |b| b.iter(|| check_ip(&open, black_box(&teredo))));
    g.finish();

    let mut g = c.benchmark_group("path_gate");
    let paths = PathPolicy::default();
    let root = Path::new("/srv/ontofetch");
    let ok = PathFacts {
        root,
        candidate: "ontologies/bfo/2024-01-01/original/bfo.owl",
        root_is_symlink: false,
        symlinked_prefixes: &[],
    };
    let bad =
        PathFacts { root, candidate: "ontologies/../../etc/passwd", root_is_symlink: false, symlinked_prefixes: &[] };
    g.bench_function("allow_5_components", |b| b.iter(|| check_path(&paths, black_box(&ok))));
    g.bench_function("refuse_traversal", |b| b.iter(|| check_path(&paths, black_box(&bad))));
    let ledger = EntryLedger::default();
    let entry = EntryFacts { name: "hp/hp-full.owl", kind: EntryKind::File, index: 3, depth: 0 };
    g.bench_function("archive_entry", |b| {
        b.iter(|| check_entry(&ExtractionPolicy::default(), &paths, black_box(&ledger), black_box(&entry)))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(std::time::Duration::from_millis(300)).measurement_time(std::time::Duration::from_secs(1));
    targets = gates
}
criterion_main!(benches);
