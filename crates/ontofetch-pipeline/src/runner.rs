//! Where validators run. Parsers of untrusted files can blow up (memory, CPU, a bug), so
//! the binary runs each job in a child process under rlimits and a wall-clock timeout
//! ([`Subprocess`]); tests and embedders that accept the risk run them in-process
//! ([`InProcess`]). The pipeline only sees the [`ValidatorRunner`] trait.

use ontofetch_validate::{Detected, Outcome, Status};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Limits for one job (from `defaults.validation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    pub fn from_settings(settings: &ontofetch_config::Settings) -> Self {
        let v = &settings.loaded.config.defaults.validation;
        Limits {
            max_memory_bytes: v.max_memory_mb << 20,
            timeout: Duration::from_secs(v.parser_timeout_sec),
            max_normalize_bytes: v.streaming_normalization_threshold_mb << 20,
        }
    }
}

/// One validation job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The file to validate.
    pub file: PathBuf,
    /// Where to write canonical N-Triples (canonicalisation jobs only).
    pub normalize_to: Option<PathBuf>,
    /// Limits.
    pub limits: Limits,
}

/// Runs validation jobs. `run` blocks; the pipeline calls it on the blocking pool.
pub trait ValidatorRunner: Send + Sync {
    /// Validates (and, with `normalize_to`, canonicalises) one file. Never panics on bad
    /// input: a crash, a timeout or a memory cap is a `failed` outcome with a reason.
    fn run(&self, job: &Job) -> Outcome;
}

/// Runs jobs in this process: no isolation, no limits (tests, embedders).
#[derive(Debug, Default, Clone, Copy)]
pub struct InProcess;

impl ValidatorRunner for InProcess {
    fn run(&self, job: &Job) -> Outcome {
        let opts = ontofetch_validate::Options {
            normalize_to: job.normalize_to.as_deref(),
            max_normalize_bytes: job.limits.max_normalize_bytes,
        };
        ontofetch_validate::validate(&job.file, &opts)
    }
}

/// Runs each job in a child process (`<program> <args…> validate-worker …`) limited by
/// RLIMIT_AS, RLIMIT_CPU and a wall-clock timeout. The caller names the program: the
/// `ontofetch` binary passes its own path; the Python module passes its interpreter.
#[derive(Debug, Clone)]
pub struct Subprocess {
    /// The executable.
    pub program: PathBuf,
    /// Arguments before `validate-worker` (e.g. `-m ontofetch`).
    pub args: Vec<OsString>,
}

fn failed(message: String) -> Outcome {
    Outcome::new("rdf", Detected::Unknown, Status::Failed, Some(message))
}

impl Subprocess {
    fn command(&self, job: &Job) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            .arg("validate-worker")
            .arg("--file")
            .arg(&job.file)
            .arg("--max-normalize-bytes")
            .arg(job.limits.max_normalize_bytes.to_string());
        if let Some(n) = &job.normalize_to {
            cmd.arg("--normalize-to").arg(n);
        }
        let mem = job.limits.max_memory_bytes;
        let cpu = job.limits.timeout.as_secs() + 5;
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
        // Its own process group: a timeout kills whatever the worker started too.
        cmd.process_group(0);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null());
        cmd
    }
}

impl ValidatorRunner for Subprocess {
    fn run(&self, job: &Job) -> Outcome {
        let mut child = match self.command(job).spawn() {
            Ok(c) => c,
            Err(e) => return failed(format!("cannot start the validator {}: {e}", self.program.display())),
        };
        // Read stdout on a thread so a chatty child never blocks on a full pipe.
        let mut stdout = child.stdout.take().expect("piped");
        let reader = std::thread::spawn(move || {
            let mut out = Vec::new();
            let _ = std::io::Read::read_to_end(&mut stdout, &mut out);
            out
        });
        let deadline = Instant::now() + job.limits.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(s)) => break s,
                Ok(None) if Instant::now() >= deadline => {
                    if let Some(group) = rustix::process::Pid::from_raw(child.id() as i32) {
                        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
                    }
                    let _ = child.kill();
                    let _ = child.wait();
                    let _ = reader.join();
                    return failed(format!(
                        "the validator timed out after {} s (parser_timeout_sec)",
                        job.limits.timeout.as_secs()
                    ));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => return failed(format!("waiting for the validator: {e}")),
            }
        };
        let out = reader.join().unwrap_or_default();
        if !status.success() {
            return failed(format!(
                "the validator died ({status}); it may have exceeded max_memory_mb = {} MiB",
                job.limits.max_memory_bytes >> 20
            ));
        }
        serde_json::from_slice(&out).unwrap_or_else(|e| failed(format!("unreadable validator output: {e}")))
    }
}

/// The worker side of [`Subprocess`]: what `ontofetch validate-worker` prints.
pub fn worker_output(file: &Path, normalize_to: Option<&Path>, max_normalize_bytes: u64) -> String {
    let opts = ontofetch_validate::Options { normalize_to, max_normalize_bytes };
    serde_json::to_string(&ontofetch_validate::validate(file, &opts)).expect("outcomes serialise")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(timeout: Duration, memory: u64) -> Job {
        Job {
            file: PathBuf::from("/nonexistent"),
            normalize_to: None,
            limits: Limits { max_memory_bytes: memory, timeout, max_normalize_bytes: 0 },
        }
    }

    /// A worker that never answers is killed at the deadline, and that is a failure.
    #[test]
    fn a_worker_past_its_deadline_is_killed() {
        let sleeper = Subprocess { program: "/bin/sh".into(), args: vec!["-c".into(), "sleep 30".into(), "--".into()] };
        let started = Instant::now();
        let out = sleeper.run(&job(Duration::from_millis(500), 1 << 30));
        assert_eq!(out.status, Status::Failed);
        assert!(out.message.unwrap().contains("timed out"));
        assert!(started.elapsed() < Duration::from_secs(20), "killed, not waited for");
    }

    /// A worker that needs more memory than the cap dies, and that is a failure naming it.
    #[test]
    fn a_worker_over_its_memory_cap_dies() {
        let hog = Subprocess {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), "exec python3 -c 'x = bytearray(3 * 1024 ** 3)'".into(), "--".into()],
        };
        let out = hog.run(&job(Duration::from_secs(30), 512 << 20));
        assert_eq!(out.status, Status::Failed);
        assert!(out.message.unwrap().contains("max_memory_mb = 512"), "the cap is named");
    }

    #[test]
    fn garbage_from_a_worker_is_a_failure_not_a_crash() {
        let liar =
            Subprocess { program: "/bin/sh".into(), args: vec!["-c".into(), "echo not-json".into(), "--".into()] };
        let out = liar.run(&job(Duration::from_secs(10), 1 << 30));
        assert_eq!(out.status, Status::Failed);
        assert!(out.message.unwrap().contains("unreadable validator output"));
    }
}
