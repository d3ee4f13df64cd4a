//! Step 5, version: the registry's version, else the file's own (`owl:versionIRI`,
//! `owl:versionInfo`, OBO `data-version`), else `<date>-sha256-<digest prefix>`. New bytes
//! under a version that is already stored become `<version>-sha256-<prefix>` with a note,
//! never a replacement of the old bytes.

use super::download::Arrived;
use super::outcome::today;
use crate::Pipeline;
use crate::error::PipelineError;
use ontofetch_resolve::Plan;
use ontofetch_store::layout;
use std::io::Read;

/// The chosen version directory name, and a note when it had to differ from upstream's.
pub(super) struct Chosen {
    /// Version directory name.
    pub name: String,
    /// Why it is not upstream's version, if it is not.
    pub note: Option<String>,
}

fn read_prefix(path: &std::path::Path, n: u64) -> Vec<u8> {
    let mut buf = Vec::new();
    if let Ok(f) = std::fs::File::open(path) {
        let _ = f.take(n).read_to_end(&mut buf);
    }
    buf
}

/// Chooses the version of newly downloaded bytes: the registry's, else what the first
/// bytes say, else what the parser read from the triples (an N-Triples `owl:versionIRI`
/// written with full IRIs), else one derived from the content.
pub(super) async fn choose(
    p: &Pipeline,
    plan: &Plan,
    arrived: &Arrived,
    parsed: &super::validate::Validated,
    token: u64,
) -> Result<Chosen, PipelineError> {
    let sha = &arrived.info.sha256;
    let base = plan
        .version
        .clone()
        .or_else(|| ontofetch_resolve::version::sniff(&read_prefix(&arrived.dest, 256 * 1024)))
        .or_else(|| parsed.version_iri.as_deref().map(ontofetch_resolve::version::sniff_iri))
        .or_else(|| parsed.data_version.clone().filter(|v| v.len() <= 100))
        .unwrap_or_else(|| ontofetch_resolve::version::from_content(sha, &today()));
    let name = layout::sanitize_version(&base);
    if p.backends.catalog.version(&plan.id, &name).await?.is_none() {
        // Files under that name without a row (a killed pull left them, or the catalog was
        // lost): we hold the lease, so no live pull owns them. They are never deleted: a
        // complete version is adopted (and this download then gets its own name below), the
        // rest is moved to the quarantine and the name is used.
        let prefix = format!("{}/", layout::version_key(&plan.id, &name));
        let leftover = !p.backends.store.list(&prefix).await?.is_empty();
        let adopted = leftover
            && matches!(
                crate::adopt::reclaim(&p.backends, &p.gates(), &plan.id, &name, token).await?,
                crate::adopt::Reclaimed::Adopted { .. }
            );
        if !adopted {
            return Ok(Chosen { name, note: None });
        }
    }
    Ok(Chosen {
        note: Some(format!(
            "upstream published new bytes under the same version {name:?}; stored as a separate version"
        )),
        name: format!("{name}-sha256-{}", &sha[..12]),
    })
}
