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
    // The signing key (`keys generate`; defaults.signing.key_file).
    "keys",
    // The transparency log (tiles, entry bundles, checkpoint) and the checkpoints `verify`
    // remembers per origin.
    ontofetch_store::layout::LOG,
    ontofetch_store::layout::TRUST,
];

/// Keys (or top-level names) the tool does not recognise, sorted; `cas` are the CAS keys the
/// catalog records.
pub async fn find(b: &Backends, cas: &BTreeSet<String>) -> Result<Vec<String>, PipelineError> {
    let mut out = Vec::new();
    let cas_prefix = format!("{}/", layout::CAS);
    let cas_keys = match b.store.local_path("") {
        Some(root) => {
            for e in std::fs::read_dir(&root).into_iter().flatten().flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if !KNOWN_TOP.contains(&name.as_str()) && !name.starts_with('.') {
                    out.push(name);
                }
            }
            b.store.list(&cas_prefix).await?
        }
        None => {
            // A bucket: everything under the prefix in one listing, the CAS copies included.
            let (cas_keys, rest): (Vec<_>, Vec<_>) =
                b.store.list("").await?.into_iter().partition(|(k, _)| k.starts_with(&cas_prefix));
            for (key, _) in rest {
                let top = key.split('/').next().unwrap_or_default();
                if ![layout::ONTOLOGIES, layout::QUARANTINE, layout::UPLOADS].contains(&top) {
                    out.push(key);
                }
            }
            cas_keys
        }
    };
    for (key, _) in cas_keys {
        if !cas.contains(&key) && !key.rsplit('/').next().is_some_and(|n| n.starts_with('.')) {
            out.push(key);
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}
