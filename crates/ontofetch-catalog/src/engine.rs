//! The catalog's behaviour, written once over an [`Engine`]: what a backend must do is run
//! one statement, run a transaction of statements (stopping where a guard says so), and
//! hold leases. Every query and every transaction of the [`Catalog`] trait lives here, in
//! the SQL of [`crate::sql`]; SQLite and PostgreSQL differ only in how they connect, lock,
//! migrate and bind.

use crate::sql::{self, Arg, Cells, Dialect, Step, Stop, args};
use crate::{
    ArtifactRow, Catalog, CatalogError, DiffRow, ImportEdge, Lease, LogEntry, PullEvent, Recorded, Stats,
    ValidationRow, Verdict, VersionRow, check_keys, check_read_keys,
};
use async_trait::async_trait;
use ontofetch_policy::db_boundary::{CommitFacts, check_commit};

/// What a backend provides to the one implementation of [`Catalog`].
#[async_trait]
pub(crate) trait Engine: Send + Sync {
    /// The SQL it speaks.
    fn dialect(&self) -> Dialect;

    /// Where the catalog is, without secrets.
    fn shown(&self) -> String;

    /// Runs one statement outside a transaction and returns its rows.
    async fn rows(&self, what: &str, sql: &'static str, args: Vec<Arg>) -> Result<Vec<Cells>, CatalogError>;

    /// Runs `steps` in one write transaction, in order. When a step's guard names a
    /// [`Stop`], the transaction is rolled back and the stop returned; otherwise it commits.
    /// `serialise` names a lock that transactions with the same name take first (records
    /// of one ontology), where the backend's write transactions do not already exclude
    /// each other.
    async fn transact(
        &self,
        what: &str,
        serialise: Option<String>,
        steps: Vec<Step>,
    ) -> Result<Option<Stop>, CatalogError>;

    /// Takes the ontology's lease now, or `None` when another worker holds it.
    async fn take_lease(&self, ontology: &str) -> Result<Option<Lease>, CatalogError>;

    /// See [`Catalog::reserve_rate`].
    async fn shared_rate(&self, _key: &str, _per_second: f64) -> Result<Option<std::time::Duration>, CatalogError> {
        Ok(None)
    }
}

/// The rows of `sql`, each read with `read`.
async fn read_all<E: Engine + ?Sized, T>(
    e: &E,
    what: &str,
    sql: &'static str,
    args: Vec<Arg>,
    read: fn(&Cells) -> Result<T, CatalogError>,
) -> Result<Vec<T>, CatalogError> {
    e.rows(what, sql, args).await?.iter().map(read).collect()
}

/// The first row of `sql`, read with `read`.
async fn read_one<E: Engine + ?Sized, T>(
    e: &E,
    what: &str,
    sql: &'static str,
    args: Vec<Arg>,
    read: fn(&Cells) -> Result<T, CatalogError>,
) -> Result<Option<T>, CatalogError> {
    e.rows(what, sql, args).await?.first().map(read).transpose()
}

/// Fails when a transaction stopped where it should not have.
fn unexpected(what: &str, stop: Option<Stop>) -> Result<(), CatalogError> {
    match stop {
        None => Ok(()),
        Some(Stop::Missing) => Err(CatalogError::db(what, "the version is not recorded")),
        Some(other) => Err(CatalogError::db(what, format!("stopped unexpectedly: {other:?}"))),
    }
}

fn artifact_step(ontology: &str, version: &str, a: &ArtifactRow) -> Step {
    Step::exec(sql::UPSERT_ARTIFACT, args![&a.relpath, ontology, version, &a.sha256, a.bytes, a.kind.as_str()])
}

fn validation_step(ontology: &str, version: &str, r: &ValidationRow) -> Step {
    Step::exec(sql::UPSERT_VALIDATION, args![ontology, version, &r.validator, r.result.as_str(), &r.details, &r.run_at])
}

/// The single text column of a guard query's first row.
fn first_text(rows: &[Cells]) -> Result<Option<String>, CatalogError> {
    rows.first().map(|r| r.text(0)).transpose()
}

#[async_trait]
impl<E: Engine> Catalog for E {
    fn url(&self) -> String {
        self.shown()
    }

    async fn schema_version(&self) -> Result<i64, CatalogError> {
        Ok(read_one(self, "reading the schema version", sql::SCHEMA_VERSION, vec![], |r| r.int(0)).await?.unwrap_or(0))
    }

