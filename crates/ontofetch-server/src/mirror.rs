//! What the mirror holds, as the API and the status page show it: per ontology, the latest
//! version with its validation and terms, and how its recent pulls ended (from the
//! catalog's pull events, so every worker's pulls count, not only this process's).

use crate::error::ServerError;
use crate::state::ServerState;
use ontofetch_catalog::{Catalog, PullEvent, VersionRow};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// One ontology on the status page and in `GET /api/v1/ontologies`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Summary {
    pub id: String,
    pub version: Option<String>,
    pub sha256: Option<String>,
    pub downloaded_at: Option<String>,
    pub bytes: Option<u64>,
    /// The original's file name (the status page links it).
    pub filename: Option<String>,
    pub resolver: Option<String>,
    pub license: Option<String>,
    /// `ok`, `failed` or `skipped` over the version's validators; `None` when none ran.
    pub validation: Option<String>,
    pub terms: Option<u64>,
    /// The code of the latest pull when it failed.
    pub last_error_code: Option<ontofetch_policy::Code>,
    /// The most recent failed pull (kept 30 days).
    pub last_failure: Option<PullEvent>,
    /// Pulls refused by a gate in the last 24 hours.
    pub refusals_24h: usize,
    /// Whether the ontology is in the configuration (a removed one still has versions).
    pub configured: bool,
    /// The first of the latest version's import edges (`pull --with-imports`): at most
    /// [`IMPORTS_LISTED`]; `/api/v1/ontologies/{id}` has the rest.
    pub imports: Vec<ontofetch_catalog::ImportEdge>,
    /// How many import edges the latest version has.
    pub imports_total: usize,
}

/// Import edges a summary lists inline: the status page and the list API stay small however
/// many imports a version declares (an ontology's own page links the rest).
pub const IMPORTS_LISTED: usize = 10;

