//! Private staging directories on local disk: a version is assembled in one, and becomes
//! visible only when the store promotes it. A staging directory that was not promoted is
//! removed when it is dropped, so a failed pull leaves nothing behind.

use crate::layout;
use crate::{StoreError, io};
use ontofetch_policy::Gates;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// A private staging directory for one pull.
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    kept: bool,
}

impl Staging {
    /// A fresh, empty, private directory under `<local root>/.staging` (never reused:
    /// archives are only ever extracted into new directories).
    pub fn begin(local_root: &Path, gates: &Gates<'_>, id: &str) -> Result<Staging, StoreError> {
        gates.segment("ontology id", id)?;
        let base = local_root.join(layout::STAGING);
        // No link on the way: a `.staging` planted as a link to elsewhere is refused, so no
        // download is ever written outside the root. (The directory becomes the version's
        // directory, so it is created as readable as the umask allows, like every stored file.)
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let name = format!("{id}-{}-{nanos}", std::process::id());
        let rel = format!("{}/{name}", layout::STAGING);
        // The root itself is the operator's path (it may be a link, by their choice).
        std::fs::create_dir_all(local_root).map_err(io(format!("creating {}", local_root.display())))?;
        let parent = ontofetch_fsutil::beneath::create_dirs(local_root, layout::STAGING)
            .map_err(io(format!("creating {}", base.display())))?;
        rustix::fs::mkdirat(&parent, name.as_str(), rustix::fs::Mode::from_raw_mode(0o777))
            .map_err(|e| io(format!("creating {rel}"))(e.into()))?;
        Ok(Staging { dir: base.join(name), kept: false })
    }

    /// The staging directory (the future version directory).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A path inside staging for a relative layout key, its parent created.
    pub fn path(&self, rel: &str) -> Result<PathBuf, StoreError> {
        let path = self.dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(format!("creating {}", parent.display())))?;
        }
        Ok(path)
    }

    /// `original/<filename>` inside staging (sanitised), its parent created.
    pub fn original(&self, filename: &str) -> Result<PathBuf, StoreError> {
        self.path(&layout::original_rel(&layout::sanitize_filename(filename)))
    }

    /// Writes a file durably (fsynced) inside staging.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<PathBuf, StoreError> {
        let path = self.path(rel)?;
        ontofetch_fsutil::write_atomic(&path, bytes).map_err(io(format!("writing {}", path.display())))?;
        Ok(path)
    }

    /// Writes a JSON document (sorted keys, indent 2) durably inside staging.
    pub fn write_json(&self, rel: &str, value: &serde_json::Value) -> Result<PathBuf, StoreError> {
        let text = serde_json::to_string_pretty(value).expect("JSON values serialise") + "\n";
        self.write(rel, text.as_bytes())
    }

    /// Every regular file in staging as (relative key, absolute path), sorted.
    pub fn files(&self) -> Result<Vec<(String, PathBuf)>, StoreError> {
        let mut out = Vec::new();
        let mut stack = vec![self.dir.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).map_err(io(format!("listing {}", d.display())))? {
                let e = e.map_err(io(format!("listing {}", d.display())))?;
                let t = e.file_type().map_err(io(format!("inspecting {}", e.path().display())))?;
                if t.is_dir() {
                    stack.push(e.path());
                } else if t.is_file() {
                    let rel = e.path().strip_prefix(&self.dir).expect("under staging").to_string_lossy().into_owned();
                    out.push((rel, e.path()));
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

impl Staging {
    /// Called once the directory was renamed into the store: nothing left to clean up.
    pub(crate) fn disarm(mut self) {
        self.kept = true;
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // Promoted staging was renamed away; anything still here is a failed attempt.
        if !self.kept
            && let Some(root) = self.dir.parent().and_then(Path::parent)
        {
            let _ = remove(root, &self.dir);
        }
    }
}

/// The staging directories under a local root: only real directories inside a real
/// `.staging` count (a `.staging` that is a link lists nothing, doctor reports the link,
/// and a link inside it is not a staging directory).
fn staging_dirs(local_root: &Path) -> impl Iterator<Item = PathBuf> {
    let real = ontofetch_fsutil::beneath::link_free(local_root, layout::STAGING);
    std::fs::read_dir(local_root.join(layout::STAGING))
        .into_iter()
        .filter(move |_| real)
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
}

/// Leftover staging directories under a local root (from a killed pull) that no live
/// process owns: the pid in the name is gone.
pub fn stale(local_root: &Path) -> Vec<PathBuf> {
    staging_dirs(local_root).filter(|p| !owner_alive(p)).collect()
}

/// This process's own staging directories (`<id>-<pid>-<nanos>`): what an interrupted
/// command removes before it exits, so Ctrl-C leaves nothing for doctor to report.
pub fn own(local_root: &Path) -> Vec<PathBuf> {
    let pid = std::process::id() as i32;
    staging_dirs(local_root).filter(|p| owner_pid(p) == Some(pid)).collect()
}

/// Removes a staging directory found by [`stale`] or [`own`], never following a link.
pub fn remove(local_root: &Path, dir: &Path) -> std::io::Result<()> {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if name.is_empty() || name.contains('/') {
        return Ok(());
    }
    ontofetch_fsutil::beneath::remove_tree(local_root, &format!("{}/{name}", layout::STAGING))
}

/// The pid a staging directory's name carries (`<id>-<pid>-<nanos>`).
fn owner_pid(dir: &Path) -> Option<i32> {
    let name = dir.file_name()?.to_string_lossy().into_owned();
    // Ids may contain '-', so read from the right.
    name.rsplit('-').nth(1).and_then(|p| p.parse::<i32>().ok())
}

fn owner_alive(dir: &Path) -> bool {
    owner_pid(dir)
        .and_then(rustix::process::Pid::from_raw)
        .is_some_and(|p| rustix::process::test_kill_process(p).is_ok())
}
