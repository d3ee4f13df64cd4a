//! `plan` and `plan-diff`, for every front end: each spec resolved (and probed) through the
//! gates, the lockfile written from the plans when asked; the report is each plan or why
//! there is none, in the lockfile's own fields.

use crate::context::Context;
use crate::error::{AppError, batch_failure};
use crate::lock;
use crate::report::{Report, safe};
use ontofetch_config::SpecInput;
use ontofetch_pipeline::PipelineError;
use ontofetch_pipeline::plan::{PlanFailure, Planned, plan_all};
use ontofetch_pipeline::plan_diff::{self, PlanDiff};
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One spec's plan, or why it has none.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum PlanEntry {
    /// The plan, as the lockfile records it (DocsToKG's `plan_to_dict` fields and what the
    /// probe learned; never a credential).
    Planned(Value),
    /// Why there is no plan.
    Failed {
        /// Ontology id.
        id: String,
        /// The failure.
        error: PipelineError,
    },
}

impl From<&Result<Planned, PlanFailure>> for PlanEntry {
    fn from(r: &Result<Planned, PlanFailure>) -> Self {
        match r {
            Ok(p) => PlanEntry::Planned(p.to_json()),
            Err(f) => PlanEntry::Failed { id: f.id.clone(), error: f.error.clone() },
        }
    }
}

/// Every spec's plan, in order.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct PlanReport {
    /// Each entry.
    pub entries: Vec<PlanEntry>,
}

impl PlanReport {
    /// The plans that succeeded, as the lockfile records them.
    pub fn planned(&self) -> Vec<Value> {
        self.entries
            .iter()
            .filter_map(|e| match e {
                PlanEntry::Planned(v) => Some(v.clone()),
                PlanEntry::Failed { .. } => None,
            })
            .collect()
    }

    /// As `pull`: a failure when any spec did not plan, exit 3 when a gate or the licence
    /// policy refused one.
    pub fn outcome(&self) -> Result<(), AppError> {
        let failed: Vec<_> = self
            .entries
            .iter()
            .filter_map(|e| match e {
                PlanEntry::Failed { error, .. } => Some(error.code),
                PlanEntry::Planned(_) => None,
            })
            .collect();
        batch_failure(self.entries.len(), &failed, "could not be planned", "refused")
    }
}

impl Report for PlanReport {
    fn human(&self) -> String {
        let mut out =
            format!("{:<14} {:<10} {:<10} {:<24} {}\n", "id", "resolver", "service", "version", "url / error");
        for e in &self.entries {
            let (v, tail) = match e {
                PlanEntry::Planned(v) => (v, safe(v.get("url").and_then(Value::as_str).unwrap_or(""))),
                PlanEntry::Failed { id, error } => {
                    let line = format!("{:<14} {:<10} {:<10} {:<24} ", safe(id), "", "", "");
                    out.push_str(&format!("{line}{}: {}\n", error.code, safe(&error.message)));
                    continue;
                }
            };
            let s = |k: &str| safe(v.get(k).and_then(Value::as_str).unwrap_or(""));
            out.push_str(&format!(
                "{:<14} {:<10} {:<10} {:<24} {tail}\n",
                s("id"),
                s("resolver"),
                s("service"),
                s("version")
            ));
        }
        out
    }
}

/// Plans `specs`; writes the lockfile to `write_lock` when given (pins of what is stored
/// kept).
pub async fn plan(ctx: &Context, specs: &[SpecInput], write_lock: Option<&Path>) -> Result<PlanReport, AppError> {
    let p = ctx.pipeline(false).await?;
    let plans = plan_all(&p, specs).await;
    if let Some(path) = write_lock {
        let stored = lock::stored_pins(&p).await.unwrap_or_default();
        lock::write_planned(path, &plans, &stored)?;
    }
    Ok(PlanReport { entries: plans.iter().map(PlanEntry::from).collect() })
}

/// What changed in the plans since a baseline.
#[derive(Debug, Clone, Serialize)]
pub struct PlanDiffReport {
    /// The differences.
    #[serde(flatten)]
    pub diff: PlanDiff,
    /// The baseline compared with.
    pub baseline: PathBuf,
    /// Whether the baseline now holds the current plans.
    pub baseline_updated: bool,
}

impl Report for PlanDiffReport {
    /// `+ id …`, `- id`, `~ id field: a -> b`.
    fn human(&self) -> String {
        let d = &self.diff;
        let mut out = String::new();
        for a in &d.added {
            out.push_str(&format!(
                "+ {} version={} url={}\n",
                safe(a["id"].as_str().unwrap_or("")),
                safe(&a["version"].to_string()),
                safe(a["url"].as_str().unwrap_or(""))
            ));
        }
        for r in &d.removed {
            out.push_str(&format!("- {}\n", safe(r["id"].as_str().unwrap_or(""))));
        }
        for m in &d.modified {
            let changes: Vec<String> = m["changes"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, c)| format!("{k}: {} -> {}", safe(&c["before"].to_string()), safe(&c["after"].to_string())))
                .collect();
            out.push_str(&format!("~ {} {}\n", safe(m["id"].as_str().unwrap_or("")), changes.join(", ")));
        }
        if out.is_empty() {
            out.push_str("No plan differences detected\n");
        }
        if self.baseline_updated {
            out.push_str(&format!("Updated baseline at {}\n", self.baseline.display()));
        }
        out
    }
}

/// Plans `specs` and compares them with the baseline (default `<cache>/plans/baseline.json`),
/// replacing it with the current plans when `update`.
pub async fn plan_diff(
    ctx: &Context,
    specs: &[SpecInput],
    baseline: Option<&Path>,
    update: bool,
) -> Result<PlanDiffReport, AppError> {
    let path = baseline.map(Path::to_path_buf).unwrap_or_else(|| ctx.dirs.cache.join("plans").join("baseline.json"));
    let base = plan_diff::read_baseline(&path, update)?;
    let current = plan(ctx, specs, None).await?.planned();
    let diff = plan_diff::diff(&base, &current);
    if update {
        plan_diff::write_baseline(&path, &current)?;
    }
    Ok(PlanDiffReport { diff, baseline: path, baseline_updated: update })
}
