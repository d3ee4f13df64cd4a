//! What a pull reports for each ontology: DocsToKG's `results_to_dict` fields plus the
//! version, the failure (`{code, message}`), the validation outcome and notes.

use crate::error::PipelineError;
use ontofetch_resolve::Plan;
use ontofetch_validate::Status;
use serde::Serialize;

/// How one ontology's pull ended (the catalog's pull events record the same).
pub use ontofetch_catalog::PullStatus;

/// One validator's verdict on one file, as the pull reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidatorVerdict {
    /// `rdf`, `obo`, `owl`, or `rdf:<extracted path>`.
    pub key: String,
    /// How it went.
    pub status: Status,
    /// Why it failed or was skipped, or what else happened.
    pub message: Option<String>,
    /// Triples, frames or axioms.
    pub statements: u64,
    /// Distinct subjects, terms or classes.
    pub terms: u64,
    /// How the canonical hash was made (`sorted-ntriples`, `rdfc-1.0`, `obo-owl`,
    /// `skipped`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub normalization: Option<String>,
    /// Why there is no canonical hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub normalization_skipped: Option<String>,
}

/// Every validator of a version: `failed` when any failed, `ok` when one passed and none
/// failed, `skipped` when no validator applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationSummary {
    /// Overall verdict.
    pub status: Status,
    /// Each validator.
    pub validators: Vec<ValidatorVerdict>,
}

impl ValidationSummary {
    /// Summarises verdicts.
    pub fn of(validators: Vec<ValidatorVerdict>) -> Self {
        let status = if validators.iter().any(|v| v.status == Status::Failed) {
            Status::Failed
        } else if validators.iter().any(|v| v.status == Status::Ok) {
            Status::Ok
        } else {
            Status::Skipped
        };
        ValidationSummary { status, validators }
    }

    /// One line: `ok (rdf: 1200 statements, 300 terms)`, `failed (obo: parse error …)`.
    pub fn brief(&self) -> String {
        let detail: Vec<String> = self
            .validators
            .iter()
            .filter(|v| v.status == self.status || self.status == Status::Ok)
            .take(2)
            .map(|v| match (v.status, &v.message) {
                (Status::Ok, _) => match &v.normalization_skipped {
                    Some(why) => format!(
                        "{}: {} statements, {} terms; no canonical hash: {}",
                        v.key,
                        v.statements,
                        v.terms,
                        why.chars().take(100).collect::<String>()
                    ),
                    None => format!("{}: {} statements, {} terms", v.key, v.statements, v.terms),
                },
                (_, Some(m)) => format!("{}: {}", v.key, m.chars().take(120).collect::<String>()),
                (s, None) => format!("{}: {}", v.key, s.as_str()),
            })
            .collect();
        if detail.is_empty() { self.status.to_string() } else { format!("{} ({})", self.status, detail.join("; ")) }
    }
}

/// The result of one ontology's pull.
#[derive(Debug, Clone, Serialize)]
pub struct PullResult {
    /// Ontology id.
    pub id: String,
    /// Resolver used.
    pub resolver: Option<String>,
    /// How it ended.
    pub status: PullStatus,
    /// Version directory.
    pub version: Option<String>,
    /// SHA-256 of the original.
    pub sha256: Option<String>,
    /// Where the original is (a path, or a URL on object storage).
    pub path: Option<String>,
    /// Response Content-Type.
    pub content_type: Option<String>,
    /// Bytes.
    pub content_length: Option<u64>,
    /// Response ETag.
    pub etag: Option<String>,
    /// Response Last-Modified.
    pub last_modified: Option<String>,
    /// `hit` (304, identical bytes, pulled by another process) or `miss`.
    pub cache_status: Option<String>,
    /// `sha256:HEX` when one was expected.
    pub expected_checksum: Option<String>,
    /// The failure, when it failed.
    pub error: Option<PipelineError>,
    /// The validation outcome of a newly stored version.
    pub validation: Option<ValidationSummary>,
    /// Things the user should know (e.g. upstream changed bytes without a new version).
    pub notes: Vec<String>,
    /// The plan behind it (for the lockfile).
    #[serde(skip)]
    pub plan: Option<Plan>,
}

impl PullResult {
    /// A failed result.
    pub fn failed(id: &str, resolver: Option<String>, error: PipelineError) -> Self {
        PullResult {
            id: id.to_string(),
            resolver,
            status: PullStatus::Failed,
            version: None,
            sha256: None,
            path: None,
            content_type: None,
            content_length: None,
            etag: None,
            last_modified: None,
            cache_status: None,
            expected_checksum: None,
            error: Some(error),
            validation: None,
            notes: vec![],
            plan: None,
        }
    }

    /// Whether it failed.
    pub fn is_failure(&self) -> bool {
        self.status == PullStatus::Failed
    }
}
