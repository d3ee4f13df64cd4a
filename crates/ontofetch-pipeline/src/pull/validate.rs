//! Step 4, validate: the original (or each extracted file) is validated in staging by the
//! [`ValidatorRunner`](crate::ValidatorRunner): first parsed and counted, then, for RDF that
//! parsed, canonicalised in a second job, so a graph too big to canonicalise is still
//! validated. Strict mode (`continue_on_error: false`) turns a failure into a failed pull.

use super::download::Arrived;
use crate::error::PullError;
use crate::observer::PullObserver;
use crate::result::{ValidationSummary, ValidatorVerdict};
use crate::runner::Job;
use crate::{Pipeline, now_rfc3339};
use ontofetch_archive::Report;
use ontofetch_catalog::ValidationRow;
use ontofetch_metrics::{ValidationLabels, ValidatorLabels};
use ontofetch_policy::Code;
use ontofetch_store::manifest::ValidationEntry;
use ontofetch_store::{Staging, layout};
use ontofetch_validate::{Outcome, Status};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// At most this many extracted files are validated per archive.
const MAX_FILES: usize = 50;

/// Everything validation produced for a version.
pub(super) struct Validated {
    /// The manifest's `validation` map.
    pub entries: BTreeMap<String, ValidationEntry>,
    /// The catalog's rows.
    pub rows: Vec<ValidationRow>,
    /// SHA-256 of the original's canonical N-Triples.
    pub normalized_sha256: Option<String>,
    /// What the pull reports.
    pub summary: ValidationSummary,
}

/// Validates (and canonicalises) one file, isolated by the pipeline's runner, and counts
/// it in the metrics. `normalize_to` receives canonical N-Triples for RDF that parsed.
pub async fn validate_file(p: &Pipeline, file: &Path, normalize_to: Option<&Path>) -> Outcome {
    let started = Instant::now();
    let limits = p.limits();
    let job = Job { file: file.to_path_buf(), normalize_to: None, limits };
    let mut outcome = run_job(p, job.clone()).await;
    if let (Some(nt), Status::Ok, "rdf") = (normalize_to, outcome.status, outcome.validator.as_str()) {
        let normalized = run_job(p, Job { normalize_to: Some(nt.to_path_buf()), ..job }).await;
        if normalized.status == Status::Ok {
            outcome.normalized_sha256 = normalized.normalized_sha256;
            outcome.normalized_path = normalized.normalized_path;
            outcome.message = normalized.message;
        } else {
            let _ = std::fs::remove_file(nt);
            let why = normalized.message.unwrap_or_else(|| "canonicalisation failed".into());
            outcome.message = Some(format!("validated; not normalised: {why}"));
        }
    }
    let validator = outcome.validator.clone();
    let result = outcome.status.as_str();
    p.metrics.validations.get_or_create(&ValidationLabels { validator: validator.clone(), result }).inc();
    p.metrics
        .validation_duration
        .get_or_create(&ValidatorLabels { validator })
        .observe(started.elapsed().as_secs_f64());
    outcome
}

async fn run_job(p: &Pipeline, job: Job) -> Outcome {
    let runner = p.runner.clone();
    tokio::task::spawn_blocking(move || runner.run(&job)).await.unwrap_or_else(|e| {
        Outcome::new(
            "rdf",
            ontofetch_validate::Detected::Unknown,
            Status::Failed,
            Some(format!("validator crashed: {e}")),
        )
    })
}

/// The files to validate: the original, or the first extracted files of an archive.
fn targets(staging: &Staging, arrived: &Arrived, extracted: Option<&Report>) -> Vec<(String, PathBuf)> {
    let stem = layout::file_stem(&arrived.filename);
    match extracted {
        None => vec![(String::new(), arrived.dest.clone())],
        Some(r) => r
            .files
            .iter()
            .take(MAX_FILES)
            .map(|f| (f.path.clone(), staging.dir().join(layout::extracted_rel(&stem)).join(&f.path)))
            .collect(),
    }
}

/// Validates a downloaded version in staging.
pub(super) async fn run(
    p: &Pipeline,
    id: &str,
    staging: &Staging,
    arrived: &Arrived,
    extracted: Option<&Report>,
    observer: &dyn PullObserver,
) -> Result<Validated, PullError> {
    let stem = layout::file_stem(&arrived.filename);
    let mut v = Validated {
        entries: BTreeMap::new(),
        rows: vec![],
        normalized_sha256: None,
        summary: ValidationSummary::of(vec![]),
    };
    let mut verdicts = Vec::new();
    for (rel, file) in targets(staging, arrived, extracted) {
        let base = if rel.is_empty() { stem.clone() } else { layout::sanitize_filename(&rel) };
        let nt_rel = layout::normalized_rel(&base, "nt");
        let nt = staging.path(&nt_rel)?;
        let outcome = validate_file(p, &file, Some(&nt)).await;
        let key = if rel.is_empty() { outcome.validator.clone() } else { format!("{}:{rel}", outcome.validator) };
        if rel.is_empty() {
            v.normalized_sha256 = outcome.normalized_sha256.clone();
        }
        let status = outcome.status.as_str().to_string();
        let details = serde_json::to_value(&outcome).expect("outcomes serialise");
        let output_files = if nt.exists() { vec![nt_rel] } else { vec![] };
        v.rows.push(ValidationRow {
            validator: key.clone(),
            result: status.clone(),
            details: details.to_string(),
            run_at: now_rfc3339(),
        });
        verdicts.push(ValidatorVerdict {
            key: key.clone(),
            status: status.clone(),
            message: outcome.message.clone(),
            statements: outcome.statements,
            terms: outcome.terms,
        });
        let entry =
            ValidationEntry { ok: status == "ok", status: Some(status), details, output_files, extra: BTreeMap::new() };
        v.entries.insert(key, entry);
    }
    v.summary = ValidationSummary::of(verdicts);
    observer.validated(id, &v.summary);
    let report = serde_json::to_value(&v.entries).expect("entries serialise");
    staging.write_json(layout::VALIDATION_REPORT, &report)?;
    if !p.settings.loaded.config.defaults.continue_on_error
        && let Some(bad) = v.summary.validators.iter().find(|x| x.status == "failed")
    {
        return Err(PullError::new(
            Code::Validation,
            format!(
                "{} failed validation (strict mode keeps the last good version): {}",
                bad.key,
                bad.message.clone().unwrap_or_default()
            ),
        ));
    }
    Ok(v)
}
