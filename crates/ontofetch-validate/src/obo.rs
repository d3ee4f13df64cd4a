//! OBO 1.4, streamed: the header is parsed first, then the entity frames are cut into
//! batches of about [`BATCH_BYTES`] and checked by `threads` workers against fastobo's
//! grammar, one frame at a time, never the whole document in memory. Workers count terms, typedefs, instances and obsolete frames; with a
//! normalisation target they also translate their batch to OWL ([`crate::obo_owl`]), and a
//! collector writes the batches' Turtle in file order.

use crate::ValidateError;
use crate::obo_owl::Converter;
use crate::render::{HashedFile, turtle_to_rdfxml};
use crate::terms::{FactsTap, FactsWorker};
use crate::{Detected, Normalize, Outcome, Status};
use fastobo::ast::{HeaderClause, HeaderFrame};
use fastobo::syntax::{Lexer, Rule};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};

/// Frames are handed to workers in batches of about this many bytes.
pub(crate) const BATCH_BYTES: usize = 1 << 20;

/// Frames of the file, starting at a line.
struct Batch {
    index: usize,
    first_line: usize,
    text: String,
}

/// What a worker found in a batch.
#[derive(Default)]
struct Counts {
    frames: u64,
    terms: u64,
    typedefs: u64,
    instances: u64,
    obsolete: u64,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.frames += other.frames;
        self.terms += other.terms;
        self.typedefs += other.typedefs;
        self.instances += other.instances;
        self.obsolete += other.obsolete;
    }

    /// Counts one frame that passed the grammar, from its text: its kind from the header
    /// line, obsolete from an `is_obsolete: true` clause.
    fn frame(&mut self, text: &str) {
        let mut lines = text.lines().map(str::trim_start).filter(|l| !l.is_empty() && !l.starts_with('!'));
        match lines.next().unwrap_or_default() {
            h if h.starts_with("[Term]") => self.terms += 1,
            h if h.starts_with("[Typedef]") => self.typedefs += 1,
            h if h.starts_with("[Instance]") => self.instances += 1,
            _ => return,
        }
        self.frames += 1;
        let obsolete =
            lines.any(|l| l.strip_prefix("is_obsolete:").is_some_and(|v| v.split_whitespace().next() == Some("true")));
        self.obsolete += u64::from(obsolete);
    }
}

struct Done {
    index: usize,
    counts: Counts,
    error: Option<ValidateError>,
    turtle: Vec<u8>,
}

/// A grammar error with its line made absolute (frames start mid-file).
fn describe(error: &fastobo::syntax::pest::error::Error<Rule>, first_line: usize) -> String {
    use fastobo::syntax::pest::error::LineColLocation;
    let (line, col) = match error.line_col {
        LineColLocation::Pos(p) | LineColLocation::Span(p, _) => p,
    };
    format!("line {} column {col}: {}", first_line + line - 1, error.variant.message())
}

/// Each frame of a batch (text between lines that start with `[`), with its first line.
fn frames(batch: &Batch) -> impl Iterator<Item = (usize, &str)> {
    let text = batch.text.as_str();
    let mut starts: Vec<(usize, usize)> = Vec::new();
    let (mut offset, mut line) = (0, batch.first_line);
    for l in text.split_inclusive('\n') {
        if l.trim_start().starts_with('[') {
            starts.push((offset, line));
        }
        offset += l.len();
        line += 1;
    }
    let ends: Vec<usize> = starts.iter().skip(1).map(|(o, _)| *o).chain(std::iter::once(text.len())).collect();
    starts.into_iter().zip(ends).map(move |((start, line), end)| (line, &text[start..end]))
}

