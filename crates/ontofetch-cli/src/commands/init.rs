//! `ontofetch init`: write the example sources.yaml, atomically and without clobbering.

use crate::context::Context;
use crate::error::CliError;
use crate::output::emit;
use ontofetch_config::TEMPLATE_SOURCES;
use serde_json::json;
use std::io::Write;
use std::path::Path;

/// Writes the template to `path`; an existing file is kept unless `force`.
pub fn run(ctx: &Context, path: &Path, force: bool) -> Result<(), CliError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| CliError::io(format!("creating {}", dir.display()), e))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| CliError::io(format!("creating a temporary file in {}", dir.display()), e))?;
    tmp.write_all(TEMPLATE_SOURCES.as_bytes())
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| CliError::io(format!("writing {}", path.display()), e))?;
    let persisted = if force { tmp.persist(path).map(drop) } else { tmp.persist_noclobber(path).map(drop) };
    if let Err(e) = persisted {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            return Err(CliError::usage(format!("{} already exists; use --force to replace it", path.display())));
        }
        return Err(CliError::io(format!("writing {}", path.display()), e.error));
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
