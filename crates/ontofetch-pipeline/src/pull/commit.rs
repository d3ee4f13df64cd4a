//! Step 6, commit: write the manifest into staging, promote staging into the store,
//! keep a CAS copy, record the version in the catalog through the db_boundary gate (the
//! files are durable first; a failed commit rolls the promoted files back), record the
//! validations and move `latest`.

use super::download::Arrived;
use super::outcome::{count, expected_checksum};
use super::validate::Validated;
use super::version::Chosen;
use crate::error::PipelineError;
use crate::result::{PullResult, PullStatus};
use crate::{Pipeline, now_rfc3339};
use ontofetch_archive::Report;
use ontofetch_catalog::ArtifactKind;
use ontofetch_catalog::{ArtifactRow, VersionRow};
use ontofetch_policy::Gates;
use ontofetch_resolve::Plan;
use ontofetch_store::manifest::{ExpectedChecksum, Manifest, Normalization, ResolverAttempt, SCHEMA_VERSION};
use ontofetch_store::{Staging, layout};
use ontofetch_validate::terms::ChangeKind;
use std::collections::BTreeMap;

/// Everything the earlier steps produced for one new version.
pub(super) struct Commit<'a> {
    pub plan: &'a Plan,
    pub staging: Staging,
    pub fetched: Arrived,
    pub extracted: Option<Report>,
    pub validation: Validated,
    pub version: Chosen,
    pub status: PullStatus,
    pub diff: Option<Changes>,
    /// Whether it validated (and so becomes latest).
    pub verdict: ontofetch_catalog::Verdict,
    /// What earlier steps noted (a repaired version, a refetched original).
    pub notes: Vec<String>,
    /// The fencing token of the lease this worker holds.
    pub token: u64,
}

/// What the new version changed against the one before it.
pub(super) struct Changes {
    pub previous: String,
    pub diff: ontofetch_validate::terms::TermDiff,
}

/// Store keys (relative to the version) and facts of every file of the version.
fn files(c: &Commit<'_>) -> Vec<(String, String, u64, ArtifactKind)> {
    let info = &c.fetched.info;
    let mut out =
        vec![(layout::original_rel(&c.fetched.filename), info.sha256.clone(), info.bytes, ArtifactKind::Original)];
    let stem = layout::file_stem(&c.fetched.filename);
    for f in c.extracted.iter().flat_map(|r| r.files.iter()) {
        out.push((
            format!("{}/{}", layout::extracted_rel(&stem), f.path),
            f.sha256.clone(),
            f.bytes,
            ArtifactKind::Extracted,
        ));
    }
    for (rel, sha256, bytes) in &c.validation.outputs {
        let kind = if rel.ends_with(".terms.tsv") { ArtifactKind::Terms } else { ArtifactKind::Normalized };
        out.push((rel.clone(), sha256.clone(), *bytes, kind));
    }
    out
}

fn manifest(p: &Pipeline, c: &Commit<'_>, key: &str, downloaded_at: &str) -> Manifest {
    let info = &c.fetched.info;
    let mut artifacts: Vec<String> =
        files(c).iter().map(|(rel, ..)| p.backends.store.location(&format!("{key}/{rel}"))).collect();
    if p.settings.defaults().enable_cas_mirror {
        artifacts.push(p.backends.store.location(&layout::cas_key(&info.sha256)));
    }
    let mode = c.validation.normalization.as_ref().map_or("none", |n| n.mode.as_str());
    let plan = c.plan;
    Manifest {
        schema_version: SCHEMA_VERSION.into(),
        id: plan.id.clone(),
        resolver: plan.resolver.clone(),
        url: info.final_url.clone(),
        filename: c.fetched.filename.clone(),
        version: Some(c.version.name.clone()),
        license: license(c),
        status: c.status.as_str().into(),
        sha256: info.sha256.clone(),
        normalized_sha256: c.validation.normalized_sha256.clone(),
        fingerprint: Some(Manifest::fingerprint(&info.sha256, mode, &plan.target_formats)),
        etag: info.etag.clone(),
        last_modified: info.last_modified.clone(),
        content_type: info.content_type.clone(),
        content_length: Some(info.bytes),
        source_media_type_label: None,
        streaming_prefix_sha256: None,
        streaming_content_sha256: None,
        expected_checksum: plan
            .expected_checksum
            .as_ref()
            .map(|e| ExpectedChecksum { algorithm: e.algorithm.clone(), value: e.value.clone() }),
        downloaded_at: downloaded_at.to_string(),
        target_formats: plan.target_formats.clone(),
        normalize_to: Some(plan.normalize_to.clone()),
        validation: c.validation.entries.clone(),
        artifacts,
        resolver_attempts: plan
            .resolver_attempts
            .iter()
            .map(|a| ResolverAttempt {
                resolver: a.resolver.clone(),
                url: a.url.clone(),
                attempt: a.attempt as u32,
                status: a.status.as_str().to_string(),
                error: a.error.clone(),
                code: a.code.map(|c| c.as_str().to_string()),
                extra: BTreeMap::new(),
            })
            .collect(),
        normalization: Some(
            c.validation.normalization.clone().unwrap_or(Normalization { mode: "none".into(), skipped_reason: None }),
        ),
        notes: notes(c),
        extra: c
            .diff
            .iter()
            .map(|d| ("diff".to_string(), crate::diff::summary(&d.previous, &d.diff)))
            // `validate ID` reads it back: an opaque source's version stays `unvalidated`.
            .chain(c.plan.opaque.then(|| ("opaque".to_string(), serde_json::Value::Bool(true))))
            .collect(),
    }
}

