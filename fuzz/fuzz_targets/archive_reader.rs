//! Arbitrary bytes as a zip, a tar or a gzipped tar through the archive reader: it refuses
//! or extracts, never panics, and never writes outside the destination (every extracted
//! file is under it, with the size the report says).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ontofetch_policy::{Gates, NoObserver, Policy};

fuzz_target!(|data: &[u8]| {
    let Some((&kind, bytes)) = data.split_first() else { return };
    let name = ["x.zip", "x.tar", "x.tar.gz", "x.gz"][kind as usize % 4];
    let work = tempfile::tempdir().expect("tempdir");
    let archive = work.path().join(name);
    std::fs::write(&archive, bytes).expect("write");
    let dest = work.path().join("out");
    let policy = Policy::default();
    let gates = Gates::new(&policy, &NoObserver);
    if let Ok(report) = ontofetch_archive::extract(&archive, &dest, &gates) {
        for f in &report.files {
            let path = dest.join(&f.path);
            assert!(path.starts_with(&dest) && !f.path.contains(".."), "{}", f.path);
            assert_eq!(std::fs::metadata(&path).map(|m| m.len()).ok(), Some(f.bytes), "{}", f.path);
        }
    }
});
