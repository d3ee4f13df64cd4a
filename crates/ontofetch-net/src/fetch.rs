//! The gated download: manual redirects through the redirect gate, explicit status handling
//! (no raise-on-4xx), retries with backoff and Retry-After, resume with Range (416 recovery),
//! conditional GET, a byte cap, an HTML sniff, and SHA-256 computed while streaming.

use crate::error::NetError;
use crate::resolver::GatedResolver;
use futures_util::StreamExt;
use ontofetch_metrics::{HttpLabels, Metrics, ServiceLabels};
use ontofetch_policy::redirect::RedirectFacts;
use ontofetch_policy::{Gates, Policy};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
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
    pub limits: crate::limit::Limits,
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
            limits: crate::limit::Limits::default(),
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
}

/// What a download produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// New bytes at `dest`.
    Downloaded(DownloadInfo),
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
    /// Response `ETag`.
    pub etag: Option<String>,
    /// Response `Last-Modified`.
    pub last_modified: Option<String>,
    /// Attempts used.
    pub attempts: u32,
    /// Whether a partial download was resumed.
    pub resumed: bool,
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
    client: reqwest::Client,
    policy: Arc<Policy>,
    metrics: Arc<Metrics>,
    config: NetConfig,
}

enum Step {
    Done(Fetched),
    Redirect(Url),
}

fn part_path(dest: &Path) -> PathBuf {
    let mut s = dest.as_os_str().to_owned();
    s.push(".part");
    PathBuf::from(s)
}

fn code_class(status: u16) -> &'static str {
    match status {
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

fn header(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

fn retry_after(resp: &reqwest::Response, cap: Duration) -> Option<Duration> {
    let v = header(resp, "retry-after")?;
    let d = match v.trim().parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            httpdate::parse_http_date(v.trim()).ok()?.duration_since(std::time::SystemTime::now()).unwrap_or_default()
        }
    };
    Some(d.min(cap))
}

/// Does the start of a body look like an HTML page?
pub fn looks_like_html(prefix: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&prefix[..prefix.len().min(512)])
        .trim_start_matches('\u{feff}')
        .trim_start()
        .to_ascii_lowercase();
    text.starts_with("<!doctype html")
        || text.starts_with("<html")
        || text.starts_with("<head")
        || text.starts_with("<body")
}

impl HostCredential {
    fn applies_to(&self, url: &Url) -> bool {
        url.host_str() == Some(self.host.as_str()) && self.port.is_none_or(|p| url.port_or_known_default() == Some(p))
    }
}

