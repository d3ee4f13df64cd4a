//! ontofetch's catalog (docs/architecture.md, "Catalog"): which versions of which
//! ontologies the store holds, their files and validation results, behind the [`Catalog`]
//! trait. SQLite (WAL, defensive mode, untrusted schema off) is the embedded default.
//! Rows are committed only after their files are durable (the db_boundary gate), and every
//! stored path is a relative store key that is re-validated when read back.

#![warn(missing_docs)]

mod engine;
mod filelock;
pub mod migrations;
mod postgres;
mod sql;
mod sqlite;

pub use postgres::{PgCatalog, redact};

/// How long a PostgreSQL statement keeps reconnecting outside `serve`.
pub fn postgres_patience() -> std::time::Duration {
    postgres::DEFAULT_PATIENCE
}
pub use sqlite::SqliteCatalog;

use async_trait::async_trait;
use ontofetch_policy::{Code, Coded, Refusal};
use serde::Serialize;

/// The catalog's error type.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The database failed.
    #[error("{what}: {message}")]
    Db {
        /// What we were doing.
        what: String,
        /// The database's complaint.
        message: String,
    },
    /// A stored value failed the db_boundary gate.
    #[error(transparent)]
    Boundary(#[from] Refusal),
    /// The worker's lease is no longer the current one: another worker took the ontology
    /// over (a database restart ended the lease's session), so nothing is recorded.
    #[error(
        "the lease on {ontology} was lost (this worker holds token {token}, the catalog's is {current}): another \
         worker took it over, so this one stops without recording"
    )]
    Fenced {
        /// Ontology id.
        ontology: String,
        /// The token the worker holds.
        token: u64,
        /// The catalog's current token.
        current: u64,
    },
    /// A version of that name is recorded with other bytes.
    #[error("{ontology}/{version} is already recorded with other content")]
    Conflict {
        /// Ontology id.
        ontology: String,
        /// Version.
        version: String,
    },
    /// The transparency log did not have the size its appender read: entries would have
    /// been appended at the wrong place (another appender without the log's lease, or a
    /// gap), so none were.
    #[error("the transparency log has {present} entries where its appender expected {expected}: nothing was appended")]
    LogMoved {
        /// The size the appender read.
        expected: u64,
        /// The entries present.
        present: u64,
    },
}

impl Coded for CatalogError {
    fn code(&self) -> Code {
        match self {
            CatalogError::Db { .. } => Code::Db,
            CatalogError::Boundary(r) => r.code,
            CatalogError::Conflict { .. } => Code::Exists,
            CatalogError::Fenced { .. } => Code::Fenced,
            CatalogError::LogMoved { .. } => Code::LogInconsistent,
        }
    }
}

impl CatalogError {
    pub(crate) fn db(what: impl Into<String>, e: impl std::fmt::Display) -> Self {
        CatalogError::Db { what: what.into(), message: e.to_string() }
    }
}

/// Whether a stored version validated, and so whether it may be `latest`: a release that
/// fails validation is kept (its files, its report, its code) so it can be inspected, but
/// `latest`, `/latest/` and `/obo/` stay on the last version that validated unless the
/// operator opted into promoting it (docs/architecture.md, "Invariants").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Validated (or no validator applied): may be latest.
    #[default]
    Valid,
    /// Failed validation: recorded for inspection, never latest.
    Invalid,
    /// Failed validation, promoted to latest because the operator asked
    /// (`defaults.promote_invalid` or `pull --promote-invalid`).
    InvalidPromoted,
    /// No validator recognised it, and its entry declares the source opaque
    /// (`extras.opaque: true`): kept and servable, latest only while no version of the
    /// ontology validated, never counted by `prune --keep` as a validated version.
    Unvalidated,
}

