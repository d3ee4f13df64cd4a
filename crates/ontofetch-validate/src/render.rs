//! Writing the normalised files: the canonical N-Triples (from the sorted runs, hashed as
//! they are written) and, streamed from them, the renderings `normalize_to` asks for:
//! Turtle with the source's prefixes (sorted input groups each subject's triples, so the
//! Turtle is compact) and RDF/XML.

use crate::extsort::Runs;
use crate::{Normalize, OutputFile};
use oxrdf::Triple;
use oxttl::{NTriplesParser, TurtleParser, TurtleSerializer};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// Prefixes every rendering declares, besides the source's own.
const COMMON: &[(&str, &str)] = &[
    ("rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"),
    ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"),
    ("owl", "http://www.w3.org/2002/07/owl#"),
    ("xsd", "http://www.w3.org/2001/XMLSchema#"),
    ("obo", "http://purl.obolibrary.org/obo/"),
    ("oboInOwl", "http://www.geneontology.org/formats/oboInOwl#"),
];

/// A file being written, hashed on the way.
pub struct HashedFile {
    path: PathBuf,
    out: BufWriter<File>,
    hasher: Sha256,
    bytes: u64,
}

impl HashedFile {
    /// Creates `path`.
    pub fn create(path: PathBuf) -> std::io::Result<HashedFile> {
        let out = BufWriter::with_capacity(1 << 20, File::create(&path)?);
        Ok(HashedFile { path, out, hasher: Sha256::new(), bytes: 0 })
    }

    /// Flushes and describes the file.
    pub fn finish(mut self, format: &str) -> std::io::Result<OutputFile> {
        self.finish_ref(format)
    }

    /// [`HashedFile::finish`] for an owner that cannot give the file up (its hasher is
    /// spent: nothing may be written after).
    fn finish_ref(&mut self, format: &str) -> std::io::Result<OutputFile> {
        self.out.flush()?;
        self.out.get_ref().sync_all()?;
        Ok(OutputFile {
            format: format.into(),
            path: self.path.display().to_string(),
            sha256: hex::encode(self.hasher.finalize_reset()),
            bytes: self.bytes,
        })
    }
}

impl Write for HashedFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// The prefixes of a rendering: the common ones, then the source's (valid names only).
pub fn prefixes(source: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = COMMON.iter().map(|(p, i)| (p.to_string(), i.to_string())).collect();
    for (p, i) in source {
        if !out.iter().any(|(q, j)| q == p || j == i) {
            out.push((p.clone(), i.clone()));
        }
    }
    out
}

fn wants(n: &Normalize, format: &str) -> bool {
    n.formats.iter().any(|f| match format {
        "owl" => matches!(f.as_str(), "owl" | "rdfxml" | "rdf"),
        other => f == other,
    })
}

/// What a [`Rendering`] made: the N-Triples and the renderings, and a note for each
/// rendering skipped because its format cannot express a triple.
#[derive(Debug)]
pub struct Finished {
    /// The files written, the N-Triples first.
    pub outputs: Vec<OutputFile>,
    /// Renderings skipped, and why.
    pub skipped: Vec<String>,
}

/// Merges the sorted runs into `<stem>.nt`, rendering the wanted formats as it goes.
/// Returns the canonical hash and what was written.
pub fn from_runs(
    runs: Runs,
    source_prefixes: &[(String, String)],
    n: &Normalize,
) -> std::io::Result<(String, Finished)> {
    let prefixes = Arc::new(OnceLock::from(source_prefixes.to_vec()));
    let mut nt = Rendering::create(n, prefixes)?;
    let (hash, _) = runs.merge_into(&mut nt)?;
    Ok((hash, nt.finish()?))
}

/// Bytes of canonical N-Triples handed to the renderers at a time.
const BLOCK: usize = 1 << 20;

/// A block of N-Triples for a renderer; `None` says the document is complete (a renderer
/// whose channel closes without it was abandoned and removes its file).
type Block = Option<Arc<Vec<u8>>>;

