//! Validation by detected format (OBO is not RDF): sniff the bytes, parse with a real
//! parser (oxttl/oxrdfxml/oxrdfio for RDF, fastobo for OBO, horned-owl for OWL/XML and
//! functional syntax), report counts, imports and versions, refuse HTML/empty/zero-triple
//! content, and normalise (docs/architecture.md, "Validation"):
//!
//! - RDF without blank nodes: canonical N-Triples are the sorted, de-duplicated lines,
//!   made by an external merge sort in bounded memory ([`extsort`]), hashed as they are
//!   written; Turtle/RDF/XML renderings are streamed from them ([`render`]).
//! - RDF with blank nodes: RDFC-1.0 ([`canon`]), in a job of its own and only up to a size
//!   limit; above it the outcome says the hash was skipped and why.
//! - OBO: validated frame by frame on several threads ([`obo`]); with a normalisation
//!   target, translated to OWL (the OBO 1.4 mapping of horned-owl) and written as Turtle.
//!
//! Memory is bounded by windows, batches and sort buffers, never by the file's size.

#![warn(missing_docs)]

mod canon;
mod distinct;
mod error;
mod extsort;
pub mod langtag;
pub mod nesting;
mod obo;
mod obo_owl;
mod owl;
mod rdf;
pub mod rdfc;
mod render;
mod sniff;
mod tally;
pub mod terms;
pub mod xmlguard;
mod xmlsafe;

pub use error::ValidateError;
pub use sniff::{Detected, sniff};

use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Path, PathBuf};

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

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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

/// A file written under `normalized/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputFile {
    /// `nt`, `ttl` or `owl` (RDF/XML).
    pub format: String,
    /// Where it was written.
    pub path: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// Its size.
    pub bytes: u64,
}

fn is_false(b: &bool) -> bool {
    !*b
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
    /// Triples (RDF), entity frames (OBO) or axioms (OWL).
    pub statements: u64,
    /// Named entities: distinct IRI subjects (RDF; blank nodes — restrictions, axiom
    /// annotations, lists — are not terms), term frames (OBO) or class declarations (OWL).
    pub terms: u64,
    /// `terms` is a HyperLogLog++ estimate (more than a million distinct subjects).
    #[serde(default, skip_serializing_if = "is_false")]
    pub terms_estimated: bool,
    /// `[Typedef]` frames (OBO).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typedefs: Option<u64>,
    /// `[Instance]` frames (OBO).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instances: Option<u64>,
    /// Frames marked `is_obsolete: true` (OBO).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obsolete: Option<u64>,
    /// owl:imports / OBO import clauses: the first [`MAX_IMPORTS`] (a file may declare
    /// hundreds of thousands; each becomes a catalog edge).
    pub imports: Vec<String>,
    /// How many the file declares, when more than were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imports_total: Option<u64>,
    /// owl:versionIRI.
    pub version_iri: Option<String>,
    /// The ontology's own IRI (`owl:Ontology rdf:about`, OBO `ontology:` as its PURL): what
    /// `owl:imports` of other ontologies name, so the XML catalog maps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ontology_iri: Option<String>,
    /// The licence the file states about itself (`dcterms:license` / `cc:license`, OBO
    /// `license:` or that property value), as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// OBO data-version or owl:versionInfo.
    pub data_version: Option<String>,
    /// Why it failed or was skipped, or what the user should know.
    pub message: Option<String>,
    /// The graph has blank nodes (its sorted lines are not canonical).
    #[serde(default, skip_serializing_if = "is_false")]
    pub blank_nodes: bool,
    /// The file was parsed by several threads.
    #[serde(default, skip_serializing_if = "is_false")]
    pub parallel: bool,
    /// How `normalized_sha256` was made: `sorted-ntriples`, `rdfc-1.0`, `obo-owl`, or
    /// `skipped` (then `normalization_skipped` says why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalization: Option<String>,
    /// Why there is no canonical hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalization_skipped: Option<String>,
    /// What a reader of the hash should know about how it was made (language tags
    /// lower-cased because the source writes one tag in two cases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalization_note: Option<String>,
    /// Normalising needs the second pass (a [`Normalize`] job with `second_pass` set, in a
    /// process of its own): RDFC-1.0 for a graph with blank nodes small enough for it, the
    /// OWL translation for OBO.
    #[serde(default, skip_serializing_if = "is_false")]
    pub needs_second_pass: bool,
    /// SHA-256 of the canonical N-Triples (OBO: of the OWL translation's Turtle).
    pub normalized_sha256: Option<String>,
    /// Where the canonical N-Triples were written.
    pub normalized_path: Option<String>,
    /// Every file written under `normalized/`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<OutputFile>,
    /// Why the term facts asked for could not be written (diffs then skip this version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms_error: Option<String>,
    /// Renderings skipped because their format cannot express a triple (the canonical hash
    /// and the other renderings stand).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub renderings_skipped: Vec<String>,
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
            terms_estimated: false,
            typedefs: None,
            instances: None,
            obsolete: None,
            imports: vec![],
            imports_total: None,
            version_iri: None,
            ontology_iri: None,
            license: None,
            data_version: None,
            message,
            blank_nodes: false,
            parallel: false,
            normalization: None,
            normalization_skipped: None,
            normalization_note: None,
            needs_second_pass: false,
            normalized_sha256: None,
            normalized_path: None,
            outputs: vec![],
            terms_error: None,
            renderings_skipped: vec![],
        }
    }

    fn fail(mut self, message: impl Into<String>) -> Self {
        self.status = Status::Failed;
        self.message = Some(message.into());
        self
    }

    /// For a source that should be an ontology, "no validator recognised it" is a failure:
    /// a 200 answer carrying an error text or random bytes must never count as a version
    /// (docs/architecture.md, "Invariants", I9). Only an outcome that was `skipped` changes.
    pub fn refuse_unrecognised(&mut self) {
        if self.status == Status::Skipped {
            let why = self.message.take().unwrap_or_else(|| "no validator applies".into());
            self.status = Status::Failed;
            self.message = Some(format!(
                "not recognised as an ontology ({why}); an entry whose source is deliberately not an \
                 ontology says `opaque: true` in its extras"
            ));
        }
    }

    fn skip_normalization(&mut self, why: impl Into<String>) {
        self.normalization = Some("skipped".into());
        self.normalization_skipped = Some(why.into());
    }
}

