//! Advisory file locks (`flock`) for leases on one machine: the kernel releases them when
//! the holder's process dies, `kill -9` included, so a crashed pull never blocks the next.

use std::fs::File;
use std::path::Path;

/// A held lock; dropping the file releases it.
pub struct Held(#[allow(dead_code)] File);

/// Tries to lock `<dir>/<name>.lock` exclusively without waiting.
pub fn try_lock(dir: &Path, name: &str) -> std::io::Result<Option<Held>> {
    // No link on the way: a link planted at `.locks` or at `<name>.lock` is refused, never
    // created through (docs/architecture.md, "Filesystem rule").
    let (parent, last) = match (dir.parent(), dir.file_name()) {
        (Some(p), Some(n)) => (p.to_path_buf(), n.to_string_lossy().into_owned()),
        _ => (dir.to_path_buf(), String::new()),
    };
    std::fs::create_dir_all(&parent)?;
    let file = ontofetch_fsutil::beneath::open_file(&parent, &format!("{last}/{name}.lock"))?;
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(Some(Held(file))),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// flock is per open file description: two opens in one process exclude each other
    /// like two processes do.
    #[test]
    fn locks_exclude_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let a = try_lock(dir.path(), "x").unwrap().unwrap();
        assert!(try_lock(dir.path(), "x").unwrap().is_none());
        drop(a);
        assert!(try_lock(dir.path(), "x").unwrap().is_some());
    }
}