/// `<stem>.nt` being written and hashed, with the renderings `normalize_to` asks for
/// (Turtle, RDF/XML) made from the same bytes on threads of their own, as they are
/// written: parsing the N-Triples back and serialising them costs about as much as the
/// merge that writes them, and now overlaps it instead of following it. The renderers
/// start at the first byte, when the source's prefixes are known (`prefixes` is set by
/// the parse, which ends before the merge begins). Dropped before [`Rendering::finish`],
/// it removes what it and the renderers wrote.
pub struct Rendering {
    nt: HashedFile,
    block: Vec<u8>,
    /// The renderings asked for, and their files (removed when one fails).
    wanted: Vec<(&'static str, PathBuf)>,
    /// `finish` ran (a drop without it abandons the files).
    finished: bool,
    prefixes: Arc<OnceLock<Vec<(String, String)>>>,
    feeds: Vec<std::sync::mpsc::SyncSender<Block>>,
    renderers: Vec<std::io::Result<std::thread::JoinHandle<std::io::Result<OutputFile>>>>,
}

impl Rendering {
    /// Creates `<stem>.nt` in `n.dir`; the renderings follow the bytes written to it.
    pub fn create(n: &Normalize, prefixes: Arc<OnceLock<Vec<(String, String)>>>) -> std::io::Result<Rendering> {
        let nt = HashedFile::create(n.dir.join(format!("{}.nt", n.stem)))?;
        let wanted: Vec<_> = ["ttl", "owl"]
            .into_iter()
            .filter(|format| wants(n, format))
            .map(|format| (format, n.dir.join(format!("{}.{format}", n.stem))))
            .collect();
        let block = Vec::with_capacity(BLOCK);
        Ok(Rendering { nt, block, wanted, finished: false, prefixes, feeds: vec![], renderers: vec![] })
    }

    fn start_renderers(&mut self) {
        if !self.renderers.is_empty() || self.wanted.is_empty() {
            return;
        }
        let prefixes = prefixes(self.prefixes.get().map(Vec::as_slice).unwrap_or_default());
        for (format, dest) in self.wanted.clone() {
            let (feed, blocks) = std::sync::mpsc::sync_channel::<Block>(4);
            let prefixes = prefixes.clone();
            self.feeds.push(feed);
            let renderer = move || {
                let mut input = BlockReader { blocks, current: Arc::new(Vec::new()), at: 0, complete: false };
                let made = render(format, &mut input, &prefixes, dest.clone());
                if made.is_err() || !input.complete {
                    let _ = std::fs::remove_file(&dest);
                    return Err(made.err().unwrap_or_else(|| std::io::Error::other("the N-Triples were abandoned")));
                }
                made
            };
            // No thread: that rendering fails (at `finish`); the N-Triples go on.
            self.renderers.push(std::thread::Builder::new().name(format!("render-{format}")).spawn(renderer));
        }
    }

    fn hand_over(&mut self, block: Block) {
        self.start_renderers();
        // A renderer that failed has hung up; its error is reported by `finish`.
        for feed in &self.feeds {
            let _ = feed.send(block.clone());
        }
    }

    /// Waits for the N-Triples to be durable and for every rendering: the N-Triples first,
    /// then Turtle, then RDF/XML (those asked for). A rendering whose format cannot express
    /// a triple is skipped (its file removed) with a note in `skipped`; any other failure
    /// leaves none of the files.
    pub fn finish(mut self) -> std::io::Result<Finished> {
        self.finished = true;
        let rest = std::mem::take(&mut self.block);
        if !rest.is_empty() {
            self.hand_over(Some(Arc::new(rest)));
        }
        self.hand_over(None);
        self.feeds.clear();
        let nt = self.nt.finish_ref("nt");
        let mut skipped = Vec::new();
        let rendered: Vec<std::io::Result<OutputFile>> = std::mem::take(&mut self.renderers)
            .into_iter()
            .map(|r| r?.join().map_err(|_| std::io::Error::other("a renderer panicked"))?)
            .filter(|made| match made.as_ref().err().and_then(skipped_note) {
                Some(note) => {
                    skipped.push(note);
                    false
                }
                None => true,
            })
            .collect();
        let outputs: std::io::Result<Vec<OutputFile>> = std::iter::once(nt).chain(rendered).collect();
        match outputs {
            Ok(outputs) => Ok(Finished { outputs, skipped }),
            Err(e) => {
                for file in std::iter::once(&self.nt.path).chain(self.wanted.iter().map(|(_, path)| path)) {
                    let _ = std::fs::remove_file(file);
                }
                Err(e)
            }
        }
    }
}

impl Write for Rendering {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.nt.write_all(buf)?;
        if !self.wanted.is_empty() {
            self.block.extend_from_slice(buf);
            if self.block.len() >= BLOCK {
                let full = std::mem::replace(&mut self.block, Vec::with_capacity(BLOCK));
                self.hand_over(Some(Arc::new(full)));
            }
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.nt.flush()
    }
}

impl Drop for Rendering {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // Abandoned: hanging up without the end marker makes each renderer remove its file.
        self.feeds.clear();
        for r in std::mem::take(&mut self.renderers).into_iter().flatten() {
            let _ = r.join();
        }
        let _ = std::fs::remove_file(&self.nt.path);
    }
}

