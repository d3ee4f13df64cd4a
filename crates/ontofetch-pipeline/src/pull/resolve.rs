//! Step 1, resolve: ask the resolver chain for a download plan. Resolvers that were tried
//! and failed on the way are returned as failures, so the pull can report them.

use crate::Pipeline;
use crate::error::PipelineError;
use ontofetch_config::SpecInput;
use ontofetch_policy::Code;
use ontofetch_resolve::{Attempt, Plan, ResolveError};

/// A resolver's failure as the pull reports it.
pub(super) type Failure = (String, PipelineError);

fn failure(a: &Attempt) -> Option<Failure> {
    (a.status == ontofetch_resolve::AttemptStatus::Failed).then(|| {
        let code = a.code.unwrap_or(Code::Resolve);
        (a.resolver.clone(), PipelineError::new(code, a.error.clone().unwrap_or_default()))
    })
}

/// Plans `spec`: the plan and the resolvers that failed before it, or every failure.
pub(super) async fn plan(p: &Pipeline, spec: &SpecInput) -> Result<(Plan, Vec<Failure>), Vec<Failure>> {
    let s = &p.settings;
    match ontofetch_resolve::plan(spec, &p.fetcher, &s.endpoints, &s.secrets, &p.license_policy()).await {
        Ok(plan) => {
            let skipped = plan.resolver_attempts.iter().filter_map(failure).collect();
            Ok((plan, skipped))
        }
        Err(ResolveError::Exhausted { attempts, .. }) => Err(attempts.iter().filter_map(failure).collect()),
    }
}
