//! Small requests: registry APIs and checksum files (capped bodies), planning probes, and
//! the Pushgateway PUT. The same gates, redirect handling and retries as downloads, and
//! every attempt under the configured deadline, so a server that drips one byte a second
//! cannot hold a pull.

use crate::error::NetError;
use crate::fetch::{Fetcher, HostCredential, ProbeInfo, code_class, error_chain, header, retry_after};
use futures_util::StreamExt;
use ontofetch_metrics::ServiceLabels;
use ontofetch_policy::redirect::RedirectFacts;
use url::Url;

/// What one attempt at a small GET ended with.
enum Small {
    Body(Vec<u8>),
    Redirect(String),
    Retry(Option<std::time::Duration>),
}

impl Fetcher {
    /// Runs `work` under the attempt deadline.
    async fn within<T>(&self, url: &Url, work: impl Future<Output = Result<T, NetError>>) -> Result<T, NetError> {
        let deadline = self.config.attempt_deadline;
        tokio::time::timeout(deadline, work)
            .await
            .map_err(|_| NetError::Timeout { url: url.to_string(), seconds: deadline.as_secs_f64() })?
    }

    async fn small_attempt(
        &self,
        url: &Url,
        service: &str,
        accept: &str,
        cap: u64,
        credential: Option<&HostCredential>,
        retries_left: bool,
    ) -> Result<Small, NetError> {
        let mut rb = self.client_for(url)?.get(url.clone()).header("Accept", accept);
        if let Some(c) = credential
            && c.applies_to(url)
        {
            rb = rb.header(c.header.as_str(), c.value.as_str());
        }
        self.config.limits.wait(service, url.host_str().unwrap_or("")).await;
        let resp = match rb.send().await {
            Ok(r) => r,
            Err(e) => {
                let err = self.send_failed(service, url, &e);
                return if !matches!(err, NetError::Refused(_) | NetError::Unresolved { .. }) && retries_left {
                    Ok(Small::Retry(None))
                } else {
                    Err(err)
                };
            }
        };
        let status = resp.status().as_u16();
        self.count(service, code_class(status));
        match status {
            200 => {}
            300..=399 => {
                return header(&resp, "location")
                    .map(Small::Redirect)
                    .ok_or(NetError::NoLocation { url: url.to_string(), status });
            }
            408 | 429 | 500..=599 if retries_left => {
                return Ok(Small::Retry(retry_after(&resp, self.config.max_retry_after)));
            }
            _ => return Err(NetError::Status { url: url.to_string(), status }),
        }
        if resp.content_length().is_some_and(|n| n > cap) {
            return Err(NetError::SizeLimit { url: url.to_string(), limit: cap });
        }
        let mut out = Vec::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| NetError::Network { url: url.to_string(), message: error_chain(&e) })?;
            out.extend_from_slice(&chunk);
            if out.len() as u64 > cap {
                return Err(NetError::SizeLimit { url: url.to_string(), limit: cap });
            }
        }
        Ok(Small::Body(out))
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
            let retries_left = attempt < self.config.max_attempts;
            match self.within(&url, self.small_attempt(&url, service, accept, cap, credential, retries_left)).await {
                Ok(Small::Body(b)) => return Ok(b),
                Ok(Small::Redirect(location)) => {
                    hop += 1;
                    url = self.gates().redirect(&RedirectFacts { from: &url, location: &location, hop })?.url;
                }
                Ok(Small::Retry(after)) => {
                    let wait = after.unwrap_or(self.config.backoff_base * attempt);
                    self.metrics.http_retries.get_or_create(&ServiceLabels { service: service.to_string() }).inc();
                    tokio::time::sleep(wait).await;
                }
                Err(NetError::Timeout { .. }) if retries_left => {
                    self.metrics.http_retries.get_or_create(&ServiceLabels { service: service.to_string() }).inc();
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// A metadata probe for planning: HEAD, falling back to GET (headers only) when the
    /// server refuses HEAD with 405 or 403. Redirects are followed through the redirect
    /// gate exactly as for downloads.
    pub async fn probe(
        &self,
        raw: &str,
        service: &str,
        credential: Option<&HostCredential>,
    ) -> Result<ProbeInfo, NetError> {
        let mut url = self.gates().url(raw)?.url;
        let mut hop = 0;
        let mut use_get = false;
        loop {
            self.config.limits.wait(service, url.host_str().unwrap_or("")).await;
            let client = self.client_for(&url)?;
            let mut rb = if use_get { client.get(url.clone()) } else { client.head(url.clone()) };
            // The key goes only to its own host, hop by hop.
            if let Some(c) = credential
                && c.applies_to(&url)
            {
                rb = rb.header(c.header.as_str(), c.value.as_str());
            }
            let resp =
                self.within(&url, async { rb.send().await.map_err(|e| self.send_failed(service, &url, &e)) }).await?;
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
        self.config.limits.wait(service, url.host_str().unwrap_or("")).await;
        let rb = self.client_for(&url)?.put(url.clone()).header("Content-Type", content_type).body(body);
        let resp =
            self.within(&url, async { rb.send().await.map_err(|e| self.send_failed(service, &url, &e)) }).await?;
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
