//! Lockfiles as both front ends write and read them: a pull or a plan replaces the
//! lockfile only with a complete one (a run over some ids merges its entries into it: every
//! other entry, and the entry of an ontology that failed, stays as it was; a run where
//! nothing succeeded leaves the file as it was), and a pull from a lockfile takes only the
//! ids asked for, each of which must be in it. Once a version is stored, its entry pins its
//! SHA-256: `pull --lock FILE` fills a missing pin into FILE, and a pinned entry refuses
//! other bytes unless the lock is being updated (docs/architecture.md, "Invariants", I4).

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
    lockfile::pin(&mut entries, &digests(results));
    let previous = lockfile::read_entries(path).unwrap_or_default();
    merge(path, entries, previous, results.iter().any(PullResult::is_failure))
}

/// What each ontology that was stored (or found stored) holds: `id` → SHA-256.
fn digests(results: &[PullResult]) -> BTreeMap<String, String> {
    results.iter().filter(|r| !r.is_failure()).filter_map(|r| Some((r.id.clone(), r.sha256.clone()?))).collect()
}

/// After `pull --lock FILE`: pins FILE's entries that had none to what was stored (with
/// `update`, every entry that was pulled gets what was stored now). Nothing else in FILE
/// changes; nothing is written when no pin is new.
pub fn fill_pins(path: &Path, results: &[PullResult], update: bool) -> Result<(), AppError> {
    let digests = digests(results);
    let mut entries = lockfile::read_entries(path).map_err(|e| AppError::usage(e.to_string()))?;
    let mut changed = false;
    for e in &mut entries {
        let Some(sha) = e.get("id").and_then(Value::as_str).and_then(|id| digests.get(id)) else { continue };
        let pinned = e.get("expected_checksum").and_then(|c| c.get("value")).and_then(Value::as_str);
        if pinned == Some(sha.as_str()) || (pinned.is_some() && !update) {
            continue;
        }
        let one = BTreeMap::from([(e["id"].as_str().unwrap_or_default().to_string(), sha.clone())]);
        lockfile::pin(std::slice::from_mut(e), &one);
        changed = true;
    }
    if !changed {
        return Ok(());
    }
    Ok(lockfile::write(path, &entries, &now_rfc3339())?)
}

/// Under `--locked`: every entry asked for must carry a pin (the lockfile will not be
/// written, so an unpinned download could not be recorded in it).
pub fn require_pins(path: &Path, specs: &[SpecInput]) -> Result<(), AppError> {
    let unpinned: Vec<&str> =
        specs.iter().filter(|s| !s.extras.contains_key("checksum")).map(|s| s.id.as_str()).collect();
    if unpinned.is_empty() {
        return Ok(());
    }
    Err(AppError::usage(format!(
        "{} has no pinned sha256 for {}; --locked never writes the lockfile: run `ontofetch pull --lock {}` once to \
         pin what is stored",
        path.display(),
        unpinned.join(", "),
        path.display()
    )))
}

/// What the catalog holds as each ontology's `latest`: id → (the plan URL it came from, its
/// SHA-256), the pins a plan may write without downloading.
pub async fn stored_pins(p: &ontofetch_pipeline::Pipeline) -> Result<BTreeMap<String, (String, String)>, AppError> {
    let rows = p.backends.catalog.latest_all().await.map_err(ontofetch_pipeline::PipelineError::from)?;
    Ok(rows.into_iter().map(|r| (r.ontology, (r.url, r.sha256))).collect())
}

/// Records a plan. A plan downloads nothing, so it pins only what is already known: the
/// previous entry's pin when the URL is the same, else the stored `latest` of that URL
/// (`stored`: id → (url, sha256)), so a later `pull --lock` refuses changed bytes.
pub fn write_planned(
    path: &Path,
    plans: &[Result<Planned, PlanFailure>],
    stored: &BTreeMap<String, (String, String)>,
) -> Result<(), AppError> {
    let mut entries: Vec<Value> = plans.iter().filter_map(|r| r.as_ref().ok().map(Planned::to_json)).collect();
    let previous = lockfile::read_entries(path).unwrap_or_default();
    for e in &mut entries {
        let (id, url) = (e["id"].as_str().unwrap_or_default().to_string(), e["url"].clone());
        let kept = previous
            .iter()
            .find(|p| p["id"] == id.as_str() && p["url"] == url)
            .and_then(|p| p.get("expected_checksum").filter(|c| !c.is_null()).cloned());
        if let Some(pin) = kept {
            e["expected_checksum"] = pin;
        } else if let Some((_, sha)) = stored.get(&id).filter(|(u, _)| url == u.as_str()) {
            lockfile::pin(std::slice::from_mut(e), &BTreeMap::from([(id.clone(), sha.clone())]));
        }
    }
    merge(path, entries, previous, plans.iter().any(Result::is_err))
}

/// Writes `entries` merged into `previous` (the lockfile's entries): an entry of this run
/// replaces the previous entry of its id, every other previous entry is kept as it was (a
/// run over some ids never drops the others, and one that failed keeps its old entry).
/// Writes nothing when there is nothing new (and says so when something `failed`).
fn merge(path: &Path, entries: Vec<Value>, previous: Vec<Value>, failed: bool) -> Result<(), AppError> {
    if entries.is_empty() {
        if failed {
            tracing::warn!(lockfile = %path.display(), "nothing succeeded; the lockfile is left as it was");
        }
        return Ok(());
    }
    // In the previous file's order; ids new to it follow.
    let mut merged = previous;
    for e in entries {
        match merged.iter_mut().find(|p| p.get("id").is_some_and(|id| Some(id) == e.get("id"))) {
            Some(slot) => *slot = e,
            None => merged.push(e),
        }
    }
    Ok(lockfile::write(path, &merged, &now_rfc3339())?)
}
