//! Observability provisioning generated from one source (docs/architecture.md, "Metrics"): the Grafana
//! dashboard, the Prometheus alert and recording rules, `promtool test rules` cases for
//! every alert, and the Grafana datasource/provider files. Panels and alerts name only
//! metrics of the registry; every query is run against a real Prometheus in the tests.

#![warn(missing_docs)]

pub mod alertmanager;

pub use alertmanager::{Alerting, Receiver};
use ontofetch_policy::Code;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// One query of a panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// PromQL.
    pub expr: &'static str,
    /// Legend template.
    pub legend: &'static str,
}

/// One dashboard panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panel {
    /// Title.
    pub title: &'static str,
    /// Grafana panel type.
    pub kind: &'static str,
    /// Grafana unit.
    pub unit: &'static str,
    /// Queries.
    pub queries: Vec<Query>,
}

/// One alert: `signal` selects the series, `condition` turns it into an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Alert name.
    pub name: &'static str,
    /// The measured quantity (returns data whenever ontofetch is scraped).
    pub signal: &'static str,
    /// Comparison appended to the signal (`> 0`).
    pub condition: &'static str,
    /// How long it must hold.
    pub for_: &'static str,
    /// `page` or `ticket`.
    pub severity: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// What to do.
    pub description: &'static str,
    /// Synthetic series (promtool `input_series`) that make it fire.
    pub firing_series: Vec<(&'static str, &'static str)>,
    /// When to check it fires in the promtool test.
    pub eval_time: &'static str,
    /// Labels the firing alert carries (besides severity).
    pub firing_labels: Vec<(&'static str, &'static str)>,
    /// The description rendered for the synthetic series (checks the template too).
    pub firing_description: &'static str,
}

impl Alert {
    /// The full alert expression.
    pub fn expr(&self) -> String {
        format!("{} {}", self.signal, self.condition)
    }
}

/// A recording rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// Recorded series name (`level:metric:operations`).
    pub record: &'static str,
    /// PromQL.
    pub expr: &'static str,
}

fn q(expr: &'static str, legend: &'static str) -> Query {
    Query { expr, legend }
}

/// The dashboard's panels.
pub fn panels() -> Vec<Panel> {
    vec![
        Panel {
            title: "Gate decisions per second",
            kind: "timeseries",
            unit: "ops",
            queries: vec![q(
                "sum by (gate, decision) (rate(ontofetch_gate_decisions_total[5m]))",
                "{{gate}} {{decision}}",
            )],
        },
        Panel {
            title: "Rejections by code (last hour)",
            kind: "bargauge",
            unit: "short",
            queries: vec![q(
                "sum by (gate, code) (increase(ontofetch_gate_rejections_total[1h]))",
                "{{gate}} {{code}}",
            )],
        },
        Panel {
            title: "Gate latency p50 / p99",
            kind: "timeseries",
            unit: "s",
            queries: vec![
                q(
                    "histogram_quantile(0.5, sum by (le, gate) (rate(ontofetch_gate_duration_seconds_bucket[5m])))",
                    "p50 {{gate}}",
                ),
                q(
                    "histogram_quantile(0.99, sum by (le, gate) (rate(ontofetch_gate_duration_seconds_bucket[5m])))",
                    "p99 {{gate}}",
                ),
            ],
        },
        Panel {
            title: "Download results (last hour)",
            kind: "bargauge",
            unit: "short",
            queries: vec![q(
                "sum by (resolver, result) (increase(ontofetch_downloads_total[1h]))",
                "{{resolver}} {{result}}",
            )],
        },
        Panel {
            title: "Bytes downloaded and extracted",
            kind: "timeseries",
            unit: "Bps",
            queries: vec![
                q("rate(ontofetch_download_bytes_total[5m])", "downloaded"),
                q("rate(ontofetch_extracted_bytes_total[5m])", "extracted"),
            ],
        },
        Panel {
            title: "HTTP errors and retries",
            kind: "timeseries",
            unit: "ops",
            queries: vec![
                q(
                    "sum by (service, code_class) (rate(ontofetch_http_requests_total{code_class!=\"2xx\"}[5m]))",
                    "{{service}} {{code_class}}",
                ),
                q("sum by (service) (rate(ontofetch_http_retries_total[5m]))", "{{service}} retries"),
            ],
        },
        Panel {
            title: "Validation failures (last hour)",
            kind: "bargauge",
            unit: "short",
            queries: vec![q(
                "sum by (validator) (increase(ontofetch_validations_total{result=\"failed\"}[1h]))",
                "{{validator}}",
            )],
        },
        Panel {
            title: "Time since last successful pull",
            kind: "bargauge",
            unit: "s",
            queries: vec![q("time() - ontofetch_ontology_last_success_timestamp_seconds", "{{ontology}}")],
        },
        Panel {
            title: "Term changes by release (last day)",
            kind: "bargauge",
            unit: "short",
            queries: vec![
                q(
                    "sum by (ontology, kind) (increase(ontofetch_ontology_term_changes_total[1d]))",
                    "{{ontology}} {{kind}}",
                ),
                q("max by (ontology) (ontofetch_ontology_terms_removed_ratio)", "{{ontology}} removed share"),
            ],
        },
        Panel {
            title: "Store size",
            kind: "stat",
            unit: "bytes",
            queries: vec![q("ontofetch_store_bytes", "bytes"), q("ontofetch_store_artifacts", "artifacts")],
        },
    ]
}

