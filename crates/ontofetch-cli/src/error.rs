//! The CLI's error type: every failure carries a stable code and an exit status.

use ontofetch_config::ConfigError;
use ontofetch_metrics::MetricsError;
use ontofetch_policy::PolicyError;

/// Exit status for success.
pub const EXIT_OK: u8 = 0;
/// Exit status for a runtime failure (I/O, a failed check).
pub const EXIT_FAILURE: u8 = 1;
/// Exit status for bad input: usage or configuration.
pub const EXIT_USAGE: u8 = 2;
/// Exit status for a policy refusal.
pub const EXIT_REFUSED: u8 = 3;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The configuration is wrong (file, line, key in the message).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The command line is wrong.
    #[error("E_USAGE: {0}")]
    Usage(String),
    /// A gate refused.
    #[error(transparent)]
    Refused(#[from] PolicyError),
    /// Metrics could not be written.
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    /// A file operation failed.
    #[error("E_IO: {what}: {source}")]
    Io {
        /// What we were doing, naming the path.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A runtime failure from a lower crate, with its stable code.
    #[error("{1}")]
    Failed(String, String),
    /// A check reported problems (already printed).
    #[error("E_CHECK_FAILED: {0}")]
    CheckFailed(String),
}

impl CliError {
    /// Wraps an I/O error with what we were doing.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        CliError::Io { what: what.into(), source }
    }

    /// The stable code printed with the error.
    pub fn code(&self) -> String {
        match self {
            CliError::Config(e) => e.code().as_str().into(),
            CliError::Usage(_) => "E_USAGE".into(),
            CliError::Refused(e) => e.code().map(|c| c.as_str().to_string()).unwrap_or_else(|| "E_GATE_ERROR".into()),
            CliError::Metrics(MetricsError::Encode(_)) => "E_METRICS_ENCODE".into(),
            CliError::Metrics(MetricsError::Write { .. }) => "E_METRICS_WRITE".into(),
            CliError::Io { .. } => "E_IO".into(),
            CliError::CheckFailed(_) => "E_CHECK_FAILED".into(),
            CliError::Failed(code, _) => code.clone(),
        }
    }

    /// The process exit status.
    pub fn exit_status(&self) -> u8 {
        match self {
            CliError::Config(_) | CliError::Usage(_) => EXIT_USAGE,
            CliError::Refused(_) => EXIT_REFUSED,
            CliError::Metrics(_) | CliError::Io { .. } | CliError::CheckFailed(_) | CliError::Failed(..) => {
                EXIT_FAILURE
            }
        }
    }
}
