//! `serve` in the background (`monitor start|stop|status`): a pidfile naming the process,
//! its address and its log; a health probe; start that waits (bounded) until the server
//! answers, stop that sends SIGTERM and, after 15 s, SIGKILL. The front end builds the
//! `serve` command line; this module runs and watches it.

use crate::error::ServerError;
use hyper::StatusCode;
use ontofetch_policy::Code;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long `start` waits for the server to answer, and `stop` for it to exit.
const PATIENCE: Duration = Duration::from_secs(15);

/// What the pidfile records about a background server. Only the pid is required: a
/// pidfile written by hand or by an older version still names a process to stop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Running {
    /// Its process id.
    pub pid: i32,
    /// Where it listens.
    #[serde(default)]
    pub listen: Option<SocketAddr>,
    /// Whether it speaks TLS (then health is a TCP connect, not `GET /healthz`).
    #[serde(default)]
    pub tls: bool,
    /// Its log file.
    #[serde(default)]
    pub log: PathBuf,
    /// When it started (RFC 3339).
    #[serde(default)]
    pub started_at: String,
}

/// The server as `monitor status` reports it.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    /// The recorded process is alive.
    pub running: bool,
    /// It answers on its address.
    pub healthy: bool,
    /// The recorded process id.
    pub pid: Option<i32>,
    /// The recorded address.
    pub listen: Option<SocketAddr>,
    /// A pidfile names a process that is gone.
    pub stale_pidfile: bool,
    /// The pidfile.
    pub pidfile: PathBuf,
}

/// How `stop` went.
#[derive(Debug, Clone, Serialize)]
pub struct Stopped {
    /// A server was running.
    pub was_running: bool,
    /// Its process id, when a pidfile named one.
    pub pid: Option<i32>,
    /// It ignored SIGTERM for 15 s and was killed.
    pub forced: bool,
    /// The pidfile named a process that was already gone.
    pub stale_pidfile: bool,
}

/// Whether a process is alive.
pub fn alive(pid: i32) -> bool {
    rustix::process::Pid::from_raw(pid).is_some_and(|p| rustix::process::test_kill_process(p).is_ok())
}

/// `GET /healthz` over plain HTTP; `true` on a 200.
pub fn healthy(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n").is_err() {
        return false;
    }
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf.starts_with("HTTP/1.1 200") || buf.starts_with("HTTP/1.0 200")
}

/// Answers on its address: `GET /healthz`, or a TCP connect when it speaks TLS.
fn answers(listen: SocketAddr, tls: bool) -> bool {
    if tls { TcpStream::connect_timeout(&listen, Duration::from_millis(500)).is_ok() } else { healthy(listen) }
}

/// The background server a pidfile records, when it can be read.
pub fn read(pidfile: &Path) -> Option<Running> {
    std::fs::read_to_string(pidfile).ok().and_then(|t| serde_json::from_str(&t).ok())
}

fn io(what: String) -> impl FnOnce(std::io::Error) -> ServerError {
    move |e| ServerError::new(StatusCode::INTERNAL_SERVER_ERROR, Code::Io, format!("{what}: {e}"))
}

fn last_lines(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Starts `serve` (the command line `command`) in its own process group, its output
/// appended to `log`, records it in `pidfile`, and waits until it answers on `listen`.
pub fn start(
    mut command: Command,
    pidfile: &Path,
    log: &Path,
    listen: SocketAddr,
    tls: bool,
    started_at: String,
) -> Result<Running, ServerError> {
    if let Some(running) = read(pidfile) {
        if alive(running.pid) {
            return Err(ServerError::new(
                StatusCode::CONFLICT,
                Code::Usage,
                format!("serve is already running (pid {}); `ontofetch monitor stop` first", running.pid),
            ));
        }
        let _ = std::fs::remove_file(pidfile);
    }
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
    }
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(io(format!("opening {}", log.display())))?;
    let err = out.try_clone().map_err(io("duplicating the log handle".into()))?;
    use std::os::unix::process::CommandExt;
    let child = command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .map_err(io("starting ontofetch serve".into()))?;
    let running = Running { pid: child.id() as i32, listen: Some(listen), tls, log: log.to_path_buf(), started_at };
    let record = serde_json::to_vec(&running).unwrap_or_default();
    ontofetch_fsutil::write_atomic(pidfile, &record).map_err(io("writing the pidfile".into()))?;
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline && alive(running.pid) {
        if answers(listen, tls) {
            return Ok(running);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = std::fs::remove_file(pidfile);
    Err(ServerError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        Code::ServeStart,
        format!("serve did not come up on {listen}; last log lines:\n{}", last_lines(log, 5)),
    ))
}

/// Stops the server a pidfile records: SIGTERM, then SIGKILL after 15 s.
pub fn stop(pidfile: &Path) -> Result<Stopped, ServerError> {
    let Some(running) = read(pidfile) else {
        return Ok(Stopped { was_running: false, pid: None, forced: false, stale_pidfile: false });
    };
    let pid = running.pid;
    if !alive(pid) {
        let _ = std::fs::remove_file(pidfile);
        return Ok(Stopped { was_running: false, pid: Some(pid), forced: false, stale_pidfile: true });
    }
    let p = rustix::process::Pid::from_raw(pid)
        .ok_or_else(|| ServerError::new(StatusCode::INTERNAL_SERVER_ERROR, Code::Pidfile, format!("bad pid {pid}")))?;
    rustix::process::kill_process(p, rustix::process::Signal::TERM)
        .map_err(|e| io(format!("signalling pid {pid}"))(e.into()))?;
    let deadline = Instant::now() + PATIENCE;
    while alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let forced = alive(pid);
    if forced {
        let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
    }
    let _ = std::fs::remove_file(pidfile);
    Ok(Stopped { was_running: true, pid: Some(pid), forced, stale_pidfile: false })
}

/// Whether the server a pidfile records is alive and answering.
pub fn health(pidfile: &Path) -> Health {
    let running = read(pidfile);
    let pid = running.as_ref().map(|r| r.pid);
    let alive = pid.is_some_and(alive);
    let healthy = alive && running.as_ref().is_some_and(|r| r.listen.is_some_and(|a| answers(a, r.tls)));
    Health {
        running: alive,
        healthy,
        pid,
        listen: running.as_ref().and_then(|r| r.listen),
        stale_pidfile: pid.is_some() && !alive,
        pidfile: pidfile.to_path_buf(),
    }
}
