//! `ontofetch config show|validate`.

use crate::context::Context;
use crate::error::CliError;
use crate::output::emit;
use ontofetch_config::Origin;
use ontofetch_config::redact::redact;
use serde_json::json;

fn source_fields(origin: &Origin) -> (&'static str, Option<String>) {
    match origin {
        Origin::Builtin => ("builtin", None),
        Origin::File(p) => ("file", Some(p.display().to_string())),
    }
}

/// Prints the effective configuration and the resolved settings (directories, endpoints,
/// storage, logging), secrets masked unless `no_redact`.
pub fn show(ctx: &mut Context, no_redact: bool) -> Result<(), CliError> {
    let s = ctx.settings()?;
    let loaded = &s.loaded;
    let mut config = serde_json::to_value(&loaded.config).expect("config serialises");
    let masked = if no_redact { 0 } else { redact(&mut config) };
    let (source, path) = source_fields(&loaded.origin);
    let settings = json!({
        "dirs": s.dirs,
        "endpoints": s.endpoints,
        "storage": {
            "catalog_url": ontofetch_catalog::redact(&ontofetch_pipeline::backends::catalog_url(s)),
            "store_url": ontofetch_pipeline::backends::store_url(s),
            "worker_id": s.storage.worker_id,
            "s3": s.storage.s3,
        },
        "logging": s.logging,
        "secrets": s.secrets,
        "user_agent": s.user_agent,
    });
    let doc = json!({
        "ok": true,
        "source": source,
        "path": path,
        "spec_count": loaded.config.ontologies.len(),
        "env_overrides": loaded.env_overrides,
        "cli_overrides": loaded.cli_overrides,
        "redacted": !no_redact,
        "masked_values": masked,
        "settings": settings,
        "config": config,
    });
    emit(&ctx.global, &doc, || {
        let mut out = format!(
            "# source: {} ({} ontologies)\n",
            path.clone().unwrap_or_else(|| "built-in default".into()),
            loaded.config.ontologies.len()
        );
        for (var, key) in &loaded.env_overrides {
            out.push_str(&format!("# {key} set by {var}\n"));
        }
        for key in &loaded.cli_overrides {
            out.push_str(&format!("# {key} set by a command-line flag\n"));
        }
        out.push_str(
            &serde_norway::to_string(&json!({"settings": doc["settings"], "config": doc["config"]}))
                .unwrap_or_default(),
        );
        out
    });
    Ok(())
}

/// Validates the configuration; errors carry file, line and key.
pub fn validate(ctx: &mut Context) -> Result<(), CliError> {
    let loaded = &ctx.settings()?.loaded;
    let (source, path) = source_fields(&loaded.origin);
    let n = loaded.config.ontologies.len();
    emit(&ctx.global, &json!({"ok": true, "source": source, "path": path, "ontologies": n}), || {
        format!(
            "Configuration passed ({n} ontologies) -> {}",
            path.clone().unwrap_or_else(|| "built-in default".into())
        )
    });
    Ok(())
}
