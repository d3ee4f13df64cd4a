//! Parsing RDF in bounded memory, in parallel where the syntax allows it.
//!
//! N-Triples and N-Quads are line-based: the file is read in windows of [`WINDOW`] bytes,
//! each window is cut at a line end and split into one chunk per thread, and the chunks are
//! parsed at once. Turtle is cut the same way at statement boundaries (a line that ends a
//! statement with `.` followed by a line that starts a subject at column 0), with the
//! prefixes of the file's prologue given to every chunk; a file that declares prefixes
//! after its prologue is parsed sequentially, and so is any file where a chunk fails to
//! parse (a cut inside a multi-line literal fails loudly, never silently), so an error is
//! always reported by a sequential parse with its true line. Other syntaxes (RDF/XML,
//! TriG, JSON-LD) are parsed by one thread while a second one counts and sorts.
//! Memory is the window plus each thread's sort buffer, whatever the file size.

use crate::tally::Tally;
use crate::xmlguard::Layout;
use crate::{Detected, extsort::Runs};
use oxrdf::{GraphName, Quad};
use oxrdfio::{RdfFormat, RdfParser};
use oxttl::{NQuadsParser, NTriplesParser, TurtleParser};
use std::fs::File;
use std::io::{BufReader, Read};
use std::io::{Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Bytes read and parsed at once (split between the threads), at most.
const WINDOW: usize = 32 << 20;
/// Bytes read at once, at least: twice the longest statement looked for.
const MIN_WINDOW: usize = 16 << 20;

/// The window for a parse whose sort may use `sort` bytes: half of that, between
/// [`MIN_WINDOW`] and [`WINDOW`]. The sort budget is a quarter of the worker's memory cap,
/// so a small cap (128 MiB, where the executable's own mapping takes a third) gets a
/// smaller window instead of an out-of-memory abort.
fn window_for(sort: Option<&SortTo<'_>>) -> usize {
    sort.map_or(WINDOW, |s| (s.budget / 2).clamp(MIN_WINDOW, WINDOW))
}
/// A window with no statement boundary in this many bytes is parsed sequentially.
const MAX_STATEMENT: usize = 8 << 20;
/// Quads handed from the parsing thread to the counting thread at once.
const BATCH: usize = 4096;

/// What parsing found.
pub struct Parsed {
    /// Everything counted.
    pub tally: Tally,
    /// Prefixes the file declared (for readable Turtle output).
    pub prefixes: Vec<(String, String)>,
    /// The parse error, with its position.
    pub error: Option<String>,
    /// The file was parsed by several threads.
    pub parallel: bool,
}

/// Where the canonical lines go and how much memory sorting may use (all threads).
#[derive(Clone, Copy)]
pub struct SortTo<'a> {
    /// The run files.
    pub runs: &'a Runs,
    /// Sort buffer, bytes.
    pub budget: usize,
    /// The language tags as the source writes them.
    pub tags: &'a std::sync::Arc<crate::langtag::LanguageTags>,
}

/// Parses `path` in `format`, with `threads` threads where the syntax allows (`layout`:
/// where an RDF/XML document may be cut, from the XML guard's pass).
pub fn parse(
    path: &Path,
    detected: Detected,
    format: RdfFormat,
    sort: Option<SortTo<'_>>,
    threads: usize,
    layout: Option<&Layout>,
) -> Parsed {
    let threads = threads.max(1);
    let parallel = match detected {
        Detected::RdfXml if threads > 1 => {
            layout.filter(|l| !l.cuts.is_empty()).and_then(|l| rdfxml(path, l, threads, sort))
        }
        Detected::NTriples | Detected::NQuads if threads > 1 => {
            windowed(path, detected, threads, sort, &Prologue { declared: vec![], end: 0 })
        }
        Detected::Turtle if threads > 1 => match turtle_prologue(path) {
            Ok(Some(prologue)) => windowed(path, detected, threads, sort, &prologue),
            _ => None,
        },
        _ => None,
    };
    match parallel {
        Some(parsed) => parsed,
        // Sequential: the only way for the other syntaxes, and the arbiter for any file a
        // parallel attempt could not finish (it then reports the real error and line).
        None => sequential(path, format, sort),
    }
}

fn tallies(n: usize, sort: Option<SortTo<'_>>) -> Vec<Tally> {
    (0..n).map(|_| Tally::new(sort.map(|s| (s.runs, s.budget / n, s.tags.clone())))).collect()
}

