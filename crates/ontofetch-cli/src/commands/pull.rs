//! `ontofetch pull`, `plan` and `plan-diff`.

use crate::cli::{PlanArgs, PullArgs};
use crate::context::Context;
use crate::error::CliError;
use crate::output::emit;
use crate::pipeline::{Pipeline, PullResult, catalog_path, net_config, now_rfc3339, secrets, spec_inputs};
use crate::progress::Progress;
use futures_util::StreamExt;
use ontofetch_catalog::Catalog;
use ontofetch_config::Overrides;
use ontofetch_net::Fetcher;
use ontofetch_resolve::{Endpoints, SpecInput, lockfile, plan_to_value};
use ontofetch_store::Store;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The async runtime commands run on (two workers: this is a 2-core tool).
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::io("starting the async runtime", e))
}

fn overrides(args: &PlanArgs, concurrent: Option<u32>) -> Overrides {
    Overrides {
        target_formats: (!args.target_formats.is_empty()).then(|| args.target_formats.clone()),
        concurrent_downloads: concurrent,
        ..Overrides::default()
    }
}

/// Builds the pipeline: directories, catalog, HTTP client.
pub(crate) fn pipeline(
    ctx: &mut Context,
    args: &PlanArgs,
    concurrent: Option<u32>,
    force: bool,
) -> Result<Pipeline, CliError> {
    let loaded = ctx.load_with(false, overrides(args, concurrent))?;
    if let Some(r) = &args.resolver
        && !ontofetch_config::load::RESOLVERS.contains(&r.as_str())
    {
        return Err(CliError::Usage(format!(
            "--resolver {r:?} is not one of {}",
            ontofetch_config::load::RESOLVERS.join(", ")
        )));
    }
    let dirs = ctx.dirs.clone();
    for d in [&dirs.root, &dirs.ontologies, &dirs.cache] {
        std::fs::create_dir_all(d).map_err(|e| CliError::io(format!("creating {}", d.display()), e))?;
    }
    let catalog = Catalog::open(&catalog_path(&dirs)).map_err(|e| CliError::Failed(e.code().into(), e.to_string()))?;
    let fetcher = Fetcher::new(Arc::new(loaded.policy.clone()), ctx.metrics.clone(), net_config(&loaded))
        .map_err(|e| CliError::Failed(e.code(), e.to_string()))?;
    let env = |k: &str| std::env::var(k).ok();
    Ok(Pipeline {
        store: Store::new(&dirs.root),
        catalog: Mutex::new(catalog),
        fetcher,
        metrics: ctx.metrics.clone(),
        endpoints: Endpoints::from_env(&env),
        secrets: secrets(&dirs),
        force,
        loaded,
        dirs,
    })
}

fn specs(p: &Pipeline, args: &PlanArgs) -> Result<Vec<SpecInput>, CliError> {
    let specs = spec_inputs(&p.loaded, &args.ids, args.resolver.as_deref()).map_err(CliError::Usage)?;
    if specs.is_empty() {
        return Err(CliError::Usage("no ontologies to process: give ids or a --spec with ontologies".into()));
    }
    Ok(specs)
}

fn table(results: &[PullResult]) -> String {
    let mut out = format!(
        "{:<14} {:<10} {:<8} {:<28} {:>12}  {:<14} {}\n",
        "id", "resolver", "status", "version", "bytes", "sha256", "file / error"
    );
    for r in results {
        let tail = match &r.error {
            Some(e) => format!("{}: {}", e["code"].as_str().unwrap_or(""), e["message"].as_str().unwrap_or("")),
            None => r.path.clone().unwrap_or_default(),
        };
        out.push_str(&format!(
            "{:<14} {:<10} {:<8} {:<28} {:>12}  {:<14} {}\n",
            r.id,
            r.resolver.clone().unwrap_or_default(),
            r.status,
            r.version.clone().unwrap_or_default(),
            r.content_length.map(|b| b.to_string()).unwrap_or_default(),
            r.sha256.as_deref().map(|s| &s[..12.min(s.len())]).unwrap_or(""),
            tail
        ));
        for n in &r.notes {
            out.push_str(&format!("{:<14} note: {n}\n", ""));
        }
    }
    out
}

