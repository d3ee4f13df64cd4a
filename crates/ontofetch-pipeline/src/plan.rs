//! `plan`: resolve every spec to a download plan and, when the planner probes, ask the
//! server about the chosen URL (HEAD, GET on 405/403) through the same gates as a
//! download. A gate refusal on the way (a redirect to a private address) fails the plan.

use crate::Pipeline;
use crate::error::PullError;
use ontofetch_config::SpecInput;
use ontofetch_net::{NetError, ProbeInfo};
use ontofetch_resolve::{Plan, ResolveError, plan_to_value};
use serde_json::{Value, json};

/// A spec that planned.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The plan.
    pub plan: Plan,
    /// What the probe learned, or why it could not (not a failure of the plan).
    pub probe: Option<Result<ProbeInfo, PullError>>,
}

/// A spec that did not plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanFailure {
    /// Ontology id.
    pub id: String,
    /// Why.
    pub error: PullError,
}

impl Planned {
    /// The plan as the lockfile and `plan --json` show it (DocsToKG's `plan_to_dict`
    /// fields, probe results added; never a credential).
    pub fn to_json(&self) -> Value {
        let mut v = plan_to_value(&self.plan);
        match &self.probe {
            Some(Ok(info)) => {
                v["content_length"] = json!(info.content_length);
                v["last_modified"] = json!(info.last_modified);
                v["etag"] = json!(info.etag);
                v["probe"] = json!({"method": info.method, "final_url": info.final_url});
            }
            Some(Err(e)) => v["probe"] = json!({"error": e}),
            None => {}
        }
        v
    }
}

impl PlanFailure {
    /// `{id, error: {code, message}}`.
    pub fn to_json(&self) -> Value {
        json!({"id": self.id, "error": self.error})
    }
}

/// Plans one spec.
pub async fn plan_one(p: &Pipeline, spec: &SpecInput) -> Result<Planned, PlanFailure> {
    let s = &p.settings;
    let fail = |error: PullError| PlanFailure { id: spec.id.clone(), error };
    let plan =
        ontofetch_resolve::plan(spec, &p.fetcher, &s.endpoints, &s.secrets, &s.loaded.config.defaults.accept_licenses)
            .await
            .map_err(|e: ResolveError| fail(PullError::from_coded(e)))?;
    if !s.loaded.config.defaults.planner.probing_enabled {
        return Ok(Planned { plan, probe: None });
    }
    match p.fetcher.probe(&plan.url, &plan.service).await {
        Ok(info) => Ok(Planned { plan, probe: Some(Ok(info)) }),
        Err(e @ NetError::Refused(_)) => Err(fail(PullError::from_coded(e))),
        Err(e) => Ok(Planned { plan, probe: Some(Err(PullError::from_coded(e))) }),
    }
}

/// Plans every spec, in order.
pub async fn plan_all(p: &Pipeline, specs: &[SpecInput]) -> Vec<Result<Planned, PlanFailure>> {
    let mut out = Vec::with_capacity(specs.len());
    for s in specs {
        out.push(plan_one(p, s).await);
    }
    out
}