/// Checks every frame against fastobo's OBO 1.4 grammar (tokenising is the whole syntax
/// check; building fastobo's AST would only cost time here) and counts it; in the second
/// pass (`converter` set) the file was validated already, so frames are only counted and
/// the batch is translated.
fn work(batch: &Batch, converter: Option<&Converter>) -> Done {
    let mut counts = Counts::default();
    let mut error = None;
    for (line, text) in frames(batch) {
        if converter.is_none()
            && let Err(e) = Lexer::tokenize(Rule::EntitySingle, text)
        {
            error = Some(ValidateError::Syntax(describe(&e, line)));
            break;
        }
        counts.frame(text);
    }
    let mut turtle = Vec::new();
    if let (None, Some(c)) = (&error, converter) {
        match c.batch(&batch.text, batch.index) {
            Ok(t) => turtle = t,
            Err(e) => {
                error = Some(ValidateError::Syntax(format!(
                    "OWL translation of the frames from line {}: {e}",
                    batch.first_line
                )))
            }
        }
    }
    Done { index: batch.index, counts, error, turtle }
}

/// Reads the header (up to the first frame): its text and the first frame's line.
fn read_header(reader: &mut impl BufRead) -> Result<(String, Option<String>, usize), ValidateError> {
    let mut header = String::new();
    let mut line = String::new();
    let mut line_no = 0;
    loop {
        line.clear();
        let n = reader
            .read_line(&mut line)
            .map_err(|e| ValidateError::io(format!("not UTF-8 text near line {}", line_no + 1), e))?;
        if n == 0 {
            return Ok((header, None, line_no));
        }
        line_no += 1;
        if line.trim_start().starts_with('[') {
            return Ok((header, Some(line.clone()), line_no));
        }
        header.push_str(&line);
    }
}

/// The licence a header clause states, if it states one.
fn obo_license(clause: &str) -> Option<String> {
    let value = |rest: &str| {
        let v = rest.split_whitespace().next()?.trim_matches('"');
        (!v.is_empty()).then(|| v.to_string())
    };
    if let Some(rest) = clause.strip_prefix("license:") {
        return value(rest);
    }
    let rest = clause.strip_prefix("property_value:")?.trim_start();
    let (property, target) = rest.split_once(char::is_whitespace)?;
    matches!(property, "dcterms:license" | "http://purl.org/dc/terms/license" | "cc:license" | "license")
        .then(|| value(target))
        .flatten()
}

fn header_facts(out: &mut Outcome, header: &HeaderFrame) {
    for clause in header.iter() {
        match clause {
            HeaderClause::DataVersion(v) => out.data_version = Some(v.as_str().to_string()),
            HeaderClause::Import(i) => out.imports.push(i.to_string()),
            // The OBO convention: `ontology: go` is <http://purl.obolibrary.org/obo/go.owl>.
            HeaderClause::Ontology(o) if !o.contains(':') && !o.contains('/') => {
                out.ontology_iri = Some(format!("http://purl.obolibrary.org/obo/{o}.owl"));
            }
            // `license: URL` (unreserved) or `property_value: dcterms:license URL`.
            other if out.license.is_none() => out.license = obo_license(&other.to_string()),
            _ => {}
        }
    }
}

