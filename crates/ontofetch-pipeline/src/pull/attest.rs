//! Step 6a, attest: with a signing key, a new version gets `attestation.dsse.json` beside
//! its manifest — a DSSE envelope of an in-toto statement whose subjects are the version's
//! content files (the original, extracted and normalised files, the term facts) with their
//! SHA-256, and whose predicate says where the bytes came from and what was checked
//! (docs/provenance.md). It is written in staging, promoted and recorded with the rest, so
//! the catalog and the invariants cover it like any file of the version.

use super::commit::Commit;
use crate::Pipeline;
use crate::error::PipelineError;
use ontofetch_catalog::{ArtifactKind, ArtifactRow};
use ontofetch_provenance::statement::{Canonical, Predicate, Statement};
use ontofetch_provenance::{Envelope, SigningKey, dsse};
use ontofetch_store::layout;

/// The files an attestation names: what a consumer uses, not the bookkeeping about it.
pub fn attested(kind: ArtifactKind) -> bool {
    matches!(kind, ArtifactKind::Original | ArtifactKind::Extracted | ArtifactKind::Normalized | ArtifactKind::Terms)
}

/// The gates every stored byte went through.
fn gates(archive: bool) -> Vec<String> {
    let mut g = vec!["url", "redirect", "ip", "storage", "filesystem", "db_boundary"];
    if archive {
        g.push("extraction");
    }
    g.into_iter().map(str::to_string).collect()
}

/// Signs the version's statement and writes the envelope into staging; its catalog row.
pub(super) fn attest(
    p: &Pipeline,
    key: &SigningKey,
    c: &Commit<'_>,
    version_key: &str,
    artifacts: &[ArtifactRow],
    downloaded_at: &str,
) -> Result<ArtifactRow, PipelineError> {
    let prefix = format!("{version_key}/");
    let subjects = artifacts
        .iter()
        .filter(|a| attested(a.kind))
        .filter_map(|a| Some((a.relpath.strip_prefix(&prefix)?.to_string(), a.sha256.clone())));
    let info = &c.fetched.info;
    let predicate = Predicate {
        builder: format!("ontofetch {}", env!("CARGO_PKG_VERSION")),
        ontology: c.plan.id.clone(),
        version: c.version.name.clone(),
        resolver: c.plan.resolver.clone(),
        url: c.plan.url.clone(),
        final_url: Some(info.final_url.clone()).filter(|u| *u != c.plan.url),
        redirects: info.redirects.clone(),
        remote_address: info.remote_addr.clone(),
        tls_peer_certificate_sha256: info.peer_certificate_sha256.clone(),
        registry_snapshot: c.plan.registry_snapshot.clone(),
        downloaded_at: downloaded_at.to_string(),
        etag: info.etag.clone(),
        last_modified: info.last_modified.clone(),
        license: c.plan.license.clone().or_else(|| c.validation.license.clone()),
        gates: gates(c.extracted.is_some()),
        validation: c.validation.rows.iter().map(|r| (r.validator.clone(), r.result.as_str().to_string())).collect(),
        verdict: c.verdict.as_str().to_string(),
        canonical: c.validation.normalized_sha256.clone().map(|sha256| Canonical {
            sha256,
            mode: c.validation.normalization.as_ref().map(|n| n.mode.clone()).unwrap_or_default(),
        }),
    };
    let statement = Statement::new(subjects, predicate);
    let envelope = Envelope::sign(dsse::IN_TOTO, &statement.to_json(), key)
        .map_err(|e| PipelineError::new(ontofetch_policy::Code::Attestation, e.to_string()))?;
    let bytes = envelope.to_json();
    c.staging.write(layout::ATTESTATION, &bytes)?;
    p.metrics.attestations_signed.inc();
    Ok(ArtifactRow {
        relpath: format!("{version_key}/{}", layout::ATTESTATION),
        sha256: ontofetch_fsutil::sha256_bytes(&bytes),
        bytes: bytes.len() as u64,
        kind: ArtifactKind::Attestation,
    })
}
