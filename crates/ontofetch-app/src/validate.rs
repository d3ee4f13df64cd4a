//! `ontofetch validate --file` and Python's `validate_file`: a local file through the same
//! worker, limits, normalisation and report as a pull, nothing stored in the mirror. One
//! function, so both front ends print the same report for the same file.

use crate::context::Context;
use crate::error::AppError;
use ontofetch_validate::{Outcome, Status};
use std::path::Path;
use std::sync::Arc;

/// Validates `file`; the normalised outputs are kept in `output_dir` when given (else only
/// their hashes are reported).
pub fn file(ctx: &Context, file: &Path, output_dir: Option<&Path>) -> Result<Outcome, AppError> {
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
    Ok(outcome)
}

/// The failure a report that failed validation stands for (exit 1).
pub fn failed(outcome: &Outcome, file: &Path) -> Result<(), AppError> {
    match outcome.status {
        Status::Failed => Err(AppError::check_failed(format!("{} failed validation", file.display()))),
        _ => Ok(()),
    }
}