impl Verdict {
    /// The text stored in the catalog.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Invalid => "invalid",
            Verdict::InvalidPromoted => "invalid-promoted",
            Verdict::Unvalidated => "unvalidated",
        }
    }

    /// Reads the stored text; anything unknown is treated as invalid (fail closed: it is
    /// never made latest by accident).
    pub fn parse(text: &str) -> Verdict {
        match text {
            "valid" => Verdict::Valid,
            "invalid-promoted" => Verdict::InvalidPromoted,
            "unvalidated" => Verdict::Unvalidated,
            _ => Verdict::Invalid,
        }
    }

    /// The verdict of a version whose validation `failed` or not, given the opt-in.
    pub fn of(failed: bool, promote_invalid: bool) -> Verdict {
        match (failed, promote_invalid) {
            (false, _) => Verdict::Valid,
            (true, false) => Verdict::Invalid,
            (true, true) => Verdict::InvalidPromoted,
        }
    }

    /// Whether the version failed validation (promoted or not).
    pub fn failed(self) -> bool {
        matches!(self, Verdict::Invalid | Verdict::InvalidPromoted)
    }

    /// Whether a validator recognised and parsed it as an ontology: only such versions
    /// count towards `prune --keep` and are what `diff` compares by default (I9).
    pub fn validated(self) -> bool {
        self == Verdict::Valid
    }
}

/// One stored version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionRow {
    /// Ontology id.
    pub ontology: String,
    /// Version directory name.
    pub version: String,
    /// Resolver that produced it.
    pub resolver: String,
    /// The plan's URL (where the next conditional GET starts).
    pub url: String,
    /// SHA-256 of the original.
    pub sha256: String,
    /// Size of the original.
    pub bytes: u64,
    /// File name of the original.
    pub filename: String,
    /// Store key of the version directory (`ontologies/<id>/<version>`).
    pub relpath: String,
    /// Response Content-Type.
    pub content_type: Option<String>,
    /// Response ETag.
    pub etag: Option<String>,
    /// Response Last-Modified.
    pub last_modified: Option<String>,
    /// SPDX licence.
    pub license: Option<String>,
    /// RFC 3339 UTC time of the download.
    pub downloaded_at: String,
    /// Whether it validated (and so may be latest).
    pub verdict: Verdict,
}

/// One stored file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArtifactRow {
    /// Store key (`ontologies/…` or `by-sha256/…`).
    pub relpath: String,
    /// SHA-256.
    pub sha256: String,
    /// Size.
    pub bytes: u64,
    /// What the file is to the version.
    pub kind: ArtifactKind,
}

/// What a stored file is to its version (the catalog stores the text form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArtifactKind {
    /// The bytes as downloaded.
    Original,
    /// The content-addressed copy under `by-sha256/`.
    Cas,
    /// `manifest.json`.
    Manifest,
    /// The validation report.
    Report,
    /// An archive's extraction audit.
    Audit,
    /// The term facts (`<stem>.terms.tsv`) diffs are made from.
    Terms,
    /// A normalised rendering (canonical N-Triples, Turtle, RDF/XML, the OBO translation).
    Normalized,
    /// A file extracted from an archive.
    Extracted,
    /// The signed attestation (`attestation.dsse.json`).
    Attestation,
    /// The attestation of the mirror a version was pulled from, kept beside its own
    /// (`upstream.attestation.dsse.json`).
    Upstream,
}

impl ArtifactKind {
    /// The text stored in the catalog and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::Original => "original",
            ArtifactKind::Cas => "cas",
            ArtifactKind::Manifest => "manifest",
            ArtifactKind::Report => "report",
            ArtifactKind::Audit => "audit",
            ArtifactKind::Terms => "terms",
            ArtifactKind::Normalized => "normalized",
            ArtifactKind::Extracted => "extracted",
            ArtifactKind::Attestation => "attestation",
            ArtifactKind::Upstream => "upstream",
        }
    }

    /// Reads the stored text; anything unknown reads as an extracted file (served and
    /// audited like any other file, never taken for the original or the CAS copy).
    pub fn parse(text: &str) -> ArtifactKind {
        match text {
            "original" => ArtifactKind::Original,
            "cas" => ArtifactKind::Cas,
            "manifest" => ArtifactKind::Manifest,
            "report" => ArtifactKind::Report,
            "audit" => ArtifactKind::Audit,
            "terms" => ArtifactKind::Terms,
            "normalized" => ArtifactKind::Normalized,
            "attestation" => ArtifactKind::Attestation,
            "upstream" => ArtifactKind::Upstream,
            _ => ArtifactKind::Extracted,
        }
    }
}

/// How one validator judged a version (the catalog's copy of the validator's status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValidationResult {
    /// It parsed.
    Ok,
    /// It did not.
    Failed,
    /// No validator applies (or the format was not recognised).
    Skipped,
}

