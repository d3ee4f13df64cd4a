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
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

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
        self.out.flush()?;
        self.out.get_ref().sync_all()?;
        Ok(OutputFile {
            format: format.into(),
            path: self.path.display().to_string(),
            sha256: hex::encode(self.hasher.finalize()),
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

/// Merges the sorted runs into `<stem>.nt`, then renders the wanted formats from it.
/// Returns the canonical hash and every file written.
pub fn from_runs(
    runs: Runs,
    source_prefixes: &[(String, String)],
    n: &Normalize,
) -> std::io::Result<(String, Vec<OutputFile>)> {
    let mut nt = HashedFile::create(n.dir.join(format!("{}.nt", n.stem)))?;
    let (hash, _) = runs.merge_into(&mut nt)?;
    let nt = nt.finish("nt")?;
    let mut outputs = renderings(Path::new(&nt.path), source_prefixes, n)?;
    outputs.insert(0, nt);
    Ok((hash, outputs))
}

/// Renders `<stem>.ttl` and/or `<stem>.owl` from canonical N-Triples, as asked.
pub fn renderings(nt: &Path, source_prefixes: &[(String, String)], n: &Normalize) -> std::io::Result<Vec<OutputFile>> {
    let mut outputs = Vec::new();
    let prefixes = prefixes(source_prefixes);
    if wants(n, "ttl") {
        let mut ser = TurtleSerializer::new();
        for (p, i) in &prefixes {
            ser = ser.with_prefix(p, i).map_err(std::io::Error::other)?;
        }
        let mut w = ser.for_writer(HashedFile::create(n.dir.join(format!("{}.ttl", n.stem)))?);
        for t in NTriplesParser::new().for_reader(BufReader::with_capacity(1 << 20, File::open(nt)?)) {
            w.serialize_triple(&t.map_err(std::io::Error::other)?)?;
        }
        outputs.push(w.finish()?.finish("ttl")?);
    }
    if wants(n, "owl") {
        let triples = NTriplesParser::new()
            .for_reader(BufReader::with_capacity(1 << 20, File::open(nt)?))
            .map(|t| t.map_err(std::io::Error::other));
        outputs.push(rdfxml(triples, &prefixes, n.dir.join(format!("{}.owl", n.stem)))?);
    }
    Ok(outputs)
}

/// Writes triples as RDF/XML.
pub fn rdfxml(
    triples: impl Iterator<Item = std::io::Result<Triple>>,
    prefixes: &[(String, String)],
    dest: PathBuf,
) -> std::io::Result<OutputFile> {
    let mut ser = oxrdfxml::RdfXmlSerializer::new();
    for (p, i) in prefixes {
        ser = ser.with_prefix(p, i).map_err(std::io::Error::other)?;
    }
    let mut w = ser.for_writer(HashedFile::create(dest)?);
    for t in triples {
        w.serialize_triple(&t?)?;
    }
    w.finish()?.finish("owl")
}

/// Renders a Turtle file as RDF/XML (the OBO translation asked for `owl`).
pub fn turtle_to_rdfxml(ttl: &Path, prefixes: &[(String, String)], dest: PathBuf) -> std::io::Result<OutputFile> {
    let triples = TurtleParser::new()
        .for_reader(BufReader::with_capacity(1 << 20, File::open(ttl)?))
        .map(|t| t.map_err(std::io::Error::other));
    rdfxml(triples, prefixes, dest)
}
