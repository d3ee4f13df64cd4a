//! A guard in front of horned-owl's OWL readers: its functional-syntax grammar, its OWL/XML
//! reader and its OWL→RDF writer recurse once per level of a nested class expression, data
//! range or annotation, so a few hundred kilobytes of `ObjectIntersectionOf(` would
//! overflow a thread's stack and abort the validator. This pass counts the depth before any
//! parser runs and refuses a document that nests deeper than real ontologies ever do (the
//! XML guard counts elements the same way, [`crate::xmlguard`]). The validator's process
//! limits remain the backstop.

use crate::ValidateError;
use std::io::BufRead;

/// How deeply an OWL document may nest (parentheses in functional syntax, elements in
/// XML). Real ontologies nest a few dozen levels; horned-owl reads, maps and writes this
/// many on the stack the OWL validator gives it (tested in a debug build, whose frames are
/// the largest).
pub const MAX_NESTING: usize = 500;

/// Where the functional-syntax scanner is: in a string literal, an IRI or a comment the
/// parentheses are text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum In {
    Code,
    String { escaped: bool },
    Iri,
    Comment,
}

/// `Err` naming the line when an OWL functional-syntax document nests parentheses deeper
/// than [`MAX_NESTING`]; `Ok` otherwise (a malformed document is the parser's to report).
pub fn check_ofn(mut input: impl BufRead) -> Result<(), ValidateError> {
    let (mut state, mut depth, mut line) = (In::Code, 0usize, 1u64);
    loop {
        let buf = input.fill_buf().map_err(|e| ValidateError::io("reading the document", e))?;
        if buf.is_empty() {
            return Ok(());
        }
        for &b in buf {
            if b == b'\n' {
                line += 1;
            }
            state = match (state, b) {
                (In::Code, b'(') => {
                    depth += 1;
                    if depth > MAX_NESTING {
                        return Err(too_deep(&format!("by line {line}")));
                    }
                    In::Code
                }
                (In::Code, b')') => {
                    depth = depth.saturating_sub(1);
                    In::Code
                }
                (In::Code, b'"') => In::String { escaped: false },
                (In::Code, b'<') => In::Iri,
                (In::Code, b'#') => In::Comment,
                (In::String { escaped: false }, b'\\') => In::String { escaped: true },
                (In::String { escaped: false }, b'"') => In::Code,
                (In::String { .. }, _) => In::String { escaped: false },
                (In::Iri, b'>') => In::Code,
                (In::Comment, b'\n' | b'\r') => In::Code,
                (other, _) => other,
            };
        }
        let n = buf.len();
        input.consume(n);
    }
}

/// The refusal of a document nested past [`MAX_NESTING`].
pub(crate) fn too_deep(at: &str) -> ValidateError {
    ValidateError::Hostile(format!(
        "nested more than {MAX_NESTING} levels deep {at}: refused before parsing (no real ontology nests \
         this deep; the parsers would overflow their stack)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(levels: usize) -> String {
        let open = "ObjectIntersectionOf(:B ".repeat(levels);
        format!(
            "Prefix(:=<http://e.org/>)\nOntology(<http://e.org/o>\nSubClassOf(:A {open}:C{})\n)\n",
            ")".repeat(levels)
        )
    }

    #[test]
    fn deep_nesting_is_refused_and_text_in_strings_iris_and_comments_is_not_counted() {
        // Ontology( and SubClassOf( are two levels.
        assert!(check_ofn(nested(MAX_NESTING - 2).as_bytes()).is_ok());
        let e = check_ofn(nested(MAX_NESTING - 1).as_bytes()).unwrap_err();
        assert!(matches!(e, ValidateError::Hostile(_)) && e.to_string().contains("line 3"), "{e}");
        let parens = "(".repeat(5000);
        let quiet = format!(
            "Prefix(:=<http://e.org/{parens}>)\n# {parens}\nOntology(<http://e.org/o>\n\
             AnnotationAssertion(rdfs:label :A \"{parens} \\\" {parens}\"@en)\n)\n"
        );
        assert!(check_ofn(quiet.as_bytes()).is_ok(), "parentheses as text");
        let unclosed = format!("Ontology(<http://e.org/o>\n\"{parens}");
        assert!(check_ofn(unclosed.as_bytes()).is_ok(), "an unclosed string is the parser's to report");
        let after = format!("Ontology(<http://e.org/o> \"a\\\\\" {parens}");
        assert!(check_ofn(after.as_bytes()).is_err(), "an escaped backslash ends nothing: the string closed");
    }
}