/// The version's licence: the source's, else the one its file states in its header.
fn license(c: &Commit<'_>) -> Option<String> {
    c.plan.license.clone().or_else(|| c.validation.license.clone())
}

/// What the manifest and the result say besides the facts.
fn notes(c: &Commit<'_>) -> Vec<String> {
    let mut notes: Vec<String> = c.notes.clone();
    notes.extend(c.version.note.iter().cloned());
    notes.extend(c.validation.notes.iter().cloned());
    if c.verdict.failed() {
        notes.push(match c.verdict {
            ontofetch_catalog::Verdict::InvalidPromoted => {
                "failed validation; promoted to latest because promote_invalid is set".to_string()
            }
            _ => "failed validation; kept for inspection, latest stays on the last version that validated".to_string(),
        });
    }
    if c.verdict == ontofetch_catalog::Verdict::Unvalidated {
        notes.push(
            "no validator recognised it; stored unvalidated because the entry declares its source opaque \
             (it is latest only while no version of this ontology validated)"
                .to_string(),
        );
    }
    if c.plan.license.is_none()
        && let Some(stated) = &c.validation.license
    {
        notes.push(format!("licence {stated} from the file's own header ({} published none)", c.plan.resolver));
    } else if c.plan.license_unknown {
        notes.push(format!(
            "licence unknown: {} published none while accept_licenses is set (fetched; \
             defaults.reject_unknown_licenses refuses such sources)",
            c.plan.resolver
        ));
    }
    notes
}

/// `defaults.http.validate_media_type` (DocsToKG's rule: only a warning): the server's
/// `Content-Type` does not fit what the registry announced. The bytes were judged by the
/// validators; this tells the user that a registry or server labels them wrongly.
pub(super) fn media_type_note(plan: &Plan, info: &ontofetch_net::DownloadInfo) -> Option<String> {
    let expected = plan.media_type.as_deref()?;
    let got = info.content_type.as_deref()?;
    if ontofetch_policy::content::media_type_fits(expected, got) {
        return None;
    }
    tracing::warn!(ontology = %plan.id, expected, got, "the server's Content-Type does not fit the announced media type");
    Some(format!("the server sent Content-Type {got} where {} announced {expected}", plan.resolver))
}

/// The catalog rows of every file of the version, the manifest's included.
fn artifact_rows(c: &Commit<'_>, key: &str, manifest_text: &str) -> Vec<ArtifactRow> {
    let mut rows: Vec<ArtifactRow> = files(c)
        .into_iter()
        .map(|(rel, sha256, bytes, kind)| ArtifactRow { relpath: format!("{key}/{rel}"), sha256, bytes, kind })
        .collect();
    rows.push(ArtifactRow {
        relpath: format!("{key}/{}", layout::MANIFEST),
        sha256: ontofetch_fsutil::sha256_bytes(manifest_text.as_bytes()),
        bytes: manifest_text.len() as u64,
        kind: ArtifactKind::Manifest,
    });
    rows
}

