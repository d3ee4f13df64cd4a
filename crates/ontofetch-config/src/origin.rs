//! Where configuration text came from, for error messages and reports.

use serde::Serialize;
use std::path::PathBuf;

/// Where the configuration text came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "path", rename_all = "snake_case")]
pub enum Origin {
    /// The embedded default spec.
    Builtin,
    /// A file on disk.
    File(PathBuf),
}

impl Origin {
    /// How errors name it.
    pub fn label(&self) -> String {
        match self {
            Origin::Builtin => "<built-in default>".into(),
            Origin::File(p) => p.display().to_string(),
        }
    }
}
