//! File operations that never follow a link (docs/architecture.md, "Filesystem rule").
//!
//! The data root may be shared with other local users or sit on a shared volume, so any name
//! under it may have been replaced by a symbolic link to somewhere else. Checking a path and
//! then using it loses that race; these functions instead resolve every name relative to an
//! open directory with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` (or `O_NOFOLLOW` on
//! one component), then create, unlink and rename through directory descriptors. A planted
//! link is never followed: the call fails with [`is_link_refusal`] true, and the caller
//! reports it and leaves it alone.

use rustix::fs::{AtFlags, Mode, OFlags, ResolveFlags};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

/// How every name below the root is resolved: inside it, and through no link of any kind.
const STRICT: ResolveFlags = ResolveFlags::BENEATH.union(ResolveFlags::NO_SYMLINKS).union(ResolveFlags::NO_MAGICLINKS);

/// Whether the kernel's error is a link met where none may be (`ELOOP` from `O_NOFOLLOW` or
/// `RESOLVE_NO_SYMLINKS`, `EXDEV` from `RESOLVE_BENEATH`).
fn kernel_link_error(e: &std::io::Error) -> bool {
    matches!(rustix::io::Errno::from_io_error(e), Some(rustix::io::Errno::LOOP | rustix::io::Errno::XDEV))
}

/// The error for a link found where a name was expected, naming it.
fn planted(path: &Path) -> std::io::Error {
    std::io::Error::other(LinkError { path: path.display().to_string() })
}

/// Adds the path to an error; a link refusal becomes a [`LinkError`].
trait WithContext {
    fn with_context(self, path: &Path) -> std::io::Error;
}

impl WithContext for std::io::Error {
    fn with_context(self, path: &Path) -> std::io::Error {
        if is_link_refusal(&self) {
            return planted(path);
        }
        std::io::Error::new(self.kind(), format!("{}: {self}", path.display()))
    }
}

/// A link where a name was expected (kept as its own error type so [`is_link_refusal`]
/// recognises it after the path was added).
#[derive(Debug)]
struct LinkError {
    path: String,
}

impl std::fmt::Display for LinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is (or passes through) a symbolic link; it was left alone, not followed", self.path)
    }
}

impl std::error::Error for LinkError {}

/// Whether an error (from this module, or straight from the kernel) is a planted link:
/// the caller reports it and leaves the link alone.
pub fn is_link_refusal(e: &std::io::Error) -> bool {
    kernel_link_error(e) || e.get_ref().is_some_and(|inner| inner.is::<LinkError>())
}

/// The root directory, opened (the configured root itself may be a link: that is the
/// operator's choice; nothing below it may be).
fn open_root(root: &Path) -> std::io::Result<OwnedFd> {
    rustix::fs::open(root, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| std::io::Error::from(e).with_context(root))
}

/// Opens the directory `rel` beneath `root` with no link on the way.
fn open_dir(root: &Path, rel: &str) -> std::io::Result<OwnedFd> {
    let base = open_root(root)?;
    open_dir_at(&base, rel).map_err(|e| e.with_context(&root.join(rel)))
}

fn open_dir_at(base: &impl AsFd, rel: &str) -> std::io::Result<OwnedFd> {
    let rel = if rel.is_empty() { "." } else { rel };
    match rustix::fs::openat2(
        base,
        rel,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
        Mode::empty(),
        STRICT,
    ) {
        Ok(fd) => Ok(fd),
        // `O_DIRECTORY | O_NOFOLLOW` on a final component that is a link says ENOTDIR:
        // that is a planted link, and is reported as one.
        Err(rustix::io::Errno::NOTDIR) if matches!(entry_kind(base, rel), Ok(rustix::fs::FileType::Symlink)) => {
            Err(rustix::io::Errno::LOOP.into())
        }
        Err(e) => Err(e.into()),
    }
}