impl ValidationResult {
    /// The text shown and stored in the catalog.
    pub fn as_str(self) -> &'static str {
        match self {
            ValidationResult::Ok => "ok",
            ValidationResult::Failed => "failed",
            ValidationResult::Skipped => "skipped",
        }
    }

    /// Reads the stored text; anything unknown reads as failed (fail closed).
    pub fn parse(text: &str) -> ValidationResult {
        match text {
            "ok" => ValidationResult::Ok,
            "skipped" => ValidationResult::Skipped,
            _ => ValidationResult::Failed,
        }
    }
}

/// One validation result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationRow {
    /// Validator key (`rdf`, `obo`, `owl`, or `rdf:<extracted path>`).
    pub validator: String,
    /// Its verdict.
    pub result: ValidationResult,
    /// The validator's report (JSON).
    pub details: String,
    /// RFC 3339 time.
    pub run_at: String,
}

/// How one ontology's pull ended (a pull's result and the catalog's pull events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PullStatus {
    /// First version of this ontology.
    Fresh,
    /// A new version beside older ones.
    Updated,
    /// Nothing new: 304, identical bytes, or another process pulled it during this run.
    Cached,
    /// It failed; see `error`.
    Failed,
}

impl PullStatus {
    /// The text shown in tables and JSON, and stored in the catalog.
    pub fn as_str(self) -> &'static str {
        match self {
            PullStatus::Fresh => "fresh",
            PullStatus::Updated => "updated",
            PullStatus::Cached => "cached",
            PullStatus::Failed => "failed",
        }
    }

    /// Reads the stored text; anything unknown reads as failed (fail closed: a row nobody
    /// can read is never shown as a success).
    pub fn parse(text: &str) -> PullStatus {
        match text {
            "fresh" => PullStatus::Fresh,
            "updated" => PullStatus::Updated,
            "cached" => PullStatus::Cached,
            _ => PullStatus::Failed,
        }
    }
}

/// How one pull of an ontology ended (kept for [`EVENT_RETENTION_DAYS`]): the status
/// page's last failure and refusals of the last day, the API's last error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PullEvent {
    /// Ontology id.
    pub ontology: String,
    /// RFC 3339 time.
    pub at: String,
    /// How it ended.
    pub status: PullStatus,
    /// The stable code of a failure.
    pub code: Option<Code>,
    /// The failure's message.
    pub message: Option<String>,
    /// The worker that pulled.
    pub worker: Option<String>,
}

/// Days pull events are kept.
pub const EVENT_RETENTION_DAYS: u64 = 30;

/// What changed between a version and the one before it (JSON summary from the diff).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffRow {
    /// Ontology id.
    pub ontology: String,
    /// The newer version.
    pub version: String,
    /// The version it is compared with.
    pub previous: String,
    /// The summary (JSON).
    pub summary: String,
}

/// What became of one import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportStatus {
    /// Stored in the mirror (as `target`).
    Stored,
    /// Its pull failed.
    Failed,
    /// A gate refused it.
    Refused,
    /// Beyond `max_import_depth` or `max_imports`.
    Skipped,
}

impl ImportStatus {
    /// The text shown and stored in the catalog.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportStatus::Stored => "stored",
            ImportStatus::Failed => "failed",
            ImportStatus::Refused => "refused",
            ImportStatus::Skipped => "skipped",
        }
    }

    /// Reads the stored text; anything unknown reads as failed (fail closed: never
    /// "stored" by accident).
    pub fn parse(text: &str) -> ImportStatus {
        match text {
            "stored" => ImportStatus::Stored,
            "refused" => ImportStatus::Refused,
            "skipped" => ImportStatus::Skipped,
            _ => ImportStatus::Failed,
        }
    }
}

/// One `owl:imports` (or OBO `import:`) of a version and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportEdge {
    /// The importing ontology.
    pub ontology: String,
    /// Its version.
    pub version: String,
    /// The IRI it imports.
    pub iri: String,
    /// The ontology id the import is stored as, when it is.
    pub target: Option<String>,
    /// What became of it.
    pub status: ImportStatus,
    /// The stable error code when it was not stored.
    pub code: Option<Code>,
}

/// Counts for `db stats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Ontologies with at least one version.
    pub ontologies: u64,
    /// Versions.
    pub versions: u64,
    /// Artifacts.
    pub artifacts: u64,
    /// Bytes of artifacts.
    pub bytes: u64,
}

