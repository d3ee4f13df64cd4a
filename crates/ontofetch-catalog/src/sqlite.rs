//! The embedded SQLite catalog: one file under the data root, WAL so readers never block
//! the writer, a busy timeout so concurrent processes wait for each other instead of
//! failing, defensive mode and an untrusted schema. Calls run on tokio's blocking pool.
//! The queries themselves are the shared ones ([`crate::engine`]); this file connects,
//! migrates, binds and locks.

use crate::engine::Engine;
use crate::migrations::MIGRATIONS;
use crate::sql::{self, Answer, Arg, Cell, Cells, Dialect, Step, Stop, args};
use crate::{CatalogError, Lease};
use async_trait::async_trait;
use rusqlite::config::DbConfig;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, TransactionBehavior, params};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a statement waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// The SQLite catalog.
#[derive(Clone)]
pub struct SqliteCatalog {
    conn: Arc<Mutex<Connection>>,
    path: PathBuf,
}

fn sql_err(what: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> CatalogError {
    let what = what.into();
    move |e| CatalogError::db(what, e)
}

impl rusqlite::ToSql for Arg {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Arg::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Arg::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Arg::Int(n) => ToSqlOutput::Borrowed(ValueRef::Integer(*n)),
        })
    }
}

/// A row's cells as the backend-neutral type.
fn cells(r: &rusqlite::Row<'_>) -> rusqlite::Result<Cells> {
    let n = r.as_ref().column_count();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(match r.get_ref(i)? {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(n) => Cell::Int(n),
            ValueRef::Real(f) => Cell::Real(f),
            ValueRef::Text(t) | ValueRef::Blob(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
        });
    }
    Ok(Cells(out))
}

/// Runs one statement on `c` (a connection or a transaction) and returns what it answered.
fn run(c: &Connection, what: &str, sql_text: &'static str, args: &[Arg], query: bool) -> Result<Answer, CatalogError> {
    let mut stmt = c.prepare_cached(&Dialect::Sqlite.render(sql_text)).map_err(sql_err(what))?;
    let params = rusqlite::params_from_iter(args.iter());
    if query {
        let rows = stmt.query_map(params, cells).map_err(sql_err(what))?;
        Ok(Answer::Rows(rows.collect::<Result<_, _>>().map_err(sql_err(what))?))
    } else {
        Ok(Answer::Changed(stmt.execute(params).map_err(sql_err(what))? as u64))
    }
}

fn current_version(conn: &Connection) -> Result<i64, CatalogError> {
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')))",
        [],
    )
    .map_err(sql_err("creating schema_migrations"))?;
    conn.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0))
        .map_err(sql_err("reading the schema version"))
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
    let tx =
        conn.transaction_with_behavior(TransactionBehavior::Exclusive).map_err(sql_err("locking for migrations"))?;
    let current = current_version(&tx)?;
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        tx.execute_batch(m.sql).map_err(sql_err(format!("applying migration {} ({})", m.version, m.name)))?;
        tx.execute("INSERT INTO schema_migrations (version) VALUES (?1)", params![m.version])
            .map_err(sql_err("recording a migration"))?;
    }
    tx.commit().map_err(sql_err("committing migrations"))
}

impl SqliteCatalog {
    /// Opens (creating) the catalog file, hardens the connection and applies pending
    /// migrations. Safe when many processes open the same file at once.
    pub fn open(path: &Path) -> Result<Self, CatalogError> {
        let mut conn = Connection::open(path).map_err(sql_err(format!("opening the catalog {}", path.display())))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql_err("setting the busy timeout"))?;
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true).map_err(sql_err("enabling defensive mode"))?;
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)
            .map_err(sql_err("distrusting the schema"))?;
        enable_wal(&conn)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(sql_err("enabling foreign keys"))?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(sql_err("setting synchronous"))?;
        migrate(&mut conn)?;
        Ok(SqliteCatalog { conn: Arc::new(Mutex::new(conn)), path: path.to_path_buf() })
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
        self.conn.lock().unwrap_or_else(|p| p.into_inner()).execute(statement, []).map_err(sql_err("raw statement"))
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
            other => return other.map_err(sql_err("enabling WAL")),
        }
    }
}

