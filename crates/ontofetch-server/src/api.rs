//! `GET /api/v1/ontologies` and `GET /api/v1/ontologies/{id}`: what the mirror holds, as
//! JSON for scripts and dashboards. A catalog that fails answers 503 with its code.

use crate::body::{self, Body};
use crate::error::ServerError;
use crate::mirror;
use crate::state::ServerState;
use hyper::{Response, StatusCode};
use ontofetch_catalog::{ArtifactRow, PullEvent, VersionRow};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Documents larger than this are linked, not inlined: a manifest or a diff summary that
/// somehow grew (a hostile release) must not make every API call hundreds of megabytes.
const MAX_INLINE_BYTES: u64 = 1 << 20;

/// Versions listed per ontology.
const MAX_VERSIONS: u32 = 1_000;

/// Recent pulls listed per ontology.
const RECENT_PULLS: u32 = 20;

/// `GET /api/v1/ontologies/{id}`.
#[derive(Debug, Serialize)]
struct OntologyDoc<'a> {
    id: &'a str,
    configured: bool,
    /// The newest version that validated (not the newest stored one).
    latest: Option<&'a str>,
    versions: Vec<VersionDoc>,
    manifest: Option<Value>,
    diff: Option<DiffDoc>,
    events: Vec<PullEvent>,
}

/// One version with its validation and files.
#[derive(Debug, Serialize)]
struct VersionDoc {
    #[serde(flatten)]
    row: VersionRow,
    validation: Option<String>,
    terms: Option<u64>,
    files: Vec<FileDoc>,
}

/// One recorded file of a version, with the URL that serves it.
#[derive(Debug, Serialize)]
struct FileDoc {
    path: String,
    kind: ontofetch_catalog::ArtifactKind,
    sha256: String,
    bytes: u64,
    url: String,
}

/// A document too large to inline: its size and where to get it.
#[derive(Debug, Serialize)]
struct Linked {
    inlined: bool,
    bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

/// The latest version's diff against the one before it.
#[derive(Debug, Serialize)]
struct DiffDoc {
    version: String,
    previous: String,
    summary: Value,
}

/// `GET /api/v1/ontologies`.
pub(crate) async fn list(st: &ServerState) -> Result<Response<Body>, ServerError> {
    Ok(body::json(StatusCode::OK, &mirror::summaries(st).await?))
}

/// `GET /api/v1/ontologies/{id}`: every version with its files, the latest manifest, the
/// latest diff and the recent pulls.
pub(crate) async fn ontology(st: &ServerState, id: &str) -> Result<Response<Body>, ServerError> {
    st.gates().segment("ontology id", id).map_err(ServerError::refused)?;
    let Some(b) = st.backends().await? else { return Err(ServerError::not_found("the mirror is empty")) };
    let unavailable = |e: ontofetch_catalog::CatalogError| ServerError::unavailable(e, "catalog unavailable");
    let versions = b.catalog.versions(Some(id), MAX_VERSIONS).await.map_err(unavailable)?;
    let events = b.catalog.events(Some(id), None, RECENT_PULLS).await.map_err(unavailable)?;
    let configured = st.settings.loaded.config.ontologies.iter().any(|o| o.id == id);
    if versions.is_empty() && events.is_empty() && !configured {
        return Err(ServerError::not_found(format!("{id} is not in this mirror")));
    }
    let mut files: BTreeMap<String, Vec<ArtifactRow>> = BTreeMap::new();
    for (v, a) in b.catalog.ontology_artifacts(id).await.map_err(unavailable)? {
        files.entry(v).or_default().push(a);
    }
    let latest = b.catalog.latest(id).await.map_err(unavailable)?;
    let mut listed = Vec::new();
    for row in versions {
        let key = ontofetch_store::layout::version_key(id, &row.version);
        let docs = files
            .get(&row.version)
            .into_iter()
            .flatten()
            .filter_map(|f| {
                let rel = f.relpath.strip_prefix(&format!("{key}/"))?.to_string();
                Some(FileDoc {
                    url: crate::artifacts::artifact_url(id, &row.version, &rel),
                    path: rel,
                    kind: f.kind,
                    sha256: f.sha256.clone(),
                    bytes: f.bytes,
                })
            })
            .collect();
        let (validation, terms) = mirror::validation(b.catalog.as_ref(), &row).await?;
        listed.push(VersionDoc { row, validation, terms, files: docs });
    }
    let manifest = match latest.as_ref() {
        Some(v) => {
            let key = format!("{}/{}", v.relpath, ontofetch_store::layout::MANIFEST);
            let recorded = files.get(&v.version).into_iter().flatten().find(|a| a.relpath == key);
            match recorded {
                Some(a) if a.bytes > MAX_INLINE_BYTES => serde_json::to_value(Linked {
                    inlined: false,
                    bytes: a.bytes,
                    url: Some(crate::artifacts::artifact_url(id, &v.version, ontofetch_store::layout::MANIFEST)),
                })
                .ok(),
                // A manifest that cannot be read is left out; its files are still listed.
                _ => b.manifest(&st.gates(), v).await.ok(),
            }
        }
        None => None,
    };
    let diff = match latest.as_ref() {
        Some(v) => b.catalog.diff(id, &v.version).await.map_err(unavailable)?.map(|d| {
            let summary = if d.summary.len() as u64 > MAX_INLINE_BYTES {
                serde_json::to_value(Linked { inlined: false, bytes: d.summary.len() as u64, url: None })
                    .unwrap_or(Value::Null)
            } else {
                serde_json::from_str::<Value>(&d.summary).unwrap_or(Value::Null)
            };
            DiffDoc { version: d.version, previous: d.previous, summary }
        }),
        None => None,
    };
    let doc = OntologyDoc {
        id,
        configured,
        latest: latest.as_ref().map(|v| v.version.as_str()),
        versions: listed,
        manifest,
        diff,
        events,
    };
    Ok(body::json(StatusCode::OK, &doc))
}
