//! Running validators in a child process with resource limits (address space, CPU time) and
//! a wall-clock timeout, so a parser that blows up takes only its own process down.

use ontofetch_config::Loaded;
use ontofetch_metrics::{Metrics, ValidationLabels, ValidatorLabels};
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Limits for one validator run.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Address-space cap.
    pub max_memory_bytes: u64,
    /// Wall-clock cap.
    pub timeout: Duration,
    /// Canonicalise only below this size.
    pub max_normalize_bytes: u64,
}

impl Limits {
    /// From `defaults.validation`.
    pub fn from_config(loaded: &Loaded) -> Self {
        let v = &loaded.config.defaults.validation;
        Limits {
            max_memory_bytes: v.max_memory_mb << 20,
            timeout: Duration::from_secs(v.parser_timeout_sec),
            max_normalize_bytes: v.streaming_normalization_threshold_mb << 20,
        }
    }
}

fn failed(validator: &str, message: String) -> Value {
    json!({"validator": validator, "status": "failed", "message": message})
}

// The worker parses again when it canonicalises: the first run proves the file valid
// within the limits even when canonicalising it would not fit.

/// Validates `file` in a child `ontofetch validate-worker`, then (for RDF that parsed)
/// canonicalises it in a second child. Timeouts, crashes and memory exhaustion of the
/// validation are failures; the same in canonicalisation (RDFC-1.0 holds the graph in
/// memory, ~100× the file for blank-node-heavy graphs) only skips normalisation.
pub fn run_isolated(file: &Path, normalize_to: Option<&Path>, limits: Limits, metrics: &Metrics) -> Value {
    let started = Instant::now();
    let mut outcome = spawn(file, None, limits);
    if let (Some(nt), Some("ok"), Some("rdf")) =
        (normalize_to, outcome["status"].as_str(), outcome["validator"].as_str())
    {
        let normalized = spawn(file, Some(nt), limits);
        match normalized["status"].as_str() {
            Some("ok") => {
                for key in ["normalized_sha256", "normalized_path", "message"] {
                    outcome[key] = normalized[key].clone();
                }
            }
            _ => {
                let _ = std::fs::remove_file(nt);
                outcome["message"] = json!(format!(
                    "validated; not normalised: {}",
                    normalized["message"].as_str().unwrap_or("canonicalisation failed")
                ));
            }
        }
    }
    let validator = outcome["validator"].as_str().unwrap_or("rdf").to_string();
    let status = match outcome["status"].as_str() {
        Some("ok") => "ok",
        Some("skipped") => "skipped",
        _ => "failed",
    };
    metrics.validations.get_or_create(&ValidationLabels { validator: validator.clone(), result: status }).inc();
    metrics.validation_duration.get_or_create(&ValidatorLabels { validator }).observe(started.elapsed().as_secs_f64());
    outcome
}

fn spawn(file: &Path, normalize_to: Option<&Path>, limits: Limits) -> Value {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return failed("rdf", format!("cannot find the ontofetch executable: {e}")),
    };
    let mut cmd = Command::new(exe);
    cmd.arg("validate-worker")
        .arg("--file")
        .arg(file)
        .arg("--max-normalize-bytes")
        .arg(limits.max_normalize_bytes.to_string());
    if let Some(n) = normalize_to {
        cmd.arg("--normalize-to").arg(n);
    }
    let mem = limits.max_memory_bytes;
    let cpu = limits.timeout.as_secs() + 5;
    use std::os::unix::process::CommandExt;
    // SAFETY: only async-signal-safe setrlimit calls run between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            use rustix::process::{Resource, Rlimit, setrlimit};
            setrlimit(Resource::As, Rlimit { current: Some(mem), maximum: Some(mem) })?;
            setrlimit(Resource::Cpu, Rlimit { current: Some(cpu), maximum: Some(cpu) })?;
            Ok(())
        });
    }
    let mut child = match cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn() {
        Ok(c) => c,
        Err(e) => return failed("rdf", format!("cannot start the validator: {e}")),
    };
    let deadline = Instant::now() + limits.timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return failed(
                    "rdf",
                    format!("the validator timed out after {} s (parser_timeout_sec)", limits.timeout.as_secs()),
                );
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return failed("rdf", format!("waiting for the validator: {e}")),
        }
    };
    let out = child.wait_with_output().map(|o| o.stdout).unwrap_or_default();
    if !status.success() {
        return failed(
            "rdf",
            format!(
                "the validator died ({status}); it may have exceeded max_memory_mb = {} MiB",
                limits.max_memory_bytes >> 20
            ),
        );
    }
    serde_json::from_slice(&out).unwrap_or_else(|e| failed("rdf", format!("unreadable validator output: {e}")))
}