/// Validates an OBO file; with a Turtle or RDF/XML target, asks for the second pass, and in
/// the second pass translates it.
pub fn run(path: &Path, normalize: Option<&Normalize>, threads: usize) -> Outcome {
    let out = Outcome::new("obo", Detected::Obo, Status::Ok, None);
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return out.fail(format!("cannot read {}: {e}", path.display())),
    };
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let (header_text, first, first_line) = match read_header(&mut reader) {
        Ok(h) => h,
        Err(e) => return out.fail(e.to_string()),
    };
    let header = match HeaderFrame::from_str(&header_text) {
        Ok(h) => h,
        Err(e) => return out.fail(format!("OBO 1.4 header: {e}")),
    };
    let mut out = out;
    header_facts(&mut out, &header);
    let translate = normalize.filter(|n| n.wants_owl());
    let converter = match translate.filter(|n| n.second_pass) {
        Some(_) => match Converter::new(path, &header_text) {
            Ok(c) => Some(c),
            Err(e) => {
                out.skip_normalization(format!("no OWL translation: {e}"));
                return out;
            }
        },
        None => None,
    };
    // The translation's Turtle carries `owl:versionIRI` (from `data-version`): the report
    // says so too.
    if let Some(viri) = converter.as_ref().and_then(Converter::version_iri) {
        out.version_iri = Some(viri);
    }
    let target = converter.as_ref().zip(normalize);
    // The term facts come from the same batches, on the same threads (else `validate`
    // extracts them with a read of its own).
    let facts = normalize
        .filter(|n| n.terms)
        .and_then(|n| FactsTap::new(&n.dir.join(format!("{}.terms.tsv", n.stem)), n.sort_memory_bytes as usize).ok());
    match stream(reader, first, first_line, threads, converter.as_ref(), target, facts) {
        Err(e) if converter.is_some() => out.skip_normalization(format!("OWL translation failed: {e}")),
        Err(e) => return out.fail(format!("OBO 1.4 parse error at {e}")),
        Ok((counts, written, facts)) => {
            out.statements = counts.frames;
            out.terms = counts.terms;
            out.typedefs = Some(counts.typedefs);
            out.instances = Some(counts.instances);
            out.obsolete = Some(counts.obsolete);
            out.parallel = threads > 1;
            if counts.frames == 0 {
                return out.fail("no term, typedef or instance frames");
            }
            match facts {
                Some(Ok(f)) => out.outputs.push(f),
                Some(Err(e)) => out.terms_error = Some(format!("term facts not written: {e}")),
                None => {}
            }
            match (written, normalize) {
                (Some(written), Some(n)) => finish_owl(&mut out, written, converter.as_ref(), n),
                _ if translate.is_some() => {
                    out.needs_second_pass = true;
                    out.skip_normalization("translated to OWL in a second pass");
                }
                _ if normalize.is_some() => out.skip_normalization(
                    "OBO has no canonical N-Triples; ask for ttl or owl in normalize_to for its OWL translation",
                ),
                _ => {}
            }
        }
    }
    out
}

/// Records the Turtle translation and renders RDF/XML from it when asked.
fn finish_owl(
    out: &mut Outcome,
    written: std::io::Result<crate::OutputFile>,
    converter: Option<&Converter>,
    n: &Normalize,
) {
    let ttl = match written {
        Ok(t) => t,
        Err(e) => return out.skip_normalization(format!("writing the OWL translation: {e}")),
    };
    out.normalization = Some("obo-owl".into());
    out.normalized_sha256 = Some(ttl.sha256.clone());
    let mut outputs = vec![];
    if n.formats.iter().any(|f| matches!(f.as_str(), "owl" | "rdfxml" | "rdf")) {
        let prefixes = converter.map(Converter::prefixes).unwrap_or_default();
        match turtle_to_rdfxml(Path::new(&ttl.path), &prefixes, n.dir.join(format!("{}.owl", n.stem))) {
            Ok(o) => outputs.push(o),
            Err(e) => match crate::render::skipped_note(&e) {
                Some(note) => out.renderings_skipped.push(note),
                None => out.message = Some(format!("RDF/XML rendering failed: {e}")),
            },
        }
    }
    if n.formats.iter().any(|f| f == "ttl") {
        outputs.insert(0, ttl);
    } else {
        let _ = std::fs::remove_file(&ttl.path);
    }
    // The term facts, when they came with the batches, stay after the renderings.
    outputs.append(&mut out.outputs);
    out.outputs = outputs;
}

type Written = Option<std::io::Result<crate::OutputFile>>;

/// Reads the frames into batches for the workers and collects their results in order; each
/// worker also takes the term facts of the batches it checked when `facts` is given.
fn stream(
    mut reader: impl BufRead,
    first: Option<String>,
    first_line: usize,
    threads: usize,
    converter: Option<&Converter>,
    target: Option<(&Converter, &Normalize)>,
    facts: Option<FactsTap>,
) -> Result<(Counts, Written, Written), ValidateError> {
    let workers = threads.max(1);
    let (tx, rx) = crossbeam_channel::bounded::<Batch>(workers * 2);
    let (done_tx, done_rx) = crossbeam_channel::bounded::<Done>(workers * 2);
    let failed = AtomicBool::new(false);
    std::thread::scope(|s| {
        let mut shares = Vec::new();
        for _ in 0..workers {
            let (rx, done_tx) = (rx.clone(), done_tx.clone());
            let share = facts.as_ref().map(|t| t.worker(workers));
            shares.push(s.spawn(move || work_through(rx, done_tx, converter, share)));
        }
        drop((rx, done_tx));
        let collector = s.spawn(|| collect(done_rx, target, &failed));
        let read = read_batches(&mut reader, first, first_line, &tx, &failed);
        drop(tx);
        let collected = collector.join().map_err(|_| ValidateError::Panicked("collector"))?;
        read?;
        let (counts, written) = collected?;
        let mut shared = Ok(());
        for share in shares {
            let finished = share.join().map_err(|_| ValidateError::Panicked("OBO worker"))?;
            shared = shared.and(finished);
        }
        let facts = facts.map(|tap| shared.and_then(|()| tap.finish()));
        Ok((counts, written, facts))
    })
}

