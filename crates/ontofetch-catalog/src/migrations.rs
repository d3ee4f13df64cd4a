//! The catalog schema as one ordered list of migrations, shared by every backend. Each is
//! applied once, in order, inside one transaction, by whichever process gets the
//! migration lock first (docs/architecture.md, "Catalog"). Append only: a released
//! migration never changes, because existing catalogs already ran it.

/// One migration: portable SQL (the PostgreSQL dialect widens `INTEGER` to `BIGINT`).
pub struct Migration {
    /// 1-based version recorded in `schema_migrations`.
    pub version: i64,
    /// What it does.
    pub name: &'static str,
    /// The statements, `;`-separated.
    pub sql: &'static str,
}

/// Every migration, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "versions and artifacts",
        sql: "CREATE TABLE versions (
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
    },
    Migration {
        version: 2,
        name: "validations",
        sql: "CREATE TABLE validations (
        ontology TEXT NOT NULL,
        version TEXT NOT NULL,
        validator TEXT NOT NULL,
        result TEXT NOT NULL,
        details TEXT NOT NULL,
        run_at TEXT NOT NULL,
        PRIMARY KEY (ontology, version, validator),
        FOREIGN KEY (ontology, version) REFERENCES versions (ontology, version) ON DELETE CASCADE
    );",
    },
    Migration {
        version: 3,
        name: "request slots shared by workers",
        sql: "CREATE TABLE rate_slots (key TEXT PRIMARY KEY, tat DOUBLE PRECISION NOT NULL);",
    },
    Migration {
        version: 4,
        name: "pull events and version diffs",
        sql: "CREATE TABLE pull_events (
        ontology TEXT NOT NULL,
        at TEXT NOT NULL,
        status TEXT NOT NULL,
        code TEXT,
        message TEXT,
        worker TEXT
    );
    CREATE INDEX pull_events_by_time ON pull_events (at);
    CREATE INDEX pull_events_by_ontology ON pull_events (ontology, at);
    CREATE TABLE diffs (
        ontology TEXT NOT NULL,
        version TEXT NOT NULL,
        previous TEXT NOT NULL,
        summary TEXT NOT NULL,
        PRIMARY KEY (ontology, version),
        FOREIGN KEY (ontology, version) REFERENCES versions (ontology, version) ON DELETE CASCADE
    );",
    },
    Migration {
        version: 5,
        name: "version verdicts (a release that failed validation is never latest)",
        sql: "ALTER TABLE versions ADD COLUMN verdict TEXT NOT NULL DEFAULT 'valid';",
    },
    Migration {
        version: 6,
        name: "import edges (the closure of owl:imports)",
        sql: "CREATE TABLE imports (
        ontology TEXT NOT NULL,
        version TEXT NOT NULL,
        iri TEXT NOT NULL,
        target TEXT,
        status TEXT NOT NULL,
        code TEXT,
        PRIMARY KEY (ontology, version, iri),
        FOREIGN KEY (ontology, version) REFERENCES versions (ontology, version) ON DELETE CASCADE
    );",
    },
    Migration {
        version: 7,
        name: "lease epochs (fencing tokens: a worker that lost its lease cannot record)",
        sql: "CREATE TABLE lease_epochs (
        ontology TEXT PRIMARY KEY,
        epoch INTEGER NOT NULL
    );",
    },
    Migration {
        version: 8,
        name: "the transparency log's entries (an attestation's index, never reused or removed)",
        sql: "CREATE TABLE log_entries (
        idx INTEGER PRIMARY KEY,
        ontology TEXT NOT NULL,
        version TEXT NOT NULL,
        relpath TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        entry TEXT NOT NULL,
        logged_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX log_entries_by_file ON log_entries (relpath, sha256);
    CREATE INDEX log_entries_by_version ON log_entries (ontology, version);",
    },
];

/// The SQL of a migration in a dialect.
pub fn for_postgres(sql: &str) -> String {
    sql.replace(" INTEGER ", " BIGINT ")
}
