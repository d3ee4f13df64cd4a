//! The shared catalog on PostgreSQL: the same schema and migrations as SQLite (one list;
//! `INTEGER` widens to `BIGINT`), the same queries with `$n` parameters, transactions through
//! the db_boundary gate. Leases are session advisory locks on a connection of their own (a
//! worker that dies drops its connection and its leases). Request slots shared by every
//! worker live in `rate_slots`, timed by the database's clock. A lost connection (a
//! restart, a network blip) is re-established and the statement retried a few times.

use crate::migrations::{MIGRATIONS, for_postgres};
use crate::{
    ArtifactRow, Catalog, CatalogError, DiffRow, ImportEdge, LATEST_ONLY, LATEST_ORDER, Lease, MAY_BE_LATEST,
    NEWEST_FIRST, PullEvent, Recorded, Stats, VERSION_COLUMNS, ValidationRow, Verdict, VersionRow, check_keys,
};
use async_trait::async_trait;
use futures_util::future::BoxFuture;
use ontofetch_policy::db_boundary::{CommitFacts, check_commit};
use std::time::Duration;
use tokio::sync::Mutex;
use tokio_postgres::{Client, Config, NoTls, Row};

/// Records one file of a version (a re-recorded key takes the new facts).
const UPSERT_ARTIFACT: &str = "INSERT INTO artifacts (relpath, ontology, version, sha256, bytes, kind) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (relpath) DO UPDATE SET ontology = excluded.ontology, version = excluded.version, sha256 = excluded.sha256, bytes = excluded.bytes, kind = excluded.kind";

/// Records one validator's result for a version (replacing an earlier one).
const UPSERT_VALIDATION: &str = "INSERT INTO validations (ontology, version, validator, result, details, run_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (ontology, version, validator) DO UPDATE SET result = excluded.result, details = excluded.details, run_at = excluded.run_at";

/// How often a statement is retried after the connection was lost.
/// How long a statement keeps reconnecting by default: a server restart is ridden out.
pub const DEFAULT_PATIENCE: Duration = Duration::from_secs(20);

/// The pause before reconnect attempt `n` (from 1), at most 4 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250 << attempt.min(4))
}

/// The PostgreSQL catalog.
pub struct PgCatalog {
    config: Config,
    shown: String,
    /// Sessions for statements: a batch's concurrent pulls each read and record through a
    /// free one instead of queueing behind one (each connects on first use).
    sessions: Vec<Mutex<Option<Client>>>,
    /// Where the search for a free session starts (spreads the load).
    next: std::sync::atomic::AtomicUsize,
    /// How long one statement keeps reconnecting before it fails.
    patience: Duration,
    /// Sessions that held a lease and let go of it, kept to hold the next one: a lease per
    /// ontology is a session per ontology, and a new session is a new server process.
    idle_lease_sessions: IdleSessions,
}

/// Lease sessions ready for reuse (none of them holds a lock).
type IdleSessions = std::sync::Arc<std::sync::Mutex<Vec<Client>>>;

/// Sessions for statements, at most.
const STATEMENT_SESSIONS: usize = 4;

/// Idle lease sessions kept at most: enough for a batch's usual concurrency, few enough
/// that a fleet of workers stays far below the server's `max_connections` (docs/deploy.md).
const MAX_IDLE_LEASE_SESSIONS: usize = 8;

fn pg(what: impl Into<String>) -> impl FnOnce(tokio_postgres::Error) -> CatalogError {
    let what = what.into();
    move |e| CatalogError::db(what, describe(&e))
}

/// The server's message when there is one (the driver's own is "db error").
fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => {
            let mut out = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                out.push_str(": ");
                out.push_str(&s.to_string());
                source = s.source();
            }
            out
        }
    }
}

/// Whether another attempt on a new connection may succeed.
fn connection_lost(e: &tokio_postgres::Error) -> bool {
    e.is_closed()
        || e.as_db_error().is_some_and(|d| {
            // admin_shutdown, crash_shutdown, cannot_connect_now (a restart in progress)
            matches!(d.code().code(), "57P01" | "57P02" | "57P03")
        })
        || (e.as_db_error().is_none() && e.code().is_none())
}

async fn connect(config: &Config) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

