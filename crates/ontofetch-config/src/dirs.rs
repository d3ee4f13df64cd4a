//! The data directories, laid out like pystow/DocsToKG so existing mirrors are found:
//! `$PYSTOW_HOME/ontology-fetcher/{configs,cache,logs,ontologies}` (default `~/.data`).

use serde::Serialize;
use std::path::{Path, PathBuf};

/// The directories ontofetch uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataDirs {
    /// `…/ontology-fetcher`.
    pub root: PathBuf,
    /// `root/configs` (sources.yaml, API key files).
    pub configs: PathBuf,
    /// `root/cache`.
    pub cache: PathBuf,
    /// `root/logs`.
    pub logs: PathBuf,
    /// `root/ontologies` (the store).
    pub ontologies: PathBuf,
}

impl DataDirs {
    /// Lays the directories out under `root`.
    pub fn under(root: &Path) -> Self {
        DataDirs {
            root: root.to_path_buf(),
            configs: root.join("configs"),
            cache: root.join("cache"),
            logs: root.join("logs"),
            ontologies: root.join("ontologies"),
        }
    }

    /// Resolves the root: `--root` wins, then `$PYSTOW_HOME/ontology-fetcher`, then
    /// `$HOME/.data/ontology-fetcher`. Relative paths are made absolute against `cwd`.
    pub fn resolve(flag: Option<&Path>, pystow_home: Option<&str>, home: Option<&str>, cwd: &Path) -> Self {
        let root = match (flag, pystow_home.filter(|s| !s.is_empty()), home.filter(|s| !s.is_empty())) {
            (Some(r), _, _) => r.to_path_buf(),
            (None, Some(p), _) => PathBuf::from(p).join("ontology-fetcher"),
            (None, None, Some(h)) => PathBuf::from(h).join(".data").join("ontology-fetcher"),
            (None, None, None) => PathBuf::from(".data").join("ontology-fetcher"),
        };
        let root = if root.is_absolute() { root } else { cwd.join(root) };
        // `ROOT/` and `ROOT/.` are ROOT: facts about the root (is it a symlink?) are
        // gathered on this form, where `lstat` does not follow a link.
        DataDirs::under(&root.components().collect::<PathBuf>())
    }

    /// The configuration file looked for when no `--spec` is given.
    pub fn default_sources(&self) -> PathBuf {
        self.configs.join("sources.yaml")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_flag_then_pystow_then_home() {
        let cwd = Path::new("/work");
        assert_eq!(DataDirs::resolve(Some(Path::new("r")), Some("/p"), Some("/h"), cwd).root, PathBuf::from("/work/r"));
        assert_eq!(DataDirs::resolve(None, Some("/p"), Some("/h"), cwd).root, PathBuf::from("/p/ontology-fetcher"));
        assert_eq!(
            DataDirs::resolve(None, Some(""), Some("/h"), cwd).ontologies,
            PathBuf::from("/h/.data/ontology-fetcher/ontologies")
        );
        assert_eq!(DataDirs::resolve(Some(Path::new("/d/link/.")), None, None, cwd).root, PathBuf::from("/d/link"));
        assert_eq!(DataDirs::resolve(Some(Path::new("/d/link/")), None, None, cwd).root, PathBuf::from("/d/link"));
    }
}