/// `ontofetch pull`.
pub fn pull(ctx: &mut Context, args: &PullArgs) -> Result<(), CliError> {
    let p = pipeline(ctx, &args.plan, args.concurrent_downloads, args.force)?;
    let specs = match &args.lock {
        Some(lock) => {
            let mut s = lockfile::read(lock).map_err(|e| CliError::Usage(e.to_string()))?;
            if !args.plan.ids.is_empty() {
                for id in &args.plan.ids {
                    if !s.iter().any(|x| &x.id == id) {
                        return Err(CliError::Usage(format!("{id} is not in the lockfile {}", lock.display())));
                    }
                }
                s.retain(|x| args.plan.ids.contains(&x.id));
            }
            s
        }
        None => specs(&p, &args.plan)?,
    };
    let rt = runtime()?;
    if args.dry_run {
        let plans = rt.block_on(plan_all(&p, &specs));
        return print_plans(ctx, &plans);
    }
    let progress = Progress::detect();
    let n = p.loaded.config.defaults.http.concurrent_downloads.max(1) as usize;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let exporter = match args.metrics_addr {
        Some(addr) => {
            let listener = rt
                .block_on(tokio::net::TcpListener::bind(addr))
                .map_err(|e| CliError::io(format!("listening on {addr}"), e))?;
            let state = Arc::new(crate::serve::ServerState {
                metrics: ctx.metrics.clone(),
                dirs: ctx.dirs.clone(),
                auth: None,
            });
            Some(rt.spawn(crate::serve::serve(listener, state, None, async move {
                let _ = stop_rx.await;
            })))
        }
        None => None,
    };
    let results = rt.block_on(pull_all(&p, &specs, &progress, n));
    let _ = stop_tx.send(());
    if let Some(handle) = exporter {
        let _ = rt.block_on(handle);
    }
    if let Some(gw) = &args.pushgateway {
        let url = format!("{}/metrics/job/ontofetch", gw.trim_end_matches('/'));
        let body = ctx.metrics.encode_prometheus()?;
        rt.block_on(p.fetcher.put_text(&url, "pushgateway", "text/plain; version=0.0.4", body))
            .map_err(|e| CliError::Failed(e.code(), format!("pushing metrics: {e}")))?;
    }
    if args.lock.is_none() && !args.plan.no_lock {
        let mut entries: Vec<Value> = results.iter().filter_map(|r| r.plan.clone()).collect();
        let digests: BTreeMap<String, String> =
            results.iter().filter_map(|r| Some((r.id.clone(), r.sha256.clone()?))).collect();
        lockfile::pin(&mut entries, &digests);
        lockfile::write(&args.plan.lock_output, &entries, &now_rfc3339())
            .map_err(|e| CliError::Failed("E_IO".into(), e.to_string()))?;
    }
    emit(&ctx.global, &serde_json::to_value(&results).expect("results serialise"), || table(&results));
    let failed = results.iter().filter(|r| r.is_failure()).count();
    if failed > 0 {
        return Err(CliError::CheckFailed(format!("{failed} of {} ontologies failed", results.len())));
    }
    Ok(())
}

