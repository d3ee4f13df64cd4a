//! Licence normalisation to SPDX ids, and the `accept_licenses` check.
//!
//! Registries write licences as SPDX ids, names (`CC BY 4.0`) and URLs. Two readers of the
//! same record must reach the same id, so the spellings table is Bioregistry's own
//! (`data/licenses.json`, cut from the pinned release by `scripts/bioregistry-snapshot.sh`);
//! what the table does not list is matched by shape, and only when the shape ends at the
//! version: `CC-BY-3.0-IGO` is a different SPDX id from `CC-BY-3.0`, and stays itself.

use serde::Deserialize;
use std::collections::HashMap;
use std::sync::LazyLock;

/// Bioregistry's spelling → SPDX table.
const TABLE: &[u8] = include_bytes!("../data/licenses.json");

#[derive(Deserialize)]
struct Table {
    unspecified: Vec<String>,
    map: HashMap<String, Option<String>>,
}

static SPELLINGS: LazyLock<Table> = LazyLock::new(|| {
    // A broken table is a build bug, caught by this module's tests.
    serde_json::from_slice(TABLE).unwrap_or(Table { unspecified: Vec::new(), map: HashMap::new() })
});

/// What Bioregistry's `standardize_license` makes of a metaregistry's licence text: `None`
/// for blank or "unspecified" text, the table's id for a spelling it lists, else the text
/// itself (trimmed, without a trailing `/`).
pub fn standardize(raw: &str) -> Option<String> {
    let t = raw.trim().trim_end_matches('/');
    if t.is_empty() || SPELLINGS.unspecified.iter().any(|u| u == &t.to_lowercase()) {
        return None;
    }
    match SPELLINGS.map.get(t) {
        Some(id) => id.clone(),
        None => Some(t.to_string()),
    }
}

/// Maps the spellings registries use to SPDX ids; unknown text is returned trimmed.
pub fn normalize(raw: &str) -> String {
    let t = raw.trim();
    if let Some(Some(id)) = SPELLINGS.map.get(t.trim_end_matches('/')) {
        return id.clone();
    }
    let mut k: String = t.to_ascii_lowercase().chars().filter(|c| c.is_ascii_alphanumeric() || *c == '.').collect();
    // A URL's deed or legal-code page names the same licence.
    for tail in ["legalcode", "deed.en", "deed"] {
        if let Some(head) = k.strip_suffix(tail) {
            k = head.to_string();
        }
    }
    let ends = |forms: &[&str]| forms.iter().any(|f| k.ends_with(f));
    let spdx = if k.contains("publicdomainzero") || k == "cc0" || k == "cc01.0" || k == "cc0.1.0" {
        "CC0-1.0"
    } else if ends(&["ccby4.0", "licensesby4.0"]) || k == "ccby4" {
        "CC-BY-4.0"
    } else if ends(&["ccby3.0", "licensesby3.0"]) {
        "CC-BY-3.0"
    } else if ends(&["ccbysa4.0", "licensesbysa4.0"]) {
        "CC-BY-SA-4.0"
    } else if ends(&["apache2.0", "apachelicense2.0", "licenseslicense2.0", "licenseslicense2.0.txt"]) {
        "Apache-2.0"
    } else if ends(&["ogluk3.0"]) || k.contains("opengovernmentlicence") {
        "OGL-UK-3.0"
    } else {
        return t.to_string();
    };
    spdx.to_string()
}

/// The open licences: with no `accept_licenses` of the user's, a source under any other
/// licence is fetched with a warning and a manifest note, never refused.
pub const OPEN: &[&str] = &[
    "CC0-1.0",
    "CC-BY-4.0",
    "CC-BY-3.0",
    "CC-BY-SA-4.0",
    "CC-BY-SA-3.0",
    "CC-PDM-1.0",
    "OGL-UK-3.0",
    "PDDL-1.0",
    "ODC-By-1.0",
    "Apache-2.0",
    "MIT",
    "BSD-3-Clause",
    "public-domain",
];

/// Whether a licence is in [`OPEN`].
pub fn is_open(license: &str) -> bool {
    let l = normalize(license);
    OPEN.iter().any(|o| *o == l)
}

