//! The extraction gate's byte and layout checks: bombs are stopped on produced bytes and on
//! zip layouts, never on declared sizes.

#![allow(clippy::unwrap_used)] // a test states what it expects with unwrap

use ontofetch_policy::extraction::{ProducedFacts, ZipSpan, check_produced, check_zip_layout};
use ontofetch_policy::{Code, ExtractionPolicy};

fn produced(entry: u64, entry_c: u64, total: u64, archive_c: u64) -> Option<Code> {
    let policy = ExtractionPolicy { max_entry_bytes: 1 << 30, max_total_bytes: 2 << 30, ..ExtractionPolicy::default() };
    check_produced(
        &policy,
        &ProducedFacts {
            name: "x.owl",
            entry_bytes: entry,
            entry_compressed: entry_c,
            total_bytes: total,
            archive_compressed: archive_c,
            declared: None,
        },
    )
    .err()
    .map(|r| r.code)
}

#[test]
fn ratio_and_size_caps() {
    // an ordinary 10:1 ontology
    assert_eq!(produced(50 << 20, 5 << 20, 50 << 20, 5 << 20), None);
    // a 1032:1 deflate kernel past the floor
    assert_eq!(produced(10 << 20, 10 << 10, 10 << 20, 10 << 10), Some(Code::Ratio));
    // high ratio on a tiny file is below the floor and tolerated
    assert_eq!(produced(100 << 10, 100, 100 << 10, 100), None);
    // each entry fine but the archive as a whole is a bomb (many small kernels)
    assert_eq!(produced(2 << 20, 1 << 20, 500 << 20, 1 << 20), Some(Code::Ratio));
    assert_eq!(produced((1 << 30) + 1, 1 << 30, (1 << 30) + 1, 1 << 30), Some(Code::EntrySize));
    assert_eq!(produced(1 << 20, 1 << 20, (2 << 30) + 1, 2 << 30), Some(Code::SizeLimit));
}

#[test]
fn a_declared_size_is_a_ceiling() {
    let facts = |produced| ProducedFacts {
        name: "x.owl",
        entry_bytes: produced,
        entry_compressed: 10,
        total_bytes: produced,
        archive_compressed: 10,
        declared: Some(100),
    };
    assert!(check_produced(&ExtractionPolicy::default(), &facts(100)).is_ok());
    assert_eq!(check_produced(&ExtractionPolicy::default(), &facts(101)).unwrap_err().code, Code::EntrySize);
}

#[test]
fn zip_layout_overlap_and_header_disagreement() {
    let span = |c: &'static str, l: &'static str, s, e| ZipSpan {
        central_name: c,
        local_name: l,
        header_start: s,
        data_end: e,
    };
    assert!(check_zip_layout(&[span("a", "a", 0, 100), span("b", "b", 100, 250)], 250, None).is_ok());
    // zbsm-style: every entry points into one kernel
    let err = check_zip_layout(&[span("a", "a", 0, 1000), span("b", "b", 30, 1000)], 1000, None).unwrap_err();
    assert_eq!(err.code, Code::Overlap);
    // quoted overlap: headers disjoint but data ranges cross
    assert_eq!(
        check_zip_layout(&[span("a", "a", 0, 150), span("b", "b", 100, 300)], 300, None).unwrap_err().code,
        Code::Overlap
    );
    assert_eq!(check_zip_layout(&[span("a", "evil", 0, 10)], 10, None).unwrap_err().code, Code::Overlap);
    assert_eq!(check_zip_layout(&[span("a", "a", 0, 120)], 100, None).unwrap_err().code, Code::Overlap);
}