impl Summary {
    /// An ontology with nothing stored or failed yet.
    fn new(id: &str, configured: bool) -> Summary {
        Summary {
            id: id.to_string(),
            version: None,
            sha256: None,
            downloaded_at: None,
            bytes: None,
            filename: None,
            resolver: None,
            license: None,
            validation: None,
            terms: None,
            last_error_code: None,
            last_failure: None,
            refusals_24h: 0,
            configured,
            imports: Vec::new(),
            imports_total: 0,
        }
    }
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// Whether a code is a gate's refusal (not a network or parse failure).
pub(crate) fn is_refusal(code: ontofetch_policy::Code) -> bool {
    // What `pull` exits 3 for (ontofetch_app::exit_for) is what the tile and the API count:
    // every refusal of policy, a licence outside accept_licenses included; a host that does
    // not resolve and content that failed validation are failures of the world.
    use ontofetch_policy::{Code, CodeKind};
    code.kind() == CodeKind::Refusal && !matches!(code, Code::Validation | Code::Dns)
}

/// The validation status and term count recorded for a version.
pub(crate) async fn validation(
    catalog: &dyn Catalog,
    row: &VersionRow,
) -> Result<(Option<String>, Option<u64>), ServerError> {
    let rows = catalog
        .validations(&row.ontology, &row.version)
        .await
        .map_err(|e| ServerError::unavailable(e, "catalog unavailable"))?;
    Ok(verdict(&rows))
}

/// The overall status and the largest term count of a version's validation rows.
fn verdict(rows: &[ontofetch_catalog::ValidationRow]) -> (Option<String>, Option<u64>) {
    if rows.is_empty() {
        return (None, None);
    }
    use ontofetch_catalog::ValidationResult;
    let status = if rows.iter().any(|r| r.result == ValidationResult::Failed) {
        "failed"
    } else if rows.iter().all(|r| r.result == ValidationResult::Skipped) {
        "skipped"
    } else {
        "ok"
    };
    let terms = rows
        .iter()
        .filter_map(|r| serde_json::from_str::<serde_json::Value>(&r.details).ok())
        .filter_map(|d| d.get("terms").and_then(|t| t.as_u64()))
        .max();
    (Some(status.to_string()), terms)
}

/// Every ontology that is configured or has a version, sorted by id.
pub(crate) async fn summaries(st: &ServerState) -> Result<Vec<Summary>, ServerError> {
    let configured: Vec<String> = st.settings.loaded.config.ontologies.iter().map(|o| o.id.clone()).collect();
    let mut by_id: BTreeMap<String, Summary> =
        configured.iter().map(|id| (id.clone(), Summary::new(id, true))).collect();
    let Some(catalog) = st.catalog().await? else { return Ok(by_id.into_values().collect()) };
    let catalog = catalog.as_ref();
    let unavailable = |e: ontofetch_catalog::CatalogError| ServerError::unavailable(e, "catalog unavailable");
    // Set-based: three statements for the whole page (latest, their validations, events),
    // whatever the number of ontologies.
    let mut checked: BTreeMap<String, Vec<ontofetch_catalog::ValidationRow>> = BTreeMap::new();
    for (id, v) in catalog.latest_validations().await.map_err(unavailable)? {
        checked.entry(id).or_default().push(v);
    }
    for row in catalog.latest_all().await.map_err(unavailable)? {
        let (validation, terms) = verdict(checked.get(&row.ontology).map(Vec::as_slice).unwrap_or_default());
        let s = by_id.entry(row.ontology.clone()).or_insert_with(|| Summary::new(&row.ontology, false));
        s.version = Some(row.version);
        s.sha256 = Some(row.sha256);
        s.downloaded_at = Some(row.downloaded_at);
        s.bytes = Some(row.bytes);
        s.filename = Some(row.filename);
        s.resolver = Some(row.resolver);
        s.license = row.license;
        s.validation = validation;
        s.terms = terms;
    }
    let day_ago = rfc3339(SystemTime::now() - Duration::from_secs(86_400));
    for edge in catalog.latest_imports().await.map_err(unavailable)? {
        if let Some(s) = by_id.get_mut(&edge.ontology) {
            s.imports_total += 1;
            // An import a gate refused is a refusal of the pull that recorded it (the
            // latest version's, counted when that was in the last day).
            if edge.status == ontofetch_catalog::ImportStatus::Refused
                && s.downloaded_at.as_deref().is_some_and(|at| at >= day_ago.as_str())
            {
                s.refusals_24h += 1;
            }
            if s.imports.len() < IMPORTS_LISTED {
                s.imports.push(edge);
            }
        }
    }
    // Newest first: the first event seen per ontology is its latest pull.
    let events = catalog.events(None, None, 5_000).await.map_err(unavailable)?;
    let mut seen = std::collections::HashSet::new();
    for e in events {
        let Some(s) = by_id.get_mut(&e.ontology) else { continue };
        let first = seen.insert(e.ontology.clone());
        if e.status != ontofetch_catalog::PullStatus::Failed {
            continue;
        }
        if first {
            s.last_error_code = e.code;
        }
        if e.at >= day_ago && e.code.is_some_and(is_refusal) {
            s.refusals_24h += 1;
        }
        if s.last_failure.is_none() {
            s.last_failure = Some(e);
        }
    }
    Ok(by_id.into_values().collect())
}

/// Seconds since an RFC 3339 instant, when it parses.
pub(crate) fn age(at: &str) -> Option<Duration> {
    let t = humantime::parse_rfc3339_weak(at).ok()?;
    SystemTime::now().duration_since(t).ok()
}

#[cfg(test)]
mod tests {
    /// A licence refusal is a refusal for the status tile and `refusals_24h`, as it is for
    /// `pull`'s exit status; a failed validation or an unresolved host is not.
    #[test]
    fn licence_refusals_count_with_the_gates() {
        use ontofetch_policy::Code;
        for code in [Code::License, Code::PrivateIp, Code::HostDenied] {
            assert!(super::is_refusal(code), "{code}");
        }
        for code in [Code::Validation, Code::Dns, Code::Network] {
            assert!(!super::is_refusal(code), "{code}");
        }
    }
}
