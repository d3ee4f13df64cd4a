//! `ontofetch policy check-url|check-path|codes`: the gates, asked directly.

use crate::context::Context;
use crate::error::{CliError, EXIT_OK, EXIT_REFUSED};
use crate::output::emit;
use ontofetch_policy::filesystem::PathFacts;
use ontofetch_policy::ip::IpFacts;
use ontofetch_policy::{Code, Coded, Gate, PolicyError, TargetHost};
use serde_json::{Value, json};
use std::net::{IpAddr, ToSocketAddrs};
use std::path::Path;

/// A gate verdict as printed.
struct Verdict {
    allowed: bool,
    gate: Gate,
    code: Option<String>,
    reason: String,
    normalized_url: Option<String>,
    extra: Value,
}

impl Verdict {
    fn refused(e: &PolicyError, normalized_url: Option<String>, extra: Value) -> Self {
        let reason = match e {
            PolicyError::Refused(r) => r.message.clone(),
            PolicyError::GateFailed { reason, .. } => format!("gate failed to decide: {reason}"),
        };
        Verdict {
            allowed: false,
            gate: e.gate(),
            code: Some(e.code().as_str().to_string()),
            reason,
            normalized_url,
            extra,
        }
    }

    fn print(self, ctx: &Context) -> u8 {
        let mut doc = json!({
            "allowed": self.allowed,
            "gate": self.gate.as_str(),
            "code": self.code,
            "reason": self.reason,
            "normalized_url": self.normalized_url,
        });
        if let (Value::Object(d), Value::Object(x)) = (&mut doc, self.extra) {
            d.extend(x);
        }
        emit(&ctx.global, &doc, || {
            if self.allowed {
                format!("ALLOWED by {} gate: {}", self.gate, self.reason)
            } else {
                format!(
                    "REFUSED by {} gate ({}): {}",
                    self.gate,
                    self.code.clone().unwrap_or_else(|| "no code".into()),
                    self.reason
                )
            }
        });
        if self.allowed { EXIT_OK } else { EXIT_REFUSED }
    }
}

/// `policy check-url`: the url gate, then (with `resolve`) DNS and the ip gate per address.
pub fn check_url(ctx: &mut Context, raw: &str, resolve: bool) -> Result<u8, CliError> {
    let gates = ctx.gates()?;
    let allowed = match gates.url(raw) {
        Ok(a) => a,
        Err(e) => return Ok(Verdict::refused(&e, None, json!({})).print(ctx)),
    };
    let normalized = Some(allowed.url.to_string());
    if !resolve {
        let reason = match &allowed.host {
            TargetHost::Domain(d) => {
                format!("{} (host {d} not resolved; add --resolve to judge its DNS answers)", allowed.url)
            }
            TargetHost::Ip(ip) => {
                format!("{} (literal address {ip} passed the ip rules)", allowed.url)
            }
        };
        let v = Verdict {
            allowed: true,
            gate: Gate::Url,
            code: None,
            reason,
            normalized_url: normalized,
            extra: json!({}),
        };
        return Ok(v.print(ctx));
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
    // Every address goes through the ip gate (and is counted); one refusal refuses all.
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
        resolved.push(json!({"address": ip.to_string(), "allowed": verdict.is_ok(), "code": verdict.as_ref().err().map(|e| e.code())}));
        if let Err(e) = verdict {
            first_refusal.get_or_insert(e);
        }
    }
    if addrs.is_empty() {
        first_refusal = gates.resolved(&host, Some(allowed.port), &addrs, allowed.host_allows_internal).err();
    }
    let extra = json!({"resolved": resolved});
    let v = match first_refusal {
        None => Verdict {
            allowed: true,
            gate: Gate::Ip,
            code: None,
            reason: format!("{} resolves to {} allowed address(es)", allowed.url, addrs.len()),
            normalized_url: normalized,
            extra,
        },
        Some(e) => Verdict::refused(&e, normalized, extra),
    };
    Ok(v.print(ctx))
}

/// `policy check-path`: the filesystem gate, with symlink facts gathered by `lstat`.
pub fn check_path(ctx: &mut Context, raw: &str, root: &Path) -> Result<u8, CliError> {
    let gates = ctx.gates()?;
    let root_is_symlink = ontofetch_fsutil::is_symlink(root);
    let root = &ontofetch_fsutil::lexical(root);
    let relative =
        Path::new(raw).strip_prefix(root).map(|p| p.to_string_lossy().into_owned()).unwrap_or_else(|_| raw.to_string());
    let symlinked = match ontofetch_policy::path::normalize(&gates.policy.paths, &relative) {
        Ok(safe) => ontofetch_fsutil::symlinked_prefixes(root, safe.components()),
        Err(_) => vec![],
    };
    let facts = PathFacts { root, candidate: raw, root_is_symlink, symlinked_prefixes: &symlinked };
    let v = match gates.path(&facts) {
        Ok(safe) => Verdict {
            allowed: true,
            gate: Gate::Filesystem,
            code: None,
            reason: format!("{} stays under {}", safe, root.display()),
            normalized_url: None,
            extra: json!({"normalized_path": safe.as_slash_path(), "absolute_path": root.join(safe.as_slash_path())}),
        },
        Err(e) => Verdict::refused(&e, None, json!({})),
    };
    Ok(v.print(ctx))
}

/// `policy codes`: every code the tool can emit, with its meaning, and each gate's codes.
pub fn codes(ctx: &Context) -> Result<(), CliError> {
    let codes: Vec<Value> = Code::ALL
        .iter()
        .map(|c| {
            let gates: Vec<&str> = Gate::ALL.iter().filter(|g| g.codes().contains(c)).map(|g| g.as_str()).collect();
            json!({"code": c, "kind": c.kind(), "gates": gates, "meaning": c.meaning()})
        })
        .collect();
    let gates: Vec<Value> = Gate::ALL
        .iter()
        .map(|g| json!({"gate": g.as_str(), "codes": g.codes().iter().map(|c| c.as_str()).collect::<Vec<_>>()}))
        .collect();
    emit(&ctx.global, &json!({"codes": codes, "gates": gates}), || {
        Code::ALL
            .iter()
            .map(|c| format!("{:<24} {:<8} {}", c.as_str(), format!("{:?}", c.kind()).to_lowercase(), c.meaning()))
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}