fn finish(mut tallies: Vec<Tally>, prefixes: Vec<(String, String)>, error: Option<String>, parallel: bool) -> Parsed {
    let mut io_error = None;
    for t in &mut tallies {
        if let Err(e) = t.finish_sort() {
            io_error = Some(format!("sorting canonical lines: {e}"));
        }
    }
    let mut it = tallies.into_iter();
    let mut tally = it.next().expect("at least one tally");
    for t in it {
        tally.merge(t);
    }
    tally.imports.sort();
    tally.imports.dedup();
    Parsed { tally, prefixes, error: error.or(io_error), parallel }
}

/// The prologue of a Turtle file: its prefixes and base, and where it ends.
struct Prologue {
    declared: Vec<(String, String)>,
    end: usize,
}

fn turtle_prologue(path: &Path) -> std::io::Result<Option<Prologue>> {
    let mut head = Vec::new();
    File::open(path)?.take(MAX_STATEMENT as u64).read_to_end(&mut head)?;
    let end = prologue_end(&head);
    let mut parser = TurtleParser::new().for_slice(&head[..end]);
    for t in parser.by_ref() {
        if t.is_err() {
            return Ok(None);
        }
    }
    let mut declared: Vec<(String, String)> = parser.prefixes().map(|(p, i)| (p.to_string(), i.to_string())).collect();
    if let Some(base) = parser.base_iri() {
        declared.push((String::new(), format!("@base {base}")));
    }
    Ok(Some(Prologue { declared, end }))
}

/// Where the leading block of directives, comments and blank lines ends.
fn prologue_end(head: &[u8]) -> usize {
    let mut pos = 0;
    for line in head.split_inclusive(|b| *b == b'\n') {
        let t = line.trim_ascii_start();
        let directive = is_directive(t);
        if !(t.is_empty() || t.starts_with(b"#") || directive) {
            break;
        }
        pos += line.len();
    }
    pos
}

fn is_directive(line: &[u8]) -> bool {
    let lower: Vec<u8> = line.iter().take(7).map(u8::to_ascii_lowercase).collect();
    lower.starts_with(b"@prefix")
        || lower.starts_with(b"@base")
        || lower.starts_with(b"prefix ")
        || lower.starts_with(b"base ")
}

/// Whether a line of `text` (which starts at a line start) is a directive.
fn has_directive_line(text: &[u8]) -> bool {
    text.split(|b| *b == b'\n').any(|l| is_directive(l.trim_ascii_start()))
}

/// Where a window may be cut: just after the last line end (line-based syntaxes) or the
/// last statement boundary (Turtle) at or before `limit`.
fn cut(text: &[u8], limit: usize, detected: Detected) -> Option<usize> {
    let text = &text[..limit.min(text.len())];
    let floor = text.len().saturating_sub(MAX_STATEMENT);
    let mut end = text.len();
    while let Some(nl) = text[..end].iter().rposition(|b| *b == b'\n') {
        if nl < floor {
            return None;
        }
        if detected != Detected::Turtle || statement_boundary(text, nl) {
            return Some(nl + 1);
        }
        end = nl;
    }
    None
}

/// The newline at `nl` ends a Turtle statement and the next line starts a new subject.
fn statement_boundary(text: &[u8], nl: usize) -> bool {
    let before = text[..nl].trim_ascii_end();
    if !before.ends_with(b".") {
        return false;
    }
    let next = &text[nl + 1..];
    match next.first() {
        Some(b'<' | b'[' | b'(' | b':') => true,
        Some(b'_') => next.get(1) == Some(&b':'),
        Some(c) if c.is_ascii_alphabetic() => {
            // A prefixed name: letters, digits, `_ - .` then `:`.
            let name = next.iter().take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')).count();
            next.get(name) == Some(&b':')
        }
        _ => false,
    }
}

/// Splits `text` into at most `n` chunks at boundaries.
fn split(text: &[u8], n: usize, detected: Detected) -> Vec<&[u8]> {
    let mut chunks = Vec::with_capacity(n);
    let mut start = 0;
    for k in 1..n {
        let target = text.len() * k / n;
        if target <= start {
            continue;
        }
        if let Some(end) = cut(&text[start..], target - start, detected).map(|e| start + e)
            && end > start
        {
            chunks.push(&text[start..end]);
            start = end;
        }
    }
    chunks.push(&text[start..]);
    chunks
}

