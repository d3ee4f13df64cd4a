//! `prune`: keep the newest `keep` versions (by download time) of each ontology; with
//! `older_than`, only versions downloaded before that date go. Refuses to run while the
//! store holds versions the catalog does not know: deleting against an unsynchronised
//! catalog is how the original lost data. Each ontology is pruned under its lease; one
//! that another worker is pulling is left alone and reported.

use crate::backends::Backends;
use crate::error::PipelineError;
use crate::retire::{repoint_latest, retire_version};
use ontofetch_catalog::VersionRow;
use ontofetch_policy::{Code, Gates};
use ontofetch_store::layout;
use serde::Serialize;

/// What to prune.
#[derive(Debug, Clone, Default)]
pub struct PruneRequest {
    /// Versions kept per ontology (at least 1).
    pub keep: usize,
    /// `YYYY-MM-DD`: only versions downloaded before it may go.
    pub older_than: Option<String>,
    /// Only these ontologies (all when empty).
    pub ids: Vec<String>,
    /// Report only.
    pub dry_run: bool,
}

/// One ontology's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct PrunedOntology {
    /// Ontology id.
    pub id: String,
    /// Versions deleted (or that would be).
    pub deleted: Vec<String>,
    /// Versions kept, newest first.
    pub retained: Vec<String>,
    /// Bytes of the deleted originals.
    pub reclaimed_bytes: u64,
}

/// The whole outcome.
#[derive(Debug, Clone, Serialize)]
pub struct PruneReport {
    /// Per ontology.
    pub ontologies: Vec<PrunedOntology>,
    /// Versions deleted.
    pub total_deleted: usize,
    /// Bytes reclaimed.
    pub total_reclaimed_bytes: u64,
    /// Ontologies another worker was pulling: left alone this time.
    pub busy: Vec<String>,
    /// Nothing was deleted.
    pub dry_run: bool,
}

/// Splits versions (newest first) into (retained, deleted): the first `keep` versions that
/// validated always stay (a version that failed validation is no copy to fall back on, so
/// it does not count); a failed one newer than the oldest kept stays for inspection; of the
/// rest, only those downloaded before `older_than` (when given) go.
pub fn select(rows: Vec<VersionRow>, keep: usize, older_than: Option<&str>) -> (Vec<VersionRow>, Vec<VersionRow>) {
    let (mut retained, mut deleted) = (Vec::new(), Vec::new());
    let mut kept_good = 0;
    for r in rows {
        let good = r.verdict.validated();
        let young = older_than.is_some_and(|d| r.downloaded_at.as_str() >= d);
        if kept_good < keep || young {
            kept_good += usize::from(good);
            retained.push(r);
        } else {
            deleted.push(r);
        }
    }
    (retained, deleted)
}

