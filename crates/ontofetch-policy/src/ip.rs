//! The ip gate: every literal or resolved address is classified against an explicit
//! CIDR deny table (std's `is_global` is unstable), after unwrapping IPv4 carried in IPv6.

use crate::code::Code;
use crate::gate::{Gate, Refusal};
use crate::policy::NetPolicy;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

/// Why an address range is denied. `Documentation` is the only one a policy may lift.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeKind {
    /// Never reachable: unspecified, broadcast, multicast, reserved.
    Never,
    /// Loopback, private, link-local, CGNAT, ULA…: reachable only through an allowlist entry.
    Internal,
    /// IANA documentation ranges (denied unless the policy allows them).
    Documentation,
    /// IPv6 forms that tunnel IPv4 (NAT64, 6to4, Teredo): denied even if the IPv4 is public.
    Embedding,
}

/// One row of the deny table.
#[derive(Debug, Clone, Copy)]
pub struct DeniedRange {
    /// The network.
    pub net: IpNet,
    /// A human name used in refusal messages.
    pub name: &'static str,
    /// Its class.
    pub kind: RangeKind,
}

const TABLE: &[(&str, &str, RangeKind)] = &[
    // IPv4 (IANA special-purpose registry; safeurl's seed list)
    ("0.0.0.0/8", "\"this network\"/unspecified", RangeKind::Never),
    ("10.0.0.0/8", "private (RFC 1918)", RangeKind::Internal),
    ("100.64.0.0/10", "shared/CGNAT (RFC 6598)", RangeKind::Internal),
    ("127.0.0.0/8", "loopback", RangeKind::Internal),
    ("169.254.0.0/16", "link-local (cloud metadata)", RangeKind::Internal),
    ("172.16.0.0/12", "private (RFC 1918)", RangeKind::Internal),
    ("192.0.0.0/24", "IETF protocol assignments", RangeKind::Never),
    ("192.0.2.0/24", "documentation (TEST-NET-1)", RangeKind::Documentation),
    ("192.88.99.0/24", "6to4 relay anycast", RangeKind::Never),
    ("192.168.0.0/16", "private (RFC 1918)", RangeKind::Internal),
    ("198.18.0.0/15", "benchmarking (RFC 2544)", RangeKind::Never),
    ("198.51.100.0/24", "documentation (TEST-NET-2)", RangeKind::Documentation),
    ("203.0.113.0/24", "documentation (TEST-NET-3)", RangeKind::Documentation),
    ("224.0.0.0/4", "multicast", RangeKind::Never),
    ("255.255.255.255/32", "broadcast", RangeKind::Never),
    ("240.0.0.0/4", "reserved (class E)", RangeKind::Never),
    // IPv6
    ("::/128", "unspecified", RangeKind::Never),
    ("::1/128", "loopback", RangeKind::Internal),
    ("::/96", "IPv4-compatible (deprecated)", RangeKind::Never),
    ("64:ff9b::/96", "NAT64", RangeKind::Embedding),
    ("64:ff9b:1::/48", "local-use NAT64", RangeKind::Embedding),
    ("100::/64", "discard-only", RangeKind::Never),
    ("2001::/32", "Teredo", RangeKind::Embedding),
    ("2001:db8::/32", "documentation", RangeKind::Documentation),
    ("2001::/23", "IETF protocol assignments", RangeKind::Never),
    ("2002::/16", "6to4", RangeKind::Embedding),
    ("3fff::/20", "documentation (RFC 9637)", RangeKind::Documentation),
    ("5f00::/16", "SRv6 SIDs", RangeKind::Never),
    ("fc00::/7", "unique-local (ULA)", RangeKind::Internal),
    ("fe80::/10", "link-local", RangeKind::Internal),
    ("fec0::/10", "site-local (deprecated)", RangeKind::Internal),
    ("ff00::/8", "multicast", RangeKind::Never),
];

/// The deny table, most specific rows first where they nest.
pub fn deny_table() -> &'static [DeniedRange] {
    static CELL: OnceLock<Vec<DeniedRange>> = OnceLock::new();
    CELL.get_or_init(|| {
        TABLE
            .iter()
            .map(|(cidr, name, kind)| DeniedRange { net: cidr.parse().expect("deny table CIDR"), name, kind: *kind })
            .collect()
    })
}

/// Folds IPv4-mapped IPv6 (`::ffff:a.b.c.d`) to IPv4, so both spellings are judged alike.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// The IPv4 address an IPv6 tunnel form carries, for refusal messages.
fn embedded_v4(v6: Ipv6Addr, range: &str) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let o = v6.octets();
    match range {
        "NAT64" | "local-use NAT64" | "IPv4-compatible (deprecated)" => Some(Ipv4Addr::new(o[12], o[13], o[14], o[15])),
        "6to4" => Some(Ipv4Addr::new(o[2], o[3], o[4], o[5])),
        // Teredo stores the client address obfuscated (bit-inverted) in the last 32 bits.
        "Teredo" => Some(Ipv4Addr::from(!(((s[6] as u32) << 16) | s[7] as u32))),
        _ => None,
    }
}