fn row_to_version(r: &Row) -> VersionRow {
    VersionRow {
        ontology: r.get(0),
        version: r.get(1),
        resolver: r.get(2),
        url: r.get(3),
        sha256: r.get(4),
        bytes: r.get::<_, i64>(5) as u64,
        filename: r.get(6),
        relpath: r.get(7),
        content_type: r.get(8),
        etag: r.get(9),
        last_modified: r.get(10),
        license: r.get(11),
        downloaded_at: r.get(12),
        verdict: Verdict::parse(r.get(13)),
    }
}

/// What a `record` transaction found.
enum Seen {
    Inserted,
    /// The fencing token is not the current one (the catalog's is given).
    Fenced(u64),
    /// The version exists; its original's SHA-256.
    Existing(String),
    /// Another version holds the same bytes.
    Twin(String),
}

/// A 64-bit advisory lock key for a name (stable across processes and machines).
const LOCK_KEY: &str = "hashtextextended($1, 0)";

impl PgCatalog {
    /// Files as `(ontology, version, file)`, of one ontology or of all, in one statement,
    /// keys re-validated.
    async fn artifacts_of(&self, ontology: Option<&str>) -> Result<Vec<(String, String, ArtifactRow)>, CatalogError> {
        let ontology = ontology.map(str::to_string);
        let rows = self
            .run("listing artifacts", |c| {
                let ontology = ontology.clone();
                Box::pin(async move {
                    let rows = c
                        .query(
                            "SELECT ontology, version, relpath, sha256, bytes, kind FROM artifacts \
                             WHERE $1::text IS NULL OR ontology = $1 ORDER BY ontology, version, relpath",
                            &[&ontology],
                        )
                        .await?;
                    Ok(rows
                        .iter()
                        .map(|r| {
                            let file = ArtifactRow {
                                relpath: r.get(2),
                                sha256: r.get(3),
                                bytes: r.get::<_, i64>(4) as u64,
                                kind: r.get(5),
                            };
                            (r.get::<_, String>(0), r.get::<_, String>(1), file)
                        })
                        .collect::<Vec<_>>())
                })
            })
            .await?;
        crate::check_read_keys(rows.iter().map(|(_, _, a)| a))?;
        Ok(rows)
    }

    /// A new session for a lease, reconnecting with backoff within the catalog's patience.
    async fn lease_session(&self) -> Result<Client, CatalogError> {
        let mut attempt = 0;
        let deadline = std::time::Instant::now() + self.patience;
        loop {
            attempt += 1;
            match connect(&self.config).await {
                Ok(c) => return Ok(c),
                Err(e) if std::time::Instant::now() + backoff(attempt) < deadline => {
                    tracing::warn!(catalog = %self.shown, error = %describe(&e), "cannot reach the catalog for a lease; retrying");
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(e) => {
                    return Err(CatalogError::db(format!("connecting to {} for a lease", self.shown), describe(&e)));
                }
            }
        }
    }

    /// Connects and applies pending migrations (once, under an advisory transaction lock,
    /// whichever worker comes first).
    pub async fn connect(url: &str) -> Result<PgCatalog, CatalogError> {
        PgCatalog::connect_with(url, DEFAULT_PATIENCE).await
    }

    /// As [`PgCatalog::connect`], keeping up reconnect attempts for at most `patience` per
    /// statement: a worker waits out a restart, `serve` answers 503 within a second or two.
    pub async fn connect_with(url: &str, patience: Duration) -> Result<PgCatalog, CatalogError> {
        let mut config: Config =
            url.parse().map_err(|e| CatalogError::db(format!("catalog URL {}", redact(url)), e))?;
        if config.get_connect_timeout().is_none() {
            // A server that drops packets must not hold a caller longer than its patience.
            config.connect_timeout(patience.clamp(Duration::from_secs(1), Duration::from_secs(10)));
        }
        let shown = redact(url);
        let client =
            connect(&config).await.map_err(|e| CatalogError::db(format!("connecting to {shown}"), describe(&e)))?;
        let cat = PgCatalog {
            config,
            shown,
            sessions: std::iter::once(Mutex::new(Some(client)))
                .chain((1..STATEMENT_SESSIONS).map(|_| Mutex::new(None)))
                .collect(),
            next: std::sync::atomic::AtomicUsize::new(0),
            patience,
            idle_lease_sessions: IdleSessions::default(),
        };
        cat.migrate().await?;
        Ok(cat)
    }

    /// Runs `f` on the connection; a lost connection is re-established and `f` retried.
    /// A free statement session, or the next one's turn when all are busy. The first is
    /// preferred, so a single command (or the server between bursts) keeps to one.
    async fn session(&self) -> tokio::sync::MutexGuard<'_, Option<Client>> {
        if let Some(free) = self.sessions.iter().find_map(|s| s.try_lock().ok()) {
            return free;
        }
        let turn = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % self.sessions.len();
        self.sessions[turn].lock().await
    }

