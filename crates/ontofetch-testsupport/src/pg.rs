//! A throwaway PostgreSQL cluster for tests: `initdb` into a temporary directory, `pg_ctl`
//! on 127.0.0.1 and a free port, trust authentication, fsync off. Run as the `postgres`
//! user when the tests run as root (initdb refuses root). Stopped and removed when
//! dropped. The server binaries come from Debian's `postgresql` package (`.ci/run`
//! installs it where missing).

use std::path::{Path, PathBuf};
use std::process::Command;

/// A running cluster.
pub struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    /// Extra server settings (`-c key=value …`).
    settings: String,
}

/// The newest PostgreSQL's server binaries, when installed.
pub fn find_bin_dir() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").is_file())
        .collect();
    found.sort();
    found.pop()
}

fn bin_dir() -> PathBuf {
    find_bin_dir().unwrap_or_else(|| {
        panic!(
            "PostgreSQL server binaries not found under /usr/lib/postgresql: apt-get install postgresql (.ci/run does)"
        )
    })
}

fn is_root() -> bool {
    rustix_uid() == 0
}

fn rustix_uid() -> u32 {
    // Read our uid from /proc without a libc dependency.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(u32::MAX)
}

impl Cluster {
    fn command(&self, program: &str) -> Command {
        let exe = self.bin.join(program);
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = self.command(program).args(args).output().unwrap_or_else(|e| panic!("{program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Creates and starts a cluster.
    pub fn start() -> Cluster {
        Cluster::start_with("")
    }

    /// A cluster that keeps what it acknowledged across a crash (fsync and synchronous
    /// commit on, unlike the fast default): for tests that crash it (`stop`) and then hold
    /// the mirror to what was reported stored.
    pub fn start_durable() -> Cluster {
        Cluster::start_with("-c fsync=on -c synchronous_commit=on -c full_page_writes=on")
    }

    /// A cluster that logs every statement it executes (to count them: `statements`).
    pub fn start_logging_statements() -> Cluster {
        Cluster::start_with("-c log_statement=all")
    }

    fn start_with(settings: &str) -> Cluster {
        let dir = tempfile::Builder::new().prefix("ontofetch-pg-").tempdir().expect("temp dir");
        let port = crate::local::free_port();
        let cluster = Cluster { bin: bin_dir(), dir, port, settings: settings.to_string() };
        if is_root() {
            let status = Command::new("chown").args(["-R", "postgres:postgres"]).arg(cluster.dir.path()).status();
            assert!(status.is_ok_and(|s| s.success()), "chown the cluster directory to postgres");
        }
        let data = cluster.data();
        cluster
            .run("initdb", &["-D", &data, "-U", "ontofetch", "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"]);
        cluster.ctl_start();
        cluster
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn ctl_start(&self) {
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 {}",
            self.port,
            self.dir.path().display(),
            self.settings
        );
        let log = self.dir.path().join("server.log").display().to_string();
        self.run("pg_ctl", &["-D", &self.data(), "-o", &opts, "-l", &log, "-w", "-t", "60", "start"]);
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A fresh database in the cluster, as a URL.
    pub fn database(&self, name: &str) -> String {
        self.run(
            "psql",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "ontofetch",
                "-d",
                "postgres",
                "-qc",
                &format!("CREATE DATABASE \"{name}\""),
            ],
        );
        format!("postgresql://ontofetch@127.0.0.1:{}/{name}", self.port)
    }

    /// Stops the server (immediate: like a crash), until [`Cluster::resume`].
    pub fn stop(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "immediate", "-w", "stop"]);
    }

    /// Starts a stopped server again.
    pub fn resume(&self) {
        self.ctl_start();
    }

    /// Stops the server (fast shutdown: sessions are cut) and starts it again.
    pub fn restart(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
        self.ctl_start();
    }

    /// Statements executed so far (with `start_logging_statements`): each simple-query
    /// statement and each execution of a prepared one is one line of the log.
    pub fn statements(&self) -> usize {
        self.log().lines().filter(|l| l.contains("LOG:  statement: ") || l.contains("LOG:  execute ")).count()
    }

    /// The server's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The cluster's directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.command("pg_ctl").args(["-D", &self.data(), "-m", "immediate", "-w", "stop"]).output();
    }
}
