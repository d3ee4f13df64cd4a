//! The store is the record of last resort (docs/architecture.md, "Invariants", I9): a version
//! directory the catalog does not record (the catalog was lost, a DocsToKG tree was adopted,
//! a pull died between promoting and recording) is never deleted. When its manifest and its
//! files agree — the manifest names this id and version, the original hashes to the
//! manifest's SHA-256 and size, every file the validators listed is there — it is recorded
//! again (adopted), with its hashes taken from the bytes. Anything else is moved whole into
//! `quarantine/` inside the root and reported; only a person deletes it from there.

use crate::backends::Backends;
use crate::error::PipelineError;
use ontofetch_catalog::{ArtifactKind, ArtifactRow, Recorded, ValidationResult, ValidationRow, Verdict, VersionRow};
use ontofetch_policy::Gates;
use ontofetch_store::{Manifest, layout};
use serde::Serialize;

/// What became of an unrecorded version directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Reclaimed {
    /// Recorded again from its manifest and bytes.
    Adopted {
        /// The verdict its manifest's validation gives.
        verdict: Verdict,
    },
    /// Moved into the quarantine (why it could not be adopted).
    Quarantined {
        /// Where it went (a store key).
        to: String,
        /// Why it could not be adopted.
        why: String,
    },
}

/// Adopts `id`/`version` when it proves itself, else quarantines it. The caller holds the
/// ontology's lease, whose fencing `token` the record carries.
pub async fn reclaim(
    b: &Backends,
    gates: &Gates<'_>,
    id: &str,
    version: &str,
    token: u64,
) -> Result<Reclaimed, PipelineError> {
    match adopt(b, gates, id, version, token).await? {
        Proof::Recorded(verdict) => Ok(Reclaimed::Adopted { verdict }),
        Proof::Unproven(why) => {
            let to = b.store.quarantine(gates, id, version).await?;
            tracing::warn!(id, version, to = %to, why = %why, "an unrecorded version directory was quarantined");
            Ok(Reclaimed::Quarantined { to, why })
        }
    }
}

/// What a version directory's manifest and bytes prove.
enum Proof {
    /// They agree: the version is recorded, with this verdict.
    Recorded(Verdict),
    /// They disagree, or something is missing (why).
    Unproven(String),
}

