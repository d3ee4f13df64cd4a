//! The fallback planner: from an ontology spec to one download plan, trying the resolvers
//! of its chain in order (crate::resolvers). Every candidate URL a resolver produces —
//! including URLs read from registry metadata — goes through the url gate before it is
//! accepted, then the licence policy and the expected checksum.

use crate::license;
use crate::resolvers::{Failure, Resolver, extra_str, fail};
use ontofetch_config::{Endpoints, Secrets, SpecInput};
use ontofetch_net::{Fetcher, HostCredential};
use ontofetch_policy::Code;
use serde::Serialize;
use serde_json::Value;

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
    /// How the resolver did.
    pub status: AttemptStatus,
    /// The stable code of the failure.
    pub code: Option<Code>,
    /// Why it failed.
    pub error: Option<String>,
}

/// How one resolver attempt ended (`ok` / `failed` in manifests and lockfiles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AttemptStatus {
    /// It produced the plan.
    Ok,
    /// It failed; `code` and `error` say why.
    Failed,
}

impl AttemptStatus {
    /// The text manifests record.
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptStatus::Ok => "ok",
            AttemptStatus::Failed => "failed",
        }
    }
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
    /// Formats to download, in order of preference.
    pub target_formats: Vec<String>,
    /// Renderings to write after validation.
    pub normalize_to: Vec<String>,
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
    /// Licences this entry accepts besides `accept_licenses` (`extras.accept_licenses`),
    /// kept in lockfiles so a replay judges the file's own licence the same way.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entry_licenses: Vec<String>,
    /// SHA-256 of the registry snapshot that answered (the `obo`, `bioregistry` and
    /// `ontobee` resolvers), kept in lockfiles so `plan-diff` can say an answer changed
    /// because the registry did.
    pub registry_snapshot: Option<String>,
    /// The entry says its source is deliberately not an ontology (`extras.opaque: true`): a
    /// version no validator recognises is stored as `unvalidated` instead of failing, and
    /// still never displaces a validated version (docs/architecture.md, "Invariants", I3).
    #[serde(default)]
    pub opaque: bool,
    /// The ontofetch mirror the plan comes from (`resolver: mirror`) and the key its
    /// attestation and log must verify under before anything is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror: Option<crate::resolvers::mirror::MirrorRef>,
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

/// Why an expected checksum is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChecksumError {
    /// Neither a string nor `{algorithm, value}`.
    #[error("checksum must be \"sha256:HEX\" or {{algorithm, value}}")]
    Shape,
    /// An algorithm other than sha256.
    #[error("checksum algorithm {0:?} is not supported; use sha256")]
    Algorithm(String),
    /// Not 64 hex digits.
    #[error("{0:?} is not a sha256 hex digest")]
    Digest(String),
}

/// A checksum in the configuration or a lockfile is its input: a malformed one is invalid
/// configuration.
impl ontofetch_policy::Coded for ChecksumError {
    fn code(&self) -> Code {
        Code::ConfigInvalid
    }
}

/// Parses `extras.checksum` (`sha256:HEX`, bare 64-hex, or `{algorithm, value}`).
pub fn parse_checksum(value: &Value) -> Result<Checksum, ChecksumError> {
    let (alg, hex) = match value {
        Value::String(s) => match s.split_once(':') {
            Some((a, h)) => (a.trim().to_ascii_lowercase(), h.trim().to_ascii_lowercase()),
            None => ("sha256".to_string(), s.trim().to_ascii_lowercase()),
        },
        Value::Object(m) => (
            m.get("algorithm").and_then(Value::as_str).unwrap_or("").to_ascii_lowercase(),
            m.get("value").and_then(Value::as_str).unwrap_or("").to_ascii_lowercase(),
        ),
        _ => return Err(ChecksumError::Shape),
    };
    if alg != "sha256" {
        return Err(ChecksumError::Algorithm(alg));
    }
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ChecksumError::Digest(hex));
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

