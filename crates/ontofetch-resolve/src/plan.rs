//! Resolvers and the fallback planner: from an ontology spec to one download plan.
//! Every candidate URL a resolver produces — including URLs read from registry metadata —
//! goes through the url gate before it is accepted.

use crate::license;
use ontofetch_config::{Endpoints, Secrets, SpecInput};
use ontofetch_net::{Fetcher, HostCredential, NetError};
use ontofetch_policy::{Code, Coded};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// An expected checksum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checksum {
    /// Only `sha256` is verified (it is what we hash while streaming).
    pub algorithm: String,
    /// Lowercase hex.
    pub value: String,
}

/// One resolver attempt, failed ones included (manifest `resolver_attempts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// Resolver.
    pub resolver: String,
    /// Candidate URL, when one was produced.
    pub url: Option<String>,
    /// 1-based position in the chain.
    pub attempt: usize,
    /// `ok` or `failed`.
    pub status: String,
    /// The stable code of the failure.
    pub code: Option<Code>,
    /// Why it failed.
    pub error: Option<String>,
}

/// A download plan.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Ontology id.
    pub id: String,
    /// Resolver that produced the plan.
    pub resolver: String,
    /// Gated URL to download.
    pub url: String,
    /// Version published by the registry.
    pub version: Option<String>,
    /// SPDX licence.
    pub license: Option<String>,
    /// Expected media type.
    pub media_type: Option<String>,
    /// Service label (rate limits, metrics).
    pub service: String,
    /// File name to store the original under.
    pub filename: String,
    /// Expected checksum.
    pub expected_checksum: Option<Checksum>,
    /// Formats wanted.
    pub target_formats: Vec<String>,
    /// Every resolver tried.
    pub resolver_attempts: Vec<Attempt>,
    /// A credential for the API host (never serialised, never in lockfiles).
    #[serde(skip)]
    pub credential: Option<HostCredential>,
}

/// Why planning failed.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// Every resolver in the chain failed.
    #[error("no resolver could plan {id}: {}", summary(.attempts))]
    Exhausted {
        /// Ontology id.
        id: String,
        /// The code of the last failure.
        code: Code,
        /// What each resolver said.
        attempts: Vec<Attempt>,
    },
}