    async fn run<T: Send>(
        &self,
        what: &str,
        f: impl for<'c> Fn(&'c mut Client) -> BoxFuture<'c, Result<T, tokio_postgres::Error>> + Send + Sync,
    ) -> Result<T, CatalogError> {
        let mut attempt = 0;
        let deadline = std::time::Instant::now() + self.patience;
        let patient = |attempt: u32| std::time::Instant::now() + backoff(attempt) < deadline;
        loop {
            attempt += 1;
            let mut guard = self.session().await;
            if guard.as_ref().is_none_or(Client::is_closed) {
                match connect(&self.config).await {
                    Ok(c) => *guard = Some(c),
                    Err(_) if patient(attempt) => {
                        drop(guard);
                        tokio::time::sleep(backoff(attempt)).await;
                        continue;
                    }
                    Err(e) => {
                        return Err(CatalogError::db(format!("{what}: connecting to {}", self.shown), describe(&e)));
                    }
                }
            }
            let client = guard.as_mut().expect("connected above");
            match f(client).await {
                Ok(v) => return Ok(v),
                Err(e) if connection_lost(&e) && patient(attempt) => {
                    *guard = None;
                    drop(guard);
                    tracing::warn!(catalog = %self.shown, error = %describe(&e), "catalog connection lost; reconnecting");
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(e) => return Err(pg(what)(e)),
            }
        }
    }

    async fn migrate(&self) -> Result<(), CatalogError> {
        self.run("applying migrations", |c| {
            Box::pin(async move {
                let tx = c.transaction().await?;
                tx.execute("SELECT pg_advisory_xact_lock(hashtextextended('ontofetch:migrations', 0))", &[]).await?;
                tx.batch_execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                )
                .await?;
                let current: i64 =
                    tx.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[]).await?.get(0);
                for m in MIGRATIONS.iter().filter(|m| m.version > current) {
                    tx.batch_execute(&for_postgres(m.sql)).await?;
                    tx.execute("INSERT INTO schema_migrations (version) VALUES ($1)", &[&m.version]).await?;
                }
                tx.commit().await
            })
        })
        .await
    }

    async fn versions_where(
        &self,
        what: &str,
        sql: String,
        args: Vec<Box<dyn tokio_postgres::types::ToSql + Send + Sync>>,
    ) -> Result<Vec<VersionRow>, CatalogError> {
        let shared = std::sync::Arc::new((sql, args));
        self.run(what, move |c| {
            let shared = shared.clone();
            Box::pin(async move {
                let (sql, args) = &*shared;
                let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
                    args.iter().map(|a| a.as_ref() as &(dyn tokio_postgres::types::ToSql + Sync)).collect();
                Ok(c.query(sql.as_str(), &refs).await?.iter().map(row_to_version).collect())
            })
        })
        .await
    }
}

/// A catalog URL without its secrets, for messages and reports: host, port, user and
/// database only, read with the driver's own parser (docs/architecture.md, "Secrets").
pub fn redact(url: &str) -> String {
    ontofetch_config::secret::redact_url(url)
}

/// A lease: a session of its own holding an advisory lock; dropping it ends the session.
/// Takes the advisory lock of `key` on `client`'s session, if free.
async fn try_lock(client: &Client, key: &str) -> Result<bool, tokio_postgres::Error> {
    client.query_one(&format!("SELECT pg_try_advisory_lock({LOCK_KEY})"), &[&key]).await.map(|r| r.get(0))
}

/// A held lease: its session, and where the session goes when the lease is let go.
struct PgLease {
    client: Option<Client>,
    key: String,
    idle: IdleSessions,
}

