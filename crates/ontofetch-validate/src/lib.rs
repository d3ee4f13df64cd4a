//! Validation by detected format (OBO is not RDF): sniff the bytes, parse with a real
//! parser (oxrdfio for RDF/XML, Turtle, N-Triples, N-Quads, TriG, JSON-LD; fastobo for OBO),
//! report counts, imports and versions, refuse HTML/empty/zero-triple content, and
//! normalise RDF to canonical N-Triples (RDFC-1.0, so blank nodes hash deterministically).
//! OWL/XML and OWL functional syntax are parsed with horned-owl.

#![warn(missing_docs)]

mod canon;
mod owl;
mod sniff;
pub mod xmlguard;

pub use sniff::{Detected, sniff};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{BufReader, Read};
use std::path::Path;

/// ok / failed / skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Parsed and non-empty.
    Ok,
    /// Not what it claims, or unparseable.
    Failed,
    /// No validator for this format here (never counted as ok or failed).
    Skipped,
}

impl Status {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }
}

/// What validation found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    /// `rdf`, `obo` or `owl` (the metric label).
    pub validator: String,
    /// The verdict.
    pub status: Status,
    /// Detected format.
    pub format: Detected,
    /// Triples (RDF) or frames (OBO).
    pub statements: u64,
    /// Distinct subjects (RDF) or term frames (OBO).
    pub terms: u64,
    /// owl:imports / OBO import clauses.
    pub imports: Vec<String>,
    /// owl:versionIRI.
    pub version_iri: Option<String>,
    /// OBO data-version or owl:versionInfo.
    pub data_version: Option<String>,
    /// Why it failed or was skipped.
    pub message: Option<String>,
    /// SHA-256 of the canonical N-Triples, when normalised.
    pub normalized_sha256: Option<String>,
    /// Where the canonical N-Triples were written.
    pub normalized_path: Option<String>,
}

impl Outcome {
    /// An outcome with no counts yet.
    pub fn new(validator: &str, format: Detected, status: Status, message: Option<String>) -> Self {
        Outcome {
            validator: validator.to_string(),
            status,
            format,
            statements: 0,
            terms: 0,
            imports: vec![],
            version_iri: None,
            data_version: None,
            message,
            normalized_sha256: None,
            normalized_path: None,
        }
    }
}

/// Options.
#[derive(Debug, Clone, Default)]
pub struct Options<'a> {
    /// Write canonical N-Triples here (file path), if set.
    pub normalize_to: Option<&'a Path>,
    /// Files larger than this are parsed and counted but not canonicalised (RDFC-1.0
    /// holds the graph in memory).
    pub max_normalize_bytes: u64,
}

const OWL_IMPORTS: &str = "http://www.w3.org/2002/07/owl#imports";
const OWL_VERSION_IRI: &str = "http://www.w3.org/2002/07/owl#versionIRI";
const OWL_VERSION_INFO: &str = "http://www.w3.org/2002/07/owl#versionInfo";

