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
    /// Which credential binding applies (`bioportal`), kept in lockfiles so a replay
    /// authenticates again; the key itself never leaves the secrets.
    pub credential_binding: Option<String>,
    /// The file name is a guess (the URL's last segment names no file, e.g. BioPortal's
    /// `/download`): the server's `Content-Disposition` may name it instead.
    #[serde(skip)]
    pub filename_guessed: bool,
    /// The licence stayed unknown while `accept_licenses` was set (fetched with a warning).
    pub license_unknown: bool,
}

/// Why planning failed.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// Every resolver in the chain failed.
    #[error("no resolver could plan {id}: {}", summary(.attempts))]
    Exhausted {
        /// Ontology id.
        id: String,
        /// The code of the primary (first) resolver's failure.
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
    /// A file name the registry's metadata implies (BioPortal's ontology language).
    filename: Option<String>,
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
                filename: None,
            })
        }
        "ols" => {
            let id = spec.id.to_ascii_lowercase();
            let api = format!("{}/api/ontologies/{id}", ep.ols);
            let doc = fetcher.get_json(&api, "ols", None).await?;
            let mut c = ols_v1(&doc).ok_or_else(|| fail(Code::Resolve, format!("{api} has no config.fileLocation")))?;
            // OLS4's V1 document has no licence; V2 has `license: {label, url, logo}`. A V2
            // failure leaves the licence unknown, it does not fail the plan.
            let v2 = format!("{}/api/v2/ontologies/{id}", ep.ols);
            match fetcher.get_json(&v2, "ols", None).await {
                Ok(doc) => c.license = ols_v2_license(&doc),
                Err(e) => tracing::debug!(url = %v2, error = %e, "no OLS V2 document; licence unknown"),
            }
            Ok(c)
        }
        "bioportal" => {
            let credential = bioportal_credential(ep, secrets)?;
            let acronym =
                extra_str(&spec.extras, "acronym").map(str::to_string).unwrap_or_else(|| spec.id.to_ascii_uppercase());
            // `hasLicense` (and the language) are only returned when asked for
            // (ncbo/ontologies_linked_data, ontology_submission.rb).
            let sub = fetcher
                .get_json(
                    &format!(
                        "{}/ontologies/{acronym}/latest_submission?display=submissionId,version,released,hasLicense,hasOntologyLanguage",
                        ep.bioportal
                    ),
                    "bioportal",
                    Some(&credential),
                )
                .await?;
            Ok(bioportal_submission(&sub, &ep.bioportal, &acronym, &spec.id, credential))
        }
        "direct" | "skos" | "xbrl" => {
            let url = extra_str(&spec.extras, "url")
                .ok_or_else(|| fail(Code::ConfigInvalid, format!("the {resolver} resolver needs extras.url")))?;
            // A lockfile entry of a registry that needs a key says so; the key comes from the
            // secrets again and only ever goes to that registry's host.
            let credential = match extra_str(&spec.extras, "credential") {
                Some("bioportal") => Some(bioportal_credential(ep, secrets)?),
                Some(other) => {
                    return Err(fail(
                        Code::ConfigInvalid,
                        format!("unknown credential binding {other:?} (known: bioportal)"),
                    ));
                }
                None => None,
            };
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
                credential,
                filename: extra_str(&spec.extras, "filename").map(str::to_string),
            })
        }
        "lov" => {
            // `vocab=` takes a prefix, URI or namespace (pyvandenbussche/lov,
            // app/controllers/vocabularies.js); anything else is a 500.
            let vocab = extra_str(&spec.extras, "uri")
                .or_else(|| extra_str(&spec.extras, "prefix"))
                .unwrap_or(spec.id.as_str())
                .to_string();
            let mut api = url::Url::parse(&format!("{}/api/v2/vocabulary/info", ep.lov))
                .map_err(|e| fail(Code::ConfigInvalid, format!("LOV base {}: {e}", ep.lov)))?;
            api.query_pairs_mut().append_pair("vocab", &vocab);
            let doc = fetcher.get_json(api.as_str(), "lov", None).await?;
            let mut c = lov_latest(&doc)
                .ok_or_else(|| fail(Code::Resolve, format!("LOV lists no version with a fileURL for {vocab}")))?;
            if let Some(m) = extra_str(&spec.extras, "media_type") {
                c.media_type = Some(m.to_string());
            }
            Ok(c)
        }
        other => Err(fail(Code::ResolverUnavailable, format!("resolver {other:?} is not implemented yet"))),
    }
}

/// The BioPortal key as a credential bound to the BioPortal API host (and port).
fn bioportal_credential(ep: &Endpoints, secrets: &Secrets) -> Result<HostCredential, Failure> {
    let key = secrets.bioportal_api_key.clone().ok_or_else(|| {
        fail(Code::ConfigInvalid, "no BioPortal API key (set BIOPORTAL_API_KEY or write configs/bioportal_api_key.txt)")
    })?;
    let base = url::Url::parse(&ep.bioportal)
        .map_err(|e| fail(Code::ConfigInvalid, format!("BioPortal base {}: {e}", ep.bioportal)))?;
    Ok(HostCredential {
        host: base.host_str().unwrap_or_default().to_string(),
        port: base.port_or_known_default(),
        header: "Authorization".into(),
        value: format!("apikey token={key}"),
    })
}