/// Parses one chunk into a tally; an error stops the parallel attempt.
fn parse_chunk(chunk: &[u8], detected: Detected, prologue: &[(String, String)], tally: &mut Tally) -> Result<(), ()> {
    let default = |t: oxrdf::Triple| Quad::new(t.subject, t.predicate, t.object, GraphName::DefaultGraph);
    let add = |tally: &mut Tally, q: Quad| tally.add(q.as_ref()).map_err(drop);
    match detected {
        Detected::NTriples => {
            for t in NTriplesParser::new().for_slice(chunk) {
                add(tally, default(t.map_err(drop)?))?;
            }
        }
        Detected::NQuads => {
            for q in NQuadsParser::new().for_slice(chunk) {
                add(tally, q.map_err(drop)?)?;
            }
        }
        _ => {
            let mut parser = TurtleParser::new();
            for (prefix, iri) in prologue {
                parser = match iri.strip_prefix("@base ") {
                    Some(base) if prefix.is_empty() => parser.with_base_iri(base).map_err(drop)?,
                    _ => parser.with_prefix(prefix, iri).map_err(drop)?,
                };
            }
            for t in parser.for_slice(chunk) {
                add(tally, default(t.map_err(drop)?))?;
            }
        }
    }
    Ok(())
}

/// The parallel parse; `None` when it could not be completed (then parse sequentially).
fn windowed(
    path: &Path,
    detected: Detected,
    threads: usize,
    sort: Option<SortTo<'_>>,
    prologue: &Prologue,
) -> Option<Parsed> {
    let mut file = File::open(path).ok()?;
    let mut offset = 0usize;
    let window = window_for(sort.as_ref());
    let mut tallies = tallies(threads, sort);
    let mut buf: Vec<u8> = Vec::with_capacity(window + (1 << 20));
    let mut eof = false;
    while !eof {
        let want = window.saturating_sub(buf.len());
        let got = (&mut file).take(want as u64).read_to_end(&mut buf).ok()?;
        eof = got < want;
        let end = if eof { buf.len() } else { cut(&buf, buf.len(), detected)? };
        // A directive after the prologue: chunks would disagree about prefixes.
        let past_prologue = prologue.end.saturating_sub(offset).min(end);
        if detected == Detected::Turtle && has_directive_line(&buf[past_prologue..end]) {
            return None;
        }
        let chunks = split(&buf[..end], threads, detected);
        let ok = std::thread::scope(|s| {
            let handles: Vec<_> = chunks
                .iter()
                .zip(tallies.iter_mut())
                .map(|(chunk, tally)| s.spawn(move || parse_chunk(chunk, detected, &prologue.declared, tally)))
                .collect();
            handles.into_iter().all(|h| h.join().is_ok_and(|r| r.is_ok()))
        });
        if !ok {
            return None;
        }
        buf.drain(..end);
        offset += end;
    }
    let prefixes =
        prologue.declared.iter().filter(|(p, i)| !(p.is_empty() && i.starts_with("@base "))).cloned().collect();
    Some(finish(tallies, prefixes, None, true))
}

/// An RDF/XML document cut where the XML guard found top-level node elements end: the
/// top-level node elements of `rdf:RDF` are independent, so each piece parses as a document
/// of its own — the original prologue (XML declaration, DOCTYPE entities, the root start
/// tag with its namespaces and base), the piece's bytes, the root's end tag.
pub(crate) struct Pieces {
    prologue: Vec<u8>,
    epilogue: Vec<u8>,
    /// Byte ranges of the pieces.
    pub spans: Vec<(u64, u64)>,
}

impl Pieces {
    /// The pieces of `path` along `layout`.
    pub fn read(path: &Path, layout: &Layout) -> std::io::Result<Pieces> {
        let mut prologue = vec![0u8; layout.prologue_end as usize];
        File::open(path)?.read_exact(&mut prologue)?;
        let epilogue = format!("</{}>", layout.root).into_bytes();
        let mut bounds = vec![layout.prologue_end];
        bounds.extend(layout.cuts.iter().copied().filter(|c| *c < layout.body_end));
        bounds.push(layout.body_end);
        Ok(Pieces { prologue, epilogue, spans: bounds.windows(2).map(|w| (w[0], w[1])).collect() })
    }

