//! Term facts and version diffs (what ROBOT diff and OLS's change reports tell people):
//! which terms a release added, removed or obsoleted, and whose label, definition or
//! parents changed.
//!
//! A version's facts are one line each, `id\tkind\tvalue`, sorted and de-duplicated by
//! the external sort, so a file of any size becomes a file grouped by term; the diff of two
//! versions is then one streaming merge-join of two such files, in memory bounded by the
//! facts of one term. Facts come from the streaming parsers: RDF (classes by IRI: `owl:Class`
//! and `skos:Concept`, `rdfs:label`/`skos:prefLabel`, IAO:0000115/`skos:definition`,
//! named `rdfs:subClassOf`/`skos:broader`, `owl:deprecated`) and OBO `[Term]` frames
//! (`id`, `name`, `def`, `is_a`, `is_obsolete`).

use crate::extsort::{RunWriter, Runs};
use crate::render::HashedFile;
use crate::{Detected, OutputFile};
use oxrdf::{NamedOrBlankNodeRef, QuadRef, TermRef};
use oxrdfio::RdfParser;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
const OWL_CLASS: &str = "http://www.w3.org/2002/07/owl#Class";
const OWL_DEPRECATED: &str = "http://www.w3.org/2002/07/owl#deprecated";
const RDFS_LABEL: &str = "http://www.w3.org/2000/01/rdf-schema#label";
const RDFS_SUBCLASS: &str = "http://www.w3.org/2000/01/rdf-schema#subClassOf";
const IAO_DEFINITION: &str = "http://purl.obolibrary.org/obo/IAO_0000115";
const SKOS: &str = "http://www.w3.org/2004/02/skos/core#";

/// Kinds of fact (sorted: `a` first, so a term's declaration leads its group).
const TERM: &str = "a";
const OBSOLETE: &str = "deprecated";
const LABEL: &str = "label";
const DEFINITION: &str = "definition";
const PARENT: &str = "parent";

/// What happened to a term between two versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Declared in the new version only.
    Added,
    /// Declared in the old version only.
    Removed,
    /// Marked deprecated in the new version.
    Obsoleted,
    /// Its labels changed.
    Relabelled,
    /// Its definitions changed.
    DefinitionChanged,
    /// Its parents changed.
    ParentsChanged,
}

impl ChangeKind {
    /// Every kind, in report order.
    pub const ALL: [ChangeKind; 6] = [
        ChangeKind::Added,
        ChangeKind::Removed,
        ChangeKind::Obsoleted,
        ChangeKind::Relabelled,
        ChangeKind::DefinitionChanged,
        ChangeKind::ParentsChanged,
    ];

    /// The name reports, summaries and metric labels use.
    pub const fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Obsoleted => "obsoleted",
            ChangeKind::Relabelled => "relabelled",
            ChangeKind::DefinitionChanged => "definition_changed",
            ChangeKind::ParentsChanged => "parents_changed",
        }
    }
}

/// Tabs and line breaks inside values would break the line format.
/// Escapes a value for one line of the facts file. Every control character becomes a
/// printable escape, so no byte of an escaped id sorts below the TAB that ends it: the file,
/// sorted by whole line, is then sorted by id too, which the merge-join relies on (an OBO id
/// may hold a control character).
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Longest value kept for a fact (a label of 100 MB is a few KiB in the facts file).
pub const MAX_FACT_BYTES: usize = 4096;

/// The first `max` bytes of `value`, cut at a character boundary, marked when cut.
pub(crate) fn clip(value: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if value.len() <= max {
        return value.into();
    }
    let mut end = max;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &value[..end]).into()
}

struct Facts {
    sort: RunWriter,
    line: String,
}

impl Facts {
    fn add(&mut self, id: &str, kind: &str, value: &str) -> std::io::Result<()> {
        self.line.clear();
        self.line.push_str(&escape(id));
        self.line.push('\t');
        self.line.push_str(kind);
        self.line.push('\t');
        self.line.push_str(&escape(&clip(value, MAX_FACT_BYTES)));
        self.line.push('\n');
        self.sort.push(self.line.as_bytes())
    }
}

