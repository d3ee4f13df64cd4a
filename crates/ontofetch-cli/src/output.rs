//! One place decides what goes to stdout: the JSON document under `--json`, else text.

use crate::cli::Global;
use serde_json::Value;

/// Prints a command's result.
pub fn emit(global: &Global, json: &Value, text: impl FnOnce() -> String) {
    if global.json {
        print(&serde_json::to_string_pretty(json).expect("JSON values serialise"));
    } else {
        let t = text();
        if !t.is_empty() {
            print(t.trim_end());
        }
    }
}

/// Writes one document and a newline to stdout. A reader that went away (`| head -1`)
/// is not an error worth a panic and a backtrace: the rest is dropped quietly.
pub fn print(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}").and_then(|()| out.flush());
}