    /// The prefixes the root declares (what a sequential parse reports).
    pub fn prefixes(&self) -> Vec<(String, String)> {
        let mut head =
            oxrdfxml::RdfXmlParser::new().for_reader(self.prologue.as_slice().chain(self.epilogue.as_slice()));
        for _ in head.by_ref() {}
        head.prefixes().map(|(p, i)| (p.to_string(), i.to_string())).collect()
    }

    /// Parses the piece `start..end`, handing each triple to `each`; `Err(())` when the
    /// piece does not parse (a sequential parse then finds the error and its line) or `each`
    /// refused a triple.
    pub fn parse(&self, path: &Path, (start, end): (u64, u64), each: &mut dyn FnMut(Quad) -> bool) -> Result<(), ()> {
        let mut file = File::open(path).map_err(drop)?;
        file.seek(SeekFrom::Start(start)).map_err(drop)?;
        let body = BufReader::with_capacity(1 << 20, file.take(end - start));
        let input = self.prologue.as_slice().chain(body).chain(self.epilogue.as_slice());
        for t in oxrdfxml::RdfXmlParser::new().for_reader(input) {
            let t = t.map_err(drop)?;
            if !each(Quad::new(t.subject, t.predicate, t.object, GraphName::DefaultGraph)) {
                return Err(());
            }
        }
        Ok(())
    }
}

/// RDF/XML in parallel, in [`Pieces`]; `None` when a piece fails.
fn rdfxml(path: &Path, layout: &Layout, threads: usize, sort: Option<SortTo<'_>>) -> Option<Parsed> {
    let pieces = Pieces::read(path, layout).ok()?;
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let mut tallies = tallies(threads, sort);
    std::thread::scope(|s| {
        for tally in tallies.iter_mut() {
            let (pieces, next, failed) = (&pieces, &next, &failed);
            s.spawn(move || {
                while let Some(&span) = pieces.spans.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if failed.load(Ordering::Relaxed)
                        || pieces.parse(path, span, &mut |q| tally.add(q.as_ref()).is_ok()).is_err()
                    {
                        failed.store(true, Ordering::Relaxed);
                        return;
                    }
                }
            });
        }
    });
    if failed.load(Ordering::Relaxed) {
        return None;
    }
    Some(finish(tallies, pieces.prefixes(), None, true))
}

/// One thread parses, another counts and sorts.
fn sequential(path: &Path, format: RdfFormat, sort: Option<SortTo<'_>>) -> Parsed {
    let mut tally = tallies(1, sort).pop().expect("one tally");
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => return finish(vec![tally], vec![], Some(format!("cannot read {}: {e}", path.display())), false),
    };
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Quad>>(4);
    let (error, prefixes) = std::thread::scope(|s| {
        let counter = s.spawn(|| {
            for batch in rx {
                for q in &batch {
                    tally.add(q.as_ref())?;
                }
            }
            Ok::<(), std::io::Error>(())
        });
        let mut parser = RdfParser::from_format(format).for_reader(BufReader::with_capacity(1 << 20, file));
        let mut batch = Vec::with_capacity(BATCH);
        let mut error = None;
        for q in parser.by_ref() {
            match q {
                Ok(q) => {
                    batch.push(q);
                    if batch.len() == BATCH
                        && tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH))).is_err()
                    {
                        break;
                    }
                }
                Err(e) => {
                    error = Some(format!("{format} parse error: {e}"));
                    break;
                }
            }
        }
        if format == RdfFormat::RdfXml
            && let Some(e) = &mut error
            && let Some(line) = rdfxml_error_line(path)
        {
            *e = format!(
                "{format} parse error at line {line}: {}",
                e.trim_start_matches(&format!("{format} parse error: "))
            );
        }
        let prefixes: Vec<(String, String)> = parser.prefixes().map(|(p, i)| (p.to_string(), i.to_string())).collect();
        let _ = tx.send(batch);
        drop(tx);
        let counted = counter.join().unwrap_or_else(|_| Err(std::io::Error::other("the counting thread panicked")));
        (error.or(counted.err().map(|e| format!("sorting canonical lines: {e}"))), prefixes)
    });
    finish(vec![tally], prefixes, error, false)
}

/// Counts what the parser took; from `fine_from` on it hands over one byte per read, so the
/// count stops at the end of the XML event the parser failed on.
struct Trickle<R> {
    inner: R,
    taken: u64,
    fine_from: u64,
}

