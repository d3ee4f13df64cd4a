//! `ontofetch init`: write the example sources.yaml, atomically and without clobbering.

use crate::context::Context;
use crate::error::CliError;
use crate::output::emit;
use ontofetch_config::TEMPLATE_SOURCES;
use ontofetch_fsutil::{write_atomic, write_new};
use serde_json::json;
use std::path::Path;

/// Writes the template to `path`; an existing file is kept unless `force`.
pub fn run(ctx: &Context, path: &Path, force: bool) -> Result<(), CliError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| CliError::io(format!("creating {}", dir.display()), e))?;
    let bytes = TEMPLATE_SOURCES.as_bytes();
    let written = if force { write_atomic(path, bytes) } else { write_new(path, bytes) };
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(CliError::usage(format!("{} already exists; use --force to replace it", path.display())));
        }
        Err(e) => return Err(CliError::io(format!("writing {}", path.display()), e)),
        Ok(()) => {}
    }
    emit(&ctx.global, &json!({"ok": true, "path": path}), || {
        format!(
            "Wrote example configuration to {}\nNext: ontofetch config validate --spec {}",
            path.display(),
            path.display()
        )
    });
    Ok(())
}