/// `extras.accept_licenses` of an entry: a list, or one licence.
fn entry_licenses(spec: &SpecInput) -> Vec<String> {
    match spec.extras.get("accept_licenses") {
        Some(serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_str()).map(str::to_string).collect(),
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// Plans one spec: tries each resolver of the chain; the first candidate whose URL passes
/// the url gate and whose licence is accepted wins. `registry` is called only by resolvers
/// that read the snapshot: parsing it is most of a `direct` pull's fixed cost otherwise.
pub async fn plan<'r>(
    spec: &SpecInput,
    fetcher: &Fetcher,
    ep: &Endpoints,
    secrets: &Secrets,
    licenses: &LicensePolicy<'_>,
    registry: &(dyn Fn() -> &'r crate::registry::Registry + Sync),
) -> Result<Plan, ResolveError> {
    let entry_licenses = entry_licenses(spec);
    let accept_licenses = licenses.accept;
    let mut attempts = Vec::new();
    let mut first_code = Code::Resolve;
    for (i, resolver) in spec.chain.iter().enumerate() {
        let result = async {
            let r = Resolver::parse(resolver).ok_or_else(|| {
                fail(Code::ResolverUnavailable, format!("resolver {resolver:?} is not implemented yet"))
            })?;
            let c = r.candidate(spec, fetcher, ep, secrets, registry).await?;
            let url =
                fetcher.check_url(&c.url).map_err(|e| Failure { url: Some(c.url.clone()), ..Failure::from(e) })?;
            let judged = license::judge(
                &spec.id,
                c.license.as_deref(),
                accept_licenses,
                &entry_licenses,
                licenses.reject_unknown,
            );
            if judged.verdict == license::Verdict::Refused {
                return Err(Failure { code: Code::License, message: judged.why, url: Some(url.to_string()) });
            }
            let mut expected = match spec.extras.get("checksum") {
                Some(v) => Some(parse_checksum(v).map_err(|m| fail(Code::ConfigInvalid, m.to_string()))?),
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
                let bytes = fetcher.get_small(cu, c.service, "text/plain", fetcher.max_checksum_bytes(), None).await?;
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
                    status: AttemptStatus::Ok,
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
                    entry_licenses: entry_licenses.clone(),
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
                    normalize_to: spec.normalize_to.clone(),
                    resolver_attempts: attempts,
                    credential: c.credential,
                    registry_snapshot: Resolver::parse(resolver)
                        .is_some_and(Resolver::reads_registry)
                        .then(|| registry().source.sha256.clone()),
                    opaque: spec_is_opaque(&spec.extras),
                    mirror: (Resolver::parse(resolver) == Some(Resolver::Mirror))
                        .then(|| crate::resolvers::mirror::reference(spec).ok())
                        .flatten(),
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
                    status: AttemptStatus::Failed,
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
    let mut v = serde_json::json!({
        "id": p.id,
        "resolver": p.resolver,
        "url": p.url,
        "version": p.version,
        "license": p.license,
        "media_type": p.media_type,
        "service": p.service,
        "filename": p.filename,
        "target_formats": p.target_formats,
        "normalize_to": p.normalize_to,
        "expected_checksum": p.expected_checksum,
        "candidates": p.resolver_attempts,
        "credential": p.credential_binding,
        "registry_snapshot": p.registry_snapshot,
    });
    // Only when set: DocsToKG's lockfiles have no such key, and ours stay readable by it.
    if p.opaque {
        v["opaque"] = Value::Bool(true);
    }
    v
}

/// Whether an entry's extras declare the source opaque (`opaque: true`).
pub fn spec_is_opaque(extras: &std::collections::BTreeMap<String, Value>) -> bool {
    extras.get("opaque").and_then(Value::as_bool).unwrap_or(false)
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
        assert_eq!(filename_from_url("https://purl.obolibrary.org/obo/bfo.owl").as_deref(), Some("bfo.owl"));
        assert_eq!(filename_from_url("https://data.bioontology.org/ontologies/NCIT/download"), None);
    }
}