/// The validator label for a detected format (failures before parsing are reported under
/// the validator that would have run).
pub fn validator_for(detected: Detected) -> &'static str {
    match detected {
        Detected::Obo => "obo",
        Detected::OwlXml | Detected::Ofn => "owl",
        _ => "rdf",
    }
}

/// Sniffs a file's format from its first 4 KiB.
pub fn sniff_file(path: &Path) -> std::io::Result<Detected> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(sniff(&head_after_whitespace(path, 4096)?, &name))
}

/// The first `n` bytes of a file after a BOM and any leading whitespace: 70,000 newlines
/// before an HTML page are still an HTML page, not an empty file.
fn head_after_whitespace(path: &Path, n: usize) -> std::io::Result<Vec<u8>> {
    let mut reader = std::io::BufReader::with_capacity(1 << 16, std::fs::File::open(path)?);
    let mut first = true;
    loop {
        let buf = std::io::BufRead::fill_buf(&mut reader)?;
        if buf.is_empty() {
            return Ok(Vec::new());
        }
        let mut skip = if first && buf.starts_with(&[0xEF, 0xBB, 0xBF]) { 3 } else { 0 };
        first = false;
        skip += buf[skip..].iter().take_while(|b| b.is_ascii_whitespace()).count();
        let done = skip < buf.len();
        std::io::BufRead::consume(&mut reader, skip);
        if done {
            break;
        }
    }
    let mut head = Vec::with_capacity(n);
    reader.take(n as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// RDF/XML is cut into pieces of at most about this many bytes for parallel parsing.
const RDFXML_PIECE: u64 = 8 << 20;

/// What to write besides validating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Normalize {
    /// The `normalized/` directory (in staging); sort runs are kept here too.
    pub dir: PathBuf,
    /// File stem of the outputs (`<stem>.nt`, `<stem>.ttl`, `<stem>.owl`).
    pub stem: String,
    /// Renderings wanted besides the canonical N-Triples: `ttl`, `owl`/`rdfxml`.
    pub formats: Vec<String>,
    /// Largest blank-node component RDFC-1.0 canonicalises (blank nodes).
    pub rdfc_max_component: usize,
    /// Memory for sorting canonical lines (all threads together).
    pub sort_memory_bytes: u64,
    /// This is the second pass: RDFC-1.0 for a graph with blank nodes, the OWL translation
    /// for OBO. Both are heavier than validation, so they run after it in a process of their
    /// own; when they fail, the validation stands.
    pub second_pass: bool,
    /// Also write the sorted term facts (`<stem>.terms.tsv`, a `terms` output) that version
    /// diffs are computed from ([`terms`]).
    #[serde(default)]
    pub terms: bool,
    /// One job for RDF: the validation tally, the term facts and RDFC-1.0 from one parse
    /// ([`canon::fused`]). When it does not end with a canonical hash, the caller runs the
    /// validation on its own (the fallback keeps the validation and the facts standing).
    #[serde(default)]
    pub fused: bool,
    /// Hash and render language tags lower case (`defaults.validation.language_tags:
    /// lowercase`), not as the source writes them ([`langtag`]).
    #[serde(default)]
    pub lowercase_language_tags: bool,
}

impl Normalize {
    /// The language tags this file's canonical form uses ([`langtag`]).
    pub fn language_tags(&self, path: &Path, detected: Detected) -> langtag::LanguageTags {
        if self.lowercase_language_tags {
            langtag::LanguageTags::lowercased()
        } else {
            langtag::LanguageTags::scan(path, detected)
        }
    }

    /// Whether an RDF rendering (Turtle or RDF/XML) is asked for: for OBO, its OWL
    /// translation.
    pub fn wants_owl(&self) -> bool {
        self.formats.iter().any(|f| matches!(f.as_str(), "ttl" | "owl" | "rdfxml" | "rdf"))
    }
}

/// Options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Options {
    /// Normalise into this directory (none: validate only).
    pub normalize: Option<Normalize>,
    /// Parsing threads (0: the machine's cores, at most 4).
    pub threads: usize,
}

