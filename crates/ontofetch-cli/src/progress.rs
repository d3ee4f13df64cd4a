//! Pull progress on stderr: indicatif bars when stderr is a terminal, JSON lines otherwise
//! (stdout stays reserved for the result).

use crate::pipeline::PullResult;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::json;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;

/// Where progress goes.
pub enum Progress {
    /// Bars on a terminal.
    Bars {
        /// The bar group.
        multi: MultiProgress,
        /// One bar per ontology.
        bars: Mutex<HashMap<String, ProgressBar>>,
    },
    /// One JSON object per event.
    JsonLines,
}

impl Progress {
    /// Bars if stderr is a terminal, else JSON lines.
    pub fn detect() -> Self {
        if std::io::stderr().is_terminal() {
            Progress::Bars { multi: MultiProgress::new(), bars: Mutex::new(HashMap::new()) }
        } else {
            Progress::JsonLines
        }
    }

    /// An ontology started.
    pub fn start(&self, id: &str) {
        match self {
            Progress::JsonLines => eprintln!("{}", json!({"event": "pull.start", "id": id})),
            Progress::Bars { multi, bars } => {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template(
                        "{prefix:>12} {bar:30} {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12} {msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                bar.set_prefix(id.to_string());
                bars.lock().unwrap_or_else(|p| p.into_inner()).insert(id.to_string(), bar);
            }
        }
    }

    /// A callback for the download's byte progress.
    pub fn bar(&self, id: &str) -> Box<dyn Fn(u64, Option<u64>) + Send + Sync> {
        match self {
            Progress::JsonLines => Box::new(|_, _| {}),
            Progress::Bars { bars, .. } => {
                let bar = bars.lock().unwrap_or_else(|p| p.into_inner()).get(id).cloned();
                Box::new(move |got, total| {
                    if let Some(b) = &bar {
                        if let Some(t) = total {
                            b.set_length(t);
                        }
                        b.set_position(got);
                    }
                })
            }
        }
    }

    /// An ontology ended.
    pub fn finish(&self, r: &PullResult) {
        match self {
            Progress::JsonLines => eprintln!(
                "{}",
                json!({"event": "pull.done", "id": r.id, "status": r.status, "version": r.version, "sha256": r.sha256, "error": r.error})
            ),
            Progress::Bars { bars, .. } => {
                if let Some(b) = bars.lock().unwrap_or_else(|p| p.into_inner()).get(&r.id) {
                    let msg = match &r.error {
                        Some(e) => format!("failed: {}", e["code"].as_str().unwrap_or("")),
                        None => format!("{} {}", r.status, r.version.clone().unwrap_or_default()),
                    };
                    b.finish_with_message(msg);
                }
            }
        }
    }
}
