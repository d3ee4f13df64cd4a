//! `monitor start|stop|status|grafana-config`, for every front end: `serve` in the
//! background with a pidfile and a log, its health, and the provisioning files.

use crate::context::Context;
use crate::error::AppError;
use crate::report::{Report, safe};
use ontofetch_pipeline::now_rfc3339;
use ontofetch_server::supervise;
use serde::Serialize;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Where the background server's process id is kept.
pub fn pidfile(ctx: &Context) -> PathBuf {
    ctx.dirs.root.join("serve.pid")
}

/// A background server that was started.
#[derive(Debug, Clone, Serialize)]
pub struct Started {
    /// Always true.
    pub ok: bool,
    /// Its process id.
    pub pid: i32,
    /// Where it listens.
    pub listen: SocketAddr,
    /// Its log.
    pub log: PathBuf,
}

impl Report for Started {
    fn human(&self) -> String {
        format!("serve running (pid {}) on {}; log {}", self.pid, self.listen, self.log.display())
    }
}

/// Starts `serve` with `serve_args` (its own command line after the program) in the
/// background, with this context's data root, configuration and allowlist.
pub fn start(ctx: &Context, serve_args: Vec<OsString>, listen: SocketAddr, tls: bool) -> Result<Started, AppError> {
    ctx.settings()?;
    let mut cmd = std::process::Command::new(&ctx.worker.program);
    cmd.args(&ctx.worker.args).arg("--data-root").arg(&ctx.dirs.root);
    if let Some(spec) = &ctx.options.spec {
        cmd.arg("--spec").arg(spec);
    }
    for h in &ctx.options.allowed_hosts {
        cmd.arg("--allowed-hosts").arg(h);
    }
    cmd.args(serve_args);
    let log = ctx.dirs.logs.join("serve.log");
    let running = supervise::start(cmd, &pidfile(ctx), &log, listen, tls, now_rfc3339())?;
    Ok(Started { ok: true, pid: running.pid, listen, log })
}

/// What `monitor stop` did.
#[derive(Debug, Clone, Serialize)]
pub struct Stopped {
    /// Always true.
    pub ok: bool,
    /// A server was running.
    pub was_running: bool,
    /// The pidfile named a process that was already gone.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stale_pidfile: bool,
    /// Its process id, when a pidfile named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    /// It ignored SIGTERM for 15 s and was killed (only when one was running).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forced: Option<bool>,
}

impl Report for Stopped {
    fn human(&self) -> String {
        let pid = self.pid.unwrap_or(0);
        match (self.was_running, self.stale_pidfile) {
            (true, _) => format!(
                "stopped serve (pid {pid}){}",
                if self.forced == Some(true) { " with SIGKILL after 15 s" } else { "" }
            ),
            (false, true) => format!("removed a stale pidfile (pid {pid} was not running)"),
            (false, false) => "serve is not running".into(),
        }
    }
}

/// Stops the background server (SIGTERM, SIGKILL after 15 s).
pub fn stop(ctx: &Context) -> Result<Stopped, AppError> {
    let s = supervise::stop(&pidfile(ctx))?;
    Ok(Stopped {
        ok: true,
        was_running: s.was_running,
        stale_pidfile: s.stale_pidfile,
        pid: s.pid,
        forced: s.was_running.then_some(s.forced),
    })
}

/// `monitor status`.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Status(pub supervise::Health);

impl Status {
    /// A failure (exit 1) unless the server runs and answers.
    pub fn outcome(&self) -> Result<(), AppError> {
        if self.0.running && self.0.healthy {
            Ok(())
        } else {
            Err(AppError::check_failed("serve is not running and healthy"))
        }
    }
}

impl Report for Status {
    fn human(&self) -> String {
        let h = &self.0;
        let pid = h.pid.unwrap_or(0);
        let listen = h.listen.map(|a| a.to_string()).unwrap_or_default();
        match (h.running, h.healthy) {
            (true, true) => format!("serve running (pid {pid}) on {listen}, healthy"),
            (true, false) => format!("serve running (pid {pid}) but /healthz does not answer"),
            _ if h.stale_pidfile => "serve is not running (stale pidfile; `monitor stop` removes it)".into(),
            _ => "serve is not running".into(),
        }
    }
}

/// Whether the background server runs and answers.
pub fn status(ctx: &Context) -> Status {
    Status(supervise::health(&pidfile(ctx)))
}

/// The provisioning files written.
#[derive(Debug, Clone, Serialize)]
pub struct Provisioned {
    /// Always true.
    pub ok: bool,
    /// Every file.
    pub files: Vec<PathBuf>,
}

impl Report for Provisioned {
    fn human(&self) -> String {
        self.files.iter().map(|f| safe(&f.display().to_string())).collect::<Vec<_>>().join("\n")
    }
}

/// Writes the Grafana, Prometheus and Alertmanager provisioning under `out`, after checking
/// what the command line gave.
pub fn provision(out: &Path, p: &ontofetch_monitor::Provisioning) -> Result<Provisioned, AppError> {
    let a = &p.alerting;
    if !(0.0..=1.0).contains(&a.removed_share) {
        return Err(AppError::usage(format!("--removed-share {}: a share between 0 and 1", a.removed_share)));
    }
    if !(a.webhook_url.starts_with("http://") || a.webhook_url.starts_with("https://")) {
        return Err(AppError::usage(format!("--webhook-url {}: an http(s) URL", a.webhook_url)));
    }
    Ok(Provisioned { ok: true, files: ontofetch_monitor::write_tree(out, p)? })
}
