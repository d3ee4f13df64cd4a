//! Step 3, extract: archives are unpacked inside staging through the extraction and
//! filesystem gates; a refused entry fails the pull and staging (with everything
//! extracted so far) is discarded.

use super::download::Arrived;
use crate::Pipeline;
use crate::error::PipelineError;
use ontofetch_archive::Report;
use ontofetch_policy::Gates;
use ontofetch_store::{Staging, layout};
use serde_json::json;

/// Extracts the downloaded file when it is an archive.
pub(super) fn run(
    p: &Pipeline,
    gates: &Gates<'_>,
    staging: &Staging,
    arrived: &Arrived,
) -> Result<Option<Report>, PipelineError> {
    if !ontofetch_archive::is_archive(&arrived.dest) {
        return Ok(None);
    }
    let stem = layout::file_stem(&arrived.filename);
    let into = staging.dir().join(layout::extracted_rel(&stem));
    let report = ontofetch_archive::extract(&arrived.dest, &into, gates)
        .map_err(|e| PipelineError::from_coded(e).context(format!("extracting {}", arrived.filename)))?;
    p.metrics.extracted_bytes.inc_by(report.total_bytes);
    p.metrics.archive_expansion_ratio.observe(report.ratio());
    let audit =
        json!({"archive": arrived.filename, "sha256": arrived.info.sha256, "report": report, "ratio": report.ratio()});
    staging.write_json(&layout::audit_rel(&stem), &audit)?;
    Ok(Some(report))
}
