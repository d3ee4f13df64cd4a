//! `ontofetch show`, `db …` and `prune`: reading and trimming the store through the catalog.

use crate::cli::DbCommand;
use crate::context::Context;
use crate::error::CliError;
use crate::output::emit;
use crate::pipeline::catalog_path;
use ontofetch_catalog::{Catalog, VersionRow};
use ontofetch_policy::Gates;
use ontofetch_store::Store;
use serde_json::{Value, json};

fn open(ctx: &Context) -> Result<Catalog, CliError> {
    let path = catalog_path(&ctx.dirs);
    if !path.exists() {
        return Err(CliError::Usage(format!("no catalog at {} yet; run `ontofetch pull` first", path.display())));
    }
    Catalog::open(&path).map_err(|e| CliError::Failed(e.code().into(), e.to_string()))
}

fn db_err(e: ontofetch_catalog::CatalogError) -> CliError {
    CliError::Failed(e.code().into(), e.to_string())
}

fn rows_text(rows: &[VersionRow]) -> String {
    let mut out = format!("{:<14} {:<30} {:<21} {:>12}  {}\n", "id", "version", "downloaded_at", "bytes", "sha256");
    for r in rows {
        out.push_str(&format!(
            "{:<14} {:<30} {:<21} {:>12}  {}\n",
            r.ontology,
            r.version,
            r.downloaded_at,
            r.bytes,
            &r.sha256[..12.min(r.sha256.len())]
        ));
    }
    out
}

/// The given version, or the latest by download time.
fn version_or_latest(cat: &Catalog, id: &str, version: Option<&str>) -> Result<String, CliError> {
    match version {
        Some(v) => Ok(v.to_string()),
        None => cat
            .latest(id)
            .map_err(db_err)?
            .map(|r| r.version)
            .ok_or_else(|| CliError::Usage(format!("{id} has no stored version"))),
    }
}

