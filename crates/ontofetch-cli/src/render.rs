//! Text renderings of results (the `--json` forms are the results themselves).

use ontofetch_catalog::VersionRow;
use ontofetch_pipeline::PullResult;
use ontofetch_pipeline::plan_diff::PlanDiff;
use serde_json::Value;
use std::path::Path;

/// A value from outside (a registry's version, a licence label, a term's label, an error
/// message) made safe for one line of a terminal: control characters (newlines, ESC and
/// the rest of C0 and C1) and bidi controls become visible `\u{…}` escapes, so no value can
/// forge report lines or move the cursor.
pub fn safe(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            let bidi = matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
            if c.is_control() || bidi { format!("\\u{{{:x}}}", c as u32) } else { c.to_string() }
        })
        .collect()
}

/// `show ID`: what a person asks of a stored version — where the file is, whether it
/// validated (and what each validator counted), what was noted — with the rest of the
/// manifest in `--json`.
pub fn manifest(m: &Value) -> String {
    let text = |k: &str| m[k].as_str().map(safe);
    let mut out = format!(
        "{} {} ({}, {})\n",
        text("id").unwrap_or_default(),
        text("version").unwrap_or_default(),
        text("status").unwrap_or_default(),
        text("resolver").unwrap_or_default()
    );
    let mut line = |label: &str, value: String| out.push_str(&format!("  {label:<11} {value}\n"));
    line("url:", text("url").unwrap_or_default());
    let filename = m["filename"].as_str().unwrap_or_default();
    let original = m["artifacts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find(|a| a.ends_with(&format!("/original/{filename}")));
    let size = m["content_length"].as_u64().map(|b| format!(" ({b} bytes)")).unwrap_or_default();
    line("file:", format!("{}{size}", original.map(safe).unwrap_or_else(|| safe(filename))));
    line("sha256:", text("sha256").unwrap_or_default());
    let mode = m["normalization"]["mode"].as_str().map(|s| format!(" ({})", safe(s))).unwrap_or_default();
    let canonical = match text("normalized_sha256") {
        Some(h) => format!("{h}{mode}"),
        None => {
            m["normalization"]["skipped_reason"].as_str().map(|s| format!("none: {}", safe(s))).unwrap_or("none".into())
        }
    };
    line("canonical:", canonical);
    line("licence:", text("license").unwrap_or_else(|| "unknown".into()));
    line("downloaded:", text("downloaded_at").unwrap_or_default());
    for (name, entry) in m["validation"].as_object().into_iter().flatten() {
        let d = &entry["details"];
        let status = entry["status"].as_str().unwrap_or(if entry["ok"] == true { "ok" } else { "failed" });
        let mut v = format!("{}: {}", safe(name), safe(status));
        if let (Some(s), Some(t)) = (d["statements"].as_u64(), d["terms"].as_u64()) {
            v.push_str(&format!(", {s} statements, {t} terms"));
        }
        if let Some(msg) = d["message"].as_str() {
            v.push_str(&format!(" — {}", safe(msg)));
        }
        line("validation:", v);
        let outputs: Vec<String> =
            entry["output_files"].as_array().into_iter().flatten().filter_map(Value::as_str).map(safe).collect();
        if !outputs.is_empty() {
            line("outputs:", outputs.join(", "));
        }
    }
    for e in m["import_closure"].as_array().into_iter().flatten() {
        let target = e["target"].as_str().map(|t| format!(" -> {}", safe(t))).unwrap_or_default();
        let code = e["code"].as_str().map(|c| format!(" {c}")).unwrap_or_default();
        line(
            "imports:",
            format!(
                "{}{target} ({}{code})",
                safe(e["iri"].as_str().unwrap_or_default()),
                safe(e["status"].as_str().unwrap_or_default())
            ),
        );
    }
    for n in m["notes"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        line("note:", safe(n));
    }
    out.trim_end().to_string()
}

/// The pull table: one row per ontology, notes and validation under it.
pub fn pull_table(results: &[PullResult]) -> String {
    let mut out = format!(
        "{:<14} {:<10} {:<8} {:<28} {:>12}  {:<14} {}\n",
        "id", "resolver", "status", "version", "bytes", "sha256", "file / error"
    );
    for r in results {
        let tail = match &r.error {
            // The table shows the primary failure; the other resolvers' are in --json.
            Some(e) => format!("{}: {}", e.code, safe(e.message.split(" (also tried ").next().unwrap_or(&e.message))),
            None => safe(&r.path.clone().unwrap_or_default()),
        };
        out.push_str(&format!(
            "{:<14} {:<10} {:<8} {:<28} {:>12}  {:<14} {}\n",
            safe(&r.id),
            r.resolver.clone().unwrap_or_default(),
            r.status.as_str(),
            safe(&r.version.clone().unwrap_or_default()),
            r.content_length.map(|b| b.to_string()).unwrap_or_default(),
            r.sha256.as_deref().map(|s| &s[..12.min(s.len())]).unwrap_or(""),
            tail
        ));
        if let Some(v) = &r.validation {
            out.push_str(&format!("{:<14} validation: {}\n", "", safe(&v.brief())));
        }
        for n in &r.notes {
            out.push_str(&format!("{:<14} note: {}\n", "", safe(n)));
        }
    }
    out
}

/// A validation report: the verdict, the counts, the canonical hash or why there is none.
pub fn validation(name: &str, o: &ontofetch_validate::Outcome) -> String {
    let mut out = format!("{name}: {} {} ({:?})\n", o.validator, o.status.as_str(), o.format);
    if let Some(m) = &o.message {
        out.push_str(&format!("  {}\n", safe(m)));
    }
    let estimated = if o.terms_estimated { " (estimated)" } else { "" };
    out.push_str(&format!("  statements {}, terms {}{estimated}", o.statements, o.terms));
    for (what, n) in [("typedefs", o.typedefs), ("instances", o.instances), ("obsolete", o.obsolete)] {
        if let Some(n) = n {
            out.push_str(&format!(", {what} {n}"));
        }
    }
    out.push('\n');
    if let Some(v) = o.data_version.as_ref().or(o.version_iri.as_ref()) {
        out.push_str(&format!("  version {}\n", safe(v)));
    }
    match (&o.normalized_sha256, &o.normalization_skipped) {
        (Some(h), _) => {
            out.push_str(&format!("  canonical sha256 {h} ({})\n", o.normalization.as_deref().unwrap_or("")))
        }
        (None, Some(why)) => out.push_str(&format!("  no canonical hash: {}\n", safe(why))),
        _ => {}
    }
    for f in &o.outputs {
        out.push_str(&format!("  {} {} bytes {}\n", f.format, f.bytes, f.path));
    }
    out
}

/// The plan table.
pub fn plan_table(plans: &[Value]) -> String {
    let mut out = format!("{:<14} {:<10} {:<10} {:<24} {}\n", "id", "resolver", "service", "version", "url / error");
    for v in plans {
        let s = |k: &str| safe(v.get(k).and_then(Value::as_str).unwrap_or(""));
        let tail = match v.get("error") {
            Some(e) => format!("{}: {}", e["code"].as_str().unwrap_or(""), safe(e["message"].as_str().unwrap_or(""))),
            None => s("url"),
        };
        out.push_str(&format!(
            "{:<14} {:<10} {:<10} {:<24} {tail}\n",
            s("id"),
            s("resolver"),
            s("service"),
            s("version")
        ));
    }
    out
}

/// `+ id …`, `- id`, `~ id field: a -> b`.
pub fn plan_diff_text(d: &PlanDiff, updated: Option<&Path>) -> String {
    let mut out = String::new();
    for a in &d.added {
        let id = a["id"].as_str().unwrap_or("");
        out.push_str(&format!(
            "+ {} version={} url={}\n",
            safe(id),
            safe(&a["version"].to_string()),
            safe(a["url"].as_str().unwrap_or(""))
        ));
    }
    for r in &d.removed {
        out.push_str(&format!("- {}\n", safe(r["id"].as_str().unwrap_or(""))));
    }
    for m in &d.modified {
        let changes: Vec<String> = m["changes"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, c)| format!("{k}: {} -> {}", safe(&c["before"].to_string()), safe(&c["after"].to_string())))
            .collect();
        out.push_str(&format!("~ {} {}\n", safe(m["id"].as_str().unwrap_or("")), changes.join(", ")));
    }
    if out.is_empty() {
        out.push_str("No plan differences detected\n");
    }
    if let Some(p) = updated {
        out.push_str(&format!("Updated baseline at {}\n", p.display()));
    }
    out
}

