//! `ontofetch validate --file` and Python's `validate_file`: a local file through the same
//! worker, limits, normalisation and report as a pull, nothing stored in the mirror. One
//! function, so both front ends print the same report for the same file.

use crate::context::Context;
use crate::error::AppError;
use crate::report::{Report, safe};
use ontofetch_validate::{Outcome, Status};
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;

/// Validates `file`; the normalised outputs are kept in `output_dir` when given (else only
/// their hashes are reported).
pub fn file(ctx: &Context, file: &Path, output_dir: Option<&Path>) -> Result<Checked, AppError> {
    let settings = ctx.settings()?;
    if !file.is_file() {
        return Err(AppError::usage(format!("--file {}: no such file", file.display())));
    }
    let scratch = tempfile::Builder::new()
        .prefix("ontofetch-validate-")
        .tempdir()
        .map_err(|e| AppError::io("creating a temporary directory", e))?;
    let dir = output_dir.unwrap_or(scratch.path());
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = ontofetch_store::layout::file_stem(&name);
    let limits = ontofetch_pipeline::WorkerLimits::from_settings(settings);
    let normalize = limits.normalize(dir, &stem, &settings.defaults().normalize_to);
    let runner: Arc<dyn ontofetch_pipeline::ValidatorRunner> = Arc::new(ctx.worker.clone());
    let mut outcome =
        ctx.block_on(ontofetch_pipeline::pull::check(&runner, limits, &ctx.metrics, file, Some(normalize)));
    if output_dir.is_none() {
        // The files went with the temporary directory; the report keeps their hashes.
        for o in &mut outcome.outputs {
            let kept = Path::new(&o.path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            o.path = format!("(not kept) {kept}");
        }
        outcome.normalized_path = None;
    }
    Ok(Checked { outcome, file: file.to_path_buf() })
}

/// A local file's validation report.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Checked {
    /// The validator's report.
    pub outcome: Outcome,
    /// The file.
    #[serde(skip)]
    pub file: std::path::PathBuf,
}

impl Checked {
    /// The failure a report that failed validation stands for (exit 1).
    pub fn outcome(&self) -> Result<(), AppError> {
        match self.outcome.status {
            Status::Failed => Err(AppError::check_failed(format!("{} failed validation", self.file.display()))),
            _ => Ok(()),
        }
    }
}

impl Report for Checked {
    /// The verdict, the counts, the canonical hash or why there is none.
    fn human(&self) -> String {
        let o = &self.outcome;
        let name = safe(&self.file.display().to_string());
        let mut out = format!("{name}: {} {} ({:?})\n", o.validator, o.status.as_str(), o.format);
        if let Some(m) = &o.message {
            out.push_str(&format!("  {}\n", safe(m)));
        }
        let estimated = if o.terms_estimated { " (estimated)" } else { "" };
        out.push_str(&format!("  statements {}, terms {}{estimated}", o.statements, o.terms));
        for (what, n) in [("typedefs", o.typedefs), ("instances", o.instances), ("obsolete", o.obsolete)] {
            if let Some(n) = n {
                out.push_str(&format!(", {what} {n}"));
            }
        }
        out.push('\n');
        if let Some(v) = o.data_version.as_ref().or(o.version_iri.as_ref()) {
            out.push_str(&format!("  version {}\n", safe(v)));
        }
        match (&o.normalized_sha256, &o.normalization_skipped) {
            (Some(h), _) => {
                out.push_str(&format!("  canonical sha256 {h} ({})\n", o.normalization.as_deref().unwrap_or("")))
            }
            (None, Some(why)) => out.push_str(&format!("  no canonical hash: {}\n", safe(why))),
            _ => {}
        }
        for f in &o.outputs {
            out.push_str(&format!("  {} {} bytes {}\n", f.format, f.bytes, safe(&f.path)));
        }
        out
    }
}
