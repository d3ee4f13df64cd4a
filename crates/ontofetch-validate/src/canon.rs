//! RDFC-1.0 canonical N-Triples through rdf-canon, for graphs with blank nodes (which
//! speaks oxrdf 0.2; oxrdfio parses into oxrdf 0.3, so terms are carried across). The
//! whole graph is held in memory, so this runs as a job of its own, only up to
//! `rdfc_max_mb`: if it dies, the validation that came before it stands.

use crate::render::{HashedFile, renderings};
use crate::{Detected, Normalize, Outcome, Status};
use oxrdf02 as o2;
use std::io::{BufReader, Write};
use std::path::Path;

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
    let mut parser = oxrdfio::RdfParser::from_format(format).for_reader(BufReader::with_capacity(1 << 20, file));
    let mut quads = Vec::new();
    for q in parser.by_ref() {
        match q {
            Ok(q) => quads.push(q),
            Err(e) => return out.fail(format!("{format} parse error: {e}")),
        }
    }
    let prefixes: Vec<(String, String)> = parser.prefixes().map(|(p, i)| (p.to_string(), i.to_string())).collect();
    out.statements = quads.len() as u64;
    out.blank_nodes = true;
    let text = match canonical_ntriples(&quads) {
        Ok(t) => t,
        Err(e) => {
            out.skip_normalization(format!("RDFC-1.0 failed: {e}"));
            return out;
        }
    };
    drop(quads);
    let written = (|| {
        std::fs::create_dir_all(&n.dir)?;
        let mut nt = HashedFile::create(n.dir.join(format!("{}.nt", n.stem)))?;
        nt.write_all(text.as_bytes())?;
        let nt = nt.finish("nt")?;
        let mut outputs = renderings(Path::new(&nt.path), &prefixes, n)?;
        outputs.insert(0, nt);
        Ok::<_, std::io::Error>(outputs)
    })();
    match written {
        Ok(outputs) => {
            out.normalization = Some("rdfc-1.0".into());
            out.normalized_sha256 = outputs.first().map(|o| o.sha256.clone());
            out.normalized_path = outputs.first().map(|o| o.path.clone());
            out.outputs = outputs;
        }
        Err(e) => out.skip_normalization(format!("writing the normalised files: {e}")),
    }
    out
}

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