fn version_row(c: &Commit<'_>, key: &str, downloaded_at: String) -> VersionRow {
    let (plan, info) = (c.plan, &c.fetched.info);
    VersionRow {
        ontology: plan.id.clone(),
        version: c.version.name.clone(),
        resolver: plan.resolver.clone(),
        // The plan's URL, not the redirect target: next time's conditional GET starts there.
        url: plan.url.clone(),
        sha256: info.sha256.clone(),
        bytes: info.bytes,
        filename: c.fetched.filename.clone(),
        relpath: key.to_string(),
        content_type: info.content_type.clone(),
        etag: info.etag.clone(),
        last_modified: info.last_modified.clone(),
        license: license(c),
        downloaded_at,
        verdict: c.verdict,
    }
}

/// Removes from staging every file the version does not record: what a validator that was
/// killed or timed out left half-written (a partial `normalized/*.nt`) is never promoted,
/// so every file under a version directory is one the catalog knows.
fn drop_unlisted(staging: &Staging, artifacts: &[ArtifactRow], key: &str) -> Result<(), PipelineError> {
    let prefix = format!("{key}/");
    let listed: std::collections::BTreeSet<&str> =
        artifacts.iter().filter_map(|a| a.relpath.strip_prefix(&prefix)).collect();
    for (rel, path) in staging.files()? {
        if !listed.contains(rel.as_str()) {
            tracing::debug!(file = %rel, "not promoted: no finished job listed it");
            std::fs::remove_file(&path).map_err(crate::error::io(format!("removing {}", path.display())))?;
        }
    }
    Ok(())
}

