//! Language tags as the source wrote them.
//!
//! RDFC-1.0 leaves the case of language tags to implementations, and the hashes differ with
//! it (w3c/rdf-canon #155/#156). The implementations users check a `normalized_sha256` with
//! (rdf-canonize, pyld) keep tags as written; the parsers here (oxttl, oxrdfxml) lower-case
//! them. So before a parse the file is scanned for the tags it writes (`"…"@en-GB` in the
//! Turtle family, `xml:lang="en-GB"` in RDF/XML, `"@language": "en-GB"` in JSON-LD), and
//! each parsed tag gets its written form back. When one tag is written in two cases in
//! the same file (`@en-GB` and `@en-gb`), the references keep two literals where the
//! parser made one, and no restoration can match them: the file is then hashed with
//! lower-case tags and the mode says so ([`LOWERCASE_SUFFIX`]). `defaults.validation.
//! language_tags: lowercase` asks for that form always (RDF 1.2's canonical N-Quads).

use crate::Detected;
use oxrdf::{Literal, Quad, QuadRef, TermRef};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// Appended to `normalization.mode` when the hash was computed over lower-cased tags.
pub const LOWERCASE_SUFFIX: &str = "+lowercase-language-tags";

/// The written forms of a file's language tags.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LanguageTags {
    /// Lower-case tag → its written form, for tags written with a capital.
    restore: HashMap<String, String>,
    /// Tags are left lower case (asked for, or written in two cases).
    pub lowercase: bool,
    /// Why they are lower case, when the file forced it.
    pub note: Option<String>,
}

impl LanguageTags {
    /// Tags left as the parser gives them (lower case).
    pub fn lowercased() -> LanguageTags {
        LanguageTags { lowercase: true, ..LanguageTags::default() }
    }

    /// Scans `path` for its written tags. A format without a scanner, or a read error,
    /// leaves them lower case with a note.
    pub fn scan(path: &Path, detected: Detected) -> LanguageTags {
        let scanner: fn(&[u8], &mut Forms) = match detected {
            Detected::Turtle | Detected::NTriples | Detected::NQuads | Detected::TriG => quoted_at,
            Detected::RdfXml => xml_lang,
            Detected::JsonLd => json_language,
            _ => return LanguageTags::default(),
        };
        let mut forms = Forms::default();
        match scan_file(path, scanner, &mut forms) {
            Ok(()) => forms.into_tags(),
            Err(e) => LanguageTags {
                lowercase: true,
                note: Some(format!("language tags lower-cased: reading the source for them failed: {e}")),
                ..LanguageTags::default()
            },
        }
    }

    /// The mode name for a hash computed with these tags.
    pub fn mode(&self, base: &str) -> String {
        if self.lowercase { format!("{base}{LOWERCASE_SUFFIX}") } else { base.to_string() }
    }

    /// Whether a parsed quad's tag needs its written form back.
    fn written<'a>(&'a self, q: QuadRef<'a>) -> Option<(&'a str, &'a str)> {
        if self.lowercase || self.restore.is_empty() {
            return None;
        }
        match q.object {
            TermRef::Literal(l) => {
                let lang = l.language()?;
                self.restore.get(lang).map(|w| (l.value(), w.as_str()))
            }
            _ => None,
        }
    }

    /// The quad with its tag as written (`None`: it is already).
    pub fn restore_ref(&self, q: QuadRef<'_>) -> Option<Quad> {
        let (value, tag) = self.written(q)?;
        let literal = Literal::new_language_tagged_literal_unchecked(value, tag);
        Some(Quad::new(q.subject.into_owned(), q.predicate.into_owned(), literal, q.graph_name.into_owned()))
    }

    /// [`Self::restore_ref`] for an owned quad.
    pub fn restore(&self, q: Quad) -> Quad {
        self.restore_ref(q.as_ref()).unwrap_or(q)
    }
}

/// Every written form of every tag seen.
#[derive(Default)]
struct Forms {
    by_lower: HashMap<String, Vec<String>>,
}

impl Forms {
    fn saw(&mut self, tag: &[u8]) {
        let Ok(tag) = std::str::from_utf8(tag) else { return };
        if !is_tag(tag) {
            return;
        }
        let forms = self.by_lower.entry(tag.to_ascii_lowercase()).or_default();
        if !forms.iter().any(|f| f == tag) {
            forms.push(tag.to_string());
        }
    }

    fn into_tags(self) -> LanguageTags {
        let mut tags = LanguageTags::default();
        let mut twice: Vec<String> = Vec::new();
        for (lower, forms) in self.by_lower {
            match forms.as_slice() {
                [one] if *one != lower => {
                    tags.restore.insert(lower, one.clone());
                }
                [_] => {}
                _ => twice.push(forms.join(" and ")),
            }
        }
        if !twice.is_empty() {
            twice.sort();
            tags.restore.clear();
            tags.lowercase = true;
            tags.note = Some(format!(
                "language tags lower-cased: the source writes one tag in two cases ({}), which RDFC-1.0 \
                 implementations that keep tags as written hash as different literals",
                twice.join("; ")
            ));
        }
        tags
    }
}

