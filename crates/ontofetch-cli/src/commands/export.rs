//! `ontofetch export catalog-xml`: the mirror as an XML catalog for OWL tools.

use crate::context::{Context, runtime};
use crate::error::CliError;
use crate::output::emit;
use ontofetch_pipeline::{Backends, Open};
use serde_json::json;
use std::path::Path;

/// `ontofetch export catalog-xml [--base-url URL] [--out FILE]`.
pub fn catalog_xml(ctx: &mut Context, base_url: Option<&str>, out: &Path) -> Result<(), CliError> {
    if let Some(base) = base_url
        && !(base.starts_with("http://") || base.starts_with("https://"))
    {
        return Err(CliError::usage(format!("--base-url {base}: give the served mirror's http(s) URL")));
    }
    let mappings = runtime()?.block_on(async {
        let b = Backends::open(ctx.settings()?, Open::Existing).await?;
        Ok::<_, CliError>(ontofetch_pipeline::export::mappings(&b, base_url).await?)
    })?;
    let xml = ontofetch_pipeline::export::catalog_xml(&mappings);
    ontofetch_fsutil::write_atomic(out, xml.as_bytes())
        .map_err(|e| CliError::io(format!("writing {}", out.display()), e))?;
    let listed: Vec<_> = mappings.iter().map(|m| json!({"name": m.name, "uri": m.uri})).collect();
    emit(&ctx.global, &json!({"path": out, "mappings": listed}), || {
        format!("{} IRIs mapped to the mirror in {}", mappings.len(), out.display())
    });
    Ok(())
}
