//! `GET /api/v1/ontologies` and `GET /api/v1/ontologies/{id}`: what the mirror holds, as
//! JSON for scripts and dashboards.

use crate::body::{self, Body};
use crate::mirror;
use crate::state::ServerState;
use hyper::{Response, StatusCode};
use serde_json::{Value, json};

/// Documents larger than this are linked, not inlined: a manifest or a diff summary that
/// somehow grew (a hostile release) must not make every API call hundreds of megabytes.
const MAX_INLINE_BYTES: u64 = 1 << 20;

/// `GET /api/v1/ontologies`.
pub(crate) async fn list(st: &ServerState) -> Response<Body> {
    match mirror::summaries(st).await {
        Ok(s) => body::json(StatusCode::OK, &json!(s)),
        Err(e) => body::error(StatusCode::SERVICE_UNAVAILABLE, "E_DB", &format!("catalog unavailable: {e}")),
    }
}

/// `GET /api/v1/ontologies/{id}`: every version with its files, the latest manifest, the
/// latest diff and the recent pulls.
pub(crate) async fn one(st: &ServerState, id: &str) -> Response<Body> {
    if let Err(e) = st.gates().segment("ontology id", id) {
        use ontofetch_policy::Coded;
        return body::error(StatusCode::BAD_REQUEST, e.code().as_str(), &e.to_string());
    }
    let b = match st.backends().await {
        Ok(Some(b)) => b,
        Ok(None) => return body::error(StatusCode::NOT_FOUND, "E_NOT_FOUND", "the mirror is empty"),
        Err(e) => return body::error(StatusCode::SERVICE_UNAVAILABLE, "E_DB", &format!("catalog unavailable: {e}")),
    };
    let versions = match b.catalog.versions(Some(id), 1_000).await {
        Ok(v) => v,
        Err(e) => return body::error(StatusCode::SERVICE_UNAVAILABLE, "E_DB", &e.to_string()),
    };
    let events = b.catalog.events(Some(id), "0000", 20).await.unwrap_or_default();
    let configured = st.settings.loaded.config.ontologies.iter().any(|o| o.id == id);
    if versions.is_empty() && events.is_empty() && !configured {
        return body::error(StatusCode::NOT_FOUND, "E_NOT_FOUND", &format!("{id} is not in this mirror"));
    }
    let mut listed = Vec::new();
    for v in &versions {
        let key = ontofetch_store::layout::version_key(id, &v.version);
        let files: Vec<Value> = b
            .catalog
            .artifacts(id, &v.version)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter_map(|f| {
                let rel = f.relpath.strip_prefix(&format!("{key}/"))?.to_string();
                Some(json!({
                    "path": rel,
                    "kind": f.kind,
                    "sha256": f.sha256,
                    "bytes": f.bytes,
                    "url": crate::artifacts::artifact_url(id, &v.version, &rel),
                }))
            })
            .collect();
        let (validation, terms) = mirror::validation(b.catalog.as_ref(), v).await;
        let mut doc = json!(v);
        doc["validation"] = json!(validation);
        doc["terms"] = json!(terms);
        doc["files"] = json!(files);
        listed.push(doc);
    }
    // `latest` is the newest version that validated, not the newest stored one.
    let latest = match b.catalog.latest(id).await {
        Ok(l) => l,
        Err(e) => return body::error(StatusCode::SERVICE_UNAVAILABLE, "E_DB", &e.to_string()),
    };
    let latest = latest.as_ref();
    let manifest = match latest {
        Some(v) => {
            let key = format!("{}/{}", v.relpath, ontofetch_store::layout::MANIFEST);
            let size =
                b.catalog.artifacts(id, &v.version).await.unwrap_or_default().into_iter().find(|a| a.relpath == key);
            match size {
                Some(a) if a.bytes > MAX_INLINE_BYTES => Some(json!({
                    "inlined": false,
                    "bytes": a.bytes,
                    "url": crate::artifacts::artifact_url(id, &v.version, ontofetch_store::layout::MANIFEST),
                })),
                _ => b.manifest(&st.gates(), v).await.ok(),
            }
        }
        None => None,
    };
    let diff = match latest {
        Some(v) => b.catalog.diff(id, &v.version).await.ok().flatten().map(|d| {
            let summary = if d.summary.len() as u64 > MAX_INLINE_BYTES {
                json!({"inlined": false, "bytes": d.summary.len()})
            } else {
                serde_json::from_str::<Value>(&d.summary).unwrap_or(Value::Null)
            };
            json!({"version": d.version, "previous": d.previous, "summary": summary})
        }),
        None => None,
    };
    body::json(
        StatusCode::OK,
        &json!({
            "id": id,
            "configured": configured,
            "latest": latest.map(|v| v.version.clone()),
            "versions": listed,
            "manifest": manifest,
            "diff": diff,
            "events": events,
        }),
    )
}
