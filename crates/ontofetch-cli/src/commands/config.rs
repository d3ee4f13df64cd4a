//! `ontofetch config show|validate|reference|schema`.

use crate::output::emit;
use ontofetch_app::report::Document;
use ontofetch_app::{AppError, Context};

/// Prints the effective configuration and the resolved settings (directories, endpoints,
/// storage, logging), secrets masked unless `no_redact`.
pub fn show(ctx: &mut Context, no_redact: bool) -> Result<(), AppError> {
    emit(&ctx.options, &ontofetch_app::config::show(ctx, no_redact)?);
    Ok(())
}

/// Validates the configuration; errors carry file, line and key.
pub fn validate(ctx: &mut Context) -> Result<(), AppError> {
    emit(&ctx.options, &ontofetch_app::config::validate(ctx)?);
    Ok(())
}

/// Prints docs/configuration.md (`--json`: `{"reference": markdown}`).
pub fn reference(ctx: &Context) -> Result<(), AppError> {
    let md = ontofetch_config::reference::markdown();
    emit(&ctx.options, &Document { doc: serde_json::json!({ "reference": md }), text: md.trim_end().to_string() });
    Ok(())
}

/// Prints the JSON Schema of `sources.yaml` (JSON whatever `--json` says).
pub fn schema() -> Result<(), AppError> {
    crate::output::print(
        &serde_json::to_string_pretty(&ontofetch_config::reference::json_schema()).unwrap_or_default(),
    );
    Ok(())
}
