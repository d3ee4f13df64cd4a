//! The object storage backend (`s3://bucket/prefix`, through the `object_store` crate):
//! the same keys as the local layout under a prefix. A version is uploaded object by
//! object, large files in parts, the manifest last; it becomes visible to readers only when
//! the catalog row is committed after it, so a worker killed mid-upload leaves objects
//! nobody sees (doctor finds and removes them). Staging stays on local disk. Throttling
//! (503 SlowDown) and server errors are retried with backoff by the client.

use crate::layout;
use crate::staging::Staging;
use crate::{ArtifactStore, Promoted, StoreError};
use async_trait::async_trait;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, RetryConfig, WriteMultipart};
use ontofetch_policy::Gates;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Files larger than this are uploaded in parts.
const MULTIPART_ABOVE: u64 = 16 << 20;
/// Size of one part.
const PART_SIZE: usize = 8 << 20;

/// How to reach the object store (from `AWS_*`, resolved by the settings layer).
#[derive(Clone, Default)]
pub struct S3Options {
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: Option<String>,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: Option<String>,
    /// `AWS_SESSION_TOKEN`.
    pub session_token: Option<String>,
    /// `AWS_REGION` (default `us-east-1`).
    pub region: Option<String>,
    /// `AWS_ENDPOINT_URL`: an S3-compatible server.
    pub endpoint: Option<String>,
    /// `AWS_ALLOW_HTTP`: a plain-http endpoint is allowed.
    pub allow_http: bool,
    /// How long one call keeps retrying (`defaults.storage.retry_budget_sec`).
    pub retry_budget: Duration,
}

impl std::fmt::Debug for S3Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Options")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key.as_ref().map(|_| "***"))
            .field("region", &self.region)
            .field("endpoint", &self.endpoint.as_deref().map(without_userinfo))
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

/// An endpoint as it may be shown: without user and password (an `AWS_ENDPOINT_URL` can
/// carry them), or hidden whole when it does not parse.
fn without_userinfo(endpoint: &str) -> String {
    match url::Url::parse(endpoint) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        // Unreadable: object_store refuses it itself; its message names no userinfo we
        // could have kept apart, so nothing of it is repeated.
        Err(_) => "http://unreadable-endpoint.invalid".into(),
    }
}

/// The object storage backend.
pub struct ObjectStoreBackend {
    store: Arc<AmazonS3>,
    bucket: String,
    prefix: String,
    local_root: PathBuf,
    /// Signed raw calls for what object_store lacks (incomplete multipart uploads).
    raw: crate::uploads::RawS3,
}

fn backend(what: impl Into<String>) -> impl FnOnce(object_store::Error) -> StoreError {
    let what = what.into();
    move |e| match e {
        object_store::Error::NotFound { path, .. } => StoreError::NotFound(path),
        other => {
            let (message, retryable) = explain(&other);
            StoreError::Backend { what, message, retryable }
        }
    }
}

/// What went wrong, in the operator's terms, and whether another attempt may help. S3
/// servers answer refused credentials and missing buckets with XML error codes that the
/// client reports as generic errors.
fn explain(e: &object_store::Error) -> (String, bool) {
    let text = e.to_string();
    let credentials =
        matches!(e, object_store::Error::Unauthenticated { .. } | object_store::Error::PermissionDenied { .. })
            || ["SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied", "403 Forbidden"]
                .iter()
                .any(|c| text.contains(c));
    if credentials {
        return (format!("credentials refused; check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY ({text})"), false);
    }
    if text.contains("NoSuchBucket") {
        return ("the bucket does not exist; create it or fix the store URL".into(), false);
    }
    (text, true)
}

/// Connect and per-read timeouts for a retry budget: within it (a serving budget of 2 s
/// bounds a hung server to about that), at most 5 s to connect and 30 s between two reads.
fn timeouts(budget: Duration) -> (Duration, Duration) {
    let connect = budget.clamp(Duration::from_millis(500), Duration::from_secs(5));
    let read = budget.clamp(Duration::from_millis(500), Duration::from_secs(30));
    (connect, read)
}

