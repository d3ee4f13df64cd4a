//! `diff ID [OLD] [NEW]` and the diff a pull computes for each new version: the term facts
//! each version stores (`normalized/<stem>.terms.tsv`, written by the validator in its
//! sandbox) joined in one streaming pass ([`ontofetch_validate::terms`]). A version pulled
//! before facts were kept gets them now, from its stored original, through the same
//! validator runner.

use crate::error::{PipelineError, io};
use crate::{Pipeline, pull::check};
use ontofetch_catalog::{DiffRow, VersionRow};
use ontofetch_metrics::{ChangeLabels, OntologyLabels};
use ontofetch_policy::Code;
use ontofetch_store::Staging;
use ontofetch_validate::terms::{self, TermDiff};
use ontofetch_validate::{Normalize, Status};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Examples of each kind of change kept in the catalog and the manifest.
pub const STORED_EXAMPLES: usize = 20;

/// The diff of two versions of one ontology.
#[derive(Debug, Clone, Serialize)]
pub struct VersionDiff {
    /// Ontology id.
    pub id: String,
    /// The older version.
    pub old: String,
    /// The newer version.
    pub new: String,
    /// What changed.
    #[serde(flatten)]
    pub diff: TermDiff,
}

/// Where a version's term facts are, as a local file (fetched into `scratch` when the
/// store is remote, or computed there from the original when the version has none).
pub(crate) async fn facts(p: &Pipeline, row: &VersionRow, scratch: &Staging) -> Result<PathBuf, PipelineError> {
    let b = &p.backends;
    let gates = p.gates();
    let files = b.catalog.artifacts(&row.ontology, &row.version).await?;
    let mut stored: Vec<&str> =
        files.iter().filter(|f| f.kind == ontofetch_catalog::ArtifactKind::Terms).map(|f| f.relpath.as_str()).collect();
    stored.sort_unstable();
    if let Some(key) = stored.first() {
        let key = gates.stored_path(key)?.as_slash_path();
        if let Some(path) = b.store.local_path(&key) {
            return Ok(path);
        }
        let dest = scratch.dir().join(format!("{}.terms.tsv", row.version));
        b.store.fetch_to(&key, &dest).await?;
        return Ok(dest);
    }
    // No facts kept: compute them from the stored original (not from an archive).
    let original = crate::backends::original_key(&gates, row)?;
    let file = match b.store.local_path(&original) {
        Some(f) => f,
        None => {
            let f = scratch.dir().join(format!("{}.original", row.version));
            b.store.fetch_to(&original, &f).await?;
            f
        }
    };
    let dir = scratch.dir().join(format!("facts-{}", row.version));
    let normalize = Normalize { terms: true, formats: vec![], ..p.limits().normalize(&dir, &row.version, &[]) };
    let outcome = check(&p.runner, p.limits(), &p.metrics, &file, Some(normalize)).await;
    let facts = outcome.outputs.iter().find(|o| o.format == "terms").map(|o| PathBuf::from(&o.path));
    match (outcome.status, facts) {
        (Status::Ok, Some(path)) => Ok(path),
        (status, _) => Err(PipelineError::new(
            Code::Validation,
            format!(
                "{} {}: no term facts ({}): {}",
                row.ontology,
                row.version,
                status.as_str(),
                outcome.terms_error.or(outcome.message).unwrap_or_else(|| "not an RDF or OBO file".into())
            ),
        )),
    }
}

/// Joins two facts files off the async threads.
pub(crate) async fn join(old: PathBuf, new: PathBuf, limit: usize) -> Result<TermDiff, PipelineError> {
    tokio::task::spawn_blocking(move || terms::diff(&old, &new, limit))
        .await
        .map_err(|e| PipelineError::new(Code::Io, format!("the diff stopped: {e}")))?
        .map_err(io("diffing term facts"))
}

/// Diffs `old` and `new` of `id` (default: the two newest versions that validated: a
/// failed or unrecognised download has no terms to compare), keeping at most `limit`
/// examples of each kind of change.
pub async fn versions(
    p: &Pipeline,
    id: &str,
    old: Option<&str>,
    new: Option<&str>,
    limit: usize,
) -> Result<VersionDiff, PipelineError> {
    let rows = p.backends.catalog.versions(Some(id), u32::MAX).await?;
    let find = |v: &str| {
        rows.iter().position(|r| r.version == v).ok_or_else(|| {
            PipelineError::new(
                Code::NotFound,
                format!("{id} has no version {v}; `ontofetch db versions {id}` lists them"),
            )
        })
    };
    let validated_from = |from: usize| rows.iter().skip(from).position(|r| r.verdict.validated()).map(|i| i + from);
    let new_at = match new {
        Some(v) => find(v)?,
        None => validated_from(0).unwrap_or(rows.len()),
    };
    let old_at = match old {
        Some(v) => find(v)?,
        None => validated_from(new_at + 1).unwrap_or(rows.len()),
    };
    let (Some(new_row), Some(old_row)) = (rows.get(new_at), rows.get(old_at)) else {
        return Err(PipelineError::new(
            Code::Usage,
            format!(
                "{id} has {} stored version(s), {} of them validated; a diff needs two (name them: diff {id} OLD NEW)",
                rows.len(),
                rows.iter().filter(|r| r.verdict.validated()).count()
            ),
        ));
    };
    let scratch = p.backends.store.begin(&p.gates(), id)?;
    let a = facts(p, old_row, &scratch).await?;
    let b = facts(p, new_row, &scratch).await?;
    let diff = join(a, b, limit).await?;
    Ok(VersionDiff { id: id.to_string(), old: old_row.version.clone(), new: new_row.version.clone(), diff })
}

/// The summary a manifest and the catalog keep for a new version.
pub(crate) fn summary(previous: &str, d: &TermDiff) -> serde_json::Value {
    serde_json::json!({
        "previous": previous,
        "terms_old": d.terms_old,
        "terms_new": d.terms_new,
        "counts": d.counts,
        "removed_share": d.removed_share,
        "changes": d.changes,
    })
}

/// Records a new version's diff in the catalog and the metrics.
pub(crate) async fn record(
    p: &Pipeline,
    id: &str,
    version: &str,
    previous: &str,
    d: &TermDiff,
) -> Result<(), PipelineError> {
    let row = DiffRow {
        ontology: id.to_string(),
        version: version.to_string(),
        previous: previous.to_string(),
        summary: summary(previous, d).to_string(),
    };
    p.backends.catalog.record_diff(&row).await?;
    observe(p, id, d);
    Ok(())
}

/// Sets the term gauges and counts the changes.
pub(crate) fn observe(p: &Pipeline, id: &str, d: &TermDiff) {
    let o = OntologyLabels { ontology: id.to_string() };
    p.metrics.ontology_terms.get_or_create(&o).set(d.terms_new as i64);
    p.metrics.terms_removed_ratio.get_or_create(&o).set(d.removed_share);
    for kind in ontofetch_validate::terms::ChangeKind::ALL {
        let labels = ChangeLabels { ontology: id.to_string(), kind: kind.as_str() };
        p.metrics.term_changes.get_or_create(&labels).inc_by(d.count(kind));
    }
}

/// The facts file a pull just wrote into staging, if any (the first target's).
pub(crate) fn staged_facts(staging: &Staging, outputs: &[(String, String, u64)]) -> Option<PathBuf> {
    outputs.iter().find(|(rel, ..)| rel.ends_with(".terms.tsv")).map(|(rel, ..)| staging.dir().join(Path::new(rel)))
}
