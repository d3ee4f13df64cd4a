//! Every statement the catalog runs on both backends, written once in portable SQL with
//! `$n` parameters, and the small dialect layer that renders them for each backend
//! (SQLite numbers its parameters `?n`; PostgreSQL reads a few locks differently). The
//! values a statement binds and the cells it returns are backend-neutral ([`Arg`],
//! [`Cells`]), so rows are read back into catalog types in one place too.

use crate::{
    ArtifactKind, ArtifactRow, CatalogError, DiffRow, ImportEdge, ImportStatus, PullEvent, PullStatus,
    ValidationResult, ValidationRow, Verdict, VersionRow,
};
use std::borrow::Cow;

/// Which SQL a backend speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// `?n` parameters; a write transaction locks the whole file (`BEGIN IMMEDIATE`).
    Sqlite,
    /// `$n` parameters; rows read under a transaction can be share-locked.
    Postgres,
}

impl Dialect {
    /// The statement as this backend reads it.
    pub(crate) fn render(self, sql: &'static str) -> Cow<'static, str> {
        match self {
            Dialect::Postgres => Cow::Borrowed(sql),
            Dialect::Sqlite => {
                let mut out = String::with_capacity(sql.len());
                let mut chars = sql.chars().peekable();
                while let Some(c) = chars.next() {
                    let numbered = c == '$' && chars.peek().is_some_and(char::is_ascii_digit);
                    out.push(if numbered { '?' } else { c });
                }
                Cow::Owned(out)
            }
        }
    }

    /// Reads the fencing token inside a record's transaction so that no new lease can
    /// issue another until it commits: a share lock on PostgreSQL; SQLite's write
    /// transaction already holds the whole file.
    pub(crate) fn fence_read(self) -> &'static str {
        match self {
            Dialect::Sqlite => FENCE_TOKEN,
            Dialect::Postgres => "SELECT epoch FROM lease_epochs WHERE ontology = $1 FOR SHARE",
        }
    }
}

/// One bound parameter, in the few types the catalog stores.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    /// SQL NULL (of a text column).
    Null,
    /// Text.
    Text(String),
    /// A 64-bit integer.
    Int(i64),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Text(s.to_string())
    }
}

impl From<&String> for Arg {
    fn from(s: &String) -> Arg {
        Arg::Text(s.clone())
    }
}

impl From<Option<&str>> for Arg {
    fn from(s: Option<&str>) -> Arg {
        s.map_or(Arg::Null, Arg::from)
    }
}

impl From<&Option<String>> for Arg {
    fn from(s: &Option<String>) -> Arg {
        Arg::from(s.as_deref())
    }
}

impl From<i64> for Arg {
    fn from(n: i64) -> Arg {
        Arg::Int(n)
    }
}

impl From<u64> for Arg {
    fn from(n: u64) -> Arg {
        Arg::Int(n as i64)
    }
}

/// The bound parameters of one statement.
macro_rules! args {
    ($($a:expr),* $(,)?) => { vec![$(crate::sql::Arg::from($a)),*] };
}
pub(crate) use args;

/// One returned value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    /// SQL NULL.
    Null,
    /// An integer.
    Int(i64),
    /// A float.
    Real(f64),
    /// Text.
    Text(String),
}

/// One returned row.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Cells(pub(crate) Vec<Cell>);

impl Cells {
    fn cell(&self, i: usize) -> Result<&Cell, CatalogError> {
        self.0.get(i).ok_or_else(|| CatalogError::db("reading a row", format!("no column {i}")))
    }

