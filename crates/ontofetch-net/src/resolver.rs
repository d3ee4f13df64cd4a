//! DNS through the ip gate: reqwest dials only the addresses this resolver returns, and it
//! returns them only when every answer passed the ip gate for the connection's port, so
//! there is no window between check and dial for a rebinding answer. Names are looked up
//! with the system resolver, or with configured DNS servers (hickory).

use hickory_resolver::config::{
    ConnectionConfig, LookupIpStrategy, NameServerConfig, ProtocolConfig, ResolveHosts, ResolverConfig,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::{Resolver, TokioResolver};
use ontofetch_metrics::Metrics;
use ontofetch_policy::ip::IpFacts;
use ontofetch_policy::{Gates, Policy};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Where names are looked up.
pub enum Dns {
    /// The system resolver (getaddrinfo).
    System,
    /// These servers, without a cache (every lookup asks again: a TTL-0 answer is honoured).
    Servers(Box<TokioResolver>),
}

impl Dns {
    /// The system resolver when `servers` is empty, else a stub resolver asking them.
    pub fn new(servers: &[SocketAddr]) -> Result<Dns, hickory_resolver::net::NetError> {
        if servers.is_empty() {
            return Ok(Dns::System);
        }
        let name_servers = servers
            .iter()
            .map(|s| {
                let mut udp = ConnectionConfig::new(ProtocolConfig::Udp);
                udp.port = s.port();
                let mut ns = NameServerConfig::udp_and_tcp(s.ip());
                ns.connections = vec![udp];
                ns
            })
            .collect();
        let mut builder = Resolver::builder_with_config(
            ResolverConfig::from_name_servers(name_servers),
            TokioRuntimeProvider::default(),
        );
        let opts = builder.options_mut();
        opts.cache_size = 0;
        opts.use_hosts_file = ResolveHosts::Never;
        opts.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
        opts.attempts = 1;
        Ok(Dns::Servers(Box::new(builder.build()?)))
    }

    /// Every address `host` resolves to.
    pub async fn lookup(&self, host: &str) -> std::io::Result<Vec<IpAddr>> {
        match self {
            Dns::System => Ok(tokio::net::lookup_host((host, 0)).await?.map(|a| a.ip()).collect()),
            Dns::Servers(r) => match r.lookup_ip(host).await {
                Ok(answer) => Ok(answer.iter().collect()),
                Err(e) if e.is_no_records_found() || e.is_nx_domain() => Ok(vec![]),
                Err(e) => Err(std::io::Error::other(e.to_string())),
            },
        }
    }
}

/// A resolver whose answers have all passed the ip gate for one destination port.
pub struct GatedResolver {
    policy: Arc<Policy>,
    metrics: Arc<Metrics>,
    port: u16,
    dns: Arc<Dns>,
}

impl GatedResolver {
    /// Binds the resolver to a policy, the registry that counts its decisions, the port
    /// its connections go to, and where names are looked up.
    pub fn new(policy: Arc<Policy>, metrics: Arc<Metrics>, port: u16, dns: Arc<Dns>) -> Self {
        GatedResolver { policy, metrics, port, dns }
    }
}

impl Resolve for GatedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let (policy, metrics, dns, port) = (self.policy.clone(), self.metrics.clone(), self.dns.clone(), self.port);
        Box::pin(async move {
            let host = name.as_str().to_string();
            let answers = dns.lookup(&host).await?;
            let gates = Gates::new(&policy, metrics.as_ref());
            let internal = policy.net.domain_allows_internal(&host, Some(port));
            if answers.is_empty() {
                gates.resolved(&host, Some(port), &[], internal)?;
            }
            for ip in &answers {
                gates.ip(&IpFacts { ip: *ip, host: Some(&host), port: Some(port), host_allows_internal: internal })?;
            }
            let addrs: Addrs = Box::new(answers.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}
