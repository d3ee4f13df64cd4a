//! A guard in front of the XML parsers. oxrdfxml and horned-owl read RDF/XML and OWL/XML
//! with quick-xml 0.37, which has two advisories with no fixed release of those crates:
//! RUSTSEC-2026-0194 (quadratic duplicate-attribute check: one start tag with N attributes
//! costs N² comparisons) and RUSTSEC-2026-0195 (unbounded namespace-declaration
//! allocation). This pass reads the document with a patched quick-xml (≥ 0.41, no
//! namespace resolution, no duplicate check) and refuses, before the vulnerable parser sees
//! it, any start tag with more attributes or namespace declarations than a real ontology
//! has, and elements nested deeper than [`crate::nesting::MAX_NESTING`] (horned-owl's OWL/XML
//! reader recurses per level). The validator's process limits (memory, CPU, wall clock) remain the backstop.

use crate::ValidateError;
use quick_xml::events::Event;
use std::collections::HashMap;
use std::io::BufRead;

/// Attributes one start tag may carry (real RDF/XML has a handful).
pub const MAX_ATTRIBUTES: usize = 1024;
/// Namespace declarations one start tag may carry (quick-xml ≥ 0.41's own default).
pub const MAX_NAMESPACE_DECLARATIONS: usize = 256;

/// Bytes internal entities may expand to, beyond [`EXPANSION_PER_INPUT_BYTE`] per byte
/// of the document: `&obo;` in every `rdf:about` of a real ontology expands to less than
/// the document itself; 3,000 references to a 1 MB entity (disk filled by normalised
/// output) or nested "billion laughs" entities are far beyond it.
pub const EXPANSION_ALLOWANCE: u64 = 64 << 20;
/// Expanded entity bytes allowed per byte of the document.
pub const EXPANSION_PER_INPUT_BYTE: u64 = 4;
/// How deeply entities may refer to entities.
const MAX_ENTITY_DEPTH: usize = 16;

/// The document's internal general entities and what referring to them costs.
#[derive(Default)]
struct Entities {
    raw: HashMap<String, String>,
    sizes: HashMap<String, u64>,
    expanded: u64,
}

impl Entities {
    /// Reads `<!ENTITY name "value">` declarations (parameter and external entities are not
    /// expanded by the parsers behind this guard).
    fn declare(&mut self, doctype: &str) {
        let mut rest = doctype;
        while let Some(i) = rest.find("<!ENTITY") {
            rest = &rest[i + "<!ENTITY".len()..];
            let decl = rest.trim_start();
            if decl.starts_with('%') {
                continue;
            }
            let name: String = decl.chars().take_while(|c| !c.is_whitespace()).collect();
            let after = decl[name.len()..].trim_start();
            let Some(quote) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else { continue };
            let Some(end) = after[1..].find(quote) else { continue };
            self.raw.entry(name).or_insert_with(|| after[1..1 + end].to_string());
        }
    }

    /// Bytes `name` expands to (saturating; `u64::MAX` past the nesting limit).
    fn size(&mut self, name: &str, depth: usize) -> u64 {
        if let Some(n) = self.sizes.get(name) {
            return *n;
        }
        let Some(value) = self.raw.get(name).cloned() else { return name.len() as u64 + 2 };
        if depth > MAX_ENTITY_DEPTH {
            return u64::MAX;
        }
        let mut total = 0u64;
        let mut rest = value.as_str();
        while let Some(i) = rest.find('&') {
            total = total.saturating_add(i as u64);
            let Some(j) = rest[i..].find(';') else { break };
            let inner = &rest[i + 1..i + j];
            total = total.saturating_add(if inner.starts_with('#') { 1 } else { self.size(inner, depth + 1) });
            rest = &rest[i + j + 1..];
        }
        total = total.saturating_add(rest.len() as u64);
        self.sizes.insert(name.to_string(), total);
        total
    }

    /// Counts a reference to `name`.
    fn refer(&mut self, name: &str) {
        if self.raw.contains_key(name) {
            let n = self.size(name, 0);
            self.expanded = self.expanded.saturating_add(n);
        }
    }

