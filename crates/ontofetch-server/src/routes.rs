//! The routes: `/metrics` (OpenMetrics or Prometheus text by `Accept`, store gauges
//! computed at scrape time from the catalog), `/healthz`, `/readyz`, and the mirror: `/`,
//! `/api/v1/ontologies[/{id}]`, `/ontologies/{id}/{version}/{file}`, `/obo/{id}.{ext}`.
//! Every answer is counted by route and status class, with its latency. [`respond`] takes
//! any request body (the server never reads one), so tests call it in-process.

use crate::auth::Auth;
use crate::body::{self, Body};
use crate::error::ServerError;
use crate::route::Route;
use crate::state::ServerState;
use crate::{api, artifacts, status_page};
use hyper::{Method, Request, Response, StatusCode};
use ontofetch_metrics::{RouteLabels, ServedLabels};
use ontofetch_policy::Code;
use std::time::{Duration, Instant};

/// How long readiness waits on each backend: an outage is reported, not waited on.
const READY_WITHIN: Duration = Duration::from_secs(2);

/// Ready when the catalog answers and the store can be reached (each within a couple of
/// seconds); the store gauges are refreshed on the way.
async fn update_store_gauges(st: &ServerState) -> Result<(), ServerError> {
    let Some(b) = st.backends().await? else { return Ok(()) };
    let late = |what: &str| {
        ServerError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            Code::Timeout,
            format!("{what}: no answer within {} s", READY_WITHIN.as_secs()),
        )
    };
    tokio::time::timeout(READY_WITHIN, b.store.check())
        .await
        .map_err(|_| late("store"))?
        .map_err(|e| ServerError::unavailable(e, "store"))?;
    let s = tokio::time::timeout(READY_WITHIN, b.catalog.stats())
        .await
        .map_err(|_| late("catalog"))?
        .map_err(|e| ServerError::unavailable(e, "catalog"))?;
    st.metrics.store_bytes.set(s.bytes as i64);
    st.metrics.store_artifacts.set(s.artifacts as i64);
    Ok(())
}

fn unauthorized(challenge: &'static str) -> Response<Body> {
    let mut r = body::text(StatusCode::UNAUTHORIZED, "unauthorized\n");
    r.headers_mut().insert("WWW-Authenticate", hyper::header::HeaderValue::from_static(challenge));
    r
}

/// `Some(401)` when `auth` is required and the request does not carry it.
fn check<B>(auth: Option<&Auth>, req: &Request<B>) -> Option<Response<Body>> {
    let auth = auth?;
    let given = req.headers().get("authorization").map(|v| v.as_bytes()).unwrap_or_default();
    (!auth.accepts(given)).then(|| unauthorized(auth.challenge()))
}

async fn metrics<B>(req: &Request<B>, st: &ServerState) -> Response<Body> {
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
        Ok(b) => body::whole(StatusCode::OK, ctype, b),
        Err(e) => body::text(StatusCode::INTERNAL_SERVER_ERROR, &format!("{e}\n")),
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

async fn dispatch<B>(req: &Request<B>, st: &ServerState, route: Route) -> Result<Response<Body>, ServerError> {
    let path = req.uri().path();
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = body::text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed: this server is read-only\n");
        r.headers_mut().insert("Allow", hyper::header::HeaderValue::from_static("GET, HEAD"));
        return Ok(r);
    }
    // The mirror's routes have their own credentials (metrics may be private while
    // artifacts are open, or the other way round).
    if route.is_mirror()
        && let Some(denied) = check(st.artifacts_auth.as_ref(), req)
    {
        return Ok(denied);
    }
    match route {
        Route::Live => Ok(body::text(StatusCode::OK, "ok\n")),
        Route::Ready => match update_store_gauges(st).await {
            Ok(()) => Ok(body::text(StatusCode::OK, "ready\n")),
            // Unauthenticated: says nothing about the connection (the log has the detail).
            Err(e) => {
                tracing::warn!(target: "ontofetch::serve", error = %e, "not ready");
                Ok(body::text(StatusCode::SERVICE_UNAVAILABLE, "catalog not ready\n"))
            }
        },
        Route::Metrics => match check(st.metrics_auth.as_ref(), req) {
            Some(denied) => Ok(denied),
            None => Ok(metrics(req, st).await),
        },
        Route::Status => status_page::page(st).await,
        Route::ApiList => api::list(st).await,
        Route::ApiOntology => {
            let id = path.trim_end_matches('/').trim_start_matches("/api/v1/ontologies/");
            api::ontology(st, id).await
        }
        Route::ApiOther => Err(ServerError::not_found("try /api/v1/ontologies")),
        Route::Artifact => artifacts::artifact(st, req.method(), req.headers(), path).await,
        Route::Purl => artifacts::purl(st, path).await,
        Route::Log => crate::log::log(st, path).await,
        Route::Other => Ok(body::text(
            StatusCode::NOT_FOUND,
            "not found: try /, /api/v1/ontologies, /ontologies/{id}/latest/{file}, /obo/{id}.owl, /log/checkpoint, /metrics, /healthz\n",
        )),
    }
}

/// Answers one request and counts it. The body is never read (the server is read-only),
/// so any body type will do: the listener passes hyper's, tests pass `()`.
pub async fn respond<B>(req: &Request<B>, st: &ServerState) -> Response<Body> {
    let started = Instant::now();
    let route = Route::of(req.uri().path());
    let response = dispatch(req, st, route).await.unwrap_or_else(ServerError::into_response);
    let m = &st.metrics;
    let label = route.label();
    m.served_requests.get_or_create(&ServedLabels { route: label, code_class: class(response.status()) }).inc();
    m.served_duration.get_or_create(&RouteLabels { route: label }).observe(started.elapsed().as_secs_f64());
    if route != Route::Artifact
        && let Some(n) = response.headers().get("content-length").and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
    {
        m.served_bytes.get_or_create(&RouteLabels { route: label }).inc_by(n);
    }
    response
}