fn literal(t: TermRef<'_>) -> Option<&str> {
    match t {
        TermRef::Literal(l) => Some(l.value()),
        _ => None,
    }
}

fn rdf_facts(path: &Path, detected: Detected, facts: &mut Facts) -> std::io::Result<()> {
    let format =
        detected.rdf_format().ok_or_else(|| std::io::Error::other(format!("no term facts for {detected:?} files")))?;
    let reader = BufReader::with_capacity(1 << 20, File::open(path)?);
    for q in RdfParser::from_format(format).for_reader(reader) {
        facts.quad(q.map_err(std::io::Error::other)?.as_ref())?;
    }
    Ok(())
}

impl Facts {
    /// The facts one RDF statement states (most state none).
    fn quad(&mut self, q: QuadRef<'_>) -> std::io::Result<()> {
        let facts = self;
        let NamedOrBlankNodeRef::NamedNode(s) = q.subject else { return Ok(()) };
        let s = s.as_str();
        let (p, o) = (q.predicate.as_str(), q.object);
        let skos = p.strip_prefix(SKOS);
        match (p, o) {
            (RDF_TYPE, TermRef::NamedNode(c))
                if c.as_str() == OWL_CLASS || c.as_str() == "http://www.w3.org/2004/02/skos/core#Concept" =>
            {
                facts.add(s, TERM, "")?
            }
            (RDFS_LABEL, o) if literal(o).is_some() => facts.add(s, LABEL, literal(o).unwrap_or_default())?,
            (IAO_DEFINITION, o) if literal(o).is_some() => facts.add(s, DEFINITION, literal(o).unwrap_or_default())?,
            (RDFS_SUBCLASS, TermRef::NamedNode(parent)) => facts.add(s, PARENT, parent.as_str())?,
            (OWL_DEPRECATED, o) if matches!(literal(o), Some("true" | "1")) => facts.add(s, OBSOLETE, "")?,
            (_, o) => match (skos, o) {
                (Some("prefLabel"), o) if literal(o).is_some() => {
                    facts.add(s, LABEL, literal(o).unwrap_or_default())?
                }
                (Some("definition"), o) if literal(o).is_some() => {
                    facts.add(s, DEFINITION, literal(o).unwrap_or_default())?
                }
                (Some("broader"), TermRef::NamedNode(parent)) => facts.add(s, PARENT, parent.as_str())?,
                _ => {}
            },
        }
        Ok(())
    }
}

/// The term facts of a parse that is under way (the fused job's: one parse feeds the
/// validation tally, these facts and RDFC-1.0), written to `<stem>.terms.tsv` when it ends.
pub struct FactsTap {
    runs: Runs,
    facts: Facts,
    dest: std::path::PathBuf,
    sort_memory: usize,
}

/// One parsing thread's share of a [`FactsTap`]: its facts join the tap's sort.
pub struct FactsWorker {
    facts: Facts,
}

/// What takes the facts of a parse's statements, one at a time: a [`FactsTap`], or one
/// thread's [`FactsWorker`].
pub trait FactsSink {
    /// Takes the facts of one statement.
    fn quad(&mut self, q: QuadRef<'_>) -> std::io::Result<()>;
}

impl FactsSink for FactsWorker {
    fn quad(&mut self, q: QuadRef<'_>) -> std::io::Result<()> {
        self.facts.quad(q)
    }
}

impl FactsSink for FactsTap {
    fn quad(&mut self, q: QuadRef<'_>) -> std::io::Result<()> {
        self.facts.quad(q)
    }
}

impl FactsWorker {
    /// Takes the facts of OBO text that starts at a frame (a batch of a parse in pieces).
    pub fn obo_frames(&mut self, text: &str) -> std::io::Result<()> {
        let mut frame = OboFrame::default();
        for line in text.lines() {
            frame.line(line, &mut self.facts)?;
        }
        Ok(())
    }

