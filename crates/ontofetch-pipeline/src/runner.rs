//! Where validators run. Parsers of untrusted files can blow up (memory, CPU, a bug), so
//! the binary runs each job in a child process under rlimits and a wall-clock timeout
//! ([`Subprocess`]); tests and embedders that accept the risk run them in-process
//! ([`InProcess`]). The pipeline only sees the [`ValidatorRunner`] trait.

use ontofetch_validate::{Detected, Normalize, Options, Outcome, Status};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// WorkerLimits for one job (from `defaults.validation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerLimits {
    /// Address-space cap.
    pub max_memory_bytes: u64,
    /// Wall-clock cap.
    pub timeout: Duration,
    /// Largest blank-node component RDFC-1.0 canonicalises (blank nodes).
    pub rdfc_max_component: usize,
    /// Memory the external sort of canonical lines may use.
    pub sort_memory_bytes: u64,
    /// Canonical forms use lower-case language tags.
    pub lowercase_language_tags: bool,
}

impl WorkerLimits {
    /// From `defaults.validation`. Sorting gets a quarter of the memory cap, at most
    /// 256 MiB: parsing windows, thread stacks and the allocator need the rest.
    pub fn from_settings(settings: &ontofetch_config::Settings) -> Self {
        let v = &settings.defaults().validation;
        let max_memory_bytes = v.max_memory_mb << 20;
        WorkerLimits {
            max_memory_bytes,
            timeout: Duration::from_secs(v.parser_timeout_sec),
            rdfc_max_component: v.rdfc_max_component as usize,
            sort_memory_bytes: (max_memory_bytes / 4).min(256 << 20),
            lowercase_language_tags: v.language_tags == ontofetch_config::schema::LanguageTagCase::Lowercase,
        }
    }

    /// What to write for a file whose normalised outputs go to `dir` as `<stem>.*`.
    pub fn normalize(&self, dir: &Path, stem: &str, formats: &[String]) -> Normalize {
        Normalize {
            dir: dir.to_path_buf(),
            stem: stem.to_string(),
            formats: formats.to_vec(),
            rdfc_max_component: self.rdfc_max_component,
            sort_memory_bytes: self.sort_memory_bytes,
            second_pass: false,
            terms: false,
            fused: false,
            lowercase_language_tags: self.lowercase_language_tags,
        }
    }
}

/// One validation job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The file to validate.
    pub file: PathBuf,
    /// What to write besides validating, and how many threads.
    pub options: Options,
    /// WorkerLimits.
    pub limits: WorkerLimits,
}

/// Runs validation jobs. `run` blocks; the pipeline calls it on the blocking pool.
pub trait ValidatorRunner: Send + Sync {
    /// Validates (and normalises, as the options ask) one file. Never panics on bad input:
    /// a crash, a timeout or a memory cap is a `failed` outcome with a reason.
    fn run(&self, job: &Job) -> Outcome;
}

/// Runs jobs in this process: no isolation, no limits (tests, embedders).
#[derive(Debug, Default, Clone, Copy)]
pub struct InProcess;

