//! Differential: the bounded RDFC-1.0 implementation (external sorts, one blank-node
//! component at a time) against rdf-canon's in-memory one, on the N-Quads the input parses
//! to. Identical canonical N-Quads, or a poison graph both refuse to finish.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ontofetch_validate::rdfc::{Limits, RdfcError, canonicalize};
use oxrdf02 as o2;

fn convert(q: &oxrdf::Quad) -> Option<o2::Quad> {
    let named = |n: &oxrdf::NamedNode| o2::NamedNode::new_unchecked(n.as_str());
    let subject = match &q.subject {
        oxrdf::NamedOrBlankNode::NamedNode(n) => o2::Subject::NamedNode(named(n)),
        oxrdf::NamedOrBlankNode::BlankNode(b) => o2::Subject::BlankNode(o2::BlankNode::new_unchecked(b.as_str())),
    };
    let object = match &q.object {
        oxrdf::Term::NamedNode(n) => o2::Term::NamedNode(named(n)),
        oxrdf::Term::BlankNode(b) => o2::Term::BlankNode(o2::BlankNode::new_unchecked(b.as_str())),
        oxrdf::Term::Literal(l) => o2::Term::Literal(match l.language() {
            Some(lang) => o2::Literal::new_language_tagged_literal_unchecked(l.value(), lang),
            None => o2::Literal::new_typed_literal(l.value(), o2::NamedNode::new_unchecked(l.datatype().as_str())),
        }),
        #[allow(unreachable_patterns)]
        _ => return None,
    };
    let graph = match &q.graph_name {
        oxrdf::GraphName::DefaultGraph => o2::GraphName::DefaultGraph,
        oxrdf::GraphName::NamedNode(n) => o2::GraphName::NamedNode(named(n)),
        oxrdf::GraphName::BlankNode(b) => o2::GraphName::BlankNode(o2::BlankNode::new_unchecked(b.as_str())),
    };
    Some(o2::Quad::new(subject, named(&q.predicate), object, graph))
}

fuzz_target!(|data: &[u8]| {
    let quads: Vec<oxrdf::Quad> = match oxttl::NQuadsParser::new().for_slice(data).collect::<Result<_, _>>() {
        Ok(q) => q,
        Err(_) => return,
    };
    if quads.len() > 200 {
        return;
    }
    let Some(converted) = quads.iter().map(convert).collect::<Option<Vec<_>>>() else { return };
    let work = tempfile::tempdir().expect("tempdir");
    let mut ours = Vec::new();
    let bounded = canonicalize(
        quads.into_iter().map(Ok::<_, std::io::Error>),
        work.path(),
        &Limits { budget: 4 << 10, max_component: 10_000 },
        &mut ours,
    );
    let reference = rdf_canon::canonicalize_quads(&converted);
    match (bounded, reference) {
        (Ok(_), Ok(theirs)) => assert_eq!(String::from_utf8(ours).expect("UTF-8"), theirs),
        (Err(RdfcError::Poison(_)), _) | (_, Err(_)) => {}
        (Err(e), Ok(_)) => panic!("bounded RDFC failed where rdf-canon did not: {e}"),
    }
});