/// Reads the blocks a [`Rendering`] hands over, as one stream.
struct BlockReader {
    blocks: std::sync::mpsc::Receiver<Block>,
    current: Arc<Vec<u8>>,
    at: usize,
    complete: bool,
}

impl Read for BlockReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.current.len() {
            if self.complete {
                return Ok(0);
            }
            match self.blocks.recv() {
                Ok(Some(block)) => (self.current, self.at) = (block, 0),
                Ok(None) => self.complete = true,
                // Abandoned: the stream ends here, and `complete` stays false.
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.at);
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// N-Triples rendered as Turtle at once by one worker, about.
const CHUNK: usize = 1 << 20;

/// Threads rendering Turtle chunks: every core, at most four.
fn chunk_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4)
}

/// The `@prefix` lines oxttl's serializer writes before its first triple.
pub(crate) fn turtle_prelude(prefixes: &[(String, String)]) -> std::io::Result<Vec<u8>> {
    const PROBE: &str = "<urn:x:s> <urn:x:p> <urn:x:o> .\n";
    let mut ser = turtle_serializer(prefixes)?;
    let mut buf = Vec::new();
    let n = oxrdf::NamedNodeRef::new_unchecked;
    ser.serialize_triple(oxrdf::TripleRef::new(n("urn:x:s"), n("urn:x:p"), n("urn:x:o")), &mut buf)?;
    ser.finish(&mut buf)?;
    buf.strip_suffix(PROBE.as_bytes())
        .map(<[u8]>::to_vec)
        .ok_or_else(|| std::io::Error::other("unexpected Turtle prelude"))
}

/// A Turtle serializer declaring `prefixes`.
pub(crate) fn turtle_serializer(
    prefixes: &[(String, String)],
) -> std::io::Result<oxttl::turtle::LowLevelTurtleSerializer> {
    let mut ser = TurtleSerializer::new();
    for (p, i) in prefixes {
        ser = ser.with_prefix(p, i).map_err(std::io::Error::other)?;
    }
    Ok(ser.low_level())
}

/// Where sorted N-Triples may be cut so that each part renders as Turtle on its own: before
/// the first line of the last complete line's subject (`None`: one subject fills `text`).
/// Turtle groups a subject's triples, and a subject's lines are together in sorted input,
/// so the renderings of the parts, put end to end, are the rendering of the whole.
fn subject_cut(text: &[u8]) -> Option<usize> {
    let end = text.iter().rposition(|b| *b == b'\n')? + 1;
    let line_start = |at: usize| text[..at].iter().rposition(|b| *b == b'\n').map_or(0, |n| n + 1);
    let subject = |line: usize| {
        let rest = &text[line..end];
        &rest[..rest.iter().position(|b| *b == b' ').unwrap_or(rest.len())]
    };
    let mut start = line_start(end - 1);
    let last = subject(start);
    while start > 0 {
        let previous = line_start(start - 1);
        if subject(previous) != last {
            return Some(start);
        }
        start = previous;
    }
    None
}

/// One part of the N-Triples as Turtle, without the prelude.
fn ttl_chunk(nt: &[u8], prefixes: &[(String, String)], prelude: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut ser = turtle_serializer(prefixes)?;
    let mut out = Vec::with_capacity(nt.len());
    for t in NTriplesParser::new().lenient().for_slice(nt) {
        ser.serialize_triple(&t.map_err(std::io::Error::other)?, &mut out)?;
    }
    ser.finish(&mut out)?;
    match out.strip_prefix(prelude) {
        Some(body) => Ok(body.to_vec()),
        None if out.is_empty() => Ok(out),
        None => Err(std::io::Error::other("a Turtle chunk without the prelude")),
    }
}

