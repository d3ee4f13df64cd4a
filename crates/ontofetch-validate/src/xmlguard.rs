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

/// `Err` with the reason when a start tag is hostile; `Ok` otherwise (including documents
/// that are not well-formed: the real parser reports those).
pub fn check(input: impl BufRead) -> Result<(), String> {
    let mut reader = quick_xml::Reader::from_reader(input);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(tag)) | Ok(Event::Empty(tag)) => {
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
            }
            Ok(Event::Eof) | Err(_) => return Ok(()),
            Ok(_) => {}
        }
        buf.clear();
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
