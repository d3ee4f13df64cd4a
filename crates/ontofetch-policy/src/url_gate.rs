//! The url gate: parse once with the WHATWG parser reqwest uses, then decide on the parsed
//! `Host` (never on strings). The returned `Url` is the one to hand to the HTTP client.

use crate::code::Code;
use crate::gate::{Gate, Refusal};
use crate::host::{HostRule, check_confusable, check_domain_shape, check_idn, special_use};
use crate::ip::{IpFacts, check_ip};
use crate::policy::NetPolicy;
use std::net::IpAddr;
use url::{Host, Url};

/// The host a URL targets, after normalisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetHost {
    /// ASCII (punycode) domain, lower-case, no trailing dot: still needs DNS + ip gate.
    Domain(String),
    /// A literal address, already judged by the ip gate.
    Ip(IpAddr),
}

/// What the url gate lets through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlAllowed {
    /// The normalised URL (trailing dot stripped, http upgraded unless allowed).
    pub url: Url,
    /// The target host.
    pub host: TargetHost,
    /// The effective port.
    pub port: u16,
    /// The host matched an allowlist rule that lets its resolved addresses be internal.
    pub host_allows_internal: bool,
}

fn refuse(code: Code, message: String) -> Refusal {
    Refusal::new(Gate::Url, code, message)
}

/// The authority of an http(s) or scheme-relative URL as written, before the parser
/// drops what it considers empty (`https://:@host/` parses with no userinfo at all).
fn raw_authority(raw: &str) -> Option<&str> {
    let t = raw.trim_start();
    let rest = if t.starts_with("//") || t.starts_with("\\\\") {
        t
    } else {
        let (scheme, rest) = t.split_once(':')?;
        if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
            return None;
        }
        rest
    };
    let rest = rest.trim_start_matches(['/', '\\']);
    Some(rest.split(['/', '\\', '?', '#']).next().unwrap_or(""))
}

/// Refuses control characters, over-long input and any `@` in the authority (credentials,
/// even empty ones) before any parser sees them.
pub(crate) fn check_raw(policy: &NetPolicy, raw: &str) -> Result<(), Refusal> {
    if raw.len() > policy.max_url_len {
        return Err(refuse(Code::UrlInvalid, format!("URL is {} bytes (max {})", raw.len(), policy.max_url_len)));
    }
    if let Some(c) = raw.chars().find(|c| c.is_control()) {
        return Err(refuse(Code::UrlInvalid, format!("URL {raw:?} contains control character U+{:04X}", c as u32)));
    }
    if let Some(authority) = raw_authority(raw).filter(|a| a.contains('@')) {
        return Err(refuse(
            Code::Userinfo,
            format!(
                "URL authority {:?} carries credentials (an '@'); pass secrets in headers, never in URLs",
                // The credential itself is never repeated: only the host after the '@'.
                format!("***@{}", authority.rsplit('@').next().unwrap_or(""))
            ),
        ));
    }
    Ok(())
}

/// Maps a WHATWG parse failure to the code of what it is about (port, IDNA, scheme).
pub(crate) fn parse_error(raw: &str, e: url::ParseError) -> Refusal {
    let code = match e {
        url::ParseError::InvalidPort => Code::Port,
        url::ParseError::IdnaError => Code::Idn,
        url::ParseError::RelativeUrlWithoutBase => Code::Scheme,
        _ => Code::UrlInvalid,
    };
    refuse(code, format!("URL {raw:?} cannot be parsed: {e}"))
}

fn parse(raw: &str) -> Result<Url, Refusal> {
    Url::parse(raw).map_err(|e| parse_error(raw, e))
}

/// The url gate. See docs/architecture.md, "Network rules"; the order is scheme, userinfo, host
/// (shape, special-use, homograph, literal IP, allowlist), then port.
pub fn check_url(policy: &NetPolicy, raw: &str) -> Result<UrlAllowed, Refusal> {
    check_raw(policy, raw)?;
    let url = parse(raw)?;
    check_parsed(policy, url)
}

