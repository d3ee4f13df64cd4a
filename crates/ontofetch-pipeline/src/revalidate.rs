//! `validate ID [VERSION] [--strict]`: re-runs the validator on a stored original, stores
//! the normalised files and the rewritten manifest, then records in one catalog transaction
//! the verdict, the validation results and the new size and SHA-256 of every rewritten file,
//! so the catalog, the manifest and what `serve` hands out keep agreeing
//! (docs/architecture.md, "Invariants"). `latest` follows the verdict: a version that now
//! fails is no longer latest; with strict it is retired.

use crate::Pipeline;
use crate::error::PipelineError;
use crate::pull::validate_file;
use crate::retire::{repoint_latest, retire_version};
use ontofetch_catalog::{ArtifactRow, Verdict};
use ontofetch_policy::Code;
use ontofetch_store::layout;
use ontofetch_store::manifest::{Manifest, Normalization};
use ontofetch_validate::{Normalize, Outcome};
use serde::Serialize;
use std::path::Path;

/// What a re-validation found and did.
#[derive(Debug, Clone, Serialize)]
pub struct Revalidated {
    /// Ontology id.
    pub id: String,
    /// Version.
    pub version: String,
    /// `rdf`, `obo` or `owl`.
    pub validator: String,
    /// How the validator did.
    pub status: ontofetch_validate::Status,
    /// The version's verdict now (`valid`, `invalid`, `invalid-promoted`).
    pub verdict: Verdict,
    /// The version was retired (strict mode, failed).
    pub purged: bool,
    /// The version `latest` names afterwards.
    pub latest: Option<String>,
    /// The validator's report.
    pub details: Outcome,
}

/// The catalog kind of a normalised output.
fn kind(format: &str) -> ontofetch_catalog::ArtifactKind {
    if format == "terms" { ontofetch_catalog::ArtifactKind::Terms } else { ontofetch_catalog::ArtifactKind::Normalized }
}