/// Creates the directories of `rel` beneath `root` one component at a time (`mkdirat` on
/// a descriptor, so a link planted at any level is refused, never written through) and
/// returns the last one, opened.
pub fn create_dirs(root: &Path, rel: &str) -> std::io::Result<OwnedFd> {
    let mut dir = open_root(root)?;
    let mut so_far = root.to_path_buf();
    for part in rel.split('/').filter(|p| !p.is_empty() && *p != ".") {
        so_far.push(part);
        if part == ".." {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{}: `..`", so_far.display())));
        }
        match rustix::fs::mkdirat(&dir, part, Mode::from_raw_mode(0o777)) {
            Ok(()) | Err(rustix::io::Errno::EXIST) => {}
            Err(e) => return Err(std::io::Error::from(e).with_context(&so_far)),
        }
        dir = open_dir_at(&dir, part).map_err(|e| e.with_context(&so_far))?;
    }
    Ok(dir)
}

/// Opens (creating it `0666 & ~umask` when missing) the regular file `name` in the
/// directory `dir` for reading and writing, never through a link.
fn open_file_in(dir: &impl AsFd, name: &str, display: &Path) -> std::io::Result<std::fs::File> {
    let flags = OFlags::RDWR | OFlags::CLOEXEC | OFlags::NOFOLLOW | OFlags::CREATE;
    let fd = rustix::fs::openat2(dir, name, flags, Mode::from_raw_mode(0o666), STRICT)
        .map_err(|e| std::io::Error::from(e).with_context(display))?;
    let file = std::fs::File::from(fd);
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", display.display()),
        ));
    }
    Ok(file)
}

/// Opens (creating the directories and the file when missing) the regular file `rel`
/// beneath `root` for reading and writing, with no link anywhere on the way.
pub fn open_file(root: &Path, rel: &str) -> std::io::Result<std::fs::File> {
    let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel));
    let dir = create_dirs(root, parent)?;
    open_file_in(&dir, name, &root.join(rel))
}

/// The kind of one entry, without following it.
fn entry_kind(dir: &impl AsFd, name: &str) -> std::io::Result<rustix::fs::FileType> {
    Ok(rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
        .map(|s| rustix::fs::FileType::from_raw_mode(s.st_mode))?)
}

/// Removes the tree `rel` beneath `root`. The tree is reached with no link on the way (a
/// link planted at `.staging` or at `ontologies/<id>` fails the call, and nothing is
/// removed); inside it, entries are unlinked through directory descriptors, so a link
/// inside the tree is removed as a link and its target is never touched. A missing tree
/// is not an error.
pub fn remove_tree(root: &Path, rel: &str) -> std::io::Result<()> {
    let (parent, name) = rel.trim_end_matches('/').rsplit_once('/').unwrap_or(("", rel));
    let parent_fd = match open_dir(root, parent) {
        Ok(fd) => fd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let display = root.join(rel);
    match entry_kind(&parent_fd, name) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.with_context(&display)),
        Ok(rustix::fs::FileType::Symlink) => return Err(planted(&display)),
        Ok(rustix::fs::FileType::Directory) => {}
        Ok(_) => {
            return rustix::fs::unlinkat(&parent_fd, name, AtFlags::empty())
                .map_err(|e| std::io::Error::from(e).with_context(&display));
        }
    }
    empty_dir(&parent_fd, name, &display, 0)?;
    rustix::fs::unlinkat(&parent_fd, name, AtFlags::REMOVEDIR)
        .map_err(|e| std::io::Error::from(e).with_context(&display))
}

/// Deepest tree `remove_tree` descends (a version directory is a few levels deep; a
/// planted tree deeper than this is refused rather than recursed into without end).
const MAX_DEPTH: usize = 64;

