//! `ontofetch show`, `db …`, `prune` and `validate`: reading and trimming the mirror
//! through its catalog.

use crate::cli::DbCommand;
use crate::context::{Context, runtime};
use crate::error::CliError;
use crate::output::emit;
use crate::render;
use ontofetch_catalog::Catalog;
use ontofetch_pipeline::prune::{PruneRequest, prune as run_prune};
use ontofetch_pipeline::{Backends, Open};
use ontofetch_policy::Code;
use serde_json::json;

fn check_id(id: &str) -> Result<(), CliError> {
    ontofetch_policy::config_gate::check_ontology_id("id", id).map_err(|r| CliError::usage(r.message))
}

async fn open(ctx: &Context) -> Result<Backends, CliError> {
    Ok(Backends::open(ctx.settings()?, Open::Existing).await?)
}

/// The given version, or the latest by download time.
async fn version_or_latest(cat: &dyn Catalog, id: &str, version: Option<&str>) -> Result<String, CliError> {
    match version {
        Some(v) => Ok(v.to_string()),
        None => cat
            .latest(id)
            .await?
            .map(|r| r.version)
            .ok_or_else(|| CliError::usage(format!("{id} has no stored version"))),
    }
}

/// `ontofetch show ID [--versions]`.
pub fn show(ctx: &mut Context, id: &str, versions: bool) -> Result<(), CliError> {
    check_id(id)?;
    runtime()?.block_on(async {
        let b = open(ctx).await?;
        if versions {
            let rows = b.catalog.versions(Some(id), 10_000).await?;
            let names: Vec<&str> = rows.iter().map(|r| r.version.as_str()).collect();
            emit(&ctx.global, &json!({"id": id, "versions": rows}), || names.join("\n"));
            return Ok(());
        }
        let row = b.catalog.latest(id).await?.ok_or_else(|| CliError::usage(format!("{id} has no stored version")))?;
        let manifest = b.manifest(&ctx.gates()?, &row).await?;
        emit(&ctx.global, &manifest, || render::scalars(&manifest));
        Ok(())
    })
}

/// `ontofetch db …`.
pub fn db(ctx: &mut Context, cmd: &DbCommand) -> Result<(), CliError> {
    runtime()?.block_on(async {
        let cat = open(ctx).await?.catalog;
        match cmd {
            DbCommand::Latest { id } => {
                let rows = match id {
                    Some(id) => cat.latest(id).await?.into_iter().collect(),
                    None => cat.latest_all().await?,
                };
                emit(&ctx.global, &json!({"ok": true, "count": rows.len(), "latest": rows}), || render::rows(&rows));
            }
            DbCommand::Versions { id, limit } => {
                let rows = cat.versions(id.as_deref(), *limit).await?;
                emit(&ctx.global, &json!({"ok": true, "count": rows.len(), "versions": rows}), || render::rows(&rows));
            }
            DbCommand::Stats => {
                let s = cat.stats().await?;
                let schema = cat.schema_version().await?;
                emit(
                    &ctx.global,
                    &json!({"ok": true, "schema_version": schema, "catalog": cat.url(), "statistics": s}),
                    || {
                        format!(
                            "ontologies: {}\nversions: {}\nartifacts: {}\nbytes: {}\nschema: {schema}",
                            s.ontologies, s.versions, s.artifacts, s.bytes
                        )
                    },
                );
            }
            DbCommand::Validations { id, version } => {
                let version = version_or_latest(cat.as_ref(), id, version.as_deref()).await?;
                let rows = cat.validations(id, &version).await?;
                let failures = rows.iter().filter(|r| r.result == "failed").count();
                emit(
                    &ctx.global,
                    &json!({"ok": true, "id": id, "version": version, "failure_count": failures, "validations": rows}),
                    || {
                        rows.iter()
                            .map(|r| {
                                let message = serde_json::from_str::<serde_json::Value>(&r.details)
                                    .ok()
                                    .and_then(|d| d["message"].as_str().map(str::to_string))
                                    .map(|m| format!("  {}", crate::render::safe(&m)))
                                    .unwrap_or_default();
                                format!("{:<30} {}{message}", crate::render::safe(&r.validator), r.result)
                            })
                            .collect::<Vec<_>>()
                            .join("\n")
                    },
                );
            }
            DbCommand::Files { id, version } => {
                let version = version_or_latest(cat.as_ref(), id, version.as_deref()).await?;
                let files = cat.artifacts(id, &version).await?;
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
    })
}

/// `ontofetch prune`.
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
        return Err(CliError::usage(format!("--older-than {d:?} is not a YYYY-MM-DD date")));
    }
    let req =
        PruneRequest { keep: keep as usize, older_than: older_than.map(str::to_string), ids: ids.to_vec(), dry_run };
    let report =
        runtime()?.block_on(async { Ok::<_, CliError>(run_prune(&open(ctx).await?, &ctx.gates()?, &req).await?) })?;
    emit(&ctx.global, &serde_json::to_value(&report).expect("reports serialise"), || {
        let busy = if report.busy.is_empty() {
            String::new()
        } else {
            format!("; skipped {} (being pulled by another worker)", report.busy.join(", "))
        };
        let mut out = String::new();
        for o in report.ontologies.iter().filter(|o| !o.deleted.is_empty()) {
            let verb = if dry_run { "would delete" } else { "deleted" };
            out.push_str(&format!(
                "{}: {verb} {}; keeps {}\n",
                crate::render::safe(&o.id),
                crate::render::safe(&o.deleted.join(", ")),
                crate::render::safe(&o.retained.join(", "))
            ));
        }
        let (verb, what) = if dry_run { ("Dry run", "would reclaim") } else { ("Pruned", "reclaimed") };
        out.push_str(&format!(
            "{verb}: {what} {} bytes across {} versions{busy}",
            report.total_reclaimed_bytes, report.total_deleted
        ));
        out
    });
    Ok(())
}