/// Turtle from sorted N-Triples on `workers` threads: the input is cut into parts of about
/// `chunk` bytes at subject boundaries, each part is rendered on its own and the parts are
/// written in order after one prelude — byte for byte what [`render`] writes on one thread
/// (the rendering was the last step's longest, and the merge waited for it).
fn ttl_in_chunks(
    nt: &mut dyn Read,
    prefixes: &[(String, String)],
    dest: PathBuf,
    chunk: usize,
    workers: usize,
) -> std::io::Result<OutputFile> {
    type Reply = std::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>;
    let prelude = turtle_prelude(prefixes)?;
    let mut file = HashedFile::create(dest)?;
    let (work, queue) = crossbeam_channel::bounded::<(Vec<u8>, std::sync::mpsc::SyncSender<_>)>(workers);
    std::thread::scope(|s| {
        for _ in 0..workers {
            let (queue, prelude) = (queue.clone(), &prelude);
            s.spawn(move || {
                for (part, reply) in queue {
                    let _ = reply.send(ttl_chunk(&part, prefixes, prelude));
                }
            });
        }
        drop(queue);
        let mut pending: std::collections::VecDeque<Reply> = std::collections::VecDeque::new();
        let mut started = false;
        let mut write_oldest = |pending: &mut std::collections::VecDeque<Reply>| -> std::io::Result<()> {
            let Some(reply) = pending.pop_front() else { return Ok(()) };
            let body = reply.recv().map_err(|_| std::io::Error::other("a Turtle worker died"))??;
            if !body.is_empty() && !std::mem::replace(&mut started, true) {
                file.write_all(&prelude)?;
            }
            file.write_all(&body)
        };
        let mut text: Vec<u8> = Vec::with_capacity(chunk * 2);
        let mut at_end = false;
        while !at_end {
            at_end = (&mut *nt).take(chunk as u64).read_to_end(&mut text)? == 0;
            let cut = if at_end { Some(text.len()) } else { subject_cut(&text) };
            let Some(cut) = cut.filter(|c| *c > 0) else { continue };
            let rest = text.split_off(cut);
            let part = std::mem::replace(&mut text, rest);
            let (reply, answer) = std::sync::mpsc::sync_channel(1);
            work.send((part, reply)).map_err(|_| std::io::Error::other("the Turtle workers stopped"))?;
            pending.push_back(answer);
            while pending.len() > 2 * workers {
                write_oldest(&mut pending)?;
            }
        }
        drop(work);
        while !pending.is_empty() {
            write_oldest(&mut pending)?;
        }
        Ok::<(), std::io::Error>(())
    })?;
    file.finish("ttl")
}

/// Renders canonical N-Triples read from `nt` as `format` (`ttl` or `owl`) into `dest`.
/// Lenient: these N-Triples are ours, made from terms the source's parser already checked;
/// checking every IRI again was a quarter of the rendering's time.
fn render(
    format: &str,
    nt: &mut dyn Read,
    prefixes: &[(String, String)],
    dest: PathBuf,
) -> std::io::Result<OutputFile> {
    match format {
        "ttl" => ttl_in_chunks(nt, prefixes, dest, CHUNK, chunk_workers()),
        _ => {
            let triples = NTriplesParser::new()
                .lenient()
                .for_reader(BufReader::with_capacity(1 << 16, nt))
                .map(|t| t.map_err(std::io::Error::other));
            rdfxml(triples, prefixes, dest)
        }
    }
}

/// A rendering that was not made because its format cannot express a triple: the
/// rendering is skipped with this note, the canonical hash and the other files stand.
#[derive(Debug)]
pub struct Unexpressible(pub String);

