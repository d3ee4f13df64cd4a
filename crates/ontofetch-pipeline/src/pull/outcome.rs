//! What a pull step reports: download counters, and the result for a version that is
//! already stored.

use crate::Pipeline;
use crate::now_rfc3339;
use crate::result::{PullResult, PullStatus};
use ontofetch_catalog::VersionRow;
use ontofetch_metrics::DownloadLabels;
use ontofetch_resolve::Plan;

/// Counts a download by resolver and result (`fetched`, `not_modified`, `failed`).
pub(super) fn count(p: &Pipeline, resolver: &str, result: &'static str) {
    p.metrics.downloads.get_or_create(&DownloadLabels { resolver: resolver.to_string(), result }).inc();
}

/// The result for a version that is already stored (304, identical bytes). `latest` is
/// re-pointed from the catalog (the one truth), never at this row blindly: the row may be
/// an older version or one that failed validation.
pub(super) async fn cached(p: &Pipeline, plan: &Plan, row: &VersionRow, notes: Vec<String>) -> PullResult {
    if let Err(e) = crate::retire::repoint_latest(&p.backends, &plan.id).await {
        tracing::warn!(id = %plan.id, error = %e, "latest pointer not refreshed");
    }
    PullResult { expected_checksum: expected_checksum(plan), plan: Some(plan.clone()), ..stored(p, row, notes) }
}

/// The result for a stored version, as the catalog records it. A version that failed
/// validation is a failure however often it is pulled again: upstream still serves it.
pub(super) fn stored(p: &Pipeline, row: &VersionRow, notes: Vec<String>) -> PullResult {
    if row.verdict == ontofetch_catalog::Verdict::Invalid {
        let error = crate::PipelineError::new(
            ontofetch_policy::Code::Validation,
            format!(
                "upstream still serves {}, which failed validation (kept for inspection; latest stays on the last \
                 version that validated)",
                row.version
            ),
        );
        let mut r = PullResult::failed(&row.ontology, Some(row.resolver.clone()), error);
        r.version = Some(row.version.clone());
        r.sha256 = Some(row.sha256.clone());
        r.notes = notes;
        return r;
    }
    stored_ok(p, row, notes)
}

fn stored_ok(p: &Pipeline, row: &VersionRow, notes: Vec<String>) -> PullResult {
    let original = format!("{}/{}", row.relpath, ontofetch_store::layout::original_rel(&row.filename));
    PullResult {
        id: row.ontology.clone(),
        resolver: Some(row.resolver.clone()),
        status: PullStatus::Cached,
        version: Some(row.version.clone()),
        sha256: Some(row.sha256.clone()),
        path: Some(p.backends.store.location(&original)),
        content_type: row.content_type.clone(),
        content_length: Some(row.bytes),
        etag: row.etag.clone(),
        last_modified: row.last_modified.clone(),
        cache_status: Some("hit".into()),
        expected_checksum: None,
        error: None,
        validation: None,
        notes,
        plan: None,
    }
}

pub(super) fn expected_checksum(plan: &Plan) -> Option<String> {
    plan.expected_checksum.as_ref().map(|c| format!("sha256:{}", c.value))
}

/// Today, for version names derived from content.
pub(super) fn today() -> String {
    now_rfc3339()[..10].to_string()
}
