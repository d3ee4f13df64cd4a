//! Walking a spec's resolver chain, once for every caller: the planner offers the first
//! plan the rest of the chain yields; a caller that finds the plan wanting (a download that
//! fails, a probe that says the file is gone) rejects it and the walk goes on past that
//! resolver. Every failure on the way is kept in order, the primary resolver's first: its
//! code is the one reported (docs/architecture.md, "A pull", step 1).

use crate::Pipeline;
use crate::error::PipelineError;
use ontofetch_config::SpecInput;
use ontofetch_policy::Code;
use ontofetch_resolve::{Attempt, AttemptStatus, Plan, ResolveError};

/// A walk along one spec's resolver chain.
pub struct ResolverChain<'a> {
    p: &'a Pipeline,
    spec: &'a SpecInput,
    start: usize,
    failures: Vec<(String, PipelineError)>,
}

fn failure(a: &Attempt) -> Option<(String, PipelineError)> {
    (a.status == AttemptStatus::Failed).then(|| {
        let code = a.code.unwrap_or(Code::Resolve);
        (a.resolver.clone(), PipelineError::new(code, a.error.clone().unwrap_or_default()))
    })
}

impl<'a> ResolverChain<'a> {
    /// The walk from the spec's first resolver.
    pub fn new(p: &'a Pipeline, spec: &'a SpecInput) -> Self {
        ResolverChain { p, spec, start: 0, failures: Vec::new() }
    }

    /// The next plan the rest of the chain yields (resolvers that failed on the way are
    /// recorded), or `None` when the chain is exhausted.
    pub async fn next(&mut self) -> Option<Plan> {
        if self.start >= self.spec.chain.len() {
            return None;
        }
        let rest = SpecInput { chain: self.spec.chain[self.start..].to_vec(), ..self.spec.clone() };
        let s = &self.p.settings;
        match ontofetch_resolve::plan(
            &rest,
            &self.p.fetcher,
            &s.endpoints,
            &s.secrets,
            &self.p.license_policy(),
            &|| self.p.registry(),
        )
        .await
        {
            Ok(plan) => {
                self.failures.extend(plan.resolver_attempts.iter().filter_map(failure));
                Some(plan)
            }
            Err(ResolveError::Exhausted { attempts, .. }) => {
                self.failures.extend(attempts.iter().filter_map(failure));
                self.start = self.spec.chain.len();
                None
            }
        }
    }

    /// Records that `plan` failed for the caller and moves past its resolver.
    pub fn reject(&mut self, plan: &Plan, error: PipelineError) {
        let at = self.spec.chain[self.start..].iter().position(|r| r == &plan.resolver).unwrap_or(0);
        self.start += at + 1;
        self.failures.push((plan.resolver.clone(), error));
    }

    /// Every failure so far, the primary resolver's first.
    pub fn failures(&self) -> &[(String, PipelineError)] {
        &self.failures
    }

    /// The code to report: the primary resolver's failure's.
    pub fn code(&self) -> Code {
        self.failures.first().map_or(Code::Resolve, |(_, e)| e.code)
    }
}