    async fn record_with(
        &self,
        row: &VersionRow,
        artifacts: &[ArtifactRow],
        validations: &[ValidationRow],
        blob_durable: bool,
        fence: Option<u64>,
    ) -> Result<Recorded, CatalogError> {
        check_keys(row, artifacts)?;
        check_commit(&CommitFacts {
            what: &format!("{}/{}", row.ontology, row.version),
            blob_durable,
            in_transaction: true,
        })?;
        let (id, version) = (row.ontology.as_str(), row.version.as_str());
        let mut steps = Vec::new();
        // The fencing token is checked in the transaction that writes the rows.
        if let Some(token) = fence {
            steps.push(Step::check(self.dialect().fence_read(), args![id], move |rows| {
                let current = rows.first().map(|r| r.count(0)).transpose()?.unwrap_or(0);
                Ok((current != token).then_some(Stop::Fenced(current)))
            }));
        }
        steps.push(Step::check(sql::VERSION_SHA, args![id, version], |rows| Ok(first_text(rows)?.map(Stop::Existing))));
        // Identical bytes never make a second version, whoever chose the name.
        steps.push(Step::check(sql::TWIN, args![id, &row.sha256], |rows| Ok(first_text(rows)?.map(Stop::Twin))));
        steps.push(Step::exec(
            sql::INSERT_VERSION,
            args![
                id,
                version,
                &row.resolver,
                &row.url,
                &row.sha256,
                row.bytes,
                &row.filename,
                &row.relpath,
                &row.content_type,
                &row.etag,
                &row.last_modified,
                &row.license,
                &row.downloaded_at,
                row.verdict.as_str(),
            ],
        ));
        steps.extend(artifacts.iter().map(|a| artifact_step(id, version, a)));
        steps.extend(validations.iter().map(|v| validation_step(id, version, v)));
        // Records of one ontology are serialised, so two workers that both lost their lease
        // (a restart) cannot store the same bytes under two names.
        let what = format!("recording {id}/{version}");
        match self.transact(&what, Some(format!("ontofetch:record:{id}")), steps).await? {
            None => Ok(Recorded::Inserted),
            Some(Stop::Fenced(current)) => {
                Err(CatalogError::Fenced { ontology: id.to_string(), token: fence.unwrap_or_default(), current })
            }
            Some(Stop::Existing(sha)) if sha == row.sha256 => Ok(Recorded::AlreadyPresent),
            Some(Stop::Existing(_)) => {
                Err(CatalogError::Conflict { ontology: id.to_string(), version: version.to_string() })
            }
            Some(Stop::Twin(twin)) => Ok(Recorded::Duplicate(twin)),
            Some(Stop::Missing | Stop::LogMoved(_)) => Err(CatalogError::db(what, "no row was written")),
        }
    }

    async fn fence_token(&self, ontology: &str) -> Result<u64, CatalogError> {
        let token =
            read_one(self, "reading the fencing token", sql::FENCE_TOKEN, args![ontology], |r| r.count(0)).await?;
        Ok(token.unwrap_or(0))
    }

    async fn latest(&self, ontology: &str) -> Result<Option<VersionRow>, CatalogError> {
        read_one(self, "reading the latest version", sql::LATEST, args![ontology], sql::version_row).await
    }

    async fn latest_all(&self) -> Result<Vec<VersionRow>, CatalogError> {
        read_all(self, "listing latest versions", sql::LATEST_ALL, vec![], sql::version_row).await
    }

    async fn version(&self, ontology: &str, version: &str) -> Result<Option<VersionRow>, CatalogError> {
        read_one(self, "reading a version", sql::VERSION, args![ontology, version], sql::version_row).await
    }

    async fn revise(
        &self,
        ontology: &str,
        version: &str,
        verdict: Verdict,
        artifacts: &[ArtifactRow],
        validations: &[ValidationRow],
    ) -> Result<(), CatalogError> {
        check_read_keys(artifacts)?;
        let mut steps = vec![Step::exec_one(sql::SET_VERDICT, args![ontology, version, verdict.as_str()])];
        steps.extend(artifacts.iter().map(|a| artifact_step(ontology, version, a)));
        steps.extend(validations.iter().map(|v| validation_step(ontology, version, v)));
        let what = format!("revising {ontology}/{version}");
        unexpected(&what, self.transact(&what, None, steps).await?)
    }