/// The url gate on an already parsed URL (used by the redirect gate after joining).
pub(crate) fn check_parsed(policy: &NetPolicy, mut url: Url) -> Result<UrlAllowed, Refusal> {
    let plain_http = match url.scheme() {
        "https" => false,
        "http" => true,
        other => {
            return Err(refuse(
                Code::Scheme,
                format!("scheme {other:?} in {url} is not allowed; only https (and http where allowed)"),
            ));
        }
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse(
            Code::Userinfo,
            format!(
                "URL with host {} carries credentials ({:?}); pass secrets in headers, never in URLs",
                url.host_str().unwrap_or(""),
                url.username()
            ),
        ));
    }
    let (host, rules, internal_ok, http_ok) = match url.host() {
        None => return Err(refuse(Code::HostDenied, format!("URL {url} has no host"))),
        Some(Host::Domain(d)) => domain_host(policy, d)?,
        Some(Host::Ipv4(v4)) => ip_host(policy, IpAddr::V4(v4))?,
        Some(Host::Ipv6(v6)) => ip_host(policy, IpAddr::V6(v6))?,
    };
    if let TargetHost::Domain(domain) = &host
        && url.host_str() != Some(domain.as_str())
    {
        url.set_host(Some(domain)).map_err(|e| refuse(Code::HostDenied, format!("host {domain}: {e}")))?;
    }
    if plain_http && !http_ok {
        // Upgrade rather than refuse: registries publish http:// PURLs that serve https.
        url.set_scheme("https").map_err(|_| refuse(Code::Scheme, format!("cannot upgrade {url} to https")))?;
    }
    let port = url.port_or_known_default().ok_or_else(|| refuse(Code::Port, format!("URL {url} has no port")))?;
    let ports = policy.ports_for(&rules);
    let port_ok = port != 0 && ports.contains(&port);
    let port_refusal = || {
        let list: Vec<String> = ports.iter().map(u16::to_string).collect();
        refuse(Code::Port, format!("port {port} of {url} is not allowed for this host ({})", list.join(", ")))
    };
    // An allowlisted host on a port its entries do not grant is a port problem; any other
    // literal address is judged by the ip gate first: a private target is E_PRIVATE_IP
    // whatever else is wrong with the URL.
    if !rules.is_empty() && !port_ok {
        return Err(port_refusal());
    }
    if let TargetHost::Ip(ip) = host {
        check_ip(policy, &IpFacts { ip, host: None, port: Some(port), host_allows_internal: false })
            .map_err(|r| r.under(Gate::Url))?;
        if !policy.allowed_hosts.is_empty() && rules.is_empty() {
            return Err(refuse(
                Code::HostDenied,
                format!("address {ip} is not in allowed_hosts{}", policy.allowlist_origin()),
            ));
        }
    }
    if !port_ok {
        return Err(port_refusal());
    }
    let internal = internal_ok && rules.iter().any(|r| r.port().is_none_or(|p| p == port));
    Ok(UrlAllowed { url, host, port, host_allows_internal: internal })
}

/// Every allowlist rule that covers the host: each may grant its own extra port.
fn matching_rules(policy: &NetPolicy, pred: impl Fn(&HostRule) -> bool) -> Vec<&HostRule> {
    policy.allowed_hosts.iter().filter(|r| pred(r)).collect()
}

type HostDecision<'p> = (TargetHost, Vec<&'p HostRule>, bool, bool);

fn domain_host<'p>(policy: &'p NetPolicy, d: &str) -> Result<HostDecision<'p>, Refusal> {
    let domain = d.strip_suffix('.').unwrap_or(d).to_string();
    check_domain_shape(&domain).map_err(|m| refuse(Code::HostDenied, m.to_string()))?;
    if let Some(suffix) = special_use(&domain) {
        return Err(refuse(
            Code::HostDenied,
            format!("host {domain} is a special-use name (.{suffix}) and never fetched"),
        ));
    }
    check_idn(&domain).map_err(|m| refuse(Code::Idn, format!("host {domain}: {m}")))?;
    let rules = matching_rules(policy, |r| r.matches_domain(&domain));
    if !policy.allowed_hosts.is_empty() && rules.is_empty() {
        return Err(refuse(
            Code::HostDenied,
            format!("host {domain} is not in allowed_hosts{}", policy.allowlist_origin()),
        ));
    }
    // A name that only looks like another (all-Cyrillic "аррӏе.com") is refused unless
    // the operator allowlisted it.
    if rules.is_empty() {
        check_confusable(&domain).map_err(|m| refuse(Code::Idn, format!("host {domain}: {m}")))?;
    }
    let matched = !rules.is_empty();
    let internal = matched && policy.allow_private_for_allowlist;
    let http = matched && policy.allow_plain_http_for_allowlist;
    Ok((TargetHost::Domain(domain), rules, internal, http))
}

