//! Host names: allowlist rules, special-use names, shape and homograph (IDN) checks.
//!
//! Everything here works on the ASCII (punycode) form that `url::Url` produces, so the
//! allowlist is compared with what the HTTP client will really dial.

use ipnet::IpNet;
use std::collections::BTreeSet;
use std::net::IpAddr;
use unicode_script::{Script, UnicodeScript};

/// Why a host entry or a host name is refused, in the words the config gate and the url
/// gate put into their refusal (they add the code).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct HostProblem(String);

impl From<String> for HostProblem {
    fn from(m: String) -> Self {
        HostProblem(m)
    }
}

/// A host the gates cannot take; the config gate reports an allowlist entry's problem as
/// `E_CONFIG_INVALID` itself.
impl crate::Coded for HostProblem {
    fn code(&self) -> crate::Code {
        crate::Code::HostDenied
    }
}

impl From<&str> for HostProblem {
    fn from(m: &str) -> Self {
        HostProblem(m.to_string())
    }
}

/// One `allowed_hosts` entry, in the forms DocsToKG accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostRule {
    /// `host` or `host:port`: that exact host (and, with a port, that port for it).
    Exact {
        /// ASCII, lower-case, no trailing dot.
        host: String,
        /// An extra port allowed for this host.
        port: Option<u16>,
    },
    /// `*.suffix` or `.suffix`: the apex and every sub-domain.
    Suffix(String),
    /// An IP, `[v6]`, `ip:port`, `[v6]:port` or CIDR. Implicitly allows private ranges and http.
    Net {
        /// The network (a single address is a /32 or /128).
        net: IpNet,
        /// An extra port allowed for these addresses.
        port: Option<u16>,
    },
}

impl HostRule {
    /// Parses one entry; the error says what is wrong so the config gate can name it.
    pub fn parse(entry: &str) -> Result<HostRule, HostProblem> {
        let entry = entry.trim();
        if entry.is_empty() {
            return Err(HostProblem::from("empty host entry"));
        }
        if entry.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(HostProblem::from(format!("host entry {entry:?} contains whitespace or control characters")));
        }
        if let Some(rest) = entry.strip_prefix("*.").or_else(|| entry.strip_prefix('.')) {
            if rest.contains('*') || rest.contains(':') {
                return Err(HostProblem::from(format!(
                    "host entry {entry:?}: a wildcard entry takes no port and only one leading '*.'"
                )));
            }
            return Ok(HostRule::Suffix(ascii_domain(rest)?));
        }
        if entry.contains('*') {
            return Err(HostProblem::from(format!("host entry {entry:?}: only a leading '*.' wildcard is allowed")));
        }
        if let Some(rest) = entry.strip_prefix('[') {
            let (addr, tail) = rest.split_once(']').ok_or_else(|| format!("host entry {entry:?}: unclosed '['"))?;
            let ip: IpAddr =
                addr.parse().map_err(|_| format!("host entry {entry:?}: {addr:?} is not an IPv6 address"))?;
            // `[::ffff:127.0.0.1]` is 127.0.0.1: URLs are judged on the folded address.
            let ip = crate::ip::canonical(ip);
            let port = match tail {
                "" => None,
                t => Some(parse_port(entry, t.strip_prefix(':').unwrap_or(t))?),
            };
            return Ok(HostRule::Net { net: IpNet::from(ip), port });
        }
        if let Ok(net) = entry.parse::<IpNet>() {
            return Ok(HostRule::Net { net: canonical_net(net), port: None });
        }
        if let Ok(ip) = entry.parse::<IpAddr>() {
            return Ok(HostRule::Net { net: IpNet::from(crate::ip::canonical(ip)), port: None });
        }
        let (host, port) = match entry.rsplit_once(':') {
            Some((h, p)) => (h, Some(parse_port(entry, p)?)),
            None => (entry, None),
        };
        // Decide as URLs will: the WHATWG host parser reads `127.0.0.01`, `0x7f.1` and
        // `2130706433` as 127.0.0.1, so an entry written that way is that address, not a
        // domain name that could never match.
        if let Ok(url::Host::Ipv4(ip)) = url::Host::parse(host) {
            return Ok(HostRule::Net { net: IpNet::from(IpAddr::V4(ip)), port });
        }
        Ok(HostRule::Exact { host: ascii_domain(host)?, port })
    }

    /// Does this rule cover the (ASCII, normalised) domain?
    pub fn matches_domain(&self, domain: &str) -> bool {
        match self {
            HostRule::Exact { host, .. } => host == domain,
            HostRule::Suffix(suffix) => {
                domain == suffix
                    || (domain.len() > suffix.len()
                        && domain.ends_with(suffix.as_str())
                        && domain.as_bytes()[domain.len() - suffix.len() - 1] == b'.')
            }
            HostRule::Net { .. } => false,
        }
    }

    /// Does this rule cover the address?
    pub fn matches_ip(&self, ip: IpAddr) -> bool {
        match self {
            HostRule::Net { net, .. } => net.contains(&ip),
            _ => false,
        }
    }

    /// The extra port this rule grants, if any.
    pub fn port(&self) -> Option<u16> {
        match self {
            HostRule::Exact { port, .. } | HostRule::Net { port, .. } => *port,
            HostRule::Suffix(_) => None,
        }
    }
}

