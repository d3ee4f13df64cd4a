//! Logs: `tracing` events from every crate, filtered by `--log-level` /
//! `defaults.logging.level`, as text or JSON lines on stderr (stdout is the result's), and
//! optionally as JSON lines in a daily-rotated file under `logs/` kept `retention_days`.

use ontofetch_config::settings::Logging;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

fn directive(level: &str) -> &'static str {
    match level.to_ascii_uppercase().as_str() {
        "DEBUG" => "debug",
        "WARNING" | "WARN" => "warn",
        "ERROR" => "error",
        _ => "info",
    }
}

/// Whether stderr is a terminal (else every line on it is JSON).
pub fn stderr_is_terminal() -> bool {
    std::io::IsTerminal::is_terminal(&std::io::stderr())
}

/// The last line of a failed command on stderr: `ontofetch: CODE: message` at a terminal,
/// a JSON line off one.
pub fn error_line(code: ontofetch_policy::Code, message: &str) -> String {
    if stderr_is_terminal() {
        format!("ontofetch: {code}: {message}")
    } else {
        serde_json::json!({"level": "ERROR", "code": code, "message": message}).to_string()
    }
}

/// Installs the subscriber once per process (later calls do nothing).
pub fn init(settings: Option<&Logging>, flag_level: Option<&str>) {
    let level = flag_level.or(settings.map(|s| s.level.as_str())).unwrap_or("INFO");
    // Dependencies log at their own level only when asked for DEBUG.
    let filter = || EnvFilter::new(format!("warn,ontofetch={}", directive(level)));
    // Off a terminal stderr carries one format, JSON lines, as the progress events do: a
    // log shipper or a script reads every line the same way. Text (coloured unless
    // NO_COLOR) is for people at a terminal.
    let terminal = stderr_is_terminal();
    let json = settings.is_some_and(|s| s.format == "json") || !terminal;
    let colour = terminal && !settings.is_some_and(|s| s.no_color);
    let stderr = if json {
        tracing_subscriber::fmt::layer().json().with_writer(std::io::stderr).with_filter(filter()).boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(colour)
            .with_target(false)
            .with_filter(filter())
            .boxed()
    };
    let file = settings.and_then(|s| s.file_dir.as_ref().map(|d| (d, s.retention_days))).and_then(|(dir, days)| {
        let appender = tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix("ontofetch")
            .filename_suffix("jsonl")
            .max_log_files(days.max(1) as usize)
            .build(dir)
            .ok()?;
        Some(tracing_subscriber::fmt::layer().json().with_writer(appender).with_filter(filter()).boxed())
    });
    let _ = tracing_subscriber::registry().with(stderr).with(file).try_init();
}