/// Classifies an address: `None` when it is public, else the first deny-table row it hits.
/// IPv6 outside global unicast (2000::/3) that no row names is reported as reserved.
pub fn classify(ip: IpAddr) -> Option<DeniedRange> {
    let ip = canonical(ip);
    if let Some(row) = deny_table().iter().find(|r| r.net.contains(&ip)) {
        return Some(*row);
    }
    if let IpAddr::V6(v6) = ip
        && (v6.segments()[0] & 0xe000) != 0x2000
    {
        return Some(DeniedRange {
            net: IpNet::from(ip),
            name: "not global unicast (reserved IPv6)",
            kind: RangeKind::Never,
        });
    }
    None
}

/// Facts about one address for the ip gate.
#[derive(Debug, Clone, Copy)]
pub struct IpFacts<'a> {
    /// The address.
    pub ip: IpAddr,
    /// The host name it came from (for messages); `None` for literals.
    pub host: Option<&'a str>,
    /// The port the connection goes to (an allowlist entry with a port lifts the refusal
    /// only for that port); `None` when unknown, which no port-bound entry matches.
    pub port: Option<u16>,
    /// The url gate found the host in an allowlist that lets it reach internal ranges.
    pub host_allows_internal: bool,
}

/// The ip gate. An allowlist IP/CIDR entry lets an address through whatever its range,
/// but only on the entry's port when it names one; an allowlisted domain with
/// `allow_private_for_allowlist` may reach internal ranges; everything else must be public.
pub fn check_ip(policy: &NetPolicy, facts: &IpFacts<'_>) -> Result<(), Refusal> {
    let ip = canonical(facts.ip);
    let listed = |r: &crate::host::HostRule| {
        (r.matches_ip(ip) || r.matches_ip(facts.ip)) && r.port().is_none_or(|p| facts.port == Some(p))
    };
    if policy.allowed_hosts.iter().any(listed) {
        return Ok(());
    }
    let Some(row) = classify(ip) else {
        return Ok(());
    };
    let lifted = match row.kind {
        RangeKind::Documentation => policy.allow_documentation_ranges,
        RangeKind::Internal => facts.host_allows_internal,
        RangeKind::Never | RangeKind::Embedding => false,
    };
    if lifted {
        return Ok(());
    }
    let port = facts.port.map(|p| format!(" port {p}")).unwrap_or_default();
    let origin = match facts.host {
        Some(h) => format!("{h} resolved to {}{port}", facts.ip),
        None => format!("address {}{port}", facts.ip),
    };
    let carried = match facts.ip {
        IpAddr::V6(v6) => embedded_v4(v6, row.name).map(|v4| format!(" carrying IPv4 {v4}")).unwrap_or_default(),
        IpAddr::V4(_) => String::new(),
    };
    Err(Refusal::new(
        Gate::Ip,
        Code::PrivateIp,
        format!(
            "{origin} is in {} ({}){carried}; only an allowed_hosts entry for this IP/CIDR (and port) can reach it",
            row.name, row.net
        ),
    ))
}

