//! One place decides what goes to stdout: a report's JSON document under `--json`, else
//! its human form.

use ontofetch_app::{Options, Report};

/// Prints a command's report.
pub fn emit(options: &Options, report: &impl Report) {
    if options.json {
        // Reports are plain data: serialising cannot fail.
        print(&serde_json::to_string_pretty(report).unwrap_or_default());
    } else {
        let t = report.human();
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