/// The alert on a release removing too many terms (its threshold is configurable).
pub const TERMS_REMOVED: &str = "OntofetchTermsRemoved";

/// The alert rules.
pub fn alerts() -> Vec<Alert> {
    vec![
        Alert {
            name: "OntofetchSSRFAttempt",
            signal: "sum by (gate, code) (increase(ontofetch_gate_rejections_total{gate=~\"url|ip|redirect\",code=~\"E_PRIVATE_IP|E_USERINFO|E_HOST_DENIED|E_SCHEME|E_IDN|E_PORT\"}[15m]))",
            condition: "> 0",
            for_: "0m",
            severity: "ticket",
            summary: "A URL, redirect or DNS answer aimed at a forbidden target was refused",
            description: "{{ $labels.gate }} refused {{ $value }} request(s) with {{ $labels.code }}; check the registry metadata or redirects that produced them.",
            firing_series: vec![(
                "ontofetch_gate_rejections_total{gate=\"redirect\",code=\"E_PRIVATE_IP\"}",
                "0 1 2 3 4 5 6 7 8 9",
            )],
            eval_time: "5m",
            firing_labels: vec![("gate", "redirect"), ("code", Code::PrivateIp.as_str())],
            firing_description: "redirect refused 5 request(s) with E_PRIVATE_IP; check the registry metadata or redirects that produced them.",
        },
        Alert {
            name: "OntofetchExtractionBomb",
            signal: "sum by (code) (increase(ontofetch_gate_rejections_total{gate=\"extraction\",code=~\"E_RATIO|E_OVERLAP|E_ENTRY_SIZE|E_SIZE_LIMIT|E_ENTRY_COUNT|E_NESTING\"}[1h]))",
            condition: "> 0",
            for_: "0m",
            severity: "page",
            summary: "An archive looked like a decompression bomb and was refused",
            description: "{{ $value }} archive entries refused with {{ $labels.code }} in the last hour.",
            firing_series: vec![(
                "ontofetch_gate_rejections_total{gate=\"extraction\",code=\"E_RATIO\"}",
                "0 0 1 1 1 1 1 1 1 1",
            )],
            eval_time: "5m",
            firing_labels: vec![("code", Code::Ratio.as_str())],
            firing_description: "1 archive entries refused with E_RATIO in the last hour.",
        },
        Alert {
            name: "OntofetchPathTraversal",
            signal: "sum by (gate, code) (increase(ontofetch_gate_rejections_total{code=~\"E_TRAVERSAL|E_ABSOLUTE_PATH|E_LINK\"}[1h]))",
            condition: "> 0",
            for_: "0m",
            severity: "page",
            summary: "A path tried to leave the store root",
            description: "{{ $labels.gate }} refused {{ $value }} path(s) with {{ $labels.code }}.",
            firing_series: vec![(
                "ontofetch_gate_rejections_total{gate=\"filesystem\",code=\"E_TRAVERSAL\"}",
                "0 1 1 1 1 1 1 1 1 1",
            )],
            eval_time: "5m",
            firing_labels: vec![("gate", "filesystem"), ("code", Code::Traversal.as_str())],
            firing_description: "filesystem refused 1 path(s) with E_TRAVERSAL.",
        },
        Alert {
            name: "OntofetchGateErrors",
            signal: "sum by (gate) (increase(ontofetch_gate_errors_total[15m]))",
            condition: "> 0",
            for_: "0m",
            severity: "page",
            summary: "A gate failed to decide (it failed closed)",
            description: "The {{ $labels.gate }} gate failed {{ $value }} time(s); this is a bug, see the logs.",
            firing_series: vec![("ontofetch_gate_errors_total{gate=\"storage\"}", "0 0 0 1 1 1 1 1 1 1")],
            eval_time: "5m",
            firing_labels: vec![("gate", "storage")],
            firing_description: "The storage gate failed 1 time(s); this is a bug, see the logs.",
        },
        Alert {
            name: "OntofetchOntologyStale",
            signal: "time() - max by (ontology) (ontofetch_ontology_last_success_timestamp_seconds)",
            condition: "> 172800",
            for_: "10m",
            severity: "ticket",
            summary: "An ontology has not been pulled successfully for two days",
            // The series starts at 0 (no success yet): an age of decades means "never".
            description: "{{ if gt $value 1e9 }}{{ $labels.ontology }} has never been pulled successfully.{{ else }}{{ $labels.ontology }} last succeeded {{ $value | humanizeDuration }} ago.{{ end }}",
            firing_series: vec![("ontofetch_ontology_last_success_timestamp_seconds{ontology=\"bfo\"}", "0x3000")],
            eval_time: "49h",
            firing_labels: vec![("ontology", "bfo")],
            firing_description: "bfo last succeeded 2d 1h 0m 0s ago.",
        },
        Alert {
            name: "OntofetchDownloadFailureRatio",
            signal: "sum(rate(ontofetch_downloads_total{result=\"failed\"}[30m])) / clamp_min(sum(rate(ontofetch_downloads_total[30m])), 1e-9)",
            condition: "> 0.3",
            for_: "0m",
            severity: "ticket",
            summary: "More than 30% of downloads fail",
            description: "{{ $value | humanizePercentage }} of downloads failed over 30 minutes.",
            firing_series: vec![
                ("ontofetch_downloads_total{resolver=\"obo\",result=\"failed\"}", "0+2x10"),
                ("ontofetch_downloads_total{resolver=\"obo\",result=\"fetched\"}", "0+1x10"),
            ],
            eval_time: "5m",
            firing_labels: vec![],
            firing_description: "66.67% of downloads failed over 30 minutes.",
        },
        Alert {
            name: "OntofetchValidationFailures",
            signal: "sum by (validator) (increase(ontofetch_validations_total{result=\"failed\"}[1h]))",
            condition: "> 0",
            for_: "0m",
            severity: "ticket",
            summary: "Downloaded ontologies failed validation",
            description: "{{ $labels.validator }} failed {{ $value }} time(s) in the last hour; the last good versions were kept.",
            firing_series: vec![(
                "ontofetch_validations_total{validator=\"rdf\",result=\"failed\"}",
                "0 1 2 2 2 2 2 2 2 2",
            )],
            eval_time: "5m",
            firing_labels: vec![("validator", "rdf")],
            firing_description: "rdf failed 2 time(s) in the last hour; the last good versions were kept.",
        },
        Alert {
            name: "OntofetchGateLatencyHigh",
            signal: "histogram_quantile(0.99, sum by (le, gate) (rate(ontofetch_gate_duration_seconds_bucket[5m])))",
            condition: "> 0.01",
            for_: "5m",
            severity: "ticket",
            summary: "Gate decisions are slow (p99 over 10 ms)",
            description: "p99 of the {{ $labels.gate }} gate is {{ $value | humanizeDuration }}; gates should take microseconds.",
            firing_series: vec![
                ("ontofetch_gate_duration_seconds_bucket{gate=\"url\",le=\"0.004096\"}", "0+0x20"),
                ("ontofetch_gate_duration_seconds_bucket{gate=\"url\",le=\"0.016384\"}", "0+0x20"),
                ("ontofetch_gate_duration_seconds_bucket{gate=\"url\",le=\"0.065536\"}", "0+10x20"),
                ("ontofetch_gate_duration_seconds_bucket{gate=\"url\",le=\"+Inf\"}", "0+10x20"),
            ],
            eval_time: "15m",
            firing_labels: vec![("gate", "url")],
            firing_description: "p99 of the url gate is 65.04ms; gates should take microseconds.",
        },
        Alert {
            name: "OntofetchHTTPErrors",
            signal: "sum by (service) (rate(ontofetch_http_requests_total{code_class=~\"5xx|error\"}[15m]))",
            condition: "> 0.05",
            for_: "5m",
            severity: "ticket",
            summary: "A registry keeps answering with server errors",
            description: "{{ $labels.service }}: {{ $value }} errors per second.",
            firing_series: vec![("ontofetch_http_requests_total{service=\"ols\",code_class=\"5xx\"}", "0+10x30")],
            eval_time: "15m",
            firing_labels: vec![("service", "ols")],
            firing_description: "ols: 0.16666666666666666 errors per second.",
        },
        Alert {
            name: TERMS_REMOVED,
            signal: "max by (ontology) (ontofetch_ontology_terms_removed_ratio)",
            condition: "> 0.05",
            for_: "0m",
            severity: "ticket",
            summary: "A new release removed many terms",
            description: "The latest {{ $labels.ontology }} release removed {{ $value | humanizePercentage }} of the previous release's terms; see `ontofetch diff {{ $labels.ontology }}` before consumers pick it up.",
            firing_series: vec![("ontofetch_ontology_terms_removed_ratio{ontology=\"bfo\"}", "0.5x10")],
            eval_time: "5m",
            firing_labels: vec![("ontology", "bfo")],
            firing_description: "The latest bfo release removed 50% of the previous release's terms; see `ontofetch diff bfo` before consumers pick it up.",
        },
        Alert {
            name: "OntofetchAttestationVerifyFailed",
            signal: "sum by (instance) (increase(ontofetch_attestation_verify_failures_total[1h]))",
            condition: "> 0",
            for_: "0m",
            severity: "page",
            summary: "Stored bytes or signatures do not hold against their attestation",
            description: "An attestation check failed on {{ $labels.instance }} in the last hour: bytes that are not the attested ones, or a signature that does not verify under the mirror's key. Run `ontofetch doctor --verify` and `ontofetch verify ID` before anyone consumes them.",
            firing_series: vec![("ontofetch_attestation_verify_failures_total{instance=\"127.0.0.1:9464\"}", "0+1x10")],
            eval_time: "5m",
            firing_labels: vec![("instance", "127.0.0.1:9464")],
            firing_description: "An attestation check failed on 127.0.0.1:9464 in the last hour: bytes that are not the attested ones, or a signature that does not verify under the mirror's key. Run `ontofetch doctor --verify` and `ontofetch verify ID` before anyone consumes them.",
        },
        Alert {
            name: "OntofetchLogCheckpointStale",
            signal: "time() - max by (instance) (ontofetch_log_checkpoint_timestamp_seconds > 0)",
            condition: "> 172800",
            for_: "1h",
            severity: "ticket",
            summary: "The transparency log has not been published for two days",
            description: "{{ $labels.instance }} last published its log checkpoint over two days ago: its refreshes are failing to publish (`ontofetch log show`, `ontofetch log publish`), and consumers cannot see new versions in the log.",
            firing_series: vec![(
                "ontofetch_log_checkpoint_timestamp_seconds{instance=\"127.0.0.1:9464\"}",
                "1+0x4400",
            )],
            eval_time: "3d",
            firing_labels: vec![("instance", "127.0.0.1:9464")],
            firing_description: "127.0.0.1:9464 last published its log checkpoint over two days ago: its refreshes are failing to publish (`ontofetch log show`, `ontofetch log publish`), and consumers cannot see new versions in the log.",
        },
        Alert {
            name: "OntofetchDown",
            signal: "up{job=\"ontofetch\"}",
            condition: "== 0",
            for_: "5m",
            severity: "page",
            summary: "Prometheus cannot scrape ontofetch serve",
            description: "{{ $labels.instance }} has been down for 5 minutes.",
            firing_series: vec![("up{job=\"ontofetch\",instance=\"127.0.0.1:9464\"}", "0x20")],
            eval_time: "10m",
            firing_labels: vec![("job", "ontofetch"), ("instance", "127.0.0.1:9464")],
            firing_description: "127.0.0.1:9464 has been down for 5 minutes.",
        },
    ]
}

