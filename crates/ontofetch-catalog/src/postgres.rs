//! The shared catalog on PostgreSQL: the same schema and migrations as SQLite (one list;
//! `INTEGER` widens to `BIGINT`), the same queries with `$n` parameters, transactions through
//! the db_boundary gate. Leases are session advisory locks on a connection of their own (a
//! worker that dies drops its connection and its leases). Request slots shared by every
//! worker live in `rate_slots`, timed by the database's clock. A lost connection (a
//! restart, a network blip) is re-established and the statement retried a few times.

use crate::engine::Engine;
use crate::migrations::{MIGRATIONS, for_postgres};
use crate::sql::{self, Answer, Arg, Cell, Cells, Dialect, Step, Stop};
use crate::{CatalogError, Lease};
use async_trait::async_trait;
use futures_util::future::BoxFuture;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Client, Config, GenericClient, NoTls, Row};

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

impl ToSql for Arg {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut tokio_postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Arg::Null => Ok(IsNull::Yes),
            Arg::Text(s) => s.to_sql(ty, out),
            Arg::Int(n) => n.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <String as ToSql>::accepts(ty) || <i64 as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

/// A row's cells as the backend-neutral type (the catalog's columns are text, 64-bit
/// integers and, for request slots, floats).
fn cells(r: &Row) -> Result<Cells, tokio_postgres::Error> {
    let mut out = Vec::with_capacity(r.len());
    for (i, col) in r.columns().iter().enumerate() {
        out.push(match *col.type_() {
            Type::INT8 => r.try_get::<_, Option<i64>>(i)?.map_or(Cell::Null, Cell::Int),
            Type::INT4 => r.try_get::<_, Option<i32>>(i)?.map_or(Cell::Null, |n| Cell::Int(n.into())),
            Type::FLOAT8 => r.try_get::<_, Option<f64>>(i)?.map_or(Cell::Null, Cell::Real),
            _ => r.try_get::<_, Option<String>>(i)?.map_or(Cell::Null, Cell::Text),
        });
    }
    Ok(Cells(out))
}

/// Runs one statement on a session or a transaction.
async fn run_on(
    c: &impl GenericClient,
    sql_text: &'static str,
    args: &[Arg],
    query: bool,
) -> Result<Answer, tokio_postgres::Error> {
    let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
    if query {
        let rows = c.query(sql_text, &params).await?;
        Ok(Answer::Rows(rows.iter().map(cells).collect::<Result<_, _>>()?))
    } else {
        Ok(Answer::Changed(c.execute(sql_text, &params).await?))
    }
}

/// How a transaction ended: committed, or stopped by a guard (or a guard's own error).
enum Ended {
    Done(Option<Stop>),
    Refused(CatalogError),
}

/// A 64-bit advisory lock key for a name (stable across processes and machines).
const LOCK_KEY: &str = "hashtextextended($1, 0)";

impl PgCatalog {
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

    /// Lease sessions kept for the next lease (a dropped lease's session is unlocked and
    /// kept in the background, so this grows shortly after the drop).
    pub fn idle_lease_sessions(&self) -> usize {
        self.idle_lease_sessions.lock().unwrap_or_else(|p| p.into_inner()).len()
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

#[async_trait]
impl Engine for PgCatalog {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn shown(&self) -> String {
        self.shown.clone()
    }

    async fn rows(&self, what: &str, sql_text: &'static str, args: Vec<Arg>) -> Result<Vec<Cells>, CatalogError> {
        let args = std::sync::Arc::new(args);
        self.run(what, |c| {
            let args = args.clone();
            Box::pin(async move {
                match run_on(&*c, sql_text, &args, true).await? {
                    Answer::Rows(rows) => Ok(rows),
                    Answer::Changed(_) => Ok(Vec::new()),
                }
            })
        })
        .await
    }

    /// `serialise` is a transaction-scoped advisory lock: two workers' records of one
    /// ontology (both having lost their leases in a restart) never interleave.
    async fn transact(
        &self,
        what: &str,
        serialise: Option<String>,
        steps: Vec<Step>,
    ) -> Result<Option<Stop>, CatalogError> {
        let shared = std::sync::Arc::new((serialise, steps));
        let ended = self
            .run(what, |c| {
                let shared = shared.clone();
                Box::pin(async move {
                    let (serialise, steps) = &*shared;
                    let tx = c.transaction().await?;
                    if let Some(key) = serialise {
                        tx.execute(&format!("SELECT pg_advisory_xact_lock({LOCK_KEY})"), &[key]).await?;
                    }
                    for step in steps {
                        let answer = run_on(&tx, step.sql, &step.args, step.query).await?;
                        match step.guard.as_ref().map(|g| g(&answer)).transpose() {
                            Ok(None | Some(None)) => {}
                            Ok(Some(Some(stop))) => {
                                tx.rollback().await?;
                                return Ok(Ended::Done(Some(stop)));
                            }
                            Err(e) => {
                                tx.rollback().await?;
                                return Ok(Ended::Refused(e));
                            }
                        }
                    }
                    tx.commit().await?;
                    Ok(Ended::Done(None))
                })
            })
            .await?;
        match ended {
            Ended::Done(stop) => Ok(stop),
            Ended::Refused(e) => Err(e),
        }
    }

    async fn take_lease(&self, ontology: &str) -> Result<Option<Lease>, CatalogError> {
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
        let token: i64 = match client.query_one(sql::NEXT_FENCE_TOKEN, &[&ontology]).await {
            Ok(r) => r.get(0),
            Err(e) => return Err(pg(format!("issuing a fencing token for {ontology}"))(e)),
        };
        Ok(Some(Lease::new(
            PgLease { client: Some(client), key, idle: self.idle_lease_sessions.clone() },
            token as u64,
        )))
    }

    async fn shared_rate(&self, key: &str, per_second: f64) -> Result<Option<Duration>, CatalogError> {
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
