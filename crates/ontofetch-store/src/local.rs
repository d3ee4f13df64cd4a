//! The local filesystem backend: the store is a directory (the data root by default).
//! A version appears by one `rename` of its staging directory; `latest` is a relative
//! symlink replaced atomically.

use crate::layout;
use crate::staging::{self, Staging};
use crate::{ArtifactStore, Promoted, StoreError, io};
use async_trait::async_trait;
use ontofetch_policy::Gates;
use ontofetch_policy::storage::WriteFacts;
use std::path::{Path, PathBuf};

/// The store rooted at a local directory.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    /// The store under `root` (`ontologies/`, `by-sha256/` and `.staging/` live in it).
    pub fn new(root: &Path) -> Self {
        LocalStore { root: ontofetch_fsutil::lexical(root) }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<root>/<key>`.
    pub fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    fn free_bytes(&self) -> Option<u64> {
        rustix::fs::statvfs(&self.root).ok().map(|s| s.f_bavail * s.f_frsize)
    }

    fn root_is_symlink(&self) -> bool {
        ontofetch_fsutil::is_symlink(&self.root)
    }

    /// Whether an existing version directory holds exactly these original bytes.
    fn same_original(target: &Path, staging: &Staging) -> bool {
        let original = |dir: &Path| -> Option<PathBuf> {
            std::fs::read_dir(dir.join(layout::ORIGINAL))
                .ok()?
                .flatten()
                .find(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| e.path())
        };
        match (original(target), original(staging.dir())) {
            (Some(a), Some(b)) => {
                a.file_name() == b.file_name()
                    && matches!(
                        (ontofetch_fsutil::sha256_file(&a), ontofetch_fsutil::sha256_file(&b)),
                        (Ok(x), Ok(y)) if x == y
                    )
            }
            _ => false,
        }
    }
}

#[async_trait]
impl ArtifactStore for LocalStore {
    fn url(&self) -> String {
        format!("file://{}", self.root.display())
    }

    fn local_root(&self) -> &Path {
        &self.root
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
        // One rename makes the version: the lease is checked once, before it.
        fence.check().await?;
        let key = layout::version_key(id, version);
        let target = self.path(&key);
        // The bytes are already on this filesystem; the gate checks the path and the reserve.
        gates.write(&WriteFacts {
            root: &self.root,
            target: &target,
            root_is_symlink: self.root_is_symlink(),
            bytes: 0,
            free_bytes: self.free_bytes(),
        })?;
        let parent = target.parent().expect("version dir has a parent");
        // Through directory descriptors, no link followed at either end: a link planted at
        // `ontologies/<id>` or `.staging` is refused, never renamed into or out of.
        let from = staging.dir().strip_prefix(&self.root).map(|r| r.to_string_lossy().into_owned()).map_err(|_| {
            io(format!("{} is not under {}", staging.dir().display(), self.root.display()))(std::io::Error::other(
                "staging outside the root",
            ))
        })?;
        // `rename` onto an existing non-empty directory fails: whoever promoted first wins,
        // and identical bytes promoted twice are the same version, not an error.
        match ontofetch_fsutil::beneath::rename(&self.root, &from, &key) {
            Ok(()) => {
                ontofetch_fsutil::fsync_dir(parent);
                staging.disarm();
                Ok(Promoted { key, existed: false })
            }
            Err(e) if ontofetch_fsutil::beneath::is_link_refusal(&e) => Err(io(format!("promoting into {key}"))(e)),
            Err(_) if target.is_dir() && Self::same_original(&target, &staging) => Ok(Promoted { key, existed: true }),
            Err(_) if target.exists() => Err(StoreError::Exists(target.display().to_string())),
            Err(e) => Err(io(format!("promoting into {}", target.display()))(e)),
        }
    }

    async fn cas_put(&self, gates: &Gates<'_>, sha256: &str, src_key: &str) -> Result<String, StoreError> {
        let src = &self.path(src_key);
        let key = layout::cas_key(sha256);
        gates.cas_key(&key)?;
        let dest = self.path(&key);
        if std::fs::symlink_metadata(&dest).is_ok_and(|m| m.is_file()) {
            return Ok(key);
        }
        let (parent_key, name) = key.rsplit_once('/').expect("CAS key has a parent");
        let parent = ontofetch_fsutil::beneath::PinnedDir::create(&self.root, parent_key)
            .map_err(io(format!("creating {parent_key}")))?;
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{sha256}."))
            .suffix(".tmp")
            .make_in(parent.path(), |p| std::fs::hard_link(src, p).or_else(|_| std::fs::copy(src, p).map(drop)))
            .map_err(io(format!("copying into {parent_key}")))?;
        tmp.persist(parent.path().join(name)).map_err(|e| io(format!("renaming into {}", dest.display()))(e.error))?;
        Ok(key)
    }

    async fn open_range(&self, key: &str, offset: u64, len: u64) -> Result<crate::ByteStream, StoreError> {
        use rustix::fs::{Mode, OFlags, ResolveFlags};
        use std::io::{Seek, SeekFrom};
        let root = self.root.clone();
        let rel = key.trim_start_matches('/').to_string();
        let file = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
            let dir = std::fs::File::open(&root)?;
            let fd = rustix::fs::openat2(
                &dir,
                rel.as_str(),
                OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
                Mode::empty(),
                ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
            )?;
            let mut file = std::fs::File::from(fd);
            if !file.metadata()?.is_file() {
                return Err(std::io::Error::new(std::io::ErrorKind::NotFound, "not a regular file"));
            }
            file.seek(SeekFrom::Start(offset))?;
            Ok(file)
        })
        .await
        .map_err(|e| io(format!("opening {key}"))(std::io::Error::other(e)))?
        .map_err(io(format!("opening {key} beneath {}", self.root.display())))?;
        Ok(read_on_a_thread(file, len))
    }

    async fn set_latest(&self, id: &str, version: &str) -> Result<(), StoreError> {
        let okey = layout::ontology_key(id);
        let link = self.path(&okey).join(layout::LATEST);
        // The ontology's directory is pinned (no link on the way): the pointer is never
        // written through a link planted at `ontologies/<id>`.
        let pinned =
            ontofetch_fsutil::beneath::PinnedDir::open(&self.root, &okey).map_err(io(format!("opening {okey}")))?;
        let dir = pinned.path();
        // A real directory named `latest` (an old squatted version) is never replaced.
        if std::fs::symlink_metadata(&link).is_ok_and(|m| m.is_dir()) {
            return Err(StoreError::Refused(ontofetch_policy::PolicyError::Refused(ontofetch_policy::Refusal::new(
                ontofetch_policy::Gate::Storage,
                ontofetch_policy::Code::ReservedName,
                format!("{} is a directory, not the latest pointer; move it aside", link.display()),
            ))));
        }
        let tmp = tempfile::Builder::new()
            .prefix(".latest.")
            .suffix(".tmp")
            .make_in(&dir, |p| std::os::unix::fs::symlink(version, p))
            .map_err(io(format!("linking in {}", dir.display())))?;
        std::fs::rename(tmp.path(), dir.join(layout::LATEST)).map_err(io(format!("replacing {}", link.display())))?;
        std::mem::forget(tmp);
        ontofetch_fsutil::fsync_dir(&dir);
        Ok(())
    }

    async fn clear_latest(&self, id: &str) -> Result<(), StoreError> {
        let key = format!("{}/{}", layout::ontology_key(id), layout::LATEST);
        ontofetch_fsutil::beneath::remove_file(&self.root, &key).map_err(io(format!("removing {key}")))
    }

    async fn remove_version(&self, gates: &Gates<'_>, id: &str, version: &str) -> Result<(), StoreError> {
        gates.segment("ontology id", id)?;
        gates.segment("version", version)?;
        // Reached with no link on the way, and emptied through descriptors: a link planted at
        // `ontologies/<id>` or inside the version is never followed (docs/architecture.md,
        // "Filesystem rule").
        let key = layout::version_key(id, version);
        ontofetch_fsutil::beneath::remove_tree(&self.root, &key).map_err(io(format!("removing {key}")))
    }

    async fn quarantine(&self, gates: &Gates<'_>, id: &str, version: &str) -> Result<String, StoreError> {
        gates.segment("ontology id", id)?;
        gates.segment("version", version)?;
        let from = layout::version_key(id, version);
        let to = layout::quarantine_key(id, version, crate::unix_seconds());
        ontofetch_fsutil::beneath::rename(&self.root, &from, &to).map_err(io(format!("moving {from} to {to}")))?;
        Ok(to)
    }

    async fn version_dirs(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut out = Vec::new();
        let Ok(ids) = std::fs::read_dir(self.path(layout::ONTOLOGIES)) else {
            return Ok(out);
        };
        for id in ids.flatten() {
            if !id.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                continue;
            }
            let idn = id.file_name().to_string_lossy().into_owned();
            for v in std::fs::read_dir(id.path()).into_iter().flatten().flatten() {
                let name = v.file_name().to_string_lossy().into_owned();
                if name == layout::LATEST
                    || name.starts_with('.')
                    || !v.file_type().map(|t| t.is_dir()).unwrap_or(false)
                {
                    continue;
                }
                out.push((idn.clone(), name));
            }
        }
        out.sort();
        Ok(out)
    }

    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.path(key).is_file())
    }

    async fn size(&self, key: &str) -> Result<Option<u64>, StoreError> {
        let p = self.path(key);
        // lstat: a link planted where a file was recorded is not that file.
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.is_file() => Ok(Some(m.len())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(format!("inspecting {}", p.display()))(e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        ontofetch_fsutil::beneath::remove_file(&self.root, key).map_err(io(format!("removing {key}")))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<(String, u64)>, StoreError> {
        let mut out = Vec::new();
        // A prefix reached through a planted link lists nothing (doctor reports the link):
        // what lies behind it is not the store's.
        if !ontofetch_fsutil::beneath::link_free(&self.root, prefix.trim_end_matches('/')) {
            return Ok(out);
        }
        let mut stack = vec![self.path(prefix)];
        while let Some(dir) = stack.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io(format!("listing {}", dir.display()))(e)),
            };
            for e in entries {
                let e = e.map_err(io(format!("listing {}", dir.display())))?;
                // file_type() does not follow links: a link is neither walked nor listed.
                let t = e.file_type().map_err(io(format!("inspecting {}", e.path().display())))?;
                if t.is_dir() {
                    stack.push(e.path());
                } else if t.is_file() {
                    let len = e.metadata().map_err(io(format!("inspecting {}", e.path().display())))?.len();
                    let rel = e.path().strip_prefix(&self.root).map(|r| r.to_string_lossy().into_owned());
                    if let Ok(rel) = rel {
                        out.push((rel, len));
                    }
                }
            }
        }
        out.sort();
        Ok(out)
    }

    async fn read(&self, key: &str) -> Result<Vec<u8>, StoreError> {
        let p = self.path(key);
        std::fs::read(&p).map_err(|e| missing_or(e, &p, format!("reading {}", p.display())))
    }

    async fn write(&self, key: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let (parent, name) = key.rsplit_once('/').unwrap_or(("", key));
        let dir = ontofetch_fsutil::beneath::PinnedDir::create(&self.root, parent)
            .map_err(io(format!("creating {parent}")))?;
        ontofetch_fsutil::write_atomic(&dir.path().join(name), bytes).map_err(io(format!("writing {key}")))
    }

    async fn put_file(&self, key: &str, src: &Path) -> Result<(), StoreError> {
        let dest = self.path(key);
        if dest == src {
            return Ok(());
        }
        let (parent_key, name) = key.rsplit_once('/').unwrap_or(("", key));
        let parent = ontofetch_fsutil::beneath::PinnedDir::create(&self.root, parent_key)
            .map_err(io(format!("creating {parent_key}")))?;
        let tmp = ontofetch_fsutil::shared_temp(".put.")
            .tempfile_in(parent.path())
            .map_err(io(format!("creating a temporary file in {parent_key}")))?;
        std::fs::copy(src, tmp.path()).map_err(io(format!("copying {}", src.display())))?;
        tmp.persist(parent.path().join(name)).map_err(|e| io(format!("replacing {}", dest.display()))(e.error))?;
        Ok(())
    }

    async fn fetch_to(&self, key: &str, dest: &Path) -> Result<(), StoreError> {
        let src = self.path(key);
        std::fs::copy(&src, dest)
            .map(drop)
            .map_err(|e| missing_or(e, &src, format!("copying {} to {}", src.display(), dest.display())))
    }

    fn local_path(&self, key: &str) -> Option<PathBuf> {
        Some(self.path(key))
    }

    fn location(&self, key: &str) -> String {
        self.path(key).display().to_string()
    }

    fn stale_staging(&self) -> Vec<PathBuf> {
        staging::stale(&self.root)
    }
}

/// An absent file is [`StoreError::NotFound`] (as on object storage); anything else is I/O.
fn missing_or(e: std::io::Error, path: &Path, what: String) -> StoreError {
    if e.kind() == std::io::ErrorKind::NotFound {
        StoreError::NotFound(path.display().to_string())
    } else {
        io(what)(e)
    }
}

/// Bytes read at once when streaming a stored file.
const STREAM_CHUNK: u64 = 1 << 20;

/// `len` bytes of `file` from where it stands, read on a blocking thread straight into the
/// buffers the stream hands out: one copy from the page cache (tokio's file reads into a
/// buffer of its own and copies again), no zeroing, a thread hop per MiB instead of per read.
fn read_on_a_thread(file: std::fs::File, len: u64) -> crate::ByteStream {
    use futures_util::StreamExt;
    use std::io::Read;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<bytes::Bytes>>(4);
    tokio::task::spawn_blocking(move || {
        let mut file = file;
        let mut left = len;
        while left > 0 {
            let want = left.min(STREAM_CHUNK);
            let mut buf = Vec::with_capacity(want as usize);
            let read = (&mut file).take(want).read_to_end(&mut buf);
            let chunk = match read {
                Ok(0) => break,
                Ok(n) => {
                    left -= n as u64;
                    Ok(bytes::Bytes::from(buf))
                }
                Err(e) => Err(e),
            };
            let failed = chunk.is_err();
            // The reader went away (the client hung up): stop reading.
            if tx.blocking_send(chunk).is_err() || failed {
                break;
            }
        }
    });
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed()
}
