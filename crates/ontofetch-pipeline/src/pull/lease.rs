//! Step 0, claim: one worker at a time per ontology, across processes and machines (the
//! catalog's lease: a file lock beside a SQLite catalog, an advisory lock in PostgreSQL).
//! The lease is held from download to the catalog row. A worker that finds the lease taken
//! moves on and comes back; when it gets the lease and the ontology was stored by another
//! worker during this run, it reports that version as cached instead of fetching again.

use crate::Pipeline;
use crate::error::PipelineError;
use ontofetch_catalog::{Lease, VersionRow};
use ontofetch_policy::Code;
use std::time::Duration;

/// How long a worker waits for another's lease: a whole download, retries included.
fn patience(p: &Pipeline) -> Duration {
    let h = &p.settings.defaults().http;
    Duration::from_secs_f64(h.download_timeout_sec * f64::from(h.max_retries.max(1)) * 2.0 + 60.0)
}

/// The lease now, or `None` when another worker holds it.
pub(super) async fn try_claim(p: &Pipeline, id: &str) -> Result<Option<Lease>, PipelineError> {
    Ok(p.backends.catalog.try_lease(id).await?)
}

/// The lease, waiting for another worker to finish (`E_LOCKED` past a whole download).
pub(crate) async fn claim(p: &Pipeline, id: &str) -> Result<Lease, PipelineError> {
    let wait = patience(p);
    // Said once, when the wait begins: an operator sees why a run stands still, and a test
    // knows the worker is queued behind the lease (a readiness signal, not a guess).
    tracing::info!(ontology = %id, seconds = wait.as_secs(), "waiting for another worker's lease");
    p.backends.catalog.lease(id, wait).await?.ok_or_else(|| {
        PipelineError::new(Code::Locked, format!("{id} is held by another worker for more than {} s", wait.as_secs()))
    })
}

/// The version another worker stored since `run_started` (RFC 3339), if any.
pub(super) async fn stored_meanwhile(
    p: &Pipeline,
    id: &str,
    run_started: &str,
) -> Result<Option<VersionRow>, PipelineError> {
    Ok(p.backends.catalog.latest(id).await?.filter(|row| row.downloaded_at.as_str() >= run_started))
}

/// The failure another worker met fetching `id` during this run from an upstream that did
/// not answer (network, timeout, an error status), if any: workers running the same set at
/// once back off together instead of each retrying a failing server in turn (3 workers
/// made 15 requests to one failing file). `--force` bypasses it; the next run tries again.
pub(super) async fn failed_meanwhile(
    p: &Pipeline,
    id: &str,
    run_started: &str,
) -> Result<Option<PipelineError>, PipelineError> {
    let Some(last) = p.backends.catalog.events(Some(id), Some(run_started), 1).await?.into_iter().next() else {
        return Ok(None);
    };
    let code = last.code;
    let upstream = matches!(code, Some(Code::Network | Code::HttpStatus | Code::Timeout | Code::Dns));
    if last.status != ontofetch_catalog::PullStatus::Failed || !upstream {
        return Ok(None);
    }
    let who = last.worker.as_deref().unwrap_or("another worker");
    Ok(Some(PipelineError::new(
        code.unwrap_or(Code::Network),
        format!(
            "{who} failed to fetch {id} at {} in this run: {} (not retried by every worker; --force retries)",
            last.at,
            last.message.as_deref().unwrap_or("no message")
        ),
    )))
}

/// The fence a promotion and a record check: the lease this worker took (its token) must
/// still be the ontology's current one (docs/architecture.md, "Fencing").
pub(crate) struct CatalogFence<'a> {
    pub catalog: &'a dyn ontofetch_catalog::Catalog,
    pub id: &'a str,
    pub token: u64,
}

#[async_trait::async_trait]
impl ontofetch_store::Fence for CatalogFence<'_> {
    async fn check(&self) -> Result<(), ontofetch_store::StoreError> {
        match self.catalog.fence_token(self.id).await {
            Ok(current) if current == self.token => Ok(()),
            Ok(current) => Err(ontofetch_store::StoreError::Fenced(format!(
                "the lease on {} was lost (this worker holds token {}, the catalog's is {current}): another worker \
                 took it over, so this one stops before writing more",
                self.id, self.token
            ))),
            Err(e) => Err(ontofetch_store::StoreError::Backend {
                what: format!("checking the lease on {}", self.id),
                message: e.to_string(),
                retryable: true,
            }),
        }
    }

    fn token(&self) -> Option<u64> {
        Some(self.token)
    }
}
