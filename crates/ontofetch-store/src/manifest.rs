//! `manifest.json`, schema 1.0, typed: every field DocsToKG's OntologyDownload writes, in
//! its shapes, plus ontofetch's additions. Fields this version does not know (a newer
//! writer's, or a DocsToKG extension) are kept as they are and written back unchanged.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The schema version written and understood.
pub const SCHEMA_VERSION: &str = "1.0";

/// An expected checksum (`{algorithm, value}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedChecksum {
    /// `sha256` (the only one verified while streaming).
    pub algorithm: String,
    /// Lowercase hex.
    pub value: String,
}

/// One validator's result (`validation.<name>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationEntry {
    /// Passed.
    pub ok: bool,
    /// `ok`, `failed` or `skipped` (ontofetch; DocsToKG has only `ok`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The validator's report.
    #[serde(default)]
    pub details: Value,
    /// Files it wrote, relative to the version directory.
    #[serde(default)]
    pub output_files: Vec<String>,
    /// Anything else a writer put here.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// One resolver attempt (`resolver_attempts[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolverAttempt {
    /// Resolver name.
    pub resolver: String,
    /// Candidate URL.
    #[serde(default)]
    pub url: Option<String>,
    /// 1-based position in the chain.
    pub attempt: u32,
    /// `ok`, `failed`, `rejected`…
    pub status: String,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Stable code of the failure (ontofetch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Anything else (DocsToKG: `expected_checksum`, `validators`).
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// How the content hash (`normalized_sha256`) was obtained, or why it was not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Normalization {
    /// `sorted-ntriples` (no blank nodes), `rdfc-1.0`, or `skipped`.
    pub mode: String,
    /// Why the hash was skipped, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped_reason: Option<String>,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// `"1.0"`.
    pub schema_version: String,
    /// Ontology id.
    pub id: String,
    /// Resolver of the successful candidate.
    pub resolver: String,
    /// Where the bytes came from (end of the redirect chain).
    pub url: String,
    /// File name of the original.
    pub filename: String,
    /// Version directory name.
    pub version: Option<String>,
    /// SPDX licence.
    pub license: Option<String>,
    /// `fresh`, `updated` or `cached`.
    pub status: String,
    /// SHA-256 of the original.
    pub sha256: String,
    /// SHA-256 of the canonical N-Triples.
    pub normalized_sha256: Option<String>,
    /// DocsToKG's fingerprint: `sha256("1.0|basis|prefix|mode|formats")`.
    pub fingerprint: Option<String>,
    /// Response ETag.
    pub etag: Option<String>,
    /// Response Last-Modified.
    pub last_modified: Option<String>,
    /// Response Content-Type.
    pub content_type: Option<String>,
    /// Bytes of the original.
    pub content_length: Option<u64>,
    /// RDF/XML, Turtle, OBO…
    pub source_media_type_label: Option<String>,
    /// DocsToKG's streaming prefix hash.
    pub streaming_prefix_sha256: Option<String>,
    /// DocsToKG's streaming content hash.
    pub streaming_content_sha256: Option<String>,
    /// Expected checksum, when one was known.
    pub expected_checksum: Option<ExpectedChecksum>,
    /// RFC 3339 UTC.
    pub downloaded_at: String,
    /// Formats to download, in order of preference (DocsToKG's field).
    pub target_formats: Vec<String>,
    /// Renderings written after validation (ontofetch; absent in DocsToKG's manifests and
    /// ours before 0.9, where `target_formats` stood for both).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalize_to: Option<Vec<String>>,
    /// Validators' results by name.
    pub validation: BTreeMap<String, ValidationEntry>,
    /// Absolute paths (or URLs) of every stored file.
    pub artifacts: Vec<String>,
    /// Every resolver tried.
    pub resolver_attempts: Vec<ResolverAttempt>,
    /// How `normalized_sha256` was computed, or why it is absent (ontofetch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalization: Option<Normalization>,
    /// Things the user should know (ontofetch).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Fields this version does not know, kept as they are.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// Why a manifest could not be read.
#[derive(Debug, thiserror::Error)]
#[error("not a schema {SCHEMA_VERSION} manifest: {0}")]
pub struct ManifestError(#[from] serde_json::Error);

impl ontofetch_policy::Coded for ManifestError {
    fn code(&self) -> ontofetch_policy::Code {
        ontofetch_policy::Code::Manifest
    }
}

impl Manifest {
    /// The renderings this version was (or is to be) normalised to.
    pub fn renderings(&self) -> &[String] {
        self.normalize_to.as_deref().unwrap_or(&self.target_formats)
    }

    /// DocsToKG's fingerprint of a version's content and formats.
    pub fn fingerprint(sha256: &str, normalization_mode: &str, target_formats: &[String]) -> String {
        let mut formats = target_formats.to_vec();
        formats.sort();
        ontofetch_fsutil::sha256_bytes(format!("1.0|{sha256}||{normalization_mode}|{}", formats.join(",")).as_bytes())
    }

    /// Parses a manifest (schema 0.9 gains an empty `resolver_attempts`, as DocsToKG's
    /// migration does).
    pub fn from_slice(bytes: &[u8]) -> Result<Manifest, ManifestError> {
        let mut v: Value = serde_json::from_slice(bytes)?;
        if v.get("schema_version").and_then(Value::as_str) == Some("0.9") && v.get("resolver_attempts").is_none() {
            v["resolver_attempts"] = Value::Array(vec![]);
            v["schema_version"] = Value::String(SCHEMA_VERSION.into());
        }
        Ok(serde_json::from_value(v)?)
    }

    /// The JSON text: sorted keys, two-space indent, a final newline (DocsToKG's form).
    pub fn to_pretty_json(&self) -> String {
        // Through a `Value`: serde_json's map is ordered, so keys come out sorted.
        let v = serde_json::to_value(self).expect("a manifest serialises");
        serde_json::to_string_pretty(&v).expect("JSON values serialise") + "\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A manifest as DocsToKG's OntologyDownload writes it (reference: its `manifests.py`),
    /// with an extension field it may carry.
    const DOCSTOKG: &str = r#"{
  "artifacts": ["/data/ontology-fetcher/ontologies/hp/2024-01-01/original/hp.owl"],
  "content_length": 1234,
  "content_type": "application/rdf+xml",
  "downloaded_at": "2024-01-02T03:04:05Z",
  "etag": "\"abc\"",
  "expected_checksum": {"algorithm": "sha256", "value": "00aa"},
  "filename": "hp.owl",
  "fingerprint": "ff",
  "id": "hp",
  "last_modified": "Tue, 02 Jan 2024 00:00:00 GMT",
  "license": "CC-BY-4.0",
  "normalized_sha256": "11bb",
  "resolver": "obo",
  "resolver_attempts": [
    {"attempt": 1, "resolver": "obo", "status": "success", "url": "https://purl.obolibrary.org/obo/hp.owl",
     "expected_checksum": null, "validators": ["rdflib"]}
  ],
  "schema_version": "1.0",
  "sha256": "22cc",
  "source_media_type_label": "RDF/XML",
  "status": "fresh",
  "streaming_content_sha256": "33dd",
  "streaming_prefix_sha256": "44ee",
  "target_formats": ["owl", "obo"],
  "url": "https://purl.obolibrary.org/obo/hp.owl",
  "validation": {
    "rdflib": {"ok": true, "details": {"triples": 42, "normalization_mode": "in-memory"}, "output_files": ["normalized/hp.ttl"]},
    "pronto": {"ok": false, "details": {"error": "boom"}, "output_files": []}
  },
  "version": "2024-01-01",
  "x_docstokg_index": {"kept": true}
}"#;

    #[test]
    fn docstokg_manifest_round_trips_unchanged() {
        let m = Manifest::from_slice(DOCSTOKG.as_bytes()).unwrap();
        assert_eq!(m.id, "hp");
        assert_eq!(m.validation["rdflib"].details["triples"], 42);
        assert!(!m.validation["pronto"].ok);
        assert_eq!(m.resolver_attempts[0].extra["validators"][0], "rdflib");
        assert_eq!(m.extra["x_docstokg_index"]["kept"], true);
        let back: Value = serde_json::from_str(&m.to_pretty_json()).unwrap();
        let orig: Value = serde_json::from_str(DOCSTOKG).unwrap();
        assert_eq!(back, orig, "every field, known or not, is written back as it was");
        let text = m.to_pretty_json();
        assert!(text.find("\"artifacts\"").unwrap() < text.find("\"version\"").unwrap(), "sorted keys");
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn schema_0_9_is_migrated_and_garbage_is_refused() {
        let mut v: Value = serde_json::from_str(DOCSTOKG).unwrap();
        v["schema_version"] = "0.9".into();
        v.as_object_mut().unwrap().remove("resolver_attempts");
        let m = Manifest::from_slice(v.to_string().as_bytes()).unwrap();
        assert_eq!(m.schema_version, "1.0");
        assert!(m.resolver_attempts.is_empty());
        assert!(Manifest::from_slice(b"{\"id\": 1}").is_err());
        assert_eq!(Manifest::fingerprint("a", "none", &["ttl".into(), "owl".into()]).len(), 64);
    }
}