impl<R: Read> Read for Trickle<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = match self.fine_from.checked_sub(self.taken) {
            Some(0) | None => 1,
            Some(coarse) => buf.len().min(usize::try_from(coarse).unwrap_or(usize::MAX)),
        };
        let n = n.min(buf.len());
        let got = self.inner.read(&mut buf[..n])?;
        self.taken += got as u64;
        Ok(got)
    }
}

/// Where the parser stops on `path` when fed through a [`Trickle`]; `None` when it parses.
fn rdfxml_stop(path: &Path, fine_from: u64) -> Option<u64> {
    let file = BufReader::with_capacity(1 << 20, File::open(path).ok()?);
    let mut trickle = Trickle { inner: file, taken: 0, fine_from };
    let failed = oxrdfxml::RdfXmlParser::new().for_reader(&mut trickle).any(|t| t.is_err());
    failed.then_some(trickle.taken)
}

/// The line of an RDF/XML error, which oxrdfxml's errors do not carry (Turtle's and OBO's
/// do). Only after a failure, the file is parsed again up to it through a reader that
/// counts what the parser consumed: once in large reads, which places the error within the
/// parser's read-ahead, then with single-byte reads over the last stretch before it, which
/// places it exactly. The lines before that point are counted.
fn rdfxml_error_line(path: &Path) -> Option<u64> {
    let coarse = rdfxml_stop(path, u64::MAX)?;
    let taken = rdfxml_stop(path, coarse.saturating_sub(1 << 20))?;
    let mut prefix = BufReader::with_capacity(1 << 20, File::open(path).ok()?).take(taken);
    let mut buf = vec![0u8; 1 << 16];
    let mut lines = 1u64;
    let mut last = 0u8;
    loop {
        let n = prefix.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
        last = buf[n - 1];
    }
    // The parser took the line end that closed the faulty line: report that line.
    Some(if last == b'\n' && lines > 1 { lines - 1 } else { lines })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// oxrdfxml reports no position; the re-parse finds the line of the faulty element.
    #[test]
    fn rdfxml_errors_name_their_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bad.owl");
        let mut xml = String::from(
            "<?xml version=\"1.0\"?>\n<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns:ex=\"http://example.org/\">\n",
        );
        for i in 0..300 {
            xml.push_str(&format!(
                "  <rdf:Description rdf:about=\"http://example.org/a{i}\"><ex:p>v{i}</ex:p></rdf:Description>\n"
            ));
        }
        // line 303: an rdf:about that is not an IRI
        xml.push_str("  <rdf:Description rdf:about=\"http://exa mple.org/bad\"><ex:p>x</ex:p></rdf:Description>\n");
        xml.push_str("</rdf:RDF>\n");
        std::fs::write(&path, &xml).expect("write");
        let parsed = sequential(&path, RdfFormat::RdfXml, None);
        let error = parsed.error.expect("an error");
        assert!(error.contains("at line 303:"), "{error}");
    }

    #[test]
    fn turtle_boundaries_are_statement_ends_before_a_subject() {
        let ttl =
            b"@prefix : <http://x/> .\n:a :b \"one.\nsecond line.\nthird\" .\n:c :d :e .\n<http://x/f> :g [ :h 1 ] .\n";
        let cuts: Vec<usize> = (0..ttl.len()).filter(|i| ttl[*i] == b'\n' && statement_boundary(ttl, *i)).collect();
        let lines: Vec<&str> =
            cuts.iter().map(|c| std::str::from_utf8(&ttl[c + 1..]).unwrap().lines().next().unwrap_or("")).collect();
        assert_eq!(lines, [":a :b \"one.", ":c :d :e .", "<http://x/f> :g [ :h 1 ] ."]);
        assert_eq!(prologue_end(ttl), 24);
        assert!(has_directive_line(b":a :b :c .\n  @prefix x: <http://y/> .\n"));
        assert!(!has_directive_line(b":a :b \"the prefix: word\" .\n"));
    }

    #[test]
    fn windows_split_into_chunks_at_boundaries() {
        let nt: Vec<u8> =
            (0..100).flat_map(|i| format!("<http://x/{i}> <http://p> \"{i}\" .\n").into_bytes()).collect();
        let chunks = split(&nt, 4, Detected::NTriples);
        assert_eq!(chunks.len(), 4);
        assert!(chunks.iter().all(|c| c.ends_with(b"\n")));
        assert_eq!(chunks.concat(), nt);
    }
}