/// One entry of the mirror's transparency log: an attestation envelope, exactly as it was
/// stored, at the index it was appended at (never reused, never removed with its version).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    /// Its index in the log (0-based; the log has no gap).
    pub index: u64,
    /// The version it attests.
    pub ontology: String,
    /// The version it attests.
    pub version: String,
    /// Where the envelope was stored.
    pub relpath: String,
    /// The envelope's SHA-256.
    pub sha256: String,
    /// The envelope's bytes (UTF-8 JSON).
    pub entry: String,
    /// RFC 3339 UTC time of the append.
    pub logged_at: String,
}

/// Whether [`Catalog::record`] wrote the version or found it already there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// The rows were inserted.
    Inserted,
    /// The same version with the same bytes was already recorded (another process).
    AlreadyPresent,
    /// Another version of the ontology already holds these exact bytes (named here):
    /// nothing was inserted, because identical bytes never make a second version (a worker
    /// that lost its lease in a database restart and chose another name).
    Duplicate(String),
}

/// The name of the transparency log's lease: one appender at a time, whatever the worker
/// (no ontology id can take it: ids have no `:`).
pub const LOG_LEASE: &str = "log:appender";

/// A held lease on one ontology: while it lives, no other worker (process or machine) on
/// this catalog works on that ontology. Dropping it releases it; a worker that dies
/// releases it with its process (file lock) or connection (PostgreSQL advisory lock).
pub struct Lease {
    _held: Box<dyn Send + Sync>,
    token: u64,
}

impl Lease {
    /// A lease held by `guard` (a locked file, a database session), with the fencing token
    /// the catalog issued when it was taken.
    pub fn new(guard: impl Send + Sync + 'static, token: u64) -> Self {
        Lease { _held: Box::new(guard), token }
    }

    /// The fencing token: each taking of an ontology's lease gets a larger one than the last
    /// (`lease_epochs`), and [`Catalog::record`] refuses a token that is not the current one,
    /// in the transaction that would write the rows (docs/architecture.md, "Fencing").
    pub fn token(&self) -> u64 {
        self.token
    }
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Lease")
    }
}

/// A catalog backend. Every method is one transaction; rows are written only through the
/// db_boundary gate.
#[async_trait]
pub trait Catalog: Send + Sync {
    /// Where the catalog is (`sqlite:/…`, `postgresql://host/db` without credentials).
    fn url(&self) -> String;

    /// The schema version after migrations.
    async fn schema_version(&self) -> Result<i64, CatalogError>;

    /// Records a promoted version, its files and its validation results in one
    /// transaction, so no reader ever sees a version without the results its verdict and
    /// its import closure come from (a worker killed between two commits left exactly
    /// that). The caller has made the files durable (`blob_durable`); the db_boundary gate
    /// checks it. Recording the same version with the same bytes twice is not an error.
    async fn record_with(
        &self,
        row: &VersionRow,
        artifacts: &[ArtifactRow],
        validations: &[ValidationRow],
        blob_durable: bool,
        fence: Option<u64>,
    ) -> Result<Recorded, CatalogError>;

    /// [`Catalog::record_with`] without validation results.
    async fn record(
        &self,
        row: &VersionRow,
        artifacts: &[ArtifactRow],
        blob_durable: bool,
        fence: Option<u64>,
    ) -> Result<Recorded, CatalogError> {
        self.record_with(row, artifacts, &[], blob_durable, fence).await
    }

    /// The ontology's current fencing token (0 when its lease was never taken).
    async fn fence_token(&self, ontology: &str) -> Result<u64, CatalogError>;

    /// The ontology's `latest`: the newest version by download time (not by name) whose
    /// verdict lets it be latest (it validated, or its promotion was asked for).
    async fn latest(&self, ontology: &str) -> Result<Option<VersionRow>, CatalogError>;

    /// `latest` of every ontology that has one.
    async fn latest_all(&self) -> Result<Vec<VersionRow>, CatalogError>;

    /// The newest version by download time whatever its verdict: where the next
    /// conditional request starts, so a broken release is not fetched again and again.
    async fn newest(&self, ontology: &str) -> Result<Option<VersionRow>, CatalogError> {
        Ok(self.versions(Some(ontology), 1).await?.into_iter().next())
    }

    /// One version by name.
    async fn version(&self, ontology: &str, version: &str) -> Result<Option<VersionRow>, CatalogError>;

