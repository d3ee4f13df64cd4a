//! Format detection from the first bytes (and the file name only to break ties).

use serde::Serialize;

/// A detected format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Detected {
    /// RDF/XML.
    RdfXml,
    /// Turtle.
    Turtle,
    /// N-Triples.
    NTriples,
    /// N-Quads.
    NQuads,
    /// TriG.
    TriG,
    /// JSON-LD.
    JsonLd,
    /// OBO flat file.
    Obo,
    /// OWL/XML.
    OwlXml,
    /// OWL functional syntax.
    Ofn,
    /// An HTML page.
    Html,
    /// Zero bytes (or only whitespace).
    Empty,
    /// Something else.
    Unknown,
}

impl Detected {
    /// The oxrdfio format, for RDF syntaxes.
    pub fn rdf_format(self) -> Option<oxrdfio::RdfFormat> {
        Some(match self {
            Detected::RdfXml => oxrdfio::RdfFormat::RdfXml,
            Detected::Turtle => oxrdfio::RdfFormat::Turtle,
            Detected::NTriples => oxrdfio::RdfFormat::NTriples,
            Detected::NQuads => oxrdfio::RdfFormat::NQuads,
            Detected::TriG => oxrdfio::RdfFormat::TriG,
            Detected::JsonLd => oxrdfio::RdfFormat::JsonLd { profile: oxrdfio::JsonLdProfileSet::empty() },
            _ => return None,
        })
    }
}

/// Sniffs the format of a file from its first bytes.
pub fn sniff(head: &[u8], file_name: &str) -> Detected {
    let text = String::from_utf8_lossy(head);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.is_empty() {
        return Detected::Empty;
    }
    let lower = t.to_ascii_lowercase();
    if lower.starts_with("<!doctype html")
        || lower.starts_with("<html")
        || lower.starts_with("<head")
        || lower.starts_with("<body")
    {
        return Detected::Html;
    }
    let ext = file_name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    if t.starts_with('<') {
        if lower.contains("<rdf:rdf") || lower.contains("xmlns:rdf=") && !lower.contains("<ontology") {
            return Detected::RdfXml;
        }
        if lower.contains("<ontology") && lower.contains("http://www.w3.org/2002/07/owl#") {
            return Detected::OwlXml;
        }
        if lower.starts_with("<?xml") {
            return if ext == "owx" { Detected::OwlXml } else { Detected::RdfXml };
        }
        // `<http://…> <http://…> …` : N-Triples/N-Quads or Turtle written without prefixes.
        return match ext.as_str() {
            "nq" => Detected::NQuads,
            "ttl" | "turtle" => Detected::Turtle,
            "trig" => Detected::TriG,
            _ => Detected::NTriples,
        };
    }
    if t.starts_with('{') || t.starts_with('[') {
        return Detected::JsonLd;
    }
    if t.starts_with("Prefix(") || t.starts_with("Ontology(") {
        return Detected::Ofn;
    }
    let first = t.lines().next().unwrap_or("");
    if [
        "format-version:",
        "data-version:",
        "ontology:",
        "[Term]",
        "subsetdef:",
        "date:",
        "saved-by:",
        "default-namespace:",
    ]
    .iter()
    .any(|k| first.starts_with(k))
    {
        return Detected::Obo;
    }
    if lower.starts_with("@prefix")
        || lower.starts_with("@base")
        || lower.starts_with("prefix ")
        || lower.starts_with("base ")
        || t.starts_with('#')
    {
        return if ext == "trig" { Detected::TriG } else { Detected::Turtle };
    }
    if t.starts_with("_:") {
        return Detected::NTriples;
    }
    match ext.as_str() {
        "obo" => Detected::Obo,
        "ttl" => Detected::Turtle,
        _ => Detected::Unknown,
    }
}
