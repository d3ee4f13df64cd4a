//! The application's error, as both front ends report it: a stable code and a message; the
//! command's exit status (and the Python exception's class) follows from the code (0 ok,
//! 1 failure, 2 usage or configuration, 3 refused by a gate).

use ontofetch_policy::{Code, Coded};

/// Exit status for success.
pub const EXIT_OK: u8 = 0;
/// Exit status for a runtime failure (I/O, a failed check).
pub const EXIT_FAILURE: u8 = 1;
/// Exit status for bad input: usage or configuration.
pub const EXIT_USAGE: u8 = 2;
/// Exit status for a policy refusal.
pub const EXIT_REFUSED: u8 = 3;

/// Why a command failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    /// The stable code.
    pub code: Code,
    /// What happened and what to do.
    pub message: String,
    /// A gate refused the command's input (exit 3).
    pub refused: bool,
}

impl AppError {
    /// A failure with a code.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        AppError { code, message: message.into(), refused: false }
    }

    /// Bad usage (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        AppError::new(Code::Usage, message)
    }

    /// A check or part of a batch failed; its report was already printed (exit 1).
    pub fn check_failed(message: impl Into<String>) -> Self {
        AppError::new(Code::CheckFailed, message)
    }

    /// An I/O failure naming what was being done.
    pub fn io(what: impl std::fmt::Display, e: std::io::Error) -> Self {
        AppError::new(Code::Io, format!("{what}: {e}"))
    }

    /// The process exit status: 2 for usage and configuration, 3 when a gate refused the
    /// command's own input, 1 for everything that failed while working.
    pub fn exit_status(&self) -> u8 {
        match self.code {
            Code::Usage | Code::ConfigInvalid => EXIT_USAGE,
            _ if self.refused => EXIT_REFUSED,
            code => exit_for(Some(code)),
        }
    }
}

/// The exit status an outcome with this code stands for: 0 without one, 3 for a gate's
/// refusal (a private address, a traversal, HTML instead of an ontology, a licence), 1 for
/// everything that failed while working, content that failed validation included. A pull
/// reports it per ontology and exits with the most serious (3 before 1).
pub fn exit_for(code: Option<Code>) -> u8 {
    match code {
        None => EXIT_OK,
        // Content that failed validation, a host that does not resolve (offline): failures
        // of the world, not refusals of the command's input.
        Some(Code::Validation | Code::Dns) => EXIT_FAILURE,
        Some(c) if c.kind() == ontofetch_policy::CodeKind::Refusal => EXIT_REFUSED,
        Some(_) => EXIT_FAILURE,
    }
}

/// How a batch ends: one ontology failing fails the run, as exit 3 when any was refused by a
/// gate, else 1 (each result also carries its own).
pub fn batch_outcome(results: &[ontofetch_pipeline::PullResult]) -> Result<(), AppError> {
    let failed = results.iter().filter(|r| r.is_failure()).count();
    if failed == 0 {
        return Ok(());
    }
    let refused = results.iter().filter(|r| exit_for(r.error.as_ref().map(|e| e.code)) == EXIT_REFUSED).count();
    let mut e = AppError::check_failed(format!("{failed} of {} ontologies failed", results.len()));
    if refused > 0 {
        e.message.push_str(&format!(" ({refused} refused by a gate)"));
        e.refused = true;
    }
    Err(e)
}

impl Coded for AppError {
    fn code(&self) -> Code {
        self.code
    }
}

macro_rules! from_coded {
    ($($t:ty),+) => {$(
        impl From<$t> for AppError {
            fn from(e: $t) -> Self {
                AppError { code: e.code(), message: e.to_string(), refused: false }
            }
        }
    )+};
}

impl From<ontofetch_policy::PolicyError> for AppError {
    fn from(e: ontofetch_policy::PolicyError) -> Self {
        AppError { code: e.code(), message: e.to_string(), refused: true }
    }
}

from_coded!(
    ontofetch_config::ConfigError,
    ontofetch_metrics::MetricsError,
    ontofetch_pipeline::PipelineError,
    ontofetch_catalog::CatalogError,
    ontofetch_store::StoreError,
    ontofetch_monitor::WriteError,
    ontofetch_resolve::lockfile::LockError,
    ontofetch_server::ServerError
);