impl ObjectStoreBackend {
    /// The store at `s3://bucket[/prefix]`, with staging under `local_root`.
    pub fn open(url: &str, options: &S3Options, local_root: &Path) -> Result<Self, StoreError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let bad =
            |m: &str| StoreError::Backend { what: format!("store URL {url}"), message: m.into(), retryable: false };
        let rest = url.strip_prefix("s3://").ok_or_else(|| bad("must start with s3://"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(bad("names no bucket"));
        }
        // A server that accepts the connection and then hangs is bounded like one that
        // refuses it: connect and each read (the first byte included) time out within the
        // budget, and the retries stop with it. No limit on a whole request: a large
        // artifact streamed to a client may take longer than any budget while bytes flow.
        // (Set first: the client options carry `allow_http`, which is set below.)
        let (connect, read) = timeouts(options.retry_budget);
        let mut b = AmazonS3Builder::new()
            .with_client_options(
                object_store::ClientOptions::new()
                    .with_connect_timeout(connect)
                    .with_read_timeout(read)
                    .with_timeout_disabled(),
            )
            .with_bucket_name(bucket)
            .with_region(options.region.clone().unwrap_or_else(|| "us-east-1".into()))
            .with_allow_http(options.allow_http)
            // Retries are bounded by time, not count: backoff from 250 ms to 8 s, jittered,
            // until the budget is spent (a 10 s outage or a restart is ridden out).
            .with_retry(RetryConfig {
                max_retries: 1_000,
                retry_timeout: options.retry_budget,
                backoff: object_store::BackoffConfig {
                    init_backoff: Duration::from_millis(250),
                    max_backoff: Duration::from_secs(8),
                    base: 2.0,
                },
            });
        if let Some(k) = &options.access_key_id {
            b = b.with_access_key_id(k);
        }
        if let Some(s) = &options.secret_access_key {
            b = b.with_secret_access_key(s);
        }
        if let Some(t) = &options.session_token {
            b = b.with_token(t);
        }
        if let Some(e) = &options.endpoint {
            // An S3-compatible server answers path-style requests at its own address. S3
            // authenticates by signature, never by userinfo: a user or password in the
            // endpoint is dropped here, so no request or error message can carry it.
            b = b.with_endpoint(without_userinfo(e)).with_virtual_hosted_style_request(false);
        }
        let store = b.build().map_err(backend(format!("configuring {url}")))?;
        let region = options.region.clone().unwrap_or_else(|| "us-east-1".into());
        let bucket_url = match &options.endpoint {
            Some(e) => format!("{}/{bucket}", without_userinfo(e).trim_end_matches('/')),
            None => format!("https://s3.{region}.amazonaws.com/{bucket}"),
        };
        let credential = match (&options.access_key_id, &options.secret_access_key) {
            (Some(k), Some(s)) => Some(object_store::aws::AwsCredential {
                key_id: k.clone(),
                secret_key: s.clone(),
                token: options.session_token.clone(),
            }),
            _ => None,
        };
        let client = reqwest::Client::builder()
            .connect_timeout(connect)
            .read_timeout(read)
            .timeout(Duration::from_secs(30).max(options.retry_budget))
            .build()
            .map_err(|e| bad(&format!("building its HTTP client: {e}")))?;
        Ok(ObjectStoreBackend {
            store: Arc::new(store),
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            local_root: local_root.to_path_buf(),
            raw: crate::uploads::RawS3 { bucket_url, region, credential, client },
        })
    }

    fn key(&self, key: &str) -> Key {
        if self.prefix.is_empty() { Key::from(key) } else { Key::from(format!("{}/{key}", self.prefix)) }
    }