    /// Spills what is left to the tap's sort (before the tap's `finish`).
    pub fn finish(self) -> std::io::Result<()> {
        self.facts.sort.finish()
    }
}

impl FactsTap {
    /// Facts for `dest`, sorted in at most `sort_memory` bytes with run files beside it.
    pub fn new(dest: &Path, sort_memory: usize) -> std::io::Result<FactsTap> {
        let dir = dest.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let runs = Runs::new(dir)?;
        let facts = Facts { sort: RunWriter::new(&runs, sort_memory.max(1 << 20)), line: String::new() };
        Ok(FactsTap { runs, facts, dest: dest.to_path_buf(), sort_memory })
    }

    /// An empty tap for the same file (a parse that starts over).
    pub fn again(&self) -> std::io::Result<FactsTap> {
        FactsTap::new(&self.dest, self.sort_memory)
    }

    /// A share of this tap for one of `of` parsing threads (its part of the sort memory).
    pub fn worker(&self, of: usize) -> FactsWorker {
        let sort = RunWriter::new(&self.runs, (self.sort_memory / of.max(1)).max(1 << 20));
        FactsWorker { facts: Facts { sort, line: String::new() } }
    }

    /// Sorts and writes the facts (a `terms` output).
    pub fn finish(self) -> std::io::Result<OutputFile> {
        self.facts.sort.finish()?;
        let mut out = HashedFile::create(self.dest)?;
        self.runs.merge_into(&mut out)?;
        out.finish("terms")
    }
}

/// The quoted string at the start of an OBO `def:` value (escapes resolved).
fn quoted(value: &str) -> Option<String> {
    let rest = value.trim_start().strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(match chars.next()? {
                'n' => '\n',
                't' => '\t',
                other => other,
            }),
            '"' => return Some(out),
            c => out.push(c),
        }
    }
    None
}

/// A tag's value without its trailing `{qualifiers}` and `! comment`.
fn bare(value: &str) -> &str {
    let v = value.split(" !").next().unwrap_or(value);
    let v = match v.find(" {") {
        Some(i) => &v[..i],
        None => v,
    };
    v.trim()
}

fn obo_facts(path: &Path, facts: &mut Facts) -> std::io::Result<()> {
    let reader = BufReader::with_capacity(1 << 20, File::open(path)?);
    let mut frame = OboFrame::default();
    for line in reader.lines() {
        frame.line(&line?, facts)?;
    }
    Ok(())
}

/// Where the facts of OBO lines stand: inside a `[Term]` frame or not, and its id once seen.
/// Frames are independent, so text cut at frame starts gives the same facts piece by piece.
#[derive(Default)]
struct OboFrame {
    in_term: bool,
    id: Option<String>,
    /// Tags before `id:` in a frame are kept until the id is known.
    pending: Vec<(&'static str, String)>,
}

impl OboFrame {
    fn line(&mut self, line: &str, facts: &mut Facts) -> std::io::Result<()> {
        // A frame starts where the OBO job cuts its batches: at a line whose first
        // non-blank character is `[`.
        let line = line.trim();
        if line.starts_with('[') {
            self.in_term = line == "[Term]";
            self.id = None;
            self.pending.clear();
            return Ok(());
        }
        if !self.in_term {
            return Ok(());
        }
        let Some((tag, value)) = line.split_once(':') else { return Ok(()) };
        let fact = match tag.trim() {
            "id" => {
                let this = bare(value).to_string();
                facts.add(&this, TERM, "")?;
                for (kind, v) in self.pending.drain(..) {
                    facts.add(&this, kind, &v)?;
                }
                self.id = Some(this);
                None
            }
            "name" => Some((LABEL, bare(value).to_string())),
            "def" => quoted(value).map(|d| (DEFINITION, d)),
            "is_a" => Some((PARENT, bare(value).split_whitespace().next().unwrap_or("").to_string())),
            "is_obsolete" if bare(value) == "true" => Some((OBSOLETE, String::new())),
            _ => None,
        };
        match (fact, &self.id) {
            (Some((kind, v)), Some(id)) => facts.add(id, kind, &v),
            (Some(fact), None) => {
                self.pending.push(fact);
                Ok(())
            }
            (None, _) => Ok(()),
        }
    }
}

/// Writes the sorted term facts of `path` to `dest` (a `terms` output), sorting in at most
/// `sort_memory` bytes with run files under `dest`'s directory.
pub fn extract(path: &Path, detected: Detected, dest: &Path, sort_memory: usize) -> std::io::Result<OutputFile> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let runs = Runs::new(dir)?;
    let mut facts = Facts { sort: RunWriter::new(&runs, sort_memory.max(1 << 20)), line: String::new() };
    match detected {
        Detected::Obo => obo_facts(path, &mut facts)?,
        other => rdf_facts(path, other, &mut facts)?,
    }
    facts.sort.finish()?;
    let mut out = HashedFile::create(dest.to_path_buf())?;
    runs.merge_into(&mut out)?;
    out.finish("terms")
}

