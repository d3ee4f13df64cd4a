//! The net crate's error: a stable code, whether a retry may help, and the URL involved.

use ontofetch_policy::{Code, PolicyError};
use std::sync::Arc;
use std::time::Duration;

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// A gate refused the URL, a redirect hop or a resolved address.
    #[error(transparent)]
    Refused(#[from] PolicyError),
    /// The server answered with a status that is not retried.
    #[error("{url} answered {status}")]
    Status {
        /// The URL.
        url: String,
        /// The status.
        status: u16,
    },
    /// A status worth retrying (429, 503, 5xx, 408), possibly with Retry-After.
    #[error("{url} answered {status} (retryable)")]
    RetryableStatus {
        /// The URL.
        url: String,
        /// The status.
        status: u16,
        /// Server's Retry-After, capped.
        retry_after: Option<Duration>,
    },
    /// The host name did not resolve (offline, a typo, a DNS outage): one short line; the
    /// resolver's own words are in the debug log. Not retried: a name that does not
    /// resolve now will not in a second.
    #[error("cannot resolve {host}: no network, or no such host?")]
    Unresolved {
        /// The URL.
        url: String,
        /// The host name.
        host: String,
    },
    /// Connection, TLS or body stream failure (the partial file is kept for resume).
    #[error("{url}: {message}")]
    Network {
        /// The URL.
        url: String,
        /// What happened.
        message: String,
    },
    /// The body ended before its Content-Length.
    #[error("{url}: body truncated at {got} of {expected} bytes")]
    Truncated {
        /// The URL.
        url: String,
        /// Bytes received in total.
        got: u64,
        /// Bytes announced.
        expected: u64,
    },
    /// The attempt exceeded its deadline.
    #[error("{url}: no complete response within {seconds:.0} s")]
    Timeout {
        /// The URL.
        url: String,
        /// The deadline.
        seconds: f64,
    },
    /// More bytes than the cap.
    #[error("{url}: more than {limit} bytes")]
    SizeLimit {
        /// The URL.
        url: String,
        /// The cap.
        limit: u64,
    },
    /// The bytes do not match the expected checksum.
    #[error("{url}: sha256 {actual} but {expected} was expected")]
    Checksum {
        /// The URL.
        url: String,
        /// Expected digest.
        expected: String,
        /// Actual digest.
        actual: String,
    },
    /// An HTML page where an ontology was expected.
    #[error("{url}: got an HTML page ({content_type}), not an ontology")]
    MediaType {
        /// The URL.
        url: String,
        /// What the server said it was.
        content_type: String,
    },
    /// A redirect without a usable Location.
    #[error("{url} answered {status} without a Location header")]
    NoLocation {
        /// The URL.
        url: String,
        /// The status.
        status: u16,
    },
    /// Local file trouble.
    #[error("{what}: {source}")]
    Io {
        /// What we were doing.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The client could not be set up (the platform's TLS roots, the DNS servers asked for).
    #[error("cannot configure {what}: {source}")]
    Setup {
        /// What was being configured.
        what: String,
        /// The library's error.
        source: Arc<dyn std::error::Error + Send + Sync>,
    },
    /// A JSON API answered something that is not the JSON we need.
    #[error("{url}: unusable JSON: {message}")]
    Json {
        /// The URL.
        url: String,
        /// Why.
        message: String,
    },
}

impl ontofetch_policy::Coded for NetError {
    fn code(&self) -> Code {
        match self {
            NetError::Refused(e) => e.code(),
            NetError::Status { .. }
            | NetError::RetryableStatus { .. }
            | NetError::NoLocation { .. }
            | NetError::Json { .. } => Code::HttpStatus,
            NetError::Network { .. } | NetError::Truncated { .. } | NetError::Setup { .. } => Code::Network,
            NetError::Unresolved { .. } => Code::Dns,
            NetError::Timeout { .. } => Code::Timeout,
            NetError::SizeLimit { .. } => Code::SizeLimit,
            NetError::Checksum { .. } => Code::Checksum,
            NetError::MediaType { .. } => Code::MediaType,
            NetError::Io { .. } => Code::Io,
        }
    }
}

impl NetError {
    /// Whether another attempt may succeed.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            NetError::RetryableStatus { .. }
                | NetError::Network { .. }
                | NetError::Truncated { .. }
                | NetError::Timeout { .. }
        )
    }

    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        NetError::Io { what: what.into(), source }
    }
}