    /// Counts every `&name;` in a raw attribute value.
    fn refer_in(&mut self, raw: &[u8]) {
        let text = String::from_utf8_lossy(raw);
        let mut rest = text.as_ref();
        while let Some(i) = rest.find('&') {
            let Some(j) = rest[i..].find(';') else { break };
            let inner = rest[i + 1..i + j].to_string();
            if !inner.starts_with('#') {
                self.refer(&inner);
            }
            rest = &rest[i + j + 1..];
        }
    }
}

/// Where an `rdf:RDF` document may be cut for parallel parsing, learnt in the same pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// End of the root start tag (everything before it — XML declaration, DOCTYPE and its
    /// entities, the root's namespaces and base — is each chunk's prologue).
    pub prologue_end: u64,
    /// Start of the root end tag.
    pub body_end: u64,
    /// The root's qualified name (for the chunks' end tag).
    pub root: String,
    /// Ends of top-level node elements about every `chunk` bytes.
    pub cuts: Vec<u64>,
}

/// `Err` with the reason when a start tag is hostile; `Ok` otherwise (including documents
/// that are not well-formed: the real parser reports those).
pub fn check(input: impl BufRead) -> Result<(), ValidateError> {
    scan(input, u64::MAX).map(drop)
}

/// As [`check`], and the document's [`Layout`] when its root is `rdf:RDF` and it is
/// well-formed as far as this pass can tell (`None` otherwise).
pub fn scan(input: impl BufRead, chunk: u64) -> Result<Option<Layout>, ValidateError> {
    let mut reader = quick_xml::Reader::from_reader(input);
    let mut buf = Vec::new();
    let mut depth = 0usize;
    let mut layout = Layout::default();
    let mut usable = true;
    let mut last_cut = 0u64;
    let mut entities = Entities::default();
    loop {
        let before = reader.buffer_position();
        let event = reader.read_event_into(&mut buf);
        match event {
            Ok(Event::DocType(ref t)) => entities.declare(&t[..]),
            Ok(Event::GeneralRef(ref r)) if !r.is_char_ref() => {
                entities.refer(&r[..]);
            }
            Ok(Event::Start(ref tag)) | Ok(Event::Empty(ref tag)) => {
                let (mut attributes, mut namespaces) = (0usize, 0usize);
                for a in tag.attributes().with_checks(false).flatten() {
                    attributes += 1;
                    if !entities.raw.is_empty() {
                        entities.refer_in(a.value.as_bytes());
                    }
                    let key: &str = a.key.into_inner();
                    if key == "xmlns" || key.starts_with("xmlns:") {
                        namespaces += 1;
                    }
                }
                let name = tag.name().into_inner().to_string();
                if attributes > MAX_ATTRIBUTES {
                    return Err(ValidateError::Hostile(format!(
                        "start tag <{name}> has {attributes} attributes (max {MAX_ATTRIBUTES}): refused as hostile XML"
                    )));
                }
                if namespaces > MAX_NAMESPACE_DECLARATIONS {
                    return Err(ValidateError::Hostile(format!(
                        "start tag <{name}> declares {namespaces} namespaces (max {MAX_NAMESPACE_DECLARATIONS}): refused as hostile XML"
                    )));
                }
                let empty = matches!(event, Ok(Event::Empty(_)));
                if depth == 0 {
                    usable &= !empty && (name == "RDF" || name.ends_with(":RDF"));
                    layout.root = name;
                    layout.prologue_end = reader.buffer_position();
                    last_cut = layout.prologue_end;
                }
                if !empty {
                    depth += 1;
                    if depth > crate::nesting::MAX_NESTING {
                        return Err(crate::nesting::too_deep(&format!("at byte {before}")));
                    }
                } else if depth == 1 {
                    top_level_end(&mut layout, &mut last_cut, reader.buffer_position(), chunk);
                }
            }
            Ok(Event::End(_)) => {
                depth = depth.saturating_sub(1);
                match depth {
                    0 => layout.body_end = before,
                    1 => top_level_end(&mut layout, &mut last_cut, reader.buffer_position(), chunk),
                    _ => {}
                }
            }
            Ok(Event::Eof) => {
                let cap = EXPANSION_ALLOWANCE.saturating_add(reader.buffer_position() * EXPANSION_PER_INPUT_BYTE);
                if entities.expanded > cap {
                    return Err(ValidateError::Hostile(entity_refusal(entities.expanded, cap)));
                }
                return Ok((usable && depth == 0 && layout.body_end > 0).then_some(layout));
            }
            Err(_) => return Ok(None),
            Ok(_) => {}
        }
        buf.clear();
    }
}

