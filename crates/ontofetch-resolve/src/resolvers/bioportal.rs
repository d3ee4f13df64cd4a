//! BioPortal's latest submission (`/ontologies/{ACR}/latest_submission`): version,
//! `hasLicense`, the ontology language (the file's extension) and the download, authorised
//! by the API key, which is bound to the BioPortal host and sent nowhere else.

use super::{Candidate, Failure, extra_str, fail, str_at};
use crate::license;
use ontofetch_config::{Endpoints, Secrets, SpecInput};
use ontofetch_net::{Fetcher, HostCredential};
use ontofetch_policy::Code;
use serde_json::Value;

pub(super) async fn candidate(
    spec: &SpecInput,
    fetcher: &Fetcher,
    ep: &Endpoints,
    secrets: &Secrets,
) -> Result<Candidate, Failure> {
    let credential = credential(ep, secrets)?;
    let acronym =
        extra_str(&spec.extras, "acronym").map(str::to_string).unwrap_or_else(|| spec.id.to_ascii_uppercase());
    // `hasLicense` (and the language) are only returned when asked for
    // (ncbo/ontologies_linked_data, ontology_submission.rb).
    let url = format!(
        "{}/ontologies/{acronym}/latest_submission?display=submissionId,version,released,hasLicense,hasOntologyLanguage",
        ep.bioportal
    );
    let sub = fetcher.get_json(&url, "bioportal", Some(&credential)).await?;
    Ok(submission(&sub, &ep.bioportal, &acronym, &spec.id, credential))
}

/// The BioPortal key as a credential bound to the BioPortal API host (and port).
pub(super) fn credential(ep: &Endpoints, secrets: &Secrets) -> Result<HostCredential, Failure> {
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

/// The file extension of a BioPortal `hasOntologyLanguage`.
fn extension(language: Option<&str>) -> &'static str {
    match language.map(str::to_ascii_uppercase).as_deref() {
        Some("OBO") => "obo",
        Some("UMLS") => "ttl",
        Some("SKOS") => "rdf",
        _ => "owl",
    }
}

/// The latest submission: the download is `/ontologies/{ACR}/download` (it streams,
/// authorised by the key; `links.download` is not in the displayed fields).
fn submission(sub: &Value, base: &str, acronym: &str, id: &str, credential: HostCredential) -> Candidate {
    let language = str_at(sub, "/hasOntologyLanguage");
    let url = str_at(sub, "/links/download")
        .map(str::to_string)
        .unwrap_or_else(|| format!("{base}/ontologies/{acronym}/download"));
    Candidate {
        url,
        version: str_at(sub, "/version").map(str::to_string),
        license: str_at(sub, "/hasLicense").map(license::normalize),
        media_type: language.map(|l| {
            match extension(Some(l)) {
                "obo" => "text/obo",
                "ttl" => "text/turtle",
                _ => "application/rdf+xml",
            }
            .to_string()
        }),
        service: "bioportal",
        credential: Some(credential),
        filename: Some(format!("{}.{}", id.to_ascii_lowercase(), extension(language))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ontofetch_testsupport::registries::{self, fill};

    #[test]
    fn the_submission_maps_version_licence_download_and_name() {
        let cred = HostCredential { host: "h".into(), port: None, header: "Authorization".into(), value: "k".into() };
        let sub: Value = serde_json::from_str(&fill(registries::BIOPORTAL_SUBMISSION, &[])).unwrap();
        let c = submission(&sub, "https://data.bioontology.org", "NCIT", "ncit", cred.clone());
        assert_eq!(c.url, "https://data.bioontology.org/ontologies/NCIT/download");
        assert_eq!((c.version.as_deref(), c.license.as_deref()), (Some("24.01d"), Some("CC-BY-4.0")));
        assert_eq!(c.filename.as_deref(), Some("ncit.owl"));
        let obo = serde_json::json!({"hasOntologyLanguage": "OBO"});
        let c = submission(&obo, "https://b", "GO", "go", cred);
        assert_eq!((c.filename.as_deref(), c.media_type.as_deref()), (Some("go.obo"), Some("text/obo")));
        assert_eq!(c.license, None);
    }
}
