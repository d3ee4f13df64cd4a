//! The validate crate's one error type. A validator's verdict is an [`crate::Outcome`]
//! (failed, skipped, with a message), not an error; this is what the steps inside a
//! validator return, keeping the parser's or the system's error as the cause until the
//! outcome's message is written from it.

/// Why a step of a validator could not go on.
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    /// Reading or writing a file failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being read or written.
        what: String,
        /// The system's error.
        source: std::io::Error,
    },
    /// A parser or a translator refused the input; its own error is the cause.
    #[error("{what}: {source}")]
    Parser {
        /// Where in the input, or what was being parsed.
        what: String,
        /// The parser's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The input is not well-formed in its format, in the validator's own words.
    #[error("{0}")]
    Syntax(String),
    /// The XML guard refused a start tag or the entity expansion (hostile XML).
    #[error("{0}")]
    Hostile(String),
    /// A worker thread of the validator panicked.
    #[error("the {0} panicked")]
    Panicked(&'static str),
    /// RDFC-1.0 gave no canonical form.
    #[error(transparent)]
    Rdfc(#[from] crate::rdfc::RdfcError),
}

impl ValidateError {
    /// A file step that failed.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        ValidateError::Io { what: what.into(), source }
    }

    /// A parser's refusal, kept as the cause.
    pub fn parser(what: impl Into<String>, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        ValidateError::Parser { what: what.into(), source: Box::new(source) }
    }
}
