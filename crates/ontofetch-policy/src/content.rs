//! What the first bytes of a body are: an HTML page where an ontology was expected is a
//! registry's error or login page, never data. The rule looks past what can come before
//! the root element (a BOM, whitespace, an XML declaration, comments, a doctype) within
//! the first [`SNIFF_BYTES`], however the body was chunked on the wire.

/// How much of a body the sniff looks at.
pub const SNIFF_BYTES: usize = 16 * 1024;

/// Skips whitespace, `<?…?>` and `<!-- … -->`; `None` when a construct does not end
/// within the prefix (the answer needs more bytes).
fn skip_prolog(mut t: &str) -> Option<&str> {
    loop {
        t = t.trim_start();
        if let Some(rest) = t.strip_prefix("<?") {
            t = &rest[rest.find("?>")? + 2..];
        } else if let Some(rest) = t.strip_prefix("<!--") {
            t = &rest[rest.find("-->")? + 3..];
        } else {
            return Some(t);
        }
    }
}

/// Whether a body that starts with `prefix` is an HTML page.
pub fn looks_like_html(prefix: &[u8]) -> bool {
    let head = &prefix[..prefix.len().min(SNIFF_BYTES)];
    let text = String::from_utf8_lossy(head);
    let Some(rest) = skip_prolog(text.trim_start_matches('\u{feff}')) else {
        return false;
    };
    let lower: String = rest.chars().take(32).collect::<String>().to_ascii_lowercase();
    ["<!doctype html", "<html", "<head", "<body", "<meta", "<title", "<script", "<iframe"]
        .iter()
        .any(|tag| lower.starts_with(tag))
}

/// Media types that name the same serialisation (DocsToKG's labels: RDF/XML is
/// `application/rdf+xml`, `application/xml` or `text/xml`).
const FAMILIES: &[&[&str]] = &[
    &["application/rdf+xml", "application/xml", "text/xml", "application/owl+xml"],
    &["text/turtle", "application/x-turtle", "application/turtle"],
    &["application/n-triples", "text/plain"],
    &["text/obo", "application/obo", "text/plain"],
    &["application/ld+json", "application/json"],
];

/// Whether a response's `Content-Type` fits the media type a registry announced
/// (`defaults.http.validate_media_type`): the same type, parameters and case aside, or one
/// of its family. Generic binary (`application/octet-stream`) and archives fit anything:
/// they say nothing about the serialisation inside.
pub fn media_type_fits(expected: &str, got: &str) -> bool {
    let bare = |t: &str| t.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let (e, g) = (bare(expected), bare(got));
    if e == g || g == "application/octet-stream" || g.contains("zip") || g.contains("gzip") || g.contains("x-tar") {
        return true;
    }
    FAMILIES.iter().any(|f| f.contains(&e.as_str()) && f.contains(&g.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_fit_their_family_and_nothing_else() {
        assert!(media_type_fits("application/rdf+xml", "application/xml; charset=utf-8"));
        assert!(media_type_fits("application/rdf+xml", "Text/XML"));
        assert!(media_type_fits("text/obo", "text/plain"));
        assert!(media_type_fits("text/turtle", "application/octet-stream"));
        assert!(media_type_fits("application/rdf+xml", "application/gzip"));
        assert!(!media_type_fits("application/rdf+xml", "text/turtle"));
        assert!(!media_type_fits("application/rdf+xml", "application/json"));
        assert!(!media_type_fits("text/turtle", "text/plain"));
    }

    #[test]
    fn pages_are_found_past_whitespace_declarations_and_comments() {
        for page in [
            "<!DOCTYPE html><html>",
            "\n\n<!DOCTYPE html>",
            "\u{feff}  <html lang=en>",
            "<!-- maintenance --><!doctype HTML>",
            "<?xml version=\"1.0\"?>\n<!-- x -->\n<html xmlns=\"http://www.w3.org/1999/xhtml\">",
            "<head><title>404</title>",
        ] {
            assert!(looks_like_html(page.as_bytes()), "{page:?}");
        }
        for data in [
            "<?xml version=\"1.0\"?>\n<!-- generated -->\n<rdf:RDF>",
            "@prefix owl: <http://www.w3.org/2002/07/owl#> .",
            "format-version: 1.2",
            "<!-- a comment that never ends",
            "",
        ] {
            assert!(!looks_like_html(data.as_bytes()), "{data:?}");
        }
    }
}
