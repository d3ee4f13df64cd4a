//! One place decides what goes to stdout: the JSON document under `--json`, else text.

use ontofetch_app::Options;
use serde::Serialize;

/// Prints a command's result: the document under `--json`, else the text.
pub fn emit<T: Serialize + ?Sized>(options: &Options, doc: &T, text: impl FnOnce() -> String) {
    if options.json {
        // Documents are plain data: serialising cannot fail.
        print(&serde_json::to_string_pretty(doc).unwrap_or_default());
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
