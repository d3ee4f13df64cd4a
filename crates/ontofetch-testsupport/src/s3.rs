//! A real S3 server for tests: `s3s-fs` (crates.io `s3s-fs`, built by `.ci/run` into
//! `target/test-tools/bin`), listening on 127.0.0.1 and a free port, with its own
//! credentials and a temporary root. Buckets are directories under the root. Stopped when
//! dropped.

use crate::local::{ChildGuard, free_port};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The access key the server accepts.
pub const ACCESS_KEY: &str = "ontofetch-test";
/// The secret key the server accepts.
pub const SECRET_KEY: &str = "ontofetch-test-secret";

/// A running server.
pub struct S3Server {
    child: Option<ChildGuard>,
    root: tempfile::TempDir,
    port: u16,
}

/// Where the `s3s-fs` binary is: `target/test-tools/bin` of this workspace, else `PATH`.
pub fn find() -> Option<PathBuf> {
    let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-tools/bin/s3s-fs");
    if tools.is_file() {
        return Some(tools);
    }
    crate::servers::on_path("s3s-fs")
}

/// [`find`], or a failure saying how to build it.
pub fn binary() -> PathBuf {
    find().unwrap_or_else(|| {
        panic!(
            "s3s-fs not found: cargo install s3s-fs@0.14.1 --features binary --locked --root target/test-tools (.ci/run does)"
        )
    })
}

impl S3Server {
    /// Starts the server with one empty bucket.
    pub fn start(bucket: &str) -> S3Server {
        let root = tempfile::Builder::new().prefix("ontofetch-s3-").tempdir().expect("temp dir");
        std::fs::create_dir(root.path().join(bucket)).expect("bucket directory");
        let mut server = S3Server { child: None, root, port: free_port() };
        server.resume();
        server
    }

    /// Stops the server (an outage): connections are refused until [`S3Server::resume`].
    pub fn stop(&mut self) {
        self.child = None;
    }

    /// Freezes the server (SIGSTOP): connections hang mid-request, as a stalled server's
    /// would, until [`S3Server::thaw`]. A test uses it to hold an upload half-done.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// Lets a frozen server run again (SIGCONT).
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, which: &str) {
        let child = self.child.as_ref().expect("the server is running");
        let status = Command::new("kill").args([which, &child.0.id().to_string()]).status().expect("run kill(1)");
        assert!(status.success(), "kill {which} s3s-fs");
    }

    /// Multipart uploads the server holds open (started, neither completed nor aborted):
    /// s3s-fs keeps one `.upload-<id>.json` per upload in its root.
    pub fn open_uploads(&self) -> usize {
        std::fs::read_dir(self.root.path())
            .map(|d| {
                d.flatten()
                    .filter(|e| {
                        let n = e.file_name().to_string_lossy().into_owned();
                        n.starts_with(".upload-") && n.ends_with(".json")
                    })
                    .count()
            })
            .unwrap_or(0)
    }

    /// Starts the server again on the same port and root.
    pub fn resume(&mut self) {
        let port = self.port;
        let child = Command::new(binary())
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--access-key",
                ACCESS_KEY,
                "--secret-key",
                SECRET_KEY,
            ])
            .arg(self.root.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start s3s-fs");
        self.child = Some(ChildGuard(child));
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "s3s-fs did not start on port {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The `AWS_*` variables a client needs.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ALLOW_HTTP", "true".into()),
        ]
    }

    /// The directory that holds a bucket's objects (to plant or remove objects behind the
    /// client's back, as a crash or another tool would).
    pub fn bucket_dir(&self, bucket: &str) -> PathBuf {
        self.root.path().join(bucket)
    }

    /// Every object key in a bucket (files under its directory), sorted.
    pub fn keys(&self, bucket: &str) -> Vec<String> {
        let base = self.bucket_dir(bucket);
        let mut out = Vec::new();
        let mut stack = vec![base.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
                    out.push(p.strip_prefix(&base).expect("under the bucket").to_string_lossy().into_owned());
                }
            }
        }
        out.sort();
        out
    }
}