impl Fetcher {
    /// Builds the client: no redirects (we follow them), no proxy from the environment,
    /// DNS only through the ip gate, rustls with the platform verifier.
    pub fn new(policy: Arc<Policy>, metrics: Arc<Metrics>, config: NetConfig) -> Result<Self, NetError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut headers = HeaderMap::new();
        for (k, v) in &config.headers {
            if let (Ok(k), Ok(v)) = (HeaderName::try_from(k.as_str()), HeaderValue::try_from(v.as_str())) {
                headers.insert(k, v);
            }
        }
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(GatedResolver::new(policy.clone(), metrics.clone()))
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.read_timeout)
            .pool_max_idle_per_host(4)
            .default_headers(headers)
            .build()
            .map_err(|e| NetError::Network {
                url: String::new(),
                message: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(Fetcher { client, policy, metrics, config })
    }

    fn gates(&self) -> Gates<'_> {
        Gates::new(&self.policy, self.metrics.as_ref())
    }

    /// Counts a request that got no response and turns its error into ours: a gate refusal
    /// from the resolver stays a refusal, anything else is a network error.
    fn send_failed(&self, service: &str, url: &Url, e: &reqwest::Error) -> NetError {
        self.count(service, "error");
        match policy_error(e) {
            Some(p) => NetError::Refused(p),
            None => NetError::Network { url: url.to_string(), message: error_chain(e) },
        }
    }

    fn count(&self, service: &str, class: &'static str) {
        self.metrics.http_requests.get_or_create(&HttpLabels { service: service.to_string(), code_class: class }).inc();
    }

    /// Downloads to `dest` atomically: `dest` appears only complete and verified; a failure
    /// leaves no partial file behind (the `.part` survives only between retries).
    pub async fn download(&self, req: &Download<'_>) -> Result<Fetched, NetError> {
        let part = part_path(req.dest);
        let result = self.download_inner(req, &part).await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&part).await;
        }
        result
    }

    async fn download_inner(&self, req: &Download<'_>, part: &Path) -> Result<Fetched, NetError> {
        let first = self.gates().url(req.url)?.url;
        let mut attempt = 0u32;
        let mut resumed = false;
        loop {
            attempt += 1;
            let result = self.follow(req, &first, part, attempt, &mut resumed).await;
            match result {
                Err(e) if e.retryable() && attempt < self.config.max_attempts.max(1) => {
                    let wait = match &e {
                        NetError::RetryableStatus { retry_after: Some(d), .. } => *d,
                        _ => self.config.backoff_base * 2u32.saturating_pow(attempt - 1),
                    };
                    self.metrics.http_retries.get_or_create(&ServiceLabels { service: req.service.to_string() }).inc();
                    tokio::time::sleep(wait).await;
                }
                other => return other,
            }
        }
    }

    async fn follow(
        &self,
        req: &Download<'_>,
        first: &Url,
        part: &Path,
        attempt: u32,
        resumed: &mut bool,
    ) -> Result<Fetched, NetError> {
        let mut url = first.clone();
        let mut hop = 0usize;
        loop {
            let deadline = self.config.attempt_deadline;
            let step = tokio::time::timeout(deadline, self.attempt(req, &url, part, attempt, resumed))
                .await
                .map_err(|_| NetError::Timeout { url: url.to_string(), seconds: deadline.as_secs_f64() })??;
            match step {
                Step::Done(f) => return Ok(f),
                Step::Redirect(next) => {
                    hop += 1;
                    let allowed = self.gates().redirect(&RedirectFacts { from: &url, location: next.as_str(), hop })?;
                    url = allowed.url;
                }
            }
        }
    }

    async fn attempt(
        &self,
        req: &Download<'_>,
        url: &Url,
        part: &Path,
        attempt: u32,
        resumed: &mut bool,
    ) -> Result<Step, NetError> {
        let have = tokio::fs::metadata(part).await.map(|m| m.len()).unwrap_or(0);
        let mut rb = self.client.get(url.clone());
        if have > 0 {
            rb = rb.header("Range", format!("bytes={have}-"));
        } else if let Some(v) = &req.conditional {
            if let Some(etag) = &v.etag {
                rb = rb.header("If-None-Match", etag);
            }
            if let Some(lm) = &v.last_modified {
                rb = rb.header("If-Modified-Since", lm);
            }
        }
        if let Some(c) = &req.credential
            && c.applies_to(url)
        {
            rb = rb.header(c.header.as_str(), c.value.as_str());
        }
        self.config.limits.wait(req.service).await;
        let started = Instant::now();
        let resp = rb.send().await.map_err(|e| self.send_failed(req.service, url, &e))?;
        let status = resp.status().as_u16();
        self.count(req.service, code_class(status));
        match status {
            300..=399 if status != 304 => {
                let loc = header(&resp, "location").ok_or(NetError::NoLocation { url: url.to_string(), status })?;
                let next = url.join(&loc).map_err(|e| NetError::Network {
                    url: url.to_string(),
                    message: format!("bad Location {loc:?}: {e}"),
                })?;
                return Ok(Step::Redirect(next));
            }
            304 => {
                return Ok(Step::Done(Fetched::NotModified { final_url: url.to_string() }));
            }
            416 => {
                // Our partial file is longer than the resource: start over without Range.
                let _ = tokio::fs::remove_file(part).await;
                return Err(NetError::RetryableStatus {
                    url: url.to_string(),
                    status,
                    retry_after: Some(Duration::ZERO),
                });
            }
            408 | 429 | 500..=599 => {
                return Err(NetError::RetryableStatus {
                    url: url.to_string(),
                    status,
                    retry_after: retry_after(&resp, self.config.max_retry_after),
                });
            }
            200 | 206 => {}
            _ => {
                return Err(NetError::Status { url: url.to_string(), status });
            }
        }
        let content_type = header(&resp, "content-type");
        let etag = header(&resp, "etag");
        let last_modified = header(&resp, "last-modified");
        // A malformed Content-Length is ignored; the cap is enforced on bytes received.
        let declared = resp.content_length();
        let mut offset = 0u64;
        if status == 206 {
            let start = header(&resp, "content-range").and_then(|r| {
                r.strip_prefix("bytes ").and_then(|r| r.split('-').next()).and_then(|n| n.parse::<u64>().ok())
            });
            if start != Some(have) {
                let _ = tokio::fs::remove_file(part).await;
                return Err(NetError::Network {
                    url: url.to_string(),
                    message: "server resumed at the wrong offset".into(),
                });
            }
            offset = have;
            *resumed = true;
        }
        let total_declared = declared.map(|d| d + offset);
        if let Some(total) = total_declared
            && total > self.config.max_bytes
        {
            return Err(NetError::SizeLimit { url: url.to_string(), limit: self.config.max_bytes });
        }
        let mut hasher = Sha256::new();
        let mut file = if offset > 0 {
            // Resume stitches the hash: the bytes already on disk go in first.
            let existing =
                tokio::fs::read(part).await.map_err(|e| NetError::io(format!("reading {}", part.display()), e))?;
            hasher.update(&existing);
            tokio::fs::OpenOptions::new().append(true).open(part).await
        } else {
            tokio::fs::File::create(part).await
        }
        .map_err(|e| NetError::io(format!("opening {}", part.display()), e))?;
        let mut received = offset;
        let mut sniffed = offset > 0;
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    file.flush().await.ok();
                    return Err(NetError::Network {
                        url: url.to_string(),
                        message: format!("body interrupted after {received} bytes: {}", error_chain(&e)),
                    });
                }
            };
            if !sniffed {
                sniffed = true;
                if looks_like_html(&chunk) {
                    let _ = tokio::fs::remove_file(part).await;
                    return Err(NetError::MediaType {
                        url: url.to_string(),
                        content_type: content_type.clone().unwrap_or_else(|| "no Content-Type".into()),
                    });
                }
            }
            received += chunk.len() as u64;
            if received > self.config.max_bytes {
                return Err(NetError::SizeLimit { url: url.to_string(), limit: self.config.max_bytes });
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await.map_err(|e| NetError::io(format!("writing {}", part.display()), e))?;
            if let Some(progress) = req.progress {
                progress(received, total_declared);
            }
        }
        file.flush().await.map_err(|e| NetError::io(format!("writing {}", part.display()), e))?;
        file.sync_all().await.map_err(|e| NetError::io(format!("syncing {}", part.display()), e))?;
        drop(file);
        if let Some(total) = total_declared
            && received < total
        {
            return Err(NetError::Truncated { url: url.to_string(), got: received, expected: total });
        }
        let service = ServiceLabels { service: req.service.to_string() };
        self.metrics.http_duration.get_or_create(&service).observe(started.elapsed().as_secs_f64());
        self.metrics.http_response_bytes.get_or_create(&service).inc_by(received - offset);
        self.metrics.download_bytes.inc_by(received - offset);
        let sha256 = hex::encode(hasher.finalize());
        if let Some(expected) = &req.expected_sha256
            && !expected.eq_ignore_ascii_case(&sha256)
        {
            return Err(NetError::Checksum { url: url.to_string(), expected: expected.clone(), actual: sha256 });
        }
        tokio::fs::rename(part, req.dest)
            .await
            .map_err(|e| NetError::io(format!("renaming into {}", req.dest.display()), e))?;
        Ok(Step::Done(Fetched::Downloaded(DownloadInfo {
            final_url: url.to_string(),
            sha256,
            bytes: received,
            content_type,
            etag,
            last_modified,
            attempts: attempt,
            resumed: *resumed,
        })))
    }

    /// Runs the url gate on a resolver's candidate URL (resolver output is untrusted input).
    pub fn check_url(&self, raw: &str) -> Result<Url, NetError> {
        Ok(self.gates().url(raw)?.url)
    }

    /// GETs a small document (registry APIs, checksum files) through the same gates,
    /// retries and redirect handling, capped at `cap` bytes.
    pub async fn get_small(
        &self,
        raw: &str,
        service: &str,
        accept: &str,
        cap: u64,
        credential: Option<&HostCredential>,
    ) -> Result<Vec<u8>, NetError> {
        let mut url = self.gates().url(raw)?.url;
        let mut hop = 0;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let mut rb = self.client.get(url.clone()).header("Accept", accept);
            if let Some(c) = credential
                && c.applies_to(&url)
            {
                rb = rb.header(c.header.as_str(), c.value.as_str());
            }
            self.config.limits.wait(service).await;
            let resp = match rb.send().await {
                Ok(r) => r,
                Err(e) => {
                    let err = self.send_failed(service, &url, &e);
                    if !matches!(err, NetError::Refused(_)) && attempt < self.config.max_attempts {
                        tokio::time::sleep(self.config.backoff_base * attempt).await;
                        continue;
                    }
                    return Err(err);
                }
            };
            let status = resp.status().as_u16();
            self.count(service, code_class(status));
            match status {
                200 => {
                    if resp.content_length().is_some_and(|n| n > cap) {
                        return Err(NetError::SizeLimit { url: url.to_string(), limit: cap });
                    }
                    let mut out = Vec::new();
                    let mut stream = resp.bytes_stream();
                    while let Some(chunk) = stream.next().await {
                        let chunk =
                            chunk.map_err(|e| NetError::Network { url: url.to_string(), message: error_chain(&e) })?;
                        out.extend_from_slice(&chunk);
                        if out.len() as u64 > cap {
                            return Err(NetError::SizeLimit { url: url.to_string(), limit: cap });
                        }
                    }
                    return Ok(out);
                }
                300..=399 => {
                    hop += 1;
                    let loc = header(&resp, "location").ok_or(NetError::NoLocation { url: url.to_string(), status })?;
                    url = self.gates().redirect(&RedirectFacts { from: &url, location: &loc, hop })?.url;
                }
                408 | 429 | 500..=599 if attempt < self.config.max_attempts => {
                    let wait =
                        retry_after(&resp, self.config.max_retry_after).unwrap_or(self.config.backoff_base * attempt);
                    self.metrics.http_retries.get_or_create(&ServiceLabels { service: service.to_string() }).inc();
                    tokio::time::sleep(wait).await;
                }
                _ => {
                    return Err(NetError::Status { url: url.to_string(), status });
                }
            }
        }
    }

    /// A metadata probe for planning: HEAD, falling back to GET (headers only) when the
    /// server refuses HEAD with 405 or 403. Redirects are followed through the redirect
    /// gate exactly as for downloads.
    pub async fn probe(&self, raw: &str, service: &str) -> Result<ProbeInfo, NetError> {
        let mut url = self.gates().url(raw)?.url;
        let mut hop = 0;
        let mut use_get = false;
        loop {
            self.config.limits.wait(service).await;
            let rb = if use_get { self.client.get(url.clone()) } else { self.client.head(url.clone()) };
            let resp = rb.send().await.map_err(|e| self.send_failed(service, &url, &e))?;
            let status = resp.status().as_u16();
            self.count(service, code_class(status));
            match status {
                300..=399 if status != 304 => {
                    hop += 1;
                    let loc = header(&resp, "location").ok_or(NetError::NoLocation { url: url.to_string(), status })?;
                    url = self.gates().redirect(&RedirectFacts { from: &url, location: &loc, hop })?.url;
                }
                403 | 405 if !use_get => use_get = true,
                200..=299 => {
                    // Dropping the response closes the connection without reading a GET body.
                    return Ok(ProbeInfo {
                        final_url: url.to_string(),
                        method: if use_get { "GET" } else { "HEAD" },
                        // The header, not the body size: a HEAD body is always empty.
                        content_length: header(&resp, "content-length").and_then(|v| v.trim().parse().ok()),
                        content_type: header(&resp, "content-type"),
                        etag: header(&resp, "etag"),
                        last_modified: header(&resp, "last-modified"),
                    });
                }
                _ => return Err(NetError::Status { url: url.to_string(), status }),
            }
        }
    }

    /// PUTs a text body (Pushgateway). The URL is gated; redirects are not followed.
    pub async fn put_text(&self, raw: &str, service: &str, content_type: &str, body: String) -> Result<u16, NetError> {
        let url = self.gates().url(raw)?.url;
        self.config.limits.wait(service).await;
        let resp = self
            .client
            .put(url.clone())
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await
            .map_err(|e| self.send_failed(service, &url, &e))?;
        let status = resp.status().as_u16();
        self.count(service, code_class(status));
        if (200..300).contains(&status) { Ok(status) } else { Err(NetError::Status { url: url.to_string(), status }) }
    }

    /// GETs a JSON document (capped at 8 MiB).
    pub async fn get_json(
        &self,
        raw: &str,
        service: &str,
        credential: Option<&HostCredential>,
    ) -> Result<serde_json::Value, NetError> {
        let bytes = self.get_small(raw, service, "application/json", 8 << 20, credential).await?;
        serde_json::from_slice(&bytes).map_err(|e| NetError::Json { url: raw.to_string(), message: e.to_string() })
    }
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

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
