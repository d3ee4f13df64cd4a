//! The refresh scheduler behind `serve --refresh`: pull every configured ontology at
//! start and then every period, until told to stop. Stopping mid-pull is safe: an
//! unfinished version lives only in its staging directory, removed when the pull is
//! dropped.

use ontofetch_pipeline::{Pipeline, PullObserver};
use std::time::Duration;
use tokio::sync::watch;

/// Pulls every configured ontology now and then every `every`, until `stop` turns true.
pub async fn refresh_loop(p: &Pipeline, every: Duration, observer: &dyn PullObserver, mut stop: watch::Receiver<bool>) {
    loop {
        let specs = p.settings.spec_inputs(&[], None).unwrap_or_default();
        let n = p.settings.concurrent_downloads();
        let results = tokio::select! {
            r = ontofetch_pipeline::imports::pull_with_imports(p, &specs, observer, n, false) => r,
            _ = stop.changed() => return,
        };
        let failed = results.iter().filter(|r| r.is_failure()).count();
        tracing::info!(target: "ontofetch::serve", ontologies = results.len(), failed, "refresh finished");
        if let Some(Err(e)) = ontofetch_pipeline::tlog::publish_signed(p).await {
            tracing::error!(target: "ontofetch::serve", code = %e.code, error = %e.message, "the transparency log was not published");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {},
            _ = stop.changed() => return,
        }
    }
}
