//! `ontofetch pull`, `plan` and `plan-diff`: flags in, one pipeline call, rendering out.

use crate::cli::{PlanArgs, PullArgs};
use crate::context::{Context, runtime};
use crate::error::{CliError, exit_for};
use crate::output::emit;
use crate::render;
use ontofetch_config::SpecInput;
use ontofetch_pipeline::plan::{PlanFailure, Planned, plan_all};
use ontofetch_pipeline::{Pipeline, PullResult, now_rfc3339, plan_diff, pull};
use ontofetch_resolve::lockfile;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

fn specs(ctx: &Context, args: &PlanArgs) -> Result<Vec<SpecInput>, CliError> {
    if let Some(r) = &args.resolver
        && !ontofetch_config::load::RESOLVERS.contains(&r.as_str())
    {
        return Err(CliError::usage(format!(
            "--resolver {r:?} is not one of {}",
            ontofetch_config::load::RESOLVERS.join(", ")
        )));
    }
    let specs =
        ctx.settings()?.spec_inputs(&args.ids, args.resolver.as_deref()).map_err(|e| CliError::usage(e.to_string()))?;
    if specs.is_empty() {
        return Err(CliError::usage("no ontologies to process: give ids or a --spec with ontologies"));
    }
    Ok(specs)
}

/// The lockfile's entries as specs; only the ids asked for, all of which must be in it.
fn locked_specs(lock: &Path, ids: &[String]) -> Result<Vec<SpecInput>, CliError> {
    let mut s = lockfile::read(lock).map_err(|e| CliError::usage(e.to_string()))?;
    if let Some(id) = ids.iter().find(|id| !s.iter().any(|x| &&x.id == id)) {
        return Err(CliError::usage(format!("{id} is not in the lockfile {}", lock.display())));
    }
    if !ids.is_empty() {
        s.retain(|x| ids.contains(&x.id));
    }
    Ok(s)
}

/// Serves `/metrics` on `addr` while `work` runs.
async fn with_exporter<T>(
    ctx: &Context,
    addr: Option<std::net::SocketAddr>,
    work: impl Future<Output = T>,
) -> Result<T, CliError> {
    let Some(addr) = addr else { return Ok(work.await) };
    let listener =
        tokio::net::TcpListener::bind(addr).await.map_err(|e| CliError::io(format!("listening on {addr}"), e))?;
    let state = Arc::new(ontofetch_server::ServerState::new(ctx.metrics.clone(), ctx.settings()?.clone(), None));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(ontofetch_server::serve(listener, state, None, Default::default(), async move {
        let _ = stop_rx.await;
    }));
    let out = work.await;
    let _ = stop_tx.send(());
    let _ = server.await;
    Ok(out)
}

/// Replaces the lockfile with this run's plans, pinned to what was stored. A lockfile is a
/// team's record, so it is only ever replaced by a complete one: an ontology that failed
/// keeps the entry it had, and a run where nothing succeeded leaves the file untouched
/// (a typo, a registry outage: docs/architecture.md, "Invariants").
fn write_lock(path: &Path, results: &[PullResult]) -> Result<(), CliError> {
    let good: Vec<&PullResult> = results.iter().filter(|r| !r.is_failure() && r.plan.is_some()).collect();
    let mut entries: Vec<Value> =
        good.iter().filter_map(|r| r.plan.as_ref().map(ontofetch_resolve::plan_to_value)).collect();
    let digests: BTreeMap<String, String> =
        good.iter().filter_map(|r| Some((r.id.clone(), r.sha256.clone()?))).collect();
    lockfile::pin(&mut entries, &digests);
    let failed: Vec<&str> = results.iter().filter(|r| r.is_failure()).map(|r| r.id.as_str()).collect();
    merge_lock(path, entries, &failed)
}

/// Writes `entries` plus the previous lockfile's entries for `failed` ids; writes nothing
/// when there is nothing new.
fn merge_lock(path: &Path, mut entries: Vec<Value>, failed: &[&str]) -> Result<(), CliError> {
    if entries.is_empty() {
        if !failed.is_empty() {
            tracing::warn!(lockfile = %path.display(), "nothing succeeded; the lockfile is left as it was");
        }
        return Ok(());
    }
    if let Ok(previous) = lockfile::read_entries(path) {
        let kept =
            previous.into_iter().filter(|e| e.get("id").and_then(Value::as_str).is_some_and(|id| failed.contains(&id)));
        entries.extend(kept);
    }
    Ok(lockfile::write(path, &entries, &now_rfc3339())?)
}

