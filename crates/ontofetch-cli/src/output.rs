//! One place decides what goes to stdout: the JSON document under `--json`, else text.

use crate::cli::Global;
use serde_json::Value;

/// Prints a command's result.
pub fn emit(global: &Global, json: &Value, text: impl FnOnce() -> String) {
    if global.json {
        println!("{}", serde_json::to_string_pretty(json).expect("JSON values serialise"));
    } else {
        let t = text();
        if !t.is_empty() {
            println!("{}", t.trim_end());
        }
    }
}