    /// Text column `i`, which may be NULL.
    pub(crate) fn opt_text(&self, i: usize) -> Result<Option<String>, CatalogError> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            Cell::Text(s) => Ok(Some(s.clone())),
            other => Err(CatalogError::db("reading a row", format!("column {i} is {other:?}, not text"))),
        }
    }

    /// Text column `i`.
    pub(crate) fn text(&self, i: usize) -> Result<String, CatalogError> {
        self.opt_text(i)?.ok_or_else(|| CatalogError::db("reading a row", format!("column {i} is NULL")))
    }

    /// Integer column `i` (NULL reads as 0, as `COALESCE` would).
    pub(crate) fn int(&self, i: usize) -> Result<i64, CatalogError> {
        match self.cell(i)? {
            Cell::Null => Ok(0),
            Cell::Int(n) => Ok(*n),
            other => Err(CatalogError::db("reading a row", format!("column {i} is {other:?}, not an integer"))),
        }
    }

    /// Integer column `i`, which may be NULL (an aggregate over no row).
    pub(crate) fn opt_int(&self, i: usize) -> Result<Option<i64>, CatalogError> {
        match self.cell(i)? {
            Cell::Null => Ok(None),
            _ => self.int(i).map(Some),
        }
    }

    /// A size or a count (never negative in the catalog).
    pub(crate) fn count(&self, i: usize) -> Result<u64, CatalogError> {
        Ok(self.int(i)?.max(0) as u64)
    }
}

/// What a statement in a transaction returned: its rows, or how many rows it changed.
#[derive(Debug)]
pub(crate) enum Answer {
    Rows(Vec<Cells>),
    Changed(u64),
}

/// Why a transaction stopped early and rolled back (what the caller acts on).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Stop {
    /// The log does not have the size its appender read (the entries present are given):
    /// another appender, or a gap.
    LogMoved(u64),
    /// The fencing token is not the current one (the catalog's is given).
    Fenced(u64),
    /// The version exists; its original's SHA-256.
    Existing(String),
    /// Another version of the ontology holds the same bytes.
    Twin(String),
    /// The statement changed no row (the version is not recorded).
    Missing,
}

/// Decides from a statement's answer whether its transaction goes on.
pub(crate) type Guard = Box<dyn Fn(&Answer) -> Result<Option<Stop>, CatalogError> + Send + Sync>;

/// One statement of a transaction.
pub(crate) struct Step {
    pub(crate) sql: &'static str,
    pub(crate) args: Vec<Arg>,
    /// Whether it returns rows (a query) or a count of changed rows.
    pub(crate) query: bool,
    pub(crate) guard: Option<Guard>,
}

impl Step {
    /// A statement whose changed-row count is not looked at.
    pub(crate) fn exec(sql: &'static str, args: Vec<Arg>) -> Step {
        Step { sql, args, query: false, guard: None }
    }

    /// A query whose rows `guard` judges.
    pub(crate) fn check(
        sql: &'static str,
        args: Vec<Arg>,
        guard: impl Fn(&[Cells]) -> Result<Option<Stop>, CatalogError> + Send + Sync + 'static,
    ) -> Step {
        let guard: Guard = Box::new(move |a| match a {
            Answer::Rows(rows) => guard(rows),
            Answer::Changed(_) => Ok(None),
        });
        Step { sql, args, query: true, guard: Some(guard) }
    }

    /// A statement that stops the transaction when it changed no row.
    pub(crate) fn exec_one(sql: &'static str, args: Vec<Arg>) -> Step {
        let guard: Guard = Box::new(|a| Ok(matches!(a, Answer::Changed(0)).then_some(Stop::Missing)));
        Step { sql, args, query: false, guard: Some(guard) }
    }
}

/// The columns of `versions`, in [`VersionRow`] order.
macro_rules! version_columns {
    () => {
        "ontology, version, resolver, url, sha256, bytes, filename, relpath, content_type, etag, last_modified, license, downloaded_at, verdict"
    };
}

/// Ranks a version (alias given) for `latest`: a validated one (or one promoted on
/// request) always above an `unvalidated` one, whatever their dates: an opaque source's
/// download never displaces a version that validated (docs/architecture.md, I3).
macro_rules! rank {
    ($alias:literal) => {
        concat!("(CASE WHEN ", $alias, ".verdict = 'unvalidated' THEN 0 ELSE 1 END)")
    };
}

/// Versions (alias `v`) that are their ontology's `latest`: not `invalid`, and no other
/// version of it ranks above them (rank, then download time, then name).
macro_rules! latest_only {
    () => {
        concat!(
            "v.verdict <> 'invalid' AND NOT EXISTS (SELECT 1 FROM versions w WHERE w.ontology = v.ontology AND w.verdict <> 'invalid' AND (",
            rank!("w"),
            " > ",
            rank!("v"),
            " OR (",
            rank!("w"),
            " = ",
            rank!("v"),
            " AND (w.downloaded_at > v.downloaded_at OR (w.downloaded_at = v.downloaded_at AND w.version > v.version)))))"
        )
    };
}

