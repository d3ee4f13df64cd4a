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

/// A name an ontology claims (its `owl:Ontology` or version IRI) that another source owns:
/// not mapped, reported.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct DroppedClaim {
    /// The IRI claimed.
    pub name: String,
    /// The ontology that claimed it.
    pub claimed_by: String,
    /// Who owns it (an OBO PURL's id, or the ontology pulled from that URL), or the
    /// claimant that was kept when several claimed a name nobody owns.
    pub owner: String,
}

/// The ontology an OBO PURL belongs to (`…/obo/bfo.owl`, `…/obo/bfo/releases/…` → `bfo`):
/// whatever a stored file claims, that IRI is the OBO id's.
pub fn purl_owner(iri: &str) -> Option<String> {
    let rest = iri.strip_prefix("http://").or_else(|| iri.strip_prefix("https://"))?;
    let path = rest.strip_prefix("purl.obolibrary.org/obo/")?;
    let first = path.split('/').next()?;
    let id = if path.contains('/') { first } else { first.rsplit_once('.').map_or(first, |(stem, _)| stem) };
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then(|| id.to_ascii_lowercase())
}

/// One name a version answers to, before each name is given to one ontology.
struct Candidate {
    name: String,
    uri: String,
    ontology: String,
    /// The ontology's own: the URL it was pulled from, its OBO PURL.
    owned: bool,
}

/// The IRIs of every latest version, mapped to `base_url` (the served mirror) or, without
/// one, to the stored file's location. Each name is mapped once: to the ontology that owns
/// it (the one pulled from that URL, or whose OBO PURL it is) when there is one; a claim
/// (an ontology's own or version IRI) on a name another source owns is dropped and
/// reported, and of several claims on a name nobody owns the first (by id) is kept.
pub async fn mappings(
    b: &Backends,
    base_url: Option<&str>,
) -> Result<(Vec<Mapping>, Vec<DroppedClaim>), PipelineError> {
    let mut candidates = Vec::new();
    for row in b.catalog.latest_all().await? {
        let rel = layout::original_rel(&row.filename);
        // A file of the version (`rel` under its directory), as the catalog serves it.
        let served = |version: &str, rel: &str| match base_url {
            Some(base) => format!("{}/ontologies/{}/{version}/{rel}", base.trim_end_matches('/'), row.ontology),
            None => b.store.location(&format!("{}/{rel}", row.relpath)),
        };
        let uri = served(layout::LATEST, &rel);
        let mut add = |name: String, uri: String, owned: bool| {
            if is_iri(&name) {
                candidates.push(Candidate { name, uri, ontology: row.ontology.clone(), owned });
            }
        };
        add(row.url.clone(), uri.clone(), true);
        if row.resolver == "obo" {
            let ext = row.filename.rsplit_once('.').map_or("owl", |(_, e)| e);
            add(format!("http://purl.obolibrary.org/obo/{}.{ext}", row.ontology), uri.clone(), true);
            // What `owl:imports` name is the `.owl` PURL: an ontology pulled as OBO maps it to
            // its OWL translation (the RDF/XML rendering, else the Turtle).
            if ext == "obo" {
                let files = b.catalog.artifacts(&row.ontology, &row.version).await?;
                let pick = |e: &str| {
                    files.iter().find(|f| {
                        f.kind == ontofetch_catalog::ArtifactKind::Normalized && f.relpath.ends_with(&format!(".{e}"))
                    })
                };
                if let Some(f) = pick("owl").or_else(|| pick("ttl"))
                    && let Some(rel) = f.relpath.strip_prefix(&format!("{}/", row.relpath))
                {
                    let translated = served(layout::LATEST, rel);
                    add(format!("http://purl.obolibrary.org/obo/{}.owl", row.ontology), translated, true);
                }
            }
        }
        for v in b.catalog.validations(&row.ontology, &row.version).await.unwrap_or_default() {
            let details: serde_json::Value = serde_json::from_str(&v.details).unwrap_or_default();
            // A version IRI names that version: it maps to it, not to whatever is latest.
            if let Some(iri) = details["version_iri"].as_str() {
                add(iri.to_string(), served(&row.version, &rel), false);
            }
            if let Some(iri) = details["ontology_iri"].as_str() {
                add(iri.to_string(), uri.clone(), false);
            }
        }
    }
    Ok(assign(candidates))
}

