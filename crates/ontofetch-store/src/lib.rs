//! The store (DESIGN.md §1): `<root>/ontologies/<id>/<version>/{original,normalized,validation}/`
//! plus `manifest.json`, a CAS at `<root>/by-sha256/aa/bb/<digest>`, and a `latest` link per
//! ontology. Everything is assembled in a fresh staging directory on the same filesystem and
//! appears in the store by one `rename`, so a failure leaves the store exactly as it was.

use ontofetch_policy::storage::WriteFacts;
use ontofetch_policy::{Gates, PolicyError};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The store's error type.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A gate refused a name or a write.
    #[error(transparent)]
    Refused(#[from] PolicyError),
    /// File system trouble.
    #[error("E_IO: {what}: {source}")]
    Io {
        /// What we were doing, naming the path.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The version directory already exists.
    #[error("E_EXISTS: {0} already exists")]
    Exists(String),
}

impl StoreError {
    /// The stable code.
    pub fn code(&self) -> String {
        match self {
            StoreError::Refused(e) => e.code().map(|c| c.as_str().to_string()).unwrap_or_else(|| "E_GATE_ERROR".into()),
            StoreError::Io { .. } => "E_IO".into(),
            StoreError::Exists(_) => "E_EXISTS".into(),
        }
    }
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> StoreError {
    let what = what.into();
    move |source| StoreError::Io { what, source }
}

/// DocsToKG's `sanitize_filename`: separators and anything outside `[A-Za-z0-9._-]` become
/// `_`, leading/trailing `.`/`_` are stripped, empty becomes `ontology`, max 255 bytes.
pub fn sanitize_filename(name: &str) -> String {
    let mapped: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }).collect();
    let trimmed = mapped.trim_matches(|c| c == '.' || c == '_');
    let mut out = if trimmed.is_empty() { "ontology".to_string() } else { trimmed.to_string() };
    out.truncate(255);
    out
}

/// The part of a file name before its first dot (`hp.owl.gz` → `hp`), naming the
/// `<stem>_extracted/` and `normalized/<stem>.nt` siblings of an original.
pub fn file_stem(file_name: &str) -> String {
    file_name.split('.').next().filter(|s| !s.is_empty()).unwrap_or("ontology").to_string()
}

/// Makes a version string usable as one directory name (same charset as ids).
pub fn sanitize_version(version: &str) -> String {
    let s = sanitize_filename(version);
    s.chars().take(100).collect()
}

/// The store rooted at the data root.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// A private staging directory for one pull.
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
}

impl Staging {
    /// The staging directory (the future version directory).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `original/<filename>` inside staging, its parent created.
    pub fn original(&self, filename: &str) -> Result<PathBuf, StoreError> {
        let dir = self.dir.join("original");
        std::fs::create_dir_all(&dir).map_err(io(format!("creating {}", dir.display())))?;
        Ok(dir.join(sanitize_filename(filename)))
    }

    /// Writes a JSON document (sorted keys, indent 2) into staging and fsyncs it.
    pub fn write_json(&self, rel: &str, value: &serde_json::Value) -> Result<PathBuf, StoreError> {
        let path = self.dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(format!("creating {}", parent.display())))?;
        }
        let mut f = std::fs::File::create(&path).map_err(io(format!("creating {}", path.display())))?;
        let text = serde_json::to_string_pretty(value).expect("JSON values serialise");
        f.write_all(text.as_bytes())
            .and_then(|_| f.write_all(b"\n"))
            .and_then(|_| f.sync_all())
            .map_err(io(format!("writing {}", path.display())))?;
        Ok(path)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // Promoted staging was renamed away; anything still here is a failed attempt.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Where a promoted version ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Promoted {
    /// Absolute version directory.
    pub dir: PathBuf,
    /// Store key `ontologies/<id>/<version>`.
    pub relpath: String,
}

