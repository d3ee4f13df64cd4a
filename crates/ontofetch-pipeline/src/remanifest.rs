//! A version's `manifest.json` rebuilt from the catalog: what `doctor --fix` does when the
//! manifest of a recorded version is missing, unreadable or disagrees with its row (I2).
//! The catalog is the record for a recorded version, and it keeps everything a manifest
//! says of it but the resolver attempts and the expected checksum, which stay empty (a note
//! in the manifest says so).

use crate::backends::Backends;
use crate::error::PipelineError;
use ontofetch_catalog::{ArtifactRow, ValidationResult, Verdict, VersionRow};
use ontofetch_store::manifest::{Normalization, SCHEMA_VERSION, ValidationEntry};
use ontofetch_store::{Manifest, layout};
use serde_json::Value;
use std::collections::BTreeMap;

/// Writes the manifest of `row` rebuilt from the catalog and records its new bytes.
pub async fn regenerate(b: &Backends, row: &VersionRow, artifacts: &[ArtifactRow]) -> Result<(), PipelineError> {
    let (id, v) = (row.ontology.as_str(), row.version.as_str());
    let validations = b.catalog.validations(id, v).await?;
    let location = b.store.location(&row.relpath);
    let mut validation = BTreeMap::new();
    let mut primary: Option<Value> = None;
    for r in &validations {
        let details: Value = serde_json::from_str(&r.details).unwrap_or(Value::Null);
        let output_files: Vec<String> = details["outputs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o["path"].as_str())
            .filter_map(|p| p.strip_prefix(&location).map(|r| r.trim_start_matches('/').to_string()))
            .collect();
        if !r.validator.contains(':') {
            primary = Some(details.clone());
        }
        let status = r.result.as_str().to_string();
        validation.insert(
            r.validator.clone(),
            ValidationEntry {
                ok: r.result == ValidationResult::Ok,
                status: Some(status),
                details,
                output_files,
                extra: BTreeMap::new(),
            },
        );
    }
    let text = |k: &str| primary.as_ref().and_then(|d| d[k].as_str()).map(str::to_string);
    let normalize_to: Vec<String> = primary
        .as_ref()
        .and_then(|d| d["outputs"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|o| o["format"].as_str())
        .filter(|f| *f != "terms")
        .map(str::to_string)
        .collect();
    let mut extra = BTreeMap::new();
    if row.verdict == Verdict::Unvalidated {
        extra.insert("opaque".to_string(), Value::Bool(true));
    }
    let manifest = Manifest {
        schema_version: SCHEMA_VERSION.into(),
        id: id.to_string(),
        resolver: row.resolver.clone(),
        url: row.url.clone(),
        filename: row.filename.clone(),
        version: Some(v.to_string()),
        license: row.license.clone(),
        status: "regenerated".into(),
        sha256: row.sha256.clone(),
        normalized_sha256: text("normalized_sha256"),
        fingerprint: None,
        etag: row.etag.clone(),
        last_modified: row.last_modified.clone(),
        content_type: row.content_type.clone(),
        content_length: Some(row.bytes),
        source_media_type_label: None,
        streaming_prefix_sha256: None,
        streaming_content_sha256: None,
        expected_checksum: None,
        downloaded_at: row.downloaded_at.clone(),
        target_formats: normalize_to.clone(),
        normalize_to: Some(normalize_to),
        validation,
        artifacts: artifacts
            .iter()
            .filter(|a| a.kind != ontofetch_catalog::ArtifactKind::Manifest)
            .map(|a| b.store.location(&a.relpath))
            .collect(),
        resolver_attempts: vec![],
        normalization: text("normalization")
            .map(|mode| Normalization { mode, skipped_reason: text("normalization_skipped") }),
        notes: vec![format!(
            "regenerated from the catalog by `ontofetch doctor --fix` at {}: the resolver attempts and the \
             expected checksum are not kept there and are empty",
            crate::now_rfc3339()
        )],
        extra,
    };
    let body = manifest.to_pretty_json();
    let key = format!("{}/{}", row.relpath, layout::MANIFEST);
    b.store.write(&key, body.as_bytes()).await?;
    let fresh = ArtifactRow {
        relpath: key,
        sha256: ontofetch_fsutil::sha256_bytes(body.as_bytes()),
        bytes: body.len() as u64,
        kind: ontofetch_catalog::ArtifactKind::Manifest,
    };
    b.catalog.revise(id, v, row.verdict, &[fresh], &[]).await?;
    Ok(())
}
