//! `ontofetch pull`, `plan` and `plan-diff`: flags in, one pipeline call, rendering out.

use crate::cli::{PlanArgs, PullArgs};
use crate::output::emit;
use crate::render;
use ontofetch_app::{AppError, Context, exit_for, lock, publish};
use ontofetch_pipeline::plan::{PlanFailure, Planned, plan_all};
use ontofetch_pipeline::plan_diff;
use serde_json::{Value, json};
use std::path::Path;

/// `ontofetch pull`.
pub fn pull(ctx: &mut Context, args: &PullArgs) -> Result<(), AppError> {
    let mut specs = match &args.lock {
        Some(lock) => lock::specs(lock, &args.plan.ids, &ctx.settings()?.defaults().normalize_to)?,
        None => ctx.specs(&args.plan.ids, args.plan.resolver.as_deref())?,
    };
    if let Some(lock) = args.lock.as_deref().filter(|_| args.locked) {
        lock::require_pins(lock, &specs)?;
    }
    if args.update_lock {
        // What the URLs serve now is taken, and pinned below.
        for s in &mut specs {
            s.extras.remove("checksum");
        }
    }
    let mut p = ctx.block_on(ctx.pipeline(args.force))?;
    p.promote_invalid |= args.promote_invalid;
    // The Pushgateway URL is the command's own input: a gate refuses it before any work
    // (exit 3); once the pull is done, a gateway that does not answer is only a warning.
    if let Some(gw) = &args.pushgateway {
        publish::check_pushgateway(&p, gw)?;
    }
    if args.dry_run {
        let plans = ctx.block_on(plan_all(&p, &specs));
        return print_plans(ctx, &plans);
    }
    let observer = crate::progress::detect();
    let n = p.settings.concurrent_downloads();
    let results = ctx.block_on(publish::with_exporter(
        ctx,
        args.metrics_addr,
        ontofetch_pipeline::imports::pull_with_imports(&p, &specs, observer.as_ref(), n, args.with_imports),
    ))?;
    if let Some(gw) = &args.pushgateway {
        // The pull is done; a Pushgateway that is down is worth a warning, not a failure.
        if let Err(e) = ctx.block_on(publish::push(ctx, &p, gw)) {
            tracing::warn!(code = %e.code, error = %e.message, "metrics not pushed");
        }
    }
    match &args.lock {
        None if !args.plan.no_lock => lock::write_pulled(&args.plan.lock_output, &results)?,
        Some(lock) if !args.locked => lock::fill_pins(lock, &results, args.update_lock)?,
        _ => {}
    }
    let mut doc = serde_json::to_value(&results).unwrap_or_default();
    for (r, v) in results.iter().zip(doc.as_array_mut().into_iter().flatten()) {
        v["exit_code"] = json!(exit_for(r.error.as_ref().map(|e| e.code)));
    }
    emit(&ctx.options, &doc, || render::pull_table(&results));
    ontofetch_app::batch_outcome(&results)
}

fn plan_json(plans: &[Result<Planned, PlanFailure>]) -> Vec<Value> {
    plans.iter().map(|r| r.as_ref().map(Planned::to_json).unwrap_or_else(PlanFailure::to_json)).collect()
}

fn print_plans(ctx: &Context, plans: &[Result<Planned, PlanFailure>]) -> Result<(), AppError> {
    let all = plan_json(plans);
    emit(&ctx.options, &Value::Array(all.clone()), || render::plan_table(&all));
    let failed = plans.iter().filter(|r| r.is_err()).count();
    if failed > 0 {
        // As `pull`: exit 3 when a gate or the licence policy refused one.
        let refused = plans
            .iter()
            .filter(|r| r.as_ref().is_err_and(|f| exit_for(Some(f.error.code)) == ontofetch_app::EXIT_REFUSED))
            .count();
        let mut e = AppError::check_failed(format!("{failed} of {} ontologies could not be planned", plans.len()));
        if refused > 0 {
            e.message.push_str(&format!(" ({refused} refused)"));
            e.refused = true;
        }
        return Err(e);
    }
    Ok(())
}

/// `ontofetch plan`.
pub fn plan(ctx: &mut Context, args: &PlanArgs) -> Result<(), AppError> {
    let specs = ctx.specs(&args.ids, args.resolver.as_deref())?;
    let p = ctx.block_on(ctx.pipeline(false))?;
    let plans = ctx.block_on(plan_all(&p, &specs));
    if !args.no_lock {
        let stored = ctx.block_on(lock::stored_pins(&p)).unwrap_or_default();
        lock::write_planned(&args.lock_output, &plans, &stored)?;
    }
    print_plans(ctx, &plans)
}

/// `ontofetch plan-diff`.
pub fn plan_diff(ctx: &mut Context, args: &PlanArgs, baseline: Option<&Path>, update: bool) -> Result<(), AppError> {
    let path = baseline.map(Path::to_path_buf).unwrap_or_else(|| ctx.dirs.cache.join("plans").join("baseline.json"));
    let base = plan_diff::read_baseline(&path, update)?;
    let specs = ctx.specs(&args.ids, args.resolver.as_deref())?;
    let p = ctx.block_on(ctx.pipeline(false))?;
    let plans = ctx.block_on(plan_all(&p, &specs));
    let current: Vec<Value> = plans.iter().filter_map(|r| r.as_ref().ok().map(Planned::to_json)).collect();
    let diff = plan_diff::diff(&base, &current);
    if update {
        plan_diff::write_baseline(&path, &current)?;
    }
    let mut doc = serde_json::to_value(&diff).unwrap_or_default();
    doc["baseline"] = json!(path);
    doc["baseline_updated"] = json!(update);
    emit(&ctx.options, &doc, || render::plan_diff_text(&diff, update.then_some(path.as_path())));
    Ok(())
}