/// Newest first: by download time, then by name for the same instant.
macro_rules! newest_first {
    () => {
        "ORDER BY downloaded_at DESC, version DESC"
    };
}

pub(crate) const SCHEMA_VERSION: &str = "SELECT MAX(version) FROM schema_migrations";

pub(crate) const FENCE_TOKEN: &str = "SELECT epoch FROM lease_epochs WHERE ontology = $1";

/// Issues the next fencing token of an ontology whose lease was just taken.
pub(crate) const NEXT_FENCE_TOKEN: &str = "INSERT INTO lease_epochs (ontology, epoch) VALUES ($1, 1) \
     ON CONFLICT (ontology) DO UPDATE SET epoch = lease_epochs.epoch + 1 RETURNING epoch";

pub(crate) const VERSION_SHA: &str = "SELECT sha256 FROM versions WHERE ontology = $1 AND version = $2";

pub(crate) const TWIN: &str = "SELECT version FROM versions WHERE ontology = $1 AND sha256 = $2 LIMIT 1";

pub(crate) const INSERT_VERSION: &str = concat!(
    "INSERT INTO versions (",
    version_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
);

/// Records one file of a version (a re-recorded key takes the new facts).
pub(crate) const UPSERT_ARTIFACT: &str = "INSERT INTO artifacts (relpath, ontology, version, sha256, bytes, kind) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (relpath) DO UPDATE SET ontology = excluded.ontology, version = excluded.version, sha256 = excluded.sha256, bytes = excluded.bytes, kind = excluded.kind";

/// Records one validator's result for a version (replacing an earlier one).
pub(crate) const UPSERT_VALIDATION: &str = "INSERT INTO validations (ontology, version, validator, result, details, run_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (ontology, version, validator) DO UPDATE SET result = excluded.result, details = excluded.details, run_at = excluded.run_at";

pub(crate) const SET_VERDICT: &str = "UPDATE versions SET verdict = $3 WHERE ontology = $1 AND version = $2";

pub(crate) const LATEST: &str = concat!(
    "SELECT ",
    version_columns!(),
    " FROM versions v WHERE ontology = $1 AND v.verdict <> 'invalid' ORDER BY ",
    rank!("v"),
    " DESC, downloaded_at DESC, version DESC LIMIT 1"
);

pub(crate) const VERSION: &str =
    concat!("SELECT ", version_columns!(), " FROM versions WHERE ontology = $1 AND version = $2");

pub(crate) const LATEST_ALL: &str =
    concat!("SELECT ", version_columns!(), " FROM versions v WHERE ", latest_only!(), " ORDER BY ontology");

pub(crate) const VERSIONS: &str = concat!(
    "SELECT ",
    version_columns!(),
    " FROM versions WHERE (CAST($1 AS TEXT) IS NULL OR ontology = $1) ",
    newest_first!(),
    " LIMIT $2"
);

pub(crate) const FIND_BY_SHA: &str = concat!(
    "SELECT ",
    version_columns!(),
    " FROM versions WHERE ontology = $1 AND sha256 = $2 ",
    newest_first!(),
    " LIMIT 1"
);

pub(crate) const ARTIFACTS: &str = "SELECT ontology, version, relpath, sha256, bytes, kind FROM artifacts \
     WHERE ontology = $1 AND version = $2 ORDER BY relpath";

pub(crate) const ARTIFACTS_OF: &str = "SELECT ontology, version, relpath, sha256, bytes, kind FROM artifacts \
     WHERE CAST($1 AS TEXT) IS NULL OR ontology = $1 ORDER BY ontology, version, relpath";

pub(crate) const VALIDATIONS: &str = "SELECT ontology, validator, result, details, run_at FROM validations \
     WHERE ontology = $1 AND version = $2 ORDER BY validator";

