//! The gates asked directly (`policy check-url`, `policy check-path`, Python's
//! `check_url`): one verdict type, rendered by each front end as JSON or a sentence.

use ontofetch_policy::filesystem::PathFacts;
use ontofetch_policy::ip::IpFacts;
use ontofetch_policy::{Code, Coded, Gate, Gates, PolicyError, TargetHost};
use serde::{Serialize, Serializer};
use std::net::{IpAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

/// One address a host resolved to, with the ip gate's decision.
#[derive(Debug, Clone, Serialize)]
pub struct Resolved {
    /// The address.
    pub address: IpAddr,
    /// Whether the ip gate let it through.
    pub allowed: bool,
    /// The refusal's code.
    pub code: Option<Code>,
}

fn gate_name<S: Serializer>(gate: &Gate, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(gate.as_str())
}

/// A gate's decision, as printed.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// Let through.
    pub allowed: bool,
    /// The gate that decided.
    #[serde(serialize_with = "gate_name")]
    pub gate: Gate,
    /// The refusal's code.
    pub code: Option<Code>,
    /// Why, in a sentence.
    pub reason: String,
    /// The URL as the gate normalised it.
    pub normalized_url: Option<String>,
    /// With `--resolve`: every address and its decision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<Vec<Resolved>>,
    /// For a path: the path the gate normalised.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub normalized_path: Option<String>,
    /// For a path: where it lands under the root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub absolute_path: Option<PathBuf>,
}

impl Verdict {
    fn allowed(gate: Gate, reason: String, normalized_url: Option<String>) -> Verdict {
        Verdict {
            allowed: true,
            gate,
            code: None,
            reason,
            normalized_url,
            resolved: None,
            normalized_path: None,
            absolute_path: None,
        }
    }

    fn refused(e: &PolicyError, normalized_url: Option<String>) -> Verdict {
        let reason = match e {
            PolicyError::Refused(r) => r.message.clone(),
            PolicyError::GateFailed { reason, .. } => format!("gate failed to decide: {reason}"),
        };
        Verdict {
            allowed: false,
            gate: e.gate(),
            code: Some(e.code()),
            ..Verdict::allowed(e.gate(), reason, normalized_url)
        }
    }

    /// The sentence a person reads.
    pub fn sentence(&self) -> String {
        match self.code {
            None => format!("ALLOWED by {} gate: {}", self.gate, self.reason),
            Some(code) => format!("REFUSED by {} gate ({code}): {}", self.gate, self.reason),
        }
    }
}

/// The url gate on `raw`; with `resolve`, DNS and the ip gate on every address (one
/// refusal refuses all).
pub fn url(gates: &Gates<'_>, raw: &str, resolve: bool) -> Verdict {
    let allowed = match gates.url(raw) {
        Ok(a) => a,
        Err(e) => return Verdict::refused(&e, None),
    };
    let normalized = Some(allowed.url.to_string());
    if !resolve {
        let reason = match &allowed.host {
            TargetHost::Domain(d) => {
                format!("{} (host {d} not resolved; add --resolve to judge its DNS answers)", allowed.url)
            }
            TargetHost::Ip(ip) => format!("{} (literal address {ip} passed the ip rules)", allowed.url),
        };
        return Verdict::allowed(Gate::Url, reason, normalized);
    }
    let (host, addrs): (String, Vec<IpAddr>) = match &allowed.host {
        TargetHost::Ip(ip) => (ip.to_string(), vec![*ip]),
        TargetHost::Domain(d) => {
            let addrs = (d.as_str(), allowed.port)
                .to_socket_addrs()
                .map(|it| it.map(|sa| sa.ip()).collect())
                .unwrap_or_default();
            (d.clone(), addrs)
        }
    };
    // Every address goes through the ip gate (and is counted).
    let mut first_refusal = None;
    let mut resolved = Vec::new();
    for ip in &addrs {
        let facts = IpFacts {
            ip: *ip,
            host: Some(&host),
            port: Some(allowed.port),
            host_allows_internal: allowed.host_allows_internal,
        };
        let verdict = gates.ip(&facts);
        resolved.push(Resolved {
            address: *ip,
            allowed: verdict.is_ok(),
            code: verdict.as_ref().err().map(|e| e.code()),
        });
        if let Err(e) = verdict {
            first_refusal.get_or_insert(e);
        }
    }
    if addrs.is_empty() {
        first_refusal = gates.resolved(&host, Some(allowed.port), &addrs, allowed.host_allows_internal).err();
    }
    let mut v = match first_refusal {
        None => Verdict::allowed(
            Gate::Ip,
            format!("{} resolves to {} allowed address(es)", allowed.url, addrs.len()),
            normalized,
        ),
        Some(e) => Verdict::refused(&e, normalized),
    };
    v.resolved = Some(resolved);
    v
}

