//! Files a command writes for the user outside the mirror: the example `sources.yaml`
//! (`init`) and the OWL tools' XML catalog (`export catalog-xml`), each written atomically.

use crate::context::Context;
use crate::error::AppError;
use ontofetch_fsutil::{write_atomic, write_new};
use ontofetch_pipeline::export::Mapping;
use std::path::Path;

/// Writes the example configuration to `path`; an existing file is kept unless `force`.
pub fn write_template(path: &Path, force: bool) -> Result<(), AppError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| AppError::io(format!("creating {}", dir.display()), e))?;
    let bytes = ontofetch_config::TEMPLATE_SOURCES.as_bytes();
    match if force { write_atomic(path, bytes) } else { write_new(path, bytes) } {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(AppError::usage(format!("{} already exists; use --force to replace it", path.display())))
        }
        Err(e) => Err(AppError::io(format!("writing {}", path.display()), e)),
        Ok(()) => Ok(()),
    }
}

/// Writes the XML catalog mapping every stored ontology's IRIs to the mirror (local paths,
/// or URLs under `base_url`); the mappings written, and the claims dropped (a name an
/// ontology claims that another owns).
pub fn write_catalog_xml(
    ctx: &Context,
    base_url: Option<&str>,
    out: &Path,
) -> Result<(Vec<Mapping>, Vec<ontofetch_pipeline::export::DroppedClaim>), AppError> {
    let (xml, mappings, dropped) = catalog_xml(ctx, base_url)?;
    write_atomic(out, xml.as_bytes()).map_err(|e| AppError::io(format!("writing {}", out.display()), e))?;
    Ok((mappings, dropped))
}

/// The catalog's text, its mappings and the claims left out (`export catalog-xml --out -`
/// prints the text).
pub fn catalog_xml(
    ctx: &Context,
    base_url: Option<&str>,
) -> Result<(String, Vec<Mapping>, Vec<ontofetch_pipeline::export::DroppedClaim>), AppError> {
    if let Some(base) = base_url
        && !(base.starts_with("http://") || base.starts_with("https://"))
    {
        return Err(AppError::usage(format!("--base-url {base}: give the served mirror's http(s) URL")));
    }
    let (mappings, dropped) = ctx.block_on(async {
        let b = crate::mirror::open(ctx).await?;
        Ok::<_, AppError>(ontofetch_pipeline::export::mappings(&b, base_url).await?)
    })?;
    for d in &dropped {
        tracing::warn!(name = %d.name, claimed_by = %d.claimed_by, owner = %d.owner, "a claim on another source's IRI was not mapped");
    }
    Ok((ontofetch_pipeline::export::catalog_xml(&mappings), mappings, dropped))
}
