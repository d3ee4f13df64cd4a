//! The HTTP client every network call goes through (docs/architecture.md, "A pull"): one
//! reqwest client per destination port, each dialling only addresses its resolver passed
//! through the ip gate for that port; redirects followed by our code; no proxy from the
//! environment. Downloads are in [`crate::download`], small requests in [`crate::small`].

use crate::error::NetError;
use crate::resolver::{Dns, GatedResolver};
use ontofetch_metrics::{HttpLabels, Metrics};
use ontofetch_policy::{Gates, Policy, PolicyError};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

/// Client settings (from `defaults.http`).
#[derive(Clone)]
pub struct NetConfig {
    /// Attempts per download (at least 1).
    pub max_attempts: u32,
    /// Idle read timeout.
    pub read_timeout: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Deadline for one whole attempt.
    pub attempt_deadline: Duration,
    /// Backoff base (doubles per attempt).
    pub backoff_base: Duration,
    /// Cap on a server's Retry-After.
    pub max_retry_after: Duration,
    /// Byte cap per download.
    pub max_bytes: u64,
    /// Headers sent with every request (User-Agent…).
    pub headers: Vec<(String, String)>,
    /// Requests per second by service, and for the rest.
    pub limits: crate::limit::RateLimits,
    /// DNS servers to ask instead of the system resolver (air-gapped networks, tests);
    /// empty means the system's.
    pub nameservers: Vec<std::net::SocketAddr>,
    /// Offer HTTP/2 by ALPN (`http2_enabled`); off = HTTP/1.1 only.
    pub http2: bool,
    /// Idle connections kept per host (`max_keepalive_connections`).
    pub idle_per_host: usize,
    /// How long an idle connection is kept (`keepalive_expiry_sec`).
    pub idle_timeout: Duration,
    /// Size cap of a checksum file (`max_checksum_response_bytes`).
    pub max_checksum_bytes: u64,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            max_attempts: 5,
            read_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            attempt_deadline: Duration::from_secs(300),
            backoff_base: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(120),
            max_bytes: 10 << 30,
            headers: vec![("User-Agent".into(), format!("ontofetch/{}", env!("CARGO_PKG_VERSION")))],
            limits: crate::limit::RateLimits::default(),
            nameservers: Vec::new(),
            http2: true,
            idle_per_host: 32,
            idle_timeout: Duration::from_secs(30),
            max_checksum_bytes: 256 * 1024,
        }
    }
}

/// Validators from the previous download, for a conditional GET.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// `ETag`.
    pub etag: Option<String>,
    /// `Last-Modified`.
    pub last_modified: Option<String>,
}

/// A credential sent only to one host and port (never across a redirect to another).
#[derive(Debug, Clone)]
pub struct HostCredential {
    /// The only host that receives it.
    pub host: String,
    /// And only on this port, when set.
    pub port: Option<u16>,
    /// Header name (e.g. `Authorization`).
    pub header: String,
    /// Header value.
    pub value: String,
}

/// One download.
#[derive(Clone)]
pub struct Download<'a> {
    /// The URL (gated again here).
    pub url: &'a str,
    /// Service label for metrics and rate limits.
    pub service: &'a str,
    /// Final path; bytes stream into `<dest>.part` first.
    pub dest: &'a Path,
    /// Conditional GET validators.
    pub conditional: Option<Validators>,
    /// Expected lowercase hex SHA-256.
    pub expected_sha256: Option<String>,
    /// A credential for the API host.
    pub credential: Option<HostCredential>,
    /// Called with (bytes so far, total if known) as the body streams.
    pub progress: Option<&'a (dyn Fn(u64, Option<u64>) + Send + Sync)>,
    /// Asked, before the body is read, whether the announced number of bytes may be
    /// written (the storage gate's free-space check): a refusal stops the download before
    /// its first byte lands.
    pub admit: Option<&'a (dyn Fn(u64) -> Result<(), PolicyError> + Send + Sync)>,
}

/// What a download produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// New bytes at `dest` (boxed: the facts are large beside a 304's).
    Downloaded(Box<DownloadInfo>),
    /// The server said 304: what we have is current.
    NotModified {
        /// Where the chain ended.
        final_url: String,
    },
}

