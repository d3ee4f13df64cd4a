//! Reading and trimming the mirror, for every front end: `show`, `db …`, `diff`,
//! `validate` of a stored version and `prune`, each a function over the catalog and the
//! store that returns its report.

use crate::context::Context;
use crate::error::AppError;
use crate::mirror::{check_id, latest_manifest, open, stored_id, version_or_latest};
use crate::report::{Document, Report, safe};
use ontofetch_catalog::{ArtifactRow, Stats, ValidationResult, ValidationRow, VersionRow};
use ontofetch_pipeline::diff::VersionDiff;
use ontofetch_pipeline::prune::{PruneReport, PruneRequest};
use ontofetch_pipeline::revalidate::Revalidated;
use ontofetch_policy::Code;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashSet;
use std::fmt::Write;

/// Something the command asked for is not there: the command's bad input (exit 2).
fn usage_if_missing(e: AppError) -> AppError {
    if matches!(e.code, Code::NotFound | Code::Usage) { AppError::usage(e.message) } else { e }
}

/// `show ID`: the latest manifest (with its import closure).
pub async fn show(ctx: &Context, id: &str) -> Result<Document, AppError> {
    let doc = latest_manifest(ctx, id).await.map_err(usage_if_missing)?;
    Ok(Document { text: manifest_text(&doc), doc })
}

/// What a person asks of a stored version — where the file is, whether it validated (and
/// what each validator counted), what was noted — with the rest of the manifest in
/// `--json`.
pub fn manifest_text(m: &Value) -> String {
    let text = |k: &str| m[k].as_str().map(safe);
    let mut out = format!(
        "{} {} ({}, {})\n",
        text("id").unwrap_or_default(),
        text("version").unwrap_or_default(),
        text("status").unwrap_or_default(),
        text("resolver").unwrap_or_default()
    );
    let mut line = |label: &str, value: String| out.push_str(&format!("  {label:<11} {value}\n"));
    line("url:", text("url").unwrap_or_default());
    let filename = m["filename"].as_str().unwrap_or_default();
    let original = m["artifacts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find(|a| a.ends_with(&format!("/original/{filename}")));
    let size = m["content_length"].as_u64().map(|b| format!(" ({b} bytes)")).unwrap_or_default();
    line("file:", format!("{}{size}", original.map(safe).unwrap_or_else(|| safe(filename))));
    line("sha256:", text("sha256").unwrap_or_default());
    let mode = m["normalization"]["mode"].as_str().map(|s| format!(" ({})", safe(s))).unwrap_or_default();
    let canonical = match text("normalized_sha256") {
        Some(h) => format!("{h}{mode}"),
        None => {
            m["normalization"]["skipped_reason"].as_str().map(|s| format!("none: {}", safe(s))).unwrap_or("none".into())
        }
    };
    line("canonical:", canonical);
    line("licence:", text("license").unwrap_or_else(|| "unknown".into()));
    line("downloaded:", text("downloaded_at").unwrap_or_default());
    for (name, entry) in m["validation"].as_object().into_iter().flatten() {
        let d = &entry["details"];
        let status = entry["status"].as_str().unwrap_or(if entry["ok"] == true { "ok" } else { "failed" });
        let mut v = format!("{}: {}", safe(name), safe(status));
        if let (Some(s), Some(t)) = (d["statements"].as_u64(), d["terms"].as_u64()) {
            v.push_str(&format!(", {s} statements, {t} terms"));
        }
        if let Some(msg) = d["message"].as_str() {
            v.push_str(&format!(" — {}", safe(msg)));
        }
        line("validation:", v);
        let outputs: Vec<String> =
            entry["output_files"].as_array().into_iter().flatten().filter_map(Value::as_str).map(safe).collect();
        if !outputs.is_empty() {
            line("outputs:", outputs.join(", "));
        }
    }
    for e in m["import_closure"].as_array().into_iter().flatten() {
        let target = e["target"].as_str().map(|t| format!(" -> {}", safe(t))).unwrap_or_default();
        let code = e["code"].as_str().map(|c| format!(" {c}")).unwrap_or_default();
        let iri = safe(e["iri"].as_str().unwrap_or_default());
        line("imports:", format!("{iri}{target} ({}{code})", safe(e["status"].as_str().unwrap_or_default())));
    }
    for n in m["notes"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        line("note:", safe(n));
    }
    out.trim_end().to_string()
}

/// A stored version, and whether it is its ontology's `latest`.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    /// The catalog row.
    #[serde(flatten)]
    pub row: VersionRow,
    /// Whether `latest` names it.
    pub latest: bool,
    /// Its attestation's index in the mirror's transparency log (`None`: unsigned, or not
    /// published yet).
    pub log_index: Option<u64>,
}

