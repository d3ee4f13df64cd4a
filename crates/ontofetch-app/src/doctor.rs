//! `doctor [--fix] [--verify]`, for every front end: the checks live in the pipeline; the
//! report is what they found, with its human form.

use crate::context::Context;
use crate::error::AppError;
use crate::report::{Report, safe};
use ontofetch_policy::{Gates, Policy};
use serde::Serialize;

/// What doctor found.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Checkup {
    /// The pipeline's report.
    #[serde(skip)]
    pub report: ontofetch_pipeline::doctor::Report,
    /// Its document (`ok`, `directories`, `disk`, `config`, …).
    pub doc: serde_json::Value,
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
        let doc = &self.doc;
        let mut out = format!(
            "ontofetch {} doctor\ndata root: {}\n",
            env!("CARGO_PKG_VERSION"),
            safe(&self.root.display().to_string())
        );
        if let Some(free) = doc["disk"]["free_bytes"].as_u64() {
            out.push_str(&format!("disk free: {:.1} GB\n", free as f64 / 1e9));
        }
        let config = if doc["config"]["ok"] == true {
            format!("ok ({} ontologies)", doc["config"]["ontologies"])
        } else {
            "INVALID".into()
        };
        out.push_str(&format!("config: {config}\n"));
        let tests = doc["gate_self_test"].as_array().cloned().unwrap_or_default();
        let refused = tests.iter().filter(|t| t["refused"] == true).count();
        out.push_str(&format!("gate self-test: {refused}/{} SSRF probes refused\n", tests.len()));
        let integrity = &doc["store"]["integrity"];
        if let Some(n) = integrity["artifacts"].as_u64() {
            let how = if integrity["verified"] == true {
                format!("sizes and SHA-256 of {} bytes", integrity["bytes_hashed"])
            } else {
                "sizes (--verify re-hashes them)".to_string()
            };
            out.push_str(&format!("store: {} versions, {n} artifacts checked: {how}\n", integrity["versions"]));
        }
        for (key, label) in [("fixes", "fixed"), ("notes", "note"), ("problems", "problem")] {
            for line in doc[key].as_array().into_iter().flatten() {
                // Names in findings come from the data root, where anyone with write access
                // may plant them: escaped, so none can forge a line or move the cursor.
                out.push_str(&format!("{label}: {}\n", safe(line.as_str().unwrap_or(""))));
            }
        }
        out.push_str(if self.report.problems.is_empty() { "OK" } else { "NOT OK" });
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
    Checkup { doc: report.doc.clone(), report, root: ctx.dirs.root.clone() }
}
