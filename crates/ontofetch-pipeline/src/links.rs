//! Links planted in the data root (docs/architecture.md, "Filesystem rule"). Another local
//! user, or a shared volume, may replace any name the tool uses with a symbolic link to
//! somewhere else; every write, rename and delete refuses to go through one
//! (`fsutil::beneath`), and `doctor` reports each one it finds here, leaving it alone.

use ontofetch_store::layout;
use std::path::Path;

/// A symbolic link where the tool keeps real files and directories.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlantedLink {
    /// Where it is, relative to the data root.
    pub key: String,
    /// What it points at (as written in the link).
    pub target: String,
}

/// Directories directly under the root the tool writes into.
const TOP: &[&str] = &[
    layout::STAGING,
    layout::LOCKS,
    "cache",
    "cache/rate-limits",
    layout::ONTOLOGIES,
    layout::CAS,
    layout::QUARANTINE,
];

/// Every planted link under `root`: at the top-level names the tool uses, at an ontology's
/// directory, at a version's directory (a `latest` pointer that names a sibling version is
/// the tool's own), inside `.staging`, `.locks` and `cache/rate-limits`. Nothing is
/// followed: directories are listed only when they are real.
pub fn find(root: &Path) -> Vec<PlantedLink> {
    let mut out = Vec::new();
    for top in TOP {
        check(root, top, &mut out);
    }
    for dir in [layout::STAGING, layout::LOCKS, "cache/rate-limits"] {
        for name in real_children(root, dir) {
            check(root, &format!("{dir}/{name}"), &mut out);
        }
    }
    for id in real_children(root, layout::ONTOLOGIES) {
        let okey = format!("{}/{id}", layout::ONTOLOGIES);
        if check(root, &okey, &mut out) {
            continue;
        }
        for name in real_children(root, &okey) {
            let key = format!("{okey}/{name}");
            if name == layout::LATEST && own_pointer(&root.join(&key)) {
                continue;
            }
            check(root, &key, &mut out);
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out.dedup();
    out
}

/// Whether an ontology's directory in a local store is a planted link: such an ontology is
/// not judged (its rows are not "missing files", nothing is repaired through it) until a
/// person removes the link; doctor reports it.
pub fn ontology_is_planted(b: &crate::backends::Backends, id: &str) -> bool {
    b.store.local_path(&layout::ontology_key(id)).is_some_and(|p| ontofetch_fsutil::is_symlink(&p))
}

/// Records `key` when it is a link; true when it was.
fn check(root: &Path, key: &str, out: &mut Vec<PlantedLink>) -> bool {
    let path = root.join(key);
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.file_type().is_symlink() => {
            let target = std::fs::read_link(&path).map(|t| t.to_string_lossy().into_owned()).unwrap_or_default();
            out.push(PlantedLink { key: key.to_string(), target });
            true
        }
        _ => false,
    }
}

/// Names in `rel` when it is a real directory reached with no link on the way.
fn real_children(root: &Path, rel: &str) -> Vec<String> {
    if !ontofetch_fsutil::beneath::link_free(root, rel) {
        return vec![];
    }
    std::fs::read_dir(root.join(rel))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// `latest` as the store writes it: a relative link to a sibling name (no `/`, not `..`).
fn own_pointer(path: &Path) -> bool {
    std::fs::read_link(path).is_ok_and(|t| {
        let t = t.to_string_lossy();
        !t.is_empty() && !t.contains('/') && t != ".." && t != "."
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn finds_planted_links_and_not_the_latest_pointer() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        std::fs::create_dir_all(root.join("ontologies/go/2025-01-01")).unwrap();
        symlink("2025-01-01", root.join("ontologies/go/latest")).unwrap();
        assert!(find(root).is_empty());
        symlink("/etc", root.join(".staging")).unwrap();
        symlink("/tmp", root.join("ontologies/hp")).unwrap();
        symlink("/tmp", root.join("ontologies/go/2025-02-02")).unwrap();
        std::fs::create_dir_all(root.join("cache/rate-limits")).unwrap();
        symlink("/etc/passwd", root.join("cache/rate-limits/host_x.gcra")).unwrap();
        std::fs::remove_file(root.join("ontologies/go/latest")).unwrap();
        symlink("/etc", root.join("ontologies/go/latest")).unwrap();
        let keys: Vec<String> = find(root).into_iter().map(|l| l.key).collect();
        assert_eq!(
            keys,
            [
                ".staging",
                "cache/rate-limits/host_x.gcra",
                "ontologies/go/2025-02-02",
                "ontologies/go/latest",
                "ontologies/hp"
            ]
        );
    }
}