/// BCP 47's shape: letters, then `-` and alphanumerics.
fn is_tag(t: &str) -> bool {
    let mut parts = t.split('-');
    parts.next().is_some_and(|p| !p.is_empty() && p.len() <= 8 && p.bytes().all(|b| b.is_ascii_alphabetic()))
        && parts.all(|p| !p.is_empty() && p.len() <= 8 && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The tag that starts at `text[at..]` (letters, digits and `-`).
fn tag_at(text: &[u8], at: usize) -> &[u8] {
    let end = text[at..].iter().position(|b| !(b.is_ascii_alphanumeric() || *b == b'-')).map_or(text.len(), |n| at + n);
    &text[at..end]
}

/// Turtle, TriG, N-Triples, N-Quads: a closing quote followed by `@`. The `@`s are found
/// with memchr's vector search: this scan reads the whole file before its parse does.
fn quoted_at(text: &[u8], forms: &mut Forms) {
    for i in memchr::memchr_iter(b'@', text) {
        if i > 0 && (text[i - 1] == b'"' || text[i - 1] == b'\'') {
            forms.saw(tag_at(text, i + 1));
        }
    }
}

/// The quoted value after each occurrence of `key` (then optional spaces, `sep`, spaces),
/// found with memchr's substring search (a byte-by-byte window compare took 2 of the 19
/// seconds of a 250 MiB RDF/XML file's canonical hash).
fn quoted_after(text: &[u8], key: &[u8], sep: u8, forms: &mut Forms) {
    let finder = memchr::memmem::Finder::new(key);
    let mut from = 0;
    while let Some(n) = finder.find(&text[from..]) {
        let mut at = from + n + key.len();
        let skip = |at: &mut usize| {
            while text.get(*at).is_some_and(u8::is_ascii_whitespace) {
                *at += 1;
            }
        };
        skip(&mut at);
        if text.get(at) == Some(&sep) {
            at += 1;
            skip(&mut at);
            if let Some(&q) = text.get(at).filter(|q| **q == b'"' || **q == b'\'') {
                let value = tag_at(text, at + 1);
                if text.get(at + 1 + value.len()) == Some(&q) {
                    forms.saw(value);
                }
            }
        }
        from = at.max(from + n + 1);
    }
}

/// RDF/XML: `xml:lang="…"`.
fn xml_lang(text: &[u8], forms: &mut Forms) {
    quoted_after(text, b"xml:lang", b'=', forms);
}

/// JSON-LD: `"@language": "…"`.
fn json_language(text: &[u8], forms: &mut Forms) {
    quoted_after(text, b"\"@language\"", b':', forms);
}

/// Bytes scanned at once: small, because the validator runs under `max_memory_mb`.
const BLOCK: usize = 64 << 10;
/// Bytes each block repeats from the one before.
const OVERLAP: usize = 256;

/// Runs `scanner` over the file in [`BLOCK`]s that overlap by [`OVERLAP`] bytes (a tag and
/// its marker never straddle a block unseen; a form seen twice counts once).
fn scan_file(path: &Path, scanner: fn(&[u8], &mut Forms), forms: &mut Forms) -> std::io::Result<()> {
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; BLOCK + OVERLAP];
    let mut kept = 0;
    loop {
        let n = file.read(&mut buf[kept..])?;
        if n == 0 {
            if kept > 0 {
                scanner(&buf[..kept], forms);
            }
            return Ok(());
        }
        let len = kept + n;
        if len < buf.len() {
            kept = len;
            continue;
        }
        scanner(&buf[..len], forms);
        buf.copy_within(len - OVERLAP..len, 0);
        kept = OVERLAP;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forms(scanner: fn(&[u8], &mut Forms), text: &str) -> LanguageTags {
        let mut f = Forms::default();
        scanner(text.as_bytes(), &mut f);
        f.into_tags()
    }

    #[test]
    fn written_tags_are_found_in_each_syntax_and_two_cases_of_one_tag_lower_case_all() {
        let t = forms(quoted_at, "<s> <p> \"colour\"@en-GB .\n<s> <p> 'x'@pt-BR ; <q> \"y\"@fr .\n@prefix a: <x> .");
        assert_eq!(t.restore.get("en-gb").map(String::as_str), Some("en-GB"));
        assert_eq!(t.restore.get("pt-br").map(String::as_str), Some("pt-BR"));
        assert!(!t.restore.contains_key("fr") && !t.lowercase, "{t:?}");
        let t = forms(xml_lang, "<rdfs:label xml:lang = 'en-GB'>x</rdfs:label><a xml:lang=\"DE\"/>");
        assert_eq!((t.restore["en-gb"].as_str(), t.restore["de"].as_str()), ("en-GB", "DE"));
        let t = forms(json_language, r#"{"@value": "x", "@language" : "zh-Hant-TW"}"#);
        assert_eq!(t.restore["zh-hant-tw"], "zh-Hant-TW");
        let t = forms(quoted_at, "<s> <p> \"a\"@en-GB .\n<s> <p> \"b\"@en-gb .\n");
        assert!(t.lowercase && t.restore.is_empty(), "{t:?}");
        assert!(t.note.as_deref().is_some_and(|n| n.contains("en-GB and en-gb") || n.contains("en-gb and en-GB")));
        assert_eq!(t.mode("rdfc-1.0"), "rdfc-1.0+lowercase-language-tags");
        // an e-mail address is no tag, and a bare @ in a literal is not either
        let t = forms(quoted_at, "<s> <p> \"mail a@Example.ORG\" .\n");
        assert!(t.restore.is_empty(), "{t:?}");
    }

    #[test]
    fn a_tag_across_a_block_boundary_is_still_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.nt");
        let mut text = "#".repeat(BLOCK - 3);
        text.push_str("\n<s> <p> \"x\"@en-GB .\n");
        std::fs::write(&path, text).unwrap();
        let t = LanguageTags::scan(&path, Detected::NTriples);
        assert_eq!(t.restore.get("en-gb").map(String::as_str), Some("en-GB"), "{t:?}");
    }
}
