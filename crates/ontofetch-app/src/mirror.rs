//! Reading the mirror from either front end: `show`, `db …` and Python's `show` open the
//! existing catalog and store and find a version the same way.

use crate::context::Context;
use crate::error::AppError;
use ontofetch_catalog::Catalog;
use ontofetch_pipeline::{Backends, Open};
use ontofetch_policy::Code;

/// Refuses an id the config gate refuses (a path, a traversal) before any lookup.
pub fn check_id(id: &str) -> Result<(), AppError> {
    ontofetch_policy::config_gate::check_ontology_id("id", id).map_err(|r| AppError::usage(r.message))
}

/// The existing catalog and store (a usage error with a hint when there is no catalog yet:
/// the command was run before anything was pulled).
pub async fn open(ctx: &Context) -> Result<Backends, AppError> {
    let settings = ctx.settings()?;
    Backends::find(settings, Open::Existing)
        .await?
        .ok_or_else(|| AppError::usage(ontofetch_pipeline::backends::no_catalog_yet(settings)))
}

/// `version`, or the latest by download time; `E_NOT_FOUND` when nothing is stored.
pub async fn version_or_latest(cat: &dyn Catalog, id: &str, version: Option<&str>) -> Result<String, AppError> {
    match version {
        Some(v) => Ok(v.to_string()),
        None => cat
            .latest(id)
            .await?
            .map(|r| r.version)
            .ok_or_else(|| AppError::new(Code::NotFound, format!("{id} has no stored version"))),
    }
}

/// The manifest of the latest version of `id` (the newest when none validated yet), with
/// its import closure (`import_closure`, what each import became) when it has one;
/// `E_NOT_FOUND` when nothing is stored.
pub async fn latest_manifest(ctx: &Context, id: &str) -> Result<serde_json::Value, AppError> {
    check_id(id)?;
    let b = open(ctx).await.map_err(|e| match e.code {
        Code::Usage => AppError::new(Code::NotFound, format!("{id}: nothing stored yet ({})", e.message)),
        _ => e,
    })?;
    let id = &stored_id(ctx, &b, id).await?;
    // No version validated yet: the newest one (failed, kept for inspection) is what the
    // user needs to see, and its manifest says why it is not latest.
    let row = match b.catalog.latest(id).await? {
        Some(row) => row,
        None => b
            .catalog
            .newest(id)
            .await?
            .ok_or_else(|| AppError::new(Code::NotFound, format!("{id} has no stored version")))?,
    };
    let mut manifest = b.manifest(&ctx.gates()?, &row).await?;
    let edges = b.catalog.imports(id, &row.version).await?;
    if !edges.is_empty() {
        manifest["import_closure"] = serde_json::to_value(&edges).unwrap_or_default();
    }
    if let Some(index) = b.catalog.log_index(id, &row.version).await? {
        manifest["log_index"] = index.into();
    }
    Ok(manifest)
}

/// The id as the mirror stores it: itself when stored; else the one stored ontology the
/// registry says it names (`HP`, `HPO` → `hp`) or that differs from it only by case; else
/// `E_NOT_FOUND` naming the closest stored ids ("did you mean").
pub async fn stored_id(ctx: &Context, b: &Backends, id: &str) -> Result<String, AppError> {
    if b.catalog.newest(id).await?.is_some() {
        return Ok(id.to_string());
    }
    let mut stored: Vec<String> = b.catalog.versions(None, u32::MAX).await?.into_iter().map(|r| r.ontology).collect();
    stored.sort();
    stored.dedup();
    let registry = crate::registry::load(ctx)?;
    let named = registry.lookup(id).map(|e| e.prefix.as_str());
    let same = |s: &str| {
        s.eq_ignore_ascii_case(id) || (named.is_some() && registry.lookup(s).map(|e| e.prefix.as_str()) == named)
    };
    let hits: Vec<&String> = stored.iter().filter(|s| same(s)).collect();
    match hits.as_slice() {
        [one] => Ok((*one).clone()),
        [] => {
            let mut close: Vec<(f64, &String)> =
                stored.iter().map(|s| (strsim::jaro_winkler(&id.to_lowercase(), &s.to_lowercase()), s)).collect();
            close.retain(|(score, _)| *score > 0.8);
            close.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
            let hint = match close.iter().take(3).map(|(_, s)| s.as_str()).collect::<Vec<_>>() {
                names if names.is_empty() => String::new(),
                names => format!("; did you mean {}?", names.join(", ")),
            };
            Err(AppError::new(
                Code::NotFound,
                format!("{id} is not in the mirror{hint} (`ontofetch db latest` lists what is stored)"),
            ))
        }
        many => Err(AppError::usage(format!(
            "{id} names {} stored ontologies ({}): give one exactly",
            many.len(),
            many.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// The effective configuration and the resolved settings as `config show` prints them,
/// secrets masked unless `no_redact`.
pub fn config_document(ctx: &Context, no_redact: bool) -> Result<serde_json::Value, AppError> {
    let s = ctx.settings()?;
    let loaded = &s.loaded;
    let mut config = serde_json::to_value(&loaded.config).unwrap_or_default();
    let masked = if no_redact { 0 } else { ontofetch_config::redact::redact(&mut config) };
    let (source, path) = match &loaded.origin {
        ontofetch_config::Origin::Builtin => ("builtin", None),
        ontofetch_config::Origin::File(p) => ("file", Some(p.display().to_string())),
    };
    let settings = serde_json::json!({
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
    Ok(serde_json::json!({
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
    }))
}
