//! `ontofetch policy check-url|check-path|codes`: the gates, asked directly.

use crate::output::emit;
use ontofetch_app::check::{self, Verdict};
use ontofetch_app::{AppError, Context, EXIT_OK, EXIT_REFUSED};
use std::path::Path;

/// Prints a verdict; exit 0 when allowed, 3 when refused.
fn print(ctx: &Context, v: &Verdict) -> u8 {
    emit(&ctx.options, v);
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
