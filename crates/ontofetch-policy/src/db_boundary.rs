//! The db_boundary gate: the catalog only commits rows for durable files, only holds
//! relative store keys, and row and file exist together or not at all.

use crate::code::Code;
use crate::gate::{Gate, Refusal};
use crate::path::{SafeRelPath, normalize};
use crate::policy::PathPolicy;

fn refuse(code: Code, message: String) -> Refusal {
    Refusal::new(Gate::DbBoundary, code, message)
}

/// Facts at the moment the catalog is about to commit a version.
#[derive(Debug, Clone, Copy)]
pub struct CommitFacts<'a> {
    /// What is being committed (for messages).
    pub what: &'a str,
    /// The blob was fsynced and renamed into its final place.
    pub blob_durable: bool,
    /// The rows are being written inside one open transaction.
    pub in_transaction: bool,
}

/// The db_boundary gate before a commit: store first, catalog second, in one transaction.
pub fn check_commit(facts: &CommitFacts<'_>) -> Result<(), Refusal> {
    if !facts.blob_durable {
        return Err(refuse(Code::DbTxn, format!("{}: catalog commit before its files are durable", facts.what)));
    }
    if !facts.in_transaction {
        return Err(refuse(Code::DbTxn, format!("{}: catalog rows written outside a transaction", facts.what)));
    }
    Ok(())
}

/// The db_boundary gate on a path read back from the catalog: it must be a relative key
/// under `ontologies/` or `by-sha256/`, re-validated like any untrusted path.
pub fn check_stored_path(paths: &PathPolicy, stored: &str) -> Result<SafeRelPath, Refusal> {
    let safe = normalize(paths, stored).map_err(|(code, m)| refuse(code, format!("catalog value: {m}")))?;
    match safe.components().first().map(String::as_str) {
        Some("ontologies") | Some("by-sha256") => Ok(safe),
        _ => Err(refuse(Code::StorageRoot, format!("catalog value {stored:?} is not under ontologies/ or by-sha256/"))),
    }
}

/// Facts from a consistency scan (doctor).
#[derive(Debug, Clone, Copy)]
pub struct PairFacts<'a> {
    /// The store key.
    pub key: &'a str,
    /// A catalog row refers to it.
    pub row_exists: bool,
    /// The file exists in the store.
    pub file_exists: bool,
}

/// The db_boundary gate on one row/file pair: one without the other is an orphan.
pub fn check_pair(facts: &PairFacts<'_>) -> Result<(), Refusal> {
    match (facts.row_exists, facts.file_exists) {
        (true, false) => Err(refuse(Code::DbOrphan, format!("catalog row for {} has no file", facts.key))),
        (false, true) => Err(refuse(Code::DbOrphan, format!("file {} has no catalog row", facts.key))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_order_and_stored_paths() {
        assert!(check_commit(&CommitFacts { what: "bfo/v1", blob_durable: true, in_transaction: true }).is_ok());
        assert_eq!(
            check_commit(&CommitFacts { what: "bfo/v1", blob_durable: false, in_transaction: true }).unwrap_err().code,
            Code::DbTxn
        );
        assert_eq!(
            check_commit(&CommitFacts { what: "bfo/v1", blob_durable: true, in_transaction: false }).unwrap_err().code,
            Code::DbTxn
        );
        let p = PathPolicy::default();
        assert!(check_stored_path(&p, "ontologies/bfo/v1/original/bfo.owl").is_ok());
        assert_eq!(check_stored_path(&p, "/etc/passwd").unwrap_err().code, Code::AbsolutePath);
        assert_eq!(check_stored_path(&p, "../x").unwrap_err().code, Code::Traversal);
        assert_eq!(check_stored_path(&p, "configs/x").unwrap_err().code, Code::StorageRoot);
        assert_eq!(
            check_pair(&PairFacts { key: "k", row_exists: true, file_exists: false }).unwrap_err().code,
            Code::DbOrphan
        );
        assert_eq!(
            check_pair(&PairFacts { key: "k", row_exists: false, file_exists: true }).unwrap_err().code,
            Code::DbOrphan
        );
        assert!(check_pair(&PairFacts { key: "k", row_exists: true, file_exists: true }).is_ok());
    }
}
