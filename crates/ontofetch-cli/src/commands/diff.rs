//! `ontofetch diff ID [OLD] [NEW]`: what changed between two stored versions.

use crate::output::emit;
use ontofetch_app::AppError;
use ontofetch_app::Context;
use ontofetch_policy::Code;
use std::fmt::Write;

/// `ontofetch diff`.
pub fn run(ctx: &mut Context, id: &str, old: Option<&str>, new: Option<&str>, limit: usize) -> Result<(), AppError> {
    ontofetch_policy::config_gate::check_ontology_id("id", id).map_err(|r| AppError::usage(r.message))?;
    let d = ctx.block_on(async {
        let p = ctx.pipeline(false).await?;
        let id = &ontofetch_app::mirror::stored_id(ctx, &p.backends, id).await.map_err(|e| match e.code {
            Code::NotFound => AppError::usage(e.message),
            _ => e,
        })?;
        ontofetch_pipeline::diff::versions(&p, id, old, new, limit).await.map_err(|e| match e.code {
            Code::NotFound | Code::Usage => AppError::usage(e.message),
            _ => e.into(),
        })
    })?;
    emit(&ctx.options, &serde_json::to_value(&d).expect("diffs serialise"), || {
        let mut out = format!("{id}: {} → {} ({} → {} terms)\n", d.old, d.new, d.diff.terms_old, d.diff.terms_new);
        for kind in ontofetch_validate::terms::CHANGE_KINDS {
            let n = d.diff.counts.get(*kind).copied().unwrap_or(0);
            let _ = writeln!(out, "  {kind:<20} {n:>8}");
            for c in d.diff.changes.get(*kind).into_iter().flatten() {
                use crate::render::safe;
                let label = c.label.as_deref().map(|l| format!(" ({})", safe(l))).unwrap_or_default();
                let change = match (&c.before, &c.after) {
                    (None, None) => String::new(),
                    (b, a) => {
                        format!(": {} → {}", safe(b.as_deref().unwrap_or("∅")), safe(a.as_deref().unwrap_or("∅")))
                    }
                };
                let _ = writeln!(out, "      {}{label}{change}", safe(&c.id));
            }
        }
        out
    });
    Ok(())
}