/// Facts about downloaded bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadInfo {
    /// Where the redirect chain ended.
    pub final_url: String,
    /// Lowercase hex SHA-256 of the whole file.
    pub sha256: String,
    /// Bytes in the file.
    pub bytes: u64,
    /// Response `Content-Type`.
    pub content_type: Option<String>,
    /// Response `Content-Disposition` (untrusted: a file name from it goes through the
    /// filesystem gate before it names anything).
    pub content_disposition: Option<String>,
    /// Response `ETag`.
    pub etag: Option<String>,
    /// Response `Last-Modified`.
    pub last_modified: Option<String>,
    /// Attempts used.
    pub attempts: u32,
    /// Whether a partial download was resumed.
    pub resumed: bool,
    /// The URLs the redirect gate let the request through, in order (the plan's first;
    /// empty when there was no redirect).
    pub redirects: Vec<String>,
    /// The address the body came from (the one the ip gate admitted and the client dialed).
    pub remote_addr: Option<String>,
    /// SHA-256 of the TLS peer's leaf certificate (DER), over HTTPS.
    pub peer_certificate_sha256: Option<String>,
}

/// What a planning probe learned.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProbeInfo {
    /// Where the redirect chain ended.
    pub final_url: String,
    /// `HEAD`, or `GET` after a 405/403 to HEAD.
    pub method: &'static str,
    /// Announced size.
    pub content_length: Option<u64>,
    /// Announced type.
    pub content_type: Option<String>,
    /// ETag.
    pub etag: Option<String>,
    /// Last-Modified.
    pub last_modified: Option<String>,
}

/// The HTTP client every network call goes through.
pub struct Fetcher {
    /// One client per (port, TLS or not): see [`Fetcher::client`].
    clients: Mutex<HashMap<(u16, bool), reqwest::Client>>,
    /// The TLS configuration of `https` clients, built at the first `https` request:
    /// reading the system's roots is most of a plain-`http` pull's fixed cost.
    tls: std::sync::OnceLock<Result<rustls::ClientConfig, Arc<rustls::Error>>>,
    pub(crate) policy: Arc<Policy>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) config: NetConfig,
    dns: Arc<Dns>,
}

pub(crate) fn code_class(status: u16) -> &'static str {
    match status {
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

pub(crate) fn header(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

pub(crate) fn retry_after(resp: &reqwest::Response, cap: Duration) -> Option<Duration> {
    let v = header(resp, "retry-after")?;
    let d = match v.trim().parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            httpdate::parse_http_date(v.trim()).ok()?.duration_since(std::time::SystemTime::now()).unwrap_or_default()
        }
    };
    Some(d.min(cap))
}

impl HostCredential {
    pub(crate) fn applies_to(&self, url: &Url) -> bool {
        url.host_str() == Some(self.host.as_str()) && self.port.is_none_or(|p| url.port_or_known_default() == Some(p))
    }
}

/// One TLS configuration for every `https` client: rustls with ring and the platform
/// verifier (the system's roots, parsed once per process rather than once per client),
/// HTTP/2 or HTTP/1.1 by ALPN.
fn tls_config(http2: bool) -> Result<rustls::ClientConfig, rustls::Error> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_platform_verifier()?
        .with_no_client_auth();
    config.alpn_protocols = if http2 { vec![b"h2".to_vec(), b"http/1.1".to_vec()] } else { vec![b"http/1.1".to_vec()] };
    Ok(config)
}

/// The TLS configuration of a plain-`http` client, which never makes a TLS connection (a
/// URL picks its client by scheme, redirects included): it trusts no root, so if it ever
/// did, verification would fail rather than pass.
fn no_tls_config() -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth())
}