/// Where a licence's text is: a URL stays itself, Creative Commons ids get their deed
/// (`CC-BY-NC-4.0` → `https://creativecommons.org/licenses/by-nc/4.0/`), SPDX-shaped ids
/// their SPDX page (as Bioregistry's `get_license_url`); a registry's own word (`hpo`)
/// has none.
pub fn url_of(license: &str) -> Option<String> {
    let l = license.trim();
    if l.starts_with("http://") || l.starts_with("https://") {
        return Some(l.to_string());
    }
    if l == "CC0-1.0" || l == "CC0" {
        return Some("https://creativecommons.org/publicdomain/zero/1.0/".into());
    }
    if let Some(rest) = l.strip_prefix("CC-") {
        // CC-BY-NC-SA-4.0, CC-BY-3.0-IGO
        let parts: Vec<&str> = rest.split('-').collect();
        if let Some(v) = parts.iter().position(|p| p.chars().next().is_some_and(|c| c.is_ascii_digit())) {
            let kind = parts[..v].join("-").to_lowercase();
            let tail: Vec<String> = parts[v..].iter().map(|p| p.to_lowercase()).collect();
            return Some(format!("https://creativecommons.org/licenses/{kind}/{}/", tail.join("/")));
        }
    }
    let spdx_shaped =
        l.contains('-') && l.chars().any(|c| c.is_ascii_digit()) || matches!(l, "MIT" | "ISC" | "Unlicense");
    (spdx_shaped && l.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '+')))
        .then(|| format!("https://spdx.org/licenses/{l}"))
}

/// A licence as messages name it: the id and, where there is one, its URL.
pub fn described(license: &str) -> String {
    match url_of(license) {
        Some(url) if url != license => format!("{license:?} ({url})"),
        _ => format!("{license:?}"),
    }
}

/// Why `accept_licenses` refuses `license` for entry `id`, with the one line that accepts it
/// for that entry alone.
pub fn refusal(id: &str, license: &str, accept: &[String]) -> String {
    format!(
        "licence {} is not in accept_licenses [{}]; to accept it for this entry only, add \
         `extras: {{accept_licenses: [{}]}}` to `- id: {id}` in sources.yaml",
        described(license),
        accept.join(", "),
        yaml_word(license)
    )
}

/// A licence as a YAML flow-sequence item (quoted when it would not read as itself).
fn yaml_word(license: &str) -> String {
    if license.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')) {
        license.to_string()
    } else {
        format!("{license:?}")
    }
}

/// Whether a licence is acceptable: an empty list accepts everything (no policy), an
/// unknown licence is accepted (registries often omit it), a known one must be listed.
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

/// What the licence settings do with a source's licence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Fetched.
    Accepted,
    /// Fetched, with a warning and a manifest note.
    Warned,
    /// Refused with `E_LICENSE` before anything is downloaded.
    Refused,
}

/// A [`Verdict`] and why, in words.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Judgement {
    /// What happens.
    pub verdict: Verdict,
    /// Why.
    pub why: String,
}

