//! Whether the store holds what the catalog records (docs/architecture.md, "Invariants"):
//! the cheap check a pull makes before it calls a version cached, and the audit behind
//! `doctor` (sizes, judged on one [`Survey`] of the whole mirror) and `doctor --verify`
//! (every byte re-hashed, streamed, local or S3). An ontology that shows a problem is judged
//! again under its lease, so a version being pulled is never reported (or "repaired")
//! half-written.

use crate::backends::Backends;
use crate::error::PipelineError;
use crate::survey::Survey;
use futures_util::StreamExt;
use ontofetch_catalog::ArtifactKind;
use ontofetch_catalog::{ArtifactRow, VersionRow};
use ontofetch_policy::{Code, Gates};
use ontofetch_store::{Manifest, layout};
use serde::Serialize;
use sha2::Digest;
use std::collections::{BTreeMap, BTreeSet};

/// Whether a version's original is in the store with its recorded size. A pull that is told
/// "not modified" (or finds the same bytes) trusts the stored copy only when this holds;
/// otherwise it fetches the bytes again rather than report a version it cannot serve.
pub async fn original_intact(b: &Backends, gates: &Gates<'_>, row: &VersionRow) -> Result<bool, PipelineError> {
    let key = crate::backends::original_key(gates, row)?;
    Ok(b.store.size(&key).await? == Some(row.bytes))
}

/// Re-hashes the stored copies of a version's original (the original and its CAS copy) and
/// replaces each one that no longer hashes to the record with `fresh`, bytes that do (the
/// caller fetched and hashed them). Returns the keys it replaced.
pub async fn repair_copies(
    b: &Backends,
    gates: &Gates<'_>,
    row: &VersionRow,
    fresh: &std::path::Path,
) -> Result<Vec<String>, PipelineError> {
    let original = crate::backends::original_key(gates, row)?;
    let cas =
        b.catalog.artifacts(&row.ontology, &row.version).await?.into_iter().filter(|a| a.kind == ArtifactKind::Cas);
    let mut keys = vec![original];
    keys.extend(cas.map(|a| a.relpath));
    let mut replaced = Vec::new();
    for key in keys {
        let sound = match b.store.size(&key).await? {
            Some(n) if n == row.bytes => stored_sha256(b, &key, n, |_| {}).await? == row.sha256,
            _ => false,
        };
        if !sound {
            b.store.put_file(&key, fresh).await?;
            replaced.push(key);
        }
    }
    Ok(replaced)
}

/// Which invariant a finding breaks (docs/architecture.md, "Invariants").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Invariant {
    /// I1: every artifact row names bytes the store holds, with that size and SHA-256.
    ArtifactMatchesBytes,
    /// I2: every manifest matches its version row, and the catalog records the manifest's
    /// own bytes.
    ManifestMatchesRow,
    /// I3: `latest` names a recorded version that validated, and the store's pointer agrees.
    LatestValidated,
    /// I5: nothing under a version points into staging.
    NoStagingPaths,
    /// I6: stored files are readable by the group and others as the umask allows.
    SharedReadable,
    /// I7: every file in a version directory is recorded (no planted or partial files).
    NoUnrecordedFiles,
    /// I8: no two versions of one ontology hold the same original bytes.
    OneVersionPerContent,
}

/// What can be done about a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Remedy {
    /// `doctor --fix` repairs it from what is stored.
    DoctorFix,
    /// Run this command (the bytes to repair from are not in the store).
    Run(String),
}

impl Remedy {
    /// The remedy as a clause for a message.
    pub fn describe(&self) -> String {
        match self {
            Remedy::DoctorFix => "`ontofetch doctor --fix` repairs it".into(),
            Remedy::Run(cmd) => format!("cannot be repaired from the store; run `{cmd}`"),
        }
    }
}

/// One broken invariant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The invariant.
    pub invariant: Invariant,
    /// The stable code (`E_DRIFT`, `E_DB_ORPHAN`, `E_IO`).
    pub code: Code,
    /// The store key (or `ontologies/<id>` for an ontology-wide finding).
    pub key: String,
    /// What is wrong.
    pub problem: String,
    /// What repairs it.
    pub remedy: Remedy,
    /// Repaired by this run (`fix`).
    pub fixed: bool,
}

/// What the audit looked at and found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Audit {
    /// Every byte was re-hashed.
    pub verified: bool,
    /// Versions checked.
    pub versions: usize,
    /// Artifact rows checked.
    pub artifacts: usize,
    /// Bytes re-hashed.
    pub bytes_hashed: u64,
    /// Broken invariants.
    pub findings: Vec<Finding>,
    /// Ontologies another worker held (not judged).
    pub busy: Vec<String>,
}