fn empty_dir(parent: &impl AsFd, name: &str, display: &Path, depth: usize) -> std::io::Result<()> {
    if depth > MAX_DEPTH {
        return Err(std::io::Error::other(format!("{}: more than {MAX_DEPTH} levels deep", display.display())));
    }
    let dir = rustix::fs::openat(
        parent,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
        Mode::empty(),
    )
    .map_err(|e| std::io::Error::from(e).with_context(display))?;
    let mut names = Vec::new();
    let mut reader = rustix::fs::Dir::read_from(&dir).map_err(|e| std::io::Error::from(e).with_context(display))?;
    for entry in reader.by_ref() {
        let entry = entry.map_err(|e| std::io::Error::from(e).with_context(display))?;
        let n = entry.file_name().to_string_lossy().into_owned();
        if n != "." && n != ".." {
            names.push(n);
        }
    }
    for n in names {
        let child = display.join(&n);
        match entry_kind(&dir, &n) {
            Ok(rustix::fs::FileType::Directory) => {
                empty_dir(&dir, &n, &child, depth + 1)?;
                rustix::fs::unlinkat(&dir, n.as_str(), AtFlags::REMOVEDIR)
                    .map_err(|e| std::io::Error::from(e).with_context(&child))?;
            }
            Ok(_) => rustix::fs::unlinkat(&dir, n.as_str(), AtFlags::empty())
                .map_err(|e| std::io::Error::from(e).with_context(&child))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.with_context(&child)),
        }
    }
    Ok(())
}

/// Renames `from` to `to`, both beneath `root`, through their parents' descriptors: no
/// link on either way is followed, and the target's parent directories are created
/// (no-follow) when missing. Fails when `to` exists as a non-empty directory.
pub fn rename(root: &Path, from: &str, to: &str) -> std::io::Result<()> {
    let (from_parent, from_name) = from.rsplit_once('/').unwrap_or(("", from));
    let (to_parent, to_name) = to.rsplit_once('/').unwrap_or(("", to));
    let src = open_dir(root, from_parent)?;
    if matches!(entry_kind(&src, from_name), Ok(rustix::fs::FileType::Symlink)) {
        return Err(planted(&root.join(from)));
    }
    let dst = create_dirs(root, to_parent)?;
    rustix::fs::renameat(&src, from_name, &dst, to_name)
        .map_err(|e| std::io::Error::from(e).with_context(&root.join(to)))
}

