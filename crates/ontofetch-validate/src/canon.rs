//! The second pass for a graph with blank nodes: RDFC-1.0 canonical N-Quads in bounded
//! memory ([`crate::rdfc`]), for any size, written as `<stem>.nt` with the renderings asked
//! for. It runs as a job of its own: if it fails or dies, the validation before it stands
//! and the manifest says why there is no hash. The in-memory implementation (rdf-canon)
//! is kept as the reference the bounded one is tested against.

use crate::ValidateError;
use crate::render::Rendering;
use crate::tally::Tally;
use crate::terms::{FactsSink, FactsTap};
use crate::{Detected, Normalize, Outcome, Status};
#[cfg(test)]
use oxrdf02 as o2;
use std::io::BufReader;
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// Parses, canonicalises and writes `<stem>.nt` (and the renderings asked for).
pub fn run(path: &Path, detected: Detected, n: &Normalize, threads: usize) -> Outcome {
    canonical(path, detected, n, threads, None)
}

/// The fused job: one parse feeds the validation tally, the term facts and RDFC-1.0. A
/// ground graph's canonical form is its sorted N-Triples, byte for byte what the separate
/// validation writes, so it keeps that mode's name. What a caller does when this ends
/// without a hash (a component over the cap, a budget spent, a job killed): run the
/// validation on its own, which stands without canonicalisation.
pub fn fused(path: &Path, detected: Detected, n: &Normalize, threads: usize) -> Outcome {
    let dest = n.dir.join(format!("{}.terms.tsv", n.stem));
    // The facts sort in an eighth of the budget; RDFC-1.0 keeps the rest.
    let share = (n.sort_memory_bytes / 8) as usize;
    let facts = match n.terms.then(|| FactsTap::new(&dest, share)).transpose() {
        Ok(f) => f,
        Err(e) => {
            let out = Outcome::new("rdf", detected, Status::Ok, None);
            return Outcome { terms_error: Some(format!("term facts not written: {e}")), ..out };
        }
    };
    let budget = Normalize { sort_memory_bytes: n.sort_memory_bytes - share as u64, ..n.clone() };
    let mut tap = Tap { tally: Tally::new(None), facts, facts_error: None };
    let mut out = canonical(path, detected, &budget, threads, Some(&mut tap));
    let Tap { tally, facts, facts_error } = tap;
    if out.status != Status::Ok {
        return out;
    }
    out.statements = tally.statements;
    (out.terms, out.terms_estimated) = tally.subjects.count();
    out.imports = tally.imports;
    out.version_iri = tally.version_iri;
    out.ontology_iri = tally.ontology_iri;
    out.license = tally.license;
    out.data_version = tally.version_info;
    out.blank_nodes = tally.blank_nodes;
    if out.statements == 0 {
        return out.fail("zero triples");
    }
    if !out.blank_nodes && out.normalized_sha256.is_some() {
        out.normalization = out.normalization.map(|m| m.replacen("rdfc-1.0", "sorted-ntriples", 1));
    }
    match (facts_error, facts.map(FactsTap::finish)) {
        (Some(e), _) | (None, Some(Err(e))) => out.terms_error = Some(format!("term facts not written: {e}")),
        (None, Some(Ok(f))) => out.outputs.push(f),
        (None, None) => {}
    }
    out
}

/// What the fused job takes from each statement besides canonicalising it (with a
/// [`crate::terms::FactsWorker`]: what one thread of a parse in pieces takes).
struct Tap<F = FactsTap> {
    tally: Tally,
    facts: Option<F>,
    facts_error: Option<std::io::Error>,
}

impl<F: FactsSink> Tap<F> {
    fn quad(&mut self, q: oxrdf::QuadRef<'_>) {
        let _ = self.tally.add(q); // no sort: nothing to fail
        if let (Some(f), None) = (&mut self.facts, &self.facts_error)
            && let Err(e) = f.quad(q)
        {
            self.facts_error = Some(e);
        }
    }
}

