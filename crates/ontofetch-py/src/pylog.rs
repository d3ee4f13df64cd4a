//! The API's logs go to Python's `logging`, under the logger `ontofetch`, so
//! `logging.basicConfig`, handlers and levels apply as they do to every other library (and
//! nothing is written to stderr behind the application's back, nor coloured). Installed by
//! the first API call; the command line run from Python (`ontofetch …`, `python -m
//! ontofetch`) keeps its own stderr logs.

use pyo3::prelude::*;
use std::fmt::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::util::SubscriberInitExt;

/// The `ontofetch` logger's effective level (Python's numbers), read at every API call so
/// a level set after import applies; events below it are not even formatted.
static THRESHOLD: AtomicU8 = AtomicU8::new(30);

fn python_level(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 40,
        Level::WARN => 30,
        Level::INFO => 20,
        _ => 10,
    }
}

/// The event's message and its fields as `key=value`.
#[derive(Default)]
struct Text(String);

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}

struct PythonLogging;

impl<S: Subscriber> Layer<S> for PythonLogging {
    // Asked at every event, not cached per call site: the logger's level can change.
    fn register_callsite(&self, _: &'static Metadata<'static>) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::sometimes()
    }

    fn enabled(&self, meta: &Metadata<'_>, _: Context<'_, S>) -> bool {
        let level = python_level(meta.level());
        // Dependencies speak only when something is wrong.
        level >= THRESHOLD.load(Ordering::Relaxed) && (meta.target().starts_with("ontofetch") || level >= 30)
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut text = Text::default();
        event.record(&mut text);
        let level = python_level(event.metadata().level());
        Python::attach(|py| {
            let logged = py
                .import("logging")
                .and_then(|m| m.call_method1("getLogger", ("ontofetch",)))
                .and_then(|logger| logger.call_method1("log", (level, text.0.trim_start())));
            // A handler that raises must not fail the pull that logged.
            if let Err(e) = logged {
                e.print(py);
            }
        });
    }
}

/// Routes the process's logs to Python's `logging` (once) and reads the logger's level.
pub fn install(py: Python<'_>) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    let level = py
        .import("logging")
        .and_then(|m| m.call_method1("getLogger", ("ontofetch",)))
        .and_then(|l| l.call_method0("getEffectiveLevel"))
        .and_then(|l| l.extract::<u8>())
        .unwrap_or(30);
    THRESHOLD.store(level, Ordering::Relaxed);
    ONCE.call_once(|| {
        use tracing_subscriber::layer::SubscriberExt;
        let _ = tracing_subscriber::registry().with(PythonLogging).try_init();
    });
}
