//! ontofetch's catalog: a SQLite database (WAL, defensive mode, untrusted schema off) that
//! records which versions of which ontologies the store holds. Rows are committed only
//! after their files are durable (the db_boundary gate), and every stored path is a
//! relative store key that is re-validated when read back.

use ontofetch_policy::PathPolicy;
use ontofetch_policy::db_boundary::check_stored_path;
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use std::path::Path;

/// The catalog's error type.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// SQLite failed.
    #[error("E_DB: {what}: {source}")]
    Sqlite {
        /// What we were doing.
        what: String,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// A stored value failed the db_boundary gate.
    #[error(transparent)]
    Boundary(#[from] ontofetch_policy::Refusal),
}

impl CatalogError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            CatalogError::Sqlite { .. } => "E_DB",
            CatalogError::Boundary(r) => r.code.as_str(),
        }
    }
}

fn sql(what: &str) -> impl FnOnce(rusqlite::Error) -> CatalogError + '_ {
    move |source| CatalogError::Sqlite { what: what.to_string(), source }
}

/// Schema migrations, applied in order inside one transaction each. Append only.
const MIGRATIONS: &[&str] = &[
    // 1: versions and artifacts
    "CREATE TABLE versions (
        ontology TEXT NOT NULL,
        version TEXT NOT NULL,
        resolver TEXT NOT NULL,
        url TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        filename TEXT NOT NULL,
        relpath TEXT NOT NULL,
        content_type TEXT,
        etag TEXT,
        last_modified TEXT,
        license TEXT,
        downloaded_at TEXT NOT NULL,
        PRIMARY KEY (ontology, version)
    );
    CREATE INDEX versions_by_sha ON versions (ontology, sha256);
    CREATE TABLE artifacts (
        relpath TEXT PRIMARY KEY,
        ontology TEXT NOT NULL,
        version TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        kind TEXT NOT NULL,
        FOREIGN KEY (ontology, version) REFERENCES versions (ontology, version) ON DELETE CASCADE
    );",
    // 2: validations
    "CREATE TABLE validations (
        ontology TEXT NOT NULL,
        version TEXT NOT NULL,
        validator TEXT NOT NULL,
        result TEXT NOT NULL,
        details TEXT NOT NULL,
        run_at TEXT NOT NULL,
        PRIMARY KEY (ontology, version, validator),
        FOREIGN KEY (ontology, version) REFERENCES versions (ontology, version) ON DELETE CASCADE
    );",
];

/// One stored version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionRow {
    /// Ontology id.
    pub ontology: String,
    /// Version directory name.
    pub version: String,
    /// Resolver that produced it.
    pub resolver: String,
    /// Where the bytes came from (final URL).
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
    /// `original`, `cas`, `manifest`, …
    pub kind: String,
}

/// One validation result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationRow {
    /// Validator key (`rdf`, `obo`, `owl`, or `rdf:<extracted path>`).
    pub validator: String,
    /// `ok`, `failed` or `skipped`.
    pub result: String,
    /// The validator's report (JSON).
    pub details: String,
    /// RFC 3339 time.
    pub run_at: String,
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

/// The catalog connection.
pub struct Catalog {
    conn: Connection,
    paths: PathPolicy,
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
    })
}

const VERSION_COLUMNS: &str = "ontology, version, resolver, url, sha256, bytes, filename, relpath, content_type, etag, last_modified, license, downloaded_at";

