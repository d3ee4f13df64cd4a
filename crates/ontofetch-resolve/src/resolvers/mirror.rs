//! Another ontofetch mirror (`resolver: mirror`, `extras: {url, key}`): its API's latest
//! version of the ontology, and the original's URL on that mirror. The plan carries the
//! mirror and the verifier key to trust, so the pull verifies the mirror's signed
//! attestation and its transparency log before it stores anything (docs/provenance.md,
//! "Mirrors that pull from mirrors").

use super::{Candidate, Failure, extra_str, fail, str_at};
use ontofetch_config::SpecInput;
use ontofetch_net::Fetcher;
use ontofetch_policy::Code;

/// The upstream mirror a plan comes from, and the key its attestations must verify under.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MirrorRef {
    /// The mirror's base URL (`serve`'s address), without a trailing slash.
    pub url: String,
    /// Its verifier key (`name+id+key`, as `ontofetch keys show` prints it there).
    pub key: String,
}

/// The mirror and key an entry names (`extras.url`, `extras.key`).
pub(crate) fn reference(spec: &SpecInput) -> Result<MirrorRef, Failure> {
    let url = extra_str(&spec.extras, "url").ok_or_else(|| {
        fail(Code::ConfigInvalid, "the mirror resolver needs extras.url (the other mirror's address)")
    })?;
    let key = extra_str(&spec.extras, "key").ok_or_else(|| {
        fail(
            Code::ConfigInvalid,
            "the mirror resolver needs extras.key: the other mirror's verifier key (`ontofetch keys show` there)",
        )
    })?;
    Ok(MirrorRef { url: url.trim_end_matches('/').to_string(), key: key.to_string() })
}

pub(super) async fn candidate(spec: &SpecInput, fetcher: &Fetcher) -> Result<Candidate, Failure> {
    let mirror = reference(spec)?;
    let api = format!("{}/api/v1/ontologies/{}", mirror.url, spec.id);
    let doc = fetcher.get_json(&api, "mirror", None).await?;
    let latest =
        str_at(&doc, "/latest").ok_or_else(|| fail(Code::Resolve, format!("{api} names no latest version")))?;
    let row = doc["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["version"].as_str() == Some(latest))
        .ok_or_else(|| fail(Code::Resolve, format!("{api} does not list its latest version {latest}")))?;
    let filename =
        str_at(row, "/filename").ok_or_else(|| fail(Code::Resolve, format!("{api}: {latest} names no file")))?;
    let url = original_url(&mirror.url, &spec.id, latest, filename)
        .ok_or_else(|| fail(Code::UrlInvalid, format!("{} is not a URL", mirror.url)))?;
    Ok(Candidate {
        url,
        version: Some(latest.to_string()),
        license: str_at(row, "/license").map(str::to_string),
        media_type: str_at(row, "/content_type").map(str::to_string),
        service: "mirror",
        credential: None,
        filename: Some(filename.to_string()),
    })
}

/// `{base}/ontologies/{id}/{version}/original/{file}`, each segment encoded.
fn original_url(base: &str, id: &str, version: &str, file: &str) -> Option<String> {
    file_url(base, id, version, &["original", file])
}

/// A file of a version on the mirror.
pub fn file_url(base: &str, id: &str, version: &str, rel: &[&str]) -> Option<String> {
    let mut url = url::Url::parse(base).ok()?;
    {
        let mut path = url.path_segments_mut().ok()?;
        path.pop_if_empty().push("ontologies").push(id).push(version);
        for seg in rel {
            path.push(seg);
        }
    }
    Some(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_urls_encode_each_segment() {
        assert_eq!(
            original_url("http://m.example:9464/", "hp", "2025-01-01", "hp.owl").as_deref(),
            Some("http://m.example:9464/ontologies/hp/2025-01-01/original/hp.owl")
        );
        assert_eq!(
            file_url("https://m.example/team", "hp", "v 1", &["a/b"]).as_deref(),
            Some("https://m.example/team/ontologies/hp/v%201/a%2Fb")
        );
    }

    #[test]
    fn an_entry_names_its_mirror_and_key() {
        let spec = |extras: serde_json::Value| SpecInput {
            id: "hp".into(),
            chain: vec!["mirror".into()],
            extras: serde_json::from_value(extras).unwrap(),
            target_formats: vec![],
            normalize_to: vec![],
        };
        let Ok(r) = reference(&spec(serde_json::json!({"url": "http://m/", "key": "k+1+a"}))) else { panic!("named") };
        assert_eq!((r.url.as_str(), r.key.as_str()), ("http://m", "k+1+a"));
        let Err(missing) = reference(&spec(serde_json::json!({"url": "http://m"}))) else { panic!("no key") };
        assert_eq!(missing.code, Code::ConfigInvalid);
    }
}
