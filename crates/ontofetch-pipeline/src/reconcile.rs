//! Store ↔ catalog agreement, judged one ontology at a time under its lease: a version
//! directory (or a bucket prefix) without a catalog row, a row whose files are gone. A
//! worker mid-pull has files and no row yet, so an ontology whose lease is held elsewhere is
//! reported busy and never judged (nor "fixed" under a running upload). `doctor` reports and
//! `--fix`es what this finds; `prune` refuses to delete against a catalog that disagrees.

use crate::backends::Backends;
use crate::error::PipelineError;
use crate::retire::repoint_latest;
use crate::survey::Survey;
use ontofetch_policy::Gates;
use ontofetch_policy::db_boundary::PairFacts;
use ontofetch_store::layout;
use std::collections::BTreeSet;

/// One disagreement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Orphan {
    /// `ontologies/<id>/<version>`.
    pub key: String,
    /// The gate's refusal, as a sentence.
    pub problem: String,
    /// Repaired (with `fix`).
    pub fixed: bool,
    /// For a directory without a row: adopted or quarantined.
    pub reclaimed: Option<crate::adopt::Reclaimed>,
}

/// What was found across the mirror.
#[derive(Debug, Clone, Default)]
pub struct Reconciled {
    /// Version directories the catalog does not record.
    pub dirs_without_rows: Vec<Orphan>,
    /// Catalog rows whose original file is missing.
    pub rows_without_files: Vec<Orphan>,
    /// Ontologies another worker was pulling (not judged).
    pub busy: Vec<String>,
    /// Catalog rows seen.
    pub rows: usize,
    /// Version directories seen.
    pub dirs: usize,
}

impl Reconciled {
    /// Every disagreement that is still there.
    pub fn unfixed(&self) -> impl Iterator<Item = &Orphan> {
        self.dirs_without_rows.iter().chain(&self.rows_without_files).filter(|o| !o.fixed)
    }
}

/// Judges every ontology the store or the catalog knows; with `fix`, adopts (or, when it
/// cannot prove itself, quarantines) every directory without a row, and retires rows whose
/// original is gone (docs/architecture.md, "Invariants", I7 and I9).
pub async fn run(b: &Backends, gates: &Gates<'_>, fix: bool, survey: &Survey) -> Result<Reconciled, PipelineError> {
    // The survey is one listing of the whole mirror: an ontology whose rows and files agree
    // on it is sound; only one that disagrees is judged again under its lease, on a fresh
    // listing (a pull may have finished meanwhile), and only there does the db_boundary gate
    // decide.
    let on_store = &survey.dirs;
    let rows_of = &survey.rows;
    let listed = |id: &str, key: &str| survey.listed.get(id).is_some_and(|l| l.contains_key(key));
    let mut out = Reconciled { dirs: survey.dir_count(), ..Reconciled::default() };
    let ids: BTreeSet<&String> = on_store.keys().chain(rows_of.keys()).collect();
    for id in ids {
        if crate::links::ontology_is_planted(b, id) {
            continue;
        }
        let versions = on_store.get(id).map(Vec::as_slice).unwrap_or_default();
        let rows = rows_of.get(id).map(Vec::as_slice).unwrap_or_default();
        let sound = versions.iter().all(|v| rows.iter().any(|r| &r.version == v))
            && rows.iter().all(|r| listed(id, &format!("{}/{}", r.relpath, layout::original_rel(&r.filename))));
        if sound {
            out.rows += rows.len();
            continue;
        }
        if !ontology(b, gates, id, versions, fix, &mut out).await? {
            out.busy.push(id.clone());
        }
    }
    Ok(out)
}

/// Judges one ontology under its lease; `false` when another worker holds it.
async fn ontology(
    b: &Backends,
    gates: &Gates<'_>,
    id: &str,
    versions: &[String],
    fix: bool,
    out: &mut Reconciled,
) -> Result<bool, PipelineError> {
    let Some(lease) = b.catalog.try_lease(id).await? else {
        return Ok(false);
    };
    // Read under the lease: a pull that finished since the listing has its row now.
    let rows = b.catalog.versions(Some(id), u32::MAX).await?;
    // One listing of the ontology's files, not a request per version.
    let listed: BTreeSet<String> =
        b.store.list(&format!("{}/", layout::ontology_key(id))).await?.into_iter().map(|(k, _)| k).collect();
    out.rows += rows.len();
    let mut changed = false;
    for version in versions {
        let key = layout::version_key(id, version);
        let row_exists = rows.iter().any(|r| &r.version == version);
        if let Err(e) = gates.pair(&PairFacts { key: &key, row_exists, file_exists: true }) {
            // Never deleted: adopted when its manifest and bytes agree, else quarantined.
            let reclaimed = match fix {
                true => match crate::adopt::reclaim(b, gates, id, version, lease.token()).await {
                    Ok(r) => Some(r),
                    Err(err) => {
                        tracing::warn!(key = %key, error = %err, "could not adopt or quarantine");
                        None
                    }
                },
                false => None,
            };
            changed |= reclaimed.is_some();
            out.dirs_without_rows.push(Orphan { key, problem: e.to_string(), fixed: reclaimed.is_some(), reclaimed });
        }
    }
    for r in &rows {
        let original = format!("{}/{}", r.relpath, layout::original_rel(&r.filename));
        let file_exists = listed.contains(&original);
        if let Err(e) = gates.pair(&PairFacts { key: &r.relpath, row_exists: true, file_exists }) {
            // The row first (nothing visible points at missing files), then what is left of
            // the version's files.
            let fixed = fix
                && b.catalog.remove_version(&r.ontology, &r.version).await.is_ok()
                && b.store.remove_version(gates, &r.ontology, &r.version).await.is_ok();
            changed |= fixed;
            out.rows_without_files.push(Orphan {
                key: r.relpath.clone(),
                problem: e.to_string(),
                fixed,
                reclaimed: None,
            });
        }
    }
    if changed {
        repoint_latest(b, id).await?;
    }
    Ok(true)
}