impl Catalog {
    /// Opens (creating) the catalog, hardens the connection and applies pending migrations.
    pub fn open(path: &Path) -> Result<Self, CatalogError> {
        let conn = Connection::open(path).map_err(sql("opening the catalog"))?;
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true).map_err(sql("enabling defensive mode"))?;
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false).map_err(sql("distrusting the schema"))?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(sql("setting the busy timeout"))?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(sql("enabling WAL"))?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(sql("enabling foreign keys"))?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(sql("setting synchronous"))?;
        let mut cat = Catalog { conn, paths: PathPolicy::default() };
        cat.migrate()?;
        Ok(cat)
    }

    fn migrate(&mut self) -> Result<(), CatalogError> {
        self.conn
            .execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')))", [])
            .map_err(sql("creating schema_migrations"))?;
        let current: i64 = self
            .conn
            .query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0))
            .map_err(sql("reading the schema version"))?;
        for (i, script) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            let tx = self.conn.transaction().map_err(sql("starting a migration"))?;
            tx.execute_batch(script).map_err(sql(&format!("applying migration {}", i + 1)))?;
            tx.execute("INSERT INTO schema_migrations (version) VALUES (?1)", params![i as i64 + 1])
                .map_err(sql("recording a migration"))?;
            tx.commit().map_err(sql("committing a migration"))?;
        }
        Ok(())
    }

    /// The schema version after migrations.
    pub fn schema_version(&self) -> Result<i64, CatalogError> {
        self.conn
            .query_row("SELECT MAX(version) FROM schema_migrations", [], |r| r.get(0))
            .map_err(sql("reading the schema version"))
    }

    /// Records a promoted version and its files in one transaction. The caller has already
    /// made the files durable; `blob_durable` says so and the db_boundary gate checks it.
    pub fn record(
        &mut self,
        row: &VersionRow,
        artifacts: &[ArtifactRow],
        blob_durable: bool,
    ) -> Result<(), CatalogError> {
        check_stored_path(&self.paths, &row.relpath)?;
        for a in artifacts {
            check_stored_path(&self.paths, &a.relpath)?;
        }
        let tx = self.conn.transaction().map_err(sql("starting a transaction"))?;
        ontofetch_policy::db_boundary::check_commit(&ontofetch_policy::db_boundary::CommitFacts {
            what: &format!("{}/{}", row.ontology, row.version),
            blob_durable,
            in_transaction: true,
        })?;
        tx.execute(
            &format!("INSERT INTO versions ({VERSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
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
                row.downloaded_at
            ],
        )
        .map_err(sql(&format!("recording {}/{}", row.ontology, row.version)))?;
        for a in artifacts {
            tx.execute(
                "INSERT OR REPLACE INTO artifacts (relpath, ontology, version, sha256, bytes, kind) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![a.relpath, row.ontology, row.version, a.sha256, a.bytes as i64, a.kind],
            )
            .map_err(sql(&format!("recording artifact {}", a.relpath)))?;
        }
        tx.commit().map_err(sql("committing"))
    }

    /// The newest version of an ontology by download time (not by name).
    pub fn latest(&self, ontology: &str) -> Result<Option<VersionRow>, CatalogError> {
        self.conn
            .query_row(
                &format!("SELECT {VERSION_COLUMNS} FROM versions WHERE ontology = ?1 ORDER BY downloaded_at DESC, rowid DESC LIMIT 1"),
                params![ontology],
                row_to_version,
            )
            .optional()
            .map_err(sql("reading the latest version"))
    }

    /// The newest version of every ontology.
    pub fn latest_all(&self) -> Result<Vec<VersionRow>, CatalogError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {VERSION_COLUMNS} FROM versions v WHERE rowid = (SELECT rowid FROM versions w WHERE w.ontology = v.ontology ORDER BY downloaded_at DESC, rowid DESC LIMIT 1) ORDER BY ontology"
            ))
            .map_err(sql("listing latest versions"))?;
        let rows = stmt.query_map([], row_to_version).map_err(sql("listing latest versions"))?;
        rows.collect::<Result<_, _>>().map_err(sql("listing latest versions"))
    }

    /// Versions, newest first; all ontologies when `ontology` is `None`.
    pub fn versions(&self, ontology: Option<&str>, limit: u32) -> Result<Vec<VersionRow>, CatalogError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {VERSION_COLUMNS} FROM versions WHERE (?1 IS NULL OR ontology = ?1) ORDER BY downloaded_at DESC, rowid DESC LIMIT ?2"
            ))
            .map_err(sql("listing versions"))?;
        let rows = stmt.query_map(params![ontology, limit], row_to_version).map_err(sql("listing versions"))?;
        rows.collect::<Result<_, _>>().map_err(sql("listing versions"))
    }

    /// The version of an ontology that already holds these exact bytes, if any.
    pub fn find_by_sha(&self, ontology: &str, sha256: &str) -> Result<Option<VersionRow>, CatalogError> {
        self.conn
            .query_row(
                &format!("SELECT {VERSION_COLUMNS} FROM versions WHERE ontology = ?1 AND sha256 = ?2 ORDER BY downloaded_at DESC LIMIT 1"),
                params![ontology, sha256],
                row_to_version,
            )
            .optional()
            .map_err(sql("looking up a digest"))
    }

    /// Files of one version, with their store keys re-validated.
    pub fn artifacts(&self, ontology: &str, version: &str) -> Result<Vec<ArtifactRow>, CatalogError> {
        let mut stmt = self
            .conn
            .prepare("SELECT relpath, sha256, bytes, kind FROM artifacts WHERE ontology = ?1 AND version = ?2 ORDER BY relpath")
            .map_err(sql("listing artifacts"))?;
        let rows: Vec<ArtifactRow> = stmt
            .query_map(params![ontology, version], |r| {
                Ok(ArtifactRow {
                    relpath: r.get(0)?,
                    sha256: r.get(1)?,
                    bytes: r.get::<_, i64>(2)? as u64,
                    kind: r.get(3)?,
                })
            })
            .map_err(sql("listing artifacts"))?
            .collect::<Result<_, _>>()
            .map_err(sql("listing artifacts"))?;
        for a in &rows {
            check_stored_path(&self.paths, &a.relpath)?;
        }
        Ok(rows)
    }

    /// Every artifact key, re-validated (doctor compares these with the files on disk).
    pub fn all_artifact_keys(&self) -> Result<Vec<String>, CatalogError> {
        let mut stmt =
            self.conn.prepare("SELECT relpath FROM artifacts ORDER BY relpath").map_err(sql("listing artifacts"))?;
        let keys: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .map_err(sql("listing artifacts"))?
            .collect::<Result<_, _>>()
            .map_err(sql("listing artifacts"))?;
        for k in &keys {
            check_stored_path(&self.paths, k)?;
        }
        Ok(keys)
    }

    /// Records (or replaces) validation results of a version.
    pub fn record_validations(
        &mut self,
        ontology: &str,
        version: &str,
        rows: &[ValidationRow],
    ) -> Result<(), CatalogError> {
        let tx = self.conn.transaction().map_err(sql("starting a transaction"))?;
        for r in rows {
            tx.execute(
                "INSERT OR REPLACE INTO validations (ontology, version, validator, result, details, run_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![ontology, version, r.validator, r.result, r.details, r.run_at],
            )
            .map_err(sql("recording a validation"))?;
        }
        tx.commit().map_err(sql("committing"))
    }

    /// Validation results of a version.
    pub fn validations(&self, ontology: &str, version: &str) -> Result<Vec<ValidationRow>, CatalogError> {
        let mut stmt = self
            .conn
            .prepare("SELECT validator, result, details, run_at FROM validations WHERE ontology = ?1 AND version = ?2 ORDER BY validator")
            .map_err(sql("listing validations"))?;
        let rows = stmt
            .query_map(params![ontology, version], |r| {
                Ok(ValidationRow { validator: r.get(0)?, result: r.get(1)?, details: r.get(2)?, run_at: r.get(3)? })
            })
            .map_err(sql("listing validations"))?;
        rows.collect::<Result<_, _>>().map_err(sql("listing validations"))
    }

    /// Removes a version's rows (doctor --fix, prune).
    pub fn remove_version(&mut self, ontology: &str, version: &str) -> Result<(), CatalogError> {
        let tx = self.conn.transaction().map_err(sql("starting a transaction"))?;
        tx.execute("DELETE FROM artifacts WHERE ontology = ?1 AND version = ?2", params![ontology, version])
            .map_err(sql("removing artifacts"))?;
        tx.execute("DELETE FROM versions WHERE ontology = ?1 AND version = ?2", params![ontology, version])
            .map_err(sql("removing a version"))?;
        tx.commit().map_err(sql("committing"))
    }

    /// Totals for `db stats`.
    pub fn stats(&self) -> Result<Stats, CatalogError> {
        self.conn
            .query_row(
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn row(id: &str, version: &str, sha: &str, at: &str) -> VersionRow {
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
        }
    }

    fn open() -> (tempfile::TempDir, Catalog) {
        let dir = tempfile::tempdir().unwrap();
        let cat = Catalog::open(&dir.path().join("catalog.sqlite")).unwrap();
        (dir, cat)
    }

    #[test]
    fn latest_is_chosen_by_download_time_not_by_name() {
        let (_d, mut cat) = open();
        cat.record(&row("bfo", "zzz-old", "a", "2024-01-01T00:00:00Z"), &[], true).unwrap();
        cat.record(&row("bfo", "aaa-new", "b", "2025-01-01T00:00:00Z"), &[], true).unwrap();
        assert_eq!(cat.latest("bfo").unwrap().unwrap().version, "aaa-new");
        assert_eq!(cat.find_by_sha("bfo", "a").unwrap().unwrap().version, "zzz-old");
        assert_eq!(cat.versions(Some("bfo"), 10).unwrap().len(), 2);
        assert_eq!(cat.stats().unwrap().versions, 2);
        assert_eq!(cat.schema_version().unwrap(), MIGRATIONS.len() as i64);
    }

    #[test]
    fn boundary_refuses_undurable_commits_and_foreign_paths() {
        let (_d, mut cat) = open();
        let e = cat.record(&row("bfo", "v1", "a", "t"), &[], false).unwrap_err();
        assert_eq!(e.code(), "E_DB_TXN");
        assert!(cat.latest("bfo").unwrap().is_none(), "nothing committed");
        let mut bad = row("bfo", "v2", "a", "t");
        bad.relpath = "/etc/passwd".into();
        assert_eq!(cat.record(&bad, &[], true).unwrap_err().code(), "E_ABSOLUTE_PATH");
        let art =
            ArtifactRow { relpath: "ontologies/../../x".into(), sha256: "a".into(), bytes: 1, kind: "original".into() };
        assert_eq!(cat.record(&row("bfo", "v3", "a", "t"), &[art], true).unwrap_err().code(), "E_TRAVERSAL");
    }

    #[test]
    fn tampered_rows_are_refused_when_read_back() {
        let (_d, mut cat) = open();
        let art = ArtifactRow {
            relpath: "ontologies/bfo/v1/original/x.owl".into(),
            sha256: "a".into(),
            bytes: 1,
            kind: "original".into(),
        };
        cat.record(&row("bfo", "v1", "a", "t"), &[art], true).unwrap();
        cat.conn.execute("UPDATE artifacts SET relpath = '/etc/shadow'", []).unwrap();
        assert_eq!(cat.artifacts("bfo", "v1").unwrap_err().code(), "E_ABSOLUTE_PATH");
    }

    #[test]
    fn reopening_keeps_data_and_does_not_remigrate() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.sqlite");
        Catalog::open(&p).unwrap().record(&row("ro", "v1", "a", "t"), &[], true).unwrap();
        let cat = Catalog::open(&p).unwrap();
        assert_eq!(cat.latest("ro").unwrap().unwrap().version, "v1");
    }

    proptest! {
        /// Untrusted strings (titles, ETags, URLs) round-trip as data, never as SQL.
        #[test]
        fn arbitrary_strings_are_parameters(etag in "\\PC*", url in "\\PC*") {
            let (_d, mut cat) = open();
            let mut r = row("bfo", "v1", "a", "t");
            r.etag = Some(etag.clone());
            r.url = url.clone();
            cat.record(&r, &[], true).unwrap();
            let back = cat.latest("bfo").unwrap().unwrap();
            prop_assert_eq!(back.etag, Some(etag));
            prop_assert_eq!(back.url, url);
            prop_assert_eq!(cat.stats().unwrap().versions, 1);
        }
    }
}
