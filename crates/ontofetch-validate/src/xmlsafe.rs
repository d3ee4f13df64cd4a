//! Whether RDF/XML can express a triple. Some triples cannot be written as well-formed
//! RDF/XML that parses back to them: a literal or IRI with a character XML 1.0 forbids (C0
//! controls but tab and line feed, U+FFFE, U+FFFF), a carriage return (XML parsers turn it
//! into a line feed), a predicate with no local name (`http://x.org/`, which oxrdfxml would
//! write as `<oxprefix:>`), or a predicate RDF/XML reserves (`rdf:li`, `rdf:Description`,
//! the syntax terms). Such a triple makes the RDF/XML rendering skipped with a note; it never
//! yields a malformed file, and never costs the canonical hash or the other renderings.

use oxrdf::{NamedOrBlankNode, Term, Triple};

const RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";

/// Names RDF/XML does not allow as property elements (RDF 1.1 XML Syntax, §7.2.5, 7.2.21).
const RESERVED: &[&str] = &[
    "RDF",
    "ID",
    "about",
    "parseType",
    "resource",
    "nodeID",
    "datatype",
    "Description",
    "li",
    "aboutEach",
    "aboutEachPrefix",
    "bagID",
];

/// Why a triple cannot be written as RDF/XML, when it cannot.
pub fn unrepresentable(t: &Triple) -> Option<String> {
    let p = t.predicate.as_str();
    if let Some(name) = p.strip_prefix(RDF).filter(|n| RESERVED.contains(n)) {
        return Some(format!("the predicate rdf:{name} cannot be a property element"));
    }
    if local_name(p).is_empty() {
        return Some(format!("the predicate <{p}> has no XML local name"));
    }
    let iri = |s: &str| bad_char(s).map(|c| format!("an IRI holds the character U+{:04X}", c as u32));
    match &t.subject {
        NamedOrBlankNode::NamedNode(n) => iri(n.as_str()),
        _ => None,
    }
    .or_else(|| iri(p))
    .or_else(|| match &t.object {
        Term::NamedNode(n) => iri(n.as_str()).or_else(|| {
            // A typed node element names its type: it must be a QName too.
            (p == "http://www.w3.org/1999/02/22-rdf-syntax-ns#type" && local_name(n.as_str()).is_empty())
                .then(|| format!("the type <{}> has no XML local name", n.as_str()))
        }),
        Term::Literal(l) => bad_char(l.value())
            .map(|c| format!("a literal holds the character U+{:04X}", c as u32))
            .or_else(|| l.language().and_then(bad_char).map(|c| format!("a language tag holds U+{:04X}", c as u32)))
            .or_else(|| iri(l.datatype().as_str())),
        _ => None,
    })
}

/// The first character XML 1.0 cannot carry (or a carriage return, which it does not keep).
fn bad_char(s: &str) -> Option<char> {
    s.chars().find(
        |&c| !matches!(c, '\t' | '\n' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}'),
    )
}

/// The local name oxrdfxml's serializer would give an IRI (its `split_iri`): the longest
/// tail of name characters that starts with a name-start character other than `:`.
fn local_name(iri: &str) -> &str {
    let Some(base) = iri.rfind(|c| !is_name_char(c) || c == ':') else { return "" };
    match iri[base..].find(|c| is_name_start_char(c) && c != ':') {
        Some(add) => &iri[base + add..],
        None => "",
    }
}

fn is_name_start_char(c: char) -> bool {
    matches!(c,
        ':' | 'A'..='Z' | '_' | 'a'..='z'
        | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}' | '\u{370}'..='\u{37D}'
        | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}'
        | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}'
        | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

fn is_name_char(c: char) -> bool {
    is_name_start_char(c)
        || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxrdf::{Literal, NamedNode};

    fn triple(p: &str, o: Term) -> Triple {
        Triple::new(NamedNode::new_unchecked("http://x.org/s"), NamedNode::new_unchecked(p), o)
    }

    /// Each triple RDF/XML cannot carry is named, and the rest pass; and what passes, written
    /// by oxrdfxml, parses back (with oxrdfxml's parser) to the same triples.
    #[test]
    fn what_rdfxml_cannot_express_is_named_and_the_rest_round_trips() {
        let lit = |s: &str| Term::Literal(Literal::new_simple_literal(s));
        let bad = [
            triple("http://x.org/p", lit("bell \u{7} here")),
            triple("http://x.org/p", lit("not a char \u{FFFE}")),
            triple("http://x.org/p", lit("line\r\nends")),
            triple("http://x.org/", lit("no local name")),
            triple("http://x.org/p#1", lit("a local name cannot start with a digit")),
            triple("http://www.w3.org/1999/02/22-rdf-syntax-ns#li", lit("li")),
            triple("http://www.w3.org/1999/02/22-rdf-syntax-ns#Description", lit("x")),
        ];
        for t in &bad {
            assert!(unrepresentable(t).is_some(), "{t}");
        }
        let good = vec![
            triple("http://x.org/p", lit("tab\tand\nnewline, émoji 🦀, <tags> & \"quotes\"")),
            triple("http://purl.obolibrary.org/obo/IAO_0000115", lit("a definition")),
            triple("http://www.w3.org/1999/02/22-rdf-syntax-ns#_1", lit("a member")),
            triple("http://x.org/p", Term::NamedNode(NamedNode::new_unchecked("http://x.org/o?a=1&b=2"))),
            triple("http://x.org/p", Term::Literal(Literal::new_language_tagged_literal_unchecked("colour", "en-gb"))),
        ];
        for t in &good {
            assert_eq!(unrepresentable(t), None, "{t}");
        }
        let mut w = oxrdfxml::RdfXmlSerializer::new().for_writer(Vec::new());
        for t in &good {
            w.serialize_triple(t).unwrap();
        }
        let xml = w.finish().unwrap();
        let mut back: Vec<Triple> =
            oxrdfxml::RdfXmlParser::new().for_slice(&xml).map(|t| t.unwrap()).collect::<Vec<_>>();
        let mut want = good.clone();
        back.sort_by_key(|t| t.to_string());
        want.sort_by_key(|t| t.to_string());
        assert_eq!(back, want, "{}", String::from_utf8_lossy(&xml));
    }
}