/// Catalog rows as a table, `latest` marked `*`.
fn table<'a>(rows: impl IntoIterator<Item = (&'a VersionRow, bool)>) -> String {
    let mut out = format!(
        "{:<14} {:<30} {:<12} {:<6} {:<24} {:>12}  {}\n",
        "id", "version", "verdict", "latest", "downloaded_at", "bytes", "sha256"
    );
    for (r, latest) in rows {
        out.push_str(&format!(
            "{:<14} {:<30} {:<12} {:<6} {:<24} {:>12}  {}\n",
            safe(&r.ontology),
            safe(&r.version),
            r.verdict.as_str(),
            if latest { "*" } else { "" },
            r.downloaded_at,
            r.bytes,
            &r.sha256[..12.min(r.sha256.len())]
        ));
    }
    out
}

/// Rows marked with whether each is `latest`.
fn listed(rows: Vec<VersionRow>, latest: &[VersionRow]) -> Vec<Listed> {
    let latest: HashSet<(&str, &str)> = latest.iter().map(|r| (r.ontology.as_str(), r.version.as_str())).collect();
    rows.into_iter()
        .map(|row| {
            let latest = latest.contains(&(row.ontology.as_str(), row.version.as_str()));
            Listed { row, latest, log_index: None }
        })
        .collect()
}

/// `show ID --versions`: every version of one ontology, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    /// The id as stored.
    pub id: String,
    /// The version `latest` names, if any.
    pub latest: Option<String>,
    /// Every version.
    pub versions: Vec<Listed>,
}

impl Report for History {
    fn human(&self) -> String {
        table(self.versions.iter().map(|l| (&l.row, l.latest)))
    }
}

/// Every version of `id` (an id the registry folds to a stored one is taken).
pub async fn history(ctx: &Context, id: &str) -> Result<History, AppError> {
    check_id(id)?;
    let b = open(ctx).await?;
    let id = stored_id(ctx, &b, id).await.map_err(usage_if_missing)?;
    let rows = b.catalog.versions(Some(&id), 10_000).await?;
    let latest: Vec<VersionRow> = b.catalog.latest(&id).await?.into_iter().collect();
    let mut versions = listed(rows, &latest);
    for v in &mut versions {
        v.log_index = b.catalog.log_index(&v.row.ontology, &v.row.version).await?;
    }
    Ok(History { latest: latest.first().map(|r| r.version.clone()), versions, id })
}

/// `db latest`: each ontology's latest version.
#[derive(Debug, Clone, Serialize)]
pub struct LatestList {
    /// Always true (the document's shape for scripts).
    pub ok: bool,
    /// How many.
    pub count: usize,
    /// The rows.
    pub latest: Vec<VersionRow>,
}

impl Report for LatestList {
    fn human(&self) -> String {
        table(self.latest.iter().map(|r| (r, true)))
    }
}

/// The latest version of `id`, or of every ontology.
pub async fn latest(ctx: &Context, id: Option<&str>) -> Result<LatestList, AppError> {
    let cat = open(ctx).await?.catalog;
    let latest: Vec<VersionRow> = match id {
        Some(id) => cat.latest(id).await?.into_iter().collect(),
        None => cat.latest_all().await?,
    };
    Ok(LatestList { ok: true, count: latest.len(), latest })
}

/// `db versions`: versions, newest first, `latest` marked.
#[derive(Debug, Clone, Serialize)]
pub struct VersionList {
    /// Always true.
    pub ok: bool,
    /// How many.
    pub count: usize,
    /// The rows.
    pub versions: Vec<Listed>,
}

impl Report for VersionList {
    fn human(&self) -> String {
        table(self.versions.iter().map(|l| (&l.row, l.latest)))
    }
}

/// At most `limit` versions of `id`, or of every ontology.
pub async fn versions(ctx: &Context, id: Option<&str>, limit: u32) -> Result<VersionList, AppError> {
    let cat = open(ctx).await?.catalog;
    let rows = cat.versions(id, limit).await?;
    let latest: Vec<VersionRow> = match id {
        Some(id) => cat.latest(id).await?.into_iter().collect(),
        None => cat.latest_all().await?,
    };
    let versions = listed(rows, &latest);
    Ok(VersionList { ok: true, count: versions.len(), versions })
}

