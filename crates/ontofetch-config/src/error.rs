//! The config crate's error: `E_CONFIG_INVALID` (or the code of the gate that refused a
//! value), always naming where.

use crate::origin::Origin;
use ontofetch_policy::Code;

/// A configuration problem the user must fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A value, key or structure is wrong.
    #[error("{file}{}: {key}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        /// The file (or `<environment>`, `<built-in default>`).
        file: String,
        /// 1-based line, when known.
        line: Option<usize>,
        /// The key path (`defaults.http.max_retries`, `ontologies[2].id`) or variable.
        key: String,
        /// What is wrong and what is expected.
        message: String,
    },
    /// A value a gate refused (a URL to a private address in `extras.url`): the command's
    /// own input was refused, so the gate's code is kept (exit 3, not 2).
    #[error("{file}{}: {key}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Refused {
        /// The file.
        file: String,
        /// 1-based line, when known.
        line: Option<usize>,
        /// The key path.
        key: String,
        /// What was refused and why.
        message: String,
        /// The gate's code (`E_PRIVATE_IP`, `E_SCHEME`, …).
        code: Code,
    },
    /// Several values are wrong: every one is reported at once, so a user fixes a file in
    /// one round (the first decides the code).
    #[error("{} errors:\n{}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Several(Vec<ConfigError>),
    /// The file cannot be read.
    #[error("cannot read {file}: {message}")]
    Read {
        /// The file.
        file: String,
        /// The OS error.
        message: String,
    },
}

impl ConfigError {
    pub(crate) fn invalid(origin: &Origin, line: Option<usize>, key: String, message: String) -> Self {
        ConfigError::Invalid { file: origin.label(), line, key, message }
    }
}

impl ontofetch_policy::Coded for ConfigError {
    fn code(&self) -> Code {
        match self {
            ConfigError::Refused { code, .. } => *code,
            ConfigError::Several(all) => all.first().map_or(Code::ConfigInvalid, ontofetch_policy::Coded::code),
            _ => Code::ConfigInvalid,
        }
    }
}