fn summary(attempts: &[Attempt]) -> String {
    attempts
        .iter()
        .map(|a| format!("{}: {}", a.resolver, a.error.clone().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join("; ")
}

impl ontofetch_policy::Coded for ResolveError {
    fn code(&self) -> Code {
        match self {
            ResolveError::Exhausted { code, .. } => *code,
        }
    }
}

/// What a single resolver returns.
struct Candidate {
    url: String,
    version: Option<String>,
    license: Option<String>,
    media_type: Option<String>,
    service: &'static str,
    credential: Option<HostCredential>,
}

struct Failure {
    code: Code,
    message: String,
    url: Option<String>,
}

impl From<NetError> for Failure {
    fn from(e: NetError) -> Self {
        Failure { code: e.code(), message: e.to_string(), url: None }
    }
}

fn fail(code: Code, message: impl Into<String>) -> Failure {
    Failure { code, message: message.into(), url: None }
}

fn extra_str<'a>(extras: &'a BTreeMap<String, Value>, key: &str) -> Option<&'a str> {
    extras.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

fn wants_obo(formats: &[String]) -> bool {
    formats.first().map(String::as_str) == Some("obo")
}

async fn candidate(
    resolver: &str,
    spec: &SpecInput,
    fetcher: &Fetcher,
    ep: &Endpoints,
    secrets: &Secrets,
) -> Result<Candidate, Failure> {
    match resolver {
        "obo" | "bioregistry" | "ontobee" => {
            // Ontobee serves the OBO PURLs; bioregistry is the original's alias for obo.
            let ext = if wants_obo(&spec.target_formats) { "obo" } else { "owl" };
            if resolver == "ontobee" && !spec.id.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
                return Err(fail(
                    Code::ConfigInvalid,
                    format!("ontobee needs an id starting with a letter, not {:?}", spec.id),
                ));
            }
            let id = spec.id.to_ascii_lowercase();
            Ok(Candidate {
                url: format!("{}/{id}.{ext}", ep.obo),
                version: None,
                license: None,
                media_type: Some(if ext == "obo" { "text/obo" } else { "application/rdf+xml" }.into()),
                service: if resolver == "ontobee" { "ontobee" } else { "obo" },
                credential: None,
            })
        }
        "ols" => {
            let id = spec.id.to_ascii_lowercase();
            let api = format!("{}/api/ontologies/{id}", ep.ols);
            let doc = fetcher.get_json(&api, "ols", None).await?;
            let config = doc.get("config").unwrap_or(&Value::Null);
            let url = config
                .get("fileLocation")
                .or_else(|| config.get("downloadLocation"))
                .and_then(Value::as_str)
                .ok_or_else(|| fail(Code::Resolve, format!("{api} has no config.fileLocation")))?;
            let version = config
                .get("version")
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| config.get("versionIri").and_then(Value::as_str).map(crate::version::sniff_iri));
            let license = config
                .pointer("/license/label")
                .or_else(|| config.pointer("/license/url"))
                .or_else(|| config.get("license"))
                .and_then(Value::as_str)
                .map(license::normalize);
            Ok(Candidate { url: url.to_string(), version, license, media_type: None, service: "ols", credential: None })
        }
        "bioportal" => {
            let key = secrets.bioportal_api_key.clone().ok_or_else(|| {
                fail(
                    Code::ConfigInvalid,
                    "no BioPortal API key (set BIOPORTAL_API_KEY or write configs/bioportal_api_key.txt)",
                )
            })?;
            let acronym =
                extra_str(&spec.extras, "acronym").map(str::to_string).unwrap_or_else(|| spec.id.to_ascii_uppercase());
            let base = url::Url::parse(&ep.bioportal)
                .map_err(|e| fail(Code::ConfigInvalid, format!("BioPortal base {}: {e}", ep.bioportal)))?;
            let credential = HostCredential {
                host: base.host_str().unwrap_or_default().to_string(),
                port: base.port_or_known_default(),
                header: "Authorization".into(),
                value: format!("apikey token={key}"),
            };
            let sub = fetcher
                .get_json(
                    &format!("{}/ontologies/{acronym}/latest_submission", ep.bioportal),
                    "bioportal",
                    Some(&credential),
                )
                .await?;
            let version = sub.get("version").and_then(Value::as_str).map(str::to_string);
            let license = sub.get("hasLicense").and_then(Value::as_str).map(license::normalize);
            // The submission's own download link, when given, is registry metadata: untrusted
            // input that the url gate judges like any other candidate.
            let url = sub
                .pointer("/links/download")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("{}/ontologies/{acronym}/download", ep.bioportal));
            Ok(Candidate {
                url,
                version,
                license,
                media_type: None,
                service: "bioportal",
                credential: Some(credential),
            })
        }
        "direct" | "skos" | "xbrl" => {
            let url = extra_str(&spec.extras, "url")
                .ok_or_else(|| fail(Code::ConfigInvalid, format!("the {resolver} resolver needs extras.url")))?;
            let (service, default_media) = match resolver {
                "skos" => ("skos", Some("application/rdf+xml")),
                "xbrl" => ("xbrl", Some("application/zip")),
                _ => ("direct", None),
            };
            Ok(Candidate {
                url: url.to_string(),
                version: extra_str(&spec.extras, "version").map(str::to_string),
                license: extra_str(&spec.extras, "license").map(license::normalize),
                media_type: extra_str(&spec.extras, "media_type").or(default_media).map(str::to_string),
                service,
                credential: None,
            })
        }
        "lov" => {
            let uri = extra_str(&spec.extras, "uri")
                .ok_or_else(|| fail(Code::ConfigInvalid, "the lov resolver needs extras.uri (the vocabulary URI)"))?;
            let mut api = url::Url::parse(&format!("{}/api/v2/vocabulary/info", ep.lov))
                .map_err(|e| fail(Code::ConfigInvalid, format!("LOV base {}: {e}", ep.lov)))?;
            api.query_pairs_mut().append_pair("uri", uri);
            let doc = fetcher.get_json(api.as_str(), "lov", None).await?;
            let url = find_key(&doc, &["download", "downloadURL", "fileURL"])
                .ok_or_else(|| fail(Code::Resolve, format!("LOV has no download link for {uri}")))?;
            Ok(Candidate {
                url,
                version: find_key(&doc, &["version", "latestVersion"]),
                license: find_key(&doc, &["license"]).map(|l| license::normalize(&l)),
                media_type: extra_str(&spec.extras, "media_type")
                    .map(str::to_string)
                    .or_else(|| find_key(&doc, &["mediaType", "format"])),
                service: "lov",
                credential: None,
            })
        }
        other => Err(fail(Code::ResolverUnavailable, format!("resolver {other:?} is not implemented yet"))),
    }
}