/// `db stats`.
#[derive(Debug, Clone, Serialize)]
pub struct CatalogStats {
    /// Always true.
    pub ok: bool,
    /// The catalog's schema version.
    pub schema_version: i64,
    /// Where the catalog is (no credentials).
    pub catalog: String,
    /// The totals.
    pub statistics: Stats,
}

impl Report for CatalogStats {
    fn human(&self) -> String {
        let s = &self.statistics;
        format!(
            "ontologies: {}\nversions: {}\nartifacts: {}\nbytes: {}\nschema: {}",
            s.ontologies, s.versions, s.artifacts, s.bytes, self.schema_version
        )
    }
}

/// The catalog's totals.
pub async fn stats(ctx: &Context) -> Result<CatalogStats, AppError> {
    let cat = open(ctx).await?.catalog;
    Ok(CatalogStats {
        ok: true,
        statistics: cat.stats().await?,
        schema_version: cat.schema_version().await?,
        catalog: cat.url(),
    })
}

/// `db validations`: each validator's result for a version.
#[derive(Debug, Clone, Serialize)]
pub struct Validations {
    /// Always true.
    pub ok: bool,
    /// Ontology id.
    pub id: String,
    /// Version.
    pub version: String,
    /// How many validators failed.
    pub failure_count: usize,
    /// The results.
    pub validations: Vec<ValidationRow>,
}

impl Report for Validations {
    fn human(&self) -> String {
        let line = |r: &ValidationRow| {
            let message = serde_json::from_str::<Value>(&r.details)
                .ok()
                .and_then(|d| d["message"].as_str().map(|m| format!("  {}", safe(m))))
                .unwrap_or_default();
            format!("{:<30} {}{message}", safe(&r.validator), r.result.as_str())
        };
        self.validations.iter().map(line).collect::<Vec<_>>().join("\n")
    }
}

/// The validation results of `version` (default: latest) of `id`.
pub async fn validations(ctx: &Context, id: &str, version: Option<&str>) -> Result<Validations, AppError> {
    let cat = open(ctx).await?.catalog;
    let version = version_or_latest(cat.as_ref(), id, version).await.map_err(usage_if_missing)?;
    let validations = cat.validations(id, &version).await?;
    let failure_count = validations.iter().filter(|r| r.result == ValidationResult::Failed).count();
    Ok(Validations { ok: true, id: id.to_string(), version, failure_count, validations })
}

/// `db files`: the files of a version.
#[derive(Debug, Clone, Serialize)]
pub struct Files {
    /// Always true.
    pub ok: bool,
    /// Ontology id.
    pub id: String,
    /// Version.
    pub version: String,
    /// How many.
    pub count: usize,
    /// The files.
    pub files: Vec<ArtifactRow>,
}

impl Report for Files {
    fn human(&self) -> String {
        let line = |f: &ArtifactRow| format!("{:<9} {:>12}  {}", f.kind.as_str(), f.bytes, safe(&f.relpath));
        self.files.iter().map(line).collect::<Vec<_>>().join("\n")
    }
}

/// The files of `version` (default: latest) of `id`.
pub async fn files(ctx: &Context, id: &str, version: Option<&str>) -> Result<Files, AppError> {
    let cat = open(ctx).await?.catalog;
    let version = version_or_latest(cat.as_ref(), id, version).await.map_err(usage_if_missing)?;
    let files = cat.artifacts(id, &version).await?;
    Ok(Files { ok: true, id: id.to_string(), version, count: files.len(), files })
}

/// `diff ID [OLD] [NEW]`.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Diff(pub VersionDiff);

impl Report for Diff {
    fn human(&self) -> String {
        let d = &self.0;
        let mut out =
            format!("{}: {} → {} ({} → {} terms)\n", safe(&d.id), d.old, d.new, d.diff.terms_old, d.diff.terms_new);
        for kind in ontofetch_validate::terms::ChangeKind::ALL {
            let _ = writeln!(out, "  {:<20} {:>8}", kind.as_str(), d.diff.count(kind));
            for c in d.diff.changes.get(&kind).into_iter().flatten() {
                let label = c.label.as_deref().map(|l| format!(" ({})", safe(l))).unwrap_or_default();
                let change = match (&c.before, &c.after) {
                    (None, None) => String::new(),
                    (b, a) => {
                        format!(": {} → {}", safe(b.as_deref().unwrap_or("∅")), safe(a.as_deref().unwrap_or("∅")))
                    }
                };
                let _ = writeln!(out, "      {}{label}{change}", safe(&c.id));
            }
        }
        out
    }
}