impl std::fmt::Display for Unexpressible {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unexpressible {}

/// The note of a rendering skipped for [`Unexpressible`], if that is why it failed.
pub fn skipped_note(e: &std::io::Error) -> Option<String> {
    e.get_ref().and_then(|inner| inner.downcast_ref::<Unexpressible>()).map(|u| u.0.clone())
}

/// Writes triples as RDF/XML; a triple RDF/XML cannot express (see `xmlsafe`) stops it with
/// [`Unexpressible`] and removes the file, so no malformed RDF/XML is ever left.
pub fn rdfxml(
    triples: impl Iterator<Item = std::io::Result<Triple>>,
    prefixes: &[(String, String)],
    dest: PathBuf,
) -> std::io::Result<OutputFile> {
    let mut ser = oxrdfxml::RdfXmlSerializer::new();
    for (p, i) in prefixes {
        ser = ser.with_prefix(p, i).map_err(std::io::Error::other)?;
    }
    let mut w = ser.for_writer(HashedFile::create(dest.clone())?);
    let written = (|| {
        for t in triples {
            let t = t?;
            if let Some(why) = crate::xmlsafe::unrepresentable(&t) {
                let note = format!("RDF/XML rendering skipped: {why} ({t})");
                return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, Unexpressible(note)));
            }
            w.serialize_triple(&t)?;
        }
        Ok(())
    })();
    match written {
        Ok(()) => w.finish()?.finish("owl"),
        Err(e) => {
            drop(w);
            let _ = std::fs::remove_file(&dest);
            Err(e)
        }
    }
}

