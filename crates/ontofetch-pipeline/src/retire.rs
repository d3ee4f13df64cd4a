//! The one way a stored version goes away (prune, `validate --strict`, `doctor --fix`,
//! rollback): its catalog rows first, so nothing visible points at missing files, then its
//! files, then `latest` moves to the newest version left (or goes).

use crate::backends::Backends;
use crate::error::PipelineError;
use ontofetch_policy::Gates;

/// Retires `id/version`; returns the version `latest` now points at.
pub async fn retire_version(
    b: &Backends,
    gates: &Gates<'_>,
    id: &str,
    version: &str,
) -> Result<Option<String>, PipelineError> {
    b.catalog.remove_version(id, version).await?;
    b.store.remove_version(gates, id, version).await?;
    repoint_latest(b, id).await
}

/// Points `latest` at the newest recorded version (by download time), or removes it.
pub async fn repoint_latest(b: &Backends, id: &str) -> Result<Option<String>, PipelineError> {
    match b.catalog.latest(id).await? {
        Some(row) => {
            b.store.set_latest(id, &row.version).await?;
            Ok(Some(row.version))
        }
        None => {
            b.store.clear_latest(id).await?;
            Ok(None)
        }
    }
}
