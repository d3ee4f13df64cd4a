//! `ontofetch export catalog-xml`: the mirror as an XML catalog for OWL tools.

use crate::output::emit;
use ontofetch_app::{AppError, Context};
use serde_json::json;
use std::path::Path;

/// `ontofetch export catalog-xml [--base-url URL] [--out FILE]`.
pub fn catalog_xml(ctx: &mut Context, base_url: Option<&str>, out: &Path) -> Result<(), AppError> {
    if out == Path::new("-") {
        // The catalog itself on stdout (inside the JSON document under --json).
        let (xml, mappings, dropped) = ontofetch_app::files::catalog_xml(ctx, base_url)?;
        if ctx.options.json {
            let listed: Vec<_> = mappings.iter().map(|m| json!({"name": m.name, "uri": m.uri})).collect();
            emit(
                &ctx.options,
                &json!({"path": "-", "xml": xml, "mappings": listed, "dropped_claims": dropped}),
                String::new,
            );
        } else {
            crate::output::print(xml.trim_end());
        }
        return Ok(());
    }
    let (mappings, dropped) = ontofetch_app::files::write_catalog_xml(ctx, base_url, out)?;
    let listed: Vec<_> = mappings.iter().map(|m| json!({"name": m.name, "uri": m.uri})).collect();
    emit(&ctx.options, &json!({"path": out, "mappings": listed, "dropped_claims": dropped}), || {
        let mut text = format!("{} IRIs mapped to the mirror in {}", mappings.len(), out.display());
        for d in &dropped {
            text.push_str(&format!(
                "\nnot mapped: {} claims {}, which is {}'s",
                crate::render::safe(&d.claimed_by),
                crate::render::safe(&d.name),
                crate::render::safe(&d.owner)
            ));
        }
        text
    });
    Ok(())
}
