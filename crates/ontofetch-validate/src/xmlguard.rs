//! A guard in front of the XML parsers. oxrdfxml and horned-owl read RDF/XML and OWL/XML
//! with quick-xml 0.37, which has two advisories with no fixed release of those crates:
//! RUSTSEC-2026-0194 (quadratic duplicate-attribute check: one start tag with N attributes
//! costs N² comparisons) and RUSTSEC-2026-0195 (unbounded namespace-declaration
//! allocation). This pass reads the document with a patched quick-xml (≥ 0.41, no
//! namespace resolution, no duplicate check) and refuses, before the vulnerable parser sees
//! it, any start tag with more attributes or namespace declarations than a real ontology
//! has. The validator's process limits (memory, CPU, wall clock) remain the backstop.

use quick_xml::events::Event;
use std::io::BufRead;

/// Attributes one start tag may carry (real RDF/XML has a handful).
pub const MAX_ATTRIBUTES: usize = 1024;
/// Namespace declarations one start tag may carry (quick-xml ≥ 0.41's own default).
pub const MAX_NAMESPACE_DECLARATIONS: usize = 256;

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
pub fn check(input: impl BufRead) -> Result<(), String> {
    scan(input, u64::MAX).map(drop)
}

/// As [`check`], and the document's [`Layout`] when its root is `rdf:RDF` and it is
/// well-formed as far as this pass can tell (`None` otherwise).
pub fn scan(input: impl BufRead, chunk: u64) -> Result<Option<Layout>, String> {
    let mut reader = quick_xml::Reader::from_reader(input);
    let mut buf = Vec::new();
    let mut depth = 0usize;
    let mut layout = Layout::default();
    let mut usable = true;
    let mut last_cut = 0u64;
    loop {
        let before = reader.buffer_position();
        let event = reader.read_event_into(&mut buf);
        match event {
            Ok(Event::Start(ref tag)) | Ok(Event::Empty(ref tag)) => {
                let (mut attributes, mut namespaces) = (0usize, 0usize);
                for a in tag.attributes().with_checks(false).flatten() {
                    attributes += 1;
                    let key: &str = a.key.into_inner();
                    if key == "xmlns" || key.starts_with("xmlns:") {
                        namespaces += 1;
                    }
                }
                let name = tag.name().into_inner().to_string();
                if attributes > MAX_ATTRIBUTES {
                    return Err(format!(
                        "start tag <{name}> has {attributes} attributes (max {MAX_ATTRIBUTES}): refused as hostile XML"
                    ));
                }
                if namespaces > MAX_NAMESPACE_DECLARATIONS {
                    return Err(format!(
                        "start tag <{name}> declares {namespaces} namespaces (max {MAX_NAMESPACE_DECLARATIONS}): refused as hostile XML"
                    ));
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
            Ok(Event::Eof) => return Ok((usable && depth == 0 && layout.body_end > 0).then_some(layout)),
            Err(_) => return Ok(None),
            Ok(_) => {}
        }
        buf.clear();
    }
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
        assert!(check(hostile.as_bytes()).unwrap_err().contains("100000 attributes"));
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "linear, not quadratic");
        let ns: String = (0..1000).map(|i| format!(" xmlns:p{i}=\"http://x.org/{i}#\"")).collect();
        assert!(check(format!("<r{ns}/>").as_bytes()).unwrap_err().contains("1000 namespaces"));
        let real = "<?xml version=\"1.0\"?>\n<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns:owl=\"http://www.w3.org/2002/07/owl#\"><owl:Ontology rdf:about=\"http://x.org/o\"/></rdf:RDF>";
        assert!(check(real.as_bytes()).is_ok());
        assert!(check("<unclosed".as_bytes()).is_ok(), "malformed documents are the parser's to report");
    }
}