/// The one licence decision, made at plan time, for a licence a file's header states, and
/// for `registry show`: `accept` is `defaults.accept_licenses` (empty: no policy, a
/// licence outside [`OPEN`] is only warned about), `entry` what the entry accepts besides
/// (`extras.accept_licenses`), `reject_unknown` refuses a source without a licence when
/// there is a policy.
pub fn judge(id: &str, license: Option<&str>, accept: &[String], entry: &[String], reject_unknown: bool) -> Judgement {
    let mut policy = accept.to_vec();
    policy.extend(entry.iter().cloned());
    let (verdict, why) = match license {
        None if !policy.is_empty() && reject_unknown => {
            (Verdict::Refused, "the licence is unknown and defaults.reject_unknown_licenses is set".to_string())
        }
        None if !policy.is_empty() => {
            (Verdict::Warned, "the licence is unknown; fetched with a warning (accept_licenses is set)".into())
        }
        None => (Verdict::Accepted, "the licence is unknown; no accept_licenses is set".into()),
        Some(l) if policy.is_empty() && !is_open(l) => (
            Verdict::Warned,
            format!(
                "licence {} is outside the open-licence list; fetched with a warning because no accept_licenses is set",
                described(l)
            ),
        ),
        Some(l) if policy.is_empty() => {
            (Verdict::Accepted, format!("licence {} is open; no accept_licenses is set", described(l)))
        }
        Some(l) if accepted(Some(l), &policy) => {
            (Verdict::Accepted, format!("licence {} is in accept_licenses", described(l)))
        }
        Some(l) => (Verdict::Refused, refusal(id, l, accept)),
    };
    Judgement { verdict, why }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One decision for every caller: no policy warns outside the open list, a policy
    /// refuses what it does not name (an entry may name more), an unknown licence is
    /// refused only when asked.
    #[test]
    fn the_licence_decision() {
        let v = |l: Option<&str>, accept: &[&str], entry: &[&str], reject: bool| {
            let s = |x: &[&str]| x.iter().map(|a| a.to_string()).collect::<Vec<_>>();
            judge("hp", l, &s(accept), &s(entry), reject).verdict
        };
        assert_eq!(v(Some("CC-BY-4.0"), &[], &[], false), Verdict::Accepted);
        assert_eq!(v(Some("hpo"), &[], &[], false), Verdict::Warned);
        assert_eq!(v(Some("hpo"), &["CC-BY-4.0"], &[], false), Verdict::Refused);
        assert_eq!(v(Some("hpo"), &["CC-BY-4.0"], &["hpo"], false), Verdict::Accepted);
        assert_eq!(v(Some("CC BY 4.0"), &["CC-BY-4.0"], &[], false), Verdict::Accepted, "spellings fold");
        assert_eq!(v(None, &[], &[], true), Verdict::Accepted, "no policy, nothing to reject");
        assert_eq!(v(None, &["CC0-1.0"], &[], false), Verdict::Warned);
        assert_eq!(v(None, &["CC0-1.0"], &[], true), Verdict::Refused);
        let refused = judge("hp", Some("hpo"), &["CC0-1.0".into()], &[], false);
        assert!(refused.why.contains("accept_licenses"), "{}", refused.why);
    }

    #[test]
    fn common_spellings_map_to_spdx() {
        for (raw, spdx) in [
            ("CC BY 4.0", "CC-BY-4.0"),
            ("CC-BY 4.0", "CC-BY-4.0"),
            ("https://creativecommons.org/licenses/by/4.0/", "CC-BY-4.0"),
            ("https://creativecommons.org/licenses/by/4.0/legalcode", "CC-BY-4.0"),
            ("http://creativecommons.org/publicdomain/zero/1.0/", "CC0-1.0"),
            ("CC0", "CC0-1.0"),
            ("CC BY 3.0", "CC-BY-3.0"),
            ("Apache 2.0", "Apache-2.0"),
            ("Custom terms", "Custom terms"),
            // a different SPDX id, never folded into its parent
            ("CC-BY-3.0-IGO", "CC-BY-3.0-IGO"),
            ("https://creativecommons.org/licenses/by/3.0/igo", "CC-BY-3.0-IGO"),
            ("https://creativecommons.org/licenses/by/3.0/igo/legalcode", "CC-BY-3.0-IGO"),
            ("CC-BY-ND-3.0-IGO", "CC-BY-ND-3.0-IGO"),
        ] {
            assert_eq!(normalize(raw), spdx, "{raw}");
            assert_eq!(normalize(&normalize(raw)), spdx, "idempotent on {raw}");
        }
        let accept = vec!["CC-BY-4.0".to_string(), "CC0-1.0".to_string()];
        assert!(accepted(Some("CC BY 4.0"), &accept));
        assert!(!accepted(Some("CC-BY-SA-4.0"), &accept));
        assert!(!accepted(Some("CC-BY-3.0-IGO"), &["CC-BY-3.0".to_string()]));
        assert!(accepted(None, &accept));
        assert!(accepted(Some("anything"), &[]));
        assert_eq!(url_of("CC-BY-NC-4.0").unwrap(), "https://creativecommons.org/licenses/by-nc/4.0/");
        assert_eq!(url_of("CC-BY-3.0-IGO").unwrap(), "https://creativecommons.org/licenses/by/3.0/igo/");
        assert_eq!(url_of("CC0-1.0").unwrap(), "https://creativecommons.org/publicdomain/zero/1.0/");
        assert_eq!(url_of("Apache-2.0").unwrap(), "https://spdx.org/licenses/Apache-2.0");
        assert_eq!(url_of("hpo"), None, "a registry's own word has no URL");
        assert_eq!(normalize(&url_of("CC-BY-3.0-IGO").unwrap()), "CC-BY-3.0-IGO", "the URL reads back as the id");
        let why = refusal("hp", "hpo", &["CC-BY-4.0".into()]);
        assert!(
            why.contains("\"hpo\"") && why.contains("[CC-BY-4.0]") && why.contains("extras: {accept_licenses: [hpo]}"),
            "{why}"
        );
        assert!(is_open("https://creativecommons.org/licenses/by/4.0/") && !is_open("hpo"));
    }

    #[test]
    fn standardize_reads_bioregistrys_table() {
        assert!(SPELLINGS.map.len() > 100, "the table reads");
        assert_eq!(standardize("  other "), None);
        assert_eq!(standardize("None"), None, "the table's null entries mean no licence");
        assert_eq!(standardize("https://creativecommons.org/licenses/by/3.0/igo/").as_deref(), Some("CC-BY-3.0-IGO"));
        assert_eq!(standardize("Custom terms").as_deref(), Some("Custom terms"));
    }
}