fn str_at<'a>(doc: &'a Value, pointer: &str) -> Option<&'a str> {
    doc.pointer(pointer).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

/// OLS4 V1 `GET /api/ontologies/{id}`: the download is `config.fileLocation`; the version is
/// `config.version` (owl:versionInfo, often null), else read from `config.versionIri`.
fn ols_v1(doc: &Value) -> Option<Candidate> {
    let url = str_at(doc, "/config/fileLocation")?.to_string();
    let version = str_at(doc, "/config/version")
        .map(str::to_string)
        .or_else(|| str_at(doc, "/config/versionIri").map(crate::version::sniff_iri));
    Some(Candidate { url, version, license: None, media_type: None, service: "ols", credential: None, filename: None })
}

/// OLS4 V2 `GET /api/v2/ontologies/{id}`: `license: {label, url, logo}` (a plain string in
/// some loads).
fn ols_v2_license(doc: &Value) -> Option<String> {
    str_at(doc, "/license/url")
        .or_else(|| str_at(doc, "/license/label"))
        .or_else(|| str_at(doc, "/license"))
        .map(license::normalize)
}

/// The file extension of a BioPortal `hasOntologyLanguage`.
fn bioportal_extension(language: Option<&str>) -> &'static str {
    match language.map(str::to_ascii_uppercase).as_deref() {
        Some("OBO") => "obo",
        Some("UMLS") => "ttl",
        Some("SKOS") => "rdf",
        _ => "owl",
    }
}

/// BioPortal's latest submission: version, `hasLicense`, and the download, which is
/// `/ontologies/{ACR}/download` (it streams, authorised by the key; `links.download` is
/// not in the displayed fields).
fn bioportal_submission(sub: &Value, base: &str, acronym: &str, id: &str, credential: HostCredential) -> Candidate {
    let language = str_at(sub, "/hasOntologyLanguage");
    let url = str_at(sub, "/links/download")
        .map(str::to_string)
        .unwrap_or_else(|| format!("{base}/ontologies/{acronym}/download"));
    Candidate {
        url,
        version: str_at(sub, "/version").map(str::to_string),
        license: str_at(sub, "/hasLicense").map(license::normalize),
        media_type: language.map(|l| {
            match bioportal_extension(Some(l)) {
                "obo" => "text/obo",
                "ttl" => "text/turtle",
                _ => "application/rdf+xml",
            }
            .to_string()
        }),
        service: "bioportal",
        credential: Some(credential),
        filename: Some(format!("{}.{}", id.to_ascii_lowercase(), bioportal_extension(language))),
    }
}

/// LOV's vocabulary document: `versions[]` (`name`, `issued`, `fileURL`), oldest first; the
/// latest is the highest `issued` (ISO dates sort as text). No licence key.
fn lov_latest(doc: &Value) -> Option<Candidate> {
    let versions = doc.get("versions")?.as_array()?;
    let latest = versions
        .iter()
        .filter(|v| str_at(v, "/fileURL").is_some())
        .max_by(|a, b| str_at(a, "/issued").unwrap_or("").cmp(str_at(b, "/issued").unwrap_or("")))?;
    Some(Candidate {
        url: str_at(latest, "/fileURL")?.to_string(),
        version: str_at(latest, "/name").or_else(|| str_at(latest, "/issued")).map(str::to_string),
        license: None,
        media_type: None,
        service: "lov",
        credential: None,
        filename: None,
    })
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

/// The URL's last path segment when it names a file (has an extension).
fn filename_from_url(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.path_segments().and_then(|mut s| s.next_back().map(str::to_string)))
        .filter(|s| !s.is_empty() && s.contains('.'))
}

/// What `accept_licenses` and `reject_unknown_licenses` say.
#[derive(Debug, Clone, Copy)]
pub struct LicensePolicy<'a> {
    /// Accepted SPDX ids (empty: everything).
    pub accept: &'a [String],
    /// Refuse a source whose licence stays unknown (else: fetched, with a warning).
    pub reject_unknown: bool,
}