impl Audit {
    /// Findings that are still there.
    pub fn unfixed(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| !f.fixed)
    }
}

/// How far to go.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditOptions {
    /// Re-hash every artifact (else: presence and size only).
    pub verify: bool,
    /// Repair what can be repaired from what is stored.
    pub fix: bool,
}

/// Progress of the re-hashing: (bytes done, bytes in all).
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Send + Sync);

/// SHA-256 of a stored file, streamed (bounded memory whatever its size).
pub async fn stored_sha256(
    b: &Backends,
    key: &str,
    len: u64,
    mut on_bytes: impl FnMut(u64),
) -> Result<String, PipelineError> {
    let mut h = sha2::Sha256::new();
    let mut stream = b.store.open_range(key, 0, len).await?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(crate::error::io(format!("reading {key}")))?;
        h.update(&chunk);
        on_bytes(chunk.len() as u64);
    }
    Ok(hex::encode(h.finalize()))
}

/// Audits every ontology the catalog records.
pub async fn audit(
    b: &Backends,
    gates: &Gates<'_>,
    options: AuditOptions,
    progress: Progress<'_>,
    survey: &Survey,
) -> Result<Audit, PipelineError> {
    let total: u64 = if options.verify { survey.artifacts.values().flatten().map(|(_, a)| a.bytes).sum() } else { 0 };
    let mut out = Audit { verified: options.verify, ..Audit::default() };
    let mut done = 0u64;
    // Each ontology is judged first on the survey (one listing of the whole mirror, the
    // catalog read in two statements), without its lease. Only one that shows a problem is
    // judged again under its lease on fresh reads (a pull that finished meanwhile is not a
    // problem, and nothing is fixed beside a pull): a sound mirror costs one listing and no
    // lease, not a listing, two statements and a lease per ontology.
    for id in survey.recorded() {
        // An ontology whose directory is a planted link is reported as such by doctor and
        // not judged (nothing is "repaired" through the link).
        if crate::links::ontology_is_planted(b, id) {
            continue;
        }
        let mut trial = Audit::default();
        let dry = AuditOptions { fix: false, ..options };
        let seen = Seen {
            rows: survey.rows.get(id).cloned().unwrap_or_default(),
            artifacts: survey.artifacts.get(id).cloned().unwrap_or_default(),
            listed: survey.listed.get(id).cloned().unwrap_or_default(),
            latest: Some(survey.latest.get(id).cloned()),
        };
        ontology(b, gates, id, dry, Some(seen), &mut trial, &mut |n| {
            done += n;
            progress(done, total);
        })
        .await?;
        if trial.findings.is_empty() {
            out.versions += trial.versions;
            out.artifacts += trial.artifacts;
            out.bytes_hashed += trial.bytes_hashed;
            continue;
        }
        let Some(_lease) = b.catalog.try_lease(id).await? else {
            out.busy.push(id.clone());
            continue;
        };
        ontology(b, gates, id, options, None, &mut out, &mut |_| {}).await?;
    }
    if options.fix {
        remove_empty_ontology_dirs(b, &mut out).await?;
    }
    Ok(out)
}

/// One ontology as a survey saw it.
struct Seen {
    rows: Vec<VersionRow>,
    artifacts: Vec<(String, ArtifactRow)>,
    listed: BTreeMap<String, u64>,
    /// The catalog's `latest` (`None`: read it).
    latest: Option<Option<String>>,
}

/// A finding about one key.
fn finding(invariant: Invariant, code: Code, key: &str, problem: String, remedy: Remedy) -> Finding {
    Finding { invariant, code, key: key.to_string(), problem, remedy, fixed: false }
}

/// Fetching the bytes again: `--force`, so the download is unconditional and every stored
/// copy is re-hashed against the record (a plain pull trusts a copy of the right size).
fn refetch(id: &str) -> Remedy {
    Remedy::Run(format!("ontofetch pull --force {id}"))
}

fn regenerate(id: &str, version: &str) -> Remedy {
    Remedy::Run(format!("ontofetch validate {id} {version}"))
}

/// Files every version has that older catalogs did not record (the report, an archive's
/// extraction audit): present is fine, recorded or not.
fn layout_file(rel: &str) -> bool {
    rel == layout::VALIDATION_REPORT || (rel.starts_with("original/") && rel.ends_with("_extracted.audit.json"))
}

