//! The in-toto Statement v1 an attestation wraps: the stored version's files as subjects
//! (name and SHA-256), and ontofetch's provenance predicate (docs/provenance.md): where the
//! bytes came from, when, through which gates, and what the validators said.

use crate::ProvenanceError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The statement type.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// ontofetch's predicate type (docs/provenance.md).
pub const PREDICATE_TYPE: &str = "https://github.com/ontofetch/ontofetch/provenance/v1";

/// An in-toto Statement v1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// [`STATEMENT_TYPE`].
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// The files it is about.
    pub subject: Vec<Subject>,
    /// [`PREDICATE_TYPE`].
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// What is said of them.
    pub predicate: Predicate,
}

/// One file: its path inside the version directory and its digests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// `original/<file>`, `normalized/<stem>.nt`…
    pub name: String,
    /// `{"sha256": hex}`.
    pub digest: BTreeMap<String, String>,
}

/// Where a stored version came from and what was checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Predicate {
    /// Who made it: `ontofetch <version>`.
    pub builder: String,
    /// The ontology id.
    pub ontology: String,
    /// The version's name in the mirror.
    pub version: String,
    /// The resolver that planned it.
    pub resolver: String,
    /// The plan's URL.
    pub url: String,
    /// Where the bytes were served from, after the redirects the redirect gate allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_url: Option<String>,
    /// The URLs redirected from, in order (the plan's first), each hop allowed by the
    /// redirect gate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirects: Vec<String>,
    /// The address the bytes came from, as dialed after the ip gate admitted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_address: Option<String>,
    /// SHA-256 of the TLS peer's leaf certificate (DER) that served the bytes, over HTTPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_peer_certificate_sha256: Option<String>,
    /// The registry snapshot that answered, when a resolver read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_snapshot: Option<String>,
    /// RFC 3339 time of the download.
    pub downloaded_at: String,
    /// The response's ETag and Last-Modified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// See `etag`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// The licence recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// The gates every byte passed (url, redirect, ip, storage, filesystem, and extraction
    /// for an archive).
    pub gates: Vec<String>,
    /// Each validator's result (`ok`, `failed`, `skipped`).
    pub validation: BTreeMap<String, String>,
    /// The version's verdict (`valid`, `invalid`, …).
    pub verdict: String,
    /// The canonical hash of the original's content, and how it was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical: Option<Canonical>,
}

/// A canonical hash and its mode (`rdfc-1.0`, `sorted-ntriples`, `obo-owl`…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Canonical {
    /// SHA-256 of the canonical form.
    pub sha256: String,
    /// How it was made.
    pub mode: String,
}

impl Statement {
    /// A statement about `subject` (name → SHA-256).
    pub fn new(subject: impl IntoIterator<Item = (String, String)>, predicate: Predicate) -> Statement {
        Statement {
            statement_type: STATEMENT_TYPE.into(),
            subject: subject
                .into_iter()
                .map(|(name, sha)| Subject { name, digest: BTreeMap::from([("sha256".to_string(), sha)]) })
                .collect(),
            predicate_type: PREDICATE_TYPE.into(),
            predicate,
        }
    }

    /// Reads a statement (a payload that verified), refusing another type.
    pub fn from_json(bytes: &[u8]) -> Result<Statement, ProvenanceError> {
        let s: Statement = serde_json::from_slice(bytes)
            .map_err(|e| ProvenanceError::Format(format!("the payload is not an in-toto statement: {e}")))?;
        if s.statement_type != STATEMENT_TYPE || s.predicate_type != PREDICATE_TYPE {
            return Err(ProvenanceError::Format(format!(
                "a statement of type {} / {}, not ontofetch's provenance",
                s.statement_type, s.predicate_type
            )));
        }
        Ok(s)
    }

    /// The SHA-256 the statement gives `name`, if it names it.
    pub fn sha256_of(&self, name: &str) -> Option<&str> {
        self.subject.iter().find(|s| s.name == name).and_then(|s| s.digest.get("sha256")).map(String::as_str)
    }

    /// Checks a file's bytes (`sha256`) against the subject of that name: a file the
    /// statement does not name, or other bytes, is refused.
    pub fn check(&self, name: &str, sha256: &str) -> Result<(), ProvenanceError> {
        match self.sha256_of(name) {
            Some(want) if want.eq_ignore_ascii_case(sha256) => Ok(()),
            Some(want) => Err(ProvenanceError::Subject(format!(
                "{name} hashes to {sha256}, but the attestation says {want}: these are not the attested bytes"
            ))),
            None => Err(ProvenanceError::Subject(format!(
                "the attestation does not name {name} (it names {})",
                self.subject.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    /// The statement as the envelope carries it (compact JSON).
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}