    async fn upload(&self, path: &Path, key: &Key) -> Result<(), StoreError> {
        let size = std::fs::metadata(path).map_err(crate::io(format!("reading {}", path.display())))?.len();
        if size <= MULTIPART_ABOVE {
            let bytes = tokio::fs::read(path).await.map_err(crate::io(format!("reading {}", path.display())))?;
            self.store.put(key, PutPayload::from(bytes)).await.map_err(backend(format!("uploading {key}")))?;
            return Ok(());
        }
        let upload = self.store.put_multipart(key).await.map_err(backend(format!("starting the upload of {key}")))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        match Self::send_parts(&mut writer, path, key).await {
            Ok(()) => writer.finish().await.map(drop).map_err(backend(format!("finishing the upload of {key}"))),
            Err(e) => {
                // A failed upload is aborted, so its parts do not linger in the bucket
                // (invisible to listings, still billed).
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(key = %key, error = %abort, "an incomplete multipart upload could not be aborted");
                }
                Err(e)
            }
        }
    }

    async fn send_parts(writer: &mut WriteMultipart, path: &Path, key: &Key) -> Result<(), StoreError> {
        let mut file = std::fs::File::open(path).map_err(crate::io(format!("reading {}", path.display())))?;
        let mut buf = vec![0u8; PART_SIZE];
        loop {
            let n = file.read(&mut buf).map_err(crate::io(format!("reading {}", path.display())))?;
            if n == 0 {
                return Ok(());
            }
            writer.wait_for_capacity(4).await.map_err(backend(format!("uploading {key}")))?;
            writer.write(&buf[..n]);
        }
    }

    /// Whether the stored version holds the same original bytes as the staged one (both
    /// manifests name the original's SHA-256).
    async fn same_version(&self, key: &str, staging: &Staging) -> Result<bool, StoreError> {
        let sha = |bytes: &[u8]| crate::Manifest::from_slice(bytes).ok().map(|m| m.sha256);
        let ours = std::fs::read(staging.dir().join(layout::MANIFEST)).ok();
        let theirs = self.read(&format!("{key}/{}", layout::MANIFEST)).await?;
        Ok(ours.as_deref().and_then(sha).is_some_and(|s| Some(s) == sha(&theirs)))
    }
}

#[async_trait]
impl ArtifactStore for ObjectStoreBackend {
    fn url(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }

    fn local_root(&self) -> &Path {
        &self.local_root
    }

    async fn check(&self) -> Result<(), StoreError> {
        // A missing bucket, wrong credentials or an unreachable endpoint show up here,
        // before any work is done.
        let what = format!("reaching {}", self.url());
        match self.store.list_with_delimiter(Some(&self.key(layout::ONTOLOGIES))).await {
            Ok(_) => Ok(()),
            Err(object_store::Error::NotFound { .. }) => {
                Err(StoreError::Backend { what, message: "the bucket does not exist".into(), retryable: false })
            }
            Err(e) => Err(backend(what)(e)),
        }
    }

    async fn promote(
        &self,
        gates: &Gates<'_>,
        staging: Staging,
        id: &str,
        version: &str,
        fence: &dyn crate::Fence,
    ) -> Result<Promoted, StoreError> {
        gates.segment("ontology id", id)?;
        gates.version(version)?;
        let key = layout::version_key(id, version);
        if self.exists(&format!("{key}/{}", layout::MANIFEST)).await? {
            return if self.same_version(&key, &staging).await? {
                Ok(Promoted { key, existed: true })
            } else {
                Err(StoreError::Exists(format!("{}/{key}", self.url())))
            };
        }
        // Objects first, the manifest last: a version with a manifest was uploaded whole.
        let mut files = staging.files()?;
        files.sort_by_key(|(rel, _)| rel == layout::MANIFEST);
        for (rel, _) in &files {
            gates.stored_path(&format!("{key}/{rel}"))?;
        }
        let Some(token) = fence.token() else {
            for (rel, path) in files {
                self.upload(&path, &self.key(&format!("{key}/{rel}"))).await?;
            }
            return Ok(Promoted { key, existed: false });
        };
        // Under a lease: the slow part, the upload, goes to keys that carry the lease's
        // token, where no other worker mistakes it for a killed pull's leftovers and a
        // stale worker writes over nothing. Then, object by object and each after the
        // token is checked again, a server-side copy to the version's keys: a worker whose
        // lease was taken over (a database restart) stops before it copies over the new
        // holder's objects.
        let staged = layout::upload_prefix(id, token, version);
        for (rel, path) in &files {
            fence.check().await?;
            self.upload(path, &self.key(&format!("{staged}/{rel}"))).await?;
        }
        for (rel, path) in &files {
            fence.check().await?;
            let (from, to) = (format!("{staged}/{rel}"), format!("{key}/{rel}"));
            if let Err(e) = self.store.copy(&self.key(&from), &self.key(&to)).await {
                // A server that cannot copy it (S3 copies up to 5 GB in one request): the
                // bytes go up again from staging, still only after the token was checked.
                tracing::info!(key = %to, error = %e, "server-side copy refused; uploading again");
                self.upload(path, &self.key(&to)).await?;
            }
        }
        for (rel, _) in &files {
            let from = format!("{staged}/{rel}");
            if let Err(e) = self.store.delete(&self.key(&from)).await {
                tracing::warn!(key = %from, error = %e, "an uploaded object was not removed after its copy");
            }
        }
        Ok(Promoted { key, existed: false })
    }

