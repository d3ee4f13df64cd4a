//! `ontofetch registry show|search|update`.

use crate::cli::RegistryCommand;
use crate::output::emit;
use crate::render::safe;
use ontofetch_app::registry::{self, From};
use ontofetch_app::{AppError, Context};
use serde_json::json;

/// Dispatches one `registry` subcommand.
pub fn run(ctx: &Context, cmd: &RegistryCommand) -> Result<(), AppError> {
    match cmd {
        RegistryCommand::Show { ids } if ids.len() > 1 => {
            let shown = registry::show_many(ctx, ids)?;
            emit(&ctx.options, &json!({"count": shown.len(), "shown": shown}), || {
                shown.iter().map(describe).collect::<Vec<_>>().join("\n\n")
            });
            Ok(())
        }
        RegistryCommand::Show { ids } => {
            let shown = registry::show(ctx, &ids[0])?;
            emit(&ctx.options, &shown, || describe(&shown));
            Ok(())
        }
        RegistryCommand::Search { text, limit } => {
            let (source, hits) = registry::search(ctx, text, *limit)?;
            emit(&ctx.options, &json!({"snapshot": source, "count": hits.len(), "entries": hits}), || {
                hits.iter()
                    .map(|e| {
                        let lic = e.license.as_deref().unwrap_or("-");
                        format!("{:<18} {:<14} {}", safe(&e.prefix), safe(lic), safe(e.name.as_deref().unwrap_or("")))
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            Ok(())
        }
        RegistryCommand::Reset => {
            let removed = registry::reset(ctx)?;
            let path = registry::stored_path(ctx)?;
            emit(&ctx.options, &json!({"ok": true, "removed": removed, "path": path}), || {
                if removed {
                    format!("removed {}; the built-in snapshot answers again", path.display())
                } else {
                    "no snapshot in the data root; the built-in one already answers".into()
                }
            });
            Ok(())
        }
        RegistryCommand::Update { from, file, label } => {
            let source = match (file, from) {
                (Some(path), _) => registry::update(ctx, From::File(path), label.as_deref())?,
                (None, url) => {
                    registry::update(ctx, From::Url(url.as_deref().unwrap_or(registry::DEFAULT_URL)), label.as_deref())?
                }
            };
            let path = registry::stored_path(ctx)?;
            emit(&ctx.options, &json!({"ok": true, "snapshot": source, "path": path}), || {
                format!(
                    "{} prefixes from {} (sha256 {}) -> {}",
                    source.prefixes,
                    safe(&source.label),
                    source.sha256,
                    path.display()
                )
            });
            Ok(())
        }
    }
}

/// The human form of one `registry show` answer.
fn describe(shown: &registry::Shown) -> String {
    let e = &shown.entry;
    let mut out = format!("{} — {}\n", e.prefix, safe(e.name.as_deref().unwrap_or("(no name)")));
    let mut line = |k: &str, v: String| out.push_str(&format!("  {k:<11} {v}\n"));
    if let Some(key) = &e.bioregistry_prefix {
        line("bioregistry:", safe(key));
    }
    if let Some(p) = &e.preferred_prefix {
        line("preferred:", safe(p));
    }
    if !e.synonyms.is_empty() {
        line("synonyms:", safe(&e.synonyms.join(", ")));
    }
    let licence = match (&e.license, &e.license_source) {
        (Some(l), Some(from)) => format!("{} (from {})", safe(l), safe(from)),
        (Some(l), None) => safe(l),
        (None, _) => "unknown".into(),
    };
    line("licence:", licence);
    let verdict = match shown.license_policy.verdict {
        registry::LicenseVerdict::Accepted => "accepted",
        registry::LicenseVerdict::Warned => "warned",
        registry::LicenseVerdict::Refused => "refused",
    };
    line("policy:", format!("{verdict}: {}", safe(&shown.license_policy.why)));
    let foundry = match (e.obo_foundry, &e.obo_status, &e.obo_prefix) {
        (true, status, id) => format!(
            "yes{}{}",
            id.as_deref().map(|i| format!(", id {}", safe(i))).unwrap_or_default(),
            status.as_deref().map(|s| format!(" ({})", safe(s))).unwrap_or_default()
        ),
        _ => "no".into(),
    };
    line("foundry:", foundry);
    if e.deprecated {
        line("deprecated:", "yes (Bioregistry marks it deprecated or inactive)".into());
    }
    for (format, url) in &e.downloads {
        line(&format!("{format}:"), safe(url));
    }
    let target = shown.resolves_to.as_deref().map(safe).unwrap_or_else(|| "nothing to download".into());
    line("pull gets:", format!("{target} ({})", shown.route));
    line("snapshot:", safe(&shown.answered_by));
    out.trim_end().to_string()
}
