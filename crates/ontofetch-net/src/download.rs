//! The gated download: manual redirects through the redirect gate, explicit status handling
//! (no raise-on-4xx), retries with backoff and Retry-After, resume with Range (416
//! recovery), conditional GET, a byte cap, an HTML sniff over the first bytes however they
//! were chunked, and SHA-256. The socket is read on the async side; a writer thread writes
//! (flushed in the background, one last fsync at the end) and a hasher thread hashes, so
//! none of the three waits for another.

use crate::error::NetError;
use crate::fetch::{Download, DownloadInfo, Fetched, Fetcher, code_class, error_chain, header, part_path, retry_after};
use bytes::Bytes;
use futures_util::StreamExt;
use ontofetch_metrics::ServiceLabels;
use ontofetch_policy::content::{SNIFF_BYTES, looks_like_html};
use ontofetch_policy::redirect::RedirectFacts;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use url::Url;

enum Step {
    Done(Fetched),
    /// A redirect: the raw `Location`, judged by the redirect gate as it was sent.
    Redirect(String),
}

/// Writes a body on its own thread and hashes it on another: the bytes already in `part`
/// (a resumed download) are hashed first; the file is durable when `finish` returns. At
/// most 8 chunks wait in each channel, so the buffers stay few and hot (a deeper queue kept
/// ~25 MiB of them in flight, each received into freshly faulted pages).
struct Writer {
    tx: tokio::sync::mpsc::Sender<Bytes>,
    thread: std::thread::JoinHandle<std::io::Result<String>>,
}

/// Dirty bytes after which the writer asks for them to be flushed in the background, so
/// the final fsync has little left to wait for.
const FLUSH_EVERY: u64 = 8 << 20;

/// Flushes a file's written bytes to disk on its own thread while the download goes on
/// (`fdatasync` on a second handle; the writer never waits for it).
fn background_flusher(
    file: std::fs::File,
) -> std::io::Result<(std::sync::mpsc::SyncSender<()>, std::thread::JoinHandle<()>)> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<()>(1);
    let thread = named("download-flush", move || {
        for () in rx {
            let _ = rustix::fs::fdatasync(&file);
        }
    })?;
    Ok((tx, thread))
}

/// A thread with a name (profiles and `top -H` tell the download's threads apart).
fn named<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<T>> {
    std::thread::Builder::new().name(name.into()).spawn(f)
}

impl Writer {
    /// `reserve`: the bytes the storage gate admitted for the whole file, preallocated.
    fn start(part: PathBuf, resume: bool, reserve: Option<u64>) -> std::io::Result<Writer> {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(8);
        let thread = named("download-write", move || {
            // Hashing is the costliest step per byte (SHA-256 runs at ~1.8 GB/s even with
            // SHA-NI); on its own thread it overlaps the writes instead of following them.
            let (hash, hashed) = std::sync::mpsc::sync_channel::<Bytes>(8);
            let hasher = named("download-hash", move || {
                let mut hasher = Sha256::new();
                for chunk in hashed {
                    hasher.update(&chunk);
                }
                hex::encode(hasher.finalize())
            })?;
            let hash_chunk = |chunk: Bytes| hash.send(chunk).map_err(|_| std::io::Error::other("the hasher stopped"));
            let mut file = if resume {
                let mut existing = std::fs::File::open(&part)?;
                loop {
                    let mut buf = vec![0u8; 1 << 20];
                    let n = existing.read(&mut buf)?;
                    if n == 0 {
                        break;
                    }
                    buf.truncate(n);
                    hash_chunk(Bytes::from(buf))?;
                }
                std::fs::OpenOptions::new().append(true).open(&part)?
            } else {
                std::fs::File::create(&part)?
            };
            // Preallocating what the storage gate admitted spares the filesystem its
            // per-page allocation work as the body arrives (~3% of a 200 MiB pull on ext4).
            // KEEP_SIZE: the file's length stays what was written, which a resume reads;
            // a filesystem that cannot preallocate just writes as before.
            if let Some(total) = reserve {
                let at = file.metadata()?.len();
                let flags = rustix::fs::FallocateFlags::KEEP_SIZE;
                let _ = rustix::fs::fallocate(&file, flags, at, total.saturating_sub(at));
            }
            let (flush, flusher) = background_flusher(file.try_clone()?)?;
            let mut dirty = 0u64;
            // Chunks go straight to the file (no buffer to copy them through): hyper's
            // chunks are already tens of KiB.
            while let Some(chunk) = rx.blocking_recv() {
                hash_chunk(chunk.clone())?;
                file.write_all(&chunk)?;
                dirty += chunk.len() as u64;
                // Busy flushing the previous batch: this one goes with the next.
                if dirty >= FLUSH_EVERY && flush.try_send(()).is_ok() {
                    dirty = 0;
                }
            }
            drop(flush);
            drop(hash);
            let _ = flusher.join();
            file.sync_all()?;
            hasher.join().map_err(|_| std::io::Error::other("the hasher panicked"))
        })?;
        Ok(Writer { tx, thread })
    }

