//! Step 4, validate: the original (or each extracted file) is validated in staging by the
//! [`ValidatorRunner`](crate::ValidatorRunner), and normalised into `normalized/` as
//! `normalize_to` asks (canonical N-Triples and its hash for RDF, the OWL translation for
//! OBO). Strict mode (`continue_on_error: false`) turns a failure into a failed pull.

use super::download::Arrived;
use crate::Pipeline;
use crate::error::PipelineError;
use crate::observer::PullObserver;
use crate::result::{ValidationSummary, ValidatorVerdict};
use crate::runner::{Job, ValidatorRunner, WorkerLimits};
use ontofetch_archive::Report;
use ontofetch_catalog::ValidationRow;
use ontofetch_metrics::{Metrics, ValidationLabels, ValidatorLabels};
use ontofetch_policy::Code;
use ontofetch_store::manifest::{Normalization, ValidationEntry};
use ontofetch_store::{Staging, layout};
use ontofetch_validate::{Normalize, Options, Outcome, Status};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// At most this many extracted files are validated per archive.
const MAX_FILES: usize = 50;

/// Everything validation produced for a version.
pub(super) struct Validated {
    /// The manifest's `validation` map.
    pub entries: BTreeMap<String, ValidationEntry>,
    /// The catalog's rows.
    pub rows: Vec<ValidationRow>,
    /// SHA-256 of the original's canonical form.
    pub normalized_sha256: Option<String>,
    /// How it was made, or why it was not.
    pub normalization: Option<Normalization>,
    /// What the pull reports.
    pub summary: ValidationSummary,
    /// Normalised files written into staging: (path relative to the version, sha256, bytes).
    pub outputs: Vec<(String, String, u64)>,
    /// The original's `owl:versionIRI` as the parser read it (any syntax: N-Triples with
    /// full IRIs too), and its `owl:versionInfo` / OBO `data-version`.
    pub version_iri: Option<String>,
    /// See `version_iri`.
    pub data_version: Option<String>,
    /// The licence the original states in its header (SPDX where one fits).
    pub license: Option<String>,
    /// What the manifest should say besides the verdicts (a rendering skipped because its
    /// format cannot express a triple).
    pub notes: Vec<String>,
}

impl Validated {
    /// The version's verdict: failed when any validator failed; `unvalidated` when none
    /// recognised it (only an opaque source gets there: for any other, "not recognised" was
    /// made a failure); else valid.
    pub fn verdict(&self, promote_invalid: bool) -> ontofetch_catalog::Verdict {
        match self.summary.status {
            Status::Ok => ontofetch_catalog::Verdict::Valid,
            Status::Failed => ontofetch_catalog::Verdict::of(true, promote_invalid),
            Status::Skipped => ontofetch_catalog::Verdict::Unvalidated,
        }
    }
}

/// Validates (and normalises, when `normalize` says where) one file with the pipeline's
/// runner and limits, counted in its metrics.
pub async fn validate_file(p: &Pipeline, file: &Path, normalize: Option<Normalize>) -> Outcome {
    check(&p.runner, p.limits(), &p.metrics, file, normalize).await
}

/// Whether `file` sniffs as OBO.
fn is_obo(file: &Path) -> bool {
    matches!(ontofetch_validate::sniff_file(file), Ok(ontofetch_validate::Detected::Obo))
}

/// Validates one file, isolated by `runner` under `limits`, and counts it in `metrics`.
/// What is heavier than validating (RDFC-1.0 of a graph with blank nodes, the OWL
/// translation of OBO) runs in a second job, so one that dies or times out leaves the
/// validation standing. OBO is the exception on the way in: its translation parses and
/// counts every frame as the validation does, so one job does both, and only when that job
/// does not end with a translation does the validation run on its own (its verdict is then
/// the one reported). Used by pulls, by `validate ID` and by `validate --file` (which
/// needs no mirror).
pub async fn check(
    runner: &Arc<dyn ValidatorRunner>,
    limits: WorkerLimits,
    metrics: &Metrics,
    file: &Path,
    normalize: Option<Normalize>,
) -> Outcome {
    let started = Instant::now();
    let options = Options { normalize: normalize.clone(), threads: 0 };
    let job = Job { file: file.to_path_buf(), options, limits };
    if let Some(n) = normalize.as_ref().filter(|n| n.wants_owl() && is_obo(file)) {
        let both = Options { normalize: Some(Normalize { second_pass: true, ..n.clone() }), threads: 0 };
        let combined = run_job(runner, Job { options: both, ..job.clone() }).await;
        if combined.status == Status::Ok && combined.normalized_sha256.is_some() {
            return counted(metrics, started, combined);
        }
        for f in &combined.outputs {
            let _ = std::fs::remove_file(&f.path);
        }
    }
    let mut outcome = run_job(runner, job.clone()).await;
    if let (true, Status::Ok, Some(n)) = (outcome.needs_second_pass, outcome.status, normalize) {
        // The term facts came with the first pass.
        let second =
            Options { normalize: Some(Normalize { second_pass: true, terms: false, ..n.clone() }), threads: 0 };
        let canonical = run_job(runner, Job { options: second, ..job }).await;
        outcome.needs_second_pass = false;
        if canonical.status == Status::Ok && canonical.normalized_sha256.is_some() {
            outcome.normalization = canonical.normalization;
            outcome.normalization_skipped = None;
            outcome.normalization_note = canonical.normalization_note;
            outcome.normalized_sha256 = canonical.normalized_sha256;
            outcome.normalized_path = canonical.normalized_path;
            outcome.renderings_skipped = canonical.renderings_skipped;
            // The first pass's term facts stay; the canonical files come from the second.
            let facts: Vec<_> = outcome.outputs.drain(..).filter(|f| f.format == "terms").collect();
            outcome.outputs = canonical.outputs;
            outcome.outputs.extend(facts);
        } else {
            for f in &canonical.outputs {
                let _ = std::fs::remove_file(&f.path);
            }
            let why = canonical.normalization_skipped.or(canonical.message).unwrap_or_else(|| "no output".into());
            outcome.normalization = Some("skipped".into());
            outcome.normalization_skipped = Some(format!("the second pass failed: {why}"));
        }
    }
    counted(metrics, started, outcome)
}

