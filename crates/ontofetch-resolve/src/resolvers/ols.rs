//! EBI OLS4: V1 `GET /api/ontologies/{id}` names the file (`config.fileLocation`) and the
//! version; V2 `GET /api/v2/ontologies/{id}` the licence.

use super::{Candidate, Failure, fail, str_at};
use crate::license;
use ontofetch_config::{Endpoints, SpecInput};
use ontofetch_net::Fetcher;
use ontofetch_policy::Code;
use serde_json::Value;

pub(super) async fn candidate(spec: &SpecInput, fetcher: &Fetcher, ep: &Endpoints) -> Result<Candidate, Failure> {
    let id = spec.id.to_ascii_lowercase();
    let api = format!("{}/api/ontologies/{id}", ep.ols);
    let doc = fetcher.get_json(&api, "ols", None).await?;
    let mut c = v1(&doc).ok_or_else(|| fail(Code::Resolve, format!("{api} has no config.fileLocation")))?;
    // OLS4's V1 document has no licence; V2 has `license: {label, url, logo}`. A V2 failure
    // leaves the licence unknown, it does not fail the plan.
    let v2 = format!("{}/api/v2/ontologies/{id}", ep.ols);
    match fetcher.get_json(&v2, "ols", None).await {
        Ok(doc) => c.license = v2_license(&doc),
        Err(e) => tracing::debug!(url = %v2, error = %e, "no OLS V2 document; licence unknown"),
    }
    Ok(c)
}

/// V1: the download is `config.fileLocation`; the version is `config.version`
/// (owl:versionInfo, often null), else read from `config.versionIri`.
fn v1(doc: &Value) -> Option<Candidate> {
    let url = str_at(doc, "/config/fileLocation")?.to_string();
    let version = str_at(doc, "/config/version")
        .map(str::to_string)
        .or_else(|| str_at(doc, "/config/versionIri").map(crate::version::sniff_iri));
    Some(Candidate { url, version, license: None, media_type: None, service: "ols", credential: None, filename: None })
}

/// V2: `license: {label, url, logo}` (a plain string in some loads).
fn v2_license(doc: &Value) -> Option<String> {
    str_at(doc, "/license/url")
        .or_else(|| str_at(doc, "/license/label"))
        .or_else(|| str_at(doc, "/license"))
        .map(license::normalize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ontofetch_testsupport::registries::{self, fill};

    fn doc(fixture: &str, pairs: &[(&str, &str)]) -> Value {
        serde_json::from_str(&fill(fixture, pairs)).unwrap()
    }

    #[test]
    fn v1_gives_the_file_and_version_and_v2_the_licence() {
        let c = v1(&doc(registries::OLS_V1, &[("file", "https://x.org/efo.owl")])).unwrap();
        assert_eq!(c.url, "https://x.org/efo.owl");
        assert_eq!(c.version.as_deref(), Some("v3.62.0"), "versionInfo is null: read from versionIri");
        assert_eq!(c.license, None, "V1 has no licence");
        assert_eq!(v2_license(&doc(registries::OLS_V2, &[])).as_deref(), Some("Apache-2.0"));
        assert_eq!(v2_license(&serde_json::json!({"license": "CC BY 4.0"})).as_deref(), Some("CC-BY-4.0"));
        assert_eq!(v2_license(&serde_json::json!({"ontologyId": "x"})), None);
        assert!(v1(&serde_json::json!({"config": {"fileLocation": null}})).is_none());
    }
}
