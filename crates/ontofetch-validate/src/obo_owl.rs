//! OBO → OWL, a batch of frames at a time: horned-owl's OBO 1.4 mapping (its `io::obo`
//! reader, pinned to the ROBOT/oboformat behaviour: classes, labels, definitions and
//! synonyms with their xrefs as axiom annotations, xrefs, is_a, relationships as
//! existential restrictions, obsoletes, `owl:versionIRI` from `data-version`) maps each
//! batch's frames to OWL axioms, and horned-owl's RDF writer turns them into triples that
//! oxttl writes as Turtle. fastobo-owl, the mapping crate of the fastobo family, is built
//! on horned-owl 1.x and cannot share types with the horned-owl 4 used here.
//!
//! What needs the whole document is taken from a pre-scan: the header (prefixes, idspaces,
//! default namespace) and the `[Typedef]` frames (relation shorthands such as
//! `part_of` → `BFO_0000050`, metadata tags). Each batch is finalised on its own
//! (declarations of the entities it references, labels of the built-in annotation
//! properties it uses), so such triples may be repeated across batches; a repeated triple
//! is the same graph. Blank nodes are renamed per batch so batches never share one.

use horned_owl::io::obo::reader::from_pair::{self, Context};
use horned_owl::io::obo::reader::lexer::{OboLexer, Rule};
use horned_owl::model::{AnnotatedComponent, Build, Component, RcStr};
use horned_owl::ontology::component_mapped::RcComponentMappedOntology;
use horned_pretty_rdf::{PTriple, RdfFormatter};
use oxrdf::{BlankNode, TripleRef};
use oxttl::turtle::LowLevelTurtleSerializer;
use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use crate::ValidateError;

/// What every batch needs to know about the document.
pub struct Converter {
    header_text: String,
    idspace: HashMap<String, String>,
    default_ns: Option<String>,
    onto_ns: Option<String>,
    rel_map: HashMap<String, String>,
    metadata_tags: BTreeSet<String>,
    prefixes: Vec<(String, String)>,
    prelude: Vec<u8>,
}

/// The `[Typedef]` frames of a file, read in one pass (they are few and usually last).
fn typedef_frames(path: &Path) -> std::io::Result<String> {
    let mut reader = BufReader::with_capacity(1 << 20, std::fs::File::open(path)?);
    let (mut out, mut line, mut inside) = (String::new(), String::new(), false);
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(out);
        }
        let t = line.trim_start();
        if t.starts_with('[') {
            inside = t.starts_with("[Typedef]");
            out.push('\n');
        }
        if inside {
            out.push_str(&line);
        }
    }
}

fn lex_error(e: horned_owl::error::HornedError) -> ValidateError {
    horned("the OBO→OWL lexer refused the document", e)
}

/// horned-owl's error holds a cause that is neither `Send` nor `Sync`, so it cannot travel
/// between the validator's threads as a source: its text is kept.
fn horned(what: &str, e: horned_owl::error::HornedError) -> ValidateError {
    ValidateError::Syntax(format!("{what}: {e}"))
}

/// The lexed document's root, or why there is none.
fn empty(what: &str) -> ValidateError {
    ValidateError::Syntax(format!("an empty {what}"))
}

impl Converter {
    /// Prepares the translation of the file whose header is `header_text`.
    pub fn new(path: &Path, header_text: &str) -> Result<Converter, ValidateError> {
        let typedefs = typedef_frames(path).map_err(|e| ValidateError::io(format!("reading {}", path.display()), e))?;
        let doc = format!("{header_text}\n{typedefs}");
        let root = OboLexer::lex(Rule::OboDoc, &doc).map_err(lex_error)?.next().ok_or_else(|| empty("OBO document"))?;
        let children: Vec<_> = root.into_inner().collect();
        let (mapping, idspace, default_ns, onto_ns) = match children.iter().find(|p| p.as_rule() == Rule::HeaderFrame) {
            Some(h) => from_pair::scan_header::<RcStr>(h),
            None => (from_pair::obo_prefixes(), HashMap::new(), None, None),
        };
        let rel_map = from_pair::build_rel_map(&children, &idspace, onto_ns.as_deref());
        let metadata_tags = from_pair::build_metadata_tags(&children, &idspace, onto_ns.as_deref(), &rel_map);
        let mut prefixes: Vec<(String, String)> =
            mapping.mappings().map(|(p, i)| (p.to_string(), i.to_string())).filter(|(p, _)| !p.is_empty()).collect();
        prefixes.sort();
        let mut c = Converter {
            header_text: header_text.to_string(),
            idspace,
            default_ns,
            onto_ns,
            rel_map,
            metadata_tags,
            prefixes,
            prelude: Vec::new(),
        };
        c.prelude = crate::render::turtle_prelude(&c.prefixes)
            .map_err(|e| ValidateError::io("writing the Turtle prefixes", e))?;
        Ok(c)
    }

    /// `owl:versionIRI` from `data-version` (horned-owl leaves it to the caller): the
    /// OBO PURL convention `obo:<ontology>/<data-version>/<ontology>.owl`, where a
    /// data-version that already starts with `<ontology>/` is not repeated (`hp.obo`'s
    /// `hp/releases/2024-04-26` → `obo:hp/releases/2024-04-26/hp.owl`).
    pub(crate) fn version_iri(&self) -> Option<String> {
        let clause = |tag: &str| {
            self.header_text.lines().find_map(|l| l.trim_start().strip_prefix(tag).map(|v| v.trim().to_string()))
        };
        let (ontology, version) = (clause("ontology:")?, clause("data-version:")?);
        if ontology.contains(':') || ontology.is_empty() || version.is_empty() {
            return None;
        }
        let path = if version.starts_with(&format!("{ontology}/")) { version } else { format!("{ontology}/{version}") };
        Some(format!("http://purl.obolibrary.org/obo/{path}/{ontology}.owl"))
    }