impl ValidatorRunner for InProcess {
    fn run(&self, job: &Job) -> Outcome {
        ontofetch_validate::validate(&job.file, &job.options)
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

/// A failure of the job itself, labelled with the validator the file would have had.
fn failed(file: &Path, message: String) -> Outcome {
    let detected = ontofetch_validate::sniff_file(file).unwrap_or(Detected::Unknown);
    Outcome::new(ontofetch_validate::validator_for(detected), detected, Status::Failed, Some(message))
}

impl Subprocess {
    fn command(&self, job: &Job) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            .arg("validate-worker")
            .arg("--file")
            .arg(&job.file)
            .arg("--options")
            .arg(serde_json::to_string(&job.options).expect("options serialise"));
        let mem = job.limits.max_memory_bytes;
        cmd.env("MALLOC_ARENA_MAX", malloc_arenas(mem, job.options.threads()).to_string());
        let cpu = job.limits.timeout.as_secs() + 5;
        let fsize = output_cap(&job.file);
        use std::os::unix::process::CommandExt;
        // SAFETY: only async-signal-safe calls (setrlimit, prctl) run between fork and exec.
        // The workspace denies unsafe code; this is its one exception.
        #[allow(unsafe_code)]
        unsafe {
            cmd.pre_exec(move || {
                use rustix::process::{Resource, Rlimit, Signal, set_parent_process_death_signal, setrlimit};
                setrlimit(Resource::As, Rlimit { current: Some(mem), maximum: Some(mem) })?;
                setrlimit(Resource::Cpu, Rlimit { current: Some(cpu), maximum: Some(cpu) })?;
                // No file the job writes may outgrow the input by more than a normaliser
                // ever does (SIGXFSZ ends it; its partial files are never promoted).
                setrlimit(Resource::Fsize, Rlimit { current: Some(fsize), maximum: Some(fsize) })?;
                // A pull killed with SIGKILL takes its validator with it: an orphan would go
                // on writing into a staging directory the next pull reclaims.
                set_parent_process_death_signal(Some(Signal::KILL))?;
                Ok(())
            });
        }
        // Its own process group: a timeout kills whatever the worker started too.
        cmd.process_group(0);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null());
        cmd
    }
}

/// Address space glibc reserves for each malloc arena beyond the first (`HEAP_MAX_SIZE` on
/// 64-bit), which RLIMIT_AS counts whether or not it is ever touched.
const ARENA_RESERVE: u64 = 64 << 20;

/// The malloc arenas a job of `threads` parsing threads gets under an address-space cap of
/// `max_memory_bytes`: one per thread and one for the thread that collects, as long as
/// their reservations take at most an eighth of the cap; else fewer, down to the one arena
/// every process has. One arena costs threads that allocate much (fastobo and horned-owl:
/// an OBO job ran 40 % longer on one) a lock per malloc; under a small cap the reservations
/// would crowd out the parse itself.
pub fn malloc_arenas(max_memory_bytes: u64, threads: usize) -> u64 {
    let wanted = threads as u64 + 1;
    let affordable = 1 + max_memory_bytes / 8 / ARENA_RESERVE;
    wanted.min(affordable).max(1)
}

/// The largest file a validation job may write: 32 times its input (N-Triples of RDF/XML,
/// the OWL translation of OBO stay well under it), at least 1 GiB.
pub fn output_cap(input: &std::path::Path) -> u64 {
    std::fs::metadata(input).map(|m| m.len()).unwrap_or(0).saturating_mul(32).max(1 << 30)
}

impl ValidatorRunner for Subprocess {
    fn run(&self, job: &Job) -> Outcome {
        let mut child = match self.command(job).spawn() {
            Ok(c) => c,
            Err(e) => return failed(&job.file, format!("cannot start the validator {}: {e}", self.program.display())),
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
                    return failed(
                        &job.file,
                        format!(
                            "the validator timed out after {} s (parser_timeout_sec)",
                            job.limits.timeout.as_secs()
                        ),
                    );
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => return failed(&job.file, format!("waiting for the validator: {e}")),
            }
        };
        let out = reader.join().unwrap_or_default();
        if !status.success() {
            return failed(&job.file, death(status, &job.limits, output_cap(&job.file)));
        }
        serde_json::from_slice(&out).unwrap_or_else(|e| failed(&job.file, format!("unreadable validator output: {e}")))
    }
}

