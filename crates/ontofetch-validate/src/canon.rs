//! The second pass for a graph with blank nodes: RDFC-1.0 canonical N-Quads in bounded
//! memory ([`crate::rdfc`]), for any size, written as `<stem>.nt` with the renderings asked
//! for. It runs as a job of its own: if it fails or dies, the validation before it stands
//! and the manifest says why there is no hash. The in-memory implementation (rdf-canon)
//! is kept as the reference the bounded one is tested against.

use crate::ValidateError;
use crate::render::Rendering;
use crate::{Detected, Normalize, Outcome, Status};
#[cfg(test)]
use oxrdf02 as o2;
use std::io::BufReader;
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// Parses, canonicalises and writes `<stem>.nt` (and the renderings asked for).
pub fn run(path: &Path, detected: Detected, n: &Normalize) -> Outcome {
    let mut out = Outcome::new("rdf", detected, Status::Ok, None);
    let Some(format) = detected.rdf_format() else {
        return out.fail("no RDF parser for this format");
    };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return out.fail(format!("cannot read {}: {e}", path.display())),
    };
    out.blank_nodes = true;
    if let Err(e) = std::fs::create_dir_all(&n.dir) {
        out.skip_normalization(format!("cannot create {}: {e}", n.dir.display()));
        return out;
    }
    let mut parser = oxrdfio::RdfParser::from_format(format).for_reader(BufReader::with_capacity(1 << 20, file));
    let limits = crate::rdfc::Limits { budget: n.sort_memory_bytes as usize, max_component: n.rdfc_max_component };
    // The renderings start when the merge writes its first line, after the parse: the
    // parse's last step hands them the source's prefixes.
    let prefixes = Arc::new(OnceLock::new());
    let mut nt = match Rendering::create(n, prefixes.clone()) {
        Ok(nt) => nt,
        Err(e) => {
            out.skip_normalization(format!("writing the canonical N-Quads: {e}"));
            return out;
        }
    };
    let tags = n.language_tags(path, detected);
    let quads = std::iter::from_fn(|| match parser.next() {
        Some(q) => {
            Some(q.map(|q| tags.restore(q)).map_err(|e| ValidateError::parser(format!("{format} parse error"), e)))
        }
        None => {
            let _ = prefixes.set(parser.prefixes().map(|(p, i)| (p.to_string(), i.to_string())).collect());
            None
        }
    });
    // On an error, dropping the unfinished rendering removes what it wrote.
    let canonical = match crate::rdfc::canonicalize(quads, &n.dir, &limits, &mut nt) {
        Ok(c) => c,
        Err(crate::rdfc::RdfcError::Parse(e)) => return out.fail(e.to_string()),
        Err(e) => {
            out.skip_normalization(format!("RDFC-1.0: {e}"));
            return out;
        }
    };
    out.statements = canonical.quads;
    match nt.finish() {
        Ok(finished) => {
            out.normalization = Some(tags.mode("rdfc-1.0"));
            out.normalization_note = tags.note.clone();
            out.normalized_sha256 = Some(canonical.sha256);
            out.normalized_path = finished.outputs.first().map(|nt| nt.path.clone());
            out.outputs = finished.outputs;
            out.renderings_skipped = finished.skipped;
        }
        Err(e) => out.skip_normalization(format!("writing the normalised files: {e}")),
    }
    out
}

#[cfg(test)]
fn named(n: &oxrdf::NamedNode) -> o2::NamedNode {
    o2::NamedNode::new_unchecked(n.as_str())
}

#[cfg(test)]
fn subject(s: &oxrdf::NamedOrBlankNode) -> o2::Subject {
    match s {
        oxrdf::NamedOrBlankNode::NamedNode(n) => o2::Subject::NamedNode(named(n)),
        oxrdf::NamedOrBlankNode::BlankNode(b) => o2::Subject::BlankNode(o2::BlankNode::new_unchecked(b.as_str())),
    }
}

#[cfg(test)]
fn term(t: &oxrdf::Term) -> Option<o2::Term> {
    Some(match t {
        oxrdf::Term::NamedNode(n) => o2::Term::NamedNode(named(n)),
        oxrdf::Term::BlankNode(b) => o2::Term::BlankNode(o2::BlankNode::new_unchecked(b.as_str())),
        oxrdf::Term::Literal(l) => o2::Term::Literal(match l.language() {
            Some(lang) => o2::Literal::new_language_tagged_literal_unchecked(l.value(), lang),
            None => o2::Literal::new_typed_literal(l.value(), o2::NamedNode::new_unchecked(l.datatype().as_str())),
        }),
        #[allow(unreachable_patterns)]
        _ => return None,
    })
}

/// The RDFC-1.0 canonical form by rdf-canon, in memory: the reference the bounded
/// implementation is tested against; `None` where it gives no answer (a graph too
/// symmetric for its call limit, RDF 1.2 triple terms).
#[cfg(test)]
pub fn canonical_ntriples(quads: &[oxrdf::Quad]) -> Option<String> {
    let mut converted = Vec::with_capacity(quads.len());
    for q in quads {
        let graph = match &q.graph_name {
            oxrdf::GraphName::DefaultGraph => o2::GraphName::DefaultGraph,
            oxrdf::GraphName::NamedNode(n) => o2::GraphName::NamedNode(named(n)),
            oxrdf::GraphName::BlankNode(b) => o2::GraphName::BlankNode(o2::BlankNode::new_unchecked(b.as_str())),
        };
        converted.push(o2::Quad::new(subject(&q.subject), named(&q.predicate), term(&q.object)?, graph));
    }
    rdf_canon::canonicalize_quads(&converted).ok()
}
