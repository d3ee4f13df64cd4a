//! Versions for sources that do not publish one in their registry: read from the file
//! itself (owl:versionIRI, owl:versionInfo, OBO data-version), else derived from the bytes,
//! so identical bytes never make a new version directory.

fn date_like(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && s.chars().enumerate().all(|(i, c)| if i == 4 || i == 7 { c == '-' } else { c.is_ascii_digit() })
}

/// The most specific version token in a version IRI (`…/bfo/2019-08-26/bfo.owl` → `2019-08-26`).
fn from_iri(iri: &str) -> String {
    let segments: Vec<&str> = iri.trim_end_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    if let Some(d) = segments.iter().rev().find(|s| date_like(s)) {
        return d.to_string();
    }
    if segments.len() >= 2 {
        let last = segments[segments.len() - 1];
        if last.contains('.') {
            return segments[segments.len() - 2].to_string();
        }
        return last.to_string();
    }
    iri.to_string()
}

/// An XML attribute value as the parser would read it: the predefined entities and
/// character references resolved (`…&amp;b…` is `…&b…`).
fn xml_unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let Some(end) = tail.find(';') else {
            out.push_str(tail);
            return out;
        };
        let name = &tail[1..end];
        let c = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            n if n.starts_with("#x") => u32::from_str_radix(&n[2..], 16).ok().and_then(char::from_u32),
            n if n.starts_with('#') => n[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match c {
            Some(c) => out.push(c),
            None => out.push_str(&tail[..=end]),
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

fn after<'a>(text: &'a str, marker: &str) -> Option<&'a str> {
    text.find(marker).map(|i| &text[i + marker.len()..])
}

/// Finds a version in the first bytes of an ontology file.
pub fn sniff(prefix: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(&prefix[..prefix.len().min(256 * 1024)]);
    for line in text.lines().take(200) {
        if let Some(v) = line.strip_prefix("data-version:") {
            let v = v.trim();
            if !v.is_empty() {
                // ODK writes `uberon/releases/2025-12-04/uberon-basic.owl`: the path of the
                // release, read like a version IRI (the date, not the file name).
                return Some(if v.contains('/') { from_iri(v) } else { v.to_string() });
            }
        }
    }
    if let Some(rest) = after(&text, "owl:versionIRI") {
        let rest = rest.trim_start();
        let iri = if let Some(r) = rest.strip_prefix('<') {
            r.split('>').next()
        } else {
            after(rest, "rdf:resource=\"").and_then(|r| r.split('"').next())
        };
        if let Some(iri) = iri.filter(|i| !i.is_empty()) {
            return Some(from_iri(&xml_unescape(iri)));
        }
    }
    if let Some(rest) = after(&text, "owl:versionInfo") {
        let rest = rest.trim_start();
        let value = if let Some(r) = rest.strip_prefix('"') {
            r.split('"').next()
        } else {
            rest.split_once('>').and_then(|(_, r)| r.split('<').next())
        };
        if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty() && v.len() <= 100) {
            return Some(v.to_string());
        }
    }
    None
}

/// A version derived from content: the download date and a digest prefix.
pub fn from_content(sha256: &str, date: &str) -> String {
    format!("{date}-sha256-{}", &sha256[..12.min(sha256.len())])
}

/// The version token of a version IRI (for registries that only publish the IRI).
pub fn sniff_iri(iri: &str) -> String {
    from_iri(iri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_headers_in_each_syntax() {
        assert_eq!(
            sniff(b"format-version: 1.2\ndata-version: releases/2024-01-01\nontology: go\n").as_deref(),
            Some("2024-01-01")
        );
        let rdfxml = br#"<owl:Ontology rdf:about="http://purl.obolibrary.org/obo/bfo.owl"><owl:versionIRI rdf:resource="http://purl.obolibrary.org/obo/bfo/2019-08-26/bfo.owl"/>"#;
        assert_eq!(sniff(rdfxml).as_deref(), Some("2019-08-26"));
        let ttl = b"<http://x.org/o> a owl:Ontology ;\n  owl:versionIRI <http://x.org/o/v2.1/o.ttl> .";
        assert_eq!(sniff(ttl).as_deref(), Some("v2.1"));
        let info = b"<owl:versionInfo rdf:datatype=\"xsd:string\">1.4</owl:versionInfo>";
        assert_eq!(sniff(info).as_deref(), Some("1.4"));
        assert_eq!(sniff(b"<rdf:RDF></rdf:RDF>"), None);
        // ODK-built OBO releases name the release path, not a bare version
        let odk = b"format-version: 1.4\ndata-version: uberon/releases/2025-12-04/uberon-basic.owl\nontology: uberon\n";
        assert_eq!(sniff(odk).as_deref(), Some("2025-12-04"));
        assert_eq!(sniff(b"data-version: go/releases/2024-01-17/go.owl\n").as_deref(), Some("2024-01-17"));
        assert_eq!(sniff(b"data-version: 1.2/x.obo\n").as_deref(), Some("1.2"));
        assert_eq!(sniff(b"data-version: 2024-05-01\n").as_deref(), Some("2024-05-01"));
        // an attribute value is read as XML reads it
        let amp = br#"<owl:versionIRI rdf:resource="http://x.org/o/v1&amp;b/o.owl"/>"#;
        assert_eq!(sniff(amp).as_deref(), Some("v1&b"));
        assert_eq!(xml_unescape("a&#x41;&#66;&lt;&unknown;"), "aAB<&unknown;");
        assert_eq!(from_content("abcdef0123456789", "2026-11-25"), "2026-11-25-sha256-abcdef012345");
    }
}