    /// After a re-validation, in one transaction: the version's verdict, its validation
    /// results, and the artifact rows of the files that were rewritten (the manifest, the
    /// normalised files), so the catalog never describes bytes the store no longer holds
    /// for longer than the files' own replacement.
    async fn revise(
        &self,
        ontology: &str,
        version: &str,
        verdict: Verdict,
        artifacts: &[ArtifactRow],
        validations: &[ValidationRow],
    ) -> Result<(), CatalogError>;

    /// Versions, newest first; all ontologies when `ontology` is `None`.
    async fn versions(&self, ontology: Option<&str>, limit: u32) -> Result<Vec<VersionRow>, CatalogError>;

    /// The version of an ontology that already holds these exact bytes, if any.
    async fn find_by_sha(&self, ontology: &str, sha256: &str) -> Result<Option<VersionRow>, CatalogError>;

    /// Files of one version, with their store keys re-validated.
    async fn artifacts(&self, ontology: &str, version: &str) -> Result<Vec<ArtifactRow>, CatalogError>;

    /// Files of every version of an ontology as `(version, file)`, keys re-validated, in one
    /// statement (doctor's audit reads an ontology at a time, not a version at a time).
    async fn ontology_artifacts(&self, ontology: &str) -> Result<Vec<(String, ArtifactRow)>, CatalogError>;

    /// Files of every version of every ontology as `(ontology, version, file)`, keys
    /// re-validated, in one statement: what doctor and prune judge the whole mirror on costs
    /// the same few statements at 30 ontologies as at 3,000.
    async fn all_artifacts(&self) -> Result<Vec<(String, String, ArtifactRow)>, CatalogError>;

    /// Records (or replaces) validation results of a version.
    async fn record_validations(
        &self,
        ontology: &str,
        version: &str,
        rows: &[ValidationRow],
    ) -> Result<(), CatalogError>;

    /// Validation results of a version.
    async fn validations(&self, ontology: &str, version: &str) -> Result<Vec<ValidationRow>, CatalogError>;

    /// Validation results of every ontology's `latest`, as `(ontology, row)`, in one
    /// statement whatever the number of ontologies (the status page and the API list).
    async fn latest_validations(&self) -> Result<Vec<(String, ValidationRow)>, CatalogError>;

    /// Removes a version's rows (its artifacts and validations go with it).
    async fn remove_version(&self, ontology: &str, version: &str) -> Result<(), CatalogError>;

    /// Totals for `db stats`.
    async fn stats(&self) -> Result<Stats, CatalogError>;

    /// Records how a pull ended; events older than [`EVENT_RETENTION_DAYS`] are dropped.
    async fn record_event(&self, event: &PullEvent) -> Result<(), CatalogError>;

    /// Pull events at or after `since` (RFC 3339; all kept ones when `None`), newest first;
    /// every ontology when `ontology` is `None`.
    async fn events(
        &self,
        ontology: Option<&str>,
        since: Option<&str>,
        limit: u32,
    ) -> Result<Vec<PullEvent>, CatalogError>;

    /// Records (or replaces) the diff of a version against the one before it.
    async fn record_diff(&self, diff: &DiffRow) -> Result<(), CatalogError>;

    /// The diff recorded for a version.
    async fn diff(&self, ontology: &str, version: &str) -> Result<Option<DiffRow>, CatalogError>;

    /// Records (replacing any earlier record of) a version's import edges.
    async fn record_imports(&self, ontology: &str, version: &str, edges: &[ImportEdge]) -> Result<(), CatalogError>;

    /// A version's import edges, by IRI.
    async fn imports(&self, ontology: &str, version: &str) -> Result<Vec<ImportEdge>, CatalogError>;

    /// The import edges of every latest version, in one statement (the status page).
    async fn latest_imports(&self) -> Result<Vec<ImportEdge>, CatalogError>;

    /// Attestation files of recorded versions that are not in the transparency log yet, as
    /// `(ontology, version, file)`, in the order their versions were recorded.
    async fn log_pending(&self) -> Result<Vec<(String, String, ArtifactRow)>, CatalogError>;

    /// Appends `entries` to the transparency log at indexes `first`, `first + 1`, … in one
    /// transaction, only while the log has exactly `first` entries (no gap, no entry
    /// appended twice) and `fence` is still the current token of the log's lease
    /// ([`LOG_LEASE`]).
    async fn log_append(&self, first: u64, entries: &[LogEntry], fence: u64) -> Result<(), CatalogError>;

