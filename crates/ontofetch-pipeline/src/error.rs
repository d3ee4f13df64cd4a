//! The pipeline's error: a stable code and a message a person can act on. Every lower
//! crate's error converts into it keeping its code; the message never repeats the code.

use ontofetch_policy::{Code, Coded};
use serde::Serialize;

/// Why a step of a pull (or another pipeline operation) failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct PipelineError {
    /// The stable code.
    pub code: Code,
    /// What happened, naming the URL, file or value.
    pub message: String,
}

impl PipelineError {
    /// A failure with a code and a message.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        PipelineError { code, message: message.into() }
    }

    /// Any coded error, keeping its code and message.
    pub fn from_coded<E: Coded + std::fmt::Display>(e: E) -> Self {
        PipelineError { code: e.code(), message: e.to_string() }
    }

    /// The same failure with context in front of its message.
    pub fn context(self, what: impl std::fmt::Display) -> Self {
        PipelineError { code: self.code, message: format!("{what}: {}", self.message) }
    }
}

impl Coded for PipelineError {
    fn code(&self) -> Code {
        self.code
    }
}

macro_rules! from_coded {
    ($($t:ty),+) => {$(
        impl From<$t> for PipelineError {
            fn from(e: $t) -> Self {
                PipelineError::from_coded(e)
            }
        }
    )+};
}

from_coded!(
    ontofetch_net::NetError,
    ontofetch_store::StoreError,
    ontofetch_catalog::CatalogError,
    ontofetch_archive::ArchiveError,
    ontofetch_policy::PolicyError,
    ontofetch_config::ConfigError,
    ontofetch_resolve::lockfile::LockError
);

/// An I/O failure naming what was being done.
pub fn io(what: impl std::fmt::Display) -> impl FnOnce(std::io::Error) -> PipelineError {
    let what = what.to_string();
    move |e| PipelineError::new(Code::Io, format!("{what}: {e}"))
}
