//! The storage gate: writes into the store stay under its root, names used as directories
//! (ontology ids, versions) are safe segments, CAS keys have their one shape, and there is
//! room for the bytes.

use crate::code::Code;
use crate::filesystem::check_root;
use crate::gate::{Gate, Refusal};
use crate::path::{is_safe_segment, normalize};
use crate::policy::{PathPolicy, StoragePolicy};
use std::path::{Component, Path};

fn refuse(code: Code, message: String) -> Refusal {
    Refusal::new(Gate::Storage, code, message)
}

/// Facts about one write.
#[derive(Debug, Clone, Copy)]
pub struct WriteFacts<'a> {
    /// The store root (absolute).
    pub root: &'a Path,
    /// The absolute target of the write.
    pub target: &'a Path,
    /// The root is a symlink (caller's `lstat`).
    pub root_is_symlink: bool,
    /// Bytes about to be written.
    pub bytes: u64,
    /// Free bytes on the root's filesystem (caller's `statvfs`), if known.
    pub free_bytes: Option<u64>,
}

/// The storage gate for one write.
pub fn check_write(policy: &StoragePolicy, facts: &WriteFacts<'_>) -> Result<(), Refusal> {
    check_root(facts.root).map_err(|r| r.under(Gate::Storage))?;
    if facts.root_is_symlink {
        return Err(refuse(Code::StorageRoot, format!("store root {} is a symlink", facts.root.display())));
    }
    let escapes = facts.target.components().any(|c| matches!(c, Component::ParentDir | Component::CurDir));
    if escapes || !facts.target.starts_with(facts.root) || facts.target == facts.root {
        return Err(refuse(
            Code::StorageRoot,
            format!("write to {} is not inside store root {}", facts.target.display(), facts.root.display()),
        ));
    }
    if let Some(free) = facts.free_bytes
        && facts.bytes.saturating_add(policy.reserve_bytes) > free
    {
        return Err(refuse(
            Code::DiskSpace,
            format!(
                "writing {} bytes to {} would leave less than {} bytes free ({free} free)",
                facts.bytes,
                facts.root.display(),
                policy.reserve_bytes
            ),
        ));
    }
    Ok(())
}

/// The storage gate for a name that becomes one directory (ontology id, version): one safe
/// component of `[A-Za-z0-9._-]`, not starting with a dot.
pub fn check_segment(policy: &StoragePolicy, what: &str, value: &str) -> Result<(), Refusal> {
    if value.len() > policy.max_segment_len {
        return Err(refuse(
            Code::PathLength,
            format!("{what} {value:?} is {} bytes (max {})", value.len(), policy.max_segment_len),
        ));
    }
    if value.contains(['/', '\\']) || value == ".." {
        return Err(refuse(Code::Traversal, format!("{what} {value:?} contains a path separator or '..'")));
    }
    if !is_safe_segment(value) {
        return Err(refuse(
            Code::ReservedName,
            format!(
                "{what} {value:?} must be 1..{} characters of [A-Za-z0-9._-], not starting with '.'",
                policy.max_segment_len
            ),
        ));
    }
    normalize(&PathPolicy::default(), value).map_err(|(code, m)| refuse(code, format!("{what}: {m}")))?;
    Ok(())
}

/// Names the store's layout keeps beside version directories (`ontologies/<id>/latest`):
/// a version may never take one, in any case.
pub const RESERVED_VERSIONS: &[&str] = &["latest"];

/// The storage gate for a version used as a directory name: a safe segment that is not
/// one of the layout's [`RESERVED_VERSIONS`].
pub fn check_version(policy: &StoragePolicy, value: &str) -> Result<(), Refusal> {
    check_segment(policy, "version", value)?;
    if RESERVED_VERSIONS.iter().any(|r| r.eq_ignore_ascii_case(value)) {
        return Err(refuse(
            Code::ReservedName,
            format!("version {value:?} is a name the store layout reserves ({})", RESERVED_VERSIONS.join(", ")),
        ));
    }
    Ok(())
}