    /// How many entries the log has (cheap: a publication with nothing to do reads no entry).
    async fn log_size(&self) -> Result<u64, CatalogError>;

    /// The log's entries from index `from` on, in order.
    async fn log_entries(&self, from: u64) -> Result<Vec<LogEntry>, CatalogError>;

    /// The index of a version's newest log entry, if it has one.
    async fn log_index(&self, ontology: &str, version: &str) -> Result<Option<u64>, CatalogError>;

    /// Takes the ontology's lease now, or `None` when another worker holds it.
    async fn try_lease(&self, ontology: &str) -> Result<Option<Lease>, CatalogError>;

    /// Waits (polling) until the ontology's lease is free, at most `wait`.
    async fn lease(&self, ontology: &str, wait: std::time::Duration) -> Result<Option<Lease>, CatalogError> {
        let deadline = std::time::Instant::now() + wait;
        loop {
            if let Some(l) = self.try_lease(ontology).await? {
                return Ok(Some(l));
            }
            if std::time::Instant::now() >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Request pacing shared by every worker of this catalog: reserves the next slot of
    /// `key` at `per_second` and returns how long to wait for it, or `None` when this
    /// backend does not share rates (the caller paces on its own).
    async fn reserve_rate(&self, _key: &str, _per_second: f64) -> Result<Option<std::time::Duration>, CatalogError> {
        Ok(None)
    }
}

/// A code read back from the catalog. Codes are never removed, so one this build does
/// not know was written by a newer ontofetch; it reads as a catalog failure.
pub(crate) fn stored_code(text: &str) -> Code {
    Code::parse(text).unwrap_or(Code::Db)
}

/// Events before this instant (RFC 3339) are dropped.
pub(crate) fn retention_cutoff() -> String {
    let cutoff = std::time::SystemTime::now()
        .checked_sub(std::time::Duration::from_secs(EVENT_RETENTION_DAYS * 86_400))
        .unwrap_or(std::time::UNIX_EPOCH);
    humantime::format_rfc3339_millis(cutoff).to_string()
}

/// Checks store keys read back from (or about to be written into) the catalog: a row is
/// data, its path is judged before it names anything.
pub(crate) fn check_read_keys<'a>(files: impl IntoIterator<Item = &'a ArtifactRow>) -> Result<(), CatalogError> {
    let paths = ontofetch_policy::PathPolicy::default();
    for a in files {
        ontofetch_policy::db_boundary::check_stored_path(&paths, &a.relpath)?;
    }
    Ok(())
}

/// Checks every key a row would store (they are re-checked when read back).
pub(crate) fn check_keys(row: &VersionRow, artifacts: &[ArtifactRow]) -> Result<(), CatalogError> {
    ontofetch_policy::db_boundary::check_stored_path(&ontofetch_policy::PathPolicy::default(), &row.relpath)?;
    check_read_keys(artifacts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalog stores statuses as text: every variant reads back as itself, and text
    /// nobody wrote reads as a failure, never as a success.
    #[test]
    fn statuses_read_back_and_unknown_text_fails_closed() {
        for s in [PullStatus::Fresh, PullStatus::Updated, PullStatus::Cached, PullStatus::Failed] {
            assert_eq!(PullStatus::parse(s.as_str()), s);
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for s in [ImportStatus::Stored, ImportStatus::Failed, ImportStatus::Refused, ImportStatus::Skipped] {
            assert_eq!(ImportStatus::parse(s.as_str()), s);
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for s in [ValidationResult::Ok, ValidationResult::Failed, ValidationResult::Skipped] {
            assert_eq!(ValidationResult::parse(s.as_str()), s);
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for k in [
            ArtifactKind::Original,
            ArtifactKind::Cas,
            ArtifactKind::Manifest,
            ArtifactKind::Report,
            ArtifactKind::Audit,
            ArtifactKind::Terms,
            ArtifactKind::Normalized,
            ArtifactKind::Extracted,
            ArtifactKind::Attestation,
        ] {
            assert_eq!(ArtifactKind::parse(k.as_str()), k);
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert_eq!(ArtifactKind::parse("cas "), ArtifactKind::Extracted, "never the CAS copy by accident");
        assert_eq!(ValidationResult::parse("OK"), ValidationResult::Failed);
        assert_eq!(PullStatus::parse("pending"), PullStatus::Failed);
        assert_eq!(ImportStatus::parse("Stored"), ImportStatus::Failed);
    }
}
