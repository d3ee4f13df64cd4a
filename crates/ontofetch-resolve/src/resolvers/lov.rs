//! Linked Open Vocabularies: `GET /api/v2/vocabulary/info?vocab=…` lists `versions[]`
//! (`name`, `issued`, `fileURL`), oldest first; the latest issued one is taken. LOV
//! publishes no licence key.

use super::{Candidate, Failure, extra_str, fail, str_at};
use ontofetch_config::{Endpoints, SpecInput};
use ontofetch_net::Fetcher;
use ontofetch_policy::Code;
use serde_json::Value;

pub(super) async fn candidate(spec: &SpecInput, fetcher: &Fetcher, ep: &Endpoints) -> Result<Candidate, Failure> {
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
    let mut c =
        latest(&doc).ok_or_else(|| fail(Code::Resolve, format!("LOV lists no version with a fileURL for {vocab}")))?;
    if let Some(m) = extra_str(&spec.extras, "media_type") {
        c.media_type = Some(m.to_string());
    }
    Ok(c)
}

/// The highest `issued` (ISO dates sort as text) with a `fileURL`.
fn latest(doc: &Value) -> Option<Candidate> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use ontofetch_testsupport::registries::{self, fill};

    #[test]
    fn the_latest_issued_version_is_taken_not_the_first() {
        let doc: Value = serde_json::from_str(&fill(
            registries::LOV_INFO,
            &[("old", "https://x.org/old.rdf"), ("file", "https://x.org/new.rdf")],
        ))
        .unwrap();
        let c = latest(&doc).unwrap();
        assert_eq!((c.url.as_str(), c.version.as_deref()), ("https://x.org/new.rdf", Some("v0.99")));
        assert_eq!(c.license, None);
        assert!(latest(&serde_json::json!({"prefix": "x", "versions": []})).is_none());
    }
}
