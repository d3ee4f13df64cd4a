//! Small ontology documents the tests serve.

/// The media type of RDF/XML.
pub const RDF_XML: &str = "application/rdf+xml";

/// A tiny RDF/XML ontology: two triples (the ontology and, with `version_iri`, its
/// `owl:versionIRI`), and `filler` in a comment so contents can differ without changing
/// the graph.
pub fn owl(version_iri: Option<&str>, filler: &str) -> Vec<u8> {
    let v = version_iri.map(|v| format!("<owl:versionIRI rdf:resource=\"{v}\"/>")).unwrap_or_default();
    format!(
        "<?xml version=\"1.0\"?>\n<rdf:RDF xmlns:owl=\"http://www.w3.org/2002/07/owl#\" xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n<owl:Ontology rdf:about=\"http://x.org/o\">{v}</owl:Ontology>\n<!-- {filler} -->\n</rdf:RDF>\n"
    )
    .into_bytes()
}
