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

/// `len` bytes in no format at all, the same for the same `seed` (xorshift): what a broken
/// upstream may answer with 200.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ seed;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect()
}