/// Pulls specs with at most `n` at once; results in spec order.
pub(crate) async fn pull_all(p: &Pipeline, specs: &[SpecInput], progress: &Progress, n: usize) -> Vec<PullResult> {
    let mut results: Vec<(usize, PullResult)> = futures_util::stream::iter(specs.iter().enumerate())
        .map(|(i, s)| async move { (i, p.pull(s, progress).await) })
        .buffer_unordered(n)
        .collect()
        .await;
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

async fn plan_all(p: &Pipeline, specs: &[SpecInput]) -> Vec<Result<Value, Value>> {
    let mut out = Vec::new();
    for s in specs {
        out.push(match p.plan(s).await {
            Ok(plan) if p.loaded.config.defaults.planner.probing_enabled => {
                // The planner probe (HEAD, GET on 405/403) fills in size and dates; a gate
                // refusal on the way (e.g. a redirect to a private address) fails the plan.
                let mut v = plan_to_value(&plan);
                match p.fetcher.probe(&plan.url, &plan.service).await {
                    Ok(info) => {
                        v["content_length"] = json!(info.content_length);
                        v["last_modified"] = json!(info.last_modified);
                        v["etag"] = json!(info.etag);
                        v["probe"] = json!({"method": info.method, "final_url": info.final_url});
                        Ok(v)
                    }
                    Err(e @ ontofetch_net::NetError::Refused(_)) => {
                        Err(json!({"id": s.id, "error": {"code": e.code(), "message": e.to_string()}}))
                    }
                    Err(e) => {
                        v["probe"] = json!({"error": {"code": e.code(), "message": e.to_string()}});
                        Ok(v)
                    }
                }
            }
            Ok(plan) => Ok(plan_to_value(&plan)),
            Err(e) => Err(json!({"id": s.id, "error": {"code": e.code(), "message": e.to_string()}})),
        });
    }
    out
}

fn print_plans(ctx: &Context, plans: &[Result<Value, Value>]) -> Result<(), CliError> {
    let all: Vec<Value> = plans.iter().map(|r| r.clone().unwrap_or_else(|e| e)).collect();
    emit(&ctx.global, &Value::Array(all.clone()), || {
        let mut out =
            format!("{:<14} {:<10} {:<10} {:<24} {}\n", "id", "resolver", "service", "version", "url / error");
        for v in &all {
            let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let tail = if v.get("error").is_some() {
                v["error"]["message"].as_str().unwrap_or("").to_string()
            } else {
                s("url")
            };
            out.push_str(&format!(
                "{:<14} {:<10} {:<10} {:<24} {tail}\n",
                s("id"),
                s("resolver"),
                s("service"),
                s("version")
            ));
        }
        out
    });
    let failed = plans.iter().filter(|r| r.is_err()).count();
    if failed > 0 {
        return Err(CliError::CheckFailed(format!("{failed} of {} ontologies could not be planned", plans.len())));
    }
    Ok(())
}

/// `ontofetch plan`.
pub fn plan(ctx: &mut Context, args: &PlanArgs) -> Result<(), CliError> {
    let p = pipeline(ctx, args, None, false)?;
    let specs = specs(&p, args)?;
    let plans = runtime()?.block_on(plan_all(&p, &specs));
    if !args.no_lock {
        let entries: Vec<Value> = plans.iter().filter_map(|r| r.as_ref().ok().cloned()).collect();
        lockfile::write(&args.lock_output, &entries, &now_rfc3339())
            .map_err(|e| CliError::Failed("E_IO".into(), e.to_string()))?;
    }
    print_plans(ctx, &plans)
}

const DIFF_FIELDS: &[&str] = &["url", "version", "license", "media_type", "service"];

/// Diffs two plan lists keyed by id (sorted output, so it is stable).
pub fn diff(baseline: &[Value], current: &[Value]) -> Value {
    let index = |v: &[Value]| -> BTreeMap<String, Value> {
        v.iter().filter_map(|e| Some((e.get("id")?.as_str()?.to_string(), e.clone()))).collect()
    };
    let (old, new) = (index(baseline), index(current));
    let added: Vec<&Value> = new.iter().filter(|(k, _)| !old.contains_key(*k)).map(|(_, v)| v).collect();
    let removed: Vec<&Value> = old.iter().filter(|(k, _)| !new.contains_key(*k)).map(|(_, v)| v).collect();
    let mut modified = Vec::new();
    for (id, n) in &new {
        if let Some(o) = old.get(id) {
            let changes: serde_json::Map<String, Value> = DIFF_FIELDS
                .iter()
                .filter(|f| o.get(**f) != n.get(**f))
                .map(|f| (f.to_string(), json!({"before": o.get(*f), "after": n.get(*f)})))
                .collect();
            if !changes.is_empty() {
                modified.push(json!({"id": id, "changes": changes}));
            }
        }
    }
    json!({"added": added, "removed": removed, "modified": modified})
}

/// `ontofetch plan-diff`.
pub fn plan_diff(ctx: &mut Context, args: &PlanArgs, baseline: Option<&Path>, update: bool) -> Result<(), CliError> {
    let p = pipeline(ctx, args, None, false)?;
    let path = baseline.map(Path::to_path_buf).unwrap_or_else(|| p.dirs.cache.join("plans").join("baseline.json"));
    let base: Vec<Value> = match std::fs::read_to_string(&path) {
        Ok(t) => serde_json::from_str::<Value>(&t)
            .ok()
            .and_then(|v| v.as_array().cloned())
            .ok_or_else(|| CliError::Usage(format!("baseline {} must be a JSON array of plans", path.display())))?,
        Err(_) if update => vec![],
        Err(e) => {
            return Err(CliError::Usage(format!(
                "no baseline at {} ({e}); run with --update-baseline to create it",
                path.display()
            )));
        }
    };
    let specs = specs(&p, args)?;
    let plans = runtime()?.block_on(plan_all(&p, &specs));
    let current: Vec<Value> = plans.iter().filter_map(|r| r.as_ref().ok().cloned()).collect();
    let mut doc = diff(&base, &current);
    doc["baseline"] = json!(path);
    doc["baseline_updated"] = json!(update);
    if update {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| CliError::io(format!("creating {}", parent.display()), e))?;
        }
        let text = serde_json::to_string_pretty(&current).expect("JSON");
        crate::fsutil::write_atomic(&path, text.as_bytes())
            .map_err(|e| CliError::io(format!("writing {}", path.display()), e))?;
    }
    emit(&ctx.global, &doc, || {
        let mut out = String::new();
        for a in doc["added"].as_array().into_iter().flatten() {
            out.push_str(&format!(
                "+ {} version={} url={}\n",
                a["id"].as_str().unwrap_or(""),
                a["version"],
                a["url"].as_str().unwrap_or("")
            ));
        }
        for r in doc["removed"].as_array().into_iter().flatten() {
            out.push_str(&format!("- {}\n", r["id"].as_str().unwrap_or("")));
        }
        for m in doc["modified"].as_array().into_iter().flatten() {
            let changes: Vec<String> = m["changes"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, c)| format!("{k}: {} -> {}", c["before"], c["after"]))
                .collect();
            out.push_str(&format!("~ {} {}\n", m["id"].as_str().unwrap_or(""), changes.join(", ")));
        }
        if out.is_empty() {
            out.push_str("No plan differences detected\n");
        }
        if update {
            out.push_str(&format!("Updated baseline at {}\n", path.display()));
        }
        out
    });
    Ok(())
}