/// The filesystem gate on `raw` under `root`, with symlink facts gathered by `lstat`.
pub fn path(gates: &Gates<'_>, raw: &str, root: &Path) -> Verdict {
    let root_is_symlink = ontofetch_fsutil::is_symlink(root);
    let root = &ontofetch_fsutil::lexical(root);
    let relative =
        Path::new(raw).strip_prefix(root).map(|p| p.to_string_lossy().into_owned()).unwrap_or_else(|_| raw.to_string());
    let symlinked = match ontofetch_policy::path::normalize(&gates.policy.paths, &relative) {
        Ok(safe) => ontofetch_fsutil::symlinked_prefixes(root, safe.components()),
        Err(_) => vec![],
    };
    let facts = PathFacts { root, candidate: raw, root_is_symlink, symlinked_prefixes: &symlinked };
    match gates.path(&facts) {
        Ok(safe) => Verdict {
            normalized_path: Some(safe.as_slash_path()),
            absolute_path: Some(root.join(safe.as_slash_path())),
            ..Verdict::allowed(Gate::Filesystem, format!("{} stays under {}", safe, root.display()), None)
        },
        Err(e) => Verdict::refused(&e, None),
    }
}

impl crate::report::Report for Verdict {
    fn human(&self) -> String {
        self.sentence()
    }
}

/// One stable code, for `policy codes`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CodeDoc {
    /// The code.
    pub code: ontofetch_policy::Code,
    /// Refusal or runtime failure.
    pub kind: ontofetch_policy::CodeKind,
    /// The gates that refuse with it.
    pub gates: Vec<&'static str>,
    /// What it means.
    pub meaning: &'static str,
}

/// One gate and its codes.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GateDoc {
    /// The gate.
    pub gate: &'static str,
    /// Its codes.
    pub codes: Vec<&'static str>,
}

/// `policy codes`: every code the tool can emit, with its meaning, and each gate's codes.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Codes {
    /// Every code.
    pub codes: Vec<CodeDoc>,
    /// Every gate.
    pub gates: Vec<GateDoc>,
}

impl crate::report::Report for Codes {
    fn human(&self) -> String {
        let line = |c: &CodeDoc| {
            format!("{:<24} {:<8} {}", c.code.as_str(), format!("{:?}", c.kind).to_lowercase(), c.meaning)
        };
        self.codes.iter().map(line).collect::<Vec<_>>().join("\n")
    }
}

/// The code registry and the gates' codes.
pub fn codes() -> Codes {
    use ontofetch_policy::{Code, Gate};
    let codes = Code::ALL
        .iter()
        .map(|c| CodeDoc {
            code: *c,
            kind: c.kind(),
            gates: Gate::ALL.iter().filter(|g| g.codes().contains(c)).map(|g| g.as_str()).collect(),
            meaning: c.meaning(),
        })
        .collect();
    let gates = Gate::ALL
        .iter()
        .map(|g| GateDoc { gate: g.as_str(), codes: g.codes().iter().map(|c| c.as_str()).collect() })
        .collect();
    Codes { codes, gates }
}
