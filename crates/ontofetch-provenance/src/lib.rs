//! Provenance a consumer can verify offline (docs/provenance.md): the mirror's Ed25519
//! signing key in the C2SP signed-note form (`keys`), an in-toto Statement v1 naming a
//! stored version's bytes (`statement`), signed as a DSSE envelope (`dsse`), and the check
//! a consumer runs: the envelope's signature under a trusted verifier key, then the bytes'
//! SHA-256 against the statement's subjects (`verify`). The formats are the maintained
//! crates' (`signed_note`, `ed25519-dalek`) and the published specifications', so any
//! DSSE/in-toto implementation checks them too.

#![warn(missing_docs)]

pub mod dsse;
pub mod keys;
pub mod log;
pub mod statement;

pub use dsse::Envelope;
pub use keys::{SigningKey, VerifierKey};
pub use statement::{Predicate, Statement, Subject};

use ontofetch_policy::{Code, Coded};

/// Why a key, an envelope or a check failed.
#[derive(Debug, thiserror::Error)]
pub enum ProvenanceError {
    /// A key is malformed (its text, its name, its id) or cannot be read.
    #[error("{0}")]
    Key(String),
    /// The signature does not verify, or no signature is by the trusted key.
    #[error("{0}")]
    Signature(String),
    /// The bytes are not the ones the statement names.
    #[error("{0}")]
    Subject(String),
    /// A log's checkpoint or entries are not consistent with what was seen before: a
    /// rollback, a fork, a rewritten entry.
    #[error("{0}")]
    Inconsistent(String),
    /// The envelope or its statement is not what it should be.
    #[error("{0}")]
    Format(String),
    /// A file could not be read or written.
    #[error("{what}: {source}")]
    Io {
        /// What, naming the path.
        what: String,
        /// The system's error.
        source: std::io::Error,
    },
}

impl Coded for ProvenanceError {
    fn code(&self) -> Code {
        match self {
            ProvenanceError::Key(_) => Code::ConfigInvalid,
            ProvenanceError::Signature(_) | ProvenanceError::Subject(_) | ProvenanceError::Format(_) => {
                Code::Attestation
            }
            ProvenanceError::Inconsistent(_) => Code::LogInconsistent,
            ProvenanceError::Io { .. } => Code::Io,
        }
    }
}

/// A file's SHA-256, streamed.
pub fn sha256_file(path: &std::path::Path) -> Result<String, ProvenanceError> {
    ontofetch_fsutil::sha256_file(path)
        .map_err(|e| ProvenanceError::Io { what: format!("reading {}", path.display()), source: e })
}
