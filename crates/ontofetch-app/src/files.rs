//! Files a command writes for the user outside the mirror: the example `sources.yaml`
//! (`init`) and the OWL tools' XML catalog (`export catalog-xml`), each written atomically.

use crate::context::Context;
use crate::error::AppError;
use crate::report::{Report, safe};
use ontofetch_fsutil::{write_atomic, write_new};
use ontofetch_pipeline::export::{DroppedClaim, Mapping};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The example configuration written.
#[derive(Debug, Clone, Serialize)]
pub struct Initialised {
    /// Always true.
    pub ok: bool,
    /// Where.
    pub path: PathBuf,
}

impl Report for Initialised {
    fn human(&self) -> String {
        let p = self.path.display();
        format!("Wrote example configuration to {p}\nNext: ontofetch config validate --spec {p}")
    }
}

/// `init`: writes the example configuration to `path`; an existing file is kept unless
/// `force`.
pub fn init(path: &Path, force: bool) -> Result<Initialised, AppError> {
    write_template(path, force)?;
    Ok(Initialised { ok: true, path: path.to_path_buf() })
}

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

/// One mapping of the XML catalog.
#[derive(Debug, Clone, Serialize)]
pub struct Mapped {
    /// The IRI an OWL tool asks for.
    pub name: String,
    /// Where the mirror has it.
    pub uri: String,
}

/// `export catalog-xml`'s report.
#[derive(Debug, Clone, Serialize)]
pub struct Exported {
    /// The file written (`-`: stdout).
    pub path: PathBuf,
    /// The catalog itself, when it went to stdout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xml: Option<String>,
    /// Every mapping.
    pub mappings: Vec<Mapped>,
    /// Names an ontology claims that another owns: left out.
    pub dropped_claims: Vec<DroppedClaim>,
}

impl Report for Exported {
    fn human(&self) -> String {
        if let Some(xml) = &self.xml {
            return xml.clone();
        }
        let mut text = format!("{} IRIs mapped to the mirror in {}", self.mappings.len(), self.path.display());
        for d in &self.dropped_claims {
            let (who, name, owner) = (safe(&d.claimed_by), safe(&d.name), safe(&d.owner));
            text.push_str(&format!("\nnot mapped: {who} claims {name}, which is {owner}'s"));
        }
        text
    }
}

/// Writes the XML catalog mapping every stored ontology's IRIs to the mirror (local paths,
/// or URLs under `base_url`) to `out` (`-`: into the report, for stdout); the mappings, and
/// the claims dropped (a name an ontology claims that another owns).
pub fn export_catalog_xml(ctx: &Context, base_url: Option<&str>, out: &Path) -> Result<Exported, AppError> {
    let (xml, mappings, dropped_claims) = catalog_xml(ctx, base_url)?;
    let mappings = mappings.iter().map(|m| Mapped { name: m.name.clone(), uri: m.uri.clone() }).collect();
    let xml = if out == Path::new("-") {
        Some(xml)
    } else {
        write_atomic(out, xml.as_bytes()).map_err(|e| AppError::io(format!("writing {}", out.display()), e))?;
        None
    };
    Ok(Exported { path: out.to_path_buf(), xml, mappings, dropped_claims })
}

/// The catalog's text, its mappings and the claims left out (`export catalog-xml --out -`
/// prints the text).
pub fn catalog_xml(
    ctx: &Context,
    base_url: Option<&str>,
) -> Result<(String, Vec<Mapping>, Vec<DroppedClaim>), AppError> {
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
