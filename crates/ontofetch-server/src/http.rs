//! The HTTP side: an accept loop with a cap on concurrent connections, a header-read
//! timeout that also closes idle keep-alive connections (slow clients cannot hold file
//! descriptors), optional TLS, graceful shutdown; and the routes.

use crate::body::Body;
use crate::limits::ConnectionLimits;
use crate::routes;
use crate::state::ServerState;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

/// Connections per client address, released when each connection ends.
#[derive(Default)]
struct PerClient(std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>);

/// One client's hold on a connection slot.
struct ClientSlot {
    clients: Arc<PerClient>,
    ip: std::net::IpAddr,
}

impl PerClient {
    fn take(self: &Arc<Self>, ip: std::net::IpAddr, max: usize) -> Option<ClientSlot> {
        let mut held = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = held.entry(ip).or_default();
        if *n >= max.max(1) {
            return None;
        }
        *n += 1;
        Some(ClientSlot { clients: self.clone(), ip })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut held = self.clients.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = held.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.ip);
            }
        }
    }
}

async fn handle(req: Request<Incoming>, st: Arc<ServerState>) -> Result<Response<Body>, Infallible> {
    Ok(routes::respond(&req, &st).await)
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish (up to 5 s).
pub async fn serve(
    listener: TcpListener,
    state: Arc<ServerState>,
    tls: Option<TlsAcceptor>,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let clients = Arc::new(PerClient::default());
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(_) => continue,
            },
            _ = &mut shutdown => break,
        };
        // Past either cap the connection is closed at once (dropped): a flood costs the
        // server nothing it keeps, and the slots it holds stay with the clients it serves.
        let Ok(permit) = slots.clone().try_acquire_owned() else { continue };
        let Some(client) = clients.take(peer.ip(), limits.max_per_client) else { continue };
        let mut stream = tokio_io_timeout::TimeoutStream::new(stream);
        stream.set_write_timeout(Some(limits.write_timeout));
        let stream = Box::pin(stream);
        let st = state.clone();
        let service = hyper::service::service_fn(move |req| handle(req, st.clone()));
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _held = (permit, client);
            match tls {
                None => {
                    let _ = watcher.watch(builder.serve_connection(TokioIo::new(stream), service)).await;
                }
                Some(acceptor) => {
                    // A slow or failed handshake only affects its own connection.
                    if let Ok(Ok(tls)) = tokio::time::timeout(limits.handshake_timeout, acceptor.accept(stream)).await {
                        let _ = watcher.watch(builder.serve_connection(TokioIo::new(tls), service)).await;
                    }
                }
            }
        });
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), graceful.shutdown()).await;
}

/// Resolves on SIGTERM or SIGINT.
pub async fn termination() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {},
                _ = tokio::signal::ctrl_c() => {},
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