/// Renders a Turtle file as RDF/XML (the OBO translation asked for `owl`).
pub fn turtle_to_rdfxml(ttl: &Path, prefixes: &[(String, String)], dest: PathBuf) -> std::io::Result<OutputFile> {
    let triples = TurtleParser::new()
        .for_reader(BufReader::with_capacity(1 << 20, File::open(ttl)?))
        .map(|t| t.map_err(std::io::Error::other));
    rdfxml(triples, prefixes, dest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalize(dir: &Path, formats: &[&str]) -> Normalize {
        Normalize {
            dir: dir.to_path_buf(),
            stem: "x".into(),
            formats: formats.iter().map(|f| f.to_string()).collect(),
            rdfc_max_component: 1000,
            sort_memory_bytes: 1 << 20,
            second_pass: false,
            terms: false,
            fused: false,
            lowercase_language_tags: false,
        }
    }

    /// The Turtle of N-Triples written by one serializer on one thread: the reference the
    /// rendering in parts must equal.
    fn turtle_on_one_thread(nt: &[u8], prefixes: &[(String, String)], dest: PathBuf) -> OutputFile {
        let mut ser = TurtleSerializer::new();
        for (p, i) in prefixes {
            ser = ser.with_prefix(p, i).expect("prefix");
        }
        let mut w = ser.for_writer(HashedFile::create(dest).expect("create"));
        for t in NTriplesParser::new().for_slice(nt) {
            w.serialize_triple(&t.expect("N-Triples")).expect("serialise");
        }
        w.finish().expect("finish").finish("ttl").expect("hashed")
    }

    /// Sorted N-Triples of a few MiB (several blocks), cut mid-line when written.
    fn ntriples() -> Vec<u8> {
        let mut lines: Vec<String> = (0..40_000)
            .flat_map(|i| {
                [
                    format!("<http://purl.obolibrary.org/obo/X_{i:07}> <http://www.w3.org/2000/01/rdf-schema#label> \"term {i} \\\"quoted\\\"\"@en .\n"),
                    format!("<http://purl.obolibrary.org/obo/X_{i:07}> <http://www.w3.org/2000/01/rdf-schema#subClassOf> _:c14n{i} .\n"),
                    format!("_:c14n{i} <http://www.w3.org/2002/07/owl#someValuesFrom> <http://example.org/y#{i}> .\n"),
                ]
            })
            .collect();
        lines.sort();
        lines.concat().into_bytes()
    }

    /// The renderings made while the N-Triples are written are the ones made from the
    /// finished file, byte for byte, whatever the write sizes.
    #[test]
    fn renderings_made_on_the_way_match_renderings_of_the_finished_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let nt = ntriples();
        assert!(nt.len() > 3 * BLOCK, "several blocks: {}", nt.len());
        let source = vec![("ex".to_string(), "http://example.org/y#".to_string())];
        let n = normalize(dir.path(), &["ttl", "owl"]);
        let mut r = Rendering::create(&n, Arc::new(OnceLock::from(source.clone()))).expect("create");
        for piece in nt.chunks(7919) {
            r.write_all(piece).expect("write");
        }
        let outputs = r.finish().expect("finish").outputs;
        let formats: Vec<&str> = outputs.iter().map(|o| o.format.as_str()).collect();
        assert_eq!(formats, ["nt", "ttl", "owl"]);
        assert_eq!(std::fs::read(&outputs[0].path).expect("nt"), nt);
        let reference = dir.path().join("reference");
        std::fs::create_dir(&reference).expect("mkdir");
        for (format, made) in [("ttl", &outputs[1]), ("owl", &outputs[2])] {
            let dest = reference.join(format!("x.{format}"));
            let expected = match format {
                "ttl" => turtle_on_one_thread(&nt, &prefixes(&source), dest.clone()),
                _ => render(format, &mut nt.as_slice(), &prefixes(&source), dest.clone()).expect("render"),
            };
            assert_eq!(std::fs::read(&made.path).expect("made"), std::fs::read(&dest).expect("reference"), "{format}");
            assert_eq!((made.sha256.as_str(), made.bytes), (expected.sha256.as_str(), expected.bytes));
        }
        let ttl = std::fs::read_to_string(&outputs[1].path).expect("ttl");
        assert!(ttl.contains("@prefix ex: <http://example.org/y#>"), "the source's prefixes are used");
    }

    /// Turtle rendered in parts on several threads is the Turtle of the whole, byte for
    /// byte, whatever the part size: parts smaller than one subject's lines, a subject with
    /// more lines than a part, blank-node subjects, one thread or four.
    #[test]
    fn turtle_in_parts_is_the_turtle_of_the_whole() {
        assert_eq!(subject_cut(b"<a> <p> \"1\" .\n<a> <p> \"2\" .\n"), None, "one subject");
        assert_eq!(subject_cut(b"<a> <p> \"1\" .\n<b> <p> \"2\" .\n<b> <q> \"3\" .\n<b"), Some(14));
        assert_eq!(subject_cut(b"<a> <p> \"1\" .\n<a"), None, "no complete line after the first");
        let dir = tempfile::tempdir().expect("tempdir");
        let mut lines: Vec<String> = ntriples()
            .split_inclusive(|b| *b == b'\n')
            .take(3_000)
            .map(|l| String::from_utf8(l.to_vec()).unwrap())
            .collect();
        lines.extend((0..400).map(|i| format!("<http://a.org/big> <http://a.org/p{}> \"v{i}\" .\n", i % 7)));
        lines.sort();
        let nt = lines.concat().into_bytes();
        let source = prefixes(&[("ex".to_string(), "http://example.org/y#".to_string())]);
        let whole = dir.path().join("whole.ttl");
        let expected = turtle_on_one_thread(&nt, &source, whole.clone());
        for (i, (chunk, workers)) in [(64, 1), (1000, 4), (8192, 2), (1 << 20, 2)].into_iter().enumerate() {
            let dest = dir.path().join(format!("parts-{i}.ttl"));
            let made = ttl_in_chunks(&mut nt.as_slice(), &source, dest.clone(), chunk, workers).expect("parts");
            assert_eq!(
                std::fs::read(&dest).expect("parts"),
                std::fs::read(&whole).expect("whole"),
                "{chunk} bytes, {workers} threads"
            );
            assert_eq!((made.sha256.as_str(), made.bytes), (expected.sha256.as_str(), expected.bytes));
        }
    }

    /// A rendering abandoned half-way (the merge failed) or one that fails leaves no file.
    #[test]
    fn an_abandoned_or_failed_rendering_leaves_no_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let n = normalize(dir.path(), &["ttl", "owl"]);
        let nt = ntriples();
        let mut r = Rendering::create(&n, Arc::new(OnceLock::new())).expect("create");
        r.write_all(&nt[..2 * BLOCK + 17]).expect("write");
        drop(r);
        let left: Vec<_> = std::fs::read_dir(dir.path()).expect("ls").map(|e| e.expect("entry").file_name()).collect();
        assert!(left.is_empty(), "abandoned: {left:?}");

        let mut r = Rendering::create(&n, Arc::new(OnceLock::new())).expect("create");
        r.write_all(&nt[..BLOCK + 5]).expect("write");
        r.write_all(b"\nthis is not N-Triples\n").expect("write");
        let err = r.finish().expect_err("the renderers cannot parse it");
        assert!(!err.to_string().is_empty());
        let left: Vec<_> = std::fs::read_dir(dir.path()).expect("ls").map(|e| e.expect("entry").file_name()).collect();
        assert!(left.is_empty(), "failed: {left:?}");
    }
}