/// `ontofetch show ID [--versions]`.
pub fn show(ctx: &mut Context, id: &str, versions: bool) -> Result<(), CliError> {
    ontofetch_policy::config_gate::check_ontology_id("id", id).map_err(|r| CliError::Usage(r.message))?;
    let cat = open(ctx)?;
    if versions {
        let rows = cat.versions(Some(id), 10_000).map_err(db_err)?;
        let names: Vec<&str> = rows.iter().map(|r| r.version.as_str()).collect();
        emit(&ctx.global, &json!({"id": id, "versions": rows}), || names.join("\n"));
        return Ok(());
    }
    let row = cat.latest(id).map_err(db_err)?.ok_or_else(|| CliError::Usage(format!("{id} has no stored version")))?;
    let loaded = ctx.load(false)?;
    let rel = ctx.gates(&loaded).stored_path(&format!("{}/manifest.json", row.relpath))?;
    let path = ctx.dirs.root.join(rel.as_slash_path());
    let text = std::fs::read_to_string(&path).map_err(|e| CliError::io(format!("reading {}", path.display()), e))?;
    let manifest: Value = serde_json::from_str(&text)
        .map_err(|e| CliError::Failed("E_MANIFEST".into(), format!("{}: {e}", path.display())))?;
    emit(&ctx.global, &manifest, || {
        manifest
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, v)| !v.is_object() && !v.is_array())
            .map(|(k, v)| format!("{k}: {}", v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

/// `ontofetch db …`.
pub fn db(ctx: &mut Context, cmd: &DbCommand) -> Result<(), CliError> {
    let cat = open(ctx)?;
    match cmd {
        DbCommand::Latest { id } => {
            let rows = match id {
                Some(id) => cat.latest(id).map_err(db_err)?.into_iter().collect(),
                None => cat.latest_all().map_err(db_err)?,
            };
            emit(&ctx.global, &json!({"ok": true, "count": rows.len(), "latest": rows}), || rows_text(&rows));
        }
        DbCommand::Versions { id, limit } => {
            let rows = cat.versions(id.as_deref(), *limit).map_err(db_err)?;
            emit(&ctx.global, &json!({"ok": true, "count": rows.len(), "versions": rows}), || rows_text(&rows));
        }
        DbCommand::Stats => {
            let s = cat.stats().map_err(db_err)?;
            let schema = cat.schema_version().map_err(db_err)?;
            emit(&ctx.global, &json!({"ok": true, "schema_version": schema, "statistics": s}), || {
                format!(
                    "ontologies: {}\nversions: {}\nartifacts: {}\nbytes: {}\nschema: {schema}",
                    s.ontologies, s.versions, s.artifacts, s.bytes
                )
            });
        }
        DbCommand::Validations { id, version } => {
            let version = version_or_latest(&cat, id, version.as_deref())?;
            let rows = cat.validations(id, &version).map_err(db_err)?;
            let failures = rows.iter().filter(|r| r.result == "failed").count();
            emit(
                &ctx.global,
                &json!({"ok": true, "id": id, "version": version, "failure_count": failures, "validations": rows}),
                || rows.iter().map(|r| format!("{:<30} {}", r.validator, r.result)).collect::<Vec<_>>().join("\n"),
            );
        }
        DbCommand::Files { id, version } => {
            let version = version_or_latest(&cat, id, version.as_deref())?;
            let files = cat.artifacts(id, &version).map_err(db_err)?;
            emit(
                &ctx.global,
                &json!({"ok": true, "id": id, "version": version, "count": files.len(), "files": files}),
                || {
                    files
                        .iter()
                        .map(|f| format!("{:<9} {:>12}  {}", f.kind, f.bytes, f.relpath))
                        .collect::<Vec<_>>()
                        .join("\n")
                },
            );
        }
    }
    Ok(())
}

/// `ontofetch prune`: keeps the newest `keep` versions (by download time) of each ontology.
/// Refuses to run when the store has version directories the catalog does not know:
/// deleting against an unsynchronised catalog is how the original lost data.
pub fn prune(
    ctx: &mut Context,
    keep: u32,
    older_than: Option<&str>,
    ids: &[String],
    dry_run: bool,
) -> Result<(), CliError> {
    if let Some(d) = older_than
        && (d.len() != 10 || humantime::parse_rfc3339(&format!("{d}T00:00:00Z")).is_err())
    {
        return Err(CliError::Usage(format!("--older-than {d:?} is not a YYYY-MM-DD date")));
    }
    let loaded = ctx.load(false)?;
    let mut cat = open(ctx)?;
    let store = Store::new(&ctx.dirs.root);
    let known: std::collections::HashSet<(String, String)> =
        cat.versions(None, u32::MAX).map_err(db_err)?.into_iter().map(|r| (r.ontology, r.version)).collect();
    let unknown: Vec<String> =
        store.version_dirs().into_iter().filter(|k| !known.contains(k)).map(|(i, v)| format!("{i}/{v}")).collect();
    if !unknown.is_empty() {
        return Err(CliError::Failed(
            "E_DB_ORPHAN".into(),
            format!(
                "the catalog does not know {} stored version(s) ({}); run `ontofetch doctor --fix` before pruning",
                unknown.len(),
                unknown.join(", ")
            ),
        ));
    }
    let targets: Vec<String> = if ids.is_empty() {
        let mut all: Vec<String> = known.iter().map(|(i, _)| i.clone()).collect();
        all.sort();
        all.dedup();
        all
    } else {
        ids.to_vec()
    };
    let gates = Gates::new(&loaded.policy, ctx.metrics.as_ref());
    let mut report = Vec::new();
    let (mut total_deleted, mut total_bytes) = (0usize, 0u64);
    for id in &targets {
        let rows = cat.versions(Some(id), u32::MAX).map_err(db_err)?;
        // Newest first by download time: the first --keep always stay; of the rest, only
        // those downloaded before --older-than (when given) go.
        let keep_n = (keep as usize).min(rows.len());
        let (mut retained, mut deleted) = (Vec::new(), Vec::new());
        for (i, r) in rows.into_iter().enumerate() {
            if i < keep_n || older_than.is_some_and(|d| r.downloaded_at.as_str() >= d) {
                retained.push(r);
            } else {
                deleted.push(r);
            }
        }
        let bytes: u64 = deleted.iter().map(|r| r.bytes).sum();
        if !dry_run {
            for r in &deleted {
                cat.remove_version(&r.ontology, &r.version).map_err(db_err)?;
                store
                    .remove_version(&gates, &r.ontology, &r.version)
                    .map_err(|e| CliError::Failed(e.code(), e.to_string()))?;
            }
            if let Some(newest) = retained.first() {
                let _ = store.set_latest(id, &newest.version);
            }
        }
        total_deleted += deleted.len();
        total_bytes += bytes;
        report.push(json!({
            "id": id,
            "deleted": deleted.iter().map(|r| &r.version).collect::<Vec<_>>(),
            "retained": retained.iter().map(|r| &r.version).collect::<Vec<_>>(),
            "reclaimed_bytes": bytes,
        }));
    }
    let doc = json!({"ontologies": report, "total_deleted": total_deleted, "total_reclaimed_bytes": total_bytes, "dry_run": dry_run});
    emit(&ctx.global, &doc, || {
        format!(
            "{}: reclaimed {total_bytes} bytes across {total_deleted} versions",
            if dry_run { "Dry-run" } else { "Pruned" }
        )
    });
    Ok(())
}

/// `ontofetch validate ID [VERSION] [--strict]`: re-runs the validator on the stored
/// original, rewrites the manifest's `validation` atomically and records the result. With
/// `--strict`, a failed version is purged and `latest` goes back to the previous one.
pub fn validate(ctx: &mut Context, id: &str, version: Option<&str>, strict: bool) -> Result<(), CliError> {
    ontofetch_policy::config_gate::check_ontology_id("id", id).map_err(|r| CliError::Usage(r.message))?;
    let loaded = ctx.load(false)?;
    let mut cat = open(ctx)?;
    let row = match version {
        Some(v) => cat.versions(Some(id), u32::MAX).map_err(db_err)?.into_iter().find(|r| r.version == v),
        None => cat.latest(id).map_err(db_err)?,
    }
    .ok_or_else(|| CliError::Usage(format!("{id} {} is not in the catalog", version.unwrap_or("(latest)"))))?;
    let gates = ctx.gates(&loaded);
    let original =
        ctx.dirs.root.join(gates.stored_path(&format!("{}/original/{}", row.relpath, row.filename))?.as_slash_path());
    let manifest_path =
        ctx.dirs.root.join(gates.stored_path(&format!("{}/manifest.json", row.relpath))?.as_slash_path());
    let stem = ontofetch_store::file_stem(&row.filename);
    let normalized_dir = ctx.dirs.root.join(&row.relpath).join("normalized");
    std::fs::create_dir_all(&normalized_dir)
        .map_err(|e| CliError::io(format!("creating {}", normalized_dir.display()), e))?;
    let nt = normalized_dir.join(format!("{stem}.nt"));
    let outcome = crate::validation::run_isolated(
        &original,
        Some(&nt),
        crate::validation::Limits::from_config(&loaded),
        &ctx.metrics,
    );
    let validator = outcome["validator"].as_str().unwrap_or("rdf").to_string();
    let status = outcome["status"].as_str().unwrap_or("failed").to_string();
    // Rewrite the manifest atomically with the new result.
    let mut manifest: Value =
        std::fs::read_to_string(&manifest_path).ok().and_then(|t| serde_json::from_str(&t).ok()).ok_or_else(|| {
            CliError::Failed("E_MANIFEST".into(), format!("{} is missing or not JSON", manifest_path.display()))
        })?;
    let outputs: Vec<String> = if nt.exists() { vec![format!("normalized/{stem}.nt")] } else { vec![] };
    manifest["validation"][&validator] =
        json!({"ok": status == "ok", "status": status, "details": outcome, "output_files": outputs});
    if let Some(h) = outcome["normalized_sha256"].as_str() {
        manifest["normalized_sha256"] = json!(h);
    }
    let text = serde_json::to_string_pretty(&manifest).expect("JSON") + "\n";
    crate::fsutil::write_atomic(&manifest_path, text.as_bytes())
        .map_err(|e| CliError::io(format!("writing {}", manifest_path.display()), e))?;
    let vrow = ontofetch_catalog::ValidationRow {
        validator: validator.clone(),
        result: status.clone(),
        details: outcome.to_string(),
        run_at: crate::pipeline::now_rfc3339(),
    };
    cat.record_validations(id, &row.version, &[vrow]).map_err(db_err)?;
    let mut purged = false;
    if status == "failed" && strict {
        let store = Store::new(&ctx.dirs.root);
        cat.remove_version(id, &row.version).map_err(db_err)?;
        store.remove_version(&gates, id, &row.version).map_err(|e| CliError::Failed(e.code(), e.to_string()))?;
        if let Some(good) = cat.latest(id).map_err(db_err)? {
            let _ = store.set_latest(id, &good.version);
        } else {
            let _ = std::fs::remove_file(store.ontologies().join(id).join("latest"));
        }
        purged = true;
    }
    emit(
        &ctx.global,
        &json!({"id": id, "version": row.version, "validator": validator, "status": status, "purged": purged, "details": outcome}),
        || {
            let msg = outcome["message"].as_str().map(|m| format!(" ({m})")).unwrap_or_default();
            format!(
                "{id} {}: {validator} {status}{msg}{}",
                row.version,
                if purged { "; purged, latest points at the previous good version" } else { "" }
            )
        },
    );
    if status == "failed" {
        return Err(CliError::CheckFailed(format!("{id} {} failed validation", row.version)));
    }
    Ok(())
}
