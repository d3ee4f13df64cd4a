//! `ontofetch show`, `db …`, `diff`, `prune` and `validate`: reading and trimming the
//! mirror, each one use case of the application layer.

use crate::cli::DbCommand;
use crate::output::emit;
use ontofetch_app::{AppError, Context, inspect};
use ontofetch_pipeline::prune::PruneRequest;

/// `ontofetch show ID [--versions]`.
pub fn show(ctx: &mut Context, id: &str, versions: bool) -> Result<(), AppError> {
    if versions {
        emit(&ctx.options, &ctx.block_on(inspect::history(ctx, id))?);
    } else {
        emit(&ctx.options, &ctx.block_on(inspect::show(ctx, id))?);
    }
    Ok(())
}

/// `ontofetch db …`.
pub fn db(ctx: &mut Context, cmd: &DbCommand) -> Result<(), AppError> {
    let o = &ctx.options;
    match cmd {
        DbCommand::Latest { id } => emit(o, &ctx.block_on(inspect::latest(ctx, id.as_deref()))?),
        DbCommand::Versions { id, limit } => emit(o, &ctx.block_on(inspect::versions(ctx, id.as_deref(), *limit))?),
        DbCommand::Stats => emit(o, &ctx.block_on(inspect::stats(ctx))?),
        DbCommand::Validations { id, version } => {
            emit(o, &ctx.block_on(inspect::validations(ctx, id, version.as_deref()))?)
        }
        DbCommand::Files { id, version } => emit(o, &ctx.block_on(inspect::files(ctx, id, version.as_deref()))?),
    }
    Ok(())
}

/// `ontofetch diff ID [OLD] [NEW]`.
pub fn diff(ctx: &mut Context, id: &str, old: Option<&str>, new: Option<&str>, limit: usize) -> Result<(), AppError> {
    emit(&ctx.options, &ctx.block_on(inspect::diff(ctx, id, old, new, limit))?);
    Ok(())
}

/// `ontofetch prune`.
pub fn prune(
    ctx: &mut Context,
    keep: u32,
    older_than: Option<&str>,
    ids: &[String],
    dry_run: bool,
) -> Result<(), AppError> {
    let req =
        PruneRequest { keep: keep as usize, older_than: older_than.map(str::to_string), ids: ids.to_vec(), dry_run };
    emit(&ctx.options, &ctx.block_on(inspect::prune(ctx, &req))?);
    Ok(())
}

/// `ontofetch validate ID [VERSION] [--strict]`.
pub fn validate(ctx: &mut Context, id: &str, version: Option<&str>, strict: bool) -> Result<(), AppError> {
    let report = ctx.block_on(inspect::revalidate(ctx, id, version, strict))?;
    emit(&ctx.options, &report);
    report.outcome()
}

/// `ontofetch validate --file PATH [--output-dir DIR]`: a local file through the same
/// worker, limits and report as a pull, nothing stored in the mirror.
pub fn validate_file(
    ctx: &mut Context,
    file: &std::path::Path,
    output_dir: Option<&std::path::Path>,
) -> Result<(), AppError> {
    let report = ontofetch_app::validate::file(ctx, file, output_dir)?;
    emit(&ctx.options, &report);
    report.outcome()
}