async fn ontology(
    b: &Backends,
    gates: &Gates<'_>,
    id: &str,
    options: AuditOptions,
    seen: Option<Seen>,
    out: &mut Audit,
    on_bytes: &mut (dyn FnMut(u64) + Send),
) -> Result<(), PipelineError> {
    let seen = match seen {
        Some(seen) => seen,
        None => Seen {
            rows: b.catalog.versions(Some(id), u32::MAX).await?,
            artifacts: b.catalog.ontology_artifacts(id).await?,
            listed: b.store.list(&format!("{}/", layout::ontology_key(id))).await?.into_iter().collect(),
            latest: None,
        },
    };
    let Seen { rows, artifacts, listed, latest } = seen;
    let mut files: BTreeMap<String, Vec<ArtifactRow>> = BTreeMap::new();
    for (v, a) in artifacts {
        files.entry(v).or_default().push(a);
    }
    let mut by_sha: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for row in &rows {
        by_sha.entry(row.sha256.as_str()).or_default().push(row.version.as_str());
        let artifacts = files.remove(&row.version).unwrap_or_default();
        version(b, gates, row, &artifacts, &listed, options, out, on_bytes).await?;
    }
    for (sha, versions) in by_sha.into_iter().filter(|(_, v)| v.len() > 1) {
        out.findings.push(finding(
            Invariant::OneVersionPerContent,
            Code::Drift,
            &layout::ontology_key(id),
            format!("{id}: versions {} hold the same original bytes (sha256 {sha})", versions.join(", ")),
            Remedy::Run(format!("ontofetch prune --ids {id} --keep N")),
        ));
    }
    latest_pointer(b, id, latest, options, out).await
}

#[allow(clippy::too_many_arguments)]
async fn version(
    b: &Backends,
    gates: &Gates<'_>,
    row: &VersionRow,
    artifacts: &[ArtifactRow],
    listed: &BTreeMap<String, u64>,
    options: AuditOptions,
    out: &mut Audit,
    on_bytes: &mut (dyn FnMut(u64) + Send),
) -> Result<(), PipelineError> {
    out.versions += 1;
    let (id, v) = (row.ontology.as_str(), row.version.as_str());
    let key = gates.stored_path(&row.relpath)?.as_slash_path();
    let original = crate::backends::original_key(gates, row)?;
    match artifacts.iter().find(|a| a.relpath == original) {
        Some(a) if a.sha256 == row.sha256 && a.bytes == row.bytes => {}
        _ => out.findings.push(finding(
            Invariant::ArtifactMatchesBytes,
            Code::Drift,
            &original,
            format!("{id}/{v}: the version row and the original's artifact row disagree (or it has none)"),
            refetch(id),
        )),
    }
    let recorded: BTreeSet<&str> = artifacts.iter().map(|a| a.relpath.as_str()).collect();
    for a in artifacts {
        out.artifacts += 1;
        artifact(b, row, a, listed, options, out, on_bytes).await?;
    }
    // Reading every manifest is one request per version: its size is checked above with
    // every other file; what it says is compared with the row when asked to verify.
    if options.verify || options.fix {
        manifest(b, row, &key, artifacts, options, out).await?;
    }
    // A manifest that is missing, unreadable or disagrees with its row is rebuilt from the
    // catalog, which is the record of a recorded version (I2).
    let mkey = format!("{key}/{}", layout::MANIFEST);
    let broken = |f: &Finding| f.key == mkey && !f.fixed;
    if options.fix && out.findings.iter().any(broken) && crate::remanifest::regenerate(b, row, artifacts).await.is_ok()
    {
        for f in out.findings.iter_mut().filter(|f| f.key == mkey) {
            f.fixed = true;
        }
    }
    // Files in the version directory the catalog does not record.
    let prefix = format!("{key}/");
    for (file, _) in listed.range(prefix.clone()..).take_while(|(k, _)| k.starts_with(&prefix)) {
        let rel = &file[prefix.len()..];
        if recorded.contains(file.as_str()) || layout_file(rel) {
            continue;
        }
        let mut f = finding(
            Invariant::NoUnrecordedFiles,
            Code::DbOrphan,
            file,
            format!("{file} is in the store but not in the catalog (planted, or left by a killed job)"),
            Remedy::DoctorFix,
        );
        if options.fix {
            f.fixed = b.store.delete(file).await.is_ok();
        }
        out.findings.push(f);
    }
    if let Some(dir) = b.store.local_path(&key) {
        shared_readable(&dir, &key, options.fix, out);
    }
    Ok(())
}