/// Catalog rows.
pub fn rows(rows: &[VersionRow], latest: &Latest) -> String {
    let mut out = format!(
        "{:<14} {:<30} {:<12} {:<6} {:<24} {:>12}  {}\n",
        "id", "version", "verdict", "latest", "downloaded_at", "bytes", "sha256"
    );
    for r in rows {
        let is_latest = latest.contains(&(r.ontology.clone(), r.version.clone()));
        out.push_str(&format!(
            "{:<14} {:<30} {:<12} {:<6} {:<24} {:>12}  {}\n",
            safe(&r.ontology),
            safe(&r.version),
            r.verdict.as_str(),
            if is_latest { "*" } else { "" },
            r.downloaded_at,
            r.bytes,
            &r.sha256[..12.min(r.sha256.len())]
        ));
    }
    out
}

/// The (ontology, version) pairs that are `latest`.
pub type Latest = std::collections::HashSet<(String, String)>;

/// Version rows as JSON, each with `latest: true|false`.
pub fn marked_rows(rows: &[VersionRow], latest: &Latest) -> Vec<serde_json::Value> {
    rows.iter()
        .map(|r| {
            let mut v = serde_json::to_value(r).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.insert("latest".into(), latest.contains(&(r.ontology.clone(), r.version.clone())).into());
            }
            v
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_values_cannot_forge_lines_or_drive_the_terminal() {
        let forged = "1.0\nbfo     obo  fresh  2020  ok\u{1b}[2J\u{202e}";
        let shown = safe(forged);
        assert!(!shown.contains('\n') && !shown.contains('\u{1b}') && !shown.contains('\u{202e}'), "{shown}");
        assert!(shown.contains("\\u{a}") && shown.contains("\\u{1b}"), "{shown}");
        let text = manifest(&serde_json::json!({"id": "x", "license": "CC-BY\r\nid: forged"}));
        let forged: Vec<&str> = text.lines().filter(|l| l.contains("forged")).collect();
        assert_eq!(forged.len(), 1, "{text}");
        assert!(forged[0].trim_start().starts_with("licence:"), "{text}");
        assert_eq!(safe("café – ok"), "café – ok", "printable text is untouched");
    }
}