/// Values of one kind shown in an example (the rest only counted in the digest).
const SHOWN_VALUES: usize = 8;
/// Bytes of an example string (a label, a definition; the values joined get twice that).
pub const EXAMPLE_CHARS: usize = 200;

/// The values of one kind for one term: equality by a digest of all of them, the first few
/// kept to show. A term with a million parents costs the join what one with eight does.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Values {
    shown: Vec<String>,
    count: usize,
    digest: [u8; 32],
}

impl Values {
    fn push(&mut self, value: String) {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(self.digest);
        h.update(value.as_bytes());
        h.update([0]);
        self.digest = h.finalize().into();
        self.count += 1;
        if self.shown.len() < SHOWN_VALUES {
            self.shown.push(clip(&value, EXAMPLE_CHARS).into_owned());
        }
    }

    fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// One term's facts.
#[derive(Debug, Default, PartialEq, Eq)]
struct Term {
    declared: bool,
    obsolete: bool,
    labels: Values,
    definitions: Values,
    parents: Values,
}

/// Reads a facts file one term at a time.
struct Groups {
    lines: std::io::Lines<BufReader<File>>,
    next: Option<(String, String, String)>,
}

fn unescape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('x') => {
                    let hex: String = chars.by_ref().take(2).collect();
                    if let Some(c) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                        out.push(c);
                    }
                }
                Some('t') => out.push('\t'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl Groups {
    fn open(path: &Path) -> std::io::Result<Groups> {
        let mut g = Groups { lines: BufReader::with_capacity(1 << 20, File::open(path)?).lines(), next: None };
        g.advance()?;
        Ok(g)
    }

    fn advance(&mut self) -> std::io::Result<()> {
        self.next = match self.lines.next().transpose()? {
            Some(line) => {
                let mut parts = line.splitn(3, '\t');
                let (id, kind, value) = (parts.next(), parts.next(), parts.next());
                match (id, kind, value) {
                    (Some(i), Some(k), Some(v)) => Some((i.to_string(), k.to_string(), unescape(v))),
                    _ => return Err(std::io::Error::other(format!("not a term fact line: {line:?}"))),
                }
            }
            None => None,
        };
        Ok(())
    }

    fn peek_id(&self) -> Option<&str> {
        self.next.as_ref().map(|(id, _, _)| id.as_str())
    }

    /// The next term (its escaped id, which sorts like the file) and its facts.
    fn take(&mut self) -> std::io::Result<Option<(String, Term)>> {
        let Some(id) = self.peek_id().map(str::to_string) else { return Ok(None) };
        let mut t = Term::default();
        while self.peek_id() == Some(id.as_str()) {
            let (_, kind, value) = self.next.take().expect("peeked");
            match kind.as_str() {
                TERM => t.declared = true,
                OBSOLETE => t.obsolete = true,
                LABEL => t.labels.push(value),
                DEFINITION => t.definitions.push(value),
                PARENT => t.parents.push(value),
                _ => {}
            }
            self.advance()?;
        }
        Ok(Some((unescape(&id), t)))
    }
}

/// One change, for people to read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The term (IRI or OBO id).
    pub id: String,
    /// Its label (the new one when it changed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// What it was, when something changed (`null`: nothing, e.g. no parents before).
    #[serde(default)]
    pub before: Option<String>,
    /// What it is (`null`: nothing, e.g. every parent removed).
    #[serde(default)]
    pub after: Option<String>,
}