    async fn send(&self, chunk: Bytes, part: &Path) -> Result<(), NetError> {
        self.tx
            .send(chunk)
            .await
            .map_err(|_| NetError::io(format!("writing {}", part.display()), std::io::Error::other("writer stopped")))
    }

    /// Waits for the last byte to be durable; the hex SHA-256 of the whole file.
    fn finish(self, part: &Path) -> Result<String, NetError> {
        drop(self.tx);
        let joined = self.thread.join().map_err(|_| std::io::Error::other("the writer thread panicked"));
        joined.and_then(|r| r).map_err(|e| NetError::io(format!("writing {}", part.display()), e))
    }
}

/// What a response said before its body.
struct Head {
    content_type: Option<String>,
    content_disposition: Option<String>,
    etag: Option<String>,
    last_modified: Option<String>,
    offset: u64,
    total: Option<u64>,
}

impl Fetcher {
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
            match self.follow(req, &first, part, attempt, &mut resumed).await {
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
        let mut chain: Vec<String> = Vec::new();
        loop {
            let deadline = self.config.attempt_deadline;
            let step = tokio::time::timeout(deadline, self.attempt(req, &url, part, attempt, resumed))
                .await
                .map_err(|_| NetError::Timeout { url: url.to_string(), seconds: deadline.as_secs_f64() })??;
            match step {
                Step::Done(Fetched::Downloaded(mut info)) => {
                    info.redirects = chain;
                    return Ok(Fetched::Downloaded(info));
                }
                Step::Done(f) => return Ok(f),
                Step::Redirect(location) => {
                    hop += 1;
                    chain.push(url.to_string());
                    url = self.gates().redirect(&RedirectFacts { from: &url, location: &location, hop })?.url;
                }
            }
        }
    }

    /// Sends one request; returns the response when its body is to be read.
    async fn request(
        &self,
        req: &Download<'_>,
        url: &Url,
        part: &Path,
    ) -> Result<(reqwest::Response, bool, u64), NetError> {
        let have = tokio::fs::metadata(part).await.map(|m| m.len()).unwrap_or(0);
        let mut rb = self.client_for(url)?.get(url.clone());
        let mut conditional = false;
        if have > 0 {
            rb = rb.header("Range", format!("bytes={have}-"));
        } else if let Some(v) = &req.conditional {
            if let Some(etag) = &v.etag {
                rb = rb.header("If-None-Match", etag);
                conditional = true;
            }
            if let Some(lm) = &v.last_modified {
                rb = rb.header("If-Modified-Since", lm);
                conditional = true;
            }
        }
        if let Some(c) = &req.credential
            && c.applies_to(url)
        {
            rb = rb.header(c.header.as_str(), c.value.as_str());
        }
        self.config.limits.wait(req.service, url.host_str().unwrap_or("")).await;
        let resp = rb.send().await.map_err(|e| self.send_failed(req.service, url, &e))?;
        self.count(req.service, code_class(resp.status().as_u16()));
        Ok((resp, conditional, have))
    }

    /// What the status says: a step, an error, or `None` when the body is the download.
    async fn judge(
        &self,
        resp: &reqwest::Response,
        url: &Url,
        part: &Path,
        conditional: bool,
    ) -> Option<Result<Step, NetError>> {
        let status = resp.status().as_u16();
        let at = || url.to_string();
        Some(match status {
            200 | 206 => return None,
            304 if conditional => Ok(Step::Done(Fetched::NotModified { final_url: at() })),
            // A 304 to a request that was not conditional is a broken server, not news.
            304 => Err(NetError::Status { url: at(), status }),
            300..=399 => header(resp, "location").map(Step::Redirect).ok_or(NetError::NoLocation { url: at(), status }),
            416 => {
                // Our partial file is longer than the resource: start over without Range.
                let _ = tokio::fs::remove_file(part).await;
                Err(NetError::RetryableStatus { url: at(), status, retry_after: Some(Duration::ZERO) })
            }
            408 | 429 | 500..=599 => Err(NetError::RetryableStatus {
                url: at(),
                status,
                retry_after: retry_after(resp, self.config.max_retry_after),
            }),
            _ => Err(NetError::Status { url: at(), status }),
        })
    }