impl Options {
    /// The threads a job parses with: as asked, else one per core, at most four (the
    /// runner sizes the allocator for them).
    pub fn threads(&self) -> usize {
        match self.threads {
            0 => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(4),
            n => n,
        }
    }
}

/// Imports an outcome keeps (and so edges a version records; its report says how many the
/// file declared).
pub const MAX_IMPORTS: usize = 1_000;

/// Bytes a message of an outcome keeps: a parser's error may quote the whole line it
/// stopped on, megabytes of a document written on one line, and a message goes into the
/// catalog, the manifest and the terminal.
pub const MAX_MESSAGE_BYTES: usize = 2_000;

/// Cuts a message to [`MAX_MESSAGE_BYTES`] (as the facts clip a value), saying how much went.
fn bounded(message: &mut Option<String>) {
    if let Some(m) = message.as_mut().filter(|m| m.len() > MAX_MESSAGE_BYTES) {
        let kept = terms::clip(m, MAX_MESSAGE_BYTES).into_owned();
        let dropped = m.len() - (kept.len() - '…'.len_utf8());
        *m = format!("{kept} ({dropped} more bytes)");
    }
}

/// Validates one file (and writes the term facts when asked, once it parsed).
pub fn validate(path: &Path, opts: &Options) -> Outcome {
    let mut outcome = check(path, opts);
    for m in [&mut outcome.message, &mut outcome.normalization_skipped, &mut outcome.terms_error] {
        bounded(m);
    }
    // A set: however many threads parsed the file, in whatever order they finished.
    outcome.imports.sort();
    outcome.imports.dedup();
    if outcome.imports.len() > MAX_IMPORTS {
        outcome.imports_total = Some(outcome.imports.len() as u64);
        outcome.imports.truncate(MAX_IMPORTS);
    }
    if let Some(n) = opts.normalize.as_ref().filter(|n| n.terms)
        && outcome.status == Status::Ok
        && matches!(outcome.validator.as_str(), "rdf" | "obo")
        && !outcome.outputs.iter().any(|o| o.format == "terms")
    {
        let dest = n.dir.join(format!("{}.terms.tsv", n.stem));
        let detected = outcome.format;
        match terms::extract(path, detected, &dest, n.sort_memory_bytes as usize) {
            Ok(f) => outcome.outputs.push(f),
            Err(e) => outcome.terms_error = Some(format!("term facts not written: {e}")),
        }
    }
    outcome
}

