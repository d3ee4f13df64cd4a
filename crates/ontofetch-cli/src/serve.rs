//! The `/metrics` exporter: `/metrics` (OpenMetrics or Prometheus text by `Accept`),
//! `/healthz`, `/readyz`; optional TLS and bearer/basic auth; store gauges computed at
//! scrape time from the catalog; graceful shutdown.

use crate::pipeline::catalog_path;
use base64::Engine;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use ontofetch_config::DataDirs;
use ontofetch_metrics::Metrics;
use std::convert::Infallible;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// What `/metrics` requires.
#[derive(Clone)]
pub enum Auth {
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// `Authorization: Basic <base64(user:password)>`.
    Basic(String),
}

impl Auth {
    /// Reads a token or `user:password` from a file (trimmed; must not be empty).
    pub fn from_files(bearer: Option<&Path>, basic: Option<&Path>) -> Result<Option<Auth>, String> {
        let read = |p: &Path| {
            let s = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            let s = s.trim().to_string();
            if s.is_empty() {
                return Err(format!("{} is empty", p.display()));
            }
            Ok(s)
        };
        match (bearer, basic) {
            (Some(p), _) => Ok(Some(Auth::Bearer(read(p)?))),
            (None, Some(p)) => {
                let creds = read(p)?;
                if !creds.contains(':') {
                    return Err(format!("{} must hold user:password", p.display()));
                }
                Ok(Some(Auth::Basic(base64::engine::general_purpose::STANDARD.encode(creds))))
            }
            (None, None) => Ok(None),
        }
    }

    fn expected(&self) -> String {
        match self {
            Auth::Bearer(t) => format!("Bearer {t}"),
            Auth::Basic(b) => format!("Basic {b}"),
        }
    }
}

/// Constant-time comparison, so a token cannot be guessed byte by byte from timings.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Shared by every connection.
pub struct ServerState {
    /// The registry served.
    pub metrics: Arc<Metrics>,
    /// Where the catalog is.
    pub dirs: DataDirs,
    /// Required credentials.
    pub auth: Option<Auth>,
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("Content-Type", "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("static response")
}

fn update_store_gauges(st: &ServerState) -> Result<(), String> {
    let path = catalog_path(&st.dirs);
    if !path.exists() {
        return Ok(());
    }
    let cat = ontofetch_catalog::Catalog::open(&path).map_err(|e| e.to_string())?;
    let s = cat.stats().map_err(|e| e.to_string())?;
    st.metrics.store_bytes.set(s.bytes as i64);
    st.metrics.store_artifacts.set(s.artifacts as i64);
    Ok(())
}

async fn handle(req: Request<Incoming>, st: Arc<ServerState>) -> Result<Response<Full<Bytes>>, Infallible> {
    let get = req.method() == Method::GET || req.method() == Method::HEAD;
    let resp = match (get, req.uri().path()) {
        (true, "/healthz") => text(StatusCode::OK, "ok\n"),
        (true, "/readyz") => match update_store_gauges(&st) {
            Ok(()) => text(StatusCode::OK, "ready\n"),
            Err(e) => text(StatusCode::SERVICE_UNAVAILABLE, &format!("catalog not ready: {e}\n")),
        },
        (true, "/metrics") => {
            if let Some(auth) = &st.auth {
                let given = req.headers().get("authorization").map(|v| v.as_bytes()).unwrap_or_default();
                if !same(given, auth.expected().as_bytes()) {
                    let challenge = match auth {
                        Auth::Bearer(_) => "Bearer realm=\"ontofetch\"",
                        Auth::Basic(_) => "Basic realm=\"ontofetch\"",
                    };
                    let mut r = text(StatusCode::UNAUTHORIZED, "unauthorized\n");
                    r.headers_mut().insert("WWW-Authenticate", challenge.parse().expect("static header"));
                    return Ok(r);
                }
            }
            // Catalog gauges are computed at scrape time; a broken catalog must not hide the rest.
            let _ = update_store_gauges(&st);
            let openmetrics = req
                .headers()
                .get("accept")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|a| a.contains("application/openmetrics-text"));
            let (body, ctype) = if openmetrics {
                (st.metrics.encode(), "application/openmetrics-text; version=1.0.0; charset=utf-8")
            } else {
                (st.metrics.encode_prometheus(), "text/plain; version=0.0.4; charset=utf-8")
            };
            match body {
                Ok(b) => Response::builder()
                    .status(StatusCode::OK)
                    .header("Content-Type", ctype)
                    .body(Full::new(Bytes::from(b)))
                    .expect("metrics response"),
                Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, &format!("{e}\n")),
            }
        }
        (false, "/healthz" | "/readyz" | "/metrics") => text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n"),
        _ => text(StatusCode::NOT_FOUND, "not found: try /metrics, /healthz or /readyz\n"),
    };
    Ok(resp)
}

/// Loads a rustls server config from PEM files.
pub fn tls_acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("{}: {e}", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("{} holds no certificate", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("certificate/key: {e}"))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish (up to 5 s).
pub async fn serve(
    listener: TcpListener,
    state: Arc<ServerState>,
    tls: Option<TlsAcceptor>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let builder = hyper::server::conn::http1::Builder::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(_) => continue,
            },
            _ = &mut shutdown => break,
        };
        let st = state.clone();
        let service = hyper::service::service_fn(move |req| handle(req, st.clone()));
        match &tls {
            None => {
                let conn = builder.serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let builder = builder.clone();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    // A slow or failed handshake only affects its own connection.
                    if let Ok(Ok(tls)) = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await {
                        let conn = builder.serve_connection(TokioIo::new(tls), service);
                        let _ = watcher.watch(conn).await;
                    }
                });
            }
        }
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
