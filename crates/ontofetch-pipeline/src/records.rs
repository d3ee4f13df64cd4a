//! One validator's outcome as the two records that keep it: the catalog's validation row
//! and the manifest's `validation` entry. A pull and a re-validation (`ontofetch validate
//! ID`) both write them from here, so the two never disagree on what was recorded.

use crate::now_rfc3339;
use ontofetch_catalog::{ValidationResult, ValidationRow};
use ontofetch_store::manifest::ValidationEntry;
use ontofetch_validate::Status;
use serde_json::Value;
use std::collections::BTreeMap;

/// The catalog row and the manifest entry of `validator`'s outcome (`details` is the
/// outcome as JSON, its paths already relocated out of staging).
pub fn validation_records(
    validator: &str,
    status: Status,
    details: Value,
    output_files: Vec<String>,
) -> (ValidationRow, ValidationEntry) {
    let row = ValidationRow {
        validator: validator.to_string(),
        result: match status {
            Status::Ok => ValidationResult::Ok,
            Status::Failed => ValidationResult::Failed,
            Status::Skipped => ValidationResult::Skipped,
        },
        details: details.to_string(),
        run_at: now_rfc3339(),
    };
    let entry = ValidationEntry {
        ok: status == Status::Ok,
        status: Some(status.as_str().to_string()),
        details,
        output_files,
        extra: BTreeMap::new(),
    };
    (row, entry)
}
