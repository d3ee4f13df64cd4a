//! OWL/XML (streamed) and OWL functional syntax through horned-owl: counts axioms, class
//! declarations, imports and the version IRI. When normalising, the ontology goes through
//! the same RDF path as every RDF file: horned-owl's OWL→RDF mapping writes its triples,
//! which give the canonical hash (RDFC-1.0, `normalization.mode` `owl-rdf+rdfc-1.0`), the
//! renderings and the term facts that diffs are made from.

use crate::ValidateError;
use crate::{Detected, Normalize, Outcome, Status};
use horned_owl::io::ParserConfiguration;
use horned_owl::model::{ArcStr, Component, MutableOntology};
use horned_owl::ontology::component_mapped::ArcComponentMappedOntology;
use horned_pretty_rdf::{PTriple, RdfFormatter};
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

fn tally(out: &mut Outcome, c: &Component<ArcStr>) {
    out.statements += 1;
    match c {
        Component::DeclareClass(_) => out.terms += 1,
        Component::Import(i) => out.imports.push(i.0.to_string()),
        Component::OntologyID(id) => {
            out.version_iri = id.viri.as_ref().map(|v| v.to_string());
            out.ontology_iri = id.iri.as_ref().map(|v| v.to_string());
        }
        _ => {}
    }
}

fn open(path: &Path) -> Result<std::fs::File, ValidateError> {
    std::fs::File::open(path).map_err(|e| ValidateError::io(format!("opening {}", path.display()), e))
}

/// Parses the file, keeping its axioms when they are to be normalised.
fn parse(
    path: &Path,
    detected: Detected,
    out: &mut Outcome,
    keep: bool,
) -> Result<ArcComponentMappedOntology, ValidateError> {
    let mut file = BufReader::new(open(path)?);
    let config: ParserConfiguration<ArcStr> = ParserConfiguration::default();
    let mut ont = ArcComponentMappedOntology::default();
    match detected {
        Detected::OwlXml => {
            for item in horned_owl::io::owx::reader::read_to_stream(file, config) {
                match item {
                    Ok(horned_owl::io::StreamComponent::Component(ac)) => {
                        tally(out, &ac.component);
                        if keep {
                            ont.insert(ac);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => return Err(ValidateError::Syntax(format!("OWL/XML parse error: {e}"))),
                }
            }
        }
        _ => {
            let (read, _): (horned_owl::ontology::set::SetOntology<ArcStr>, _) =
                horned_owl::io::ofn::reader::read(&mut file, config)
                    .map_err(|e| ValidateError::Syntax(format!("OWL functional syntax parse error: {e}")))?;
            for ac in read.iter() {
                tally(out, &ac.component);
            }
            if keep {
                ont = read.into_iter().collect();
            }
        }
    }
    Ok(ont)
}

/// The stack horned-owl's readers and writer get: they recurse per level of nesting, and
/// [`crate::nesting::MAX_NESTING`] levels fit in it with room to spare even in a debug
/// build, whatever thread the caller validates on (a tokio blocking thread has 2 MiB).
const OWL_STACK: usize = 16 << 20;

pub(crate) fn validate(path: &Path, detected: Detected, normalize: Option<&Normalize>) -> Outcome {
    let failed = |why: String| Outcome::new("owl", detected, Status::Failed, Some(why));
    std::thread::scope(|s| {
        match std::thread::Builder::new()
            .name("owl".into())
            .stack_size(OWL_STACK)
            .spawn_scoped(s, || on_this_thread(path, detected, normalize))
        {
            Ok(parse) => parse.join().unwrap_or_else(|_| failed("the OWL parser panicked".into())),
            Err(e) => failed(format!("cannot start the OWL parser's thread: {e}")),
        }
    })
}

fn on_this_thread(path: &Path, detected: Detected, normalize: Option<&Normalize>) -> Outcome {
    let mut out = Outcome::new("owl", detected, Status::Ok, None);
    let guard = |f: std::fs::File| match detected {
        Detected::OwlXml => crate::xmlguard::check(BufReader::new(f)),
        _ => crate::nesting::check_ofn(BufReader::with_capacity(1 << 16, f)),
    };
    if let Err(why) = open(path).and_then(guard) {
        out.status = Status::Failed;
        out.message = Some(why.to_string());
        return out;
    }
    let ont = match parse(path, detected, &mut out, normalize.is_some()) {
        Ok(ont) => ont,
        Err(m) => {
            out.status = Status::Failed;
            out.message = Some(m.to_string());
            return out;
        }
    };
    if out.statements == 0 {
        out.status = Status::Failed;
        out.message = Some("no axioms".into());
        return out;
    }
    if let Some(n) = normalize {
        through_rdf(&mut out, &ont, n);
    }
    out
}

/// The OWL→RDF mapping of `ont` as N-Triples in `n.dir`, then what any RDF file gets from
/// it: the canonical hash and renderings (when renderings are asked for) and the term facts
/// (when asked for). The intermediate file is removed.
fn through_rdf(out: &mut Outcome, ont: &ArcComponentMappedOntology, n: &Normalize) {
    if let Err(e) = std::fs::create_dir_all(&n.dir) {
        return out.skip_normalization(format!("cannot create {}: {e}", n.dir.display()));
    }
    let rdf = n.dir.join(format!(".{}.owl-rdf.nt", n.stem));
    let _remove = Remove(rdf.clone());
    let written = std::fs::File::create(&rdf).map_err(|e| e.to_string()).and_then(|f| {
        horned_owl::io::rdf::writer::write_to_rdf_formatter(ont, NTriples(BufWriter::new(f)))
            .map_err(|e| e.to_string())
            .and_then(|w| w.into_inner().map_err(|e| e.to_string()).map(drop))
    });
    if let Err(e) = written {
        return out.skip_normalization(format!("writing the OWL→RDF mapping: {e}"));
    }
    if n.terms {
        let dest = n.dir.join(format!("{}.terms.tsv", n.stem));
        match crate::terms::extract(&rdf, Detected::NTriples, &dest, n.sort_memory_bytes as usize) {
            Ok(f) => out.outputs.push(f),
            Err(e) => out.terms_error = Some(format!("term facts not written: {e}")),
        }
    }
    if n.formats.is_empty() {
        return;
    }
    let canonical = crate::canon::run(&rdf, Detected::NTriples, n, 1);
    match (canonical.status, canonical.normalization.as_deref()) {
        (Status::Ok, Some(mode)) if mode != "skipped" => {
            out.normalization = Some(format!("owl-rdf+{mode}"));
            out.normalization_note = canonical.normalization_note;
            out.normalized_sha256 = canonical.normalized_sha256;
            out.normalized_path = canonical.normalized_path;
            out.renderings_skipped = canonical.renderings_skipped;
            out.outputs.extend(canonical.outputs);
        }
        _ => {
            let why = canonical.normalization_skipped.or(canonical.message).unwrap_or_else(|| "no output".into());
            out.skip_normalization(format!("the OWL→RDF mapping was not canonicalised: {why}"));
        }
    }
}

/// Removes a file when dropped.
struct Remove(PathBuf);

impl Drop for Remove {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Receives horned-owl's triples and writes them as N-Triples.
struct NTriples<W: Write>(W);

impl<A: AsRef<str>, W: Write> RdfFormatter<A, W> for NTriples<W> {
    fn format(&mut self, triple: PTriple<A>) -> std::io::Result<()> {
        let t: oxrdf::TripleRef<'_> = (&triple).into();
        writeln!(self.0, "{t} .")
    }

    fn finish(self) -> std::io::Result<W> {
        Ok(self.0)
    }
}