/// Gives each name to one ontology (see [`mappings`]).
fn assign(mut candidates: Vec<Candidate>) -> (Vec<Mapping>, Vec<DroppedClaim>) {
    // Owned first, then by ontology id: the first candidate of a name is the one kept.
    candidates.sort_by(|a, b| (&a.name, !a.owned, &a.ontology).cmp(&(&b.name, !b.owned, &b.ontology)));
    let mut out = BTreeSet::new();
    let mut dropped = BTreeSet::new();
    let mut kept: Option<(String, String)> = None;
    for c in candidates {
        // A PURL belongs to its OBO id, stored or not: no other ontology's claim maps it.
        if let Some(owner) = purl_owner(&c.name).filter(|o| !c.owned && !o.eq_ignore_ascii_case(&c.ontology)) {
            dropped.insert(DroppedClaim { name: c.name, claimed_by: c.ontology, owner });
            continue;
        }
        match &kept {
            Some((name, by)) if *name == c.name => {
                if *by != c.ontology {
                    dropped.insert(DroppedClaim { name: c.name, claimed_by: c.ontology, owner: by.clone() });
                }
            }
            _ => {
                kept = Some((c.name.clone(), c.ontology.clone()));
                out.insert(Mapping { name: c.name, uri: c.uri });
            }
        }
    }
    (out.into_iter().collect(), dropped.into_iter().collect())
}

/// The catalog document, in the OASIS XML Catalogs namespace
/// (`urn:oasis:names:tc:entity:xmlns:xml:catalog`): the one libxml2's resolver and Protégé's
/// parser (which ROBOT and the OWL API use) read; elements in any other are ignored.
pub fn catalog_xml(mappings: &[Mapping]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n\
         <catalog prefer=\"public\" xmlns=\"urn:oasis:names:tc:entity:xmlns:xml:catalog\">\n",
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

    fn candidate(name: &str, ontology: &str, owned: bool) -> Candidate {
        Candidate { name: name.into(), uri: format!("m/{ontology}"), ontology: ontology.into(), owned }
    }

    /// An ontology whose own IRI is the BFO PURL (picking an id that sorts first) does not
    /// get the name: the PURL is BFO's whether or not BFO is stored, a URL is the ontology's
    /// pulled from it, and each name is mapped once; the dropped claims are reported.
    #[test]
    fn each_name_is_mapped_once_to_its_owner() {
        let bfo = "http://purl.obolibrary.org/obo/bfo.owl";
        let (maps, dropped) = assign(vec![
            candidate(bfo, "aaa-squatter", false),
            candidate(bfo, "bfo", true),
            candidate("http://x.org/core.owl", "core", true),
            candidate("http://x.org/core.owl", "aaa", false),
            candidate("http://x.org/shared", "zeta", false),
            candidate("http://x.org/shared", "beta", false),
        ]);
        let of = |name: &str| maps.iter().filter(|m| m.name == name).map(|m| m.uri.clone()).collect::<Vec<_>>();
        assert_eq!(of(bfo), ["m/bfo"]);
        assert_eq!(of("http://x.org/core.owl"), ["m/core"]);
        assert_eq!(of("http://x.org/shared"), ["m/beta"], "no owner: the first claimant by id");
        let claims: Vec<(&str, &str)> = dropped.iter().map(|d| (d.claimed_by.as_str(), d.owner.as_str())).collect();
        assert_eq!(claims, [("aaa-squatter", "bfo"), ("aaa", "core"), ("zeta", "beta")]);
        // Without BFO stored, the squatter still does not get its PURL.
        let (maps, dropped) = assign(vec![candidate(bfo, "aaa-squatter", false)]);
        assert!(maps.is_empty() && dropped.len() == 1);
        assert_eq!(purl_owner("http://purl.obolibrary.org/obo/bfo/2019-08-26/bfo.owl").as_deref(), Some("bfo"));
        assert_eq!(purl_owner("http://example.org/obo/bfo.owl"), None);
    }

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