    async fn cas_put(&self, gates: &Gates<'_>, sha256: &str, src_key: &str) -> Result<String, StoreError> {
        let key = layout::cas_key(sha256);
        gates.cas_key(&key)?;
        if !self.exists(&key).await? {
            self.store
                .copy(&self.key(src_key), &self.key(&key))
                .await
                .map_err(backend(format!("copying into {key}")))?;
        }
        Ok(key)
    }

    async fn set_latest(&self, _id: &str, _version: &str) -> Result<(), StoreError> {
        // The catalog answers "latest" (by download time); a bucket has no links.
        Ok(())
    }

    async fn clear_latest(&self, _id: &str) -> Result<(), StoreError> {
        Ok(())
    }

    async fn remove_version(&self, gates: &Gates<'_>, id: &str, version: &str) -> Result<(), StoreError> {
        gates.segment("ontology id", id)?;
        gates.segment("version", version)?;
        let prefix = self.key(&layout::version_key(id, version));
        let keys = self.store.list(Some(&prefix)).map_ok(|m| m.location).boxed();
        let deleted: Vec<_> = self.store.delete_stream(keys).collect().await;
        for d in deleted {
            match d {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(backend(format!("removing {prefix}"))(e)),
            }
        }
        Ok(())
    }

    async fn sweep_uploads(&self, id: &str, current: u64) -> Result<Vec<String>, StoreError> {
        let mut removed = Vec::new();
        for (key, _) in self.list(&format!("{}/{id}/", layout::UPLOADS)).await? {
            if layout::upload_token(&key).is_some_and(|(i, t)| i == id && t < current) {
                match self.store.delete(&self.key(&key)).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => removed.push(key),
                    Err(e) => return Err(backend(format!("removing {key}"))(e)),
                }
            }
        }
        // A lost lease that left objects may have left a multipart upload too (a pull pays
        // for that listing only then; doctor lists every incomplete upload anyway).
        if removed.is_empty() {
            return Ok(removed);
        }
        if let Some(open) = self.open_uploads().await? {
            for u in open {
                if layout::upload_token(&u.key).is_some_and(|(i, t)| i == id && t < current) {
                    self.abort_upload(&u).await?;
                    removed.push(format!("{} (incomplete upload)", u.key));
                }
            }
        }
        Ok(removed)
    }

    async fn quarantine(&self, gates: &Gates<'_>, id: &str, version: &str) -> Result<String, StoreError> {
        gates.segment("ontology id", id)?;
        gates.segment("version", version)?;
        let from = layout::version_key(id, version);
        let to = layout::quarantine_key(id, version, crate::unix_seconds());
        // Copy every object, then delete the originals: a failure part way leaves both
        // copies (nothing is lost), and a re-run moves what is left.
        for (key, _) in self.list(&format!("{from}/")).await? {
            let rest = key.strip_prefix(&from).unwrap_or(&key);
            let dest = format!("{to}{rest}");
            self.store
                .copy(&self.key(&key), &self.key(&dest))
                .await
                .map_err(backend(format!("copying {key} to {dest}")))?;
        }
        self.remove_version(gates, id, version).await?;
        Ok(to)
    }

    async fn version_dirs(&self) -> Result<Vec<(String, String)>, StoreError> {
        // One paginated listing of the whole mirror, not a delimiter listing per ontology: a
        // bucket has no empty directories, so the version prefixes are those of its files.
        let mut out = std::collections::BTreeSet::new();
        for (key, _) in self.list(&format!("{}/", layout::ONTOLOGIES)).await? {
            let mut parts = key.split('/').skip(1);
            if let (Some(id), Some(v), Some(_)) = (parts.next(), parts.next(), parts.next())
                && v != layout::LATEST
            {
                out.insert((id.to_string(), v.to_string()));
            }
        }
        Ok(out.into_iter().collect())
    }

    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        match self.store.head(&self.key(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(backend(format!("looking up {key}"))(e)),
        }
    }

    async fn size(&self, key: &str) -> Result<Option<u64>, StoreError> {
        match self.store.head(&self.key(key)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(backend(format!("looking up {key}"))(e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match self.store.delete(&self.key(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(backend(format!("removing {key}"))(e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<(String, u64)>, StoreError> {
        let listed: Vec<object_store::ObjectMeta> = self
            .store
            .list(Some(&self.key(prefix)))
            .try_collect()
            .await
            .map_err(backend(format!("listing {prefix}")))?;
        let strip = if self.prefix.is_empty() { String::new() } else { format!("{}/", self.prefix) };
        let mut out: Vec<(String, u64)> = listed
            .into_iter()
            .filter_map(|m| Some((m.location.as_ref().strip_prefix(&strip)?.to_string(), m.size)))
            .collect();
        out.sort();
        Ok(out)
    }

    async fn read(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        let got = self.store.get(&self.key(key)).await.map_err(backend(format!("reading {key}")))?;
        Ok(got.bytes().await.map_err(backend(format!("reading {key}")))?.to_vec())
    }

    async fn write(&self, key: &str, bytes: &[u8]) -> Result<(), StoreError> {
        // One PUT is atomic: readers see the old object or the new one.
        self.store
            .put(&self.key(key), PutPayload::from(bytes.to_vec()))
            .await
            .map_err(backend(format!("writing {key}")))?;
        Ok(())
    }

    async fn put_file(&self, key: &str, src: &Path) -> Result<(), StoreError> {
        self.upload(src, &self.key(key)).await
    }

    async fn fetch_to(&self, key: &str, dest: &Path) -> Result<(), StoreError> {
        use tokio::io::AsyncWriteExt;
        let got = self.store.get(&self.key(key)).await.map_err(backend(format!("reading {key}")))?;
        let mut file =
            tokio::fs::File::create(dest).await.map_err(crate::io(format!("creating {}", dest.display())))?;
        let mut stream = got.into_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(backend(format!("reading {key}")))?;
            file.write_all(&chunk).await.map_err(crate::io(format!("writing {}", dest.display())))?;
        }
        file.flush().await.map_err(crate::io(format!("writing {}", dest.display())))
    }

    async fn open_range(&self, key: &str, offset: u64, len: u64) -> Result<crate::ByteStream, StoreError> {
        if len == 0 {
            return Ok(futures_util::stream::empty().boxed());
        }
        let options = object_store::GetOptions {
            range: Some(object_store::GetRange::Bounded(offset..offset + len)),
            ..Default::default()
        };
        let got = self.store.get_opts(&self.key(key), options).await.map_err(backend(format!("reading {key}")))?;
        Ok(got.into_stream().map_err(std::io::Error::other).boxed())
    }

    fn local_path(&self, _key: &str) -> Option<PathBuf> {
        None
    }

    async fn open_uploads(&self) -> Result<Option<Vec<crate::OpenUpload>>, StoreError> {
        let prefix = if self.prefix.is_empty() { String::new() } else { format!("{}/", self.prefix) };
        let Some(all) = self.raw.list(&prefix).await? else { return Ok(None) };
        Ok(Some(
            all.into_iter()
                .filter_map(|u| Some(crate::OpenUpload { key: u.key.strip_prefix(&prefix)?.to_string(), ..u }))
                .collect(),
        ))
    }

    async fn abort_upload(&self, upload: &crate::OpenUpload) -> Result<(), StoreError> {
        self.raw.abort(self.key(&upload.key).as_ref(), &upload.upload_id).await
    }

    fn location(&self, key: &str) -> String {
        format!("{}/{key}", self.url())
    }
}