pub(crate) const LATEST_VALIDATIONS: &str = concat!(
    "SELECT l.ontology, l.validator, l.result, l.details, l.run_at FROM validations l \
     JOIN versions v ON v.ontology = l.ontology AND v.version = l.version WHERE ",
    latest_only!(),
    " ORDER BY l.ontology, l.validator"
);

/// A version's rows, dependants first (the foreign keys cascade too; this does not rely on
/// them being enforced).
pub(crate) const REMOVE_VERSION: [&str; 5] = [
    "DELETE FROM validations WHERE ontology = $1 AND version = $2",
    "DELETE FROM diffs WHERE ontology = $1 AND version = $2",
    "DELETE FROM imports WHERE ontology = $1 AND version = $2",
    "DELETE FROM artifacts WHERE ontology = $1 AND version = $2",
    "DELETE FROM versions WHERE ontology = $1 AND version = $2",
];

pub(crate) const STATS: &str = "SELECT (SELECT COUNT(DISTINCT ontology) FROM versions), (SELECT COUNT(*) FROM versions), \
     (SELECT COUNT(*) FROM artifacts), (SELECT CAST(COALESCE(SUM(bytes), 0) AS BIGINT) FROM artifacts)";

pub(crate) const INSERT_EVENT: &str =
    "INSERT INTO pull_events (ontology, at, status, code, message, worker) VALUES ($1, $2, $3, $4, $5, $6)";

pub(crate) const DROP_OLD_EVENTS: &str = "DELETE FROM pull_events WHERE at < $1";

pub(crate) const EVENTS: &str = "SELECT ontology, at, status, code, message, worker FROM pull_events \
     WHERE (CAST($1 AS TEXT) IS NULL OR ontology = $1) AND (CAST($2 AS TEXT) IS NULL OR at >= $2) \
     ORDER BY at DESC LIMIT $3";

pub(crate) const UPSERT_DIFF: &str = "INSERT INTO diffs (ontology, version, previous, summary) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (ontology, version) DO UPDATE SET previous = excluded.previous, summary = excluded.summary";

pub(crate) const DIFF: &str =
    "SELECT ontology, version, previous, summary FROM diffs WHERE ontology = $1 AND version = $2";

pub(crate) const CLEAR_IMPORTS: &str = "DELETE FROM imports WHERE ontology = $1 AND version = $2";

pub(crate) const INSERT_IMPORT: &str = "INSERT INTO imports (ontology, version, iri, target, status, code) \
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (ontology, version, iri) DO NOTHING";

pub(crate) const IMPORTS: &str = "SELECT ontology, version, iri, target, status, code FROM imports \
     WHERE ontology = $1 AND version = $2 ORDER BY iri";

pub(crate) const LATEST_IMPORTS: &str = concat!(
    "SELECT l.ontology, l.version, l.iri, l.target, l.status, l.code FROM imports l \
     JOIN versions v ON v.ontology = l.ontology AND v.version = l.version WHERE ",
    latest_only!(),
    " ORDER BY l.ontology, l.iri"
);

/// A `versions` row read with [`version_columns!`].
pub(crate) fn version_row(r: &Cells) -> Result<VersionRow, CatalogError> {
    Ok(VersionRow {
        ontology: r.text(0)?,
        version: r.text(1)?,
        resolver: r.text(2)?,
        url: r.text(3)?,
        sha256: r.text(4)?,
        bytes: r.count(5)?,
        filename: r.text(6)?,
        relpath: r.text(7)?,
        content_type: r.opt_text(8)?,
        etag: r.opt_text(9)?,
        last_modified: r.opt_text(10)?,
        license: r.opt_text(11)?,
        downloaded_at: r.text(12)?,
        verdict: Verdict::parse(&r.text(13)?),
    })
}

/// Attestations not in the log yet, in the order their versions were recorded (by
/// download time, then name): what the next append adds. Only files of recorded versions.
pub(crate) const LOG_PENDING: &str = "SELECT a.ontology, a.version, a.relpath, a.sha256, a.bytes, a.kind \
     FROM artifacts a JOIN versions v ON v.ontology = a.ontology AND v.version = a.version \
     WHERE a.kind = 'attestation' AND NOT EXISTS \
     (SELECT 1 FROM log_entries l WHERE l.relpath = a.relpath AND l.sha256 = a.sha256) \
     ORDER BY v.downloaded_at, a.ontology, a.version";