/// Removes the file (or link) `rel` beneath `root`, reached with no link on the way; a
/// missing file is not an error.
pub fn remove_file(root: &Path, rel: &str) -> std::io::Result<()> {
    let (parent, name) = rel.rsplit_once('/').unwrap_or(("", rel));
    let dir = match open_dir(root, parent) {
        Ok(fd) => fd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    match rustix::fs::unlinkat(&dir, name, AtFlags::empty()) {
        Err(rustix::io::Errno::NOENT) => Ok(()),
        other => other.map_err(|e| std::io::Error::from(e).with_context(&root.join(rel))),
    }
}

/// A directory opened with no link on the way, and a path that names exactly that
/// directory for as long as it is held (`/proc/self/fd/N`): code that takes paths
/// (temporary files, `rename`) works inside it, and a link planted at its name after it was
/// opened cannot redirect them.
pub struct PinnedDir {
    fd: OwnedFd,
}

impl PinnedDir {
    /// Creates (no-follow) and pins the directory `rel` beneath `root`.
    pub fn create(root: &Path, rel: &str) -> std::io::Result<PinnedDir> {
        Ok(PinnedDir { fd: create_dirs(root, rel)? })
    }

    /// Pins the existing directory `rel` beneath `root`.
    pub fn open(root: &Path, rel: &str) -> std::io::Result<PinnedDir> {
        Ok(PinnedDir { fd: open_dir(root, rel)? })
    }

    /// The path naming this directory while it is held.
    pub fn path(&self) -> std::path::PathBuf {
        use std::os::fd::AsRawFd;
        std::path::PathBuf::from(format!("/proc/self/fd/{}", self.fd.as_raw_fd()))
    }
}

/// Whether `rel` beneath `root` is reached without any link (true when it does not exist
/// yet but every existing parent is a real directory).
pub fn link_free(root: &Path, rel: &str) -> bool {
    let mut so_far = String::new();
    let Ok(base) = open_root(root) else { return false };
    for part in rel.split('/').filter(|p| !p.is_empty() && *p != ".") {
        if !so_far.is_empty() {
            so_far.push('/');
        }
        so_far.push_str(part);
        let (parent, name) = so_far.rsplit_once('/').unwrap_or(("", so_far.as_str()));
        let Ok(dir) = open_dir_at(&base, parent) else { return false };
        match entry_kind(&dir, name) {
            Ok(rustix::fs::FileType::Symlink) => return false,
            Ok(_) => {}
            Err(_) => return true,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A sentinel tree outside the root, and the root beside it.
    fn setup() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("root");
        let outside = t.path().join("outside");
        std::fs::create_dir_all(root.join("ontologies/go/2025-01-01/original")).unwrap();
        std::fs::write(root.join("ontologies/go/2025-01-01/original/go.owl"), b"x").unwrap();
        std::fs::create_dir_all(outside.join("2025-01-01")).unwrap();
        std::fs::write(outside.join("2025-01-01/keep"), b"keep").unwrap();
        std::fs::write(outside.join("file"), b"keep").unwrap();
        (t, root, outside)
    }

    #[test]
    fn remove_tree_never_follows_a_link_on_the_way_or_inside() {
        let (_t, root, outside) = setup();
        // a link planted at an ontology directory: nothing is removed, the error says so
        symlink(&outside, root.join("ontologies/evil")).unwrap();
        let e = remove_tree(&root, "ontologies/evil/2025-01-01").unwrap_err();
        assert!(is_link_refusal(&e), "{e}");
        assert!(outside.join("2025-01-01/keep").exists());
        // the link itself as the tree: refused too, and left in place
        let e = remove_tree(&root, "ontologies/evil").unwrap_err();
        assert!(is_link_refusal(&e), "{e}");
        assert!(root.join("ontologies/evil").symlink_metadata().is_ok());
        // a link inside a real tree is removed as a link; its target is untouched
        symlink(&outside, root.join("ontologies/go/2025-01-01/original/planted")).unwrap();
        remove_tree(&root, "ontologies/go/2025-01-01").unwrap();
        assert!(!root.join("ontologies/go/2025-01-01").exists());
        assert!(outside.join("2025-01-01/keep").exists() && outside.join("file").exists());
        // missing: fine
        remove_tree(&root, "ontologies/go/nothing").unwrap();
    }

    #[test]
    fn files_and_directories_are_never_created_through_a_link() {
        let (_t, root, outside) = setup();
        symlink(&outside, root.join("cache")).unwrap();
        let e = open_file(&root, "cache/rate-limits/x.gcra").unwrap_err();
        assert!(is_link_refusal(&e), "{e}");
        assert!(!outside.join("rate-limits").exists());
        std::fs::create_dir_all(root.join("locks")).unwrap();
        symlink(outside.join("file"), root.join("locks/go.lock")).unwrap();
        let e = open_file(&root, "locks/go.lock").unwrap_err();
        assert!(is_link_refusal(&e), "{e}");
        assert_eq!(std::fs::read(outside.join("file")).unwrap(), b"keep");
        // a real path works, creating what is missing
        use std::io::Write;
        open_file(&root, "locks/bfo.lock").unwrap().write_all(b"1").unwrap();
        assert_eq!(std::fs::read(root.join("locks/bfo.lock")).unwrap(), b"1");
        assert!(link_free(&root, "locks/bfo.lock") && link_free(&root, "locks/new"));
        assert!(!link_free(&root, "cache/rate-limits") && !link_free(&root, "locks/go.lock"));
    }

    #[test]
    fn rename_refuses_links_at_either_end() {
        let (_t, root, outside) = setup();
        std::fs::create_dir_all(root.join(".staging/go-1-2")).unwrap();
        symlink(&outside, root.join("ontologies/hp")).unwrap();
        let e = rename(&root, ".staging/go-1-2", "ontologies/hp/v1").unwrap_err();
        assert!(is_link_refusal(&e), "{e}");
        assert!(!outside.join("v1").exists() && root.join(".staging/go-1-2").exists());
        rename(&root, ".staging/go-1-2", "ontologies/go/v2").unwrap();
        assert!(root.join("ontologies/go/v2").is_dir());
    }
}