impl Drop for PgLease {
    /// Unlocks and keeps the session for the next lease. Without a runtime to unlock on (or
    /// when the unlock fails) the session is closed, which releases the lock just as well.
    fn drop(&mut self) {
        let Some(client) = self.client.take() else { return };
        let Ok(rt) = tokio::runtime::Handle::try_current() else { return };
        let (key, idle) = (std::mem::take(&mut self.key), self.idle.clone());
        rt.spawn(async move {
            let unlocked = client.query_one(&format!("SELECT pg_advisory_unlock({LOCK_KEY})"), &[&key]).await;
            if unlocked.is_ok() && !client.is_closed() {
                let mut idle = idle.lock().unwrap_or_else(|p| p.into_inner());
                if idle.len() < MAX_IDLE_LEASE_SESSIONS {
                    idle.push(client);
                }
            }
        });
    }
}

/// An `imports` row (`ontology, version, iri, target, status, code`).
fn import_edge(r: &tokio_postgres::Row) -> ImportEdge {
    ImportEdge {
        ontology: r.get(0),
        version: r.get(1),
        iri: r.get(2),
        target: r.get(3),
        status: crate::ImportStatus::parse(r.get(4)),
        code: r.get(5),
    }
}

#[async_trait]
impl Catalog for PgCatalog {
    fn url(&self) -> String {
        self.shown.clone()
    }

    async fn schema_version(&self) -> Result<i64, CatalogError> {
        self.run("reading the schema version", |c| {
            Box::pin(async move { Ok(c.query_one("SELECT MAX(version) FROM schema_migrations", &[]).await?.get(0)) })
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
        check_commit(&CommitFacts {
            what: &format!("{}/{}", row.ontology, row.version),
            blob_durable,
            in_transaction: true,
        })?;
        let what = format!("recording {}/{}", row.ontology, row.version);
        let owned = std::sync::Arc::new((row.clone(), artifacts.to_vec()));
        let outcome = self
            .run(&what, |c| {
                let owned = owned.clone();
                Box::pin(async move {
                    let (row, artifacts) = &*owned;
                    let tx = c.transaction().await?;
                    // Records of one ontology are serialised, so two workers that both lost
                    // their lease (a restart) cannot store the same bytes under two names.
                    tx.execute("SELECT pg_advisory_xact_lock(hashtextextended('ontofetch:record:' || $1, 0))", &[&row.ontology])
                        .await?;
                    // The fencing token, checked in the transaction that writes the rows
                    // (the row lock keeps a new lease from issuing one meanwhile).
                    if let Some(token) = fence {
                        let current: i64 = tx
                            .query_opt("SELECT epoch FROM lease_epochs WHERE ontology = $1 FOR SHARE", &[&row.ontology])
                            .await?
                            .map(|r| r.get(0))
                            .unwrap_or(0);
                        if current as u64 != token {
                            tx.rollback().await?;
                            return Ok(Seen::Fenced(current as u64));
                        }
                    }
                    if let Some(existing) = tx
                        .query_opt("SELECT sha256 FROM versions WHERE ontology = $1 AND version = $2", &[&row.ontology, &row.version])
                        .await?
                    {
                        tx.rollback().await?;
                        return Ok(Seen::Existing(existing.get(0)));
                    }
                    if let Some(twin) = tx
                        .query_opt("SELECT version FROM versions WHERE ontology = $1 AND sha256 = $2 LIMIT 1", &[&row.ontology, &row.sha256])
                        .await?
                    {
                        tx.rollback().await?;
                        return Ok(Seen::Twin(twin.get(0)));
                    }
                    tx.execute(
                        &format!("INSERT INTO versions ({VERSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"),
                        &[
                            &row.ontology, &row.version, &row.resolver, &row.url, &row.sha256, &(row.bytes as i64),
                            &row.filename, &row.relpath, &row.content_type, &row.etag, &row.last_modified,
                            &row.license, &row.downloaded_at, &row.verdict.as_str(),
                        ],
                    )
                    .await?;
                    for a in artifacts {
                        tx.execute(
                            UPSERT_ARTIFACT,
                            &[&a.relpath, &row.ontology, &row.version, &a.sha256, &(a.bytes as i64), &a.kind],
                        )
                        .await?;
                    }
                    tx.commit().await?;
                    Ok(Seen::Inserted)
                })
            })
            .await?;
        match outcome {
            Seen::Inserted => Ok(Recorded::Inserted),
            Seen::Fenced(current) => {
                Err(CatalogError::Fenced { ontology: row.ontology.clone(), token: fence.unwrap_or_default(), current })
            }
            Seen::Existing(sha) if sha == row.sha256 => Ok(Recorded::AlreadyPresent),
            Seen::Existing(_) => {
                Err(CatalogError::Conflict { ontology: row.ontology.clone(), version: row.version.clone() })
            }
            Seen::Twin(version) => Ok(Recorded::Duplicate(version)),
        }
    }

    async fn latest(&self, ontology: &str) -> Result<Option<VersionRow>, CatalogError> {
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM versions v WHERE ontology = $1 AND {MAY_BE_LATEST} {LATEST_ORDER} LIMIT 1"
        );
        Ok(self.versions_where("reading the latest version", sql, vec![Box::new(ontology.to_string())]).await?.pop())
    }

    async fn version(&self, ontology: &str, version: &str) -> Result<Option<VersionRow>, CatalogError> {
        let sql = format!("SELECT {VERSION_COLUMNS} FROM versions WHERE ontology = $1 AND version = $2");
        let args: Vec<Box<dyn tokio_postgres::types::ToSql + Send + Sync>> =
            vec![Box::new(ontology.to_string()), Box::new(version.to_string())];
        Ok(self.versions_where("reading a version", sql, args).await?.pop())
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
        let what = format!("revising {ontology}/{version}");
        let owned =
            std::sync::Arc::new((ontology.to_string(), version.to_string(), artifacts.to_vec(), validations.to_vec()));
        let updated = self
            .run(&what, |c| {
                let owned = owned.clone();
                Box::pin(async move {
                    let (ontology, version, artifacts, validations) = &*owned;
                    let tx = c.transaction().await?;
                    let n = tx
                        .execute(
                            "UPDATE versions SET verdict = $3 WHERE ontology = $1 AND version = $2",
                            &[ontology, version, &verdict.as_str()],
                        )
                        .await?;
                    if n == 0 {
                        tx.rollback().await?;
                        return Ok(false);
                    }
                    for a in artifacts {
                        tx.execute(
                            UPSERT_ARTIFACT,
                            &[&a.relpath, ontology, version, &a.sha256, &(a.bytes as i64), &a.kind],
                        )
                        .await?;
                    }
                    for r in validations {
                        tx.execute(
                            UPSERT_VALIDATION,
                            &[ontology, version, &r.validator, &r.result.as_str(), &r.details, &r.run_at],
                        )
                        .await?;
                    }
                    tx.commit().await?;
                    Ok(true)
                })
            })
            .await?;
        if !updated {
            return Err(CatalogError::db(what, "the version is not recorded"));
        }
        Ok(())
    }

    async fn latest_all(&self) -> Result<Vec<VersionRow>, CatalogError> {
        let sql = format!("SELECT {VERSION_COLUMNS} FROM versions v WHERE {LATEST_ONLY} ORDER BY ontology");
        self.versions_where("listing latest versions", sql, vec![]).await
    }

    async fn versions(&self, ontology: Option<&str>, limit: u32) -> Result<Vec<VersionRow>, CatalogError> {
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM versions WHERE (CAST($1 AS TEXT) IS NULL OR ontology = $1) {NEWEST_FIRST} LIMIT $2"
        );
        self.versions_where(
            "listing versions",
            sql,
            vec![Box::new(ontology.map(str::to_string)), Box::new(i64::from(limit))],
        )
        .await
    }

