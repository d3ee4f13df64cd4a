//! ontofetch's artifact store (docs/architecture.md, "Storage"): the layout of the mirror,
//! the typed manifest, local staging, and the [`ArtifactStore`] trait that backends
//! implement (the local directory here; object storage beside it). Everything is assembled
//! in a private staging directory and becomes visible by one promotion, so a failure leaves
//! the store exactly as it was.

#![warn(missing_docs)]

pub mod layout;
mod local;
pub mod manifest;
mod object;
mod staging;
mod uploads;

pub use local::LocalStore;
pub use manifest::Manifest;
pub use object::{ObjectStoreBackend, S3Options};
pub use staging::Staging;

/// This process's own staging directories under a local root (an interrupted command
/// removes them before it exits).
pub fn own_staging(local_root: &Path) -> Vec<PathBuf> {
    staging::own(local_root)
}

/// Removes a staging directory under a local root, never following a link.
pub fn remove_staging(local_root: &Path, dir: &Path) -> std::io::Result<()> {
    staging::remove(local_root, dir)
}

pub use uploads::OpenUpload;

use async_trait::async_trait;
use ontofetch_policy::{Code, Coded, Gates, PolicyError};
use std::path::{Path, PathBuf};

/// Bytes read from the store, chunk by chunk.
pub type ByteStream = futures_util::stream::BoxStream<'static, std::io::Result<bytes::Bytes>>;