/// An IPv4-mapped IPv6 network (`::ffff:10.0.0.0/104`) written as its IPv4 network.
fn canonical_net(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(n) => match n.network().to_ipv4_mapped() {
            Some(v4) if n.prefix_len() >= 96 => {
                ipnet::Ipv4Net::new(v4, n.prefix_len() - 96).map(IpNet::V4).unwrap_or(IpNet::V6(n))
            }
            _ => IpNet::V6(n),
        },
        v4 => v4,
    }
}

fn parse_port(entry: &str, text: &str) -> Result<u16, HostProblem> {
    match text.parse::<u16>() {
        Ok(0) | Err(_) => Err(HostProblem::from(format!("host entry {entry:?}: port {text:?} is not in 1..=65535"))),
        Ok(p) => Ok(p),
    }
}

/// IDNA-maps a configured domain to the ASCII form URLs are compared in.
fn ascii_domain(text: &str) -> Result<String, HostProblem> {
    let ascii = idna::domain_to_ascii(text).map_err(|_| format!("host entry {text:?} is not a valid domain name"))?;
    let ascii = ascii.strip_suffix('.').unwrap_or(&ascii).to_string();
    check_domain_shape(&ascii)?;
    Ok(ascii)
}

/// Checks length and label rules on an ASCII domain (RFC 1035 sizes).
pub fn check_domain_shape(domain: &str) -> Result<(), HostProblem> {
    if domain.is_empty() {
        return Err(HostProblem::from("empty host name"));
    }
    if domain.len() > 253 {
        return Err(HostProblem::from(format!("host name is {} bytes (max 253)", domain.len())));
    }
    for label in domain.split('.') {
        if label.is_empty() {
            return Err(HostProblem::from(format!("host name {domain:?} has an empty label")));
        }
        if label.len() > 63 {
            return Err(HostProblem::from(format!(
                "host name {domain:?} has a label of {} bytes (max 63)",
                label.len()
            )));
        }
        if !label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_') {
            return Err(HostProblem::from(format!("host name {domain:?} has characters outside [a-z0-9-_]")));
        }
    }
    Ok(())
}

/// Names that never resolve to the public internet (RFC 6761, 6762, 8375, ICANN `.internal`).
const SPECIAL_USE_SUFFIXES: &[&str] =
    &["localhost", "local", "internal", "home.arpa", "invalid", "test", "onion", "lan"];

/// Returns the special-use suffix the domain falls under, if any.
pub fn special_use(domain: &str) -> Option<&'static str> {
    SPECIAL_USE_SUFFIXES.iter().copied().find(|suffix| {
        domain == *suffix
            || (domain.len() > suffix.len()
                && domain.ends_with(suffix)
                && domain.as_bytes()[domain.len() - suffix.len() - 1] == b'.')
    })
}

/// Characters that render as nothing (or reorder what follows: bidi controls) and so hide
/// differences between names.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}')
}

/// Homograph defence for punycode labels (Mozilla's "moderately restrictive" profile):
/// a label may use one script, or Latin with one other script that is not Cyrillic or
/// Greek, or the CJK combinations. Invisible characters and unassigned code points fail.
pub fn check_idn(domain: &str) -> Result<(), HostProblem> {
    for label in domain.split('.') {
        if !label.starts_with("xn--") {
            continue;
        }
        let (unicode, result) = idna::domain_to_unicode(label);
        if result.is_err() {
            return Err(HostProblem::from(format!("label {label:?} is not valid punycode")));
        }
        let mut scripts = BTreeSet::new();
        for c in unicode.chars() {
            if is_invisible(c) {
                return Err(HostProblem::from(format!(
                    "label {label:?} ({unicode}) hides an invisible character U+{:04X}",
                    c as u32
                )));
            }
            match c.script() {
                Script::Common | Script::Inherited => {}
                Script::Unknown => {
                    return Err(HostProblem::from(format!(
                        "label {label:?} ({unicode}) has an unassigned character U+{:04X}",
                        c as u32
                    )));
                }
                s => {
                    scripts.insert(s.full_name());
                }
            }
        }
        if !script_mix_allowed(&scripts) {
            let names: Vec<_> = scripts.into_iter().collect();
            return Err(HostProblem::from(format!(
                "label {label:?} ({unicode}) mixes scripts {} (possible homograph)",
                names.join("+")
            )));
        }
    }
    Ok(())
}

