//! Archive entry names and link targets through the extraction gate: whatever it allows must
//! stay inside the root and be a fixed point of the normaliser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ontofetch_policy::extraction::{EntryFacts, EntryKind, EntryLedger, check_entry};
use ontofetch_policy::path::normalize;
use ontofetch_policy::{ExtractionPolicy, PathPolicy};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (name, target) = text.split_once('\0').unwrap_or((text, ""));
    let policy = ExtractionPolicy { allow_internal_symlinks: true, ..ExtractionPolicy::default() };
    let paths = PathPolicy::default();
    for kind in [EntryKind::File, EntryKind::Directory, EntryKind::Symlink(target)] {
        let facts = EntryFacts { name, kind, index: 0, depth: 0 };
        if let Ok(p) = check_entry(&policy, &paths, &EntryLedger::default(), &facts) {
            let s = p.as_slash_path();
            assert!(!s.starts_with('/') && !s.split('/').any(|c| c == ".." || c == "." || c.is_empty()));
            assert_eq!(normalize(&paths, &s).unwrap(), p);
        }
    }
});
