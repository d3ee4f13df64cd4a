//! `ontologies.lock.json` (schema 1.0): the plans of a run, pinned after a pull to the
//! SHA-256 actually downloaded, and replayed by `pull --lock` as `direct` specs.

use crate::plan::{Checksum, parse_checksum};
use ontofetch_config::SpecInput;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

/// Errors reading or writing lockfiles.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Cannot read or write the file.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// The file is not a lockfile.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl ontofetch_policy::Coded for LockError {
    fn code(&self) -> ontofetch_policy::Code {
        match self {
            LockError::Io { .. } => ontofetch_policy::Code::Io,
            LockError::Invalid { .. } => ontofetch_policy::Code::ConfigInvalid,
        }
    }
}

/// Writes a lockfile atomically (readers see the old one or the new one).
pub fn write(path: &Path, entries: &[Value], generated_at: &str) -> Result<(), LockError> {
    let doc = json!({"schema_version": "1.0", "generated_at": generated_at, "entries": entries});
    let text = serde_json::to_string_pretty(&doc).expect("JSON values serialise") + "\n";
    ontofetch_fsutil::write_atomic(path, text.as_bytes())
        .map_err(|e| LockError::Io { path: path.display().to_string(), message: e.to_string() })
}

/// Pins entries to downloaded digests (`id` → sha256), so a later `pull --lock` refuses
/// changed content even when the registry published no checksum.
pub fn pin(entries: &mut [Value], digests: &BTreeMap<String, String>) {
    for e in entries {
        if let Some(sha) = e.get("id").and_then(Value::as_str).and_then(|id| digests.get(id)) {
            e["expected_checksum"] = json!(Checksum { algorithm: "sha256".into(), value: sha.clone() });
        }
    }
}

/// A lockfile's raw entries (to carry some over into the next one).
pub fn read_entries(path: &Path) -> Result<Vec<Value>, LockError> {
    let invalid = |m: String| LockError::Invalid { path: path.display().to_string(), message: m };
    let text = std::fs::read_to_string(path)
        .map_err(|e| LockError::Io { path: path.display().to_string(), message: e.to_string() })?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| invalid(format!("not JSON: {e}")))?;
    doc.get("entries").and_then(Value::as_array).cloned().ok_or_else(|| invalid("no \"entries\" array".into()))
}

/// Reads a lockfile into `direct` specs (URL and checksum pinned). An entry without
/// `normalize_to` (DocsToKG's lockfiles, ours before 0.9) gets `default_normalize`.
pub fn read(path: &Path, default_normalize: &[String]) -> Result<Vec<SpecInput>, LockError> {
    let invalid = |m: String| LockError::Invalid { path: path.display().to_string(), message: m };
    let text = std::fs::read_to_string(path)
        .map_err(|e| LockError::Io { path: path.display().to_string(), message: e.to_string() })?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| invalid(format!("not JSON: {e}")))?;
    let entries = doc.get("entries").and_then(Value::as_array).ok_or_else(|| invalid("no \"entries\" array".into()))?;
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let s = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_string);
            let id = s("id").ok_or_else(|| invalid(format!("entries[{i}] has no id")))?;
            // The rule every id obeys, however it was made (a directory name, a label).
            ontofetch_policy::config_gate::check_ontology_id(&format!("entries[{i}].id"), &id)
                .map_err(|e| invalid(e.to_string()))?;
            let url = s("url").ok_or_else(|| invalid(format!("entries[{i}] ({id}) has no url")))?;
            let mut extras = BTreeMap::new();
            extras.insert("url".to_string(), Value::String(url));
            // `credential` names the binding (never the key) a replay must authenticate with;
            // `filename` keeps the stored name when the URL has none (BioPortal's /download).
            for k in ["version", "license", "media_type", "credential", "filename"] {
                if let Some(v) = s(k) {
                    extras.insert(k.to_string(), Value::String(v));
                }
            }
            if e.get("opaque").and_then(Value::as_bool) == Some(true) {
                extras.insert("opaque".to_string(), Value::Bool(true));
            }
            if let Some(c) = e.get("expected_checksum").filter(|c| !c.is_null()) {
                parse_checksum(c).map_err(|m| invalid(format!("entries[{i}].expected_checksum: {m}")))?;
                extras.insert("checksum".to_string(), c.clone());
            }
            let list = |k: &str| -> Option<Vec<String>> {
                e.get(k)
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            };
            let target_formats = list("target_formats").unwrap_or_default();
            let normalize_to = list("normalize_to").unwrap_or_else(|| default_normalize.to_vec());
            Ok(SpecInput { id, chain: vec!["direct".into()], extras, target_formats, normalize_to })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_pin_read_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ontologies.lock.json");
        let mut entries = vec![
            json!({"id": "bfo", "url": "https://purl.obolibrary.org/obo/bfo.owl", "version": "2019-08-26", "target_formats": ["owl"], "expected_checksum": null}),
        ];
        let sha = "ab".repeat(32);
        pin(&mut entries, &[("bfo".to_string(), sha.clone())].into());
        write(&p, &entries, "2026-11-25T00:00:00Z").unwrap();
        let specs = read(&p, &["ttl".to_string()]).unwrap();
        assert_eq!(specs[0].chain, ["direct"]);
        assert_eq!(specs[0].extras["url"], "https://purl.obolibrary.org/obo/bfo.owl");
        assert_eq!(specs[0].extras["checksum"]["value"], sha);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temp file left");
        std::fs::write(&p, "{\"entries\": [{\"id\": \"x\"}]}").unwrap();
        assert!(read(&p, &[]).unwrap_err().to_string().contains("entries[0] (x) has no url"));
    }
}