/// Recording rules: the ratios and quantiles dashboards use (never exported by the binary).
pub fn recordings() -> Vec<Recording> {
    vec![
        Recording {
            record: "ontofetch:gate_decisions:rate5m",
            expr: "sum by (gate, decision) (rate(ontofetch_gate_decisions_total[5m]))",
        },
        Recording {
            record: "ontofetch:gate_rejection_ratio:rate5m",
            expr: "sum by (gate) (rate(ontofetch_gate_decisions_total{decision=\"reject\"}[5m])) / clamp_min(sum by (gate) (rate(ontofetch_gate_decisions_total[5m])), 1e-9)",
        },
        Recording {
            record: "ontofetch:gate_duration_seconds:p99_5m",
            expr: "histogram_quantile(0.99, sum by (le, gate) (rate(ontofetch_gate_duration_seconds_bucket[5m])))",
        },
        Recording {
            record: "ontofetch:download_failure_ratio:rate30m",
            expr: "sum(rate(ontofetch_downloads_total{result=\"failed\"}[30m])) / clamp_min(sum(rate(ontofetch_downloads_total[30m])), 1e-9)",
        },
    ]
}

/// The Prometheus rules file (alerts + recordings); `removed_share` is the threshold of
/// [`TERMS_REMOVED`].
pub fn rules_yaml(removed_share: f64) -> String {
    let alerts: Vec<Value> = alerts()
        .iter()
        .map(|a| {
            let expr = match a.name {
                TERMS_REMOVED => format!("{} > {removed_share}", a.signal),
                _ => a.expr(),
            };
            json!({
                "alert": a.name,
                "expr": expr,
                "for": a.for_,
                "labels": {"severity": a.severity},
                "annotations": {"summary": a.summary, "description": a.description},
            })
        })
        .collect();
    let records: Vec<Value> = recordings().iter().map(|r| json!({"record": r.record, "expr": r.expr})).collect();
    let doc = json!({"groups": [
        {"name": "ontofetch-recording", "rules": records},
        {"name": "ontofetch-alerts", "rules": alerts},
    ]});
    format!(
        "# Generated by `ontofetch monitor grafana-config`; edit crates/ontofetch-monitor instead.\n{}",
        serde_norway::to_string(&doc).expect("YAML")
    )
}