    async fn find_by_sha(&self, ontology: &str, sha256: &str) -> Result<Option<VersionRow>, CatalogError> {
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM versions WHERE ontology = $1 AND sha256 = $2 {NEWEST_FIRST} LIMIT 1"
        );
        let args: Vec<Box<dyn tokio_postgres::types::ToSql + Send + Sync>> =
            vec![Box::new(ontology.to_string()), Box::new(sha256.to_string())];
        Ok(self.versions_where("looking up a digest", sql, args).await?.pop())
    }

    async fn artifacts(&self, ontology: &str, version: &str) -> Result<Vec<ArtifactRow>, CatalogError> {
        let (ontology, version) = (ontology.to_string(), version.to_string());
        let rows = self
            .run("listing artifacts", |c| {
                let (ontology, version) = (ontology.clone(), version.clone());
                Box::pin(async move {
                    let rows = c
                        .query(
                            "SELECT relpath, sha256, bytes, kind FROM artifacts WHERE ontology = $1 AND version = $2 ORDER BY relpath",
                            &[&ontology, &version],
                        )
                        .await?;
                    Ok(rows
                        .iter()
                        .map(|r| ArtifactRow {
                            relpath: r.get(0),
                            sha256: r.get(1),
                            bytes: r.get::<_, i64>(2) as u64,
                            kind: r.get(3),
                        })
                        .collect::<Vec<_>>())
                })
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
        let owned = std::sync::Arc::new((ontology.to_string(), version.to_string(), rows.to_vec()));
        self.run("recording validations", |c| {
            let owned = owned.clone();
            Box::pin(async move {
                let (ontology, version, rows) = &*owned;
                let tx = c.transaction().await?;
                for r in rows {
                    tx.execute(
                        UPSERT_VALIDATION,
                        &[&ontology, &version, &r.validator, &r.result.as_str(), &r.details, &r.run_at],
                    )
                    .await?;
                }
                tx.commit().await
            })
        })
        .await
    }

    async fn validations(&self, ontology: &str, version: &str) -> Result<Vec<ValidationRow>, CatalogError> {
        let (ontology, version) = (ontology.to_string(), version.to_string());
        self.run("listing validations", |c| {
            let (ontology, version) = (ontology.clone(), version.clone());
            Box::pin(async move {
                let rows = c
                    .query(
                        "SELECT validator, result, details, run_at FROM validations WHERE ontology = $1 AND version = $2 ORDER BY validator",
                        &[&ontology, &version],
                    )
                    .await?;
                Ok(rows
                    .iter()
                    .map(|r| ValidationRow {
                        validator: r.get(0),
                        result: crate::ValidationResult::parse(r.get(1)),
                        details: r.get(2),
                        run_at: r.get(3),
                    })
                    .collect())
            })
        })
        .await
    }

    async fn all_artifacts(&self) -> Result<Vec<(String, String, ArtifactRow)>, CatalogError> {
        self.artifacts_of(None).await
    }

    async fn ontology_artifacts(&self, ontology: &str) -> Result<Vec<(String, ArtifactRow)>, CatalogError> {
        Ok(self.artifacts_of(Some(ontology)).await?.into_iter().map(|(_, v, a)| (v, a)).collect())
    }

    async fn latest_validations(&self) -> Result<Vec<(String, ValidationRow)>, CatalogError> {
        self.run("listing latest validations", |c| {
            Box::pin(async move {
                let rows = c
                    .query(
                        &format!(
                            "SELECT l.ontology, l.validator, l.result, l.details, l.run_at FROM validations l
                             JOIN versions v ON v.ontology = l.ontology AND v.version = l.version
                             WHERE {LATEST_ONLY} ORDER BY l.ontology, l.validator"
                        ),
                        &[],
                    )
                    .await?;
                Ok(rows
                    .iter()
                    .map(|r| {
                        (
                            r.get::<_, String>(0),
                            ValidationRow {
                                validator: r.get(1),
                                result: crate::ValidationResult::parse(r.get(2)),
                                details: r.get(3),
                                run_at: r.get(4),
                            },
                        )
                    })
                    .collect())
            })
        })
        .await
    }

    async fn remove_version(&self, ontology: &str, version: &str) -> Result<(), CatalogError> {
        let (ontology, version) = (ontology.to_string(), version.to_string());
        self.run("removing a version", |c| {
            let (ontology, version) = (ontology.clone(), version.clone());
            Box::pin(async move {
                let tx = c.transaction().await?;
                for table in ["validations", "diffs", "imports", "artifacts", "versions"] {
                    tx.execute(
                        &format!("DELETE FROM {table} WHERE ontology = $1 AND version = $2"),
                        &[&ontology, &version],
                    )
                    .await?;
                }
                tx.commit().await
            })
        })
        .await
    }

    async fn stats(&self) -> Result<Stats, CatalogError> {
        self.run("computing stats", |c| {
            Box::pin(async move {
                let r = c
                    .query_one(
                        "SELECT (SELECT COUNT(DISTINCT ontology) FROM versions), (SELECT COUNT(*) FROM versions), (SELECT COUNT(*) FROM artifacts), (SELECT COALESCE(SUM(bytes), 0)::BIGINT FROM artifacts)",
                        &[],
                    )
                    .await?;
                Ok(Stats {
                    ontologies: r.get::<_, i64>(0) as u64,
                    versions: r.get::<_, i64>(1) as u64,
                    artifacts: r.get::<_, i64>(2) as u64,
                    bytes: r.get::<_, i64>(3) as u64,
                })
            })
        })
        .await
    }

    async fn record_event(&self, e: &PullEvent) -> Result<(), CatalogError> {
        let e = std::sync::Arc::new((e.clone(), crate::retention_cutoff()));
        self.run("recording a pull event", |c| {
            let e = e.clone();
            Box::pin(async move {
                let (e, cutoff) = &*e;
                let tx = c.transaction().await?;
                tx.execute(
                    "INSERT INTO pull_events (ontology, at, status, code, message, worker) VALUES ($1, $2, $3, $4, $5, $6)",
                    &[&e.ontology, &e.at, &e.status.as_str(), &e.code, &e.message, &e.worker],
                )
                .await?;
                tx.execute("DELETE FROM pull_events WHERE at < $1", &[cutoff]).await?;
                tx.commit().await
            })
        })
        .await
    }

    async fn events(&self, ontology: Option<&str>, since: &str, limit: u32) -> Result<Vec<PullEvent>, CatalogError> {
        let args = std::sync::Arc::new((ontology.map(str::to_string), since.to_string(), i64::from(limit)));
        self.run("listing pull events", |c| {
            let args = args.clone();
            Box::pin(async move {
                let (ontology, since, limit) = &*args;
                let rows = c
                    .query(
                        "SELECT ontology, at, status, code, message, worker FROM pull_events
                         WHERE ($1::TEXT IS NULL OR ontology = $1) AND at >= $2 ORDER BY at DESC LIMIT $3",
                        &[ontology, since, limit],
                    )
                    .await?;
                Ok(rows
                    .iter()
                    .map(|r| PullEvent {
                        ontology: r.get(0),
                        at: r.get(1),
                        status: crate::PullStatus::parse(r.get(2)),
                        code: r.get(3),
                        message: r.get(4),
                        worker: r.get(5),
                    })
                    .collect())
            })
        })
        .await
    }

    async fn record_diff(&self, d: &DiffRow) -> Result<(), CatalogError> {
        let d = std::sync::Arc::new(d.clone());
        self.run("recording a diff", |c| {
            let d = d.clone();
            Box::pin(async move {
                c.execute(
                    "INSERT INTO diffs (ontology, version, previous, summary) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (ontology, version) DO UPDATE SET previous = excluded.previous, summary = excluded.summary",
                    &[&d.ontology, &d.version, &d.previous, &d.summary],
                )
                .await
                .map(drop)
            })
        })
        .await
    }

    async fn record_imports(&self, ontology: &str, version: &str, edges: &[ImportEdge]) -> Result<(), CatalogError> {
        let all = std::sync::Arc::new((ontology.to_string(), version.to_string(), edges.to_vec()));
        self.run("recording import edges", |c| {
            let all = all.clone();
            Box::pin(async move {
                let (ontology, version, edges) = &*all;
                let tx = c.transaction().await?;
                tx.execute("DELETE FROM imports WHERE ontology = $1 AND version = $2", &[ontology, version]).await?;
                for e in edges {
                    tx.execute(
                        "INSERT INTO imports (ontology, version, iri, target, status, code) VALUES ($1, $2, $3, $4, $5, $6)
                         ON CONFLICT (ontology, version, iri) DO NOTHING",
                        &[ontology, version, &e.iri, &e.target, &e.status.as_str(), &e.code],
                    )
                    .await?;
                }
                tx.commit().await
            })
        })
        .await
    }

    async fn latest_imports(&self) -> Result<Vec<ImportEdge>, CatalogError> {
        self.run("listing latest import edges", |c| {
            Box::pin(async move {
                let rows = c
                    .query(
                        &format!(
                            "SELECT l.ontology, l.version, l.iri, l.target, l.status, l.code FROM imports l
                             JOIN versions v ON v.ontology = l.ontology AND v.version = l.version
                             WHERE {LATEST_ONLY} ORDER BY l.ontology, l.iri"
                        ),
                        &[],
                    )
                    .await?;
                Ok(rows.iter().map(import_edge).collect())
            })
        })
        .await
    }

    async fn imports(&self, ontology: &str, version: &str) -> Result<Vec<ImportEdge>, CatalogError> {
        let (ontology, version) = (ontology.to_string(), version.to_string());
        self.run("reading import edges", |c| {
            let (ontology, version) = (ontology.clone(), version.clone());
            Box::pin(async move {
                let rows = c
                    .query(
                        "SELECT ontology, version, iri, target, status, code FROM imports
                         WHERE ontology = $1 AND version = $2 ORDER BY iri",
                        &[&ontology, &version],
                    )
                    .await?;
                Ok(rows.iter().map(import_edge).collect())
            })
        })
        .await
    }

    async fn diff(&self, ontology: &str, version: &str) -> Result<Option<DiffRow>, CatalogError> {
        let (ontology, version) = (ontology.to_string(), version.to_string());
        self.run("reading a diff", |c| {
            let (ontology, version) = (ontology.clone(), version.clone());
            Box::pin(async move {
                let row = c
                    .query_opt(
                        "SELECT ontology, version, previous, summary FROM diffs WHERE ontology = $1 AND version = $2",
                        &[&ontology, &version],
                    )
                    .await?;
                Ok(row.map(|r| DiffRow {
                    ontology: r.get(0),
                    version: r.get(1),
                    previous: r.get(2),
                    summary: r.get(3),
                }))
            })
        })
        .await
    }

    async fn try_lease(&self, ontology: &str) -> Result<Option<Lease>, CatalogError> {
        // A session of its own: the lock lives as long as it (a killed worker's goes with it).
        // One that held an earlier lease and let go of it is reused.
        let pooled = {
            let mut idle = self.idle_lease_sessions.lock().unwrap_or_else(|p| p.into_inner());
            std::iter::from_fn(|| idle.pop()).find(|c| !c.is_closed())
        };
        let key = format!("ontofetch:lease:{ontology}");
        // A pooled session that went stale (the server restarted) is replaced by a new one.
        let (client, held) = match pooled {
            Some(c) => match try_lock(&c, &key).await {
                Ok(held) => (c, held),
                Err(_) => {
                    let c = self.lease_session().await?;
                    let held = try_lock(&c, &key).await.map_err(pg(format!("taking the lease of {ontology}")))?;
                    (c, held)
                }
            },
            None => {
                let c = self.lease_session().await?;
                let held = try_lock(&c, &key).await.map_err(pg(format!("taking the lease of {ontology}")))?;
                (c, held)
            }
        };
        if !held {
            let mut idle = self.idle_lease_sessions.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < MAX_IDLE_LEASE_SESSIONS {
                idle.push(client);
            }
            return Ok(None);
        }
        // The next fencing token, issued on the lease's own session once the lock is held.
        let token: i64 = match client
            .query_one(
                "INSERT INTO lease_epochs (ontology, epoch) VALUES ($1, 1)
                 ON CONFLICT (ontology) DO UPDATE SET epoch = lease_epochs.epoch + 1 RETURNING epoch",
                &[&ontology],
            )
            .await
        {
            Ok(r) => r.get(0),
            Err(e) => return Err(pg(format!("issuing a fencing token for {ontology}"))(e)),
        };
        Ok(Some(Lease::new(
            PgLease { client: Some(client), key, idle: self.idle_lease_sessions.clone() },
            token as u64,
        )))
    }

    async fn fence_token(&self, ontology: &str) -> Result<u64, CatalogError> {
        let ontology = ontology.to_string();
        let epoch: Option<i64> = self
            .run("reading the fencing token", |c| {
                let ontology = ontology.clone();
                Box::pin(async move {
                    Ok(c.query_opt("SELECT epoch FROM lease_epochs WHERE ontology = $1", &[&ontology])
                        .await?
                        .map(|r| r.get(0)))
                })
            })
            .await?;
        Ok(epoch.unwrap_or(0) as u64)
    }

    async fn reserve_rate(&self, key: &str, per_second: f64) -> Result<Option<Duration>, CatalogError> {
        let interval = 1.0 / per_second.max(1e-6);
        let key = key.to_string();
        let wait: f64 = self
            .run("reserving a request slot", |c| {
                let key = key.clone();
                Box::pin(async move {
                    let r = c
                        .query_one(
                            "INSERT INTO rate_slots (key, tat) VALUES ($1, extract(epoch from clock_timestamp())::float8 + $2)
                             ON CONFLICT (key) DO UPDATE SET tat = GREATEST(rate_slots.tat, extract(epoch from clock_timestamp())::float8) + $2
                             RETURNING tat - $2 - extract(epoch from clock_timestamp())::float8",
                            &[&key, &interval],
                        )
                        .await?;
                    Ok(r.get::<_, f64>(0))
                })
            })
            .await?;
        Ok(Some(Duration::from_secs_f64(wait.max(0.0))))
    }
}