/// The ip gate over a whole DNS answer: empty is `E_DNS`; one denied address denies all
/// (a mixed answer is how rebinding starts).
pub fn check_resolved(
    policy: &NetPolicy,
    host: &str,
    port: Option<u16>,
    addrs: &[IpAddr],
    host_allows_internal: bool,
) -> Result<(), Refusal> {
    if addrs.is_empty() {
        return Err(Refusal::new(Gate::Ip, Code::Dns, format!("{host} did not resolve to any address")));
    }
    for ip in addrs {
        check_ip(policy, &IpFacts { ip: *ip, host: Some(host), port, host_allows_internal })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::HostRule;

    fn deny(ip: &str) -> Option<Code> {
        check_ip(
            &NetPolicy::default(),
            &IpFacts { ip: ip.parse().unwrap(), host: None, port: None, host_allows_internal: false },
        )
        .err()
        .map(|r| r.code)
    }

    #[test]
    fn every_table_row_and_its_edges() {
        for row in deny_table() {
            let first = match row.net {
                IpNet::V4(n) => IpAddr::V4(n.network()),
                IpNet::V6(n) => IpAddr::V6(n.network()),
            };
            let last = match row.net {
                IpNet::V4(n) => IpAddr::V4(n.broadcast()),
                IpNet::V6(n) => IpAddr::V6(n.broadcast()),
            };
            assert!(classify(first).is_some(), "{} first", row.net);
            assert!(classify(last).is_some(), "{} last", row.net);
        }
    }

    #[test]
    fn cgnat_boundaries_follow_smokescreen() {
        assert_eq!(deny("100.64.0.1"), Some(Code::PrivateIp));
        assert_eq!(deny("100.127.255.254"), Some(Code::PrivateIp));
        assert_eq!(deny("100.63.255.254"), None);
        assert_eq!(deny("100.128.0.1"), None);
    }

    #[test]
    fn public_addresses_pass() {
        for ip in ["8.8.8.8", "1.1.1.1", "193.62.193.80", "2606:4700:4700::1111", "2a00:1450:4001::1", "::ffff:8.8.8.8"]
        {
            assert_eq!(deny(ip), None, "{ip}");
        }
    }

    #[test]
    fn embedded_ipv4_is_named_and_refused_even_when_public() {
        let r = check_ip(
            &NetPolicy::default(),
            &IpFacts { ip: "64:ff9b::808:808".parse().unwrap(), host: None, port: None, host_allows_internal: false },
        )
        .unwrap_err();
        assert!(r.message.contains("NAT64") && r.message.contains("8.8.8.8"), "{}", r.message);
        let r = check_ip(
            &NetPolicy::default(),
            &IpFacts { ip: "2002:a9fe:a9fe::1".parse().unwrap(), host: None, port: None, host_allows_internal: false },
        )
        .unwrap_err();
        assert!(r.message.contains("169.254.169.254"), "{}", r.message);
        let r = check_ip(
            &NetPolicy::default(),
            &IpFacts {
                ip: "2001:0:4136:e378:8000:63bf:3fff:fdd2".parse().unwrap(),
                host: None,
                port: None,
                host_allows_internal: false,
            },
        )
        .unwrap_err();
        assert!(r.message.contains("Teredo") && r.message.contains("192.0.2.45"), "{}", r.message);
    }

    #[test]
    fn allowlist_entries_lift_internal_ranges_only_where_named() {
        let policy = NetPolicy { allowed_hosts: vec![HostRule::parse("127.0.0.1").unwrap()], ..NetPolicy::default() };
        let facts =
            |ip: &str| IpFacts { ip: ip.parse().unwrap(), host: None, port: Some(443), host_allows_internal: false };
        assert!(check_ip(&policy, &facts("127.0.0.1")).is_ok());
        assert!(check_ip(&policy, &facts("::ffff:127.0.0.1")).is_ok(), "mapped form of an allowed IP");
        assert!(check_ip(&policy, &facts("127.0.0.2")).is_err());
        // a domain allowance reaches internal ranges but never multicast/embedding
        let dom = IpFacts {
            ip: "10.1.2.3".parse().unwrap(),
            host: Some("m.example.org"),
            port: None,
            host_allows_internal: true,
        };
        assert!(check_ip(&NetPolicy::default(), &dom).is_ok());
        let mc = IpFacts {
            ip: "224.0.0.1".parse().unwrap(),
            host: Some("m.example.org"),
            port: None,
            host_allows_internal: true,
        };
        assert!(check_ip(&NetPolicy::default(), &mc).is_err());
    }

    #[test]
    fn a_port_bound_entry_lifts_the_refusal_on_its_port_only() {
        let policy =
            NetPolicy { allowed_hosts: vec![HostRule::parse("127.0.0.1:28080").unwrap()], ..NetPolicy::default() };
        let at = |port: Option<u16>| IpFacts {
            ip: "127.0.0.1".parse().unwrap(),
            host: Some("mirror.example.com"),
            port,
            host_allows_internal: false,
        };
        assert!(check_ip(&policy, &at(Some(28080))).is_ok());
        assert_eq!(check_ip(&policy, &at(Some(9000))).unwrap_err().code, Code::PrivateIp);
        assert_eq!(check_ip(&policy, &at(None)).unwrap_err().code, Code::PrivateIp, "unknown port: not lifted");
        let any_port = NetPolicy { allowed_hosts: vec![HostRule::parse("127.0.0.1").unwrap()], ..NetPolicy::default() };
        assert!(check_ip(&any_port, &at(Some(9000))).is_ok(), "an entry without a port lifts it on every allowed port");
    }

    #[test]
    fn documentation_ranges_follow_policy() {
        assert_eq!(deny("192.0.2.1"), Some(Code::PrivateIp));
        let lenient = NetPolicy { allow_documentation_ranges: true, ..NetPolicy::default() };
        assert!(
            check_ip(
                &lenient,
                &IpFacts { ip: "192.0.2.1".parse().unwrap(), host: None, port: None, host_allows_internal: false }
            )
            .is_ok()
        );
    }

    #[test]
    fn resolved_sets_fail_on_any_bad_answer_or_none() {
        let p = NetPolicy::default();
        let public: IpAddr = "8.8.8.8".parse().unwrap();
        let private: IpAddr = "10.0.0.1".parse().unwrap();
        assert!(check_resolved(&p, "h.org", Some(443), &[public], false).is_ok());
        assert_eq!(
            check_resolved(&p, "h.org", Some(443), &[public, private], false).unwrap_err().code,
            Code::PrivateIp
        );
        assert_eq!(check_resolved(&p, "h.org", Some(443), &[], false).unwrap_err().code, Code::Dns);
    }
}
