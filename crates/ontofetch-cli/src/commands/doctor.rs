//! `ontofetch doctor [--fix] [--verify]`: the checks' use case, a progress bar while
//! `--verify` re-hashes.

use crate::output::emit;
use ontofetch_app::{AppError, Context};

/// Runs every check; fails (exit 1) when any check is not ok.
pub fn run(ctx: &mut Context, fix: bool, verify: bool) -> Result<(), AppError> {
    let bar = crate::progress::bytes_bar(verify && !ctx.options.json, "verifying");
    let progress = |done: u64, total: u64| {
        if let Some(b) = &bar {
            b.set_length(total);
            b.set_position(done);
        }
    };
    let mode = ontofetch_pipeline::doctor::Mode { fix, verify };
    let report = ctx.block_on(ontofetch_app::doctor::run(ctx, mode, &progress));
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    emit(&ctx.options, &report);
    report.outcome()
}
