//! `export catalog-xml`: an OASIS XML catalog (`catalog-v001.xml`, what Protégé, ROBOT and
//! the OWL API read) that maps each mirrored ontology's IRIs — the URL it was pulled from,
//! its OBO PURL, its own ontology IRI (`owl:Ontology rdf:about`, what other ontologies'
//! `owl:imports` name), its `owl:versionIRI` — to the mirror's copy, so imports resolve
//! from the mirror instead of the registries. A version IRI maps to its own version; every
//! other name to `latest`.

use crate::Backends;
use crate::error::PipelineError;
use ontofetch_store::layout;
use std::collections::BTreeSet;
use std::fmt::Write;

/// One IRI → mirror mapping.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Mapping {
    /// The IRI consumers ask for.
    pub name: String,
    /// Where the mirror has it.
    pub uri: String,
}

fn attr(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\t', "&#9;")
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
}

/// Whether a name read from a file (a version IRI) is an IRI a catalog can carry: http(s),
/// parseable, and free of whitespace, controls and the characters XML 1.0 forbids. Anything
/// else is dropped rather than altered or allowed to make the document not well-formed.
fn is_iri(name: &str) -> bool {
    (name.starts_with("http://") || name.starts_with("https://"))
        && !name.chars().any(|c| c.is_control() || c.is_whitespace() || matches!(c, '\u{FFFE}' | '\u{FFFF}'))
        && url::Url::parse(name).is_ok()
}

/// The IRIs of every latest version, mapped to `base_url` (the served mirror) or, without
/// one, to the stored file's location.
pub async fn mappings(b: &Backends, base_url: Option<&str>) -> Result<Vec<Mapping>, PipelineError> {
    let mut out = BTreeSet::new();
    for row in b.catalog.latest_all().await? {
        let rel = layout::original_rel(&row.filename);
        let served = |version: &str| match base_url {
            Some(base) => format!("{}/ontologies/{}/{version}/{rel}", base.trim_end_matches('/'), row.ontology),
            None => b.store.location(&format!("{}/{rel}", row.relpath)),
        };
        let uri = served(layout::LATEST);
        let mut names = vec![row.url.clone()];
        if row.resolver == "obo" {
            let ext = row.filename.rsplit_once('.').map_or("owl", |(_, e)| e);
            names.push(format!("http://purl.obolibrary.org/obo/{}.{ext}", row.ontology));
        }
        for v in b.catalog.validations(&row.ontology, &row.version).await.unwrap_or_default() {
            let details: serde_json::Value = serde_json::from_str(&v.details).unwrap_or_default();
            // A version IRI names that version: it maps to it, not to whatever is latest.
            if let Some(iri) = details["version_iri"].as_str().filter(|i| is_iri(i)) {
                out.insert(Mapping { name: iri.to_string(), uri: served(&row.version) });
            }
            if let Some(iri) = details["ontology_iri"].as_str() {
                names.push(iri.to_string());
            }
        }
        for name in names.into_iter().filter(|n| is_iri(n)) {
            out.insert(Mapping { name, uri: uri.clone() });
        }
    }
    Ok(out.into_iter().collect())
}

/// The catalog document.
pub fn catalog_xml(mappings: &[Mapping]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n\
         <catalog prefer=\"public\" xmlns=\"urn:oasis:names:tc:entity:xmlns:1.0:catalog\">\n",
    );
    for (i, m) in mappings.iter().enumerate() {
        let _ = writeln!(out, "    <uri id=\"ontofetch-{i}\" name=\"{}\" uri=\"{}\"/>", attr(&m.name), attr(&m.uri));
    }
    out.push_str("</catalog>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_targets_are_escaped() {
        let xml = catalog_xml(&[Mapping { name: "https://x.org/a?b=1&c=\"2\"".into(), uri: "http://m/o/a".into() }]);
        assert!(xml.contains("name=\"https://x.org/a?b=1&amp;c=&quot;2&quot;\""), "{xml}");
        assert!(xml.ends_with("</catalog>\n"));
    }

    #[test]
    fn only_iris_are_mapped() {
        assert!(is_iri("http://purl.obolibrary.org/obo/go/releases/2025-01-01/go.owl"));
        for bad in [
            "http://x.org/a\u{1}b",
            "http://x.org/a b",
            "http://x.org/a\nb",
            "urn:x",
            "http://x.org/\u{FFFF}",
            "http://",
        ] {
            assert!(!is_iri(bad), "{bad:?}");
        }
        assert!(catalog_xml(&[Mapping { name: "https://x.org/o".into(), uri: "a\tb".into() }]).contains("a&#9;b"));
    }
}
