//! Differential: the parallel Turtle / N-Triples parse (files cut at statement boundaries,
//! one chunk per thread, the prologue's prefixes given to each) against the sequential
//! parse of the same bytes. Same verdict, same statement count, same canonical hash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ontofetch_validate::{Normalize, Options, validate};

fn run(path: &std::path::Path, dir: &std::path::Path, threads: usize) -> (String, u64, Option<String>) {
    let normalize = Normalize {
        dir: dir.to_path_buf(),
        stem: "x".into(),
        formats: vec![],
        rdfc_max_component: 10_000,
        sort_memory_bytes: 1 << 20,
        second_pass: false,
        terms: false,
        fused: false,
        lowercase_language_tags: false,
    };
    let o = validate(path, &Options { normalize: Some(normalize), threads });
    (o.status.as_str().to_string(), o.statements, o.normalized_sha256)
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, text)) = data.split_first() else { return };
    let work = tempfile::tempdir().expect("tempdir");
    // Repeated so the windows hold several chunks.
    let body: Vec<u8> = text.iter().copied().cycle().take(text.len() * 64).collect();
    let path = work.path().join(if kind % 2 == 0 { "x.ttl" } else { "x.nt" });
    std::fs::write(&path, &body).expect("write");
    let one = run(&path, &work.path().join("one"), 1);
    let four = run(&path, &work.path().join("four"), 4);
    assert_eq!(one, four);
});