/// The storage gate for a file name about to be written (`original/<name>`): one portable
/// component, never a reserved device name (`con.ttl` would be written and then refused by
/// every reader: refuse it before a byte is fetched).
pub fn check_file_name(value: &str) -> Result<(), Refusal> {
    let safe = normalize(&PathPolicy::default(), value).map_err(|(code, m)| refuse(code, format!("file name: {m}")))?;
    if safe.components().len() != 1 {
        return Err(refuse(Code::Traversal, format!("file name {value:?} is more than one path component")));
    }
    Ok(())
}

/// The storage gate for a content-addressed key: exactly `by-sha256/aa/bb/<64 hex>` with
/// the fan-out taken from the digest itself.
pub fn check_cas_key(key: &str) -> Result<(), Refusal> {
    let bad = || refuse(Code::StorageRoot, format!("{key:?} is not a CAS key by-sha256/aa/bb/<sha256>"));
    let mut parts = key.split('/');
    let (Some("by-sha256"), Some(a), Some(b), Some(digest), None) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let hex = digest.len() == 64 && digest.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
    if !hex || a != &digest[..2] || b != &digest[2..4] {
        return Err(bad());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_stay_inside_with_room_to_spare() {
        let p = StoragePolicy::default();
        let root = Path::new("/data/onto");
        let w = |target: &'static str, bytes, free| WriteFacts {
            root,
            target: Path::new(target),
            root_is_symlink: false,
            bytes,
            free_bytes: free,
        };
        assert!(check_write(&p, &w("/data/onto/ontologies/bfo/v1/original/bfo.owl", 10, Some(1 << 40))).is_ok());
        assert_eq!(check_write(&p, &w("/data/onto/../etc/x", 10, None)).unwrap_err().code, Code::StorageRoot);
        assert_eq!(check_write(&p, &w("/data/onto-evil/x", 10, None)).unwrap_err().code, Code::StorageRoot);
        assert_eq!(check_write(&p, &w("/data/onto/x", 10, Some(1000))).unwrap_err().code, Code::DiskSpace);
    }

    #[test]
    fn segments_and_cas_keys() {
        let p = StoragePolicy::default();
        for good in ["bfo", "NCBITaxon", "2024-01-01", "v1.2.3", "go_plus"] {
            assert!(check_segment(&p, "id", good).is_ok(), "{good}");
        }
        assert_eq!(check_segment(&p, "id", "../../x").unwrap_err().code, Code::Traversal);
        assert_eq!(check_segment(&p, "id", "..").unwrap_err().code, Code::Traversal);
        assert_eq!(check_segment(&p, "id", "").unwrap_err().code, Code::ReservedName);
        assert_eq!(check_segment(&p, "id", ".hidden").unwrap_err().code, Code::ReservedName);
        assert_eq!(check_segment(&p, "id", "con").unwrap_err().code, Code::ReservedName);
        assert_eq!(check_segment(&p, "id", &"a".repeat(300)).unwrap_err().code, Code::PathLength);
        assert_eq!(check_version(&p, "latest").unwrap_err().code, Code::ReservedName);
        assert_eq!(check_version(&p, "Latest").unwrap_err().code, Code::ReservedName);
        assert!(check_version(&p, "latest-version").is_ok());
        assert_eq!(check_file_name("con.ttl").unwrap_err().code, Code::ReservedName);
        assert_eq!(check_file_name("a/b.owl").unwrap_err().code, Code::Traversal);
        assert!(check_file_name("hp.owl").is_ok());
        let d = "ab".repeat(32);
        assert!(check_cas_key(&format!("by-sha256/ab/ab/{d}")).is_ok());
        assert!(check_cas_key(&format!("by-sha256/ab/cd/{d}")).is_err());
        assert!(check_cas_key(&format!("by-sha256/ab/ab/{}", d.to_uppercase())).is_err());
        assert!(check_cas_key("by-sha256/../../etc/passwd").is_err());
    }
}
