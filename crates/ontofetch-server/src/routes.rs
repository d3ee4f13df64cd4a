//! The routes: `/metrics` (OpenMetrics or Prometheus text by `Accept`, store gauges
//! computed at scrape time from the catalog), `/healthz`, `/readyz`, and the mirror: `/`,
//! `/api/v1/ontologies[/{id}]`, `/ontologies/{id}/{version}/{file}`, `/obo/{id}.{ext}`.
//! Every answer is counted by route and status class, with its latency.

use crate::auth::Auth;
use crate::body::{self, Body};
use crate::state::ServerState;
use crate::{api, artifacts, status_page};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use ontofetch_metrics::{RouteLabels, ServedLabels};
use std::time::Instant;

/// Ready when the catalog answers and the store can be reached (each within a couple of
/// seconds: an outage is reported, not waited on).
async fn update_store_gauges(st: &ServerState) -> Result<(), String> {
    let Some(b) = st.backends().await? else { return Ok(()) };
    let quick = std::time::Duration::from_secs(2);
    match tokio::time::timeout(quick, b.store.check()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(format!("store: {e}")),
        Err(_) => return Err(format!("store: no answer within {} s", quick.as_secs())),
    }
    let catalog = &b.catalog;
    let s = tokio::time::timeout(quick, catalog.stats())
        .await
        .map_err(|_| format!("catalog: no answer within {} s", quick.as_secs()))?
        .map_err(|e| e.to_string())?;
    st.metrics.store_bytes.set(s.bytes as i64);
    st.metrics.store_artifacts.set(s.artifacts as i64);
    Ok(())
}

fn unauthorized(challenge: &'static str) -> Response<Body> {
    let mut r = body::text(StatusCode::UNAUTHORIZED, "unauthorized\n");
    r.headers_mut().insert("WWW-Authenticate", challenge.parse().expect("static header"));
    r
}

/// `Some(401)` when `auth` is required and the request does not carry it.
fn check(auth: Option<&Auth>, req: &Request<Incoming>) -> Option<Response<Body>> {
    let auth = auth?;
    let given = req.headers().get("authorization").map(|v| v.as_bytes()).unwrap_or_default();
    (!auth.accepts(given)).then(|| unauthorized(auth.challenge()))
}

async fn metrics(req: &Request<Incoming>, st: &ServerState) -> Response<Body> {
    // Catalog gauges are computed at scrape time; a missing catalog must not hide the rest.
    let _ = update_store_gauges(st).await;
    let openmetrics = req
        .headers()
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/openmetrics-text"));
    let (text, ctype) = if openmetrics {
        (st.metrics.encode(), "application/openmetrics-text; version=1.0.0; charset=utf-8")
    } else {
        (st.metrics.encode_prometheus(), "text/plain; version=0.0.4; charset=utf-8")
    };
    match text {
        Ok(b) => Response::builder()
            .status(StatusCode::OK)
            .header("Content-Type", ctype)
            .header("Content-Length", b.len())
            .body(body::full(b))
            .expect("metrics response"),
        Err(e) => body::text(StatusCode::INTERNAL_SERVER_ERROR, &format!("{e}\n")),
    }
}

/// The route a path belongs to (a fixed label value, never the path itself).
fn route_of(path: &str) -> &'static str {
    match path {
        "/" => "status",
        "/metrics" => "metrics",
        "/healthz" | "/readyz" => "health",
        p if p.starts_with("/api/") => "api",
        p if p.starts_with("/ontologies/") => "artifact",
        p if p.starts_with("/obo/") => "purl",
        _ => "other",
    }
}

fn class(status: StatusCode) -> &'static str {
    match status.as_u16() {
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

async fn dispatch(req: &Request<Incoming>, st: &ServerState, route: &'static str) -> Response<Body> {
    let path = req.uri().path();
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = body::text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed: this server is read-only\n");
        r.headers_mut().insert("Allow", "GET, HEAD".parse().expect("static header"));
        return r;
    }
    // The mirror's routes have their own credentials (metrics may be private while
    // artifacts are open, or the other way round).
    if matches!(route, "status" | "api" | "artifact" | "purl")
        && let Some(denied) = check(st.artifacts_auth.as_ref(), req)
    {
        return denied;
    }
    match route {
        "health" if path == "/healthz" => body::text(StatusCode::OK, "ok\n"),
        "health" => match update_store_gauges(st).await {
            Ok(()) => body::text(StatusCode::OK, "ready\n"),
            // Unauthenticated: says nothing about the connection (the log has the detail).
            Err(e) => {
                tracing::warn!(target: "ontofetch::serve", error = %e, "not ready");
                body::text(StatusCode::SERVICE_UNAVAILABLE, "catalog not ready\n")
            }
        },
        "metrics" => match check(st.metrics_auth.as_ref(), req) {
            Some(denied) => denied,
            None => metrics(req, st).await,
        },
        "status" => status_page::page(st).await,
        "api" => match path.trim_end_matches('/') {
            "/api/v1/ontologies" => api::list(st).await,
            p => match p.strip_prefix("/api/v1/ontologies/") {
                Some(id) if !id.contains('/') => api::one(st, id).await,
                _ => body::error(StatusCode::NOT_FOUND, "E_NOT_FOUND", "try /api/v1/ontologies"),
            },
        },
        "artifact" => artifacts::artifact(st, req.method(), req.headers(), path).await,
        "purl" => artifacts::purl(st, path).await,
        _ => body::text(
            StatusCode::NOT_FOUND,
            "not found: try /, /api/v1/ontologies, /ontologies/{id}/latest/{file}, /obo/{id}.owl, /metrics, /healthz\n",
        ),
    }
}

/// Dispatches one request and counts it.
pub(crate) async fn route(req: &Request<Incoming>, st: &ServerState) -> Response<Body> {
    let started = Instant::now();
    let route = route_of(req.uri().path());
    let response = dispatch(req, st, route).await;
    let m = &st.metrics;
    m.served_requests.get_or_create(&ServedLabels { route, code_class: class(response.status()) }).inc();
    m.served_duration.get_or_create(&RouteLabels { route }).observe(started.elapsed().as_secs_f64());
    if route != "artifact"
        && let Some(n) = response.headers().get("content-length").and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
    {
        m.served_bytes.get_or_create(&RouteLabels { route }).inc_by(n);
    }
    response
}
