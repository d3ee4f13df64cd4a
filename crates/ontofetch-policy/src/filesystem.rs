//! The filesystem gate: is this path, under this root, safe to create or open? Lexical
//! rules come from the shared normaliser; symlink facts come from the caller's `lstat`.

use crate::code::Code;
use crate::gate::{Gate, Refusal};
use crate::path::{SafeRelPath, normalize};
use crate::policy::PathPolicy;
use std::path::{Component, Path};

/// Facts about one path.
#[derive(Debug, Clone, Copy)]
pub struct PathFacts<'a> {
    /// The root everything must stay under (absolute).
    pub root: &'a Path,
    /// The untrusted path: relative to `root`, or absolute and inside it.
    pub candidate: &'a str,
    /// The root itself is a symlink (checked by the caller with `lstat`).
    pub root_is_symlink: bool,
    /// Relative prefixes of the candidate (`a`, `a/b`, …) that already exist as symlinks.
    pub symlinked_prefixes: &'a [String],
}

fn refuse(code: Code, message: String) -> Refusal {
    Refusal::new(Gate::Filesystem, code, message)
}

/// A root is usable when it is absolute and has no `.`/`..` components to be re-interpreted.
pub fn check_root(root: &Path) -> Result<(), Refusal> {
    if !root.is_absolute() {
        return Err(refuse(Code::StorageRoot, format!("root {} is not an absolute path", root.display())));
    }
    if root.components().any(|c| matches!(c, Component::ParentDir | Component::CurDir)) {
        return Err(refuse(Code::StorageRoot, format!("root {} contains '.' or '..' components", root.display())));
    }
    Ok(())
}

/// The filesystem gate.
pub fn check_path(policy: &PathPolicy, facts: &PathFacts<'_>) -> Result<SafeRelPath, Refusal> {
    check_root(facts.root)?;
    if facts.root_is_symlink {
        return Err(refuse(Code::StorageRoot, format!("root {} is a symlink", facts.root.display())));
    }
    let relative = if facts.candidate.starts_with('/') {
        let candidate = Path::new(facts.candidate);
        match candidate.strip_prefix(facts.root) {
            Ok(rest) if !rest.as_os_str().is_empty() => rest.to_string_lossy().into_owned(),
            _ => {
                return Err(refuse(
                    Code::AbsolutePath,
                    format!("absolute path {} is not inside root {}", facts.candidate, facts.root.display()),
                ));
            }
        }
    } else {
        facts.candidate.to_string()
    };
    let safe = normalize(policy, &relative).map_err(|(code, m)| refuse(code, m))?;
    let mut prefix = String::new();
    for component in safe.components() {
        if !prefix.is_empty() {
            prefix.push('/');
        }
        prefix.push_str(component);
        if facts.symlinked_prefixes.iter().any(|s| s == &prefix) {
            return Err(refuse(
                Code::Link,
                format!("{prefix} under {} is a symlink; refusing to go through it", facts.root.display()),
            ));
        }
    }
    Ok(safe)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(candidate: &'a str, links: &'a [String]) -> PathFacts<'a> {
        PathFacts { root: Path::new("/srv/onto"), candidate, root_is_symlink: false, symlinked_prefixes: links }
    }

    #[test]
    fn absolute_inside_root_is_made_relative() {
        let p = check_path(&PathPolicy::default(), &facts("/srv/onto/ontologies/bfo", &[])).unwrap();
        assert_eq!(p.as_slash_path(), "ontologies/bfo");
        let e = check_path(&PathPolicy::default(), &facts("/srv/ontology-evil/x", &[])).unwrap_err();
        assert_eq!(e.code, Code::AbsolutePath, "string prefix is not path containment");
    }

    #[test]
    fn symlinked_prefix_and_bad_roots_are_refused() {
        let links = vec!["a/b".to_string()];
        assert_eq!(check_path(&PathPolicy::default(), &facts("a/b/c", &links)).unwrap_err().code, Code::Link);
        assert!(check_path(&PathPolicy::default(), &facts("a/bc", &links)).is_ok());
        let rel = PathFacts { root: Path::new("rel/root"), ..facts("x", &[]) };
        assert_eq!(check_path(&PathPolicy::default(), &rel).unwrap_err().code, Code::StorageRoot);
        let linked = PathFacts { root_is_symlink: true, ..facts("x", &[]) };
        assert_eq!(check_path(&PathPolicy::default(), &linked).unwrap_err().code, Code::StorageRoot);
    }
}