/// Records the version from its manifest and bytes when they agree.
async fn adopt(b: &Backends, gates: &Gates<'_>, id: &str, version: &str, token: u64) -> Result<Proof, PipelineError> {
    let key = layout::version_key(id, version);
    let mkey = format!("{key}/{}", layout::MANIFEST);
    let bytes = match b.store.read(&mkey).await {
        Ok(bytes) => bytes,
        Err(ontofetch_store::StoreError::NotFound(_)) => return Ok(Proof::Unproven("it has no manifest.json".into())),
        Err(e) => return Err(e.into()),
    };
    let m = match Manifest::from_slice(&bytes) {
        Ok(m) => m,
        Err(e) => return Ok(Proof::Unproven(format!("its manifest.json is not a manifest: {e}"))),
    };
    if m.id != id || m.version.as_deref() != Some(version) {
        return Ok(Proof::Unproven(format!(
            "its manifest names {}/{}",
            m.id,
            m.version.as_deref().unwrap_or("(no version)")
        )));
    }
    let listed: std::collections::BTreeMap<String, u64> = b.store.list(&format!("{key}/")).await?.into_iter().collect();
    let original = format!("{key}/{}", layout::original_rel(&m.filename));
    let Some(&size) = listed.get(&original) else {
        return Ok(Proof::Unproven(format!("its original {} is missing", layout::original_rel(&m.filename))));
    };
    if m.content_length.is_some_and(|n| n != size) {
        return Ok(Proof::Unproven(format!(
            "its original holds {size} bytes; the manifest says {:?}",
            m.content_length
        )));
    }
    for entry in m.validation.values() {
        for rel in &entry.output_files {
            if !listed.contains_key(&format!("{key}/{rel}")) {
                return Ok(Proof::Unproven(format!("{rel}, which its validation lists, is missing")));
            }
        }
    }
    // Every file is hashed from its bytes: the catalog records what is there.
    let mut artifacts = Vec::new();
    for (file, bytes) in &listed {
        let sha = crate::integrity::stored_sha256(b, file, *bytes, |_| {}).await?;
        if *file == original && sha != m.sha256 {
            return Ok(Proof::Unproven(format!("its original hashes to {sha}; the manifest says {}", m.sha256)));
        }
        artifacts.push(ArtifactRow {
            relpath: file.clone(),
            sha256: sha,
            bytes: *bytes,
            kind: kind(&key, file, &original),
        });
    }
    if let Ok(cas) = b.store.cas_put(gates, &m.sha256, &original).await {
        artifacts.push(ArtifactRow { relpath: cas, sha256: m.sha256.clone(), bytes: size, kind: ArtifactKind::Cas });
    }
    let verdict = verdict_of(&m);
    let row = VersionRow {
        ontology: id.to_string(),
        version: version.to_string(),
        resolver: m.resolver.clone(),
        url: m.url.clone(),
        sha256: m.sha256.clone(),
        bytes: size,
        filename: m.filename.clone(),
        relpath: key.clone(),
        content_type: m.content_type.clone(),
        etag: m.etag.clone(),
        last_modified: m.last_modified.clone(),
        license: m.license.clone(),
        downloaded_at: m.downloaded_at.clone(),
        verdict,
    };
    let rows: Vec<ValidationRow> = m
        .validation
        .iter()
        .map(|(validator, e)| ValidationRow {
            validator: validator.clone(),
            result: match e.status.as_deref() {
                Some(s) => ValidationResult::parse(s),
                None if e.ok => ValidationResult::Ok,
                None => ValidationResult::Failed,
            },
            details: e.details.to_string(),
            run_at: m.downloaded_at.clone(),
        })
        .collect();
    match b.catalog.record_with(&row, &artifacts, &rows, true, Some(token)).await? {
        Recorded::Duplicate(twin) => {
            return Ok(Proof::Unproven(format!("{id}/{twin} already holds the same original bytes")));
        }
        // Recorded meanwhile by another worker (or by a build that wrote validations apart):
        // its results are made whole.
        Recorded::AlreadyPresent => b.catalog.record_validations(id, version, &rows).await?,
        Recorded::Inserted => {}
    }
    Ok(Proof::Recorded(verdict))
}

/// The catalog kind of a stored file, as a pull records it.
fn kind(key: &str, file: &str, original: &str) -> ArtifactKind {
    let rel = file.strip_prefix(key).map(|r| r.trim_start_matches('/')).unwrap_or(file);
    if file == original {
        ArtifactKind::Original
    } else if rel == layout::MANIFEST {
        ArtifactKind::Manifest
    } else if rel == layout::ATTESTATION {
        ArtifactKind::Attestation
    } else if rel == layout::UPSTREAM_ATTESTATION {
        ArtifactKind::Upstream
    } else if rel == layout::VALIDATION_REPORT {
        ArtifactKind::Report
    } else if rel.ends_with("_extracted.audit.json") {
        ArtifactKind::Audit
    } else if rel.ends_with(".terms.tsv") {
        ArtifactKind::Terms
    } else if rel.starts_with(&format!("{}/", layout::NORMALIZED)) {
        ArtifactKind::Normalized
    } else {
        ArtifactKind::Extracted
    }
}

/// What the manifest's validation says of the version: failed when any validator failed,
/// valid when one recognised it, else `unvalidated` for a source declared opaque and
/// invalid for any other (docs/architecture.md, "Invariants", I9).
fn verdict_of(m: &Manifest) -> Verdict {
    let status = |e: &ontofetch_store::manifest::ValidationEntry| match e.status.as_deref() {
        Some(s) => ValidationResult::parse(s),
        None if e.ok => ValidationResult::Ok,
        None => ValidationResult::Failed,
    };
    let results: Vec<ValidationResult> = m.validation.values().map(status).collect();
    let opaque = m.extra.get("opaque").and_then(serde_json::Value::as_bool).unwrap_or(false);
    if results.contains(&ValidationResult::Failed) {
        Verdict::Invalid
    } else if results.contains(&ValidationResult::Ok) {
        Verdict::Valid
    } else if opaque {
        Verdict::Unvalidated
    } else {
        Verdict::Invalid
    }
}
