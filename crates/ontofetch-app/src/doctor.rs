//! `doctor [--fix] [--verify]`, for every front end: the checks live in the pipeline; the
//! report is what they found, with its human form.

use crate::context::Context;
use crate::error::AppError;
use crate::report::{Report, safe};
use ontofetch_policy::{Gates, Policy};
use serde::Serialize;

/// What doctor found: the pipeline's report, and the data root it looked at.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Checkup {
    /// The report.
    pub report: ontofetch_pipeline::doctor::Report,
    /// The data root checked.
    #[serde(skip)]
    pub root: std::path::PathBuf,
}

impl Checkup {
    /// A failure (exit 1) when any check is not ok; the report was printed first.
    pub fn outcome(&self) -> Result<(), AppError> {
        match self.report.problems.len() {
            0 => Ok(()),
            n => Err(AppError::check_failed(format!("doctor found {n} problem(s)"))),
        }
    }
}

impl Report for Checkup {
    fn human(&self) -> String {
        use ontofetch_pipeline::doctor::{ConfigCheck, Disk, StoreCheck};
        let r = &self.report;
        let mut out =
            format!("ontofetch {} doctor\ndata root: {}\n", r.version, safe(&self.root.display().to_string()));
        if let Disk::Measured { free_bytes, .. } = &r.disk {
            out.push_str(&format!("disk free: {:.1} GB\n", *free_bytes as f64 / 1e9));
        }
        let config = match &r.config {
            ConfigCheck::Valid { ontologies, .. } => format!("ok ({ontologies} ontologies)"),
            ConfigCheck::Invalid { .. } => "INVALID".into(),
        };
        out.push_str(&format!("config: {config}\n"));
        let refused = r.gate_self_test.iter().filter(|t| t.refused).count();
        out.push_str(&format!("gate self-test: {refused}/{} SSRF probes refused\n", r.gate_self_test.len()));
        if let Some(StoreCheck::Checked(store)) = &r.store {
            let a = &store.integrity;
            let how = if a.verified {
                format!("sizes and SHA-256 of {} bytes", a.bytes_hashed)
            } else {
                "sizes (--verify re-hashes them)".to_string()
            };
            out.push_str(&format!("store: {} versions, {} artifacts checked: {how}\n", a.versions, a.artifacts));
        }
        for (lines, label) in [(&r.fixes, "fixed"), (&r.notes, "note"), (&r.problems, "problem")] {
            for line in lines {
                // Names in findings come from the data root, where anyone with write access
                // may plant them: escaped, so none can forge a line or move the cursor.
                out.push_str(&format!("{label}: {}\n", safe(line)));
            }
        }
        out.push_str(if r.problems.is_empty() { "OK" } else { "NOT OK" });
        out
    }
}

/// Runs every check (an invalid configuration is one of its findings, not an error);
/// `progress` hears how far `verify`'s re-hashing got.
pub async fn run(
    ctx: &Context,
    mode: ontofetch_pipeline::doctor::Mode,
    progress: ontofetch_pipeline::integrity::Progress<'_>,
) -> Checkup {
    let fallback = Policy::default();
    let settings = ctx.settings_result();
    let policy = settings.map(|s| &s.loaded.policy).unwrap_or(&fallback);
    let gates = Gates::new(policy, ctx.metrics.as_ref());
    let report = ontofetch_pipeline::doctor::run(&ctx.dirs, settings, gates, mode, progress).await;
    Checkup { report, root: ctx.dirs.root.clone() }
}