    async fn versions(&self, ontology: Option<&str>, limit: u32) -> Result<Vec<VersionRow>, CatalogError> {
        read_all(self, "listing versions", sql::VERSIONS, args![ontology, i64::from(limit)], sql::version_row).await
    }

    async fn find_by_sha(&self, ontology: &str, sha256: &str) -> Result<Option<VersionRow>, CatalogError> {
        read_one(self, "looking up a digest", sql::FIND_BY_SHA, args![ontology, sha256], sql::version_row).await
    }

    async fn artifacts(&self, ontology: &str, version: &str) -> Result<Vec<ArtifactRow>, CatalogError> {
        let rows =
            read_all(self, "listing artifacts", sql::ARTIFACTS, args![ontology, version], sql::artifact_row).await?;
        let files: Vec<ArtifactRow> = rows.into_iter().map(|(_, _, a)| a).collect();
        check_read_keys(&files)?;
        Ok(files)
    }

    async fn ontology_artifacts(&self, ontology: &str) -> Result<Vec<(String, ArtifactRow)>, CatalogError> {
        let rows = read_all(self, "listing artifacts", sql::ARTIFACTS_OF, args![ontology], sql::artifact_row).await?;
        check_read_keys(rows.iter().map(|(_, _, a)| a))?;
        Ok(rows.into_iter().map(|(_, v, a)| (v, a)).collect())
    }

    async fn all_artifacts(&self) -> Result<Vec<(String, String, ArtifactRow)>, CatalogError> {
        let rows = read_all(self, "listing artifacts", sql::ARTIFACTS_OF, vec![Arg::Null], sql::artifact_row).await?;
        check_read_keys(rows.iter().map(|(_, _, a)| a))?;
        Ok(rows)
    }

    async fn record_validations(
        &self,
        ontology: &str,
        version: &str,
        rows: &[ValidationRow],
    ) -> Result<(), CatalogError> {
        let steps = rows.iter().map(|v| validation_step(ontology, version, v)).collect();
        unexpected("recording validations", self.transact("recording validations", None, steps).await?)
    }

    async fn validations(&self, ontology: &str, version: &str) -> Result<Vec<ValidationRow>, CatalogError> {
        let rows =
            read_all(self, "listing validations", sql::VALIDATIONS, args![ontology, version], sql::validation_row)
                .await?;
        Ok(rows.into_iter().map(|(_, v)| v).collect())
    }

    async fn latest_validations(&self) -> Result<Vec<(String, ValidationRow)>, CatalogError> {
        read_all(self, "listing latest validations", sql::LATEST_VALIDATIONS, vec![], sql::validation_row).await
    }

    async fn remove_version(&self, ontology: &str, version: &str) -> Result<(), CatalogError> {
        let steps = sql::REMOVE_VERSION.iter().map(|q| Step::exec(q, args![ontology, version])).collect();
        let what = format!("removing {ontology}/{version}");
        unexpected(&what, self.transact(&what, None, steps).await?)
    }

    async fn stats(&self) -> Result<Stats, CatalogError> {
        let read = |r: &Cells| {
            Ok(Stats { ontologies: r.count(0)?, versions: r.count(1)?, artifacts: r.count(2)?, bytes: r.count(3)? })
        };
        read_one(self, "computing stats", sql::STATS, vec![], read)
            .await?
            .ok_or_else(|| CatalogError::db("computing stats", "no row"))
    }

    async fn record_event(&self, e: &PullEvent) -> Result<(), CatalogError> {
        let code = e.code.map(|c| c.as_str());
        let steps = vec![
            Step::exec(sql::INSERT_EVENT, args![&e.ontology, &e.at, e.status.as_str(), code, &e.message, &e.worker]),
            Step::exec(sql::DROP_OLD_EVENTS, args![&crate::retention_cutoff()]),
        ];
        unexpected("recording a pull event", self.transact("recording a pull event", None, steps).await?)
    }

    async fn events(
        &self,
        ontology: Option<&str>,
        since: Option<&str>,
        limit: u32,
    ) -> Result<Vec<PullEvent>, CatalogError> {
        read_all(self, "listing pull events", sql::EVENTS, args![ontology, since, i64::from(limit)], sql::event_row)
            .await
    }

    async fn record_diff(&self, d: &DiffRow) -> Result<(), CatalogError> {
        let steps = vec![Step::exec(sql::UPSERT_DIFF, args![&d.ontology, &d.version, &d.previous, &d.summary])];
        unexpected("recording a diff", self.transact("recording a diff", None, steps).await?)
    }

