//! What a parse of RDF learns, one triple at a time: counts, distinct subjects, imports and
//! versions, whether there are blank nodes, and (when normalising) the triple's canonical
//! N-Triples line for the external sort. Each parsing thread has its own tally; tallies
//! merge at the end.

use crate::distinct::Distinct;
use crate::extsort::{RunWriter, Runs};
use crate::langtag::LanguageTags;
use oxrdf::{GraphNameRef, NamedOrBlankNodeRef, QuadRef, TermRef};
use std::fmt::Write as _;

const OWL_IMPORTS: &str = "http://www.w3.org/2002/07/owl#imports";
const OWL_VERSION_IRI: &str = "http://www.w3.org/2002/07/owl#versionIRI";
const OWL_VERSION_INFO: &str = "http://www.w3.org/2002/07/owl#versionInfo";
const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
const OWL_ONTOLOGY: &str = "http://www.w3.org/2002/07/owl#Ontology";
const LICENSES: &[&str] = &["http://purl.org/dc/terms/license", "http://creativecommons.org/ns#license"];

/// One thread's findings.
pub struct Tally {
    /// Triples (quads) seen.
    pub statements: u64,
    /// Distinct subjects.
    pub subjects: Distinct,
    /// `owl:imports` objects.
    pub imports: Vec<String>,
    /// `owl:versionIRI` object.
    pub version_iri: Option<String>,
    /// The first named `owl:Ontology`.
    pub ontology_iri: Option<String>,
    /// The first `dcterms:license` / `cc:license` of a named subject.
    pub license: Option<String>,
    /// First `owl:versionInfo`.
    pub version_info: Option<String>,
    /// A blank node was seen (the sorted form is then not canonical).
    pub blank_nodes: bool,
    sort: Option<RunWriter>,
    tags: std::sync::Arc<LanguageTags>,
    line: String,
}

impl Tally {
    /// A tally that feeds canonical lines into `runs` (with this share of memory, language
    /// tags as the source wrote them) when given.
    pub fn new(runs: Option<(&Runs, usize, std::sync::Arc<LanguageTags>)>) -> Tally {
        let tags = runs.as_ref().map(|r| r.2.clone()).unwrap_or_default();
        Tally {
            statements: 0,
            subjects: Distinct::default(),
            imports: Vec::new(),
            version_iri: None,
            ontology_iri: None,
            license: None,
            version_info: None,
            blank_nodes: false,
            sort: runs.map(|(r, budget, _)| RunWriter::new(r, budget)),
            tags,
            line: String::new(),
        }
    }

    /// Counts one quad.
    pub fn add(&mut self, q: QuadRef<'_>) -> std::io::Result<()> {
        self.statements += 1;
        match q.subject {
            NamedOrBlankNodeRef::NamedNode(n) => {
                self.subjects.insert(n.as_str().as_bytes());
                if self.license.is_none() && LICENSES.contains(&q.predicate.as_str()) {
                    self.license = Some(text(q.object));
                }
                if self.ontology_iri.is_none()
                    && q.predicate.as_str() == RDF_TYPE
                    && matches!(q.object, TermRef::NamedNode(o) if o.as_str() == OWL_ONTOLOGY)
                {
                    self.ontology_iri = Some(n.as_str().to_string());
                }
            }
            // Blank nodes are structure (restrictions, axioms, lists), not terms.
            NamedOrBlankNodeRef::BlankNode(_) => self.blank_nodes = true,
        }
        if matches!(q.object, TermRef::BlankNode(_)) || matches!(q.graph_name, GraphNameRef::BlankNode(_)) {
            self.blank_nodes = true;
        }
        match q.predicate.as_str() {
            OWL_IMPORTS => self.imports.push(text(q.object)),
            OWL_VERSION_IRI => self.version_iri = Some(text(q.object)),
            OWL_VERSION_INFO if self.version_info.is_none() => self.version_info = Some(text(q.object)),
            _ => {}
        }
        if self.blank_nodes {
            // Sorted lines are not canonical once blank nodes appear: stop sorting.
            self.sort = None;
        }
        if let Some(sort) = &mut self.sort {
            self.line.clear();
            let _ = match self.tags.restore_ref(q) {
                Some(written) => writeln!(self.line, "{written} ."),
                None => writeln!(self.line, "{q} ."),
            };
            sort.push(self.line.as_bytes())?;
        }
        Ok(())
    }

    /// Writes the last run of this thread's lines.
    pub fn finish_sort(&mut self) -> std::io::Result<()> {
        match self.sort.take() {
            Some(s) => s.finish(),
            None => Ok(()),
        }
    }

    /// Adds another thread's findings (its sort must be finished).
    pub fn merge(&mut self, other: Tally) {
        self.statements += other.statements;
        self.subjects.merge(&other.subjects);
        self.imports.extend(other.imports);
        self.version_iri = self.version_iri.take().or(other.version_iri);
        self.ontology_iri = self.ontology_iri.take().or(other.ontology_iri);
        self.license = self.license.take().or(other.license);
        self.version_info = self.version_info.take().or(other.version_info);
        self.blank_nodes |= other.blank_nodes;
    }
}

fn text(t: TermRef<'_>) -> String {
    match t {
        TermRef::NamedNode(n) => n.as_str().to_string(),
        TermRef::Literal(l) => l.value().to_string(),
        other => other.to_string(),
    }
}