async fn artifact(
    b: &Backends,
    row: &VersionRow,
    a: &ArtifactRow,
    listed: &BTreeMap<String, u64>,
    options: AuditOptions,
    out: &mut Audit,
    on_bytes: &mut (dyn FnMut(u64) + Send),
) -> Result<(), PipelineError> {
    let (id, v) = (row.ontology.as_str(), row.version.as_str());
    let remedy = match a.kind {
        ArtifactKind::Normalized | ArtifactKind::Terms => regenerate(id, v),
        ArtifactKind::Manifest => Remedy::DoctorFix,
        _ => refetch(id),
    };
    // CAS copies live outside the ontology's prefix.
    let size = match listed.get(&a.relpath) {
        Some(s) => Some(*s),
        None if a.kind == ArtifactKind::Cas => b.store.size(&a.relpath).await?,
        None => None,
    };
    let Some(size) = size else {
        out.findings.push(finding(
            Invariant::ArtifactMatchesBytes,
            Code::DbOrphan,
            &a.relpath,
            format!("{} ({}) is recorded but missing from the store", a.relpath, a.kind.as_str()),
            remedy,
        ));
        return Ok(());
    };
    if size != a.bytes {
        out.findings.push(finding(
            Invariant::ArtifactMatchesBytes,
            Code::Drift,
            &a.relpath,
            format!("{} holds {size} bytes; the catalog records {}", a.relpath, a.bytes),
            remedy,
        ));
        return Ok(());
    }
    if options.verify {
        let sha = stored_sha256(b, &a.relpath, size, &mut *on_bytes).await?;
        out.bytes_hashed += size;
        if sha != a.sha256 {
            out.findings.push(finding(
                Invariant::ArtifactMatchesBytes,
                Code::Drift,
                &a.relpath,
                format!("{} hashes to {sha}; the catalog records {}", a.relpath, a.sha256),
                remedy,
            ));
        }
    }
    Ok(())
}