fn entity_refusal(expanded: u64, cap: u64) -> String {
    let shown = if expanded == u64::MAX { "unbounded".to_string() } else { format!("{expanded} bytes") };
    format!(
        "internal entities expand to {shown} (max {cap} for this document): refused as hostile XML (entity expansion)"
    )
}

fn top_level_end(layout: &mut Layout, last_cut: &mut u64, at: u64, chunk: u64) {
    if at - *last_cut >= chunk {
        layout.cuts.push(at);
        *last_cut = at;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_start_tags_are_refused_fast_and_real_documents_pass() {
        let attrs: String = (0..100_000).map(|i| format!(" a{i}=\"x\"")).collect();
        let hostile = format!("<?xml version=\"1.0\"?><rdf:RDF{attrs}/>");
        let started = std::time::Instant::now();
        assert!(check(hostile.as_bytes()).unwrap_err().to_string().contains("100000 attributes"));
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "linear, not quadratic");
        let ns: String = (0..1000).map(|i| format!(" xmlns:p{i}=\"http://x.org/{i}#\"")).collect();
        assert!(check(format!("<r{ns}/>").as_bytes()).unwrap_err().to_string().contains("1000 namespaces"));
        let real = "<?xml version=\"1.0\"?>\n<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns:owl=\"http://www.w3.org/2002/07/owl#\"><owl:Ontology rdf:about=\"http://x.org/o\"/></rdf:RDF>";
        assert!(check(real.as_bytes()).is_ok());
        assert!(check("<unclosed".as_bytes()).is_ok(), "malformed documents are the parser's to report");
        let max = crate::nesting::MAX_NESTING;
        let deep = |n: usize| format!("{}{}", "<a>".repeat(n), "</a>".repeat(n));
        assert!(check(deep(max).as_bytes()).is_ok());
        let e = check(deep(max + 1).as_bytes()).unwrap_err();
        assert!(matches!(e, ValidateError::Hostile(_)) && e.to_string().contains("levels deep"), "{e}");
    }

    #[test]
    fn entity_expansion_is_capped_by_the_document_size() {
        // 3,000 references to a 1 MB entity: gigabytes of output from a few megabytes.
        let big = "x".repeat(1 << 20);
        let refs = "<a>&big;</a>".repeat(3000);
        let doc = format!("<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY big \"{big}\">]><r>{refs}</r>");
        assert!(check(doc.as_bytes()).unwrap_err().to_string().contains("entity expansion"), "a disk filler");
        // nested entities (billion laughs), in text and in attribute values
        let mut decls = String::from("<!ENTITY l0 \"lol\">");
        for i in 1..10 {
            let prev = format!("&l{};", i - 1);
            decls.push_str(&format!("<!ENTITY l{i} \"{}\">", prev.repeat(10)));
        }
        let laughs = format!("<?xml version=\"1.0\"?><!DOCTYPE r [{decls}]><r a=\"&l9;\"/>");
        assert!(check(laughs.as_bytes()).unwrap_err().to_string().contains("entity expansion"));
        // an ontology's namespace entities, referenced everywhere, are fine
        let about = (0..20_000).map(|i| format!("<owl:Class rdf:about=\"&obo;GO_{i:07}\"/>")).collect::<String>();
        let real = format!(
            "<?xml version=\"1.0\"?><!DOCTYPE rdf:RDF [<!ENTITY obo \"http://purl.obolibrary.org/obo/\">]><rdf:RDF>{about}</rdf:RDF>"
        );
        assert!(check(real.as_bytes()).is_ok());
    }
}