    /// The response's facts; a 206 must resume exactly where our partial file ends.
    async fn head(&self, resp: &reqwest::Response, url: &Url, part: &Path, have: u64) -> Result<Head, NetError> {
        let mut offset = 0u64;
        if resp.status().as_u16() == 206 {
            let start = header(resp, "content-range").and_then(|r| {
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
        }
        // A malformed Content-Length is ignored; the cap is enforced on bytes received.
        let total = resp.content_length().map(|d| d + offset);
        if let Some(t) = total
            && t > self.config.max_bytes
        {
            return Err(NetError::SizeLimit { url: url.to_string(), limit: self.config.max_bytes });
        }
        Ok(Head {
            content_type: header(resp, "content-type"),
            content_disposition: header(resp, "content-disposition"),
            etag: header(resp, "etag"),
            last_modified: header(resp, "last-modified"),
            offset,
            total,
        })
    }

    async fn attempt(
        &self,
        req: &Download<'_>,
        url: &Url,
        part: &Path,
        attempt: u32,
        resumed: &mut bool,
    ) -> Result<Step, NetError> {
        let started = Instant::now();
        let (resp, conditional, have) = self.request(req, url, part).await?;
        if let Some(step) = self.judge(&resp, url, part, conditional).await {
            return step;
        }
        let head = self.head(&resp, url, part, have).await?;
        let remote_addr = resp.remote_addr().map(|a| a.to_string());
        let peer_certificate_sha256 = resp
            .extensions()
            .get::<reqwest::tls::TlsInfo>()
            .and_then(reqwest::tls::TlsInfo::peer_certificate)
            .map(|der| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(der)));
        if let (Some(admit), Some(total)) = (req.admit, head.total) {
            admit(total - head.offset)?;
        }
        *resumed |= head.offset > 0;
        let (received, sha256) = self.body(req, resp, url, part, &head).await?;
        let service = ServiceLabels { service: req.service.to_string() };
        self.metrics.http_duration.get_or_create(&service).observe(started.elapsed().as_secs_f64());
        self.metrics.http_response_bytes.get_or_create(&service).inc_by(received - head.offset);
        self.metrics.download_bytes.inc_by(received - head.offset);
        if let Some(expected) = &req.expected_sha256
            && !expected.eq_ignore_ascii_case(&sha256)
        {
            return Err(NetError::Checksum { url: url.to_string(), expected: expected.clone(), actual: sha256 });
        }
        tokio::fs::rename(part, req.dest)
            .await
            .map_err(|e| NetError::io(format!("renaming into {}", req.dest.display()), e))?;
        Ok(Step::Done(Fetched::Downloaded(Box::new(DownloadInfo {
            final_url: url.to_string(),
            sha256,
            bytes: received,
            content_type: head.content_type,
            content_disposition: head.content_disposition,
            etag: head.etag,
            last_modified: head.last_modified,
            attempts: attempt,
            resumed: *resumed,
            redirects: Vec::new(),
            remote_addr,
            peer_certificate_sha256,
        }))))
    }

    /// Streams the body into `part`: returns the bytes in the file and its SHA-256.
    async fn body(
        &self,
        req: &Download<'_>,
        resp: reqwest::Response,
        url: &Url,
        part: &Path,
        head: &Head,
    ) -> Result<(u64, String), NetError> {
        // Only a size the storage gate admitted is reserved: a server's announcement alone
        // never takes disk space before its bytes arrive.
        let reserve = head.total.filter(|_| req.admit.is_some());
        let writer = Writer::start(part.to_path_buf(), head.offset > 0, reserve)
            .map_err(|e| NetError::io(format!("writing {}", part.display()), e))?;
        let mut received = head.offset;
        // The first bytes are held back until the sniff has seen enough of them (a resumed
        // download was sniffed when it started).
        let mut pending: Option<Vec<u8>> = (head.offset == 0).then(Vec::new);
        let sniff = |bytes: &[u8]| {
            if looks_like_html(bytes) {
                let content_type = head.content_type.clone().unwrap_or_else(|| "no Content-Type".into());
                return Err(NetError::MediaType { url: url.to_string(), content_type });
            }
            Ok(())
        };
        let mut stream = resp.bytes_stream();
        let outcome: Result<(), NetError> = async {
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| match e.is_timeout() {
                    true => NetError::Timeout { url: url.to_string(), seconds: self.config.read_timeout.as_secs_f64() },
                    false => NetError::Network {
                        url: url.to_string(),
                        message: format!("body interrupted after {received} bytes: {}", error_chain(&e)),
                    },
                })?;
                received += chunk.len() as u64;
                if received > self.config.max_bytes {
                    return Err(NetError::SizeLimit { url: url.to_string(), limit: self.config.max_bytes });
                }
                match pending.as_mut() {
                    Some(buf) => {
                        buf.extend_from_slice(&chunk);
                        if buf.len() >= SNIFF_BYTES {
                            sniff(buf)?;
                            writer.send(Bytes::from(pending.take().unwrap_or_default()), part).await?;
                        }
                    }
                    None => writer.send(chunk, part).await?,
                }
                if let Some(progress) = req.progress {
                    progress(received, head.total);
                }
            }
            if let Some(buf) = pending.take() {
                sniff(&buf)?;
                writer.send(Bytes::from(buf), part).await?;
            }
            Ok(())
        }
        .await;
        // Whatever happened, what arrived is on disk (a resume starts there).
        let sha256 = writer.finish(part);
        if let Err(e) = outcome {
            if matches!(e, NetError::MediaType { .. }) {
                let _ = tokio::fs::remove_file(part).await;
            }
            return Err(e);
        }
        let sha256 = sha256?;
        if let Some(total) = head.total
            && received < total
        {
            return Err(NetError::Truncated { url: url.to_string(), got: received, expected: total });
        }
        Ok((received, sha256))
    }
}