/// What changed between two stored versions of `id` (default: the two newest that
/// validated), at most `limit` examples of each kind.
pub async fn diff(
    ctx: &Context,
    id: &str,
    old: Option<&str>,
    new: Option<&str>,
    limit: usize,
) -> Result<Diff, AppError> {
    check_id(id)?;
    let p = ctx.pipeline(false).await?;
    let id = stored_id(ctx, &p.backends, id).await.map_err(usage_if_missing)?;
    let d = ontofetch_pipeline::diff::versions(&p, &id, old, new, limit).await.map_err(AppError::from);
    Ok(Diff(d.map_err(usage_if_missing)?))
}

/// `validate ID [VERSION]`: a stored version validated again.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Revalidation(pub Revalidated);

impl Revalidation {
    /// A failure (exit 1) when the version failed validation.
    pub fn outcome(&self) -> Result<(), AppError> {
        match self.0.status {
            ontofetch_validate::Status::Failed => {
                Err(AppError::check_failed(format!("{} {} failed validation", self.0.id, self.0.version)))
            }
            _ => Ok(()),
        }
    }
}

impl Report for Revalidation {
    fn human(&self) -> String {
        let r = &self.0;
        let msg = r.details.message.as_deref().map(|m| format!(" ({})", safe(m))).unwrap_or_default();
        let purged = match (r.purged, r.latest.as_deref()) {
            (false, _) => String::new(),
            (true, Some(latest)) => format!("; purged, latest points at the previous good version, {}", safe(latest)),
            (true, None) => format!("; purged, and no version of {} is latest now (none other validated)", r.id),
        };
        format!("{} {}: {} {}{msg}{purged}", r.id, r.version, r.validator, r.status)
    }
}

/// Validates `version` (default: latest) of `id` again; `strict` purges it when it fails.
pub async fn revalidate(
    ctx: &Context,
    id: &str,
    version: Option<&str>,
    strict: bool,
) -> Result<Revalidation, AppError> {
    check_id(id)?;
    let p = ctx.pipeline(false).await?;
    let r = ontofetch_pipeline::revalidate::revalidate(&p, id, version, strict).await.map_err(|e| match e.code {
        Code::NotFound => AppError::usage(e.message),
        _ => e.into(),
    })?;
    // A re-signed attestation is a new entry of the log.
    if let Some(published) = ontofetch_pipeline::tlog::publish_signed(&p).await {
        published?;
    }
    Ok(Revalidation(r))
}

/// `prune`'s report.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Pruned(pub PruneReport);

impl Report for Pruned {
    fn human(&self) -> String {
        let report = &self.0;
        let busy = if report.busy.is_empty() {
            String::new()
        } else {
            format!("; skipped {} (being pulled by another worker)", report.busy.join(", "))
        };
        let mut out = String::new();
        for o in report.ontologies.iter().filter(|o| !o.deleted.is_empty()) {
            let verb = if report.dry_run { "would delete" } else { "deleted" };
            let (deleted, kept) = (safe(&o.deleted.join(", ")), safe(&o.retained.join(", ")));
            out.push_str(&format!("{}: {verb} {deleted}; keeps {kept}\n", safe(&o.id)));
        }
        let (verb, what) = if report.dry_run { ("Dry run", "would reclaim") } else { ("Pruned", "reclaimed") };
        out.push_str(&format!(
            "{verb}: {what} {} bytes across {} versions{busy}",
            report.total_reclaimed_bytes, report.total_deleted
        ));
        out
    }
}

/// Deletes what `req` selects (never a version being pulled, never the last that validated).
pub async fn prune(ctx: &Context, req: &PruneRequest) -> Result<Pruned, AppError> {
    if let Some(d) = &req.older_than
        && (d.len() != 10 || humantime::parse_rfc3339(&format!("{d}T00:00:00Z")).is_err())
    {
        return Err(AppError::usage(format!("--older-than {d:?} is not a YYYY-MM-DD date")));
    }
    let b = open(ctx).await?;
    Ok(Pruned(ontofetch_pipeline::prune::prune(&b, &ctx.gates()?, req).await?))
}