/// The store's error type.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A gate refused a name or a write.
    #[error(transparent)]
    Refused(#[from] PolicyError),
    /// File system trouble.
    #[error("{what}: {source}")]
    Io {
        /// What we were doing, naming the path.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A version of that name already exists with other content.
    #[error("{0} already exists with other content")]
    Exists(String),
    /// The object store failed.
    #[error("{what}: {message}")]
    Backend {
        /// What we were doing, naming the key.
        what: String,
        /// The backend's complaint.
        message: String,
        /// Whether another attempt may succeed (throttling, a restart).
        retryable: bool,
    },
    /// A key is not in the store.
    #[error("{0} is not in the store")]
    NotFound(String),
    /// The lease that staged a version is no longer the current one: nothing more is written.
    #[error("{0}")]
    Fenced(String),
}

/// Asked before a promotion writes each object: whether the lease that staged the version
/// is still the current holder's (docs/architecture.md, "Fencing"). A worker whose lease
/// was taken over stops before it writes over the new holder's objects.
#[async_trait]
pub trait Fence: Send + Sync {
    /// `Err(StoreError::Fenced)` once the lease is no longer the current one.
    async fn check(&self) -> Result<(), StoreError>;

    /// The lease's fencing token (`None`: no lease; an object store then writes the
    /// version's keys directly).
    fn token(&self) -> Option<u64>;
}

/// No lease to check (tests, and writers that hold none).
pub struct Unfenced;

#[async_trait]
impl Fence for Unfenced {
    async fn check(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn token(&self) -> Option<u64> {
        None
    }
}

impl Coded for StoreError {
    fn code(&self) -> Code {
        match self {
            StoreError::Refused(e) => e.code(),
            // A link planted in the data root, refused rather than followed.
            StoreError::Io { source, .. } if ontofetch_fsutil::beneath::is_link_refusal(source) => Code::Link,
            StoreError::Io { .. } => Code::Io,
            StoreError::Exists(_) => Code::Exists,
            StoreError::Backend { .. } => Code::Store,
            StoreError::NotFound(_) => Code::NotFound,
            StoreError::Fenced(_) => Code::Fenced,
        }
    }
}

/// Seconds since the epoch (names in the quarantine).
pub(crate) fn unix_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> StoreError {
    let what = what.into();
    move |source| StoreError::Io { what, source }
}

/// Where a promoted version ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promoted {
    /// Store key `ontologies/<id>/<version>`.
    pub key: String,
    /// The version was already there with the same bytes (another process promoted it).
    pub existed: bool,
}

/// A backend that holds the mirror's files. Keys are [`layout`] keys; every name that
/// becomes a key passed the storage gate. Staging is always on local disk.
#[async_trait]
pub trait ArtifactStore: Send + Sync {
    /// Where the store is (`file:///…`, `s3://bucket/prefix`), for reports.
    fn url(&self) -> String;

    /// The local directory that holds staging and locks (the store itself when local).
    fn local_root(&self) -> &Path;

    /// A fresh private staging directory for one version.
    fn begin(&self, gates: &Gates<'_>, id: &str) -> Result<Staging, StoreError> {
        Staging::begin(self.local_root(), gates, id)
    }

    /// Makes a staged version visible as `ontologies/<id>/<version>`. Idempotent: when the
    /// version already exists with the same original bytes, nothing changes and
    /// `existed` is set; with other bytes it is [`StoreError::Exists`].
    async fn promote(
        &self,
        gates: &Gates<'_>,
        staging: Staging,
        id: &str,
        version: &str,
        fence: &dyn Fence,
    ) -> Result<Promoted, StoreError>;

    /// Stores a content-addressed copy of a stored file (`src_key`); returns the CAS key.
    async fn cas_put(&self, gates: &Gates<'_>, sha256: &str, src_key: &str) -> Result<String, StoreError>;

    /// Points the ontology's `latest` pointer at a version (where the backend has one).
    async fn set_latest(&self, id: &str, version: &str) -> Result<(), StoreError>;

    /// Removes the ontology's `latest` pointer (its last version is gone).
    async fn clear_latest(&self, id: &str) -> Result<(), StoreError>;

    /// Removes a version's files (absent is fine).
    async fn remove_version(&self, gates: &Gates<'_>, id: &str, version: &str) -> Result<(), StoreError>;

    /// Removes what promotions of `id` under tokens older than `current` uploaded to their
    /// token-carrying keys (`.uploads/<id>/<token>/`) and aborts their incomplete multipart
    /// uploads: such a lease can never record, whatever the clocks say. Returns the keys
    /// removed. Nothing to do for a local store (its staging is local).
    async fn sweep_uploads(&self, _id: &str, _current: u64) -> Result<Vec<String>, StoreError> {
        Ok(vec![])
    }

    /// Moves a version directory whole into `quarantine/` (never deleting it) and returns
    /// where it went: what `doctor --fix` does with an unrecorded directory it cannot adopt.
    async fn quarantine(&self, gates: &Gates<'_>, id: &str, version: &str) -> Result<String, StoreError>;

    /// `(id, version)` of every version present.
    async fn version_dirs(&self) -> Result<Vec<(String, String)>, StoreError>;

    /// Whether the store can be reached and used (a missing bucket, refused credentials or
    /// an unreachable endpoint fail here, before any work).
    async fn check(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Whether a file exists.
    async fn exists(&self, key: &str) -> Result<bool, StoreError>;

    /// A stored file's size, `None` when it is absent: the cheap half of "the store holds
    /// what the catalog records" (the hash is the other half, `doctor --verify`).
    async fn size(&self, key: &str) -> Result<Option<u64>, StoreError>;

    /// Removes one stored file (absent is fine): a file planted in a version directory
    /// that the catalog does not record (`doctor --fix`).
    async fn delete(&self, key: &str) -> Result<(), StoreError>;

    /// Multipart uploads started and neither completed nor aborted (a worker died during
    /// one): `None` where there are none to have (a directory) or the server cannot list
    /// them.
    async fn open_uploads(&self) -> Result<Option<Vec<OpenUpload>>, StoreError> {
        Ok(None)
    }

    /// Aborts an incomplete upload, freeing its parts.
    async fn abort_upload(&self, _upload: &OpenUpload) -> Result<(), StoreError> {
        Ok(())
    }

    /// Every regular file under a key prefix with its size, in one listing (not a request
    /// per file), keys relative to the store, sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<(String, u64)>, StoreError>;

    /// A small file's bytes (manifests, reports).
    async fn read(&self, key: &str) -> Result<Vec<u8>, StoreError>;

    /// Replaces a small file atomically (a manifest rewritten by `validate`).
    async fn write(&self, key: &str, bytes: &[u8]) -> Result<(), StoreError>;

    /// Stores a local file under `key`, replacing what was there (a re-normalised file);
    /// large files go up in parts.
    async fn put_file(&self, key: &str, src: &Path) -> Result<(), StoreError>;

    /// Copies a stored file to a local path (a file to re-validate, to serve).
    async fn fetch_to(&self, key: &str, dest: &Path) -> Result<(), StoreError>;

    /// Streams `len` bytes of a stored file from `offset`: how `serve` hands out
    /// gigabyte artifacts without holding them whole. The local backend opens the key
    /// beneath its root and never through a symlink, so a link planted in the store
    /// cannot turn a download into a read of `/etc`.
    async fn open_range(&self, key: &str, offset: u64, len: u64) -> Result<ByteStream, StoreError>;

    /// The local path of a key, when the backend is a directory.
    fn local_path(&self, key: &str) -> Option<PathBuf>;

    /// The absolute location of a key (a path or a URL) as manifests record it.
    fn location(&self, key: &str) -> String;

    /// Staging directories left by killed pulls (their process is gone).
    fn stale_staging(&self) -> Vec<PathBuf> {
        staging::stale(self.local_root())
    }

    /// Removes a staging directory [`stale_staging`](Self::stale_staging) named, never
    /// following a link.
    fn remove_staging(&self, dir: &Path) -> std::io::Result<()> {
        staging::remove(self.local_root(), dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ontofetch_policy::{NoObserver, Policy};

    fn gates(policy: &Policy) -> Gates<'_> {
        Gates::new(policy, &NoObserver)
    }

    #[tokio::test]
    async fn staging_promote_cas_and_latest() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let policy = Policy::default();
        let gates = gates(&policy);
        let st = store.begin(&gates, "bfo").unwrap();
        std::fs::write(st.original("bfo.owl").unwrap(), b"hello").unwrap();
        st.write_json("manifest.json", &serde_json::json!({"b": 1, "a": 2})).unwrap();
        let p = store.promote(&gates, st, "bfo", "2024-01-01", &Unfenced).await.unwrap();
        assert_eq!(p, Promoted { key: "ontologies/bfo/2024-01-01".into(), existed: false });
        let vdir = store.path(&p.key);
        assert_eq!(std::fs::read(vdir.join("original/bfo.owl")).unwrap(), b"hello");
        let manifest = std::fs::read_to_string(vdir.join("manifest.json")).unwrap();
        assert!(manifest.find("\"a\"").unwrap() < manifest.find("\"b\"").unwrap(), "sorted keys");
        assert!(std::fs::read_dir(dir.path().join(".staging")).unwrap().next().is_none());
        let sha = ontofetch_fsutil::sha256_file(&vdir.join("original/bfo.owl")).unwrap();
        let key = store.cas_put(&gates, &sha, &format!("{}/original/bfo.owl", p.key)).await.unwrap();
        assert_eq!(key, layout::cas_key(&sha));
        assert_eq!(std::fs::read(dir.path().join(&key)).unwrap(), b"hello");
        store.set_latest("bfo", "2024-01-01").await.unwrap();
        assert_eq!(std::fs::read_link(dir.path().join("ontologies/bfo/latest")).unwrap(), Path::new("2024-01-01"));
        assert_eq!(store.version_dirs().await.unwrap(), vec![("bfo".to_string(), "2024-01-01".to_string())]);
        // the same bytes promoted again are the same version; other bytes are refused
        let st = store.begin(&gates, "bfo").unwrap();
        std::fs::write(st.original("bfo.owl").unwrap(), b"hello").unwrap();
        assert!(store.promote(&gates, st, "bfo", "2024-01-01", &Unfenced).await.unwrap().existed);
        let st = store.begin(&gates, "bfo").unwrap();
        std::fs::write(st.original("bfo.owl").unwrap(), b"other").unwrap();
        assert!(matches!(store.promote(&gates, st, "bfo", "2024-01-01", &Unfenced).await, Err(StoreError::Exists(_))));
        assert!(std::fs::read_dir(dir.path().join(".staging")).unwrap().next().is_none(), "dropped staging is removed");
    }

    #[tokio::test]
    async fn names_are_gated_before_any_path_is_built() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let policy = Policy::default();
        let gates = gates(&policy);
        assert_eq!(store.begin(&gates, "../x").unwrap_err().code().as_str(), "E_TRAVERSAL");
        let st = store.begin(&gates, "bfo").unwrap();
        assert_eq!(store.promote(&gates, st, "bfo", "..", &Unfenced).await.unwrap_err().code().as_str(), "E_TRAVERSAL");
        let st = store.begin(&gates, "bfo").unwrap();
        assert_eq!(
            store.promote(&gates, st, "bfo", "latest", &Unfenced).await.unwrap_err().code().as_str(),
            "E_RESERVED_NAME"
        );
        assert!(store.version_dirs().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_squatted_latest_directory_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        std::fs::create_dir_all(dir.path().join("ontologies/x/latest/original")).unwrap();
        assert_eq!(store.set_latest("x", "v1").await.unwrap_err().code().as_str(), "E_RESERVED_NAME");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("ontologies/x")).unwrap().flatten().collect();
        assert_eq!(leftovers.len(), 1, "no .latest.*.tmp left behind");
    }

    #[test]
    fn staging_of_a_dead_process_is_stale_and_a_live_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join(".staging").join(format!("bfo-{}-1", std::process::id()));
        let dead = dir.path().join(".staging").join("bfo-999999999-1");
        std::fs::create_dir_all(&live).unwrap();
        std::fs::create_dir_all(&dead).unwrap();
        assert_eq!(staging::stale(dir.path()), vec![dead]);
    }
}
