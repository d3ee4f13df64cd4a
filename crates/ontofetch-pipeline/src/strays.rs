//! What the store holds that the tool does not recognise: names at the top of the data root
//! or the bucket prefix outside the layout (`junk/`), and CAS copies no catalog row
//! records. `doctor` lists them as notes and never deletes them: they are not the mirror's
//! to judge (docs/architecture.md, "Invariants", I9).

use crate::backends::Backends;
use crate::error::PipelineError;
use ontofetch_store::layout;
use std::collections::BTreeSet;

/// Names the layout and the tool keep at the top of a data root (local store).
const KNOWN_TOP: &[&str] = &[
    layout::ONTOLOGIES,
    layout::CAS,
    layout::QUARANTINE,
    layout::STAGING,
    layout::LOCKS,
    layout::CATALOG_FILE,
    "catalog.sqlite-wal",
    "catalog.sqlite-shm",
    "catalog.sqlite-journal",
    "configs",
    "cache",
    "logs",
    "registry",
    "serve.pid",
];

/// Keys (or top-level names) the tool does not recognise, sorted; `cas` are the CAS keys the
/// catalog records.
pub async fn find(b: &Backends, cas: &BTreeSet<String>) -> Result<Vec<String>, PipelineError> {
    let mut out = Vec::new();
    if let Some(root) = b.store.local_path("") {
        for e in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !KNOWN_TOP.contains(&name.as_str()) && !name.starts_with(".staging-") && !name.starts_with('.') {
                out.push(name);
            }
        }
    } else {
        // A bucket: everything under the prefix, in one listing.
        for (key, _) in b.store.list("").await? {
            let top = key.split('/').next().unwrap_or_default();
            if ![layout::ONTOLOGIES, layout::CAS, layout::QUARANTINE, layout::UPLOADS].contains(&top) {
                out.push(key);
            }
        }
    }
    for (key, _) in b.store.list(&format!("{}/", layout::CAS)).await? {
        if !cas.contains(&key) && !key.rsplit('/').next().is_some_and(|n| n.starts_with('.')) {
            out.push(key);
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}
