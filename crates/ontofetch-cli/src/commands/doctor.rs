//! `ontofetch doctor [--fix]`: the checks live in the pipeline; this renders them.

use crate::output::emit;
use ontofetch_app::AppError;
use ontofetch_app::Context;
use ontofetch_policy::{Gates, Policy};

/// Runs every check; fails (exit 1) when any check is not ok.
pub fn run(ctx: &mut Context, fix: bool, verify: bool) -> Result<(), AppError> {
    let fallback = Policy::default();
    let settings = ctx.settings_result();
    let policy = settings.map(|s| &s.loaded.policy).unwrap_or(&fallback);
    let gates = Gates::new(policy, ctx.metrics.as_ref());
    let bar = crate::progress::bytes_bar(verify && !ctx.options.json, "verifying");
    let progress = |done: u64, total: u64| {
        if let Some(b) = &bar {
            b.set_length(total);
            b.set_position(done);
        }
    };
    let mode = ontofetch_pipeline::doctor::Mode { fix, verify };
    let report = ctx.block_on(ontofetch_pipeline::doctor::run(&ctx.dirs, settings, gates, mode, &progress));
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let doc = &report.doc;
    emit(&ctx.options, doc, || {
        let mut out = format!(
            "ontofetch {} doctor\ndata root: {}\n",
            env!("CARGO_PKG_VERSION"),
            crate::render::safe(&ctx.dirs.root.display().to_string())
        );
        if let Some(free) = doc["disk"]["free_bytes"].as_u64() {
            out.push_str(&format!("disk free: {:.1} GB\n", free as f64 / 1e9));
        }
        let config = if doc["config"]["ok"] == true {
            format!("ok ({} ontologies)", doc["config"]["ontologies"])
        } else {
            "INVALID".into()
        };
        out.push_str(&format!("config: {config}\n"));
        let tests = doc["gate_self_test"].as_array().cloned().unwrap_or_default();
        let refused = tests.iter().filter(|t| t["refused"] == true).count();
        out.push_str(&format!("gate self-test: {refused}/{} SSRF probes refused\n", tests.len()));
        let integrity = &doc["store"]["integrity"];
        if let Some(n) = integrity["artifacts"].as_u64() {
            let how = if integrity["verified"] == true {
                format!("sizes and SHA-256 of {} bytes", integrity["bytes_hashed"])
            } else {
                "sizes (--verify re-hashes them)".to_string()
            };
            out.push_str(&format!("store: {} versions, {n} artifacts checked: {how}\n", integrity["versions"]));
        }
        for (key, label) in [("fixes", "fixed"), ("notes", "note"), ("problems", "problem")] {
            for line in doc[key].as_array().into_iter().flatten() {
                // Names in findings come from the data root, where anyone with write access
                // may plant them: escaped, so none can forge a line or move the cursor.
                out.push_str(&format!("{label}: {}\n", crate::render::safe(line.as_str().unwrap_or(""))));
            }
        }
        out.push_str(if report.problems.is_empty() { "OK" } else { "NOT OK" });
        out
    });
    if report.problems.is_empty() {
        Ok(())
    } else {
        Err(AppError::check_failed(format!("doctor found {} problem(s)", report.problems.len())))
    }
}
