//! The embedded SQLite catalog: one file under the data root, WAL so readers never block
//! the writer, a busy timeout so concurrent processes wait for each other instead of
//! failing, defensive mode and an untrusted schema. Calls run on tokio's blocking pool.

use crate::migrations::MIGRATIONS;
use crate::{
    ArtifactRow, Catalog, CatalogError, DiffRow, ImportEdge, LATEST_ONLY, LATEST_ORDER, Lease, MAY_BE_LATEST,
    NEWEST_FIRST, PullEvent, Recorded, Stats, VERSION_COLUMNS, ValidationRow, Verdict, VersionRow, check_keys,
};
use async_trait::async_trait;
use ontofetch_policy::db_boundary::{CommitFacts, check_commit};
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Records one file of a version (a re-recorded key takes the new facts).
const UPSERT_ARTIFACT: &str = "INSERT INTO artifacts (relpath, ontology, version, sha256, bytes, kind) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (relpath) DO UPDATE SET ontology = excluded.ontology, version = excluded.version, sha256 = excluded.sha256, bytes = excluded.bytes, kind = excluded.kind";

/// Records one validator's result for a version (replacing an earlier one).
const UPSERT_VALIDATION: &str = "INSERT INTO validations (ontology, version, validator, result, details, run_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (ontology, version, validator) DO UPDATE SET result = excluded.result, details = excluded.details, run_at = excluded.run_at";

/// How long a statement waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// The SQLite catalog.
#[derive(Clone)]
pub struct SqliteCatalog {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
}

fn sql(what: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> CatalogError {
    let what = what.into();
    move |e| CatalogError::db(what, e)
}

fn row_to_version(r: &rusqlite::Row<'_>) -> rusqlite::Result<VersionRow> {
    Ok(VersionRow {
        ontology: r.get(0)?,
        version: r.get(1)?,
        resolver: r.get(2)?,
        url: r.get(3)?,
        sha256: r.get(4)?,
        bytes: r.get::<_, i64>(5)? as u64,
        filename: r.get(6)?,
        relpath: r.get(7)?,
        content_type: r.get(8)?,
        etag: r.get(9)?,
        last_modified: r.get(10)?,
        license: r.get(11)?,
        downloaded_at: r.get(12)?,
        verdict: Verdict::parse(&r.get::<_, String>(13)?),
    })
}

fn current_version(conn: &Connection) -> Result<i64, CatalogError> {
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')))",
        [],
    )
    .map_err(sql("creating schema_migrations"))?;
    conn.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0))
        .map_err(sql("reading the schema version"))
}

/// Applies pending migrations inside one exclusive transaction: the first process to get
/// the lock migrates, the others wait (busy timeout), re-read the version and find
/// nothing left to do.
fn migrate(conn: &mut Connection) -> Result<(), CatalogError> {
    let latest = MIGRATIONS.last().map(|m| m.version).unwrap_or(0);
    if conn.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get::<_, i64>(0)).ok()
        == Some(latest)
    {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive).map_err(sql("locking for migrations"))?;
    let current = current_version(&tx)?;
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        tx.execute_batch(m.sql).map_err(sql(format!("applying migration {} ({})", m.version, m.name)))?;
        tx.execute("INSERT INTO schema_migrations (version) VALUES (?1)", params![m.version])
            .map_err(sql("recording a migration"))?;
    }
    tx.commit().map_err(sql("committing migrations"))
}

