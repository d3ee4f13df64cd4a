//! The server's error: an HTTP status and a stable code, rendered as the JSON every client
//! sees (`{"error": "...", "code": "E_..."}`). A failing catalog is a 503 with its code,
//! never an empty list: an outage must not look like an empty mirror.

use crate::body::{self, Body};
use hyper::{Response, StatusCode};
use ontofetch_policy::{Code, Coded};
use serde::Serialize;

/// Why a request (or the server's setup) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ServerError {
    /// The answer's status.
    pub status: StatusCode,
    /// The stable code.
    pub code: Code,
    /// What happened and what to do.
    pub message: String,
}

/// The body of every error answer.
#[derive(Debug, Serialize)]
pub(crate) struct ErrorDoc<'a> {
    pub error: &'a str,
    pub code: Code,
}

impl ServerError {
    /// An error with its status and code.
    pub fn new(status: StatusCode, code: Code, message: impl Into<String>) -> Self {
        ServerError { status, code, message: message.into() }
    }

    /// 404: the ontology, version or file is not in the mirror.
    pub fn not_found(message: impl Into<String>) -> Self {
        ServerError::new(StatusCode::NOT_FOUND, Code::NotFound, message)
    }

    /// 400: a gate refused the request (a traversal, a malformed id), with the gate's code.
    pub fn refused(e: impl Coded + std::fmt::Display) -> Self {
        ServerError::new(StatusCode::BAD_REQUEST, e.code(), e.to_string())
    }

    /// 503: a backend (catalog or store) failed; its code is kept.
    pub fn unavailable(e: impl Coded + std::fmt::Display, what: &str) -> Self {
        ServerError::new(StatusCode::SERVICE_UNAVAILABLE, e.code(), format!("{what}: {e}"))
    }

    /// Bad setup input (a certificate, a credentials file): the command's usage error.
    pub fn setup(message: impl Into<String>) -> Self {
        ServerError::new(StatusCode::INTERNAL_SERVER_ERROR, Code::Usage, message)
    }

    /// The JSON answer.
    pub(crate) fn into_response(self) -> Response<Body> {
        body::json(self.status, &ErrorDoc { error: &self.message, code: self.code })
    }
}

impl Coded for ServerError {
    fn code(&self) -> Code {
        self.code
    }
}
