//! Lockfiles as both front ends write and read them: a pull or a plan replaces the
//! lockfile only with a complete one (an ontology that failed keeps its previous entry; a
//! run where nothing succeeded leaves the file as it was), and a pull from a lockfile takes
//! only the ids asked for, each of which must be in it (docs/architecture.md, "Invariants").

use crate::error::AppError;
use ontofetch_config::SpecInput;
use ontofetch_pipeline::plan::{PlanFailure, Planned};
use ontofetch_pipeline::{PullResult, now_rfc3339};
use ontofetch_resolve::lockfile;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// The lockfile's entries as specs; only `ids` (all of them when empty), each of which
/// must be in it. An entry that names no `normalize_to` gets `default_normalize` (the
/// configuration's `defaults.normalize_to`).
pub fn specs(lock: &Path, ids: &[String], default_normalize: &[String]) -> Result<Vec<SpecInput>, AppError> {
    let mut s = lockfile::read(lock, default_normalize).map_err(|e| AppError::usage(e.to_string()))?;
    if let Some(id) = ids.iter().find(|id| !s.iter().any(|x| &&x.id == id)) {
        return Err(AppError::usage(format!("{id} is not in the lockfile {}", lock.display())));
    }
    if !ids.is_empty() {
        s.retain(|x| ids.contains(&x.id));
    }
    Ok(s)
}

/// Records a pull: its plans pinned to what was stored.
pub fn write_pulled(path: &Path, results: &[PullResult]) -> Result<(), AppError> {
    let good: Vec<&PullResult> = results.iter().filter(|r| !r.is_failure() && r.plan.is_some()).collect();
    let mut entries: Vec<Value> =
        good.iter().filter_map(|r| r.plan.as_ref().map(ontofetch_resolve::plan_to_value)).collect();
    let digests: BTreeMap<String, String> =
        good.iter().filter_map(|r| Some((r.id.clone(), r.sha256.clone()?))).collect();
    lockfile::pin(&mut entries, &digests);
    let failed: Vec<&str> = results.iter().filter(|r| r.is_failure()).map(|r| r.id.as_str()).collect();
    merge(path, entries, &failed)
}

/// Records a plan (no download: nothing to pin).
pub fn write_planned(path: &Path, plans: &[Result<Planned, PlanFailure>]) -> Result<(), AppError> {
    let entries: Vec<Value> = plans.iter().filter_map(|r| r.as_ref().ok().map(Planned::to_json)).collect();
    let failed: Vec<&str> = plans.iter().filter_map(|r| r.as_ref().err().map(|f| f.id.as_str())).collect();
    merge(path, entries, &failed)
}

/// Writes `entries` plus the previous lockfile's entries for `failed` ids; writes nothing
/// when there is nothing new.
fn merge(path: &Path, mut entries: Vec<Value>, failed: &[&str]) -> Result<(), AppError> {
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