/// What changed between two versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermDiff {
    /// Terms declared in the old version.
    pub terms_old: u64,
    /// Terms declared in the new version.
    pub terms_new: u64,
    /// Changes by kind ([`CHANGE_KINDS`]), every kind present.
    pub counts: BTreeMap<ChangeKind, u64>,
    /// Removed terms as a share of the old version's terms (0 when it had none).
    pub removed_share: f64,
    /// The first changes of each kind (at most the limit asked for).
    pub changes: BTreeMap<ChangeKind, Vec<Change>>,
}

impl TermDiff {
    /// How many changes of `kind` (0 when none).
    pub fn count(&self, kind: ChangeKind) -> u64 {
        self.counts.get(&kind).copied().unwrap_or(0)
    }

    fn record(&mut self, kind: ChangeKind, change: Change, limit: usize) {
        *self.counts.entry(kind).or_default() += 1;
        let list = self.changes.entry(kind).or_default();
        if list.len() < limit {
            list.push(change);
        }
    }
}

/// The values as one example string, at most [`EXAMPLE_CHARS`] characters.
fn joined(v: &Values) -> Option<String> {
    if v.is_empty() {
        return None;
    }
    let mut text = clip(&v.shown.join(" | "), EXAMPLE_CHARS * 2).into_owned();
    if v.count > v.shown.len() {
        text.push_str(&format!(" | … ({} in all)", v.count));
    }
    Some(text)
}

/// Diffs two facts files (from [`extract`]), keeping at most `limit` examples per kind.
pub fn diff(old: &Path, new: &Path, limit: usize) -> std::io::Result<TermDiff> {
    let mut d = TermDiff {
        terms_old: 0,
        terms_new: 0,
        counts: ChangeKind::ALL.iter().map(|k| (*k, 0)).collect(),
        removed_share: 0.0,
        changes: BTreeMap::new(),
    };
    let (mut a, mut b) = (Groups::open(old)?, Groups::open(new)?);
    let (mut x, mut y) = (a.take()?, b.take()?);
    loop {
        // Compare by the escaped ids the files are sorted by.
        let order = match (&x, &y) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some((i, _)), Some((j, _))) => escape(i).as_bytes().cmp(escape(j).as_bytes()),
        };
        match order {
            std::cmp::Ordering::Less => {
                let (id, t) = x.take().expect("compared");
                if t.declared {
                    d.terms_old += 1;
                    d.record(
                        ChangeKind::Removed,
                        Change { id, label: joined(&t.labels), before: None, after: None },
                        limit,
                    );
                }
                x = a.take()?;
            }
            std::cmp::Ordering::Greater => {
                let (id, t) = y.take().expect("compared");
                if t.declared {
                    d.terms_new += 1;
                    d.record(
                        ChangeKind::Added,
                        Change { id, label: joined(&t.labels), before: None, after: None },
                        limit,
                    );
                }
                y = b.take()?;
            }
            std::cmp::Ordering::Equal => {
                let (id, old) = x.take().expect("compared");
                let (_, new) = y.take().expect("compared");
                d.terms_old += u64::from(old.declared);
                d.terms_new += u64::from(new.declared);
                match (old.declared, new.declared) {
                    (true, false) => d.record(
                        ChangeKind::Removed,
                        Change { id, label: joined(&old.labels), before: None, after: None },
                        limit,
                    ),
                    (false, true) => d.record(
                        ChangeKind::Added,
                        Change { id, label: joined(&new.labels), before: None, after: None },
                        limit,
                    ),
                    (false, false) => {}
                    (true, true) => compare(&mut d, id, &old, &new, limit),
                }
                x = a.take()?;
                y = b.take()?;
            }
        }
    }
    if d.terms_old > 0 {
        d.removed_share = d.count(ChangeKind::Removed) as f64 / d.terms_old as f64;
    }
    Ok(d)
}

fn compare(d: &mut TermDiff, id: String, old: &Term, new: &Term, limit: usize) {
    let label = joined(&new.labels).or_else(|| joined(&old.labels));
    let change = |before: &Values, after: &Values| Change {
        id: id.clone(),
        label: label.clone(),
        before: joined(before),
        after: joined(after),
    };
    if new.obsolete && !old.obsolete {
        d.record(ChangeKind::Obsoleted, change(&Values::default(), &Values::default()), limit);
    }
    if old.labels != new.labels {
        d.record(ChangeKind::Relabelled, change(&old.labels, &new.labels), limit);
    }
    if old.definitions != new.definitions {
        d.record(ChangeKind::DefinitionChanged, change(&old.definitions, &new.definitions), limit);
    }
    if old.parents != new.parents {
        d.record(ChangeKind::ParentsChanged, change(&old.parents, &new.parents), limit);
    }
}