/// Re-validates `id` at `version` (default: `latest`, else the newest stored version).
pub async fn revalidate(
    p: &Pipeline,
    id: &str,
    version: Option<&str>,
    strict: bool,
) -> Result<Revalidated, PipelineError> {
    let b = &p.backends;
    // The manifest is rewritten and the version may be retired: not beside a pull of it.
    let _lease = crate::pull::claim(p, id).await?;
    let row = match version {
        Some(v) => b.catalog.version(id, v).await?,
        None => match b.catalog.latest(id).await? {
            Some(r) => Some(r),
            None => b.catalog.newest(id).await?,
        },
    }
    .ok_or_else(|| {
        PipelineError::new(Code::NotFound, format!("{id} {} is not in the catalog", version.unwrap_or("(latest)")))
    })?;
    let gates = p.gates();
    let key = gates.stored_path(&row.relpath)?.as_slash_path();
    let original = crate::backends::original_key(&gates, &row)?;
    let stem = layout::file_stem(&row.filename);
    // Work in a private staging directory: the original is fetched there when the store is
    // remote, and the normalised files are written there, then stored.
    let scratch = b.store.begin(&gates, id)?;
    let file = match b.store.local_path(&original) {
        Some(file) => file,
        None => {
            let file = scratch.original(&row.filename)?;
            b.store.fetch_to(&original, &file).await?;
            file
        }
    };
    let normalized = scratch.path(layout::NORMALIZED)?;
    let manifest_key = format!("{key}/{}", layout::MANIFEST);
    let mut manifest = Manifest::from_slice(&b.store.read(&manifest_key).await?)
        .map_err(|e| PipelineError::new(Code::Manifest, format!("{}: {e}", b.store.location(&manifest_key))))?;
    // The same job as a pull's: term facts included, so the diff input is kept.
    let normalize = Normalize { terms: true, ..p.limits().normalize(&normalized, &stem, manifest.renderings()) };
    let mut outcome = validate_file(p, &file, Some(normalize)).await;
    // As in a pull: "not recognised" fails unless the source is declared opaque (by the
    // manifest the pull wrote, or by the entry now).
    let opaque = manifest.extra.get("opaque").and_then(serde_json::Value::as_bool).unwrap_or(false)
        || p.settings
            .loaded
            .config
            .ontologies
            .iter()
            .any(|o| o.id == id && ontofetch_resolve::spec_is_opaque(&o.extras));
    if !opaque {
        outcome.refuse_unrecognised();
    }
    let status = outcome.status;
    let mut details = serde_json::to_value(&outcome).unwrap_or_default();
    crate::pull::relocate(&mut details, &scratch.dir().to_string_lossy(), &b.store.location(&key));
    let mut artifacts = Vec::new();
    let mut output_files = Vec::new();
    for f in &outcome.outputs {
        let Some(name) = Path::new(&f.path).file_name().map(|n| n.to_string_lossy().into_owned()) else { continue };
        let rel = format!("{}/{name}", layout::NORMALIZED);
        let dest = gates.stored_path(&format!("{key}/{rel}"))?.as_slash_path();
        b.store.put_file(&dest, Path::new(&f.path)).await?;
        artifacts.push(ArtifactRow { relpath: dest, sha256: f.sha256.clone(), bytes: f.bytes, kind: kind(&f.format) });
        output_files.push(rel);
    }
    for note in &outcome.renderings_skipped {
        if !manifest.notes.contains(note) {
            manifest.notes.push(note.clone());
        }
    }
    let (vrow, entry) = crate::records::validation_records(&outcome.validator, status, details, output_files);
    manifest.validation.insert(outcome.validator.clone(), entry);
    if let Some(h) = &outcome.normalized_sha256 {
        manifest.normalized_sha256 = Some(h.clone());
    }
    if let Some(mode) = &outcome.normalization {
        manifest.normalization =
            Some(Normalization { mode: mode.clone(), skipped_reason: outcome.normalization_skipped.clone() });
    }
    // Every validator of the version counts (an archive has one per extracted file).
    let failed = manifest.validation.values().any(|e| match e.status.as_deref() {
        Some(s) => s == ontofetch_validate::Status::Failed.as_str(),
        None => !e.ok, // DocsToKG's manifests have only `ok`
    });
    let recognised = manifest.validation.values().any(|e| match e.status.as_deref() {
        Some(s) => s == ontofetch_validate::Status::Ok.as_str(),
        None => e.ok,
    });
    let verdict = if !failed && !recognised { Verdict::Unvalidated } else { Verdict::of(failed, p.promote_invalid) };
    // The report is the manifest's `validation`, kept beside it.
    let report_key = format!("{key}/{}", layout::VALIDATION_REPORT);
    let report = serde_json::to_string_pretty(&manifest.validation).expect("entries serialise") + "\n";
    b.store.write(&report_key, report.as_bytes()).await?;
    artifacts.push(ArtifactRow {
        relpath: report_key,
        sha256: ontofetch_fsutil::sha256_bytes(report.as_bytes()),
        bytes: report.len() as u64,
        kind: ontofetch_catalog::ArtifactKind::Report,
    });
    let text = manifest.to_pretty_json();
    b.store.write(&manifest_key, text.as_bytes()).await?;
    artifacts.push(ArtifactRow {
        relpath: manifest_key.clone(),
        sha256: ontofetch_fsutil::sha256_bytes(text.as_bytes()),
        bytes: text.len() as u64,
        kind: ontofetch_catalog::ArtifactKind::Manifest,
    });
    drop(scratch);
    if let Some(attestation) = crate::provenance::reattest(p, id, &row.version, &artifacts).await? {
        artifacts.push(attestation);
    }
    b.catalog.revise(id, &row.version, verdict, &artifacts, &[vrow]).await?;
    let purged = failed && strict;
    let latest =
        if purged { retire_version(b, &gates, id, &row.version).await? } else { repoint_latest(b, id).await? };
    Ok(Revalidated {
        id: id.to_string(),
        version: row.version,
        validator: outcome.validator.clone(),
        status,
        verdict,
        purged,
        latest,
        details: outcome,
    })
}
