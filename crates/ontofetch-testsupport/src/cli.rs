//! A sandbox for driving the `ontofetch` binary end to end: its own home and data root in a
//! temporary directory, every registry endpoint pointed at a loopback [`TestServer`], and
//! helpers to run a command and read its one JSON document. The binary's path comes from
//! the test (`env!("CARGO_BIN_EXE_ontofetch")`), which only the binary's own tests know.

use crate::TestServer;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// One user's machine: a home, a data root under it, a registry on loopback.
pub struct Sandbox {
    /// The temporary directory (home and working directory).
    pub dir: tempfile::TempDir,
    /// The registry every endpoint points at.
    pub server: TestServer,
    bin: PathBuf,
    offline: bool,
    env: Vec<(String, String)>,
}

/// What a command did.
pub struct Ran {
    /// Exit status (-1 when killed by a signal).
    pub code: i32,
    /// stdout parsed as JSON (`Null` when it is not).
    pub json: Value,
    /// The raw output.
    pub out: Output,
}

impl Ran {
    /// stderr as text.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    /// stdout as text.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
}

impl Sandbox {
    /// A sandbox for the binary at `bin`.
    pub fn new(bin: &str) -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
            server: TestServer::start(),
            bin: PathBuf::from(bin),
            offline: false,
            env: Vec::new(),
        }
    }

    /// A sandbox whose commands see no registry at all: no allowlist entry, no endpoint
    /// overrides, every `ONTOFETCH_*` variable of the test's own environment removed, and
    /// a home of its own (`userhome/`): what a user's first commands see.
    pub fn offline(bin: &str) -> Sandbox {
        Sandbox { offline: true, ..Sandbox::new(bin) }
    }

    /// Sets an environment variable for every command.
    pub fn with_env(mut self, key: &str, value: &str) -> Sandbox {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// The data root (`$PYSTOW_HOME/ontology-fetcher`).
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("home/ontology-fetcher")
    }

    /// A path inside the sandbox.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes `sources.yaml` in the working directory and returns its path.
    pub fn spec(&self, text: &str) -> PathBuf {
        let p = self.path("sources.yaml");
        std::fs::write(&p, text).expect("write sources.yaml");
        p
    }

    /// The command with the sandbox's environment (no network beyond the loopback server).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.bare_command(args);
        if !self.offline {
            cmd.arg("--allowed-hosts").arg(self.server.allow_entry());
        }
        cmd
    }

    /// [`Sandbox::command`] without the loopback server's allowlist entry: the
    /// configuration's own entries only.
    pub fn bare_command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args).current_dir(self.dir.path()).env("PYSTOW_HOME", self.dir.path().join("home"));
        if self.offline {
            cmd.env("HOME", self.dir.path().join("userhome"));
            for (k, _) in std::env::vars() {
                if k.starts_with("ONTOFETCH_") || k == "BIOPORTAL_API_KEY" {
                    cmd.env_remove(k);
                }
            }
        } else {
            cmd.env("HOME", self.dir.path())
                .env("ONTOFETCH_OBO_BASE_URL", self.server.url("/obo"))
                .env("ONTOFETCH_OLS_BASE_URL", self.server.url("/ols"))
                .env("ONTOFETCH_BIOPORTAL_BASE_URL", self.server.url("/bp"))
                .env("ONTOFETCH_LOV_BASE_URL", self.server.url("/lov"))
                .env("ONTOFETCH_BACKOFF_FACTOR", "0.1")
                .env_remove("ONTOFETCH_CATALOG_URL")
                .env_remove("ONTOFETCH_STORE_URL")
                .env_remove("BIOPORTAL_API_KEY");
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v))).stdin(Stdio::null());
        cmd
    }

    /// The command as another machine sharing this sandbox's registry runs it: its own home
    /// (and the data root under it) at `home`, created when missing.
    pub fn command_at(&self, home: &Path, args: &[&str]) -> Command {
        std::fs::create_dir_all(home).expect("create a home");
        let mut cmd = self.command(args);
        cmd.current_dir(home).env("HOME", home).env("PYSTOW_HOME", home);
        cmd
    }

    /// Runs to completion, or fails the test after `limit` (a hung command is the bug).
    pub fn run_within(&self, args: &[&str], limit: Duration) -> Output {
        let child = self.command(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run ontofetch");
        finish_within(child, limit, args)
    }

    /// Exit status and the one JSON document on stdout; fails the test, with stdout and
    /// stderr, when stdout is not one JSON document.
    pub fn json(&self, args: &[&str]) -> (i32, Value) {
        let out = self.run_within(args, Duration::from_secs(120));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let v = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!("stdout is not one JSON document ({e}):\n{stdout}\nstderr: {}", String::from_utf8_lossy(&out.stderr))
        });
        (out.status.code().unwrap_or(-1), v)
    }

    /// Writes a file in the working directory; its path as an argument.
    pub fn write(&self, rel: &str, text: &str) -> String {
        let p = self.path(rel);
        std::fs::write(&p, text).expect("write a file in the sandbox");
        p.display().to_string()
    }

    /// Whether no pull left staging behind.
    pub fn staging_is_empty(&self) -> bool {
        std::fs::read_dir(self.root().join(".staging")).map(|mut d| d.next().is_none()).unwrap_or(true)
    }

    /// Version directories of one ontology in the data root, sorted.
    pub fn version_dirs(&self, id: &str) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.root().join("ontologies").join(id))
            .map(|it| {
                it.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n != "latest" && !n.starts_with('.'))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    /// The latest manifest of one ontology in the data root.
    pub fn manifest(&self, id: &str) -> Value {
        let latest = self.root().join("ontologies").join(id).join("latest/manifest.json");
        serde_json::from_str(&std::fs::read_to_string(latest).expect("a latest manifest")).expect("JSON")
    }

    /// Runs a command to the end.
    pub fn run(&self, args: &[&str]) -> Ran {
        let out = self.command(args).output().expect("run ontofetch");
        let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        Ran { code: out.status.code().unwrap_or(-1), json, out }
    }

    /// Files under a directory of the data root, relative to it, sorted.
    pub fn files_under(&self, rel: &str) -> Vec<String> {
        let base = self.root().join(rel);
        let mut out = Vec::new();
        let mut stack = vec![base.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let t = e.file_type().expect("file type");
                if t.is_dir() {
                    stack.push(e.path());
                } else {
                    out.push(e.path().strip_prefix(&base).expect("under base").display().to_string());
                }
            }
        }
        out.sort();
        out
    }

    /// The file's permission bits.
    pub fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
    }
}