impl SqliteCatalog {
    /// Files as `(ontology, version, file)`, of one ontology or of all, in one statement,
    /// keys re-validated.
    async fn artifacts_of(&self, ontology: Option<&str>) -> Result<Vec<(String, String, ArtifactRow)>, CatalogError> {
        let ontology = ontology.map(str::to_string);
        let rows: Vec<(String, String, ArtifactRow)> = self
            .with(move |c| {
                let mut stmt = c
                    .prepare(
                        "SELECT ontology, version, relpath, sha256, bytes, kind FROM artifacts \
                         WHERE ?1 IS NULL OR ontology = ?1 ORDER BY ontology, version, relpath",
                    )
                    .map_err(sql("listing artifacts"))?;
                let rows = stmt
                    .query_map(params![ontology], |r| {
                        let file = ArtifactRow {
                            relpath: r.get(2)?,
                            sha256: r.get(3)?,
                            bytes: r.get::<_, i64>(4)? as u64,
                            kind: r.get(5)?,
                        };
                        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, file))
                    })
                    .map_err(sql("listing artifacts"))?;
                rows.collect::<Result<_, _>>().map_err(sql("listing artifacts"))
            })
            .await?;
        crate::check_read_keys(rows.iter().map(|(_, _, a)| a))?;
        Ok(rows)
    }

    /// Opens (creating) the catalog file, hardens the connection and applies pending
    /// migrations. Safe when many processes open the same file at once.
    pub fn open(path: &Path) -> Result<Self, CatalogError> {
        let mut conn = Connection::open(path).map_err(sql(format!("opening the catalog {}", path.display())))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql("setting the busy timeout"))?;
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true).map_err(sql("enabling defensive mode"))?;
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false).map_err(sql("distrusting the schema"))?;
        enable_wal(&conn)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(sql("enabling foreign keys"))?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(sql("setting synchronous"))?;
        migrate(&mut conn)?;
        Ok(SqliteCatalog { conn: Arc::new(Mutex::new(conn)), path: path.to_path_buf() })
    }

    /// Issues the next fencing token of an ontology whose lease was just taken.
    async fn next_token(&self, ontology: &str) -> Result<u64, CatalogError> {
        let ontology = ontology.to_string();
        self.with(move |c| {
            c.query_row(
                "INSERT INTO lease_epochs (ontology, epoch) VALUES (?1, 1)
                 ON CONFLICT (ontology) DO UPDATE SET epoch = epoch + 1 RETURNING epoch",
                params![ontology],
                |r| r.get::<_, i64>(0),
            )
            .map(|e| e as u64)
            .map_err(sql("issuing a fencing token"))
        })
        .await
    }

    /// Runs `f` on the connection on tokio's blocking pool.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, CatalogError> + Send + 'static,
    ) -> Result<T, CatalogError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || f(&mut conn.lock().unwrap_or_else(|p| p.into_inner())))
            .await
            .map_err(|e| CatalogError::db("running a catalog query", e))?
    }

    /// Runs raw SQL (tests that tamper with rows).
    #[doc(hidden)]
    pub fn execute_raw(&self, statement: &str) -> Result<usize, CatalogError> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner()).execute(statement, []).map_err(sql("raw statement"))
    }
}

/// `PRAGMA journal_mode=WAL` on a catalog another process is creating at the same moment
/// can fail with SQLITE_BUSY at once: SQLite does not call the busy handler for that lock.
/// It is retried for as long as the busy timeout would have waited.
fn enable_wal(conn: &Connection) -> Result<(), CatalogError> {
    let started = std::time::Instant::now();
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && started.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            other => return other.map_err(sql("enabling WAL")),
        }
    }
}

