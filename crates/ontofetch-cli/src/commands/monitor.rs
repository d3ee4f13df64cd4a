//! `ontofetch monitor start|stop|status|grafana-config|dashboard`: `serve` in the
//! background with a pidfile and a log, and the provisioning files.

use crate::cli::ServeArgs;
use crate::context::Context;
use crate::error::CliError;
use crate::output::emit;
use ontofetch_pipeline::now_rfc3339;
use ontofetch_policy::Code;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn pidfile(ctx: &Context) -> PathBuf {
    ctx.dirs.root.join("serve.pid")
}

fn alive(pid: i32) -> bool {
    rustix::process::Pid::from_raw(pid).is_some_and(|p| rustix::process::test_kill_process(p).is_ok())
}

/// GET /healthz over plain HTTP on loopback; `true` on a 200.
fn healthy(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n").is_err() {
        return false;
    }
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf.starts_with("HTTP/1.1 200") || buf.starts_with("HTTP/1.0 200")
}

fn read_pidfile(ctx: &Context) -> Option<Value> {
    std::fs::read_to_string(pidfile(ctx)).ok().and_then(|t| serde_json::from_str(&t).ok())
}

/// The `serve` command line a background server runs.
fn serve_command(ctx: &Context, args: &ServeArgs) -> std::process::Command {
    let mut cmd = std::process::Command::new(&ctx.worker.program);
    cmd.args(&ctx.worker.args).arg("--data-root").arg(&ctx.dirs.root);
    if let Some(spec) = &ctx.global.spec {
        cmd.arg("--spec").arg(spec);
    }
    for h in &ctx.global.allowed_hosts {
        cmd.arg("--allowed-hosts").arg(h);
    }
    cmd.arg("serve").arg("--listen").arg(args.addr().to_string());
    cmd.arg("--max-connections").arg(args.max_connections.to_string());
    cmd.arg("--header-timeout-sec").arg(args.header_timeout_sec.to_string());
    if let Some(r) = args.refresh {
        cmd.arg("--refresh").arg(humantime::format_duration(r).to_string());
    }
    for (flag, v) in [
        ("--tls-cert", &args.tls_cert),
        ("--tls-key", &args.tls_key),
        ("--bearer-token-file", &args.bearer_token_file),
        ("--basic-auth-file", &args.basic_auth_file),
        ("--artifacts-bearer-token-file", &args.artifacts_bearer_token_file),
        ("--artifacts-basic-auth-file", &args.artifacts_basic_auth_file),
    ] {
        if let Some(p) = v {
            cmd.arg(flag).arg(p);
        }
    }
    cmd
}