/// `ontofetch validate ID [VERSION] [--strict]`.
pub fn validate(ctx: &mut Context, id: &str, version: Option<&str>, strict: bool) -> Result<(), CliError> {
    check_id(id)?;
    let rt = runtime()?;
    let r = rt.block_on(async {
        let p = ctx.pipeline(false).await?;
        ontofetch_pipeline::revalidate::revalidate(&p, id, version, strict).await.map_err(|e| match e.code {
            Code::NotFound => CliError::usage(e.message),
            _ => e.into(),
        })
    })?;
    emit(&ctx.global, &serde_json::to_value(&r).expect("reports serialise"), || {
        let msg = r.details.message.as_deref().map(|m| format!(" ({m})")).unwrap_or_default();
        let purged = if r.purged { "; purged, latest points at the previous good version" } else { "" };
        format!("{id} {}: {} {}{msg}{purged}", r.version, r.validator, r.status)
    });
    if r.status == "failed" {
        return Err(CliError::check_failed(format!("{id} {} failed validation", r.version)));
    }
    Ok(())
}

/// `ontofetch validate --file PATH [--output-dir DIR]`: a local file through the same
/// worker, limits and report as a pull, nothing stored in the mirror.
pub fn validate_file(
    ctx: &mut Context,
    file: &std::path::Path,
    output_dir: Option<&std::path::Path>,
) -> Result<(), CliError> {
    let settings = ctx.settings()?;
    if !file.is_file() {
        return Err(CliError::usage(format!("--file {}: no such file", file.display())));
    }
    let scratch = tempfile::Builder::new()
        .prefix("ontofetch-validate-")
        .tempdir()
        .map_err(|e| CliError::io("creating a temporary directory", e))?;
    let dir = output_dir.unwrap_or(scratch.path());
    let stem = ontofetch_store::layout::file_stem(
        &file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
    );
    let limits = ontofetch_pipeline::Limits::from_settings(settings);
    let normalize = limits.normalize(dir, &stem, &settings.loaded.config.defaults.normalize_to);
    let runner: std::sync::Arc<dyn ontofetch_pipeline::ValidatorRunner> = std::sync::Arc::new(ctx.worker.clone());
    let mut outcome =
        runtime()?.block_on(ontofetch_pipeline::pull::check(&runner, limits, &ctx.metrics, file, Some(normalize)));
    if output_dir.is_none() {
        // The files went with the temporary directory; the report keeps their hashes.
        for o in &mut outcome.outputs {
            o.path = format!(
                "(not kept) {}",
                std::path::Path::new(&o.path).file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
            );
        }
        outcome.normalized_path = None;
    }
    let doc = serde_json::to_value(&outcome).expect("outcomes serialise");
    emit(&ctx.global, &doc, || render::validation(&file.display().to_string(), &outcome));
    if outcome.status == ontofetch_validate::Status::Failed {
        return Err(CliError::check_failed(format!("{} failed validation", file.display())));
    }
    Ok(())
}
