//! Step 2a, for a plan from another ontofetch mirror (`resolver: mirror`): before anything
//! is stored, the bytes must be what that mirror attested, its attestation must be in its
//! transparency log under a checkpoint signed by the trusted key, and that log must extend
//! the last checkpoint this data root saw of it (a rollback or a forked history is refused,
//! `E_LOG_INCONSISTENT`). The attestation is kept beside the version's own
//! (`upstream.attestation.dsse.json`).

use super::download::Arrived;
use crate::Pipeline;
use crate::error::PipelineError;
use crate::tlog::{HttpLog, prove_in};
use ontofetch_policy::Code;
use ontofetch_provenance::VerifierKey;
use ontofetch_resolve::Plan;
use ontofetch_resolve::resolvers::mirror::{MirrorRef, file_url};
use ontofetch_store::{Staging, layout};

/// An attestation is a few KiB; more is not one.
const MAX_ATTESTATION: u64 = 1 << 20;

fn refused(message: impl Into<String>) -> PipelineError {
    PipelineError::new(Code::Attestation, message)
}

/// Verifies what arrived from `mirror` and keeps its attestation in staging.
pub(super) async fn verify(
    p: &Pipeline,
    plan: &Plan,
    mirror: &MirrorRef,
    arrived: &Arrived,
    staging: &Staging,
) -> Result<(), PipelineError> {
    let key = VerifierKey::parse(&mirror.key).map_err(|e| {
        PipelineError::new(
            Code::ConfigInvalid,
            format!("{}: extras.key is not the mirror's verifier key: {e}", plan.id),
        )
    })?;
    let version =
        plan.version.as_deref().ok_or_else(|| refused(format!("{} from {} names no version", plan.id, mirror.url)))?;
    let url = file_url(&mirror.url, &plan.id, version, &[layout::ATTESTATION])
        .ok_or_else(|| PipelineError::new(Code::UrlInvalid, format!("{} is not a URL", mirror.url)))?;
    let envelope =
        p.fetcher.get_small(&url, "mirror", "application/json", MAX_ATTESTATION, None).await.map_err(|e| {
            if matches!(e, ontofetch_net::NetError::Status { status: 404, .. }) {
                refused(format!("{} {version} on {} has no attestation: the mirror does not sign", plan.id, mirror.url))
            } else {
                PipelineError::from_coded(e)
            }
        })?;
    let statement = crate::provenance::open(&envelope, &key)?;
    let said = &statement.predicate;
    if said.ontology != plan.id || said.version != version {
        return Err(refused(format!(
            "the attestation {} serves for {}/{version} is about {}/{}",
            mirror.url, plan.id, said.ontology, said.version
        )));
    }
    let name = layout::original_rel(&arrived.filename);
    statement.check(&name, &arrived.info.sha256).map_err(|e| {
        refused(format!(
            "{} refused: the bytes {} served are not the ones its attestation names: {e}",
            plan.id, mirror.url
        ))
    })?;
    let src = HttpLog { fetcher: &p.fetcher, base: format!("{}/{}", mirror.url, layout::LOG) };
    let trust = p.settings.dirs.root.join(layout::TRUST);
    let included = prove_in(&src, &envelope, &key, &trust).await?;
    tracing::info!(
        id = %plan.id,
        mirror = %mirror.url,
        log_index = included.log_index,
        checkpoint = included.checkpoint_size,
        "verified against the mirror's attestation and transparency log"
    );
    staging.write(layout::UPSTREAM_ATTESTATION, &envelope)?;
    Ok(())
}
