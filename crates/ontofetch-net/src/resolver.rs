//! DNS through the ip gate: reqwest dials only the addresses this resolver returns, and it
//! returns them only when every answer passed, so there is no window between check and
//! dial for a rebinding answer.

use ontofetch_metrics::Metrics;
use ontofetch_policy::ip::IpFacts;
use ontofetch_policy::{Gates, Policy};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;
use std::sync::Arc;

/// A resolver whose answers have all passed the ip gate.
pub struct GatedResolver {
    policy: Arc<Policy>,
    metrics: Arc<Metrics>,
}

impl GatedResolver {
    /// Binds the resolver to a policy and the registry that counts its decisions.
    pub fn new(policy: Arc<Policy>, metrics: Arc<Metrics>) -> Self {
        GatedResolver { policy, metrics }
    }
}

impl Resolve for GatedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let metrics = self.metrics.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let answers: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let gates = Gates::new(&policy, metrics.as_ref());
            let internal = policy.net.domain_allows_internal(&host);
            if answers.is_empty() {
                gates.resolved(&host, &[], internal)?;
            }
            for addr in &answers {
                gates.ip(&IpFacts { ip: addr.ip(), host: Some(&host), host_allows_internal: internal })?;
            }
            let addrs: Addrs = Box::new(answers.into_iter());
            Ok(addrs)
        })
    }
}