/// The manifest against its row; a manifest row that merely lags its bytes (an old
/// `validate` rewrote the file and not the row) is re-recorded from the bytes with `fix`.
async fn manifest(
    b: &Backends,
    row: &VersionRow,
    key: &str,
    artifacts: &[ArtifactRow],
    options: AuditOptions,
    out: &mut Audit,
) -> Result<(), PipelineError> {
    let (id, v) = (row.ontology.as_str(), row.version.as_str());
    let mkey = format!("{key}/{}", layout::MANIFEST);
    let bytes = match b.store.read(&mkey).await {
        Ok(bytes) => bytes,
        // A missing manifest is reported by its artifact row.
        Err(ontofetch_store::StoreError::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let parsed = match Manifest::from_slice(&bytes) {
        Ok(m) => m,
        Err(e) => {
            out.findings.push(finding(
                Invariant::ManifestMatchesRow,
                Code::Manifest,
                &mkey,
                format!("{mkey} is not a manifest: {e}"),
                Remedy::DoctorFix,
            ));
            return Ok(());
        }
    };
    let mut disagree = Vec::new();
    if parsed.id != id {
        disagree.push(format!("id {:?}", parsed.id));
    }
    if parsed.version.as_deref() != Some(v) {
        disagree.push(format!("version {:?}", parsed.version));
    }
    if parsed.sha256 != row.sha256 {
        disagree.push(format!("sha256 {}", parsed.sha256));
    }
    if parsed.content_length.is_some_and(|n| n != row.bytes) {
        disagree.push(format!("content_length {:?}", parsed.content_length));
    }
    if !disagree.is_empty() {
        out.findings.push(finding(
            Invariant::ManifestMatchesRow,
            Code::Drift,
            &mkey,
            format!("{mkey} disagrees with the catalog's {id}/{v}: {}", disagree.join(", ")),
            Remedy::DoctorFix,
        ));
        return Ok(());
    }
    let text = String::from_utf8_lossy(&bytes);
    let staging = format!("/{}/", layout::STAGING);
    if text.contains(&staging) {
        out.findings.push(finding(
            Invariant::NoStagingPaths,
            Code::Drift,
            &mkey,
            format!("{mkey} names files under {staging}, which is gone once a version is promoted"),
            regenerate(id, v),
        ));
    }
    let sha = ontofetch_fsutil::sha256_bytes(&bytes);
    let recorded = artifacts.iter().find(|a| a.relpath == mkey);
    if recorded.is_some_and(|a| a.sha256 != sha || a.bytes != bytes.len() as u64) {
        // Reported by the artifact check; the manifest itself is sound, so its row can be
        // brought up to date from the bytes.
        if options.fix {
            let fresh = ArtifactRow {
                relpath: mkey.clone(),
                sha256: sha,
                bytes: bytes.len() as u64,
                kind: ArtifactKind::Manifest,
            };
            if b.catalog.revise(id, v, row.verdict, &[fresh], &[]).await.is_ok() {
                for f in
                    out.findings.iter_mut().filter(|f| f.key == mkey && f.invariant == Invariant::ArtifactMatchesBytes)
                {
                    f.fixed = true;
                }
            }
        }
    }
    Ok(())
}

/// The store's `latest` pointer (a symlink on a local store) against the catalog's.
async fn latest_pointer(
    b: &Backends,
    id: &str,
    known: Option<Option<String>>,
    options: AuditOptions,
    out: &mut Audit,
) -> Result<(), PipelineError> {
    let key = layout::ontology_key(id);
    let Some(dir) = b.store.local_path(&key) else { return Ok(()) };
    let want = match known {
        Some(v) => v,
        None => b.catalog.latest(id).await?.map(|r| r.version),
    };
    let have = std::fs::read_link(dir.join(layout::LATEST)).ok().map(|p| p.to_string_lossy().into_owned());
    if want == have {
        return Ok(());
    }
    let mut f = finding(
        Invariant::LatestValidated,
        Code::Drift,
        &format!("{key}/{}", layout::LATEST),
        format!(
            "{key}/latest points at {} but the newest version that validated is {}",
            have.as_deref().unwrap_or("nothing"),
            want.as_deref().unwrap_or("none")
        ),
        Remedy::DoctorFix,
    );
    if options.fix {
        f.fixed = crate::retire::repoint_latest(b, id).await.is_ok();
    }
    out.findings.push(f);
    Ok(())
}

/// Local files must be as readable as the umask allows (a web server or a colleague reads
/// the mirror); the tool once wrote manifests and lockfiles `0600`.
fn shared_readable(dir: &std::path::Path, key: &str, fix: bool, out: &mut Audit) {
    use std::os::unix::fs::PermissionsExt;
    let want = ontofetch_fsutil::shared_file_mode() & 0o444;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let Ok(t) = e.file_type() else { continue };
            if t.is_dir() {
                stack.push(e.path());
                continue;
            }
            let Ok(meta) = e.metadata() else { continue };
            let mode = meta.permissions().mode() & 0o777;
            if !t.is_file() || mode & want == want {
                continue;
            }
            let rel = e.path().strip_prefix(dir).map(|r| r.to_string_lossy().into_owned()).unwrap_or_default();
            let mut f = finding(
                Invariant::SharedReadable,
                Code::Io,
                &format!("{key}/{rel}"),
                format!("{key}/{rel} has mode {mode:o}; readers of the mirror need {want:o} (the umask allows it)"),
                Remedy::DoctorFix,
            );
            if fix {
                f.fixed = std::fs::set_permissions(e.path(), std::fs::Permissions::from_mode(mode | want)).is_ok();
            }
            out.findings.push(f);
        }
    }
}

/// `ontologies/<id>` directories with nothing left in them (every version retired), each
/// removed under the ontology's lease (a pull about to promote into it holds the lease).
async fn remove_empty_ontology_dirs(b: &Backends, out: &mut Audit) -> Result<(), PipelineError> {
    let Some(root) = b.store.local_path(layout::ONTOLOGIES) else { return Ok(()) };
    let dirs: Vec<_> = std::fs::read_dir(&root).into_iter().flatten().flatten().collect();
    for e in dirs {
        let path = e.path();
        if !e.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let entries: Vec<_> = std::fs::read_dir(&path).into_iter().flatten().flatten().collect();
        // Only a dangling `latest` pointer or nothing at all.
        let empty = entries.iter().all(|c| {
            c.file_name() == layout::LATEST && c.file_type().is_ok_and(|t| t.is_symlink()) && !c.path().exists()
        });
        let id = e.file_name().to_string_lossy().into_owned();
        let Some(_lease) = (if empty { b.catalog.try_lease(&id).await? } else { None }) else { continue };
        let key = format!("{}/{}", layout::ONTOLOGIES, e.file_name().to_string_lossy());
        if ontofetch_fsutil::beneath::remove_tree(b.store.local_root(), &key).is_ok() {
            out.findings.push(Finding {
                invariant: Invariant::NoUnrecordedFiles,
                code: Code::DbOrphan,
                problem: format!("{key} was an empty ontology directory"),
                key,
                remedy: Remedy::DoctorFix,
                fixed: true,
            });
        }
    }
    Ok(())
}