/// The first string value under any of `keys`, searching the whole document depth-first.
fn find_key(doc: &Value, keys: &[&str]) -> Option<String> {
    match doc {
        Value::Object(m) => keys
            .iter()
            .find_map(|k| m.get(*k).and_then(Value::as_str).map(str::to_string))
            .or_else(|| m.values().find_map(|v| find_key(v, keys))),
        Value::Array(items) => items.iter().find_map(|v| find_key(v, keys)),
        _ => None,
    }
}

/// Parses `extras.checksum` (`sha256:HEX`, bare 64-hex, or `{algorithm, value}`).
pub fn parse_checksum(value: &Value) -> Result<Checksum, String> {
    let (alg, hex) = match value {
        Value::String(s) => match s.split_once(':') {
            Some((a, h)) => (a.trim().to_ascii_lowercase(), h.trim().to_ascii_lowercase()),
            None => ("sha256".to_string(), s.trim().to_ascii_lowercase()),
        },
        Value::Object(m) => (
            m.get("algorithm").and_then(Value::as_str).unwrap_or("").to_ascii_lowercase(),
            m.get("value").and_then(Value::as_str).unwrap_or("").to_ascii_lowercase(),
        ),
        _ => return Err("checksum must be \"sha256:HEX\" or {algorithm, value}".into()),
    };
    if alg != "sha256" {
        return Err(format!("checksum algorithm {alg:?} is not supported; use sha256"));
    }
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{hex:?} is not a sha256 hex digest"));
    }
    Ok(Checksum { algorithm: alg, value: hex })
}

/// Finds the sha256 for `filename` in a checksum file (`HEX  name` lines, or a bare digest).
pub fn checksum_from_text(text: &str, filename: &str) -> Option<String> {
    let is_hex = |t: &str| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit());
    let lines: Vec<&str> = text.lines().collect();
    let named = lines.iter().find(|l| l.split_whitespace().any(|t| t.trim_start_matches('*').ends_with(filename)));
    named
        .into_iter()
        .chain(lines.iter())
        .flat_map(|l| l.split_whitespace())
        .find(|t| is_hex(t))
        .map(str::to_ascii_lowercase)
}

fn filename_for(url: &str, id: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.path_segments().and_then(|mut s| s.next_back().map(str::to_string)))
        .filter(|s| !s.is_empty() && s.contains('.'))
        .unwrap_or_else(|| format!("{id}.owl"))
}

