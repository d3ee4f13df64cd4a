//! `ontofetch pull`, `plan` and `plan-diff`: flags in, one use case, its report out.

use crate::cli::{PlanArgs, PullArgs};
use crate::output::emit;
use ontofetch_app::pull::PullRequest;
use ontofetch_app::{AppError, Context};
use std::path::Path;

/// `ontofetch pull`.
pub fn pull(ctx: &mut Context, args: &PullArgs) -> Result<(), AppError> {
    let req = PullRequest {
        ids: args.plan.ids.clone(),
        resolver: args.plan.resolver.clone(),
        lock: args.lock.clone(),
        locked: args.locked,
        update_lock: args.update_lock,
        write_lock: (!args.plan.no_lock).then(|| args.plan.lock_output.clone()),
        force: args.force,
        promote_invalid: args.promote_invalid,
        with_imports: args.with_imports,
        pushgateway: args.pushgateway.clone(),
        metrics_addr: args.metrics_addr,
    };
    if args.dry_run {
        let specs = ontofetch_app::pull::specs(ctx, &req)?;
        let report = ctx.block_on(ontofetch_app::plan::plan(ctx, &specs, None))?;
        emit(&ctx.options, &report);
        return report.outcome();
    }
    let observer = crate::progress::detect();
    let report = ctx.block_on(ontofetch_app::pull::pull(ctx, &req, observer.as_ref()))?;
    emit(&ctx.options, &report);
    report.outcome()
}

/// `ontofetch plan`.
pub fn plan(ctx: &mut Context, args: &PlanArgs) -> Result<(), AppError> {
    let specs = ctx.specs(&args.ids, args.resolver.as_deref())?;
    let write_lock = (!args.no_lock).then_some(args.lock_output.as_path());
    let report = ctx.block_on(ontofetch_app::plan::plan(ctx, &specs, write_lock))?;
    emit(&ctx.options, &report);
    report.outcome()
}

/// `ontofetch plan-diff`.
pub fn plan_diff(ctx: &mut Context, args: &PlanArgs, baseline: Option<&Path>, update: bool) -> Result<(), AppError> {
    let specs = ctx.specs(&args.ids, args.resolver.as_deref())?;
    let report = ctx.block_on(ontofetch_app::plan::plan_diff(ctx, &specs, baseline, update))?;
    emit(&ctx.options, &report);
    Ok(())
}
