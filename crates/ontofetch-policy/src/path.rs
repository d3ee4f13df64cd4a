//! The lexical path normaliser shared by the filesystem, extraction, storage and
//! db_boundary gates: one definition of "a safe relative path" for the whole tool.

use crate::code::Code;
use crate::policy::PathPolicy;
use std::fmt;
use unicode_normalization::UnicodeNormalization;

/// A path that passed the normaliser: relative, no `.`/`..`, portable, NFC components.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SafeRelPath {
    components: Vec<String>,
}

impl SafeRelPath {
    /// The components, each non-empty and NFC-normalised.
    pub fn components(&self) -> &[String] {
        &self.components
    }

    /// The path with `/` separators.
    pub fn as_slash_path(&self) -> String {
        self.components.join("/")
    }

    /// The key used for case-collision detection (NFC, then lower-cased).
    pub fn fold_key(&self) -> String {
        self.as_slash_path().to_lowercase()
    }
}

impl fmt::Display for SafeRelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_slash_path())
    }
}

/// Windows device names: refused so the store stays portable and no tool trips on them.
const RESERVED: &[&str] = &["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$"];

fn is_reserved_device(component: &str) -> bool {
    let stem = component.split('.').next().unwrap_or("").trim_end_matches(' ');
    let upper = stem.to_uppercase();
    if RESERVED.contains(&upper.as_str()) {
        return true;
    }
    let mut chars = upper.chars();
    let prefix: String = chars.by_ref().take(3).collect();
    let rest: Vec<char> = chars.collect();
    (prefix == "COM" || prefix == "LPT")
        && rest.len() == 1
        && (rest[0].is_ascii_digit() || matches!(rest[0], '¹' | '²' | '³'))
}

