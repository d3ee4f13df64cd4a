//! The routes: `/metrics` (OpenMetrics or Prometheus text by `Accept`, store gauges
//! computed at scrape time from the catalog), `/healthz`, `/readyz`.

use crate::state::ServerState;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};

pub(crate) type Body = Full<Bytes>;

pub(crate) fn text(status: StatusCode, body: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("Content-Type", "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("static response")
}

async fn update_store_gauges(st: &ServerState) -> Result<(), String> {
    let Some(catalog) = st.catalog().await? else { return Ok(()) };
    let s = catalog.stats().await.map_err(|e| e.to_string())?;
    st.metrics.store_bytes.set(s.bytes as i64);
    st.metrics.store_artifacts.set(s.artifacts as i64);
    Ok(())
}

fn unauthorized(challenge: &'static str) -> Response<Body> {
    let mut r = text(StatusCode::UNAUTHORIZED, "unauthorized\n");
    r.headers_mut().insert("WWW-Authenticate", challenge.parse().expect("static header"));
    r
}

async fn metrics(req: &Request<Incoming>, st: &ServerState) -> Response<Body> {
    if let Some(auth) = &st.metrics_auth {
        let given = req.headers().get("authorization").map(|v| v.as_bytes()).unwrap_or_default();
        if !auth.accepts(given) {
            return unauthorized(auth.challenge());
        }
    }
    // Catalog gauges are computed at scrape time; a missing catalog must not hide the rest.
    let _ = update_store_gauges(st).await;
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

/// Dispatches one request.
pub(crate) async fn route(req: &Request<Incoming>, st: &ServerState) -> Response<Body> {
    let get = req.method() == Method::GET || req.method() == Method::HEAD;
    match (get, req.uri().path()) {
        (true, "/healthz") => text(StatusCode::OK, "ok\n"),
        (true, "/readyz") => match update_store_gauges(st).await {
            Ok(()) => text(StatusCode::OK, "ready\n"),
            Err(e) => text(StatusCode::SERVICE_UNAVAILABLE, &format!("catalog not ready: {e}\n")),
        },
        (true, "/metrics") => metrics(req, st).await,
        (false, "/healthz" | "/readyz" | "/metrics") => text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n"),
        _ => text(StatusCode::NOT_FOUND, "not found: try /metrics, /healthz or /readyz\n"),
    }
}