/// Whole-script confusables (UTS #39): a punycode label whose skeleton is plain ASCII
/// only looks like a Latin name (all-Cyrillic `аррӏе` is `apple` to the eye).
pub fn check_confusable(domain: &str) -> Result<(), HostProblem> {
    for label in domain.split('.').filter(|l| l.starts_with("xn--")) {
        let (unicode, result) = idna::domain_to_unicode(label);
        if result.is_err() {
            return Err(HostProblem::from(format!("label {label:?} is not valid punycode")));
        }
        let skeleton: String = unicode_security::skeleton(&unicode).collect::<String>().to_lowercase();
        if skeleton.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(HostProblem::from(format!(
                "label {label:?} ({unicode}) is confusable with the Latin name {skeleton:?}; allowlist it if it is really meant"
            )));
        }
    }
    Ok(())
}

fn script_mix_allowed(scripts: &BTreeSet<&'static str>) -> bool {
    if scripts.len() <= 1 {
        return true;
    }
    let others: BTreeSet<&str> = scripts.iter().copied().filter(|s| *s != "Latin").collect();
    let within = |allowed: &[&str]| others.iter().all(|s| allowed.contains(s));
    if within(&["Han", "Hiragana", "Katakana"]) || within(&["Han", "Bopomofo"]) || within(&["Han", "Hangul"]) {
        return true;
    }
    scripts.contains("Latin") && others.len() == 1 && !others.contains("Cyrillic") && !others.contains("Greek")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_entry_form() {
        assert_eq!(
            HostRule::parse("Purl.OBOLibrary.org.").unwrap(),
            HostRule::Exact { host: "purl.obolibrary.org".into(), port: None }
        );
        assert_eq!(
            HostRule::parse("mirror.example.org:8443").unwrap(),
            HostRule::Exact { host: "mirror.example.org".into(), port: Some(8443) }
        );
        assert_eq!(HostRule::parse("*.ebi.ac.uk").unwrap(), HostRule::Suffix("ebi.ac.uk".into()));
        assert_eq!(HostRule::parse(".ebi.ac.uk").unwrap(), HostRule::Suffix("ebi.ac.uk".into()));
        assert!(matches!(HostRule::parse("127.0.0.1:8080").unwrap(), HostRule::Net { port: Some(8080), .. }));
        assert!(matches!(HostRule::parse("[::1]:9000").unwrap(), HostRule::Net { port: Some(9000), .. }));
        assert!(matches!(HostRule::parse("10.0.0.0/8").unwrap(), HostRule::Net { port: None, .. }));
        for bad in [
            "",
            "api.*.example.com",
            "*example.com",
            "example.*",
            "*.x.org:80",
            "h:0",
            "h:99999",
            "[::1",
            "a b",
            "bad..name",
        ] {
            assert!(HostRule::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn suffix_rules_match_apex_and_subdomains_only() {
        let rule = HostRule::parse("*.example.org").unwrap();
        assert!(rule.matches_domain("example.org"));
        assert!(rule.matches_domain("a.b.example.org"));
        assert!(!rule.matches_domain("badexample.org"));
        assert!(!rule.matches_domain("example.org.evil.com"));
    }

    #[test]
    fn special_use_names_are_found_by_label() {
        assert_eq!(special_use("localhost"), Some("localhost"));
        assert_eq!(special_use("a.b.localhost"), Some("localhost"));
        assert_eq!(special_use("router.home.arpa"), Some("home.arpa"));
        assert_eq!(special_use("notlocalhost"), None);
        assert_eq!(special_use("purl.obolibrary.org"), None);
    }

    #[test]
    fn ip_entries_are_canonicalised_as_urls_read_them() {
        let lo = |e: &str| HostRule::parse(e).unwrap();
        let one: IpAddr = "127.0.0.1".parse().unwrap();
        for entry in ["127.0.0.01", "0x7f.1", "2130706433", "[::ffff:127.0.0.1]", "::ffff:127.0.0.1"] {
            assert!(lo(entry).matches_ip(one), "{entry} is 127.0.0.1");
        }
        assert_eq!(lo("0x7f.1:8080").port(), Some(8080));
        assert!(lo("::ffff:10.0.0.0/104").matches_ip("10.1.2.3".parse().unwrap()));
    }

    #[test]
    fn whole_script_confusables_are_refused() {
        let apple = idna::domain_to_ascii("аррӏе.com").unwrap();
        assert_eq!(apple, "xn--80ak6aa92e.com");
        assert!(check_confusable(&apple).unwrap_err().to_string().contains("apple"));
        for fine in ["müller.de", "日本語です.jp", "пример.рф", "purl.obolibrary.org"] {
            let ascii = idna::domain_to_ascii(fine).unwrap();
            assert!(check_confusable(&ascii).is_ok(), "{fine}");
        }
    }

    #[test]
    fn idn_mixed_scripts_are_refused_single_script_allowed() {
        let cyrillic_a = idna::domain_to_ascii("obolibrаry.org").unwrap();
        assert!(check_idn(&cyrillic_a).is_err());
        let german = idna::domain_to_ascii("müller.de").unwrap();
        assert!(check_idn(&german).is_ok());
        let japanese = idna::domain_to_ascii("日本語です.jp").unwrap();
        assert!(check_idn(&japanese).is_ok());
        let greek_latin = idna::domain_to_ascii("pαypal.com").unwrap();
        assert!(check_idn(&greek_latin).is_err());
    }
}
