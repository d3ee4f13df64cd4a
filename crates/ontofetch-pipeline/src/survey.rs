//! One read of the whole mirror that doctor and prune judge every ontology on: the
//! catalog's versions, `latest` and files (three statements) and the store's files (one listing, which also names the version prefixes). An
//! ontology that looks sound on it is sound; only one that disagrees is read again, under its
//! lease, so the cost of a healthy mirror does not grow by a request per ontology.

use crate::backends::Backends;
use crate::error::PipelineError;
use ontofetch_catalog::{ArtifactRow, VersionRow};
use ontofetch_store::layout;
use std::collections::BTreeMap;

/// The catalog and the store of one moment, grouped by ontology id.
#[derive(Debug, Default)]
pub struct Survey {
    /// Version rows by ontology.
    pub rows: BTreeMap<String, Vec<VersionRow>>,
    /// Recorded files by ontology, as `(version, file)`.
    pub artifacts: BTreeMap<String, Vec<(String, ArtifactRow)>>,
    /// The version each ontology's `latest` names in the catalog.
    pub latest: BTreeMap<String, String>,
    /// Stored files by ontology: key → size.
    pub listed: BTreeMap<String, BTreeMap<String, u64>>,
    /// Version directories (prefixes) the store holds, by ontology.
    pub dirs: BTreeMap<String, Vec<String>>,
}

impl Survey {
    /// Reads the catalog and lists the store.
    pub async fn take(b: &Backends) -> Result<Survey, PipelineError> {
        let mut s = Survey::default();
        for r in b.catalog.versions(None, u32::MAX).await? {
            s.rows.entry(r.ontology.clone()).or_default().push(r);
        }
        for r in b.catalog.latest_all().await? {
            s.latest.insert(r.ontology, r.version);
        }
        for (id, v, a) in b.catalog.all_artifacts().await? {
            s.artifacts.entry(id).or_default().push((v, a));
        }
        let mut dirs = std::collections::BTreeSet::new();
        for (key, size) in b.store.list(&format!("{}/", layout::ONTOLOGIES)).await? {
            let mut parts = key.split('/').skip(1);
            let (Some(id), version, file) = (parts.next(), parts.next(), parts.next()) else { continue };
            if let (Some(v), Some(_)) = (version, file)
                && v != layout::LATEST
            {
                dirs.insert((id.to_string(), v.to_string()));
            }
            s.listed.entry(id.to_string()).or_default().insert(key, size);
        }
        // A bucket's version prefixes are those of its files; a directory can also hold an
        // empty version directory (a crash before the first file), which only a walk shows.
        if b.store.local_path(layout::ONTOLOGIES).is_some() {
            dirs.extend(b.store.version_dirs().await?);
        }
        for (id, version) in dirs {
            s.dirs.entry(id).or_default().push(version);
        }
        Ok(s)
    }

    /// Every ontology id the catalog records.
    pub fn recorded(&self) -> impl Iterator<Item = &String> {
        self.rows.keys()
    }

    /// How many version directories the store holds.
    pub fn dir_count(&self) -> usize {
        self.dirs.values().map(Vec::len).sum()
    }
}