/// Waits (bounded) until the server answers on `listen`.
fn wait_up(pid: i32, listen: SocketAddr, tls: bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline && alive(pid) {
        let up =
            if tls { TcpStream::connect_timeout(&listen, Duration::from_millis(300)).is_ok() } else { healthy(listen) };
        if up {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

fn last_lines(path: &std::path::Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// `monitor start`.
pub fn start(ctx: &mut Context, args: &ServeArgs) -> Result<(), CliError> {
    ctx.settings()?;
    if let Some(info) = read_pidfile(ctx) {
        let pid = info["pid"].as_i64().unwrap_or(0) as i32;
        if alive(pid) {
            return Err(CliError::usage(format!(
                "serve is already running (pid {pid}); `ontofetch monitor stop` first"
            )));
        }
        let _ = std::fs::remove_file(pidfile(ctx));
    }
    std::fs::create_dir_all(&ctx.dirs.logs)
        .map_err(|e| CliError::io(format!("creating {}", ctx.dirs.logs.display()), e))?;
    let log_path = ctx.dirs.logs.join("serve.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| CliError::io(format!("opening {}", log_path.display()), e))?;
    use std::os::unix::process::CommandExt;
    let err_log = log.try_clone().map_err(|e| CliError::io("duplicating the log handle", e))?;
    let child = serve_command(ctx, args)
        .stdin(std::process::Stdio::null())
        .stdout(log)
        .stderr(err_log)
        .process_group(0)
        .spawn()
        .map_err(|e| CliError::io("starting ontofetch serve", e))?;
    let pid = child.id() as i32;
    let info = json!({"pid": pid, "listen": args.addr().to_string(), "tls": args.tls_cert.is_some(), "log": log_path, "started_at": now_rfc3339()});
    ontofetch_fsutil::write_atomic(&pidfile(ctx), info.to_string().as_bytes())
        .map_err(|e| CliError::io("writing the pidfile", e))?;
    if !wait_up(pid, args.addr(), args.tls_cert.is_some()) {
        let _ = std::fs::remove_file(pidfile(ctx));
        return Err(CliError::new(
            Code::ServeStart,
            format!("serve did not come up on {}; last log lines:\n{}", args.addr(), last_lines(&log_path, 5)),
        ));
    }
    emit(&ctx.global, &json!({"ok": true, "pid": pid, "listen": args.addr().to_string(), "log": log_path}), || {
        format!("serve running (pid {pid}) on {}; log {}", args.addr(), log_path.display())
    });
    Ok(())
}

/// `monitor stop`.
pub fn stop(ctx: &mut Context) -> Result<(), CliError> {
    let Some(info) = read_pidfile(ctx) else {
        emit(&ctx.global, &json!({"ok": true, "was_running": false}), || "serve is not running".into());
        return Ok(());
    };
    let pid = info["pid"].as_i64().unwrap_or(0) as i32;
    if !alive(pid) {
        let _ = std::fs::remove_file(pidfile(ctx));
        emit(&ctx.global, &json!({"ok": true, "was_running": false, "stale_pidfile": true, "pid": pid}), || {
            format!("removed a stale pidfile (pid {pid} was not running)")
        });
        return Ok(());
    }
    let p =
        rustix::process::Pid::from_raw(pid).ok_or_else(|| CliError::new(Code::Pidfile, format!("bad pid {pid}")))?;
    rustix::process::kill_process(p, rustix::process::Signal::TERM)
        .map_err(|e| CliError::io(format!("signalling pid {pid}"), e.into()))?;
    let deadline = Instant::now() + Duration::from_secs(15);
    while alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let forced = alive(pid);
    if forced {
        let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
    }
    let _ = std::fs::remove_file(pidfile(ctx));
    emit(&ctx.global, &json!({"ok": true, "was_running": true, "pid": pid, "forced": forced}), || {
        format!("stopped serve (pid {pid}){}", if forced { " with SIGKILL after 15 s" } else { "" })
    });
    Ok(())
}

/// `monitor status`: exit 0 when running and healthy, 1 otherwise.
pub fn status(ctx: &mut Context) -> Result<(), CliError> {
    let info = read_pidfile(ctx);
    let pid = info.as_ref().and_then(|i| i["pid"].as_i64()).map(|p| p as i32);
    let listen: Option<SocketAddr> = info.as_ref().and_then(|i| i["listen"].as_str()).and_then(|s| s.parse().ok());
    let running = pid.is_some_and(alive);
    let tls = info.as_ref().is_some_and(|i| i["tls"] == true);
    let health = running
        && listen.is_some_and(|a| {
            if tls { TcpStream::connect_timeout(&a, Duration::from_millis(500)).is_ok() } else { healthy(a) }
        });
    let doc = json!({"running": running, "healthy": health, "pid": pid, "listen": listen.map(|a| a.to_string()), "stale_pidfile": pid.is_some() && !running, "pidfile": pidfile(ctx)});
    emit(&ctx.global, &doc, || match (running, health) {
        (true, true) => format!(
            "serve running (pid {}) on {}, healthy",
            pid.unwrap_or(0),
            listen.map(|a| a.to_string()).unwrap_or_default()
        ),
        (true, false) => format!("serve running (pid {}) but /healthz does not answer", pid.unwrap_or(0)),
        _ if pid.is_some() => "serve is not running (stale pidfile; `monitor stop` removes it)".into(),
        _ => "serve is not running".into(),
    });
    if running && health { Ok(()) } else { Err(CliError::check_failed("serve is not running and healthy")) }
}

/// `monitor grafana-config`.
pub fn grafana_config(
    ctx: &Context,
    out: &std::path::Path,
    prometheus_url: &str,
    target: &str,
    alerts: &crate::cli::AlertArgs,
) -> Result<(), CliError> {
    let mut receivers = Vec::new();
    for name in &alerts.receivers {
        receivers.push(
            ontofetch_monitor::Receiver::parse(name).ok_or_else(|| {
                CliError::usage(format!("--receivers {name}: choose among slack, pagerduty, webhook"))
            })?,
        );
    }
    if !(0.0..=1.0).contains(&alerts.removed_share) {
        return Err(CliError::usage(format!("--removed-share {}: a share between 0 and 1", alerts.removed_share)));
    }
    if !(alerts.webhook_url.starts_with("http://") || alerts.webhook_url.starts_with("https://")) {
        return Err(CliError::usage(format!("--webhook-url {}: an http(s) URL", alerts.webhook_url)));
    }
    let p = ontofetch_monitor::Provisioning {
        prometheus_url: prometheus_url.to_string(),
        target: target.to_string(),
        alertmanager: alerts.alertmanager.clone(),
        scrape_interval: alerts.scrape_interval.clone(),
        alerting: ontofetch_monitor::Alerting {
            receivers,
            slack_api_url_file: alerts.slack_api_url_file.clone(),
            slack_channel: alerts.slack_channel.clone(),
            pagerduty_routing_key_file: alerts.pagerduty_routing_key_file.clone(),
            webhook_url: alerts.webhook_url.clone(),
            webhook_token_file: Some(alerts.webhook_token_file.clone()),
            group_wait: alerts.group_wait.clone(),
            removed_share: alerts.removed_share,
        },
    };
    let files = ontofetch_monitor::write_tree(out, &p)?;
    emit(&ctx.global, &json!({"ok": true, "files": files}), || {
        files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join("\n")
    });
    Ok(())
}

/// `monitor dashboard`: the dashboard JSON on stdout (with or without --json).
pub fn dashboard() -> Result<(), CliError> {
    crate::output::print(&serde_json::to_string_pretty(&ontofetch_monitor::dashboard()).expect("JSON"));
    Ok(())
}