/// Plans one spec: tries each resolver of the chain; the first candidate whose URL passes
/// the url gate and whose licence is accepted wins.
pub async fn plan(
    spec: &SpecInput,
    fetcher: &Fetcher,
    ep: &Endpoints,
    secrets: &Secrets,
    licenses: &LicensePolicy<'_>,
) -> Result<Plan, ResolveError> {
    let accept_licenses = licenses.accept;
    let mut attempts = Vec::new();
    let mut first_code = Code::Resolve;
    for (i, resolver) in spec.chain.iter().enumerate() {
        let result = async {
            let c = candidate(resolver, spec, fetcher, ep, secrets).await?;
            let url =
                fetcher.check_url(&c.url).map_err(|e| Failure { url: Some(c.url.clone()), ..Failure::from(e) })?;
            if c.license.is_none() && !accept_licenses.is_empty() && licenses.reject_unknown {
                return Err(Failure {
                    code: Code::License,
                    message: "the licence is unknown and defaults.reject_unknown_licenses is set".into(),
                    url: Some(url.to_string()),
                });
            }
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
            let guessed = filename_from_url(url.as_str()).is_none();
            let filename = match (&c.filename, filename_from_url(url.as_str())) {
                (Some(f), _) => f.clone(),
                (None, Some(f)) => f,
                (None, None) => format!("{}.owl", spec.id),
            };
            if expected.is_none()
                && let Some(cu) = extra_str(&spec.extras, "checksum_url")
            {
                let bytes = fetcher.get_small(cu, c.service, "text/plain", 256 * 1024, None).await?;
                let text = String::from_utf8_lossy(&bytes);
                let value = checksum_from_text(&text, &filename)
                    .ok_or_else(|| fail(Code::Checksum, format!("no sha256 digest in {cu}")))?;
                expected = Some(Checksum { algorithm: "sha256".into(), value });
            }
            Ok((c, url, expected, filename, guessed))
        }
        .await;
        match result {
            Ok((c, url, expected, filename, guessed)) => {
                attempts.push(Attempt {
                    resolver: resolver.clone(),
                    url: Some(url.to_string()),
                    attempt: i + 1,
                    status: "ok".into(),
                    code: None,
                    error: None,
                });
                let license_unknown = c.license.is_none() && !accept_licenses.is_empty();
                let credential_binding = c
                    .credential
                    .as_ref()
                    .map(|_| extra_str(&spec.extras, "credential").unwrap_or(resolver).to_string());
                return Ok(Plan {
                    credential_binding,
                    filename_guessed: guessed,
                    license_unknown,
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
                // The primary resolver's failure is the one reported (the fallbacks' follow).
                if attempts.is_empty() {
                    first_code = f.code;
                }
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
    Err(ResolveError::Exhausted { id: spec.id.clone(), code: first_code, attempts })
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
        "credential": p.credential_binding,
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

    use ontofetch_testsupport::registries::{self, fill};

    fn doc(fixture: &str, pairs: &[(&str, &str)]) -> Value {
        serde_json::from_str(&fill(fixture, pairs)).unwrap()
    }

    #[test]
    fn ols_v1_gives_the_file_and_version_and_v2_the_licence() {
        let c = ols_v1(&doc(registries::OLS_V1, &[("file", "https://x.org/efo.owl")])).unwrap();
        assert_eq!(c.url, "https://x.org/efo.owl");
        assert_eq!(c.version.as_deref(), Some("v3.62.0"), "versionInfo is null: read from versionIri");
        assert_eq!(c.license, None, "V1 has no licence");
        assert_eq!(ols_v2_license(&doc(registries::OLS_V2, &[])).as_deref(), Some("Apache-2.0"));
        assert_eq!(ols_v2_license(&serde_json::json!({"license": "CC BY 4.0"})).as_deref(), Some("CC-BY-4.0"));
        assert_eq!(ols_v2_license(&serde_json::json!({"ontologyId": "x"})), None);
        assert!(ols_v1(&serde_json::json!({"config": {"fileLocation": null}})).is_none());
    }

    #[test]
    fn bioportal_submission_maps_version_licence_download_and_name() {
        let cred = HostCredential { host: "h".into(), port: None, header: "Authorization".into(), value: "k".into() };
        let sub = doc(registries::BIOPORTAL_SUBMISSION, &[]);
        let c = bioportal_submission(&sub, "https://data.bioontology.org", "NCIT", "ncit", cred.clone());
        assert_eq!(c.url, "https://data.bioontology.org/ontologies/NCIT/download");
        assert_eq!((c.version.as_deref(), c.license.as_deref()), (Some("24.01d"), Some("CC-BY-4.0")));
        assert_eq!(c.filename.as_deref(), Some("ncit.owl"));
        let obo = serde_json::json!({"hasOntologyLanguage": "OBO"});
        let c = bioportal_submission(&obo, "https://b", "GO", "go", cred);
        assert_eq!((c.filename.as_deref(), c.media_type.as_deref()), (Some("go.obo"), Some("text/obo")));
        assert_eq!(c.license, None);
    }

    #[test]
    fn lov_takes_the_latest_issued_version_not_the_first() {
        let c = lov_latest(&doc(
            registries::LOV_INFO,
            &[("old", "https://x.org/old.rdf"), ("file", "https://x.org/new.rdf")],
        ))
        .unwrap();
        assert_eq!((c.url.as_str(), c.version.as_deref()), ("https://x.org/new.rdf", Some("v0.99")));
        assert_eq!(c.license, None);
        assert!(lov_latest(&serde_json::json!({"prefix": "x", "versions": []})).is_none());
    }

    #[test]
    fn filenames_come_from_the_url() {
        assert_eq!(filename_from_url("https://purl.obolibrary.org/obo/bfo.owl").as_deref(), Some("bfo.owl"));
        assert_eq!(filename_from_url("https://data.bioontology.org/ontologies/NCIT/download"), None);
    }
}