fn fsync_dir(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// Lowercase hex SHA-256 of bytes.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Lowercase hex SHA-256 of a file.
pub fn sha256_file(path: &Path) -> Result<String, StoreError> {
    let mut f = std::fs::File::open(path).map_err(io(format!("opening {}", path.display())))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(io(format!("reading {}", path.display())))?;
    Ok(hex::encode(h.finalize()))
}

impl Store {
    /// The store under `root` (the data root; `ontologies/`, `by-sha256/` and `.staging/` live in it).
    pub fn new(root: &Path) -> Self {
        Store { root: root.to_path_buf() }
    }

    /// The data root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<root>/ontologies`.
    pub fn ontologies(&self) -> PathBuf {
        self.root.join("ontologies")
    }

    /// `<root>/ontologies/<id>/<version>`.
    pub fn version_dir(&self, id: &str, version: &str) -> PathBuf {
        self.ontologies().join(id).join(version)
    }

    fn staging_root(&self) -> PathBuf {
        self.root.join(".staging")
    }

    /// A fresh, empty, private staging directory (never reused: archives are only ever
    /// extracted into new directories).
    pub fn begin(&self, gates: &Gates<'_>, id: &str) -> Result<Staging, StoreError> {
        gates.segment("ontology id", id)?;
        let base = self.staging_root();
        std::fs::create_dir_all(&base).map_err(io(format!("creating {}", base.display())))?;
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let dir = base.join(format!("{id}-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&dir).map_err(io(format!("creating {}", dir.display())))?;
        Ok(Staging { dir })
    }

    fn free_bytes(&self) -> Option<u64> {
        rustix::fs::statvfs(&self.root).ok().map(|s| s.f_bavail * s.f_frsize)
    }

    /// Moves staging into `ontologies/<id>/<version>` by one rename, after the storage gate
    /// (inside the root, safe names, enough space for what is already in staging).
    pub fn promote(
        &self,
        gates: &Gates<'_>,
        staging: Staging,
        id: &str,
        version: &str,
    ) -> Result<Promoted, StoreError> {
        gates.segment("ontology id", id)?;
        gates.segment("version", version)?;
        let target = self.version_dir(id, version);
        let root_is_symlink =
            std::fs::symlink_metadata(&self.root).map(|m| m.file_type().is_symlink()).unwrap_or(false);
        // The bytes are already on this filesystem; the gate checks the path and the reserve.
        gates.write(&WriteFacts {
            root: &self.root,
            target: &target,
            root_is_symlink,
            bytes: 0,
            free_bytes: self.free_bytes(),
        })?;
        let parent = target.parent().expect("version dir has a parent");
        std::fs::create_dir_all(parent).map_err(io(format!("creating {}", parent.display())))?;
        if target.exists() {
            return Err(StoreError::Exists(target.display().to_string()));
        }
        std::fs::rename(&staging.dir, &target).map_err(io(format!("promoting into {}", target.display())))?;
        fsync_dir(parent);
        std::mem::forget(staging);
        Ok(Promoted { dir: target, relpath: format!("ontologies/{id}/{version}") })
    }

    /// Hard-links (or copies) a file into the CAS; returns the store key.
    pub fn cas_put(&self, gates: &Gates<'_>, sha256: &str, src: &Path) -> Result<String, StoreError> {
        let key = format!(
            "by-sha256/{}/{}/{sha256}",
            &sha256[..2.min(sha256.len())],
            &sha256[2.min(sha256.len())..4.min(sha256.len())]
        );
        gates.cas_key(&key)?;
        let dest = self.root.join(&key);
        if dest.exists() {
            return Ok(key);
        }
        let parent = dest.parent().expect("CAS key has a parent");
        std::fs::create_dir_all(parent).map_err(io(format!("creating {}", parent.display())))?;
        let tmp = parent.join(format!(".{sha256}.{}.tmp", std::process::id()));
        if std::fs::hard_link(src, &tmp).is_err() {
            std::fs::copy(src, &tmp).map_err(io(format!("copying into {}", tmp.display())))?;
        }
        std::fs::rename(&tmp, &dest).map_err(io(format!("renaming into {}", dest.display())))?;
        Ok(key)
    }

    /// Points `ontologies/<id>/latest` at `version` (a relative symlink, replaced atomically).
    pub fn set_latest(&self, id: &str, version: &str) -> Result<(), StoreError> {
        let dir = self.ontologies().join(id);
        let link = dir.join("latest");
        let tmp = dir.join(format!(".latest.{}.tmp", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(version, &tmp).map_err(io(format!("linking {}", tmp.display())))?;
        std::fs::rename(&tmp, &link).map_err(io(format!("replacing {}", link.display())))?;
        fsync_dir(&dir);
        Ok(())
    }

    /// The version `latest` points at.
    pub fn latest(&self, id: &str) -> Option<String> {
        std::fs::read_link(self.ontologies().join(id).join("latest")).ok().map(|p| p.to_string_lossy().into_owned())
    }

    /// Removes a version directory (rollback after a failed catalog commit, prune).
    pub fn remove_version(&self, gates: &Gates<'_>, id: &str, version: &str) -> Result<(), StoreError> {
        gates.segment("ontology id", id)?;
        gates.segment("version", version)?;
        let dir = self.version_dir(id, version);
        std::fs::remove_dir_all(&dir).map_err(io(format!("removing {}", dir.display())))
    }

    /// `(id, version)` of every version directory on disk (`latest` links and dot-files skipped).
    pub fn version_dirs(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let Ok(ids) = std::fs::read_dir(self.ontologies()) else {
            return out;
        };
        for id in ids.flatten() {
            if !id.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                continue;
            }
            let idn = id.file_name().to_string_lossy().into_owned();
            for v in std::fs::read_dir(id.path()).into_iter().flatten().flatten() {
                let name = v.file_name().to_string_lossy().into_owned();
                if name == "latest" || name.starts_with('.') || !v.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    continue;
                }
                out.push((idn.clone(), name));
            }
        }
        out.sort();
        out
    }

    /// Leftover staging directories (from a killed pull).
    pub fn stale_staging(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.staging_root()).into_iter().flatten().flatten().map(|e| e.path()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ontofetch_policy::{NoObserver, Policy};

    #[test]
    fn sanitize_like_docstokg() {
        assert_eq!(sanitize_filename("bfo.owl"), "bfo.owl");
        assert_eq!(sanitize_filename("../../etc/passwd"), "etc_passwd");
        assert_eq!(sanitize_filename("..."), "ontology");
        assert_eq!(sanitize_filename("a b?c.owl"), "a_b_c.owl");
        assert_eq!(
            sanitize_version("http://purl.obolibrary.org/obo/bfo/2019-08-26/bfo.owl"),
            "http___purl.obolibrary.org_obo_bfo_2019-08-26_bfo.owl"
        );
        assert_eq!(sanitize_version(&"v".repeat(300)).len(), 100);
    }

    #[test]
    fn staging_promote_cas_and_latest() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let policy = Policy::default();
        let gates = Gates::new(&policy, &NoObserver);
        let st = store.begin(&gates, "bfo").unwrap();
        let orig = st.original("bfo.owl").unwrap();
        std::fs::write(&orig, b"hello").unwrap();
        st.write_json("manifest.json", &serde_json::json!({"b": 1, "a": 2})).unwrap();
        let p = store.promote(&gates, st, "bfo", "2024-01-01").unwrap();
        assert_eq!(p.relpath, "ontologies/bfo/2024-01-01");
        assert_eq!(std::fs::read(p.dir.join("original/bfo.owl")).unwrap(), b"hello");
        let manifest = std::fs::read_to_string(p.dir.join("manifest.json")).unwrap();
        assert!(manifest.find("\"a\"").unwrap() < manifest.find("\"b\"").unwrap(), "sorted keys");
        assert!(store.stale_staging().is_empty());
        let sha = sha256_file(&p.dir.join("original/bfo.owl")).unwrap();
        let key = store.cas_put(&gates, &sha, &p.dir.join("original/bfo.owl")).unwrap();
        assert_eq!(key, format!("by-sha256/{}/{}/{sha}", &sha[..2], &sha[2..4]));
        assert_eq!(std::fs::read(dir.path().join(&key)).unwrap(), b"hello");
        store.set_latest("bfo", "2024-01-01").unwrap();
        assert_eq!(store.latest("bfo").as_deref(), Some("2024-01-01"));
        assert_eq!(store.version_dirs(), vec![("bfo".to_string(), "2024-01-01".to_string())]);
        // a second promote to the same version is refused, staging cleaned up
        let st = store.begin(&gates, "bfo").unwrap();
        assert!(matches!(store.promote(&gates, st, "bfo", "2024-01-01"), Err(StoreError::Exists(_))));
        assert!(store.stale_staging().is_empty(), "dropped staging is removed");
    }

    #[test]
    fn names_are_gated_before_any_path_is_built() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let policy = Policy::default();
        let gates = Gates::new(&policy, &NoObserver);
        assert_eq!(store.begin(&gates, "../x").unwrap_err().code(), "E_TRAVERSAL");
        let st = store.begin(&gates, "bfo").unwrap();
        assert_eq!(store.promote(&gates, st, "bfo", "..").unwrap_err().code(), "E_TRAVERSAL");
        assert!(!dir.path().join("ontologies").join("bfo").exists() || store.version_dirs().is_empty());
    }
}