    async fn diff(&self, ontology: &str, version: &str) -> Result<Option<DiffRow>, CatalogError> {
        read_one(self, "reading a diff", sql::DIFF, args![ontology, version], sql::diff_row).await
    }

    async fn record_imports(&self, ontology: &str, version: &str, edges: &[ImportEdge]) -> Result<(), CatalogError> {
        let mut steps = vec![Step::exec(sql::CLEAR_IMPORTS, args![ontology, version])];
        steps.extend(edges.iter().map(|e| {
            let code = e.code.map(|c| c.as_str());
            Step::exec(sql::INSERT_IMPORT, args![ontology, version, &e.iri, &e.target, e.status.as_str(), code])
        }));
        unexpected("recording import edges", self.transact("recording import edges", None, steps).await?)
    }

    async fn imports(&self, ontology: &str, version: &str) -> Result<Vec<ImportEdge>, CatalogError> {
        read_all(self, "reading import edges", sql::IMPORTS, args![ontology, version], sql::import_row).await
    }

    async fn latest_imports(&self) -> Result<Vec<ImportEdge>, CatalogError> {
        read_all(self, "listing latest import edges", sql::LATEST_IMPORTS, vec![], sql::import_row).await
    }

    async fn log_pending(&self) -> Result<Vec<(String, String, ArtifactRow)>, CatalogError> {
        let rows = read_all(self, "listing attestations to log", sql::LOG_PENDING, vec![], sql::artifact_row).await?;
        check_read_keys(rows.iter().map(|(_, _, a)| a))?;
        Ok(rows)
    }

    async fn log_append(&self, first: u64, entries: &[LogEntry], fence: u64) -> Result<(), CatalogError> {
        let mut steps = vec![
            Step::check(self.dialect().fence_read(), args![crate::LOG_LEASE], move |rows| {
                let current = rows.first().map(|r| r.count(0)).transpose()?.unwrap_or(0);
                Ok((current != fence).then_some(Stop::Fenced(current)))
            }),
            Step::check(sql::LOG_SIZE, vec![], move |rows| {
                let (count, max) = match rows.first() {
                    Some(r) => (r.count(0)?, r.opt_int(1)?),
                    None => (0, None),
                };
                // No gap: indexes 0..count are all there.
                let gapless = max.map_or(count == 0, |m| m + 1 == count as i64);
                Ok((count != first || !gapless).then_some(Stop::LogMoved(count)))
            }),
        ];
        for (i, e) in entries.iter().enumerate() {
            steps.push(Step::exec(
                sql::INSERT_LOG_ENTRY,
                args![first + i as u64, &e.ontology, &e.version, &e.relpath, &e.sha256, &e.entry, &e.logged_at],
            ));
        }
        let what = format!("appending {} entries to the transparency log at {first}", entries.len());
        match self.transact(&what, Some("ontofetch:log".to_string()), steps).await? {
            None => Ok(()),
            Some(Stop::Fenced(current)) => {
                Err(CatalogError::Fenced { ontology: crate::LOG_LEASE.to_string(), token: fence, current })
            }
            Some(Stop::LogMoved(present)) => Err(CatalogError::LogMoved { expected: first, present }),
            other => unexpected(&what, other),
        }
    }

    async fn log_size(&self) -> Result<u64, CatalogError> {
        let n = read_one(self, "counting the log's entries", sql::LOG_SIZE, vec![], |r| r.count(0)).await?;
        Ok(n.unwrap_or(0))
    }

    async fn log_entries(&self, from: u64) -> Result<Vec<LogEntry>, CatalogError> {
        read_all(self, "reading the transparency log", sql::LOG_ENTRIES, args![from], sql::log_row).await
    }

    async fn log_index(&self, ontology: &str, version: &str) -> Result<Option<u64>, CatalogError> {
        let rows = self.rows("reading a log index", sql::LOG_INDEX, args![ontology, version]).await?;
        Ok(rows.first().map(|r| r.opt_int(0)).transpose()?.flatten().map(|n| n.max(0) as u64))
    }

    async fn try_lease(&self, ontology: &str) -> Result<Option<Lease>, CatalogError> {
        Engine::take_lease(self, ontology).await
    }

    async fn reserve_rate(&self, key: &str, per_second: f64) -> Result<Option<std::time::Duration>, CatalogError> {
        Engine::shared_rate(self, key, per_second).await
    }
}
