//! A batch's metrics beyond the process: `/metrics` served while a pull runs (`pull
//! --metrics-addr`), and the registry pushed to a Pushgateway when it ends.

use crate::context::Context;
use crate::error::AppError;
use ontofetch_pipeline::{Pipeline, PipelineError};
use std::net::SocketAddr;
use std::sync::Arc;

/// Where a batch's metrics are pushed (job "ontofetch").
pub fn pushgateway_url(gateway: &str) -> String {
    format!("{}/metrics/job/ontofetch", gateway.trim_end_matches('/'))
}

/// Refuses a Pushgateway URL the url gate refuses, before any work (the URL is the
/// command's own input: exit 3).
pub fn check_pushgateway(p: &Pipeline, gateway: &str) -> Result<(), AppError> {
    p.fetcher.check_url(&pushgateway_url(gateway)).map_err(|e| {
        let mut err = AppError::from(PipelineError::from_coded(e).context("--pushgateway"));
        err.refused = true;
        err
    })?;
    Ok(())
}

/// Pushes the registry to the Pushgateway.
pub async fn push(ctx: &Context, p: &Pipeline, gateway: &str) -> Result<(), AppError> {
    let body = ctx.metrics.encode_prometheus()?;
    p.fetcher
        .put_text(&pushgateway_url(gateway), "pushgateway", "text/plain; version=0.0.4", body)
        .await
        .map_err(|e| AppError::from(PipelineError::from_coded(e).context("pushing metrics")))?;
    Ok(())
}

/// Serves `/metrics` on `addr` while `work` runs (nothing extra without an address).
pub async fn with_exporter<T>(
    ctx: &Context,
    addr: Option<SocketAddr>,
    work: impl Future<Output = T>,
) -> Result<T, AppError> {
    let Some(addr) = addr else { return Ok(work.await) };
    let listener =
        tokio::net::TcpListener::bind(addr).await.map_err(|e| AppError::io(format!("listening on {addr}"), e))?;
    let state = Arc::new(ontofetch_server::ServerState::new(ctx.metrics.clone(), ctx.settings()?.clone(), None));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(ontofetch_server::serve(listener, state, None, Default::default(), async move {
        let _ = stop_rx.await;
    }));
    let out = work.await;
    let _ = stop_tx.send(());
    let _ = server.await;
    Ok(out)
}
