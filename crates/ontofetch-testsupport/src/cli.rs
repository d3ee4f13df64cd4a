//! A sandbox for driving the `ontofetch` binary end to end: its own home and data root in a
//! temporary directory, every registry endpoint pointed at a loopback [`TestServer`], and
//! helpers to run a command and read its one JSON document. The binary's path comes from
//! the test (`env!("CARGO_BIN_EXE_ontofetch")`), which only the binary's own tests know.

use crate::TestServer;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// One user's machine: a home, a data root under it, a registry on loopback.
pub struct Sandbox {
    /// The temporary directory (home and working directory).
    pub dir: tempfile::TempDir,
    /// The registry every endpoint points at.
    pub server: TestServer,
    bin: PathBuf,
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
        Sandbox { dir: tempfile::tempdir().expect("temp dir"), server: TestServer::start(), bin: PathBuf::from(bin) }
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
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .arg("--allowed-hosts")
            .arg(self.server.allow_entry())
            .current_dir(self.dir.path())
            .env("PYSTOW_HOME", self.dir.path().join("home"))
            .env("HOME", self.dir.path())
            .env("ONTOFETCH_OBO_BASE_URL", self.server.url("/obo"))
            .env("ONTOFETCH_OLS_BASE_URL", self.server.url("/ols"))
            .env("ONTOFETCH_BIOPORTAL_BASE_URL", self.server.url("/bp"))
            .env("ONTOFETCH_LOV_BASE_URL", self.server.url("/lov"))
            .env("ONTOFETCH_BACKOFF_FACTOR", "0.1")
            .env_remove("ONTOFETCH_CATALOG_URL")
            .env_remove("ONTOFETCH_STORE_URL")
            .env_remove("BIOPORTAL_API_KEY")
            .stdin(Stdio::null());
        cmd
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
