//! Licence normalisation to SPDX ids, and the `accept_licenses` check.

/// Maps the spellings registries use to SPDX ids; unknown text is returned trimmed.
pub fn normalize(raw: &str) -> String {
    let t = raw.trim();
    let k: String = t.to_ascii_lowercase().chars().filter(|c| c.is_ascii_alphanumeric() || *c == '.').collect();
    let spdx = if k.contains("publicdomain/zero")
        || k.contains("zero/1.0")
        || k.starts_with("cc0")
        || k.contains("creativecommons.orgpublicdomainzero")
    {
        "CC0-1.0"
    } else if k.contains("ccby4.0") || k.contains("licensesby4.0") || k == "ccby4" {
        "CC-BY-4.0"
    } else if k.contains("ccby3.0") || k.contains("licensesby3.0") {
        "CC-BY-3.0"
    } else if k.contains("ccbysa4.0") || k.contains("licensesbysa4.0") {
        "CC-BY-SA-4.0"
    } else if k.contains("apache2.0") || k.contains("apachelicense2.0") || k.contains("licenseslicense2.0") {
        "Apache-2.0"
    } else if k.contains("ogluk3.0") || k.contains("opengovernmentlicence") {
        "OGL-UK-3.0"
    } else {
        return t.to_string();
    };
    spdx.to_string()
}

/// Whether a licence is acceptable: an empty list accepts everything, an unknown licence
/// is accepted (registries often omit it), a known one must be listed.
pub fn accepted(license: Option<&str>, accept: &[String]) -> bool {
    match license {
        None => true,
        Some(_) if accept.is_empty() => true,
        Some(l) => {
            let l = normalize(l);
            accept.iter().any(|a| normalize(a) == l)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_spellings_map_to_spdx() {
        for (raw, spdx) in [
            ("CC BY 4.0", "CC-BY-4.0"),
            ("CC-BY 4.0", "CC-BY-4.0"),
            ("https://creativecommons.org/licenses/by/4.0/", "CC-BY-4.0"),
            ("http://creativecommons.org/publicdomain/zero/1.0/", "CC0-1.0"),
            ("CC0", "CC0-1.0"),
            ("CC BY 3.0", "CC-BY-3.0"),
            ("Apache 2.0", "Apache-2.0"),
            ("Custom terms", "Custom terms"),
        ] {
            assert_eq!(normalize(raw), spdx, "{raw}");
        }
        let accept = vec!["CC-BY-4.0".to_string(), "CC0-1.0".to_string()];
        assert!(accepted(Some("CC BY 4.0"), &accept));
        assert!(!accepted(Some("CC-BY-SA-4.0"), &accept));
        assert!(accepted(None, &accept));
        assert!(accepted(Some("anything"), &[]));
    }
}
