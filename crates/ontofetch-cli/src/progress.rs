//! The two ways a pull shows progress on stderr (stdout stays reserved for the result):
//! indicatif bars on a terminal, JSON-lines events otherwise.

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use ontofetch_app::events::Event;
use ontofetch_pipeline::{PullObserver, PullResult, ValidationSummary};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;

/// A byte-count bar on stderr for long work (`doctor --verify`), only on a terminal.
pub fn bytes_bar(wanted: bool, what: &str) -> Option<ProgressBar> {
    if !wanted || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>12} {bar:30} {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12} {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_prefix(what.to_string());
    Some(bar)
}

/// Bars if stderr is a terminal, else JSON lines.
pub fn detect() -> Box<dyn PullObserver> {
    if std::io::stderr().is_terminal() { Box::new(Bars::default()) } else { Box::new(JsonLines) }
}

/// One JSON object per event on stderr.
pub struct JsonLines;

impl PullObserver for JsonLines {
    fn started(&self, id: &str) {
        eprintln!("{}", Event::Start { id }.to_json());
    }

    fn validated(&self, id: &str, summary: &ValidationSummary) {
        eprintln!("{}", Event::Validated { id, validation: summary }.to_json());
    }

    fn finished(&self, r: &PullResult) {
        eprintln!("{}", Event::done(r).to_json());
    }
}

/// One progress bar per ontology.
#[derive(Default)]
pub struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Bars {
    fn bar(&self, id: &str) -> Option<ProgressBar> {
        self.bars.lock().unwrap_or_else(|p| p.into_inner()).get(id).cloned()
    }
}

impl PullObserver for Bars {
    fn started(&self, id: &str) {
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>12} {bar:30} {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_prefix(id.to_string());
        self.bars.lock().unwrap_or_else(|p| p.into_inner()).insert(id.to_string(), bar);
    }

    fn bytes(&self, id: &str, received: u64, total: Option<u64>) {
        if let Some(b) = self.bar(id) {
            if let Some(t) = total {
                b.set_length(t);
            }
            b.set_position(received);
        }
    }

    fn validated(&self, id: &str, summary: &ValidationSummary) {
        if let Some(b) = self.bar(id) {
            b.set_message(format!("validated: {}", summary.status));
        }
    }

    fn finished(&self, r: &PullResult) {
        if let Some(b) = self.bar(&r.id) {
            let msg = match &r.error {
                Some(e) => format!("failed: {}", e.code),
                None => format!("{} {}", r.status.as_str(), r.version.clone().unwrap_or_default()),
            };
            b.finish_with_message(msg);
        }
    }
}