/// Why a validator died, from how it ended: each limit that kills names itself (CPU time,
/// file size) and the signals of a crash (a stack overflow aborts) are not blamed on memory.
fn death(status: std::process::ExitStatus, limits: &WorkerLimits, fsize: u64) -> String {
    use std::os::unix::process::ExitStatusExt;
    let mib = limits.max_memory_bytes >> 20;
    match status.signal() {
        Some(s) if s == rustix::process::Signal::XCPU.as_raw() => format!(
            "the validator used up its CPU time ({} s, from parser_timeout_sec) and was stopped",
            limits.timeout.as_secs() + 5
        ),
        Some(s) if s == rustix::process::Signal::XFSZ.as_raw() => {
            format!("the validator tried to write a file over {fsize} bytes (32 times the input) and was stopped")
        }
        // Rust aborts both when an allocation fails under RLIMIT_AS and on a stack overflow.
        Some(s) if s == rustix::process::Signal::ABORT.as_raw() => format!(
            "the validator aborted (signal {s}): out of memory under max_memory_mb = {mib} MiB, or a stack overflow"
        ),
        Some(s) if s == rustix::process::Signal::SEGV.as_raw() || s == rustix::process::Signal::BUS.as_raw() => {
            format!("the validator crashed (signal {s}: a parser bug), not a memory limit")
        }
        Some(s) if s == rustix::process::Signal::KILL.as_raw() => {
            format!("the validator was killed (signal 9: out of memory, max_memory_mb = {mib} MiB, or by the system)")
        }
        // Rust reports allocation failure under RLIMIT_AS by aborting or a nonzero exit.
        _ => format!("the validator died ({status}); it may have exceeded max_memory_mb = {mib} MiB"),
    }
}

/// The worker side of [`Subprocess`]: what `ontofetch validate-worker` prints for a file
/// and the job's options (JSON).
pub fn worker_output(file: &Path, options: &str) -> String {
    let outcome = match serde_json::from_str::<Options>(options) {
        Ok(opts) => ontofetch_validate::validate(file, &opts),
        Err(e) => failed(file, format!("unreadable validator options: {e}")),
    };
    serde_json::to_string(&outcome).expect("outcomes serialise")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(timeout: Duration, memory: u64) -> Job {
        Job {
            file: PathBuf::from("/nonexistent"),
            options: Options::default(),
            limits: WorkerLimits {
                max_memory_bytes: memory,
                timeout,
                rdfc_max_component: 0,
                sort_memory_bytes: 1 << 20,
                lowercase_language_tags: false,
            },
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

    /// A worker stopped by its CPU limit or a crash says so, not "memory".
    #[test]
    fn each_way_to_die_names_itself() {
        let by = |signal: &str| {
            let w = Subprocess {
                program: "/bin/sh".into(),
                args: vec!["-c".into(), format!("kill -{signal} $$").into(), "--".into()],
            };
            w.run(&job(Duration::from_secs(30), 512 << 20)).message.unwrap()
        };
        assert!(by("XCPU").contains("CPU time"), "{}", by("XCPU"));
        assert!(by("XFSZ").contains("write a file over"));
        assert!(by("SEGV").contains("crashed") && !by("SEGV").contains("max_memory_mb"));
        assert!(by("ABRT").contains("max_memory_mb = 512") && by("ABRT").contains("stack overflow"));
    }

    /// Parsing threads get arenas of their own under the default cap, and a small cap is
    /// not spent on arena reservations; the child is started with what the rule says.
    #[test]
    fn malloc_arenas_follow_the_threads_within_an_eighth_of_the_cap() {
        assert_eq!(malloc_arenas(2048 << 20, 2), 3, "two parsing threads and the collector");
        assert_eq!(malloc_arenas(2048 << 20, 4), 5);
        assert_eq!(malloc_arenas(512 << 20, 4), 2, "an eighth of 512 MiB is one reservation");
        assert_eq!(malloc_arenas(128 << 20, 4), 1, "a small cap keeps the one arena");
        assert_eq!(malloc_arenas(0, 0), 1);
        let env = |memory: u64, threads: usize| {
            let mut j = job(Duration::from_secs(1), memory);
            j.options.threads = threads;
            let w = Subprocess { program: "/bin/true".into(), args: vec![] };
            let cmd = w.command(&j);
            let arenas = cmd.get_envs().find(|(k, _)| *k == "MALLOC_ARENA_MAX").and_then(|(_, v)| v);
            arenas.map(|v| v.to_string_lossy().into_owned())
        };
        assert_eq!(env(2048 << 20, 2).as_deref(), Some("3"));
        assert_eq!(env(128 << 20, 2).as_deref(), Some("1"));
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