/// A literal address: the allowlist entries that cover it (the ip gate and the allowlist
/// judge it once its port is known).
fn ip_host(policy: &NetPolicy, ip: IpAddr) -> Result<HostDecision<'_>, Refusal> {
    let canon = crate::ip::canonical(ip);
    let rules = matching_rules(policy, |r| r.matches_ip(ip) || r.matches_ip(canon));
    let matched = !rules.is_empty();
    Ok((TargetHost::Ip(canon), rules, matched, matched))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(policy: &NetPolicy, raw: &str) -> Option<Code> {
        check_url(policy, raw).err().map(|r| r.code)
    }

    #[test]
    fn http_is_upgraded_unless_allowed() {
        let ok = check_url(&NetPolicy::default(), "http://purl.obolibrary.org/obo/bfo.owl").unwrap();
        assert_eq!(ok.url.as_str(), "https://purl.obolibrary.org/obo/bfo.owl");
        assert_eq!(ok.port, 443);
        let loopback = NetPolicy {
            allowed_hosts: vec![HostRule::parse("127.0.0.1").unwrap()],
            extra_ports: vec![8080],
            ..NetPolicy::default()
        };
        let ok = check_url(&loopback, "http://127.0.0.1:8080/x").unwrap();
        assert_eq!(ok.url.as_str(), "http://127.0.0.1:8080/x", "IP allowlist entries may use http");
        let bound =
            NetPolicy { allowed_hosts: vec![HostRule::parse("127.0.0.1:28080").unwrap()], ..NetPolicy::default() };
        assert!(check_url(&bound, "http://127.0.0.1:28080/x").is_ok());
        // an entry with a port allows that host on that port only
        assert_eq!(code(&bound, "http://127.0.0.1/x"), Some(Code::Port));
        assert_eq!(code(&bound, "https://127.0.0.1/x"), Some(Code::Port));
        let public =
            NetPolicy { allowed_hosts: vec![HostRule::parse("8.8.8.8:8443").unwrap()], ..NetPolicy::default() };
        assert!(check_url(&public, "https://8.8.8.8:8443/").is_ok());
        assert_eq!(code(&public, "https://8.8.8.8/"), Some(Code::Port), "and allows that port only");
    }

    #[test]
    fn any_at_sign_in_the_authority_is_userinfo() {
        let p = NetPolicy::default();
        for raw in
            ["https://:@purl.obolibrary.org/obo/", "https://@purl.obolibrary.org/", "//u@x.org/", "HTTPS://a:b@x.org"]
        {
            assert_eq!(code(&p, raw), Some(Code::Userinfo), "{raw}");
        }
        assert!(check_url(&p, "https://purl.obolibrary.org/obo/a@b.owl").is_ok(), "an @ in the path is fine");
        assert!(check_url(&p, "https://purl.obolibrary.org/?q=a@b").is_ok(), "and in the query");
    }

    #[test]
    fn trailing_dot_and_case_are_normalised() {
        let ok = check_url(&NetPolicy::default(), "https://PURL.obolibrary.org./obo/").unwrap();
        assert_eq!(ok.host, TargetHost::Domain("purl.obolibrary.org".into()));
        assert_eq!(ok.url.as_str(), "https://purl.obolibrary.org/obo/");
    }

    #[test]
    fn allowlist_narrows_public_hosts() {
        let p = NetPolicy { allowed_hosts: vec![HostRule::parse("*.obolibrary.org").unwrap()], ..NetPolicy::default() };
        assert!(check_url(&p, "https://purl.obolibrary.org/obo/ro.owl").is_ok());
        assert_eq!(code(&p, "https://www.ebi.ac.uk/ols4/"), Some(Code::HostDenied));
        assert_eq!(code(&p, "https://8.8.8.8/"), Some(Code::HostDenied));
    }

    #[test]
    fn host_port_entries_add_ports_for_that_host_only() {
        let p = NetPolicy {
            allowed_hosts: vec![
                HostRule::parse("mirror.example.org:8443").unwrap(),
                HostRule::parse("other.example.org").unwrap(),
            ],
            ..NetPolicy::default()
        };
        assert!(check_url(&p, "https://mirror.example.org:8443/").is_ok());
        assert_eq!(code(&p, "https://other.example.org:8443/"), Some(Code::Port));
    }
}