/// The log's size and its largest index (equal minus one when it has no gap).
pub(crate) const LOG_SIZE: &str = "SELECT COUNT(*), MAX(idx) FROM log_entries";

pub(crate) const INSERT_LOG_ENTRY: &str = "INSERT INTO log_entries (idx, ontology, version, relpath, sha256, entry, logged_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

pub(crate) const LOG_ENTRIES: &str = "SELECT idx, ontology, version, relpath, sha256, entry, logged_at \
     FROM log_entries WHERE idx >= $1 ORDER BY idx";

/// A version's newest log entry (a re-signed attestation is a later entry).
pub(crate) const LOG_INDEX: &str = "SELECT MAX(idx) FROM log_entries WHERE ontology = $1 AND version = $2";

/// A `log_entries` row.
pub(crate) fn log_row(r: &Cells) -> Result<crate::LogEntry, CatalogError> {
    Ok(crate::LogEntry {
        index: r.count(0)?,
        ontology: r.text(1)?,
        version: r.text(2)?,
        relpath: r.text(3)?,
        sha256: r.text(4)?,
        entry: r.text(5)?,
        logged_at: r.text(6)?,
    })
}

/// An `artifacts` row as `(ontology, version, file)`.
pub(crate) fn artifact_row(r: &Cells) -> Result<(String, String, ArtifactRow), CatalogError> {
    let file = ArtifactRow {
        relpath: r.text(2)?,
        sha256: r.text(3)?,
        bytes: r.count(4)?,
        kind: ArtifactKind::parse(&r.text(5)?),
    };
    Ok((r.text(0)?, r.text(1)?, file))
}

/// A `validations` row as `(ontology, result)`.
pub(crate) fn validation_row(r: &Cells) -> Result<(String, ValidationRow), CatalogError> {
    let row = ValidationRow {
        validator: r.text(1)?,
        result: ValidationResult::parse(&r.text(2)?),
        details: r.text(3)?,
        run_at: r.text(4)?,
    };
    Ok((r.text(0)?, row))
}

/// A `pull_events` row.
pub(crate) fn event_row(r: &Cells) -> Result<PullEvent, CatalogError> {
    Ok(PullEvent {
        ontology: r.text(0)?,
        at: r.text(1)?,
        status: PullStatus::parse(&r.text(2)?),
        code: r.opt_text(3)?.as_deref().map(crate::stored_code),
        message: r.opt_text(4)?,
        worker: r.opt_text(5)?,
    })
}

/// A `diffs` row.
pub(crate) fn diff_row(r: &Cells) -> Result<DiffRow, CatalogError> {
    Ok(DiffRow { ontology: r.text(0)?, version: r.text(1)?, previous: r.text(2)?, summary: r.text(3)? })
}

/// An `imports` row.
pub(crate) fn import_row(r: &Cells) -> Result<ImportEdge, CatalogError> {
    Ok(ImportEdge {
        ontology: r.text(0)?,
        version: r.text(1)?,
        iri: r.text(2)?,
        target: r.opt_text(3)?,
        status: ImportStatus::parse(&r.text(4)?),
        code: r.opt_text(5)?.as_deref().map(crate::stored_code),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SQLite reads every `$n` as the same `?n`, and nothing else changes; PostgreSQL
    /// gets the text as written.
    #[test]
    fn parameters_are_renumbered_for_sqlite_only() {
        assert_eq!(
            Dialect::Sqlite.render(SET_VERDICT),
            "UPDATE versions SET verdict = ?3 WHERE ontology = ?1 AND version = ?2"
        );
        assert_eq!(Dialect::Postgres.render(SET_VERDICT), SET_VERDICT);
        assert_eq!(Dialect::Sqlite.render(EVENTS).matches("?1").count(), 2);
        assert!(!Dialect::Sqlite.render(LATEST_ALL).contains('$'));
        assert_eq!(Dialect::Sqlite.render("SELECT '$x', $12"), "SELECT '$x', ?12");
    }
}