fn check(path: &Path, opts: &Options) -> Outcome {
    let detected = match sniff_file(path) {
        Ok(d) => d,
        Err(e) => {
            return Outcome::new("rdf", Detected::Unknown, Status::Failed, None)
                .fail(format!("cannot read {}: {e}", path.display()));
        }
    };
    let outcome = Outcome::new(validator_for(detected), detected, Status::Ok, None);
    match detected {
        Detected::Empty => outcome.fail("the file is empty"),
        Detected::Html => outcome.fail("an HTML page, not an ontology"),
        Detected::Obo => obo::run(path, opts.normalize.as_ref(), opts.threads()),
        Detected::OwlXml | Detected::Ofn => owl::validate(path, detected, opts.normalize.as_ref()),
        Detected::Unknown => {
            Outcome { status: Status::Skipped, message: Some("format not recognised".into()), ..outcome }
        }
        _ if opts.normalize.as_ref().is_some_and(|n| n.second_pass) => {
            canon::run(path, detected, opts.normalize.as_ref().expect("checked"), opts.threads())
        }
        _ if opts.normalize.as_ref().is_some_and(|n| n.fused) => {
            canon::fused(path, detected, opts.normalize.as_ref().expect("checked"), opts.threads())
        }
        _ => validate_rdf(path, detected, opts),
    }
}

/// The XML guard's verdict on an RDF/XML file (`Err`: hostile, refused before any parse),
/// and where it may be cut for parallel parsing: in pieces of a few MiB, a few per thread.
fn rdfxml_layout(path: &Path, threads: usize) -> Result<Option<xmlguard::Layout>, ValidateError> {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let piece = (size / (4 * threads as u64)).clamp(64 << 10, RDFXML_PIECE);
    std::fs::File::open(path)
        .map_err(|e| ValidateError::io(format!("opening {}", path.display()), e))
        .and_then(|f| xmlguard::scan(std::io::BufReader::with_capacity(1 << 20, f), piece))
}

fn validate_rdf(path: &Path, detected: Detected, opts: &Options) -> Outcome {
    let mut out = Outcome::new("rdf", detected, Status::Ok, None);
    let Some(format) = detected.rdf_format() else {
        return Outcome { status: Status::Skipped, message: Some("no RDF parser for this format".into()), ..out };
    };
    let layout = match detected {
        Detected::RdfXml => match rdfxml_layout(path, opts.threads()) {
            Ok(layout) => layout,
            Err(why) => return out.fail(why.to_string()),
        },
        _ => None,
    };
    let norm = opts.normalize.as_ref();
    let runs = match norm.map(|n| std::fs::create_dir_all(&n.dir).and_then(|()| extsort::Runs::new(&n.dir))) {
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => {
            out.skip_normalization(format!("cannot create the sort directory: {e}"));
            None
        }
        None => None,
    };
    let tags = std::sync::Arc::new(norm.map(|n| n.language_tags(path, detected)).unwrap_or_default());
    let sort = runs.as_ref().zip(norm).map(|(runs, n)| rdf::SortTo {
        runs,
        budget: n.sort_memory_bytes as usize,
        tags: &tags,
    });
    let parsed = rdf::parse(path, detected, format, sort, opts.threads(), layout.as_ref());
    let t = &parsed.tally;
    out.statements = t.statements;
    (out.terms, out.terms_estimated) = t.subjects.count();
    out.imports = t.imports.clone();
    out.version_iri = t.version_iri.clone();
    out.ontology_iri = t.ontology_iri.clone();
    out.license = t.license.clone();
    out.data_version = t.version_info.clone();
    out.blank_nodes = t.blank_nodes;
    out.parallel = parsed.parallel;
    if let Some(e) = parsed.error {
        return out.fail(e);
    }
    if out.statements == 0 {
        return out.fail("zero triples");
    }
    let (Some(n), Some(runs)) = (norm, runs) else {
        return out;
    };
    if out.blank_nodes {
        out.needs_second_pass = true;
        out.skip_normalization("blank nodes: canonicalised with RDFC-1.0 in a job of its own");
        return out;
    }
    match render::from_runs(runs, &parsed.prefixes, n) {
        Ok((hash, finished)) => {
            out.normalization = Some(tags.mode("sorted-ntriples"));
            out.normalization_note = tags.note.clone();
            out.normalized_sha256 = Some(hash);
            out.normalized_path = finished.outputs.iter().find(|o| o.format == "nt").map(|o| o.path.clone());
            out.outputs = finished.outputs;
            out.renderings_skipped = finished.skipped;
        }
        Err(e) => out.skip_normalization(format!("writing the normalised files: {e}")),
    }
    out
}

#[cfg(test)]
mod tests;
