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
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    /// The stable code.
    pub code: Code,
    /// What happened and what to do.
    pub message: String,
    /// A gate refused the command's input (exit 3).
    pub refused: bool,
    /// The crate error it was made from, when there is one (its own causes behind it).
    #[source]
    pub cause: Option<std::sync::Arc<dyn std::error::Error + Send + Sync>>,
}

/// Two errors are the same failure when their code, message and refusal agree (the causes
/// behind them are not compared).
impl PartialEq for AppError {
    fn eq(&self, other: &Self) -> bool {
        (self.code, &self.message, self.refused) == (other.code, &other.message, other.refused)
    }
}

impl Eq for AppError {}

impl AppError {
    /// A failure with a code.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        AppError { code, message: message.into(), refused: false, cause: None }
    }

    /// A failure made from a crate's error, which stays its cause.
    pub fn caused_by<E: Coded + std::error::Error + Send + Sync + 'static>(e: E) -> Self {
        AppError { code: e.code(), message: e.to_string(), refused: false, cause: Some(std::sync::Arc::new(e)) }
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
        let message = format!("{what}: {e}");
        AppError { cause: Some(std::sync::Arc::new(e)), ..AppError::new(Code::Io, message) }
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
pub fn batch_outcome<'a>(
    results: impl ExactSizeIterator<Item = &'a ontofetch_pipeline::PullResult>,
) -> Result<(), AppError> {
    let total = results.len();
    let failed: Vec<Code> =
        results.filter(|r| r.is_failure()).map(|r| r.error.as_ref().map_or(Code::CheckFailed, |e| e.code)).collect();
    batch_failure(total, &failed, "failed", "refused by a gate")
}

/// A batch of `total` items of which those with codes `failed` did not succeed: nothing
/// when none, else a failure saying how many (`verb`), refused (exit 3) when any code was a
/// gate's refusal, which `refused` words.
pub fn batch_failure(total: usize, failed: &[Code], verb: &str, refused: &str) -> Result<(), AppError> {
    if failed.is_empty() {
        return Ok(());
    }
    let n = failed.iter().filter(|c| exit_for(Some(**c)) == EXIT_REFUSED).count();
    let mut e = AppError::check_failed(format!("{} of {total} ontologies {verb}", failed.len()));
    if n > 0 {
        e.message.push_str(&format!(" ({n} {refused})"));
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
                AppError::caused_by(e)
            }
        }
    )+};
}

impl From<ontofetch_policy::PolicyError> for AppError {
    fn from(e: ontofetch_policy::PolicyError) -> Self {
        AppError { refused: true, ..AppError::caused_by(e) }
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
    ontofetch_server::ServerError,
    ontofetch_provenance::ProvenanceError
);

#[cfg(test)]
mod tests {
    use super::*;

    /// An error made from a crate's error keeps it (and its causes) behind `source()`; the
    /// code and the message are the crate error's.
    #[test]
    fn errors_keep_their_cause() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        let store = ontofetch_store::StoreError::Io { what: "writing x".into(), source: io };
        let e = AppError::from(store);
        assert_eq!(e.code, Code::Io);
        let cause = std::error::Error::source(&e).expect("the store error is the cause");
        assert!(cause.to_string().contains("writing x"), "{cause}");
        assert!(cause.source().is_some_and(|c| c.to_string() == "denied"), "and its own cause behind it");
        let io = AppError::io("reading y", std::io::Error::other("gone"));
        assert_eq!(std::error::Error::source(&io).map(|c| c.to_string()), Some("gone".into()));
    }
}