/// Validates one file.
pub fn validate(path: &Path, opts: &Options<'_>) -> Outcome {
    let mut head = Vec::with_capacity(4096);
    let opened = std::fs::File::open(path).and_then(|f| f.take(4096).read_to_end(&mut head));
    if let Err(e) = opened {
        return Outcome::new(
            "rdf",
            Detected::Unknown,
            Status::Failed,
            Some(format!("cannot read {}: {e}", path.display())),
        );
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let detected = sniff(&head, &name);
    match detected {
        Detected::Empty => Outcome::new("rdf", detected, Status::Failed, Some("the file is empty".into())),
        Detected::Html => Outcome::new("rdf", detected, Status::Failed, Some("an HTML page, not an ontology".into())),
        Detected::Obo => validate_obo(path),
        Detected::OwlXml | Detected::Ofn => owl::validate(path, detected),
        Detected::Unknown => Outcome::new("rdf", detected, Status::Skipped, Some("format not recognised".into())),
        rdf => validate_rdf(path, rdf, opts),
    }
}

fn validate_rdf(path: &Path, detected: Detected, opts: &Options<'_>) -> Outcome {
    let Some(format) = detected.rdf_format() else {
        return Outcome::new("rdf", detected, Status::Skipped, Some("no RDF parser for this format".into()));
    };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return Outcome::new("rdf", detected, Status::Failed, Some(e.to_string())),
    };
    if detected == Detected::RdfXml
        && let Err(why) =
            std::fs::File::open(path).map_err(|e| e.to_string()).and_then(|f| xmlguard::check(BufReader::new(f)))
    {
        return Outcome::new("rdf", detected, Status::Failed, Some(why));
    }
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let keep = opts.normalize_to.is_some() && size <= opts.max_normalize_bytes;
    let mut out = Outcome::new("rdf", detected, Status::Ok, None);
    let mut quads = Vec::new();
    let mut subjects = std::collections::HashSet::new();
    for q in oxrdfio::RdfParser::from_format(format).for_reader(BufReader::new(file)) {
        let q = match q {
            Ok(q) => q,
            Err(e) => {
                out.status = Status::Failed;
                out.message = Some(format!("{format} parse error: {e}"));
                return out;
            }
        };
        out.statements += 1;
        subjects.insert(q.subject.to_string());
        match q.predicate.as_str() {
            OWL_IMPORTS => out.imports.push(term_text(&q.object)),
            OWL_VERSION_IRI => out.version_iri = Some(term_text(&q.object)),
            OWL_VERSION_INFO if out.data_version.is_none() => out.data_version = Some(term_text(&q.object)),
            _ => {}
        }
        if keep {
            quads.push(q);
        }
    }
    out.terms = subjects.len() as u64;
    if out.statements == 0 {
        out.status = Status::Failed;
        out.message = Some("zero triples".into());
        return out;
    }
    if let (true, Some(dest)) = (keep, opts.normalize_to) {
        match canon::canonical_ntriples(&quads) {
            Ok(text) => {
                out.normalized_sha256 = Some(hex::encode(Sha256::digest(text.as_bytes())));
                match std::fs::write(dest, &text) {
                    Ok(()) => out.normalized_path = Some(dest.display().to_string()),
                    Err(e) => out.message = Some(format!("normalised output not written: {e}")),
                }
            }
            Err(e) => out.message = Some(format!("not canonicalised: {e}")),
        }
    } else if opts.normalize_to.is_some() {
        out.message = Some(format!("{size} bytes is over the normalisation threshold; parsed and counted only"));
    }
    out
}

fn term_text(t: &oxrdf::Term) -> String {
    match t {
        oxrdf::Term::NamedNode(n) => n.as_str().to_string(),
        oxrdf::Term::Literal(l) => l.value().to_string(),
        other => other.to_string(),
    }
}

fn validate_obo(path: &Path) -> Outcome {
    let mut out = Outcome::new("obo", Detected::Obo, Status::Ok, None);
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            out.status = Status::Failed;
            out.message = Some(format!("not UTF-8 text: {e}"));
            return out;
        }
    };
    let doc = match fastobo::from_str(&text) {
        Ok(d) => d,
        Err(e) => {
            out.status = Status::Failed;
            out.message = Some(format!("OBO 1.4 parse error: {e}"));
            return out;
        }
    };
    for clause in doc.header().iter() {
        use fastobo::ast::HeaderClause;
        match clause {
            HeaderClause::DataVersion(v) => out.data_version = Some(v.as_str().to_string()),
            HeaderClause::Import(i) => out.imports.push(i.to_string()),
            _ => {}
        }
    }
    out.statements = doc.entities().len() as u64;
    out.terms = doc.entities().iter().filter(|e| matches!(e, fastobo::ast::EntityFrame::Term(_))).count() as u64;
    if out.statements == 0 {
        out.status = Status::Failed;
        out.message = Some("no term, typedef or instance frames".into());
    }
    out
}

#[cfg(test)]
mod tests;
