//! `ontofetch config show|validate|reference|schema`.

use crate::output::emit;
use ontofetch_app::AppError;
use ontofetch_app::Context;
use ontofetch_config::Origin;
use serde_json::json;

fn source_fields(origin: &Origin) -> (&'static str, Option<String>) {
    match origin {
        Origin::Builtin => ("builtin", None),
        Origin::File(p) => ("file", Some(p.display().to_string())),
    }
}

/// Prints the effective configuration and the resolved settings (directories, endpoints,
/// storage, logging), secrets masked unless `no_redact`.
pub fn show(ctx: &mut Context, no_redact: bool) -> Result<(), AppError> {
    let loaded = &ctx.settings()?.loaded;
    let doc = ontofetch_app::mirror::config_document(ctx, no_redact)?;
    emit(&ctx.options, &doc, || {
        let source = doc["path"].as_str().unwrap_or("built-in default");
        let mut out = format!("# source: {source} ({} ontologies)\n", loaded.config.ontologies.len());
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
pub fn validate(ctx: &mut Context) -> Result<(), AppError> {
    let loaded = &ctx.settings()?.loaded;
    let (source, path) = source_fields(&loaded.origin);
    let n = loaded.config.ontologies.len();
    emit(&ctx.options, &json!({"ok": true, "source": source, "path": path, "ontologies": n}), || {
        format!(
            "Configuration passed ({n} ontologies) -> {}",
            path.clone().unwrap_or_else(|| "built-in default".into())
        )
    });
    Ok(())
}

/// Prints docs/configuration.md (`--json`: `{"reference": markdown}`).
pub fn reference(ctx: &Context) -> Result<(), AppError> {
    let md = ontofetch_config::reference::markdown();
    emit(&ctx.options, &json!({"reference": md}), || md.trim_end().to_string());
    Ok(())
}

/// Prints the JSON Schema of `sources.yaml` (JSON whatever `--json` says).
pub fn schema() -> Result<(), AppError> {
    crate::output::print(
        &serde_json::to_string_pretty(&ontofetch_config::reference::json_schema()).unwrap_or_default(),
    );
    Ok(())
}
