//! What every use case returns: a typed report that is the `--json` document, Python's
//! return value and the API's body (`serde::Serialize`), and that also knows its human
//! form for a terminal. Front ends never build documents of their own.

use serde::Serialize;

/// A use case's result.
pub trait Report: Serialize {
    /// The text a person reads. Every value that comes from outside (a registry, a data
    /// root, a server) goes through [`safe`] first.
    fn human(&self) -> String;
}

/// A value from outside (a registry's version, a licence label, a term's label, an error
/// message) made safe for one line of a terminal: control characters (newlines, ESC and
/// the rest of C0 and C1) and bidi controls become visible `\u{…}` escapes, so no value can
/// forge report lines or move the cursor.
pub fn safe(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            let bidi = matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
            if c.is_control() || bidi { format!("\\u{{{:x}}}", c as u32) } else { c.to_string() }
        })
        .collect()
}

/// A report that is a document as it is (a manifest, a configuration), with its text.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Document {
    /// The document.
    pub doc: serde_json::Value,
    /// Its human form.
    #[serde(skip)]
    pub text: String,
}

impl Report for Document {
    fn human(&self) -> String {
        self.text.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_values_cannot_forge_lines_or_drive_the_terminal() {
        let forged = "1.0\nbfo     obo  fresh  2020  ok\u{1b}[2J\u{202e}";
        let shown = safe(forged);
        assert!(!shown.contains('\n') && !shown.contains('\u{1b}') && !shown.contains('\u{202e}'), "{shown}");
        assert!(shown.contains("\\u{a}") && shown.contains("\\u{1b}"), "{shown}");
        let text = crate::inspect::manifest_text(&serde_json::json!({"id": "x", "license": "CC-BY\r\nid: forged"}));
        let forged: Vec<&str> = text.lines().filter(|l| l.contains("forged")).collect();
        assert_eq!(forged.len(), 1, "{text}");
        assert!(forged[0].trim_start().starts_with("licence:"), "{text}");
        assert_eq!(safe("café – ok"), "café – ok", "printable text is untouched");
    }
}
