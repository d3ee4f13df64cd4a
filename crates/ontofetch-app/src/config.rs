//! `config show|validate`, for every front end: the effective configuration with the
//! resolved settings (secrets masked unless asked), and whether it passed the gates.

use crate::context::Context;
use crate::error::AppError;
use crate::report::{Document, Report};
use ontofetch_config::Origin;
use serde::Serialize;
use serde_json::json;

/// The effective configuration and the resolved settings, secrets masked unless
/// `no_redact`; its text is the YAML a person would write, headed by where each value
/// came from.
pub fn show(ctx: &Context, no_redact: bool) -> Result<Document, AppError> {
    let loaded = &ctx.settings()?.loaded;
    let doc = crate::mirror::config_document(ctx, no_redact)?;
    let source = doc["path"].as_str().unwrap_or("built-in default");
    let mut text = format!("# source: {source} ({} ontologies)\n", loaded.config.ontologies.len());
    for (var, key) in &loaded.env_overrides {
        text.push_str(&format!("# {key} set by {var}\n"));
    }
    for key in &loaded.cli_overrides {
        text.push_str(&format!("# {key} set by a command-line flag\n"));
    }
    text.push_str(
        &serde_norway::to_string(&json!({"settings": doc["settings"], "config": doc["config"]})).unwrap_or_default(),
    );
    Ok(Document { doc, text })
}

/// A configuration that passed.
#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    /// Always true (a configuration that fails is an error).
    pub ok: bool,
    /// `builtin` or `file`.
    pub source: &'static str,
    /// The file, when there is one.
    pub path: Option<String>,
    /// How many ontologies it configures.
    pub ontologies: usize,
}

impl Report for Checked {
    fn human(&self) -> String {
        let from = self.path.clone().unwrap_or_else(|| "built-in default".into());
        format!("Configuration passed ({} ontologies) -> {from}", self.ontologies)
    }
}

/// Loads the configuration through every gate; errors carry file, line and key.
pub fn validate(ctx: &Context) -> Result<Checked, AppError> {
    let loaded = &ctx.settings()?.loaded;
    let (source, path) = match &loaded.origin {
        Origin::Builtin => ("builtin", None),
        Origin::File(p) => ("file", Some(p.display().to_string())),
    };
    Ok(Checked { ok: true, source, path, ontologies: loaded.config.ontologies.len() })
}
