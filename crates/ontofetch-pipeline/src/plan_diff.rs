//! `plan-diff`: what changed in the plans since a baseline (a JSON array of plans, by
//! default `<cache>/plans/baseline.json`), keyed by id and sorted so the output is stable.

use crate::error::{PipelineError, io};
use ontofetch_policy::Code;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

/// The fields compared: what the registry says (URL, version, licence…) and what the
/// server said about the file when probed (its length, `Last-Modified`, `ETag`) or what a
/// checksum pins, so new bytes under the same URL and version are a difference too.
pub const FIELDS: &[&str] = &[
    "url",
    "version",
    "license",
    "media_type",
    "service",
    "content_length",
    "last_modified",
    "etag",
    "expected_checksum",
];

/// A plan diff.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanDiff {
    /// Plans only in the current set (whole entries).
    pub added: Vec<Value>,
    /// Plans only in the baseline.
    pub removed: Vec<Value>,
    /// `{id, changes: {field: {before, after}}}`.
    pub modified: Vec<Value>,
}

/// Diffs two plan lists keyed by id.
pub fn diff(baseline: &[Value], current: &[Value]) -> PlanDiff {
    let index = |v: &[Value]| -> BTreeMap<String, Value> {
        v.iter().filter_map(|e| Some((e.get("id")?.as_str()?.to_string(), e.clone()))).collect()
    };
    let (old, new) = (index(baseline), index(current));
    let added = new.iter().filter(|(k, _)| !old.contains_key(*k)).map(|(_, v)| v.clone()).collect();
    let removed = old.iter().filter(|(k, _)| !new.contains_key(*k)).map(|(_, v)| v.clone()).collect();
    let mut modified = Vec::new();
    for (id, n) in &new {
        if let Some(o) = old.get(id) {
            let changes: serde_json::Map<String, Value> = FIELDS
                .iter()
                .filter(|f| o.get(**f) != n.get(**f))
                .map(|f| (f.to_string(), json!({"before": o.get(*f), "after": n.get(*f)})))
                .collect();
            if !changes.is_empty() {
                // The answer changed because the registry snapshot did (`registry update`).
                let snapshot = |v: &Value| v.get("registry_snapshot").cloned().unwrap_or(Value::Null);
                let mut entry = json!({"id": id, "changes": changes});
                if snapshot(o) != snapshot(n) {
                    entry["registry_snapshot"] = json!({"before": snapshot(o), "after": snapshot(n)});
                }
                modified.push(entry);
            }
        }
    }
    PlanDiff { added, removed, modified }
}

/// Reads a baseline; a missing one is empty when it is about to be created.
pub fn read_baseline(path: &Path, creating: bool) -> Result<Vec<Value>, PipelineError> {
    match std::fs::read_to_string(path) {
        Ok(t) => serde_json::from_str::<Value>(&t).ok().and_then(|v| v.as_array().cloned()).ok_or_else(|| {
            PipelineError::new(Code::Usage, format!("baseline {} must be a JSON array of plans", path.display()))
        }),
        Err(_) if creating => Ok(vec![]),
        Err(e) => Err(PipelineError::new(
            Code::Usage,
            format!("no baseline at {} ({e}); run with --update-baseline to create it", path.display()),
        )),
    }
}

/// Replaces the baseline atomically.
pub fn write_baseline(path: &Path, plans: &[Value]) -> Result<(), PipelineError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io(format!("creating {}", parent.display())))?;
    }
    let text = serde_json::to_string_pretty(plans).expect("JSON values serialise");
    ontofetch_fsutil::write_atomic(path, text.as_bytes()).map_err(io(format!("writing {}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_removed_and_modified_fields() {
        let base = vec![json!({"id": "a", "url": "u1", "version": "1"}), json!({"id": "b", "url": "u"})];
        let cur = vec![json!({"id": "a", "url": "u2", "version": "1"}), json!({"id": "c", "url": "u"})];
        let d = diff(&base, &cur);
        assert_eq!(d.added[0]["id"], "c");
        assert_eq!(d.removed[0]["id"], "b");
        assert_eq!(d.modified, vec![json!({"id": "a", "changes": {"url": {"before": "u1", "after": "u2"}}})]);
        assert_eq!(diff(&cur, &cur), PlanDiff { added: vec![], removed: vec![], modified: vec![] });
    }

    #[test]
    fn new_bytes_under_the_same_url_and_version_are_a_difference() {
        let probe = |len: u64, etag: &str, lm: &str| json!({"id": "a", "url": "u", "version": "1", "content_length": len, "etag": etag, "last_modified": lm});
        let before = vec![probe(100, "\"e1\"", "Mon, 01 Jan 2024 00:00:00 GMT")];
        let after = vec![probe(120, "\"e2\"", "Tue, 02 Jan 2024 00:00:00 GMT")];
        let d = diff(&before, &after);
        let changes = &d.modified[0]["changes"];
        assert_eq!(changes["content_length"], json!({"before": 100, "after": 120}));
        assert_eq!(changes["etag"]["after"], "\"e2\"");
        assert!(changes.get("last_modified").is_some());
        assert!(changes.get("url").is_none());
    }

    #[test]
    fn baselines_are_arrays() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("plans/baseline.json");
        assert_eq!(read_baseline(&p, false).unwrap_err().code, Code::Usage);
        assert!(read_baseline(&p, true).unwrap().is_empty());
        write_baseline(&p, &[json!({"id": "a"})]).unwrap();
        assert_eq!(read_baseline(&p, false).unwrap().len(), 1);
        std::fs::write(&p, "{}").unwrap();
        assert!(read_baseline(&p, false).unwrap_err().message.contains("JSON array"));
    }
}