fn query_versions(
    conn: &Connection,
    what: &str,
    sql_text: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<VersionRow>, CatalogError> {
    let mut stmt = conn.prepare(sql_text).map_err(sql(what))?;
    let rows = stmt.query_map(args, row_to_version).map_err(sql(what))?;
    rows.collect::<Result<_, _>>().map_err(sql(what))
}

/// An `imports` row (`ontology, version, iri, target, status, code`).
fn import_edge(r: &rusqlite::Row<'_>) -> rusqlite::Result<ImportEdge> {
    Ok(ImportEdge {
        ontology: r.get(0)?,
        version: r.get(1)?,
        iri: r.get(2)?,
        target: r.get(3)?,
        status: crate::ImportStatus::parse(&r.get::<_, String>(4)?),
        code: r.get(5)?,
    })
}

#[async_trait]
impl Catalog for SqliteCatalog {
    fn url(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }

    async fn schema_version(&self) -> Result<i64, CatalogError> {
        self.with(|c| {
            c.query_row("SELECT MAX(version) FROM schema_migrations", [], |r| r.get(0))
                .map_err(sql("reading the schema version"))
        })
        .await
    }

    async fn record(
        &self,
        row: &VersionRow,
        artifacts: &[ArtifactRow],
        blob_durable: bool,
        fence: Option<u64>,
    ) -> Result<Recorded, CatalogError> {
        check_keys(row, artifacts)?;
        let (row, artifacts) = (row.clone(), artifacts.to_vec());
        self.with(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql("starting a transaction"))?;
            check_commit(&CommitFacts {
                what: &format!("{}/{}", row.ontology, row.version),
                blob_durable,
                in_transaction: true,
            })?;
            // The fencing token is checked in the transaction that writes the rows.
            if let Some(token) = fence {
                let current: i64 = tx
                    .query_row("SELECT epoch FROM lease_epochs WHERE ontology = ?1", params![row.ontology], |r| r.get(0))
                    .optional()
                    .map_err(sql("reading the fencing token"))?
                    .unwrap_or(0);
                if current as u64 != token {
                    return Err(CatalogError::Fenced { ontology: row.ontology, token, current: current as u64 });
                }
            }
            let existing: Option<String> = tx
                .query_row(
                    "SELECT sha256 FROM versions WHERE ontology = ?1 AND version = ?2",
                    params![row.ontology, row.version],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql("checking for the version"))?;
            match existing {
                Some(sha) if sha == row.sha256 => return Ok(Recorded::AlreadyPresent),
                Some(_) => return Err(CatalogError::Conflict { ontology: row.ontology, version: row.version }),
                None => {}
            }
            // Identical bytes never make a second version, whoever chose the name.
            let twin: Option<String> = tx
                .query_row(
                    "SELECT version FROM versions WHERE ontology = ?1 AND sha256 = ?2 LIMIT 1",
                    params![row.ontology, row.sha256],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql("checking for the same bytes"))?;
            if let Some(twin) = twin {
                return Ok(Recorded::Duplicate(twin));
            }
            tx.execute(
                &format!("INSERT INTO versions ({VERSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"),
                params![
                    row.ontology,
                    row.version,
                    row.resolver,
                    row.url,
                    row.sha256,
                    row.bytes as i64,
                    row.filename,
                    row.relpath,
                    row.content_type,
                    row.etag,
                    row.last_modified,
                    row.license,
                    row.downloaded_at,
                    row.verdict.as_str()
                ],
            )
            .map_err(sql(format!("recording {}/{}", row.ontology, row.version)))?;
            for a in &artifacts {
                tx.execute(
                    UPSERT_ARTIFACT,
                    params![a.relpath, row.ontology, row.version, a.sha256, a.bytes as i64, a.kind],
                )
                .map_err(sql(format!("recording artifact {}", a.relpath)))?;
            }
            tx.commit().map_err(sql("committing"))?;
            Ok(Recorded::Inserted)
        })
        .await
    }

    async fn latest(&self, ontology: &str) -> Result<Option<VersionRow>, CatalogError> {
        let ontology = ontology.to_string();
        self.with(move |c| {
            c.query_row(
                &format!(
                    "SELECT {VERSION_COLUMNS} FROM versions v WHERE ontology = ?1 AND {MAY_BE_LATEST} {LATEST_ORDER} LIMIT 1"
                ),
                params![ontology],
                row_to_version,
            )
            .optional()
            .map_err(sql("reading the latest version"))
        })
        .await
    }

    async fn version(&self, ontology: &str, version: &str) -> Result<Option<VersionRow>, CatalogError> {
        let (ontology, version) = (ontology.to_string(), version.to_string());
        self.with(move |c| {
            c.query_row(
                &format!("SELECT {VERSION_COLUMNS} FROM versions WHERE ontology = ?1 AND version = ?2"),
                params![ontology, version],
                row_to_version,
            )
            .optional()
            .map_err(sql("reading a version"))
        })
        .await
    }

    async fn revise(
        &self,
        ontology: &str,
        version: &str,
        verdict: Verdict,
        artifacts: &[ArtifactRow],
        validations: &[ValidationRow],
    ) -> Result<(), CatalogError> {
        crate::check_read_keys(artifacts)?;
        let (ontology, version) = (ontology.to_string(), version.to_string());
        let (artifacts, validations) = (artifacts.to_vec(), validations.to_vec());
        self.with(move |c| {
            let tx =
                c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql("starting a transaction"))?;
            let n = tx
                .execute(
                    "UPDATE versions SET verdict = ?3 WHERE ontology = ?1 AND version = ?2",
                    params![ontology, version, verdict.as_str()],
                )
                .map_err(sql("recording the verdict"))?;
            if n == 0 {
                return Err(CatalogError::db(format!("revising {ontology}/{version}"), "the version is not recorded"));
            }
            for a in &artifacts {
                tx.execute(UPSERT_ARTIFACT, params![a.relpath, ontology, version, a.sha256, a.bytes as i64, a.kind])
                    .map_err(sql(format!("recording artifact {}", a.relpath)))?;
            }
            for r in &validations {
                tx.execute(
                    UPSERT_VALIDATION,
                    params![ontology, version, r.validator, r.result.as_str(), r.details, r.run_at],
                )
                .map_err(sql("recording a validation"))?;
            }
            tx.commit().map_err(sql("committing"))
        })
        .await
    }

    async fn latest_all(&self) -> Result<Vec<VersionRow>, CatalogError> {
        self.with(|c| {
            query_versions(
                c,
                "listing latest versions",
                &format!("SELECT {VERSION_COLUMNS} FROM versions v WHERE {LATEST_ONLY} ORDER BY ontology"),
                &[],
            )
        })
        .await
    }

    async fn versions(&self, ontology: Option<&str>, limit: u32) -> Result<Vec<VersionRow>, CatalogError> {
        let ontology = ontology.map(str::to_string);
        self.with(move |c| {
            query_versions(
                c,
                "listing versions",
                &format!(
                    "SELECT {VERSION_COLUMNS} FROM versions WHERE (CAST(?1 AS TEXT) IS NULL OR ontology = ?1) {NEWEST_FIRST} LIMIT ?2"
                ),
                &[&ontology, &limit],
            )
        })
        .await
    }

    async fn find_by_sha(&self, ontology: &str, sha256: &str) -> Result<Option<VersionRow>, CatalogError> {
        let (ontology, sha256) = (ontology.to_string(), sha256.to_string());
        self.with(move |c| {
            c.query_row(
                &format!(
                    "SELECT {VERSION_COLUMNS} FROM versions WHERE ontology = ?1 AND sha256 = ?2 {NEWEST_FIRST} LIMIT 1"
                ),
                params![ontology, sha256],
                row_to_version,
            )
            .optional()
            .map_err(sql("looking up a digest"))
        })
        .await
    }

    async fn artifacts(&self, ontology: &str, version: &str) -> Result<Vec<ArtifactRow>, CatalogError> {
        let (ontology, version) = (ontology.to_string(), version.to_string());
        let rows: Vec<ArtifactRow> = self
            .with(move |c| {
                let mut stmt = c
                    .prepare("SELECT relpath, sha256, bytes, kind FROM artifacts WHERE ontology = ?1 AND version = ?2 ORDER BY relpath")
                    .map_err(sql("listing artifacts"))?;
                let rows = stmt
                    .query_map(params![ontology, version], |r| {
                        Ok(ArtifactRow {
                            relpath: r.get(0)?,
                            sha256: r.get(1)?,
                            bytes: r.get::<_, i64>(2)? as u64,
                            kind: r.get(3)?,
                        })
                    })
                    .map_err(sql("listing artifacts"))?;
                rows.collect::<Result<_, _>>().map_err(sql("listing artifacts"))
            })
            .await?;
        crate::check_read_keys(&rows)?;
        Ok(rows)
    }

    async fn record_validations(
        &self,
        ontology: &str,
        version: &str,
        rows: &[ValidationRow],
    ) -> Result<(), CatalogError> {
        let (ontology, version, rows) = (ontology.to_string(), version.to_string(), rows.to_vec());
        self.with(move |c| {
            let tx =
                c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql("starting a transaction"))?;
            for r in &rows {
                tx.execute(
                    UPSERT_VALIDATION,
                    params![ontology, version, r.validator, r.result.as_str(), r.details, r.run_at],
                )
                .map_err(sql("recording a validation"))?;
            }
            tx.commit().map_err(sql("committing"))
        })
        .await
    }

    async fn validations(&self, ontology: &str, version: &str) -> Result<Vec<ValidationRow>, CatalogError> {
        let (ontology, version) = (ontology.to_string(), version.to_string());
        self.with(move |c| {
            let mut stmt = c
                .prepare("SELECT validator, result, details, run_at FROM validations WHERE ontology = ?1 AND version = ?2 ORDER BY validator")
                .map_err(sql("listing validations"))?;
            let rows = stmt
                .query_map(params![ontology, version], |r| {
                    Ok(ValidationRow {
                        validator: r.get(0)?,
                        result: crate::ValidationResult::parse(&r.get::<_, String>(1)?),
                        details: r.get(2)?,
                        run_at: r.get(3)?,
                    })
                })
                .map_err(sql("listing validations"))?;
            rows.collect::<Result<_, _>>().map_err(sql("listing validations"))
        })
        .await
    }

    async fn ontology_artifacts(&self, ontology: &str) -> Result<Vec<(String, ArtifactRow)>, CatalogError> {
        Ok(self.artifacts_of(Some(ontology)).await?.into_iter().map(|(_, v, a)| (v, a)).collect())
    }

    async fn all_artifacts(&self) -> Result<Vec<(String, String, ArtifactRow)>, CatalogError> {
        self.artifacts_of(None).await
    }

    async fn latest_validations(&self) -> Result<Vec<(String, ValidationRow)>, CatalogError> {
        self.with(|c| {
            let mut stmt = c
                .prepare(&format!(
                    "SELECT l.ontology, l.validator, l.result, l.details, l.run_at FROM validations l
                     JOIN versions v ON v.ontology = l.ontology AND v.version = l.version
                     WHERE {LATEST_ONLY} ORDER BY l.ontology, l.validator"
                ))
                .map_err(sql("listing latest validations"))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        ValidationRow {
                            validator: r.get(1)?,
                            result: crate::ValidationResult::parse(&r.get::<_, String>(2)?),
                            details: r.get(3)?,
                            run_at: r.get(4)?,
                        },
                    ))
                })
                .map_err(sql("listing latest validations"))?;
            rows.collect::<Result<_, _>>().map_err(sql("listing latest validations"))
        })
        .await
    }

    async fn remove_version(&self, ontology: &str, version: &str) -> Result<(), CatalogError> {
        let (ontology, version) = (ontology.to_string(), version.to_string());
        self.with(move |c| {
            let tx =
                c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql("starting a transaction"))?;
            for table in ["validations", "diffs", "imports", "artifacts", "versions"] {
                tx.execute(
                    &format!("DELETE FROM {table} WHERE ontology = ?1 AND version = ?2"),
                    params![ontology, version],
                )
                .map_err(sql(format!("removing {ontology}/{version} from {table}")))?;
            }
            tx.commit().map_err(sql("committing"))
        })
        .await
    }

    async fn record_event(&self, e: &PullEvent) -> Result<(), CatalogError> {
        let e = e.clone();
        let cutoff = crate::retention_cutoff();
        self.with(move |c| {
            let tx =
                c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql("starting a transaction"))?;
            tx.execute(
                "INSERT INTO pull_events (ontology, at, status, code, message, worker) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![e.ontology, e.at, e.status.as_str(), e.code, e.message, e.worker],
            )
            .map_err(sql("recording a pull event"))?;
            tx.execute("DELETE FROM pull_events WHERE at < ?1", params![cutoff])
                .map_err(sql("dropping old pull events"))?;
            tx.commit().map_err(sql("committing"))
        })
        .await
    }

    async fn events(&self, ontology: Option<&str>, since: &str, limit: u32) -> Result<Vec<PullEvent>, CatalogError> {
        let (ontology, since) = (ontology.map(str::to_string), since.to_string());
        self.with(move |c| {
            let mut stmt = c
                .prepare(
                    "SELECT ontology, at, status, code, message, worker FROM pull_events
                     WHERE (?1 IS NULL OR ontology = ?1) AND at >= ?2 ORDER BY at DESC LIMIT ?3",
                )
                .map_err(sql("listing pull events"))?;
            let rows = stmt
                .query_map(params![ontology, since, limit], |r| {
                    Ok(PullEvent {
                        ontology: r.get(0)?,
                        at: r.get(1)?,
                        status: crate::PullStatus::parse(&r.get::<_, String>(2)?),
                        code: r.get(3)?,
                        message: r.get(4)?,
                        worker: r.get(5)?,
                    })
                })
                .map_err(sql("listing pull events"))?;
            rows.collect::<Result<Vec<_>, _>>().map_err(sql("reading pull events"))
        })
        .await
    }

    async fn record_diff(&self, d: &DiffRow) -> Result<(), CatalogError> {
        let d = d.clone();
        self.with(move |c| {
            c.execute(
                "INSERT INTO diffs (ontology, version, previous, summary) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (ontology, version) DO UPDATE SET previous = excluded.previous, summary = excluded.summary",
                params![d.ontology, d.version, d.previous, d.summary],
            )
            .map(drop)
            .map_err(sql("recording a diff"))
        })
        .await
    }

    async fn diff(&self, ontology: &str, version: &str) -> Result<Option<DiffRow>, CatalogError> {
        let (ontology, version) = (ontology.to_string(), version.to_string());
        self.with(move |c| {
            c.query_row(
                "SELECT ontology, version, previous, summary FROM diffs WHERE ontology = ?1 AND version = ?2",
                params![ontology, version],
                |r| Ok(DiffRow { ontology: r.get(0)?, version: r.get(1)?, previous: r.get(2)?, summary: r.get(3)? }),
            )
            .optional()
            .map_err(sql("reading a diff"))
        })
        .await
    }

    async fn record_imports(&self, ontology: &str, version: &str, edges: &[ImportEdge]) -> Result<(), CatalogError> {
        let (ontology, version, edges) = (ontology.to_string(), version.to_string(), edges.to_vec());
        self.with(move |c| {
            let tx =
                c.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql("starting a transaction"))?;
            tx.execute("DELETE FROM imports WHERE ontology = ?1 AND version = ?2", params![ontology, version])
                .map_err(sql("replacing import edges"))?;
            for e in &edges {
                tx.execute(
                    "INSERT INTO imports (ontology, version, iri, target, status, code) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (ontology, version, iri) DO NOTHING",
                    params![ontology, version, e.iri, e.target, e.status.as_str(), e.code],
                )
                .map_err(sql("recording an import edge"))?;
            }
            tx.commit().map_err(sql("committing"))
        })
        .await
    }

    async fn latest_imports(&self) -> Result<Vec<ImportEdge>, CatalogError> {
        self.with(|c| {
            let mut st = c
                .prepare(&format!(
                    "SELECT l.ontology, l.version, l.iri, l.target, l.status, l.code FROM imports l
                     JOIN versions v ON v.ontology = l.ontology AND v.version = l.version
                     WHERE {LATEST_ONLY} ORDER BY l.ontology, l.iri"
                ))
                .map_err(sql("listing latest import edges"))?;
            let rows = st.query_map([], import_edge).map_err(sql("listing latest import edges"))?;
            rows.collect::<Result<Vec<_>, _>>().map_err(sql("listing latest import edges"))
        })
        .await
    }

    async fn imports(&self, ontology: &str, version: &str) -> Result<Vec<ImportEdge>, CatalogError> {
        let (ontology, version) = (ontology.to_string(), version.to_string());
        self.with(move |c| {
            let mut st = c
                .prepare(
                    "SELECT ontology, version, iri, target, status, code FROM imports
                     WHERE ontology = ?1 AND version = ?2 ORDER BY iri",
                )
                .map_err(sql("reading import edges"))?;
            let rows = st.query_map(params![ontology, version], import_edge).map_err(sql("reading import edges"))?;
            rows.collect::<Result<Vec<_>, _>>().map_err(sql("reading import edges"))
        })
        .await
    }

    async fn try_lease(&self, ontology: &str) -> Result<Option<Lease>, CatalogError> {
        let dir = self.path.parent().unwrap_or(Path::new(".")).join(".locks");
        let ontology_name = ontology;
        let ontology = ontology.to_string();
        let what = format!("taking the lease of {ontology} in {}", dir.display());
        let held = tokio::task::spawn_blocking(move || crate::filelock::try_lock(&dir, &ontology))
            .await
            .map_err(|e| CatalogError::db("taking a lease", e))?
            .map_err(|e| CatalogError::db(what, e))?;
        let Some(held) = held else { return Ok(None) };
        let token = self.next_token(ontology_name).await?;
        Ok(Some(Lease::new(held, token)))
    }

    async fn fence_token(&self, ontology: &str) -> Result<u64, CatalogError> {
        let ontology = ontology.to_string();
        self.with(move |c| {
            c.query_row("SELECT epoch FROM lease_epochs WHERE ontology = ?1", params![ontology], |r| r.get::<_, i64>(0))
                .optional()
                .map(|e| e.unwrap_or(0) as u64)
                .map_err(sql("reading the fencing token"))
        })
        .await
    }

    async fn stats(&self) -> Result<Stats, CatalogError> {
        self.with(|c| {
            c.query_row(
                "SELECT (SELECT COUNT(DISTINCT ontology) FROM versions), (SELECT COUNT(*) FROM versions), (SELECT COUNT(*) FROM artifacts), (SELECT COALESCE(SUM(bytes), 0) FROM artifacts)",
                [],
                |r| {
                    Ok(Stats {
                        ontologies: r.get::<_, i64>(0)? as u64,
                        versions: r.get::<_, i64>(1)? as u64,
                        artifacts: r.get::<_, i64>(2)? as u64,
                        bytes: r.get::<_, i64>(3)? as u64,
                    })
                },
            )
            .map_err(sql("computing stats"))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ontofetch_policy::Coded;
    use proptest::prelude::*;

    pub(crate) fn row(id: &str, version: &str, sha: &str, at: &str) -> VersionRow {
        VersionRow {
            ontology: id.into(),
            version: version.into(),
            resolver: "obo".into(),
            url: "https://purl.obolibrary.org/obo/x.owl".into(),
            sha256: sha.into(),
            bytes: 10,
            filename: "x.owl".into(),
            relpath: format!("ontologies/{id}/{version}"),
            content_type: None,
            etag: Some("\"e\"".into()),
            last_modified: None,
            license: None,
            downloaded_at: at.into(),
            verdict: Default::default(),
        }
    }

    fn open() -> (tempfile::TempDir, SqliteCatalog) {
        let dir = tempfile::tempdir().unwrap();
        let cat = SqliteCatalog::open(&dir.path().join("catalog.sqlite")).unwrap();
        (dir, cat)
    }

    #[tokio::test]
    async fn latest_is_chosen_by_download_time_not_by_name() {
        let (_d, cat) = open();
        cat.record(&row("bfo", "zzz-old", "a", "2024-01-01T00:00:00Z"), &[], true, None).await.unwrap();
        cat.record(&row("bfo", "aaa-new", "b", "2025-01-01T00:00:00Z"), &[], true, None).await.unwrap();
        cat.record(&row("ro", "v1", "c", "2020-01-01T00:00:00Z"), &[], true, None).await.unwrap();
        assert_eq!(cat.latest("bfo").await.unwrap().unwrap().version, "aaa-new");
        let all: Vec<_> = cat.latest_all().await.unwrap().into_iter().map(|r| r.version).collect();
        assert_eq!(all, ["aaa-new", "v1"]);
        assert_eq!(cat.find_by_sha("bfo", "a").await.unwrap().unwrap().version, "zzz-old");
        assert_eq!(cat.versions(Some("bfo"), 10).await.unwrap().len(), 2);
        assert_eq!(cat.versions(None, 10).await.unwrap().len(), 3);
        assert_eq!(cat.stats().await.unwrap().versions, 3);
        assert_eq!(cat.schema_version().await.unwrap(), MIGRATIONS.len() as i64);
    }

    #[tokio::test]
    async fn recording_is_idempotent_for_the_same_bytes_only() {
        let (_d, cat) = open();
        assert_eq!(cat.record(&row("bfo", "v1", "a", "t"), &[], true, None).await.unwrap(), Recorded::Inserted);
        assert_eq!(cat.record(&row("bfo", "v1", "a", "t2"), &[], true, None).await.unwrap(), Recorded::AlreadyPresent);
        assert_eq!(cat.record(&row("bfo", "v1", "b", "t3"), &[], true, None).await.unwrap_err().code(), "E_EXISTS");
        assert_eq!(cat.versions(Some("bfo"), 10).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn boundary_refuses_undurable_commits_and_foreign_paths() {
        let (_d, cat) = open();
        let e = cat.record(&row("bfo", "v1", "a", "t"), &[], false, None).await.unwrap_err();
        assert_eq!(e.code(), "E_DB_TXN");
        assert!(cat.latest("bfo").await.unwrap().is_none(), "nothing committed");
        let mut bad = row("bfo", "v2", "a", "t");
        bad.relpath = "/etc/passwd".into();
        assert_eq!(cat.record(&bad, &[], true, None).await.unwrap_err().code(), "E_ABSOLUTE_PATH");
        let art =
            ArtifactRow { relpath: "ontologies/../../x".into(), sha256: "a".into(), bytes: 1, kind: "original".into() };
        assert_eq!(
            cat.record(&row("bfo", "v3", "a", "t"), &[art], true, None).await.unwrap_err().code(),
            "E_TRAVERSAL"
        );
    }

    #[tokio::test]
    async fn tampered_rows_are_refused_when_read_back() {
        let (_d, cat) = open();
        let art = ArtifactRow {
            relpath: "ontologies/bfo/v1/original/x.owl".into(),
            sha256: "a".into(),
            bytes: 1,
            kind: "original".into(),
        };
        cat.record(&row("bfo", "v1", "a", "t"), &[art], true, None).await.unwrap();
        cat.execute_raw("UPDATE artifacts SET relpath = '/etc/shadow'").unwrap();
        assert_eq!(cat.artifacts("bfo", "v1").await.unwrap_err().code(), "E_ABSOLUTE_PATH");
    }

    #[tokio::test]
    async fn removing_a_version_takes_its_files_and_validations() {
        let (_d, cat) = open();
        let art = ArtifactRow {
            relpath: "ontologies/bfo/v1/x".into(),
            sha256: "a".into(),
            bytes: 1,
            kind: "original".into(),
        };
        cat.record(&row("bfo", "v1", "a", "t"), &[art], true, None).await.unwrap();
        let v = ValidationRow {
            validator: "rdf".into(),
            result: crate::ValidationResult::Ok,
            details: "{}".into(),
            run_at: "t".into(),
        };
        cat.record_validations("bfo", "v1", &[v.clone(), v]).await.unwrap();
        assert_eq!(cat.validations("bfo", "v1").await.unwrap().len(), 1, "a validator has one row");
        cat.remove_version("bfo", "v1").await.unwrap();
        assert_eq!(cat.stats().await.unwrap(), Stats { ontologies: 0, versions: 0, artifacts: 0, bytes: 0 });
        assert!(cat.validations("bfo", "v1").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn reopening_keeps_data_and_does_not_remigrate() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.sqlite");
        SqliteCatalog::open(&p).unwrap().record(&row("ro", "v1", "a", "t"), &[], true, None).await.unwrap();
        let cat = SqliteCatalog::open(&p).unwrap();
        assert_eq!(cat.latest("ro").await.unwrap().unwrap().version, "v1");
    }

    #[tokio::test]
    async fn a_lease_is_exclusive_until_dropped() {
        let (_d, cat) = open();
        let held = cat.try_lease("bfo").await.unwrap().expect("free");
        assert!(cat.try_lease("bfo").await.unwrap().is_none(), "held by someone else");
        assert!(cat.try_lease("ro").await.unwrap().is_some(), "another ontology is independent");
        let waiting = cat.lease("bfo", std::time::Duration::from_millis(300)).await.unwrap();
        assert!(waiting.is_none(), "a bounded wait gives up");
        drop(held);
        assert!(cat.try_lease("bfo").await.unwrap().is_some());
    }

    #[test]
    fn many_threads_opening_a_new_catalog_at_once_migrate_it_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.sqlite");
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..8).map(|_| s.spawn(|| SqliteCatalog::open(&p).map(drop))).collect();
            for h in handles {
                if let Err(e) = h.join().unwrap() {
                    panic!("open failed: {e}");
                }
            }
        });
        let conn = Connection::open(&p).unwrap();
        let n: i64 = conn.query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0)).unwrap();
        assert_eq!(n, MIGRATIONS.len() as i64);
    }

    proptest! {
        /// Untrusted strings (titles, ETags, URLs) round-trip as data, never as SQL.
        #[test]
        fn arbitrary_strings_are_parameters(etag in "\\PC*", url in "\\PC*") {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let (_d, cat) = open();
                let mut r = row("bfo", "v1", "a", "t");
                r.etag = Some(etag.clone());
                r.url = url.clone();
                cat.record(&r, &[], true, None).await.unwrap();
                let back = cat.latest("bfo").await.unwrap().unwrap();
                assert_eq!(back.etag, Some(etag));
                assert_eq!(back.url, url);
                assert_eq!(cat.stats().await.unwrap().versions, 1);
            });
        }
    }
}
