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

/// Removes the files a discarded job wrote.
fn discard(outcome: &Outcome) {
    for f in &outcome.outputs {
        let _ = std::fs::remove_file(&f.path);
    }
}

/// Validates one file, isolated by `runner` under `limits`, and counts it in `metrics`.
/// A file is parsed once: for RDF being normalised, one job takes the validation tally,
/// the term facts and RDFC-1.0 from the same parse; for OBO, its translation parses and
/// counts every frame as the validation does. Only when that job does not end with a
/// canonical form (a component over the cap, a budget spent, a job killed or timed out,
/// a parse error) does the validation run on its own, parallel where that is faster, and
/// its verdict and facts are the ones reported: canonicalisation never takes the
/// validation down with it. Used by pulls, by `validate ID` and by `validate --file`
/// (which needs no mirror).
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
    // One sniff decides which single-parse job the file gets.
    let detected = ontofetch_validate::sniff_file(file).ok();
    if let Some(n) = normalize.as_ref().filter(|n| n.wants_owl() && detected == Some(ontofetch_validate::Detected::Obo))
    {
        let both = Options { normalize: Some(Normalize { second_pass: true, ..n.clone() }), threads: 0 };
        let combined = run_job(runner, Job { options: both, ..job.clone() }).await;
        if combined.status == Status::Ok && combined.normalized_sha256.is_some() {
            return counted(metrics, started, combined);
        }
        discard(&combined);
    }
    // RDF/XML, Turtle, N-Triples, N-Quads, TriG: what the streaming parser reads.
    if let Some(n) = normalize.as_ref().filter(|_| detected.is_some_and(|d| d.rdf_format().is_some())) {
        let one = Options { normalize: Some(Normalize { fused: true, ..n.clone() }), threads: 0 };
        let fused = run_job(runner, Job { options: one, ..job.clone() }).await;
        if fused.status == Status::Ok && fused.normalized_sha256.is_some() {
            return counted(metrics, started, fused);
        }
        discard(&fused);
        // The validation on its own (with its facts, and the sorted N-Triples of a graph
        // without blank nodes); RDFC-1.0 is not tried again.
        let mut outcome = run_job(runner, job).await;
        if outcome.needs_second_pass && outcome.status == Status::Ok {
            let why = fused.normalization_skipped.or(fused.message).unwrap_or_else(|| "no output".into());
            outcome.needs_second_pass = false;
            outcome.normalization = Some("skipped".into());
            outcome.normalization_skipped = Some(format!("RDFC-1.0 did not finish: {why}"));
        }
        return counted(metrics, started, outcome);
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Runs jobs in process and keeps what each was asked; the fused job can be made to die
    /// as a worker killed by its memory cap does.
    struct Recording {
        kill_fused: bool,
        asked: Mutex<Vec<&'static str>>,
    }

    impl ValidatorRunner for Recording {
        fn run(&self, job: &Job) -> Outcome {
            let n = job.options.normalize.as_ref();
            let kind = match n {
                Some(n) if n.fused => "fused",
                Some(n) if n.second_pass => "second",
                _ => "validate",
            };
            self.asked.lock().unwrap().push(kind);
            if self.kill_fused && kind == "fused" {
                let d = ontofetch_validate::sniff_file(&job.file).unwrap_or(ontofetch_validate::Detected::Unknown);
                return Outcome::new("rdf", d, Status::Failed, Some("killed by its memory cap".into()));
            }
            ontofetch_validate::validate(&job.file, &job.options)
        }
    }

    const OWL: &str = r#"<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#" xmlns:owl="http://www.w3.org/2002/07/owl#">
  <owl:Ontology rdf:about="http://x.org/o"/>
  <owl:Class rdf:about="http://x.org/A"><rdfs:label>a</rdfs:label></owl:Class>
  <owl:Class rdf:about="http://x.org/B">
    <rdfs:label>b</rdfs:label>
    <rdfs:subClassOf rdf:resource="http://x.org/A"/>
    <rdfs:subClassOf><owl:Restriction><owl:onProperty rdf:resource="http://x.org/p"/><owl:someValuesFrom rdf:resource="http://x.org/A"/></owl:Restriction></rdfs:subClassOf>
  </owl:Class>
</rdf:RDF>
"#;

    async fn checked(kill_fused: bool) -> (Outcome, Vec<&'static str>) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("o.owl");
        std::fs::write(&file, OWL).unwrap();
        let limits = WorkerLimits {
            max_memory_bytes: 1 << 30,
            timeout: std::time::Duration::from_secs(60),
            rdfc_max_component: 1000,
            sort_memory_bytes: 8 << 20,
            lowercase_language_tags: false,
        };
        let mut normalize = limits.normalize(&dir.path().join("normalized"), "o", &["ttl".into()]);
        normalize.terms = true;
        let recording = Arc::new(Recording { kill_fused, asked: Mutex::new(vec![]) });
        let runner: Arc<dyn ValidatorRunner> = recording.clone();
        let metrics = Metrics::new(&Default::default());
        let outcome = check(&runner, limits, &metrics, &file, Some(normalize)).await;
        let asked = recording.asked.lock().unwrap().clone();
        // The files stay readable for the assertions only while `dir` lives: read them now.
        for o in &outcome.outputs {
            assert!(std::path::Path::new(&o.path).is_file(), "{} listed but not written", o.path);
        }
        (outcome, asked)
    }

    /// A pull of RDF is one parse: one job gives the verdict, the counts, the term facts
    /// and the canonical hash of a graph with blank nodes.
    #[tokio::test]
    async fn rdf_is_parsed_once_for_validation_facts_and_its_canonical_form() {
        let (o, asked) = checked(false).await;
        assert_eq!(asked, ["fused"], "one job");
        assert_eq!(o.status, Status::Ok, "{o:?}");
        assert!(o.blank_nodes && o.statements > 5 && o.terms >= 2, "{o:?}");
        assert_eq!(o.ontology_iri.as_deref(), Some("http://x.org/o"));
        assert!(o.normalization.as_deref().is_some_and(|m| m.starts_with("rdfc-1.0")), "{:?}", o.normalization);
        assert!(o.normalized_sha256.is_some());
        assert!(o.outputs.iter().any(|f| f.format == "terms"), "the facts came with it: {:?}", o.outputs);
        assert!(o.outputs.iter().any(|f| f.format == "nt"), "{:?}", o.outputs);
    }

    /// When canonicalisation dies with the job, the validation runs on its own: its verdict,
    /// counts and facts stand, and the manifest says why there is no hash.
    #[tokio::test]
    async fn a_dead_canonicalisation_leaves_the_validation_and_the_facts_standing() {
        let (o, asked) = checked(true).await;
        assert_eq!(asked, ["fused", "validate"], "the fallback ran, and RDFC-1.0 was not tried again");
        assert_eq!(o.status, Status::Ok, "{o:?}");
        assert!(o.statements > 5 && o.terms >= 2, "{o:?}");
        assert!(o.normalized_sha256.is_none());
        let why = o.normalization_skipped.as_deref().unwrap_or_default();
        assert!(why.contains("RDFC-1.0 did not finish") && why.contains("memory cap"), "{why}");
        assert!(o.outputs.iter().any(|f| f.format == "terms"), "the facts stand: {:?}", o.outputs);
        assert!(!o.outputs.iter().any(|f| f.format == "nt"), "nothing of the dead job is kept: {:?}", o.outputs);
    }
}