/// Rewrites every string under `value` that names a path inside `staging` to name the same
/// file in the stored version (`location`): the staging directory is gone once promoted,
/// and nothing under a version may point into it (docs/architecture.md, "Invariants").
pub(crate) fn relocate(value: &mut serde_json::Value, staging: &str, location: &str) {
    match value {
        serde_json::Value::String(s) => {
            if let Some(rest) = s.strip_prefix(staging) {
                *s = format!("{location}{rest}");
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| relocate(v, staging, location)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| relocate(v, staging, location)),
        _ => {}
    }
}

/// Points the validation results at the stored version instead of staging, and writes the
/// report beside them.
fn settle_paths(p: &Pipeline, c: &mut Commit<'_>, key: &str) -> Result<(), PipelineError> {
    let staging = c.staging.dir().to_string_lossy().into_owned();
    let location = p.backends.store.location(key);
    for entry in c.validation.entries.values_mut() {
        relocate(&mut entry.details, &staging, &location);
    }
    for row in &mut c.validation.rows {
        if let Ok(mut v) = serde_json::from_str::<serde_json::Value>(&row.details) {
            relocate(&mut v, &staging, &location);
            row.details = v.to_string();
        }
    }
    let report = serde_json::to_value(&c.validation.entries).expect("entries serialise");
    c.staging.write_json(layout::VALIDATION_REPORT, &report)?;
    Ok(())
}

/// Commits a validated version (or, under `continue_on_error`, one that failed validation:
/// recorded for inspection, never latest unless promotion was asked for).
pub(super) async fn run(p: &Pipeline, gates: &Gates<'_>, mut c: Commit<'_>) -> Result<PullResult, PipelineError> {
    let (plan, id, version) = (c.plan, &c.plan.id, c.version.name.clone());
    let key = layout::version_key(id, &version);
    settle_paths(p, &mut c, &key)?;
    let downloaded_at = now_rfc3339();
    let manifest_text = manifest(p, &c, &key, &downloaded_at).to_pretty_json();
    c.staging.write(layout::MANIFEST, manifest_text.as_bytes())?;
    let mut artifacts = artifact_rows(&c, &key, &manifest_text);
    // The report and an archive's extraction audit are files of the version too: recorded,
    // so every file under a version directory is one the catalog knows.
    let stem = layout::file_stem(&c.fetched.filename);
    for (rel, kind) in [
        (layout::VALIDATION_REPORT.to_string(), ArtifactKind::Report),
        (layout::audit_rel(&stem), ArtifactKind::Audit),
        (layout::UPSTREAM_ATTESTATION.to_string(), ArtifactKind::Upstream),
    ] {
        let path = c.staging.dir().join(&rel);
        if let Ok(bytes) = std::fs::read(&path) {
            artifacts.push(ArtifactRow {
                relpath: format!("{key}/{rel}"),
                sha256: ontofetch_fsutil::sha256_bytes(&bytes),
                bytes: bytes.len() as u64,
                kind,
            });
        }
    }
    if let Some(signer) = &p.signer {
        artifacts.push(super::attest::attest(p, signer, &c, &key, &artifacts, &downloaded_at)?);
    }
    let row = version_row(&c, &key, downloaded_at);
    let original_key = format!("{key}/{}", layout::original_rel(&c.fetched.filename));
    let mut notes = notes(&c);
    drop_unlisted(&c.staging, &artifacts, &key)?;
    let fence = super::lease::CatalogFence { catalog: p.backends.catalog.as_ref(), id, token: c.token };
    let promoted = p.backends.store.promote(gates, c.staging, id, &version, &fence).await?;
    if p.settings.defaults().enable_cas_mirror {
        match p.backends.store.cas_put(gates, &row.sha256, &original_key).await {
            Ok(k) => artifacts.push(ArtifactRow {
                relpath: k,
                sha256: row.sha256.clone(),
                bytes: row.bytes,
                kind: ArtifactKind::Cas,
            }),
            Err(e) => notes.push(format!("CAS copy failed: {e}")),
        }
    }
    match p.backends.catalog.record_with(&row, &artifacts, &c.validation.rows, true, Some(c.token)).await {
        Ok(ontofetch_catalog::Recorded::Duplicate(twin)) => {
            // Another worker stored these bytes under another name meanwhile: ours goes.
            if !promoted.existed {
                let _ = p.backends.store.remove_version(gates, id, &version).await;
            }
            let row = p.backends.catalog.version(id, &twin).await?.ok_or_else(|| {
                PipelineError::new(ontofetch_policy::Code::Db, format!("{id}/{twin} vanished while recording"))
            })?;
            count(p, &plan.resolver, "not_modified");
            let note = format!("identical bytes already stored as {twin}; no new version");
            return Ok(super::outcome::cached(p, plan, &row, vec![note]).await);
        }
        Ok(_) => {}
        // The lease was taken over: what this worker promoted may now be the new holder's
        // too (the same keys), so nothing is removed; the new holder records or reclaims it.
        Err(e @ ontofetch_catalog::CatalogError::Fenced { .. }) => {
            return Err(PipelineError::from_coded(e));
        }
        Err(e) => {
            if !promoted.existed {
                let _ = p.backends.store.remove_version(gates, id, &version).await;
            }
            return Err(
                PipelineError::from_coded(e).context("recording the version (the promoted files were rolled back)")
            );
        }
    }
    if let Err(e) = crate::retire::repoint_latest(&p.backends, id).await {
        notes.push(format!("could not update the latest pointer: {e}"));
    }
    match &c.diff {
        Some(d) => {
            if let Err(e) = crate::diff::record(p, id, &version, &d.previous, &d.diff).await {
                notes.push(format!("diff not recorded: {e}"));
            }
            let n = &d.diff;
            notes.push(format!(
                "against {}: {} added, {} removed, {} obsoleted, {} relabelled",
                d.previous,
                n.count(ChangeKind::Added),
                n.count(ChangeKind::Removed),
                n.count(ChangeKind::Obsoleted),
                n.count(ChangeKind::Relabelled)
            ));
        }
        None => {
            let terms = c.validation.summary.validators.iter().map(|v| v.terms).max().filter(|t| *t > 0);
            if let Some(t) = terms {
                let o = ontofetch_metrics::OntologyLabels { ontology: id.clone() };
                p.metrics.ontology_terms.get_or_create(&o).set(t as i64);
            }
        }
    }
    count(p, &plan.resolver, "fetched");
    let info = c.fetched.info;
    let error = (c.verdict == ontofetch_catalog::Verdict::Invalid).then(|| {
        let why = c.validation.summary.brief();
        PipelineError::new(
            ontofetch_policy::Code::Validation,
            format!("{version} failed validation: {why} (stored for inspection; latest is unchanged)"),
        )
    });
    let status = match (&error, promoted.existed) {
        (Some(_), _) => PullStatus::Failed,
        (None, true) => PullStatus::Cached,
        (None, false) => c.status,
    };
    Ok(PullResult {
        id: id.clone(),
        resolver: Some(plan.resolver.clone()),
        status,
        version: Some(version),
        sha256: Some(info.sha256),
        path: Some(p.backends.store.location(&original_key)),
        content_type: info.content_type,
        content_length: Some(info.bytes),
        etag: info.etag,
        last_modified: info.last_modified,
        cache_status: Some(if promoted.existed { "hit" } else { "miss" }.into()),
        expected_checksum: expected_checksum(plan),
        error,
        validation: Some(c.validation.summary),
        notes,
        plan: Some(plan.clone()),
    })
}