impl Fetcher {
    /// Builds the fetcher: no redirects (we follow them), no proxy from the environment,
    /// DNS only through the ip gate, rustls (ring) with the platform verifier.
    pub fn new(policy: Arc<Policy>, metrics: Arc<Metrics>, config: NetConfig) -> Result<Self, NetError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dns = Arc::new(Dns::new(&config.nameservers).map_err(|e| NetError::Setup {
            what: format!("the DNS servers {:?}", config.nameservers),
            source: Arc::new(e),
        })?);
        let tls = std::sync::OnceLock::new();
        Ok(Fetcher { clients: Mutex::new(HashMap::new()), tls, policy, metrics, config, dns })
    }

    /// The `https` clients' TLS configuration (built once, at the first call).
    fn tls(&self) -> Result<rustls::ClientConfig, NetError> {
        let built = self.tls.get_or_init(|| tls_config(self.config.http2).map_err(Arc::new));
        built.clone().map_err(|e| NetError::Setup { what: "TLS with the platform's roots".into(), source: e })
    }

    fn build_client(&self, port: u16, https: bool) -> Result<reqwest::Client, NetError> {
        let mut headers = HeaderMap::new();
        for (k, v) in &self.config.headers {
            if let (Ok(k), Ok(v)) = (HeaderName::try_from(k.as_str()), HeaderValue::try_from(v.as_str())) {
                headers.insert(k, v);
            }
        }
        let resolver = GatedResolver::new(self.policy.clone(), self.metrics.clone(), port, self.dns.clone());
        let tls = if https {
            self.tls()?
        } else {
            no_tls_config()
                .map_err(|e| NetError::Network { url: String::new(), message: format!("cannot configure TLS: {e}") })?
        };
        let builder = reqwest::Client::builder();
        let builder = if self.config.http2 { builder } else { builder.http1_only() };
        builder
            .tls_backend_preconfigured(tls)
            .tls_info(https)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(resolver))
            .connect_timeout(self.config.connect_timeout)
            .read_timeout(self.config.read_timeout)
            .pool_max_idle_per_host(self.config.idle_per_host)
            .pool_idle_timeout(self.config.idle_timeout)
            .default_headers(headers)
            .build()
            .map_err(|e| NetError::Network {
                url: String::new(),
                message: format!("cannot build the HTTP client: {e}"),
            })
    }

    /// The client for connections to `port`: its resolver gates every answer for that
    /// port, so an allowlist entry bound to another port never lets an address through.
    /// `https` clients verify against the system's roots; plain ones never read them.
    pub(crate) fn client(&self, port: u16, https: bool) -> Result<reqwest::Client, NetError> {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = clients.get(&(port, https)) {
            return Ok(c.clone());
        }
        let c = self.build_client(port, https)?;
        clients.insert((port, https), c.clone());
        Ok(c)
    }

    /// The size cap of a checksum file (`max_checksum_response_bytes`).
    pub fn max_checksum_bytes(&self) -> u64 {
        self.config.max_checksum_bytes
    }

    /// The client for a URL's port.
    pub(crate) fn client_for(&self, url: &Url) -> Result<reqwest::Client, NetError> {
        self.client(url.port_or_known_default().unwrap_or(443), url.scheme() != "http")
    }

    pub(crate) fn gates(&self) -> Gates<'_> {
        Gates::new(&self.policy, self.metrics.as_ref())
    }

    /// Counts a request that got no response and turns its error into ours: a gate refusal
    /// from the resolver stays a refusal, anything else is a network error.
    pub(crate) fn send_failed(&self, service: &str, url: &Url, e: &reqwest::Error) -> NetError {
        self.count(service, "error");
        match policy_error(e) {
            Some(p) => NetError::Refused(p),
            None if e.is_timeout() => self.timed_out(url, e),
            None => {
                let chain = error_chain(e);
                tracing::debug!(url = %url, error = %chain, "request failed");
                if is_lookup_failure(&chain) {
                    let host = url.host_str().unwrap_or_default().to_string();
                    return NetError::Unresolved { url: url.to_string(), host };
                }
                NetError::Network { url: url.to_string(), message: chain }
            }
        }
    }

    /// A connect or read deadline passed: `E_TIMEOUT`, with the deadline that passed (a
    /// timeout is not a broken network, and alerts and retries tell them apart).
    pub(crate) fn timed_out(&self, url: &Url, e: &reqwest::Error) -> NetError {
        let deadline = if e.is_connect() { self.config.connect_timeout } else { self.config.read_timeout };
        NetError::Timeout { url: url.to_string(), seconds: deadline.as_secs_f64() }
    }

    pub(crate) fn count(&self, service: &str, class: &'static str) {
        self.metrics.http_requests.get_or_create(&HttpLabels { service: service.to_string(), code_class: class }).inc();
    }

    /// Runs the url gate on a resolver's candidate URL (resolver output is untrusted input).
    pub fn check_url(&self, raw: &str) -> Result<Url, NetError> {
        Ok(self.gates().url(raw)?.url)
    }
}

/// `<dest>.part`, where a download's bytes arrive.
pub(crate) fn part_path(dest: &Path) -> std::path::PathBuf {
    let mut s = dest.as_os_str().to_owned();
    s.push(".part");
    std::path::PathBuf::from(s)
}

/// The gate refusal inside a reqwest error, if the resolver refused.
fn policy_error(e: &reqwest::Error) -> Option<ontofetch_policy::PolicyError> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(p) = s.downcast_ref::<ontofetch_policy::PolicyError>() {
            return Some(p.clone());
        }
        source = s.source();
    }
    None
}

/// Whether a request failed because its host name did not resolve (getaddrinfo's and
/// hickory's words, as reqwest wraps them).
fn is_lookup_failure(chain: &str) -> bool {
    chain.contains("dns error")
        || chain.contains("failed to lookup address")
        || chain.contains("Name or service not known")
        || chain.contains("Temporary failure in name resolution")
        || chain.contains("No address associated with hostname")
}

pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `http2_enabled: false` must not even offer h2: a server that prefers it would
    /// otherwise pick it by ALPN.
    #[test]
    fn http2_is_offered_only_when_enabled() {
        let on = tls_config(true).expect("tls");
        let off = tls_config(false).expect("tls");
        assert_eq!(on.alpn_protocols, vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
        assert_eq!(off.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }
}