/// Writes a facts file from lines (tests of the diff without a parser).
#[cfg(test)]
fn write_facts(path: &Path, lines: &[&str]) {
    use std::io::Write;
    let mut sorted: Vec<&str> = lines.to_vec();
    sorted.sort();
    let mut f = File::create(path).unwrap();
    for l in sorted {
        writeln!(f, "{l}").unwrap();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn obo_values_lose_qualifiers_and_comments_and_defs_are_unquoted() {
        assert_eq!(bare(" GO:0000001 ! mitochondrion inheritance"), "GO:0000001");
        assert_eq!(bare(" x {source=\"y\"} ! c"), "x");
        assert_eq!(quoted(" \"A \\\"quoted\\\" def.\" [PMID:1]").as_deref(), Some("A \"quoted\" def."));
        assert_eq!(quoted(" no quotes"), None);
        assert_eq!(unescape(&escape("a\tb\\n\nc")), "a\tb\\n\nc");
    }

    #[test]
    fn ids_with_control_characters_keep_the_join_in_order() {
        let dir = tempfile::tempdir().unwrap();
        // A TAB-less control character in an id sorts below the TAB that ends "X:1".
        let odd = "X:1\u{1}a";
        let lines = |path: &Path| {
            let mut v = [escape("X:1"), escape(odd), escape("X:2")]
                .iter()
                .map(|id| format!("{id}\ta\t\n{id}\tlabel\tsame\n"))
                .collect::<Vec<_>>();
            v.sort();
            std::fs::write(path, v.concat()).unwrap();
        };
        let (old, new) = (dir.path().join("old.tsv"), dir.path().join("new.tsv"));
        lines(&old);
        lines(&new);
        let d = diff(&old, &new, 5).unwrap();
        assert!(d.counts.values().all(|n| *n == 0), "nothing changed: {:?}", d.counts);
        assert_eq!(unescape(&escape(odd)), odd);
    }

    #[test]
    fn a_huge_relabelling_makes_a_small_summary() {
        let dir = tempfile::tempdir().unwrap();
        let big = |c: char| c.to_string().repeat(200_000);
        let (old, new) = (dir.path().join("old.tsv"), dir.path().join("new.tsv"));
        let labels = |c: char| (0..20).map(|i| format!("X:1\tlabel\t{i}{}\n", big(c))).collect::<String>();
        std::fs::write(&old, format!("X:1\ta\t\n{}", labels('a'))).unwrap();
        std::fs::write(&new, format!("X:1\ta\t\n{}", labels('b'))).unwrap();
        let d = diff(&old, &new, 20).unwrap();
        assert_eq!(d.count(ChangeKind::Relabelled), 1);
        let c = &d.changes[&ChangeKind::Relabelled][0];
        let shown = [&c.label, &c.before, &c.after].iter().filter_map(|s| s.as_ref()).map(String::len).sum::<usize>();
        assert!(shown <= 3 * (2 * EXAMPLE_CHARS + 40), "{shown} bytes shown of 4 MB of labels");
        assert!(c.before.as_deref().is_some_and(|b| b.contains("20 in all")), "{:?}", c.before);
    }

    #[test]
    fn the_diff_names_every_kind_of_change() {
        let dir = tempfile::tempdir().unwrap();
        let (old, new) = (dir.path().join("old"), dir.path().join("new"));
        write_facts(
            &old,
            &[
                "X:1\ta\t",
                "X:1\tlabel\tone",
                "X:2\ta\t",
                "X:2\tlabel\ttwo",
                "X:2\tparent\tX:1",
                "X:3\ta\t",
                "X:3\tdefinition\tthree things",
                "X:4\ta\t",
                "X:5\tlabel\tnot a term",
            ],
        );
        write_facts(
            &new,
            &[
                "X:1\ta\t",
                "X:1\tlabel\tuno",
                "X:2\ta\t",
                "X:2\tlabel\ttwo",
                "X:2\tparent\tX:3",
                "X:2\tdeprecated\t",
                "X:3\ta\t",
                "X:3\tdefinition\tthree",
                "X:6\ta\t",
                "X:6\tlabel\tsix",
            ],
        );
        let d = diff(&old, &new, 10).unwrap();
        assert_eq!((d.terms_old, d.terms_new), (4, 4));
        let n = |k: ChangeKind| d.count(k);
        assert_eq!(
            (
                n(ChangeKind::Added),
                n(ChangeKind::Removed),
                n(ChangeKind::Obsoleted),
                n(ChangeKind::Relabelled),
                n(ChangeKind::DefinitionChanged),
                n(ChangeKind::ParentsChanged)
            ),
            (1, 1, 1, 1, 1, 1)
        );
        assert_eq!(
            d.changes[&ChangeKind::Added][0],
            Change { id: "X:6".into(), label: Some("six".into()), before: None, after: None }
        );
        assert_eq!(d.changes[&ChangeKind::Removed][0].id, "X:4");
        assert_eq!(d.changes[&ChangeKind::Relabelled][0].before.as_deref(), Some("one"));
        assert_eq!(d.changes[&ChangeKind::ParentsChanged][0].after.as_deref(), Some("X:3"));
        assert!((d.removed_share - 0.25).abs() < 1e-9);
        let same = diff(&old, &old, 10).unwrap();
        assert!(same.counts.values().all(|&c| c == 0), "{same:?}");
        let limited = diff(&old, &new, 0).unwrap();
        assert_eq!(limited.count(ChangeKind::Added), 1);
        assert!(limited.changes.values().all(Vec::is_empty));
    }

    #[test]
    fn facts_come_from_obo_frames_and_rdf_classes_alike() {
        let dir = tempfile::tempdir().unwrap();
        let obo = dir.path().join("x.obo");
        std::fs::write(
            &obo,
            "format-version: 1.2\nontology: x\n\n[Term]\nid: X:1\nname: one\ndef: \"The first.\" [PMID:1]\n\n\
             [Term]\nid: X:2\nname: two\nis_a: X:1 ! one\nis_obsolete: true\n\n[Typedef]\nid: part_of\nname: part of\n",
        )
        .unwrap();
        let facts = extract(&obo, Detected::Obo, &dir.path().join("obo.terms.tsv"), 1 << 20).unwrap();
        let text = std::fs::read_to_string(&facts.path).unwrap();
        assert_eq!(
            text,
            "X:1\ta\t\nX:1\tdefinition\tThe first.\nX:1\tlabel\tone\nX:2\ta\t\nX:2\tdeprecated\t\nX:2\tlabel\ttwo\nX:2\tparent\tX:1\n"
        );
        let ttl = dir.path().join("x.ttl");
        std::fs::write(
            &ttl,
            "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n\
             @prefix obo: <http://purl.obolibrary.org/obo/> .\n\
             obo:X_1 a owl:Class ; rdfs:label \"one\" ; obo:IAO_0000115 \"The\\tfirst.\" .\n\
             obo:X_2 a owl:Class ; rdfs:label \"two\" ; rdfs:subClassOf obo:X_1 , [ a owl:Restriction ] ; owl:deprecated true .\n",
        )
        .unwrap();
        let facts = extract(&ttl, Detected::Turtle, &dir.path().join("ttl.terms.tsv"), 1 << 20).unwrap();
        let text = std::fs::read_to_string(&facts.path).unwrap();
        let x = "http://purl.obolibrary.org/obo/X_";
        assert_eq!(
            text,
            format!(
                "{x}1\ta\t\n{x}1\tdefinition\tThe\\tfirst.\n{x}1\tlabel\tone\n{x}2\ta\t\n{x}2\tdeprecated\t\n{x}2\tlabel\ttwo\n{x}2\tparent\t{x}1\n"
            )
        );
        assert!(extract(&ttl, Detected::Html, &dir.path().join("h.tsv"), 1 << 20).is_err());
    }
}