/// Runs a prune. It refuses, listing them, while the store and the catalog disagree either
/// way (a version directory without a row, a recorded file that is missing or of another
/// size): deleting by the catalog's word while the store has lost the newest copy is how a
/// mirror ends with nothing readable.
pub async fn prune(b: &Backends, gates: &Gates<'_>, req: &PruneRequest) -> Result<PruneReport, PipelineError> {
    // One survey of the whole mirror serves the reconciliation, the audit and a dry run's
    // selection: a sound mirror is judged in two statements and one listing.
    // Nothing is deleted while a link is planted where the tool keeps real directories.
    let planted = crate::links::find(b.store.local_root());
    if !planted.is_empty() {
        let keys: Vec<&str> = planted.iter().map(|l| l.key.as_str()).collect();
        return Err(PipelineError::new(
            Code::Link,
            format!(
                "symbolic links are planted at {} in the data root; prune deletes nothing until a person has removed \
                 them (`ontofetch doctor` lists them)",
                keys.join(", ")
            ),
        ));
    }
    let survey = crate::survey::Survey::take(b).await?;
    let found = crate::reconcile::run(b, gates, false, &survey).await?;
    let mut unknown: Vec<String> = found.dirs_without_rows.iter().map(|o| o.key.clone()).collect();
    unknown.extend(found.rows_without_files.iter().map(|o| format!("{} (recorded, files missing)", o.key)));
    if !unknown.is_empty() {
        return Err(PipelineError::new(
            Code::DbOrphan,
            format!(
                "the store and the catalog disagree about {} version(s) ({}); run `ontofetch doctor` and repair \
                 before pruning",
                unknown.len(),
                unknown.join(", ")
            ),
        ));
    }
    let audit =
        crate::integrity::audit(b, gates, crate::integrity::AuditOptions::default(), &|_, _| {}, &survey).await?;
    let broken: Vec<String> = audit
        .unfixed()
        .filter(|f| f.invariant == crate::integrity::Invariant::ArtifactMatchesBytes)
        .map(|f| format!("{} ({})", f.key, f.problem))
        .collect();
    if !broken.is_empty() {
        return Err(PipelineError::new(
            Code::Drift,
            format!(
                "{} recorded file(s) are missing or changed: {}; repair them (`ontofetch doctor`) before pruning",
                broken.len(),
                broken.join("; ")
            ),
        ));
    }
    let targets: Vec<String> = if req.ids.is_empty() { survey.recorded().cloned().collect() } else { req.ids.clone() };
    let mut ontologies = Vec::new();
    let mut busy = Vec::new();
    for id in targets {
        // Under the ontology's lease: never beside a pull of the same ontology (a dry run
        // changes nothing and needs none).
        let _lease = if req.dry_run {
            None
        } else {
            let Some(lease) = b.catalog.try_lease(&id).await? else {
                busy.push(id);
                continue;
            };
            Some(lease)
        };
        // A dry run selects from the survey; a real one re-reads under the lease.
        let rows = match req.dry_run {
            true => survey.rows.get(&id).cloned().unwrap_or_default(),
            false => b.catalog.versions(Some(&id), u32::MAX).await?,
        };
        let (retained, deleted) = select(rows, req.keep, req.older_than.as_deref());
        if !req.dry_run {
            for r in &deleted {
                retire_version(b, gates, &r.ontology, &r.version).await?;
            }
            repoint_latest(b, &id).await?;
        }
        ontologies.push(PrunedOntology {
            reclaimed_bytes: deleted.iter().map(|r| version_bytes(&survey, r)).sum(),
            deleted: deleted.into_iter().map(|r| r.version).collect(),
            retained: retained.into_iter().map(|r| r.version).collect(),
            id,
        });
    }
    Ok(PruneReport {
        total_deleted: ontologies.iter().map(|o| o.deleted.len()).sum(),
        total_reclaimed_bytes: ontologies.iter().map(|o| o.reclaimed_bytes).sum(),
        ontologies,
        busy,
        dry_run: req.dry_run,
    })
}

/// Every byte a version's directory holds (original, extracted and normalised files,
/// manifest), as the store listed it; the original's size when the listing has none.
fn version_bytes(survey: &crate::survey::Survey, r: &VersionRow) -> u64 {
    let prefix = format!("{}/{}/{}/", layout::ONTOLOGIES, r.ontology, r.version);
    let listed: u64 = survey
        .listed
        .get(&r.ontology)
        .map(|files| files.range(prefix.clone()..).take_while(|(k, _)| k.starts_with(&prefix)).map(|(_, n)| *n).sum())
        .unwrap_or(0);
    listed.max(r.bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(v: &str, at: &str) -> VersionRow {
        VersionRow {
            ontology: "x".into(),
            version: v.into(),
            resolver: "obo".into(),
            url: "u".into(),
            sha256: "s".into(),
            bytes: 1,
            filename: "x.owl".into(),
            relpath: format!("ontologies/x/{v}"),
            content_type: None,
            etag: None,
            last_modified: None,
            license: None,
            downloaded_at: at.into(),
            verdict: Default::default(),
        }
    }

    #[test]
    fn keep_then_older_than() {
        let rows = || vec![row("v3", "2025-03-01"), row("v2", "2025-02-01"), row("v1", "2025-01-01")];
        let names = |v: Vec<VersionRow>| v.into_iter().map(|r| r.version).collect::<Vec<_>>();
        let (kept, gone) = select(rows(), 1, None);
        assert_eq!((names(kept), names(gone)), (vec!["v3".to_string()], vec!["v2".to_string(), "v1".to_string()]));
        let (kept, gone) = select(rows(), 1, Some("2025-01-15"));
        assert_eq!(names(kept), ["v3", "v2"], "v2 is newer than the cut-off");
        assert_eq!(names(gone), ["v1"]);
        let (kept, gone) = select(rows(), 5, None);
        assert_eq!((kept.len(), gone.len()), (3, 0));
    }

    #[test]
    fn only_versions_that_validated_count_towards_keep() {
        let bad = |v: &str, at: &str| VersionRow { verdict: ontofetch_catalog::Verdict::Invalid, ..row(v, at) };
        let rows =
            vec![bad("v4", "2025-04-01"), row("v3", "2025-03-01"), bad("v2", "2025-02-01"), row("v1", "2025-01-01")];
        let (kept, gone) = select(rows, 1, None);
        let names = |v: Vec<VersionRow>| v.into_iter().map(|r| r.version).collect::<Vec<_>>();
        // v4 failed: kept for inspection but it is not the copy kept; v3 is.
        assert_eq!(names(kept), ["v4", "v3"]);
        assert_eq!(names(gone), ["v2", "v1"]);
    }
}
