//! `ontofetch policy check-url|check-path|codes`: the gates, asked directly.

use crate::output::emit;
use ontofetch_app::check::{self, Verdict};
use ontofetch_app::{AppError, Context, EXIT_OK, EXIT_REFUSED};
use ontofetch_policy::{Code, Gate};
use serde_json::{Value, json};
use std::path::Path;

/// Prints a verdict; exit 0 when allowed, 3 when refused.
fn print(ctx: &Context, v: &Verdict) -> u8 {
    emit(&ctx.options, v, || v.sentence());
    if v.allowed { EXIT_OK } else { EXIT_REFUSED }
}

/// `policy check-url`: the url gate, then (with `resolve`) DNS and the ip gate per address.
pub fn check_url(ctx: &mut Context, raw: &str, resolve: bool) -> Result<u8, AppError> {
    Ok(print(ctx, &check::url(&ctx.gates()?, raw, resolve)))
}

/// `policy check-path`: the filesystem gate, with symlink facts gathered by `lstat`.
pub fn check_path(ctx: &mut Context, raw: &str, root: &Path) -> Result<u8, AppError> {
    Ok(print(ctx, &check::path(&ctx.gates()?, raw, root)))
}

/// `policy codes`: every code the tool can emit, with its meaning, and each gate's codes.
pub fn codes(ctx: &Context) -> Result<(), AppError> {
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
    emit(&ctx.options, &json!({"codes": codes, "gates": gates}), || {
        Code::ALL
            .iter()
            .map(|c| format!("{:<24} {:<8} {}", c.as_str(), format!("{:?}", c.kind()).to_lowercase(), c.meaning()))
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}