/// Whether `value` can be one directory name used as an identifier (ontology id, version):
/// non-empty, no leading dot, only `[A-Za-z0-9._-]`. Lengths are the caller's rule.
pub fn is_safe_segment(value: &str) -> bool {
    !value.is_empty()
        && !value.starts_with('.')
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Normalises an untrusted relative path (archive entry name, id, catalog value) or says,
/// with a stable code, why it cannot be one.
pub fn normalize(policy: &PathPolicy, raw: &str) -> Result<SafeRelPath, (Code, String)> {
    if raw.is_empty() {
        return Err((Code::ReservedName, "empty path".into()));
    }
    if raw.len() > policy.max_path_bytes {
        return Err((Code::PathLength, format!("path is {} bytes (max {})", raw.len(), policy.max_path_bytes)));
    }
    if let Some(c) = raw.chars().find(|c| c.is_control()) {
        return Err((Code::ReservedName, format!("path {raw:?} contains control character U+{:04X}", c as u32)));
    }
    // A right-to-left override makes `evil\u{202E}lmx.owl` read as `evilowl.xml`.
    if let Some(c) = raw.chars().find(|c| crate::host::is_invisible(*c)) {
        return Err((
            Code::ReservedName,
            format!("path {raw:?} contains invisible or bidi control character U+{:04X}", c as u32),
        ));
    }
    if raw.starts_with('/') || raw.starts_with('\\') {
        return Err((Code::AbsolutePath, format!("path {raw:?} is absolute (or UNC/device)")));
    }
    let b = raw.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        return Err((Code::AbsolutePath, format!("path {raw:?} starts with a drive letter")));
    }
    // A `..` anywhere is traversal, whatever else is wrong with the other components.
    if raw.split(['/', '\\']).any(|p| p == "..") {
        return Err((Code::Traversal, format!("path {raw:?} contains a '..' component")));
    }
    let mut components = Vec::new();
    for part in raw.split(['/', '\\']) {
        match part {
            "" | "." => continue,
            ".." => {
                return Err((Code::Traversal, format!("path {raw:?} contains a '..' component")));
            }
            _ => {}
        }
        if part.len() > policy.max_component_bytes {
            return Err((
                Code::PathLength,
                format!("component of {raw:?} is {} bytes (max {})", part.len(), policy.max_component_bytes),
            ));
        }
        if let Some(c) = part.chars().find(|c| matches!(c, ':' | '<' | '>' | '"' | '|' | '?' | '*')) {
            return Err((
                Code::ReservedName,
                format!("component {part:?} of {raw:?} contains {c:?} (drive, NTFS stream or wildcard)"),
            ));
        }
        if part.ends_with('.') || part.ends_with(' ') {
            return Err((
                Code::ReservedName,
                format!("component {part:?} of {raw:?} ends with a dot or space (aliases on Windows)"),
            ));
        }
        if is_reserved_device(part) {
            return Err((Code::ReservedName, format!("component {part:?} of {raw:?} is a reserved device name")));
        }
        components.push(part.nfc().collect::<String>());
    }
    if components.is_empty() {
        return Err((Code::Traversal, format!("path {raw:?} resolves to the root itself")));
    }
    if components.len() > policy.max_depth {
        return Err((
            Code::PathDepth,
            format!("path {raw:?} has {} components (max {})", components.len(), policy.max_depth),
        ));
    }
    Ok(SafeRelPath { components })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn n(raw: &str) -> Result<String, Code> {
        normalize(&PathPolicy::default(), raw).map(|p| p.as_slash_path()).map_err(|e| e.0)
    }

    #[test]
    fn good_paths_are_cleaned() {
        assert_eq!(n("a/./b//c.owl"), Ok("a/b/c.owl".into()));
        assert_eq!(n("dir\\file.ttl"), Ok("dir/file.ttl".into()));
        assert_eq!(n("café.owl"), Ok("caf\u{e9}.owl".into()), "NFD input comes out NFC");
        assert_eq!(n("console.owl"), Ok("console.owl".into()), "CON prefix inside a word is fine");
    }

    #[test]
    fn reserved_device_names_in_all_spellings() {
        for bad in ["CON", "con.txt", "NUL.owl", "COM1 ", "com¹", "LPT0", "a/aux", "conin$"] {
            assert_eq!(n(bad), Err(Code::ReservedName), "{bad:?}");
        }
        for hidden in ["evil\u{202E}lmx.owl", "a\u{200B}b.owl", "x\u{2066}.ttl"] {
            assert_eq!(n(hidden), Err(Code::ReservedName), "{hidden:?}");
        }
    }

    fn segment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("..".to_string()),
            Just(".".to_string()),
            Just("".to_string()),
            Just("C:".to_string()),
            "[a-zA-Z0-9_.\\- ]{1,12}",
            "\\PC{1,6}",
        ]
    }

    proptest! {
        /// Whatever comes in, what comes out is relative, has no dot segments, stays inside
        /// the root when joined, and is a fixed point of the normaliser.
        #[test]
        fn output_is_always_contained_and_idempotent(parts in proptest::collection::vec(segment(), 0..8), sep in prop_oneof![Just("/"), Just("\\")]) {
            let raw = parts.join(sep);
            if let Ok(p) = normalize(&PathPolicy::default(), &raw) {
                let s = p.as_slash_path();
                prop_assert!(!s.starts_with('/'));
                for c in p.components() {
                    prop_assert!(c != ".." && c != "." && !c.is_empty());
                    prop_assert!(!c.contains('/') && !c.contains('\\') && !c.contains(':'));
                }
                let root = std::path::Path::new("/store/root");
                let joined = root.join(&s);
                prop_assert!(joined.starts_with(root));
                prop_assert_eq!(normalize(&PathPolicy::default(), &s).unwrap(), p);
            }
        }

        /// Any `..` component is refused, wherever it sits.
        #[test]
        fn dot_dot_anywhere_is_traversal(prefix in "[a-z]{1,5}(/[a-z]{1,5}){0,3}", suffix in "[a-z]{1,5}") {
            let raw = format!("{prefix}/../{suffix}");
            prop_assert_eq!(n(&raw), Err(Code::Traversal));
        }
    }
}