/// Plans one spec: tries each resolver of the chain; the first candidate whose URL passes
/// the url gate and whose licence is accepted wins.
pub async fn plan(
    spec: &SpecInput,
    fetcher: &Fetcher,
    ep: &Endpoints,
    secrets: &Secrets,
    accept_licenses: &[String],
) -> Result<Plan, ResolveError> {
    let mut attempts = Vec::new();
    let mut last_code = Code::Resolve;
    for (i, resolver) in spec.chain.iter().enumerate() {
        let result = async {
            let c = candidate(resolver, spec, fetcher, ep, secrets).await?;
            let url =
                fetcher.check_url(&c.url).map_err(|e| Failure { url: Some(c.url.clone()), ..Failure::from(e) })?;
            if !license::accepted(c.license.as_deref(), accept_licenses) {
                return Err(Failure {
                    code: Code::License,
                    message: format!("licence {:?} is not in accept_licenses", c.license.clone().unwrap_or_default()),
                    url: Some(url.to_string()),
                });
            }
            let mut expected = match spec.extras.get("checksum") {
                Some(v) => Some(parse_checksum(v).map_err(|m| fail(Code::ConfigInvalid, m))?),
                None => None,
            };
            let filename = filename_for(url.as_str(), &spec.id);
            if expected.is_none()
                && let Some(cu) = extra_str(&spec.extras, "checksum_url")
            {
                let bytes = fetcher.get_small(cu, c.service, "text/plain", 256 * 1024, None).await?;
                let text = String::from_utf8_lossy(&bytes);
                let value = checksum_from_text(&text, &filename)
                    .ok_or_else(|| fail(Code::Checksum, format!("no sha256 digest in {cu}")))?;
                expected = Some(Checksum { algorithm: "sha256".into(), value });
            }
            Ok((c, url, expected, filename))
        }
        .await;
        match result {
            Ok((c, url, expected, filename)) => {
                attempts.push(Attempt {
                    resolver: resolver.clone(),
                    url: Some(url.to_string()),
                    attempt: i + 1,
                    status: "ok".into(),
                    code: None,
                    error: None,
                });
                return Ok(Plan {
                    id: spec.id.clone(),
                    resolver: resolver.clone(),
                    url: url.to_string(),
                    version: c.version,
                    license: c.license,
                    media_type: c.media_type,
                    service: c.service.to_string(),
                    filename,
                    expected_checksum: expected,
                    target_formats: spec.target_formats.clone(),
                    resolver_attempts: attempts,
                    credential: c.credential,
                });
            }
            Err(f) => {
                last_code = f.code;
                attempts.push(Attempt {
                    resolver: resolver.clone(),
                    url: f.url,
                    attempt: i + 1,
                    status: "failed".into(),
                    code: Some(f.code),
                    error: Some(f.message),
                });
            }
        }
    }
    Err(ResolveError::Exhausted { id: spec.id.clone(), code: last_code, attempts })
}

/// The lockfile/plan JSON of a plan (DocsToKG `plan_to_dict` fields; no credentials).
pub fn plan_to_value(p: &Plan) -> Value {
    serde_json::json!({
        "id": p.id,
        "resolver": p.resolver,
        "url": p.url,
        "version": p.version,
        "license": p.license,
        "media_type": p.media_type,
        "service": p.service,
        "filename": p.filename,
        "target_formats": p.target_formats,
        "expected_checksum": p.expected_checksum,
        "candidates": p.resolver_attempts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_parse_in_every_form() {
        let h = "ab".repeat(32);
        assert_eq!(parse_checksum(&Value::String(format!("sha256:{h}"))).unwrap().value, h);
        assert_eq!(parse_checksum(&Value::String(h.to_uppercase())).unwrap().value, h);
        assert!(parse_checksum(&serde_json::json!({"algorithm": "md5", "value": "00"})).is_err());
        assert!(parse_checksum(&Value::String("sha256:xyz".into())).is_err());
        let text = format!("{}  other.owl\n{h} *bfo.owl\n", "cd".repeat(32));
        assert_eq!(checksum_from_text(&text, "bfo.owl").as_deref(), Some(h.as_str()));
        assert_eq!(checksum_from_text(&h, "x.owl").as_deref(), Some(h.as_str()));
    }

    #[test]
    fn filenames_come_from_the_url() {
        assert_eq!(filename_for("https://purl.obolibrary.org/obo/bfo.owl", "bfo"), "bfo.owl");
        assert_eq!(filename_for("https://data.bioontology.org/ontologies/NCIT/download", "ncit"), "ncit.owl");
    }
}
