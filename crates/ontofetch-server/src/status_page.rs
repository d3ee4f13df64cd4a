//! `GET /`: the mirror at a glance, server-rendered HTML without scripts, readable on a
//! phone (each row becomes a card on narrow screens). Every value shown comes from the
//! catalog or an upstream server, so all of it is escaped.

use crate::body::{self, Body};
use crate::error::ServerError;
use crate::mirror::{self, Summary};
use crate::state::ServerState;
use html_escape::{encode_double_quoted_attribute as attr, encode_text as esc};
use hyper::Response;
use std::fmt::Write;
use std::time::Duration;

const STYLE: &str = "
body{font-family:system-ui,sans-serif;margin:0;padding:1rem;color:#1a1a1a;background:#fafafa}
h1{font-size:1.4rem;margin:0 0 .3rem}
p.meta{color:#555;margin:0 0 1rem;font-size:.9rem}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{padding:.45rem .6rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
th{background:#f0f0f0;font-size:.85rem}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.ok{color:#11693a;font-weight:600}.failed{color:#b00020;font-weight:600}.none{color:#777}.past{color:#555}
code{font-size:.85em;overflow-wrap:anywhere}
td.failed small{font-weight:400;color:#444}
@media (max-width:700px){
 table,thead,tbody,tr,td{display:block;width:auto}
 thead{display:none}
 tr{border:1px solid #ddd;border-radius:6px;margin:0 0 .8rem;padding:.3rem;background:#fff}
 td{border:none;padding:.2rem .4rem}
 td::before{content:attr(data-label) ': ';font-weight:600;color:#444}
 td.num{text-align:left}
}";

fn human_bytes(n: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < units.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 { format!("{n} B") } else { format!("{v:.1} {}", units[i]) }
}

fn human_age(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min", s / 60),
        3600..=86_399 => format!("{} h", s / 3600),
        _ => format!("{} d", s / 86_400),
    }
}

fn cell(out: &mut String, label: &str, class: &str, content: &str) {
    let _ = write!(out, "<td data-label=\"{label}\" class=\"{class}\">{content}</td>");
}

fn row(out: &mut String, s: &Summary) {
    out.push_str("<tr>");
    let id = esc(&s.id);
    let link = match &s.version {
        Some(_) => format!("<a href=\"/api/v1/ontologies/{id}\">{id}</a>"),
        None => id.to_string(),
    };
    cell(out, "Ontology", "id", &link);
    // The version downloads its original (what `/obo/{id}.owl` would redirect to).
    match (&s.version, &s.filename) {
        (Some(v), Some(f)) => {
            let href = crate::artifacts::artifact_url(&s.id, v, &format!("original/{f}"));
            cell(out, "Version", "", &format!("<a href=\"{}\" download><code>{}</code></a>", attr(&href), esc(v)))
        }
        (Some(v), None) => cell(out, "Version", "", &format!("<code>{}</code>", esc(v))),
        _ => cell(out, "Version", "none", "not pulled yet"),
    }
    let age = s.downloaded_at.as_deref().and_then(mirror::age).map(human_age).unwrap_or_else(|| "–".into());
    cell(out, "Age", "num", &age);
    cell(out, "Size", "num", &s.bytes.map(human_bytes).unwrap_or_else(|| "–".into()));
    let v = s.validation.as_deref().unwrap_or("–");
    cell(
        out,
        "Validation",
        if v == "ok" {
            "ok"
        } else if v == "failed" {
            "failed"
        } else {
            "none"
        },
        &esc(v),
    );
    cell(out, "Terms", "num", &s.terms.map(|t| t.to_string()).unwrap_or_else(|| "–".into()));
    // Red only while the latest pull is the failure; an older one that a later pull
    // recovered from is shown muted. When, as a person reads it ("3 h ago"), the exact
    // time on hover.
    match &s.last_failure {
        Some(e) => {
            let when = mirror::age(&e.at).map(|d| format!("{} ago", human_age(d))).unwrap_or_else(|| e.at.clone());
            cell(
                out,
                "Last failure",
                if s.last_error_code.is_some() { "failed" } else { "past" },
                &format!(
                    "<code>{}</code> <span title=\"{}\">{}</span> <small>{}</small>",
                    e.code.map_or("?", |c| c.as_str()),
                    attr(&e.at),
                    esc(&when),
                    esc(e.message.as_deref().unwrap_or(""))
                ),
            )
        }
        None => cell(out, "Last failure", "none", "none"),
    }
    cell(out, "Refusals (24 h)", if s.refusals_24h > 0 { "num failed" } else { "num" }, &s.refusals_24h.to_string());
    // The import closure: each import links the ontology it is stored as; one that was
    // refused or failed is red with its code.
    let imports: Vec<String> = s
        .imports
        .iter()
        .map(|e| match (&e.target, e.status) {
            (Some(t), ontofetch_catalog::ImportStatus::Stored) => {
                format!("<a href=\"/api/v1/ontologies/{}\" title=\"{}\">{}</a>", attr(t), attr(&e.iri), esc(t))
            }
            (_, status) => format!(
                "<span class=\"failed\" title=\"{}\">{} <code>{}</code></span>",
                attr(&e.iri),
                esc(status.as_str()),
                e.code.map_or("", |c| c.as_str())
            ),
        })
        .collect();
    let mut listed = if imports.is_empty() { "–".to_string() } else { imports.join(", ") };
    if s.imports_total > s.imports.len() {
        listed.push_str(&format!(
            ", <a href=\"/api/v1/ontologies/{}\">and {} more</a>",
            attr(&s.id),
            s.imports_total - s.imports.len()
        ));
    }
    cell(out, "Imports", if imports.is_empty() { "none" } else { "" }, &listed);
    out.push_str("</tr>\n");
}

/// Renders the page for these summaries.
pub(crate) fn render(summaries: &[Summary], store: &str) -> String {
    let mut out = String::with_capacity(4096 + 512 * summaries.len());
    let pulled = summaries.iter().filter(|s| s.version.is_some()).count();
    let failing = summaries.iter().filter(|s| s.last_error_code.is_some()).count();
    let refusals: usize = summaries.iter().map(|s| s.refusals_24h).sum();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>ontofetch mirror</title><style>{STYLE}</style></head><body>\
         <h1>ontofetch mirror</h1>\
         <p class=\"meta\" id=\"summary\">{pulled} of {} ontologies mirrored · {failing} failing · \
         {refusals} gate refusals in the last 24 h · store <code>{}</code> · \
         <a href=\"/api/v1/ontologies\">JSON</a> · <a href=\"/metrics\">metrics</a></p>\
         <table id=\"ontologies\"><thead><tr><th>Ontology</th><th>Version</th><th>Age</th><th>Size</th>\
         <th>Validation</th><th>Terms</th><th>Last failure</th><th>Refusals (24 h)</th><th>Imports</th></tr></thead><tbody>\n",
        summaries.len(),
        esc(store),
    );
    for s in summaries {
        row(&mut out, s);
    }
    out.push_str("</tbody></table></body></html>\n");
    out
}

/// `GET /`. A person reads it: an outage is a line of text with its code, not JSON.
pub(crate) async fn page(st: &ServerState) -> Result<Response<Body>, ServerError> {
    match mirror::summaries(st).await {
        Ok(s) => {
            let store = match st.backends().await {
                Ok(Some(b)) => b.store.url(),
                _ => st.settings.dirs.root.display().to_string(),
            };
            Ok(body::html(render(&s, &store)))
        }
        Err(e) => Ok(body::text(e.status, &format!("{}: {e}\n", e.code))),
    }
}