/// Waits for a child, killing it and failing the test past `limit`. Its pipes are drained
/// while it runs: a child that writes more than a pipe holds (64 KiB) would otherwise block
/// on the write until the limit.
fn finish_within(mut child: Child, limit: Duration, what: &[&str]) -> Output {
    fn drain(pipe: Option<impl std::io::Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut bytes);
            }
            bytes
        })
    }
    let (stdout, stderr) = (drain(child.stdout.take()), drain(child.stderr.take()));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for ontofetch") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ontofetch {what:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output { status, stdout: stdout.join().unwrap_or_default(), stderr: stderr.join().unwrap_or_default() }
}

/// A running command whose stderr is read while it runs, so a test can wait for what the
/// command says (a log line) instead of sleeping and hoping it got there.
pub struct Watched {
    child: Child,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
    stdout: Option<std::thread::JoinHandle<Vec<u8>>>,
}

impl Watched {
    /// Starts `cmd` with its stdout and stderr piped and read.
    pub fn spawn(mut cmd: Command) -> Watched {
        use std::io::{BufRead, Read};
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run ontofetch");
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (pipe, sink) = (child.stderr.take().expect("piped"), stderr.clone());
        let reader = std::thread::spawn(move || {
            for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap_or_else(|p| p.into_inner());
                s.push_str(&line);
                s.push('\n');
            }
        });
        let mut out = child.stdout.take().expect("piped");
        let stdout = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = out.read_to_end(&mut bytes);
            bytes
        });
        Watched { child, stderr, reader: Some(reader), stdout: Some(stdout) }
    }

    /// What it wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether one line of its stderr so far holds every one of `words`.
    pub fn said(&self, words: &[&str]) -> bool {
        self.stderr().lines().any(|l| words.iter().all(|w| l.contains(w)))
    }

    /// Waits until one of `watched` writes a line holding every one of `words` (bounded),
    /// failing the test past `limit` or when all of them exited without it.
    pub fn wait_for_any(watched: &mut [Watched], words: &[&str], limit: Duration) {
        let deadline = Instant::now() + limit;
        while !watched.iter().any(|w| w.said(words)) {
            assert!(Instant::now() < deadline, "none said {words:?} within {limit:?}");
            assert!(
                watched.iter_mut().any(|w| matches!(w.child.try_wait(), Ok(None))),
                "every command exited without saying {words:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills it (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for it to exit (bounded): its exit status, its stdout's JSON (`Null` when it
    /// printed none) and its stderr.
    pub fn finish(mut self, limit: Duration) -> (i32, Value, String) {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for ontofetch") {
                break status;
            }
            if Instant::now() > deadline {
                self.kill();
                panic!("ontofetch did not finish within {limit:?}:\n{}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let stdout = self.stdout.take().map(|h| h.join().unwrap_or_default()).unwrap_or_default();
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        let json = serde_json::from_slice(&stdout).unwrap_or(Value::Null);
        (status.code().unwrap_or(-1), json, self.stderr())
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.kill();
        }
    }
}

/// Waits for every child (bounded), each as its exit status, its stdout's JSON (`Null`
/// when it printed none) and its stderr.
pub fn wait_all(children: Vec<Child>, limit: Duration) -> Vec<(i32, Value, String)> {
    let deadline = Instant::now() + limit;
    children
        .into_iter()
        .map(|c| {
            let left = deadline.saturating_duration_since(Instant::now());
            let out = finish_within(c, left, &["(a concurrent run)"]);
            let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
            (out.status.code().unwrap_or(-1), v, String::from_utf8_lossy(&out.stderr).into_owned())
        })
        .collect()
}

/// The entry of a JSON array whose `id` is `id` (a pull's results, the API list).
pub fn by_id<'a>(list: &'a Value, id: &str) -> &'a Value {
    list.as_array().and_then(|a| a.iter().find(|r| r["id"] == id)).unwrap_or_else(|| panic!("{id} is not in {list}"))
}