/// Counts a verdict and its duration.
fn counted(metrics: &Metrics, started: Instant, outcome: Outcome) -> Outcome {
    let validator = outcome.validator.clone();
    let result = outcome.status.as_str();
    metrics.validations.get_or_create(&ValidationLabels { validator: validator.clone(), result }).inc();
    metrics.validation_duration.get_or_create(&ValidatorLabels { validator }).observe(started.elapsed().as_secs_f64());
    outcome
}

async fn run_job(runner: &Arc<dyn ValidatorRunner>, job: Job) -> Outcome {
    let runner = runner.clone();
    let file = job.file.clone();
    tokio::task::spawn_blocking(move || {
        // A file whose first 4 KiB say it is empty, an HTML page or in no known format
        // is judged by the sniff alone: no parser runs, so no worker process is started.
        let trivial = matches!(
            ontofetch_validate::sniff_file(&job.file),
            Ok(ontofetch_validate::Detected::Unknown
                | ontofetch_validate::Detected::Empty
                | ontofetch_validate::Detected::Html)
        );
        if trivial { ontofetch_validate::validate(&job.file, &job.options) } else { runner.run(&job) }
    })
    .await
    .unwrap_or_else(|e| {
        let detected = ontofetch_validate::sniff_file(&file).unwrap_or(ontofetch_validate::Detected::Unknown);
        Outcome::new(
            ontofetch_validate::validator_for(detected),
            detected,
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
    plan: &ontofetch_resolve::Plan,
    staging: &Staging,
    arrived: &Arrived,
    extracted: Option<&Report>,
    observer: &dyn PullObserver,
) -> Result<Validated, PipelineError> {
    let (id, formats, opaque) = (plan.id.as_str(), plan.normalize_to.as_slice(), plan.opaque);
    let stem = layout::file_stem(&arrived.filename);
    let mut v = Validated {
        entries: BTreeMap::new(),
        rows: vec![],
        normalized_sha256: None,
        normalization: None,
        summary: ValidationSummary::of(vec![]),
        outputs: vec![],
        version_iri: None,
        data_version: None,
        license: None,
        notes: vec![],
    };
    let mut verdicts = Vec::new();
    let normalized_dir = staging.path(layout::NORMALIZED)?;
    let mut outcomes = Vec::new();
    for (rel, file) in targets(staging, arrived, extracted) {
        let base = if rel.is_empty() { stem.clone() } else { layout::sanitize_filename(&rel) };
        let normalize = Normalize { terms: true, ..p.limits().normalize(&normalized_dir, &base, formats) };
        outcomes.push((rel, validate_file(p, &file, Some(normalize)).await));
    }
    // A version is valid only when a validator recognised and parsed it: when none did (an
    // error text served with 200, random bytes), the version failed, unless its entry
    // declares the source opaque (then it is stored `unvalidated`).
    if !opaque && outcomes.iter().all(|(_, o)| o.status == Status::Skipped) {
        for (_, o) in &mut outcomes {
            o.refuse_unrecognised();
        }
    }
    // One file is the ontology: the download itself, or the one file a `.gz` (or a
    // one-file archive) held, whose data-version, version IRI and hash are the version's.
    let single = outcomes.len() == 1;
    for (rel, outcome) in outcomes {
        let key = if rel.is_empty() { outcome.validator.clone() } else { format!("{}:{rel}", outcome.validator) };
        if rel.is_empty() || single {
            v.version_iri = outcome.version_iri.clone();
            v.data_version = outcome.data_version.clone();
            v.license = outcome.license.as_deref().map(ontofetch_resolve::license::normalize);
            v.normalized_sha256 = outcome.normalized_sha256.clone();
            v.normalization = outcome.normalization.as_ref().map(|mode| Normalization {
                mode: mode.clone(),
                skipped_reason: outcome.normalization_skipped.clone(),
            });
        }
        v.notes.extend(outcome.normalization_note.iter().cloned());
        v.notes.extend(outcome.renderings_skipped.iter().cloned());
        for f in &outcome.outputs {
            if let Ok(rel) = Path::new(&f.path).strip_prefix(staging.dir()) {
                v.outputs.push((rel.to_string_lossy().into_owned(), f.sha256.clone(), f.bytes));
            }
        }
        let status = outcome.status;
        let details = serde_json::to_value(&outcome).unwrap_or_default();
        let output_files: Vec<String> = outcome
            .outputs
            .iter()
            .filter_map(|f| Path::new(&f.path).strip_prefix(staging.dir()).ok())
            .map(|r| r.to_string_lossy().into_owned())
            .collect();
        verdicts.push(ValidatorVerdict {
            key: key.clone(),
            status,
            message: outcome.message.clone(),
            statements: outcome.statements,
            terms: outcome.terms,
            normalization: outcome.normalization.clone(),
            normalization_skipped: outcome.normalization_skipped.clone(),
        });
        let (row, entry) = crate::records::validation_records(&key, status, details, output_files);
        v.rows.push(row);
        v.entries.insert(key, entry);
    }
    v.summary = ValidationSummary::of(verdicts);
    observer.validated(id, &v.summary);
    if !p.settings.defaults().continue_on_error
        && let Some(bad) = v.summary.validators.iter().find(|x| x.status == Status::Failed)
    {
        return Err(PipelineError::new(
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
