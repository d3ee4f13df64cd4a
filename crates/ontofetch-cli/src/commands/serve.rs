//! `ontofetch serve`: parse the flags, build the server state (and the pipeline when
//! refreshing), run the server library until SIGTERM.

use crate::cli::ServeArgs;
use ontofetch_app::AppError;
use ontofetch_app::Context;
use ontofetch_server::{Auth, ConnectionLimits, ServerState, refresh_loop, serve as run_server, termination};
use std::sync::Arc;
use std::time::Duration;

/// `ontofetch serve`.
pub fn serve(ctx: &mut Context, args: &ServeArgs) -> Result<(), AppError> {
    let auth = Auth::from_files(args.bearer_token_file.as_deref(), args.basic_auth_file.as_deref())
        .map_err(|e| AppError::usage(e.message))?;
    let artifacts_auth =
        Auth::from_files(args.artifacts_bearer_token_file.as_deref(), args.artifacts_basic_auth_file.as_deref())
            .map_err(|e| AppError::usage(e.message))?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(c), Some(k)) => Some(ontofetch_server::tls::acceptor(c, k).map_err(|e| AppError::usage(e.message))?),
        _ => None,
    };
    let limits = ConnectionLimits {
        max_connections: args.max_connections,
        max_per_client: args.max_connections_per_client,
        header_timeout: Duration::from_secs_f64(args.header_timeout_sec),
        write_timeout: Duration::from_secs_f64(args.write_timeout_sec),
        ..ConnectionLimits::default()
    };
    let pipeline = match args.refresh {
        Some(_) => Some(ctx.block_on(ctx.pipeline(false))?),
        None => None,
    };
    let state = Arc::new(
        ServerState::new(ctx.metrics.clone(), ctx.settings()?.clone(), auth)
            .with_artifacts_auth(artifacts_auth)
            .with_limits(&limits),
    );
    let listen = args.addr();
    ctx.block_on(async move {
        let listener =
            tokio::net::TcpListener::bind(listen).await.map_err(|e| AppError::io(format!("listening on {listen}"), e))?;
        tracing::info!(listen = %listen, tls = tls.is_some(), refresh_seconds = args.refresh.map(|d| d.as_secs()), "serve.start");
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let refresher = async {
            if let (Some(p), Some(every)) = (pipeline.as_ref(), args.refresh) {
                refresh_loop(p, every, &crate::progress::JsonLines, stop_rx).await;
            }
        };
        let server = async {
            run_server(listener, state, tls, limits, termination()).await;
            let _ = stop_tx.send(true);
        };
        tokio::join!(server, refresher);
        tracing::info!("serve.stop");
        Ok::<(), AppError>(())
    })
}
