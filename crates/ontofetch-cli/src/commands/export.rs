//! `ontofetch export catalog-xml`: the mirror as an XML catalog for OWL tools.

use crate::output::emit;
use ontofetch_app::{AppError, Context};
use std::path::Path;

/// `ontofetch export catalog-xml [--base-url URL] [--out FILE|-]`.
pub fn catalog_xml(ctx: &mut Context, base_url: Option<&str>, out: &Path) -> Result<(), AppError> {
    emit(&ctx.options, &ontofetch_app::files::export_catalog_xml(ctx, base_url, out)?);
    Ok(())
}
