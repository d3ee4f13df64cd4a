//! `ontofetch init`: write the example sources.yaml, atomically and without clobbering.

use crate::output::emit;
use ontofetch_app::{AppError, Context};
use serde_json::json;
use std::path::Path;

/// Writes the template to `path`; an existing file is kept unless `force`.
pub fn run(ctx: &Context, path: &Path, force: bool) -> Result<(), AppError> {
    ontofetch_app::files::write_template(path, force)?;
    emit(&ctx.options, &json!({"ok": true, "path": path}), || {
        format!(
            "Wrote example configuration to {}\nNext: ontofetch config validate --spec {}",
            path.display(),
            path.display()
        )
    });
    Ok(())
}