/// `promtool test rules` cases: every alert fires on its synthetic series.
pub fn rule_tests_yaml(rules_file: &str) -> String {
    let tests: Vec<Value> = alerts()
        .iter()
        .map(|a| {
            let mut labels = serde_json::Map::new();
            labels.insert("severity".into(), json!(a.severity));
            for (k, v) in &a.firing_labels {
                labels.insert(k.to_string(), json!(v));
            }
            json!({
                "interval": "1m",
                "input_series": a.firing_series.iter().map(|(s, v)| json!({"series": s, "values": v})).collect::<Vec<_>>(),
                "alert_rule_test": [{"eval_time": a.eval_time, "alertname": a.name, "exp_alerts": [{
                    "exp_labels": labels,
                    "exp_annotations": {"summary": a.summary, "description": a.firing_description},
                }]}],
            })
        })
        .collect();
    serde_norway::to_string(&json!({"rule_files": [rules_file], "evaluation_interval": "1m", "tests": tests}))
        .expect("YAML")
}

/// The Grafana dashboard JSON.
pub fn dashboard() -> Value {
    let panels: Vec<Value> = panels()
        .iter()
        .enumerate()
        .map(|(i, p)| {
            json!({
                "id": i + 1,
                "title": p.title,
                "type": p.kind,
                "datasource": {"type": "prometheus", "uid": "ontofetch-prometheus"},
                "gridPos": {"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i / 2) * 8},
                "fieldConfig": {"defaults": {"unit": p.unit}, "overrides": []},
                "options": {},
                "targets": p.queries.iter().enumerate().map(|(j, t)| json!({
                    "refId": ((b'A' + j as u8) as char).to_string(),
                    "expr": t.expr,
                    "legendFormat": t.legend,
                    "datasource": {"type": "prometheus", "uid": "ontofetch-prometheus"},
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "uid": "ontofetch",
        "title": "ontofetch",
        "tags": ["ontofetch"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "panels": panels,
    })
}

/// Grafana datasource provisioning.
pub fn datasource_yaml(prometheus_url: &str) -> String {
    let doc = json!({"apiVersion": 1, "datasources": [{
        "name": "ontofetch-prometheus", "uid": "ontofetch-prometheus", "type": "prometheus",
        "access": "proxy", "url": prometheus_url, "isDefault": false, "editable": false,
    }]});
    serde_norway::to_string(&doc).expect("YAML")
}

/// Grafana dashboard-provider provisioning.
pub fn dashboard_provider_yaml(dashboards_dir: &str) -> String {
    let doc = json!({"apiVersion": 1, "providers": [{
        "name": "ontofetch", "orgId": 1, "folder": "ontofetch", "type": "file",
        "disableDeletion": false, "allowUiUpdates": false, "updateIntervalSeconds": 60,
        "options": {"path": dashboards_dir, "foldersFromFilesStructure": false},
    }]});
    serde_norway::to_string(&doc).expect("YAML")
}

/// What the generated tree points at.
#[derive(Debug, Clone, PartialEq)]
pub struct Provisioning {
    /// Prometheus URL Grafana queries.
    pub prometheus_url: String,
    /// The `serve` address Prometheus scrapes.
    pub target: String,
    /// The Alertmanager address Prometheus sends alerts to.
    pub alertmanager: String,
    /// Scrape and rule evaluation interval.
    pub scrape_interval: String,
    /// Receivers and routing.
    pub alerting: Alerting,
}

impl Default for Provisioning {
    fn default() -> Self {
        Provisioning {
            prometheus_url: "http://127.0.0.1:9090".into(),
            target: "127.0.0.1:9464".into(),
            alertmanager: "127.0.0.1:9093".into(),
            scrape_interval: "15s".into(),
            alerting: Alerting::default(),
        }
    }
}

/// A Prometheus configuration scraping `ontofetch serve` and alerting through Alertmanager.
pub fn prometheus_yaml(p: &Provisioning, rules: &str) -> String {
    let doc = json!({
        "global": {"scrape_interval": p.scrape_interval, "evaluation_interval": p.scrape_interval},
        "rule_files": [rules],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [p.alertmanager]}]}]},
        "scrape_configs": [{"job_name": "ontofetch", "static_configs": [{"targets": [p.target]}]}],
    });
    serde_norway::to_string(&doc).expect("YAML")
}

/// Errors writing provisioning files.
#[derive(Debug, thiserror::Error)]
#[error("writing {path}: {source}")]
pub struct WriteError {
    /// The file.
    pub path: String,
    /// The OS error.
    pub source: std::io::Error,
}

impl ontofetch_policy::Coded for WriteError {
    fn code(&self) -> ontofetch_policy::Code {
        ontofetch_policy::Code::Io
    }
}

/// Writes the whole provisioning tree under `out`; returns the files written.
///
/// ```text
/// out/grafana/provisioning/datasources/ontofetch.yaml
/// out/grafana/provisioning/dashboards/ontofetch.yaml
/// out/grafana/dashboards/ontofetch.json
/// out/prometheus/ontofetch-rules.yml
/// out/prometheus/ontofetch-rules.test.yml
/// out/prometheus/prometheus.yml
/// out/alertmanager/alertmanager.yml
/// ```
pub fn write_tree(out: &Path, p: &Provisioning) -> Result<Vec<PathBuf>, WriteError> {
    let files: Vec<(PathBuf, String)> = vec![
        (out.join("grafana/provisioning/datasources/ontofetch.yaml"), datasource_yaml(&p.prometheus_url)),
        (
            out.join("grafana/provisioning/dashboards/ontofetch.yaml"),
            dashboard_provider_yaml("/var/lib/grafana/dashboards/ontofetch"),
        ),
        (
            out.join("grafana/dashboards/ontofetch.json"),
            serde_json::to_string_pretty(&dashboard()).expect("JSON") + "\n",
        ),
        (out.join("prometheus/ontofetch-rules.yml"), rules_yaml(p.alerting.removed_share)),
        (out.join("prometheus/ontofetch-rules.test.yml"), rule_tests_yaml("ontofetch-rules.yml")),
        (out.join("prometheus/prometheus.yml"), prometheus_yaml(p, "ontofetch-rules.yml")),
        (out.join("alertmanager/alertmanager.yml"), alertmanager::alertmanager_yaml(&p.alerting)),
    ];
    let mut written = Vec::new();
    for (path, text) in files {
        let err = |source| WriteError { path: path.display().to_string(), source };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(err)?;
        }
        ontofetch_fsutil::write_atomic(&path, text.as_bytes()).map_err(err)?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enough_panels_and_alerts_with_unique_names() {
        assert!(panels().len() >= 7);
        assert!(alerts().len() >= 8);
        let mut names: Vec<_> = alerts().iter().map(|a| a.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), alerts().len());
        for a in alerts() {
            assert!(!a.firing_series.is_empty(), "{} has a promtool test", a.name);
        }
    }

    #[test]
    fn dashboard_targets_use_the_provisioned_datasource() {
        let d = dashboard();
        let panels = d["panels"].as_array().unwrap();
        assert_eq!(panels.len(), super::panels().len());
        for p in panels {
            assert_eq!(p["datasource"]["uid"], "ontofetch-prometheus");
            assert!(!p["targets"].as_array().unwrap().is_empty());
        }
        assert!(datasource_yaml("http://127.0.0.1:9090").contains("uid: ontofetch-prometheus"));
    }

    /// deploy/ is checked in; it must be exactly what the generator writes.
    #[test]
    fn checked_in_deploy_tree_is_up_to_date() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_tree(dir.path(), &Provisioning::default()).unwrap();
        let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy");
        for f in files {
            let rel = f.strip_prefix(dir.path()).unwrap();
            let checked_in = std::fs::read_to_string(deploy.join(rel)).unwrap_or_default();
            assert_eq!(
                checked_in,
                std::fs::read_to_string(&f).unwrap(),
                "deploy/{} is stale: run `ontofetch monitor grafana-config --out deploy`",
                rel.display()
            );
        }
    }

    #[test]
    fn tree_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_tree(dir.path(), &Provisioning::default()).unwrap();
        assert_eq!(files.len(), 7);
        let rules: Value = serde_norway::from_str(
            &std::fs::read_to_string(dir.path().join("prometheus/ontofetch-rules.yml")).unwrap(),
        )
        .unwrap();
        assert_eq!(rules["groups"][1]["rules"].as_array().unwrap().len(), alerts().len());
    }
}