/// One worker: checks (or translates) batches until there are none, and takes the term
/// facts of each batch that passed into its share; the share's failure is the facts' alone.
fn work_through(
    batches: crossbeam_channel::Receiver<Batch>,
    done: crossbeam_channel::Sender<Done>,
    converter: Option<&Converter>,
    mut share: Option<FactsWorker>,
) -> std::io::Result<()> {
    let mut shared = Ok(());
    for batch in batches {
        let result = work(&batch, converter);
        if result.error.is_none()
            && shared.is_ok()
            && let Some(w) = share.as_mut()
        {
            shared = w.obo_frames(&batch.text);
        }
        if done.send(result).is_err() {
            break;
        }
    }
    match share {
        Some(w) => shared.and_then(|()| w.finish()),
        None => shared,
    }
}

fn read_batches(
    reader: &mut impl BufRead,
    first: Option<String>,
    first_line: usize,
    tx: &crossbeam_channel::Sender<Batch>,
    failed: &AtomicBool,
) -> Result<(), ValidateError> {
    let Some(first) = first else { return Ok(()) };
    let mut batch = Batch { index: 0, first_line, text: first };
    let mut line = String::new();
    let mut line_no = first_line;
    loop {
        line.clear();
        let n = reader
            .read_line(&mut line)
            .map_err(|e| ValidateError::io(format!("line {}: not UTF-8 text", line_no + 1), e))?;
        if n == 0 || failed.load(Ordering::Relaxed) {
            break;
        }
        line_no += 1;
        if batch.text.len() >= BATCH_BYTES && line.trim_start().starts_with('[') {
            let next =
                Batch { index: batch.index + 1, first_line: line_no, text: String::with_capacity(BATCH_BYTES * 5 / 4) };
            if tx.send(std::mem::replace(&mut batch, next)).is_err() {
                return Ok(());
            }
        }
        batch.text.push_str(&line);
    }
    let _ = tx.send(batch);
    Ok(())
}

/// Merges counts; writes the Turtle of each batch in file order (header first).
fn collect(
    done: crossbeam_channel::Receiver<Done>,
    target: Option<(&Converter, &Normalize)>,
    failed: &AtomicBool,
) -> Result<(Counts, Written), ValidateError> {
    let mut counts = Counts::default();
    let mut first_error: Option<(usize, ValidateError)> = None;
    let mut file = match target {
        Some((c, n)) => {
            let opened = std::fs::create_dir_all(&n.dir)
                .and_then(|()| HashedFile::create(n.dir.join(format!("{}.ttl", n.stem))))
                .and_then(|mut f| c.header().map_err(std::io::Error::other).and_then(|h| f.write_all(&h)).map(|()| f));
            Some(opened)
        }
        None => None,
    };
    let mut pending: BTreeMap<usize, Vec<u8>> = BTreeMap::new();
    let mut next = 0;
    for d in done {
        counts.add(&d.counts);
        if let Some(e) = d.error {
            failed.store(true, Ordering::Relaxed);
            if first_error.as_ref().is_none_or(|(i, _)| d.index < *i) {
                first_error = Some((d.index, e));
            }
            continue;
        }
        pending.insert(d.index, d.turtle);
        while let Some(t) = pending.remove(&next) {
            if let Some(Ok(f)) = &mut file
                && let Err(e) = f.write_all(&t)
            {
                file = Some(Err(e));
            }
            next += 1;
        }
    }
    if let Some((_, e)) = first_error {
        return Err(e);
    }
    Ok((counts, file.map(|f| f.and_then(|f| f.finish("ttl")))))
}
