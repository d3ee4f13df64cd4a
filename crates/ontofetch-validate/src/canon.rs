//! RDFC-1.0 canonical N-Triples through rdf-canon (which speaks oxrdf 0.2; oxrdfio parses
//! into oxrdf 0.3, so terms are carried across).

use oxrdf02 as o2;

fn named(n: &oxrdf::NamedNode) -> o2::NamedNode {
    o2::NamedNode::new_unchecked(n.as_str())
}

fn subject(s: &oxrdf::NamedOrBlankNode) -> o2::Subject {
    match s {
        oxrdf::NamedOrBlankNode::NamedNode(n) => o2::Subject::NamedNode(named(n)),
        oxrdf::NamedOrBlankNode::BlankNode(b) => o2::Subject::BlankNode(o2::BlankNode::new_unchecked(b.as_str())),
    }
}

fn term(t: &oxrdf::Term) -> Result<o2::Term, String> {
    Ok(match t {
        oxrdf::Term::NamedNode(n) => o2::Term::NamedNode(named(n)),
        oxrdf::Term::BlankNode(b) => o2::Term::BlankNode(o2::BlankNode::new_unchecked(b.as_str())),
        oxrdf::Term::Literal(l) => o2::Term::Literal(match l.language() {
            Some(lang) => o2::Literal::new_language_tagged_literal_unchecked(l.value(), lang),
            None => o2::Literal::new_typed_literal(l.value(), o2::NamedNode::new_unchecked(l.datatype().as_str())),
        }),
        #[allow(unreachable_patterns)]
        _ => return Err("RDF 1.2 triple terms are not canonicalised".into()),
    })
}

/// The RDFC-1.0 canonical form of the default graph (and named graphs, as N-Quads lines).
pub fn canonical_ntriples(quads: &[oxrdf::Quad]) -> Result<String, String> {
    let mut converted = Vec::with_capacity(quads.len());
    for q in quads {
        let graph = match &q.graph_name {
            oxrdf::GraphName::DefaultGraph => o2::GraphName::DefaultGraph,
            oxrdf::GraphName::NamedNode(n) => o2::GraphName::NamedNode(named(n)),
            oxrdf::GraphName::BlankNode(b) => o2::GraphName::BlankNode(o2::BlankNode::new_unchecked(b.as_str())),
        };
        converted.push(o2::Quad::new(subject(&q.subject), named(&q.predicate), term(&q.object)?, graph));
    }
    rdf_canon::canonicalize_quads(&converted).map_err(|e| e.to_string())
}
