//! `ontofetch show`, `db …`, `prune` and `validate`: reading and trimming the mirror
//! through its catalog.

use crate::cli::DbCommand;
use crate::output::emit;
use crate::render::{self, safe};
use ontofetch_app::AppError;
use ontofetch_app::Context;
use ontofetch_app::mirror::{check_id, open, version_or_latest};
use ontofetch_pipeline::prune::{PruneRequest, prune as run_prune};
use ontofetch_policy::Code;
use serde_json::json;

/// A version that is not there is the command's bad input (exit 2).
fn usage_if_missing(e: AppError) -> AppError {
    if e.code == Code::NotFound { AppError::usage(e.message) } else { e }
}

/// `ontofetch show ID [--versions]`.
pub fn show(ctx: &mut Context, id: &str, versions: bool) -> Result<(), AppError> {
    check_id(id)?;
    ctx.block_on(async {
        if versions {
            let b = open(ctx).await?;
            let id = &ontofetch_app::mirror::stored_id(ctx, &b, id).await.map_err(usage_if_missing)?;
            let rows = b.catalog.versions(Some(id), 10_000).await?;
            let latest = b.catalog.latest(id).await?.map(|r| (r.ontology, r.version)).into_iter().collect();
            let listed = render::marked_rows(&rows, &latest);
            let latest_version = latest.iter().next().map(|(_, v)| v.clone());
            emit(&ctx.options, &json!({"id": id, "latest": latest_version, "versions": listed}), || {
                render::rows(&rows, &latest)
            });
            return Ok(());
        }
        let manifest = ontofetch_app::mirror::latest_manifest(ctx, id).await.map_err(usage_if_missing)?;
        emit(&ctx.options, &manifest, || render::manifest(&manifest));
        Ok(())
    })
}

/// `ontofetch db …`.
pub fn db(ctx: &mut Context, cmd: &DbCommand) -> Result<(), AppError> {
    ctx.block_on(async {
        let cat = open(ctx).await?.catalog;
        match cmd {
            DbCommand::Latest { id } => {
                let rows: Vec<_> = match id {
                    Some(id) => cat.latest(id).await?.into_iter().collect(),
                    None => cat.latest_all().await?,
                };
                let all = rows.iter().map(|r| (r.ontology.clone(), r.version.clone())).collect();
                emit(&ctx.options, &json!({"ok": true, "count": rows.len(), "latest": rows}), || {
                    render::rows(&rows, &all)
                });
            }
            DbCommand::Versions { id, limit } => {
                let rows = cat.versions(id.as_deref(), *limit).await?;
                let latest = match id {
                    Some(id) => cat.latest(id).await?.into_iter().collect::<Vec<_>>(),
                    None => cat.latest_all().await?,
                };
                let latest = latest.into_iter().map(|r| (r.ontology, r.version)).collect();
                let listed = render::marked_rows(&rows, &latest);
                emit(&ctx.options, &json!({"ok": true, "count": rows.len(), "versions": listed}), || {
                    render::rows(&rows, &latest)
                });
            }
            DbCommand::Stats => {
                let s = cat.stats().await?;
                let schema = cat.schema_version().await?;
                emit(
                    &ctx.options,
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
                let version =
                    version_or_latest(cat.as_ref(), id, version.as_deref()).await.map_err(usage_if_missing)?;
                let rows = cat.validations(id, &version).await?;
                let failures = rows.iter().filter(|r| r.result == ontofetch_catalog::ValidationResult::Failed).count();
                emit(
                    &ctx.options,
                    &json!({"ok": true, "id": id, "version": version, "failure_count": failures, "validations": rows}),
                    || {
                        rows.iter()
                            .map(|r| {
                                let message = serde_json::from_str::<serde_json::Value>(&r.details)
                                    .ok()
                                    .and_then(|d| d["message"].as_str().map(str::to_string))
                                    .map(|m| format!("  {}", crate::render::safe(&m)))
                                    .unwrap_or_default();
                                format!("{:<30} {}{message}", crate::render::safe(&r.validator), r.result.as_str())
                            })
                            .collect::<Vec<_>>()
                            .join("\n")
                    },
                );
            }
            DbCommand::Files { id, version } => {
                let version =
                    version_or_latest(cat.as_ref(), id, version.as_deref()).await.map_err(usage_if_missing)?;
                let files = cat.artifacts(id, &version).await?;
                emit(
                    &ctx.options,
                    &json!({"ok": true, "id": id, "version": version, "count": files.len(), "files": files}),
                    || {
                        files
                            .iter()
                            .map(|f| format!("{:<9} {:>12}  {}", f.kind.as_str(), f.bytes, f.relpath))
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
) -> Result<(), AppError> {
    if let Some(d) = older_than
        && (d.len() != 10 || humantime::parse_rfc3339(&format!("{d}T00:00:00Z")).is_err())
    {
        return Err(AppError::usage(format!("--older-than {d:?} is not a YYYY-MM-DD date")));
    }
    let req =
        PruneRequest { keep: keep as usize, older_than: older_than.map(str::to_string), ids: ids.to_vec(), dry_run };
    let report = ctx.block_on(async { Ok::<_, AppError>(run_prune(&open(ctx).await?, &ctx.gates()?, &req).await?) })?;
    emit(&ctx.options, &report, || {
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
pub fn validate(ctx: &mut Context, id: &str, version: Option<&str>, strict: bool) -> Result<(), AppError> {
    check_id(id)?;
    let r = ctx.block_on(async {
        let p = ctx.pipeline(false).await?;
        ontofetch_pipeline::revalidate::revalidate(&p, id, version, strict).await.map_err(|e| match e.code {
            Code::NotFound => AppError::usage(e.message),
            _ => e.into(),
        })
    })?;
    emit(&ctx.options, &r, || {
        let msg = r.details.message.as_deref().map(|m| format!(" ({m})")).unwrap_or_default();
        let purged = match (r.purged, r.latest.as_deref()) {
            (false, _) => String::new(),
            (true, Some(latest)) => format!("; purged, latest points at the previous good version, {}", safe(latest)),
            (true, None) => format!("; purged, and no version of {id} is latest now (none other validated)"),
        };
        format!("{id} {}: {} {}{msg}{purged}", r.version, r.validator, r.status)
    });
    if r.status == ontofetch_validate::Status::Failed {
        return Err(AppError::check_failed(format!("{id} {} failed validation", r.version)));
    }
    Ok(())
}

/// `ontofetch validate --file PATH [--output-dir DIR]`: a local file through the same
/// worker, limits and report as a pull, nothing stored in the mirror.
pub fn validate_file(
    ctx: &mut Context,
    file: &std::path::Path,
    output_dir: Option<&std::path::Path>,
) -> Result<(), AppError> {
    let outcome = ontofetch_app::validate::file(ctx, file, output_dir)?;
    emit(&ctx.options, &outcome, || render::validation(&file.display().to_string(), &outcome));
    ontofetch_app::validate::failed(&outcome, file)
}
