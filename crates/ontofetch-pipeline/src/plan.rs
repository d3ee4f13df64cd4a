//! `plan`: resolve every spec to a download plan and, when the planner probes, ask the
//! server about the chosen URL (HEAD, GET on 405/403) through the same gates as a
//! download. A gate refusal on the way (a redirect to a private address) fails the plan.

use crate::Pipeline;
use crate::error::PipelineError;
use ontofetch_config::SpecInput;
use ontofetch_net::{NetError, ProbeInfo};
use ontofetch_resolve::{Plan, plan_to_value};
use serde_json::{Value, json};

/// A spec that planned.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The plan.
    pub plan: Plan,
    /// What the probe learned, or why it could not (not a failure of the plan).
    pub probe: Option<Result<ProbeInfo, PipelineError>>,
}

/// A spec that did not plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanFailure {
    /// Ontology id.
    pub id: String,
    /// Why.
    pub error: PipelineError,
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

/// A probe answer that settles it: the URL is gone (404, 410) or the credential is wrong
/// (401). A refused HEAD/GET (403, 405 twice) or a server error says nothing about the file.
fn conclusive(e: &NetError) -> bool {
    matches!(e, NetError::Status { status: 401 | 404 | 410, .. })
}

/// Plans one spec. With probing, a chosen URL whose probe fails conclusively sends the
/// planner on to the next resolver of the chain, as a pull would; when none is left the
/// plan fails naming every resolver tried and why.
pub async fn plan_one(p: &Pipeline, spec: &SpecInput) -> Result<Planned, PlanFailure> {
    let fail = |error: PipelineError| PlanFailure { id: spec.id.clone(), error };
    let mut chain = crate::chain::ResolverChain::new(p, spec);
    while let Some(plan) = chain.next().await {
        if !p.settings.defaults().planner.probing_enabled {
            return Ok(Planned { plan, probe: None });
        }
        match p.fetcher.probe(&plan.url, &plan.service, plan.credential.as_ref()).await {
            Ok(info) => return Ok(Planned { plan, probe: Some(Ok(info)) }),
            Err(e @ NetError::Refused(_)) => return Err(fail(PipelineError::from_coded(e))),
            Err(e) if conclusive(&e) => {
                let code = ontofetch_policy::Coded::code(&e);
                chain.reject(&plan, PipelineError::new(code, format!("{} did not answer the probe: {e}", plan.url)));
            }
            Err(e) => return Ok(Planned { plan, probe: Some(Err(PipelineError::from_coded(e))) }),
        }
    }
    let tried: Vec<String> = chain.failures().iter().map(|(r, e)| format!("{r}: {}", e.message)).collect();
    Err(fail(PipelineError::new(chain.code(), format!("no resolver planned {} (tried {})", spec.id, tried.join("; ")))))
}

/// Plans every spec, in order.
pub async fn plan_all(p: &Pipeline, specs: &[SpecInput]) -> Vec<Result<Planned, PlanFailure>> {
    use futures_util::StreamExt;
    let n = p.settings.defaults().http.concurrent_plans.max(1) as usize;
    futures_util::stream::iter(specs).map(|s| plan_one(p, s)).buffered(n).collect().await
}
