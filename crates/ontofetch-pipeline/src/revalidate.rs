//! `validate ID [VERSION] [--strict]`: re-runs the validator on a stored original,
//! rewrites the manifest's `validation` atomically and records the result. With strict, a
//! failed version is retired and `latest` goes back to the previous good one.

use crate::error::PullError;
use crate::pull::validate_file;
use crate::retire::retire_version;
use crate::{Pipeline, now_rfc3339};
use ontofetch_catalog::ValidationRow;
use ontofetch_policy::Code;
use ontofetch_store::layout;
use ontofetch_store::manifest::{Manifest, Normalization, ValidationEntry};
use ontofetch_validate::Outcome;
use serde::Serialize;
use std::collections::BTreeMap;
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
    /// `ok`, `failed` or `skipped`.
    pub status: String,
    /// The version was retired (strict mode, failed).
    pub purged: bool,
    /// The validator's report.
    pub details: Outcome,
}

/// Re-validates `id` at `version` (default: the latest).
pub async fn revalidate(p: &Pipeline, id: &str, version: Option<&str>, strict: bool) -> Result<Revalidated, PullError> {
    let b = &p.backends;
    // The manifest is rewritten and the version may be retired: not beside a pull of it.
    let _lease = crate::pull::claim(p, id).await?;
    let row = match version {
        Some(v) => b.catalog.versions(Some(id), u32::MAX).await?.into_iter().find(|r| r.version == v),
        None => b.catalog.latest(id).await?,
    }
    .ok_or_else(|| {
        PullError::new(Code::NotFound, format!("{id} {} is not in the catalog", version.unwrap_or("(latest)")))
    })?;
    let gates = p.gates();
    let key = gates.stored_path(&row.relpath)?.as_slash_path();
    let original = crate::backends::original_key(&gates, &row)?;
    let stem = layout::file_stem(&row.filename);
    // Work in a private staging directory: the original is fetched there when the store is
    // remote, and the normalised files are written there, then stored atomically.
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
        .map_err(|e| PullError::new(Code::Manifest, format!("{manifest_key}: {e}")))?;
    let normalize = p.limits().normalize(&normalized, &stem, &manifest.target_formats);
    let outcome = validate_file(p, &file, Some(normalize)).await;
    let status = outcome.status.as_str().to_string();
    let details = serde_json::to_value(&outcome).expect("outcomes serialise");
    let mut output_files = Vec::new();
    for f in &outcome.outputs {
        let Some(name) = Path::new(&f.path).file_name().map(|n| n.to_string_lossy().into_owned()) else { continue };
        let rel = format!("{}/{name}", layout::NORMALIZED);
        let dest = gates.stored_path(&format!("{key}/{rel}"))?.as_slash_path();
        b.store.put_file(&dest, Path::new(&f.path)).await?;
        output_files.push(rel);
    }
    manifest.validation.insert(
        outcome.validator.clone(),
        ValidationEntry {
            ok: status == "ok",
            status: Some(status.clone()),
            details: details.clone(),
            output_files,
            extra: BTreeMap::new(),
        },
    );
    if let Some(h) = &outcome.normalized_sha256 {
        manifest.normalized_sha256 = Some(h.clone());
    }
    if let Some(mode) = &outcome.normalization {
        manifest.normalization =
            Some(Normalization { mode: mode.clone(), skipped_reason: outcome.normalization_skipped.clone() });
    }
    b.store.write(&manifest_key, manifest.to_pretty_json().as_bytes()).await?;
    drop(scratch);
    let vrow = ValidationRow {
        validator: outcome.validator.clone(),
        result: status.clone(),
        details: details.to_string(),
        run_at: now_rfc3339(),
    };
    b.catalog.record_validations(id, &row.version, &[vrow]).await?;
    let purged = status == "failed" && strict;
    if purged {
        retire_version(b, &gates, id, &row.version).await?;
    }
    Ok(Revalidated {
        id: id.to_string(),
        version: row.version,
        validator: outcome.validator.clone(),
        status,
        purged,
        details: outcome,
    })
}