    /// The prefixes the Turtle declares.
    pub fn prefixes(&self) -> Vec<(String, String)> {
        self.prefixes.clone()
    }

    fn serializer(&self) -> std::io::Result<LowLevelTurtleSerializer> {
        crate::render::turtle_serializer(&self.prefixes)
    }

    fn context<'a>(&self, build: &'a Build<RcStr>) -> Context<'a, RcStr> {
        Context {
            build,
            idspace: self.idspace.clone(),
            default_ns: self.default_ns.clone(),
            onto_ns: self.onto_ns.clone(),
            rel_map: self.rel_map.clone(),
            metadata_tags: self.metadata_tags.clone(),
        }
    }

    /// The top of the Turtle file: the prefixes and the ontology's own triples.
    pub fn header(&self) -> Result<Vec<u8>, ValidateError> {
        let build = Build::new_rc();
        let ctx = self.context(&build);
        let root = OboLexer::lex(Rule::OboDoc, &self.header_text)
            .map_err(lex_error)?
            .next()
            .ok_or_else(|| empty("OBO document"))?;
        let mut comps = Vec::new();
        for h in root.into_inner().filter(|p| p.as_rule() == Rule::HeaderFrame) {
            comps.extend(from_pair::header_to_components(h, &ctx).map_err(|e| horned("the header", e))?);
        }
        if let Some(viri) = self.version_iri() {
            for c in &mut comps {
                if let Component::OntologyID(id) = &mut c.component {
                    id.viri = Some(build.iri(viri.clone()));
                }
            }
        }
        let mut out = self.prelude.clone();
        out.extend(self.render(from_pair::finalize(comps, &build), usize::MAX)?);
        Ok(out)
    }

    /// One batch of frames as Turtle (without the prelude).
    pub fn batch(&self, text: &str, index: usize) -> Result<Vec<u8>, ValidateError> {
        let build = Build::new_rc();
        let ctx = self.context(&build);
        let root = OboLexer::lex(Rule::OboDoc, text).map_err(lex_error)?.next().ok_or_else(|| empty("batch"))?;
        let mut comps = Vec::new();
        for frame in root.into_inner().filter(|p| p.as_rule() == Rule::EntityFrame) {
            if let Some(inner) = frame.into_inner().next() {
                comps.extend(from_pair::entity_to_components(inner, &ctx).map_err(|e| horned("a frame", e))?);
            }
        }
        self.render(from_pair::finalize(comps, &build), index)
    }

    fn render(&self, comps: Vec<AnnotatedComponent<RcStr>>, batch: usize) -> Result<Vec<u8>, ValidateError> {
        let ont: RcComponentMappedOntology = comps.into_iter().collect();
        let sink = Sink {
            ser: self.serializer().map_err(|e| ValidateError::io("starting the Turtle serializer", e))?,
            out: SkipPrelude { skip: self.prelude.len(), inner: Vec::new() },
            batch,
        };
        horned_owl::io::rdf::writer::write_to_rdf_formatter(&ont, sink)
            .map_err(|e| horned("writing the OWL translation as RDF", e))
    }
}

/// Drops the first `skip` bytes written (the serializer's prelude).
struct SkipPrelude {
    skip: usize,
    inner: Vec<u8>,
}

impl Write for SkipPrelude {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let dropped = self.skip.min(buf.len());
        self.skip -= dropped;
        self.inner.extend_from_slice(&buf[dropped..]);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Receives horned-owl's triples and writes them as Turtle.
struct Sink {
    ser: LowLevelTurtleSerializer,
    out: SkipPrelude,
    batch: usize,
}

impl Sink {
    fn node(&self, b: &oxrdf::BlankNodeRef<'_>) -> BlankNode {
        BlankNode::new_unchecked(format!("b{}x{}", self.batch, b.as_str()))
    }
}

impl<A: AsRef<str>> RdfFormatter<A, Vec<u8>> for Sink {
    fn format(&mut self, triple: PTriple<A>) -> std::io::Result<()> {
        // Borrowed as horned-owl made it; only a blank node is copied, to be renamed.
        let t: TripleRef<'_> = (&triple).into();
        let (renamed_subject, renamed_object);
        let subject = match t.subject {
            oxrdf::NamedOrBlankNodeRef::BlankNode(b) => {
                renamed_subject = self.node(&b);
                oxrdf::NamedOrBlankNodeRef::BlankNode(renamed_subject.as_ref())
            }
            other => other,
        };
        let object = match t.object {
            oxrdf::TermRef::BlankNode(b) => {
                renamed_object = self.node(&b);
                oxrdf::TermRef::BlankNode(renamed_object.as_ref())
            }
            other => other,
        };
        self.ser.serialize_triple(TripleRef::new(subject, t.predicate, object), &mut self.out)
    }

    fn finish(mut self) -> std::io::Result<Vec<u8>> {
        self.ser.finish(&mut self.out)?;
        Ok(self.out.inner)
    }
}