fn canonical(path: &Path, detected: Detected, n: &Normalize, threads: usize, mut tap: Option<&mut Tap>) -> Outcome {
    let mut out = Outcome::new("rdf", detected, Status::Ok, None);
    let Some(format) = detected.rdf_format() else {
        return out.fail("no RDF parser for this format");
    };
    // RDF/XML passes the XML guard before any parse, as in the validation; its pass also
    // finds where the document may be cut for a parse on every core.
    let layout = match detected {
        Detected::RdfXml => match crate::rdfxml_layout(path, threads) {
            Ok(layout) => layout.filter(|l| !l.cuts.is_empty() && threads > 1),
            Err(why) => return out.fail(why.to_string()),
        },
        _ => None,
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
    if let Some(layout) = &layout {
        match in_pieces(path, layout, threads, &tags, &n.dir, &limits, &mut nt, tap.as_deref_mut(), &prefixes) {
            // A piece that does not parse: the sequential parse below finds the error and
            // its line (or parses what the cuts could not).
            Err(crate::rdfc::RdfcError::Parse(_)) => {}
            Ok(c) => return Outcome { parallel: true, ..finished(out, c, nt, &tags) },
            Err(e) => {
                out.skip_normalization(format!("RDFC-1.0: {e}"));
                return out;
            }
        }
    }
    let quads = std::iter::from_fn(|| match parser.next() {
        Some(q) => Some(
            q.map(|q| {
                let q = tags.restore(q);
                if let Some(t) = tap.as_deref_mut() {
                    t.quad(q.as_ref());
                }
                q
            })
            .map_err(|e| ValidateError::parser(format!("{format} parse error"), e)),
        ),
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
    finished(out, canonical, nt, &tags)
}

/// Records the canonical form and the renderings.
fn finished(
    mut out: Outcome,
    canonical: crate::rdfc::Canonical,
    nt: Rendering,
    tags: &crate::langtag::LanguageTags,
) -> Outcome {
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

/// RDFC-1.0 (with the tally and the facts) of an RDF/XML document parsed in pieces, on
/// `threads` threads, each feeding its own share; `Err(RdfcError::Parse)` when a piece did
/// not parse. The tap is only changed when every piece parsed.
#[allow(clippy::too_many_arguments)]
fn in_pieces(
    path: &Path,
    layout: &crate::xmlguard::Layout,
    threads: usize,
    tags: &crate::langtag::LanguageTags,
    dir: &Path,
    limits: &crate::rdfc::Limits,
    nt: &mut Rendering,
    tap: Option<&mut Tap>,
    prefixes: &OnceLock<Vec<(String, String)>>,
) -> Result<crate::rdfc::Canonical, crate::rdfc::RdfcError> {
    use crate::rdfc::RdfcError;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let pieces = crate::rdf::Pieces::read(path, layout)?;
    // The facts start over in a tap of their own: a failed attempt leaves the caller's as it was.
    let facts = match tap.as_ref().and_then(|t| t.facts.as_ref()) {
        Some(f) => Some(f.again()?),
        None => None,
    };
    let mut shares: Vec<Tap<crate::terms::FactsWorker>> = (0..threads)
        .map(|_| Tap { tally: Tally::new(None), facts: facts.as_ref().map(|f| f.worker(threads)), facts_error: None })
        .collect();
    let (next, failed) = (AtomicUsize::new(0), AtomicBool::new(false));
    let canonical = crate::rdfc::canonicalize_fed(dir, limits, nt, threads, |feeders| {
        let results: Vec<Result<(), RdfcError>> = std::thread::scope(|s| {
            let running: Vec<_> = feeders
                .iter_mut()
                .zip(shares.iter_mut())
                .map(|(feeder, share)| {
                    let (pieces, next, failed) = (&pieces, &next, &failed);
                    s.spawn(move || {
                        let mut refused = None;
                        while let Some(&span) = pieces.spans.get(next.fetch_add(1, Ordering::Relaxed)) {
                            if failed.load(Ordering::Relaxed) {
                                return Ok(());
                            }
                            let parsed = pieces.parse(path, span, &mut |q| {
                                let q = tags.restore(q);
                                share.quad(q.as_ref());
                                match feeder.push(q.as_ref()) {
                                    Ok(()) => true,
                                    Err(e) => {
                                        refused = Some(e);
                                        false
                                    }
                                }
                            });
                            if parsed.is_err() {
                                failed.store(true, Ordering::Relaxed);
                                return Err(refused.unwrap_or_else(|| RdfcError::Parse("a piece did not parse".into())));
                            }
                        }
                        Ok(())
                    })
                })
                .collect();
            running
                .into_iter()
                .map(|t| t.join().unwrap_or_else(|_| Err(RdfcError::Parse("a parsing thread panicked".into()))))
                .collect()
        });
        // A feeder's own failure (a triple term, a full disk) outranks a piece that stopped.
        let mut errors: Vec<RdfcError> = results.into_iter().filter_map(Result::err).collect();
        errors.sort_by_key(|e| matches!(e, RdfcError::Parse(_)));
        match errors.into_iter().next() {
            Some(e) => Err(e),
            None => {
                let _ = prefixes.set(pieces.prefixes());
                Ok(())
            }
        }
    })?;
    if let Some(tap) = tap {
        let mut merged = Tally::new(None);
        for share in shares {
            merged.merge(share.tally);
            let finished = share.facts.map(crate::terms::FactsWorker::finish).transpose();
            if let Some(e) = share.facts_error.or(finished.err()) {
                tap.facts_error.get_or_insert(e);
            }
        }
        tap.tally = merged;
        tap.facts = facts;
    }
    Ok(canonical)
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