/// `ontofetch pull`.
pub fn pull(ctx: &mut Context, args: &PullArgs) -> Result<(), CliError> {
    let specs = match &args.lock {
        Some(lock) => locked_specs(lock, &args.plan.ids)?,
        None => specs(ctx, &args.plan)?,
    };
    let rt = runtime()?;
    let mut p = rt.block_on(ctx.pipeline(args.force))?;
    p.promote_invalid |= args.promote_invalid;
    // The Pushgateway URL is the command's own input: a gate refuses it before any work
    // (exit 3); once the pull is done, a gateway that does not answer is only a warning.
    if let Some(gw) = &args.pushgateway {
        p.fetcher.check_url(&pushgateway_url(gw)).map_err(|e| {
            let mut err = CliError::from(ontofetch_pipeline::PullError::from_coded(e).context("--pushgateway"));
            err.refused = true;
            err
        })?;
    }
    if args.dry_run {
        let plans = rt.block_on(plan_all(&p, &specs));
        return print_plans(ctx, &plans);
    }
    let observer = crate::progress::detect();
    let n = p.settings.loaded.config.defaults.http.concurrent_downloads.max(1) as usize;
    let results =
        rt.block_on(with_exporter(ctx, args.metrics_addr, pull::pull_all(&p, &specs, observer.as_ref(), n)))?;
    if let Some(gw) = &args.pushgateway {
        // The pull is done; a Pushgateway that is down is worth a warning, not a failure.
        if let Err(e) = push_metrics(ctx, &rt, &p, gw) {
            tracing::warn!(code = %e.code, error = %e.message, "metrics not pushed");
        }
    }
    if args.lock.is_none() && !args.plan.no_lock {
        write_lock(&args.plan.lock_output, &results)?;
    }
    let mut doc = serde_json::to_value(&results).expect("results serialise");
    for (r, v) in results.iter().zip(doc.as_array_mut().into_iter().flatten()) {
        v["exit_code"] = json!(exit_for(r.error.as_ref().map(|e| e.code)));
    }
    emit(&ctx.global, &doc, || render::pull_table(&results));
    batch_outcome(&results)
}

/// One ontology failing fails the run: exit 3 when any was refused by a gate, else 1.
fn batch_outcome(results: &[PullResult]) -> Result<(), CliError> {
    let failed = results.iter().filter(|r| r.is_failure()).count();
    if failed == 0 {
        return Ok(());
    }
    let refused =
        results.iter().filter(|r| exit_for(r.error.as_ref().map(|e| e.code)) == crate::error::EXIT_REFUSED).count();
    let mut e = CliError::check_failed(format!("{failed} of {} ontologies failed", results.len()));
    if refused > 0 {
        e.message.push_str(&format!(" ({refused} refused by a gate)"));
        e.refused = true;
    }
    Err(e)
}

/// Where a batch's metrics are pushed (job "ontofetch").
fn pushgateway_url(gateway: &str) -> String {
    format!("{}/metrics/job/ontofetch", gateway.trim_end_matches('/'))
}

fn push_metrics(ctx: &Context, rt: &tokio::runtime::Runtime, p: &Pipeline, gateway: &str) -> Result<(), CliError> {
    let url = pushgateway_url(gateway);
    let body = ctx.metrics.encode_prometheus()?;
    rt.block_on(p.fetcher.put_text(&url, "pushgateway", "text/plain; version=0.0.4", body))
        .map_err(|e| CliError::from(ontofetch_pipeline::PullError::from_coded(e).context("pushing metrics")))?;
    Ok(())
}

fn plan_json(plans: &[Result<Planned, PlanFailure>]) -> Vec<Value> {
    plans.iter().map(|r| r.as_ref().map(Planned::to_json).unwrap_or_else(PlanFailure::to_json)).collect()
}

fn print_plans(ctx: &Context, plans: &[Result<Planned, PlanFailure>]) -> Result<(), CliError> {
    let all = plan_json(plans);
    emit(&ctx.global, &Value::Array(all.clone()), || render::plan_table(&all));
    let failed = plans.iter().filter(|r| r.is_err()).count();
    if failed > 0 {
        return Err(CliError::check_failed(format!("{failed} of {} ontologies could not be planned", plans.len())));
    }
    Ok(())
}

/// `ontofetch plan`.
pub fn plan(ctx: &mut Context, args: &PlanArgs) -> Result<(), CliError> {
    let specs = specs(ctx, args)?;
    let rt = runtime()?;
    let p = rt.block_on(ctx.pipeline(false))?;
    let plans = rt.block_on(plan_all(&p, &specs));
    if !args.no_lock {
        let entries: Vec<Value> = plans.iter().filter_map(|r| r.as_ref().ok().map(Planned::to_json)).collect();
        let failed: Vec<&str> = plans.iter().filter_map(|r| r.as_ref().err().map(|f| f.id.as_str())).collect();
        merge_lock(&args.lock_output, entries, &failed)?;
    }
    print_plans(ctx, &plans)
}

/// `ontofetch plan-diff`.
pub fn plan_diff(ctx: &mut Context, args: &PlanArgs, baseline: Option<&Path>, update: bool) -> Result<(), CliError> {
    let path = baseline.map(Path::to_path_buf).unwrap_or_else(|| ctx.dirs.cache.join("plans").join("baseline.json"));
    let base = plan_diff::read_baseline(&path, update)?;
    let specs = specs(ctx, args)?;
    let rt = runtime()?;
    let p = rt.block_on(ctx.pipeline(false))?;
    let plans = rt.block_on(plan_all(&p, &specs));
    let current: Vec<Value> = plans.iter().filter_map(|r| r.as_ref().ok().map(Planned::to_json)).collect();
    let diff = plan_diff::diff(&base, &current);
    if update {
        plan_diff::write_baseline(&path, &current)?;
    }
    let mut doc = serde_json::to_value(&diff).expect("diffs serialise");
    doc["baseline"] = json!(path);
    doc["baseline_updated"] = json!(update);
    emit(&ctx.global, &doc, || render::plan_diff_text(&diff, update.then_some(path.as_path())));
    Ok(())
}
