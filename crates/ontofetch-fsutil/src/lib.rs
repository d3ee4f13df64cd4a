//! The one way ontofetch writes a small file and hashes a file. Readers (another process,
//! node_exporter, Prometheus, a person) must see the old file or the new one, never half of
//! one, even when several processes write the same path at once: every write goes to a
//! uniquely named temporary file in the same directory, is fsynced, renamed over the target,
//! and the directory is fsynced so the rename survives a crash.

#![warn(missing_docs)]

pub mod beneath;

use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::Path;

/// The bytes in a fsynced, uniquely named temporary file beside `path` (hidden: a dot
/// file named after the target), ready to be renamed over it.
fn staged<'p>(path: &'p Path, bytes: &[u8]) -> std::io::Result<(&'p Path, tempfile::NamedTempFile)> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // The random suffix keeps concurrent writers of the same path apart.
    let mut tmp = shared_temp(&format!(".{name}.")).suffix(".tmp").tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    Ok((dir, tmp))
}

/// A temporary-file builder whose file is created with mode `0666` less the umask, as
/// `open(2)` would create any file: a mirror's files are read by web servers and colleagues,
/// and tempfile's private `0600` default would make some stored files unreadable to them
/// and others not (docs/architecture.md, "Invariants").
pub fn shared_temp(prefix: &str) -> tempfile::Builder<'_, 'static> {
    use std::os::unix::fs::PermissionsExt;
    let mut b = tempfile::Builder::new();
    b.prefix(prefix).permissions(std::fs::Permissions::from_mode(0o666));
    b
}

/// The process's file-creation mask, read without changing it (`/proc/self/status`, Linux
/// 4.7+); `None` where it cannot be read. `umask(2)` itself can only be read by setting it,
/// which would race with other threads creating files.
pub fn umask() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("Umask:"))?;
    u32::from_str_radix(line.trim(), 8).ok()
}

/// The permission bits a regular file the tool writes should have: `0666` less the umask.
pub fn shared_file_mode() -> u32 {
    0o666 & !umask().unwrap_or(0o022)
}

/// Writes `bytes` to `path` atomically (see the crate docs). The parent directory must
/// exist. A failure leaves `path` as it was and no temporary file behind.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let (dir, tmp) = staged(path, bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    fsync_dir(dir);
    Ok(())
}

/// As [`write_atomic`], but refuses (`AlreadyExists`) when `path` exists: never clobbers a
/// file someone wrote (`ontofetch init`), even if it appears while we write.
pub fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let (dir, tmp) = staged(path, bytes)?;
    tmp.persist_noclobber(path).map_err(|e| e.error)?;
    fsync_dir(dir);
    Ok(())
}

/// Fsyncs a directory so a rename or create inside it is durable (best effort: some
/// filesystems refuse to open directories for sync).
pub fn fsync_dir(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

/// The path with `.` components and trailing separators removed, lexically (no
/// filesystem access). `lstat` of `LINK/` or `LINK/.` follows the link; of the normal form
/// it does not, so facts about a root are gathered on this form.
pub fn lexical(path: &Path) -> std::path::PathBuf {
    path.components().collect()
}

/// Whether `path` itself (not what it points to) is a symbolic link, whatever trailing
/// separators or `.` components it was written with.
pub fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(lexical(path)).map(|m| m.file_type().is_symlink()).unwrap_or(false)
}

/// The prefixes (`a`, `a/b`, …) of a relative path under `root` that exist as symlinks.
pub fn symlinked_prefixes(root: &Path, components: &[String]) -> Vec<String> {
    let root = lexical(root);
    let mut prefix = String::new();
    let mut out = Vec::new();
    for c in components {
        if !prefix.is_empty() {
            prefix.push('/');
        }
        prefix.push_str(c);
        if is_symlink(&root.join(&prefix)) {
            out.push(prefix.clone());
        }
    }
    out
}

/// Lowercase hex SHA-256 of bytes.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Lowercase hex SHA-256 of a file, read in large blocks.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(write_atomic(&dir.path().join("missing/x"), b"x").is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn concurrent_writers_never_leave_a_torn_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("shared");
        std::thread::scope(|s| {
            for i in 0..8u8 {
                let p = p.clone();
                s.spawn(move || {
                    for _ in 0..20 {
                        write_atomic(&p, &vec![i; 4096]).unwrap();
                    }
                });
            }
        });
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(bytes.len(), 4096);
        assert!(bytes.iter().all(|b| *b == bytes[0]), "one writer's bytes, whole");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn written_files_are_as_readable_as_the_umask_allows() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ontologies.lock.json");
        write_atomic(&p, b"{}").unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, shared_file_mode(), "mode {mode:o}");
        let n = dir.path().join("new.yaml");
        write_new(&n, b"x").unwrap();
        assert_eq!(std::fs::metadata(&n).unwrap().permissions().mode() & 0o777, shared_file_mode());
    }

    #[test]
    fn write_new_never_clobbers() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sources.yaml");
        write_new(&p, b"first").unwrap();
        assert_eq!(write_new(&p, b"second").unwrap_err().kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&p).unwrap(), b"first");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn symlinks_are_seen_however_the_path_is_written() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("real")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("link")).unwrap();
        let link = dir.path().join("link");
        for written in [
            link.display().to_string(),
            format!("{}/", link.display()),
            format!("{}/.", link.display()),
            format!("{}//./", link.display()),
        ] {
            assert!(is_symlink(Path::new(&written)), "{written}");
        }
        assert!(!is_symlink(&dir.path().join("real")));
        std::os::unix::fs::symlink("/etc", dir.path().join("real/etc")).unwrap();
        let got = symlinked_prefixes(&dir.path().join("real/."), &["etc".into(), "passwd".into()]);
        assert_eq!(got, ["etc"]);
    }

    #[test]
    fn hashes_agree() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"abc").unwrap();
        let expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sha256_bytes(b"abc"), expected);
        assert_eq!(sha256_file(&p).unwrap(), expected);
    }
}