#[async_trait]
impl Engine for SqliteCatalog {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn shown(&self) -> String {
        format!("sqlite:{}", self.path.display())
    }

    async fn rows(&self, what: &str, sql_text: &'static str, args: Vec<Arg>) -> Result<Vec<Cells>, CatalogError> {
        let what = what.to_string();
        self.with(move |c| match run(c, &what, sql_text, &args, true)? {
            Answer::Rows(rows) => Ok(rows),
            Answer::Changed(_) => Ok(Vec::new()),
        })
        .await
    }

    /// A write transaction (`BEGIN IMMEDIATE`) takes the file's write lock at once, which
    /// already serialises every record.
    async fn transact(
        &self,
        what: &str,
        _serialise: Option<String>,
        steps: Vec<Step>,
    ) -> Result<Option<Stop>, CatalogError> {
        let what = what.to_string();
        self.with(move |c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(sql_err("starting a transaction"))?;
            for step in &steps {
                let answer = run(&tx, &what, step.sql, &step.args, step.query)?;
                if let Some(stop) = step.guard.as_ref().map(|g| g(&answer)).transpose()?.flatten() {
                    // Dropping the transaction rolls it back.
                    return Ok(Some(stop));
                }
            }
            tx.commit().map_err(sql_err(format!("{what}: committing")))?;
            Ok(None)
        })
        .await
    }

    /// A lock file under `.locks/` beside the catalog, and the next fencing token.
    async fn take_lease(&self, ontology: &str) -> Result<Option<Lease>, CatalogError> {
        let dir = self.path.parent().unwrap_or(Path::new(".")).join(".locks");
        let name = ontology.to_string();
        let what = format!("taking the lease of {ontology} in {}", dir.display());
        let held = tokio::task::spawn_blocking(move || crate::filelock::try_lock(&dir, &name))
            .await
            .map_err(|e| CatalogError::db("taking a lease", e))?
            .map_err(|e| CatalogError::db(what, e))?;
        let Some(held) = held else { return Ok(None) };
        let token = self.rows("issuing a fencing token", sql::NEXT_FENCE_TOKEN, args![ontology]).await?;
        let token = token.first().map(|r| r.count(0)).transpose()?.unwrap_or(0);
        Ok(Some(Lease::new(held, token)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ArtifactRow, Catalog, Recorded, Stats, ValidationRow, VersionRow};
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
        assert_eq!(
            cat.record(&row("bfo", "v1", "b", "t3"), &[], true, None).await.unwrap_err().code().as_str(),
            "E_EXISTS"
        );
        assert_eq!(cat.versions(Some("bfo"), 10).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn boundary_refuses_undurable_commits_and_foreign_paths() {
        let (_d, cat) = open();
        let e = cat.record(&row("bfo", "v1", "a", "t"), &[], false, None).await.unwrap_err();
        assert_eq!(e.code().as_str(), "E_DB_TXN");
        assert!(cat.latest("bfo").await.unwrap().is_none(), "nothing committed");
        let mut bad = row("bfo", "v2", "a", "t");
        bad.relpath = "/etc/passwd".into();
        assert_eq!(cat.record(&bad, &[], true, None).await.unwrap_err().code().as_str(), "E_ABSOLUTE_PATH");
        let art = ArtifactRow {
            relpath: "ontologies/../../x".into(),
            sha256: "a".into(),
            bytes: 1,
            kind: crate::ArtifactKind::Original,
        };
        assert_eq!(
            cat.record(&row("bfo", "v3", "a", "t"), &[art], true, None).await.unwrap_err().code().as_str(),
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
            kind: crate::ArtifactKind::Original,
        };
        cat.record(&row("bfo", "v1", "a", "t"), &[art], true, None).await.unwrap();
        cat.execute_raw("UPDATE artifacts SET relpath = '/etc/shadow'").unwrap();
        assert_eq!(cat.artifacts("bfo", "v1").await.unwrap_err().code().as_str(), "E_ABSOLUTE_PATH");
    }

    #[tokio::test]
    async fn removing_a_version_takes_its_files_and_validations() {
        let (_d, cat) = open();
        let art = ArtifactRow {
            relpath: "ontologies/bfo/v1/x".into(),
            sha256: "a".into(),
            bytes: 1,
            kind: crate::ArtifactKind::Original,
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
