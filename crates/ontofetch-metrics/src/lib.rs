//! ontofetch's metric registry (docs/architecture.md, "Metrics"): every metric name lives here, every series
//! that can be known in advance is created at 0 so dashboards and alerts see it before the
//! first event, and the registry is a [`GateObserver`] so gates are counted without
//! depending on this crate.

#![warn(missing_docs)]

use ontofetch_policy::{Gate, GateObserver, Outcome};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};
use std::sync::atomic::AtomicU64;
use std::time::Duration;

/// Errors from exporting metrics.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// Text encoding failed (a label value the encoder rejects).
    #[error("cannot encode metrics: {0}")]
    Encode(#[from] std::fmt::Error),
    /// Writing the textfile failed.
    #[error("cannot write metrics to {path}: {source}")]
    Write {
        /// Where we tried to write.
        path: String,
        /// Why it failed.
        source: std::io::Error,
    },
}

impl ontofetch_policy::Coded for MetricsError {
    fn code(&self) -> ontofetch_policy::Code {
        match self {
            MetricsError::Encode(_) => ontofetch_policy::Code::MetricsEncode,
            MetricsError::Write { .. } => ontofetch_policy::Code::MetricsWrite,
        }
    }
}

/// `{gate}` labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GateLabels {
    /// Gate name.
    pub gate: &'static str,
}

/// `{gate, decision}` labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DecisionLabels {
    /// Gate name.
    pub gate: &'static str,
    /// `allow` or `reject`.
    pub decision: &'static str,
}

/// `{gate, code}` labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RejectionLabels {
    /// Gate name.
    pub gate: &'static str,
    /// Stable code.
    pub code: &'static str,
}

/// `{service, code_class}` labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// Registry service (obo, ols, bioportal, …).
    pub service: String,
    /// `2xx`, `3xx`, `4xx`, `5xx` or `error` (no response).
    pub code_class: &'static str,
}

/// `{service}` labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServiceLabels {
    /// Registry service.
    pub service: String,
}

/// `{resolver, result}` labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DownloadLabels {
    /// Resolver name.
    pub resolver: String,
    /// `fetched`, `not_modified` or `failed`.
    pub result: &'static str,
}

/// `{validator, result}` labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ValidationLabels {
    /// Validator name.
    pub validator: String,
    /// `ok`, `failed` or `skipped`.
    pub result: &'static str,
}

/// `{validator}` labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ValidatorLabels {
    /// Validator name.
    pub validator: String,
}

/// `{ontology}` labels (bounded by the configuration, never by input).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OntologyLabels {
    /// Ontology id from the config.
    pub ontology: String,
}

/// `{route, code_class}` labels of what `serve` answered (routes are fixed names, never paths).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServedLabels {
    /// `artifact`, `purl`, `api`, `status`, `metrics`, `health`, `other`.
    pub route: &'static str,
    /// Status class.
    pub code_class: &'static str,
}

/// `{route}` labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// The route name.
    pub route: &'static str,
}

/// `{ontology, kind}` labels of term changes between versions.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ChangeLabels {
    /// Ontology id from the config.
    pub ontology: String,
    /// `added`, `removed`, `obsoleted`, `relabelled`, `definition_changed`, `parents_changed`.
    pub kind: &'static str,
}

/// Routes of `serve` (label values).
pub const ROUTES: &[&str] = &["artifact", "purl", "api", "status", "metrics", "health", "other"];
/// Kinds of term change (label values).
pub const CHANGE_KINDS: &[&str] =
    &["added", "removed", "obsoleted", "relabelled", "definition_changed", "parents_changed"];

/// Series to create at 0 besides the gate ones, taken from the configuration.
#[derive(Debug, Clone, Default)]
pub struct KnownSeries {
    /// Services that can be contacted.
    pub services: Vec<String>,
    /// Resolvers that can be used.
    pub resolvers: Vec<String>,
    /// Validators that can run.
    pub validators: Vec<String>,
    /// Configured ontology ids.
    pub ontologies: Vec<String>,
    /// This worker's name (`ONTOFETCH_WORKER_ID`, else host and pid): many workers share
    /// one mirror, and their series must not collide.
    pub worker: Option<String>,
}

/// `{worker}` labels of the worker info series (one per process).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WorkerLabels {
    /// The worker's name.
    pub worker: String,
}

/// The validators (by detected format: RDF, OBO, OWL) whose series exist from the start, so
/// validation panels and alerts have data before the first validation runs.
pub const VALIDATORS: &[&str] = &["rdf", "obo", "owl"];

/// HTTP status classes used as label values.
pub const CODE_CLASSES: &[&str] = &["2xx", "3xx", "4xx", "5xx", "error"];
/// Download results used as label values.
pub const DOWNLOAD_RESULTS: &[&str] = &["fetched", "not_modified", "failed"];
/// Validation results used as label values.
pub const VALIDATION_RESULTS: &[&str] = &["ok", "failed", "skipped"];

fn gate_histogram() -> Histogram {
    // 1 µs … ~4.2 s in ×4 steps: gates are µs-scale, the tail shows trouble.
    Histogram::new(exponential_buckets(1e-6, 4.0, 12))
}

fn request_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.5, 12))
}

fn served_histogram() -> Histogram {
    // 100 µs … ~1.7 s: local files and catalog reads are sub-millisecond.
    Histogram::new(exponential_buckets(1e-4, 3.0, 10))
}

fn validation_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.01, 3.0, 12))
}

type HistFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// The registry and handles to every metric.
pub struct Metrics {
    registry: Registry,
    /// `ontofetch_gate_decisions_total{gate, decision}`.
    pub gate_decisions: Family<DecisionLabels, Counter>,
    /// `ontofetch_gate_rejections_total{gate, code}`.
    pub gate_rejections: Family<RejectionLabels, Counter>,
    /// `ontofetch_gate_duration_seconds{gate}`.
    pub gate_duration: HistFamily<GateLabels>,
    /// `ontofetch_gate_errors_total{gate}`.
    pub gate_errors: Family<GateLabels, Counter>,
    /// `ontofetch_http_requests_total{service, code_class}`.
    pub http_requests: Family<HttpLabels, Counter>,
    /// `ontofetch_http_request_duration_seconds{service}`.
    pub http_duration: HistFamily<ServiceLabels>,
    /// `ontofetch_http_response_bytes_total{service}`.
    pub http_response_bytes: Family<ServiceLabels, Counter>,
    /// `ontofetch_http_retries_total{service}`.
    pub http_retries: Family<ServiceLabels, Counter>,
    /// `ontofetch_downloads_total{resolver, result}`.
    pub downloads: Family<DownloadLabels, Counter>,
    /// `ontofetch_download_bytes_total`.
    pub download_bytes: Counter,
    /// `ontofetch_extracted_bytes_total`.
    pub extracted_bytes: Counter,
    /// `ontofetch_archive_expansion_ratio`.
    pub archive_expansion_ratio: Histogram,
    /// `ontofetch_validations_total{validator, result}`.
    pub validations: Family<ValidationLabels, Counter>,
    /// `ontofetch_validation_duration_seconds{validator}`.
    pub validation_duration: HistFamily<ValidatorLabels>,
    /// `ontofetch_ontology_last_success_timestamp_seconds{ontology}`.
    pub ontology_last_success: Family<OntologyLabels, Gauge<f64, AtomicU64>>,
    /// `ontofetch_store_bytes`.
    pub store_bytes: Gauge,
    /// `ontofetch_store_artifacts`.
    pub store_artifacts: Gauge,
    /// `ontofetch_worker_info{worker}` = 1: which worker this endpoint is (join on
    /// `instance` to label a worker's other series).
    pub worker_info: Family<WorkerLabels, Gauge>,
    /// `ontofetch_served_requests_total{route, code_class}`.
    pub served_requests: Family<ServedLabels, Counter>,
    /// `ontofetch_served_request_duration_seconds{route}` (to the response head).
    pub served_duration: HistFamily<RouteLabels>,
    /// `ontofetch_served_bytes_total{route}` (bodies handed out).
    pub served_bytes: Family<RouteLabels, Counter>,
    /// `ontofetch_ontology_terms{ontology}` in the latest version.
    pub ontology_terms: Family<OntologyLabels, Gauge>,
    /// `ontofetch_ontology_term_changes_total{ontology, kind}` by new versions.
    pub term_changes: Family<ChangeLabels, Counter>,
    /// `ontofetch_ontology_terms_removed_ratio{ontology}`: the share of the previous
    /// version's terms the latest version removed (the removal alert's input).
    pub terms_removed_ratio: Family<OntologyLabels, Gauge<f64, AtomicU64>>,
    /// `ontofetch_license_unknown_total{ontology}`: pulls of a source whose licence stayed
    /// unknown while `accept_licenses` was set (fetched with a warning).
    pub license_unknown: Family<OntologyLabels, Counter>,
    /// `ontofetch_attestations_signed_total`: versions stored with a signed attestation.
    pub attestations_signed: Counter,
    /// `ontofetch_attestation_verify_failures_total`: checks of an attestation that failed
    /// (`verify`, `doctor --verify`): a signature or a digest that does not hold.
    pub attestation_verify_failures: Counter,
    /// `ontofetch_log_entries`: entries in the transparency log's latest checkpoint.
    pub log_entries: Gauge,
    /// `ontofetch_log_checkpoint_timestamp_seconds`: when this process last published the
    /// log's checkpoint or found it current (Unix time); its age is `time() -` this.
    pub log_checkpoint_timestamp: Gauge<f64, AtomicU64>,
}

impl Metrics {
    /// Builds the registry with every metric registered and every known series at 0.
    pub fn new(known: &KnownSeries) -> Self {
        let mut registry = Registry::with_prefix("ontofetch");
        registry.register(
            "build",
            "Build information; the value is always 1",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        let mut m = Metrics {
            gate_decisions: Family::default(),
            gate_rejections: Family::default(),
            gate_duration: Family::new_with_constructor(gate_histogram),
            gate_errors: Family::default(),
            http_requests: Family::default(),
            http_duration: Family::new_with_constructor(request_histogram),
            http_response_bytes: Family::default(),
            http_retries: Family::default(),
            downloads: Family::default(),
            download_bytes: Counter::default(),
            extracted_bytes: Counter::default(),
            archive_expansion_ratio: Histogram::new(exponential_buckets(1.0, 2.0, 12)),
            validations: Family::default(),
            validation_duration: Family::new_with_constructor(validation_histogram),
            ontology_last_success: Family::default(),
            store_bytes: Gauge::default(),
            store_artifacts: Gauge::default(),
            worker_info: Family::default(),
            served_requests: Family::default(),
            served_duration: Family::new_with_constructor(served_histogram),
            served_bytes: Family::default(),
            ontology_terms: Family::default(),
            term_changes: Family::default(),
            terms_removed_ratio: Family::default(),
            license_unknown: Family::default(),
            attestations_signed: Counter::default(),
            attestation_verify_failures: Counter::default(),
            log_entries: Gauge::default(),
            log_checkpoint_timestamp: Gauge::default(),
            registry: Registry::default(),
        };
        let r = &mut registry;
        r.register("gate_decisions", "Gate calls by decision", m.gate_decisions.clone());
        r.register("gate_rejections", "Gate refusals by stable code", m.gate_rejections.clone());
        r.register_with_unit("gate_duration", "Time to decide", Unit::Seconds, m.gate_duration.clone());
        r.register("gate_errors", "Gate calls that failed to decide (failed closed)", m.gate_errors.clone());
        r.register("http_requests", "HTTP requests by status class", m.http_requests.clone());
        r.register_with_unit(
            "http_request_duration",
            "HTTP request time to last byte",
            Unit::Seconds,
            m.http_duration.clone(),
        );
        r.register_with_unit("http_response", "HTTP response body bytes", Unit::Bytes, m.http_response_bytes.clone());
        r.register("http_retries", "HTTP retries", m.http_retries.clone());
        r.register("downloads", "Downloads by result", m.downloads.clone());
        r.register_with_unit("download", "Bytes downloaded", Unit::Bytes, m.download_bytes.clone());
        r.register_with_unit("extracted", "Bytes extracted from archives", Unit::Bytes, m.extracted_bytes.clone());
        r.register(
            "archive_expansion_ratio",
            "Produced/compressed bytes per archive",
            m.archive_expansion_ratio.clone(),
        );
        r.register("validations", "Validator runs by result", m.validations.clone());
        r.register_with_unit("validation_duration", "Validator run time", Unit::Seconds, m.validation_duration.clone());
        r.register(
            "ontology_last_success_timestamp_seconds",
            "Unix time of the last successful pull of each configured ontology (0 = never)",
            m.ontology_last_success.clone(),
        );
        r.register_with_unit("store", "Bytes in the store", Unit::Bytes, m.store_bytes.clone());
        r.register("store_artifacts", "Artifacts in the store", m.store_artifacts.clone());
        r.register("worker_info", "The worker this process is; the value is always 1", m.worker_info.clone());
        r.register("served_requests", "Requests serve answered, by route and status class", m.served_requests.clone());
        r.register_with_unit(
            "served_request_duration",
            "Time from request to response head",
            Unit::Seconds,
            m.served_duration.clone(),
        );
        r.register_with_unit("served", "Body bytes serve handed out", Unit::Bytes, m.served_bytes.clone());
        r.register("ontology_terms", "Terms in the latest version of each ontology", m.ontology_terms.clone());
        r.register("ontology_term_changes", "Term changes brought by new versions", m.term_changes.clone());
        r.register(
            "license_unknown",
            "Pulls whose source licence stayed unknown while accept_licenses was set",
            m.license_unknown.clone(),
        );
        r.register(
            "ontology_terms_removed_ratio",
            "Share of the previous version's terms removed by the latest version",
            m.terms_removed_ratio.clone(),
        );
        r.register("attestations_signed", "Versions stored with a signed attestation", m.attestations_signed.clone());
        r.register(
            "attestation_verify_failures",
            "Attestation checks that failed: a signature or a digest that does not hold",
            m.attestation_verify_failures.clone(),
        );
        r.register("log_entries", "Entries in the transparency log's latest checkpoint", m.log_entries.clone());
        r.register(
            "log_checkpoint_timestamp_seconds",
            "When the transparency log's latest checkpoint was published (Unix time)",
            m.log_checkpoint_timestamp.clone(),
        );
        m.registry = registry;
        m.add_known(known);
        m
    }

    /// Creates the series for configured services, resolvers, validators and ontologies
    /// at 0 (idempotent), once the configuration is known.
    pub fn add_known(&self, known: &KnownSeries) {
        for gate in Gate::ALL {
            let g = gate.as_str();
            for decision in ["allow", "reject"] {
                let _ = self.gate_decisions.get_or_create(&DecisionLabels { gate: g, decision });
            }
            for code in gate.codes() {
                let _ = self.gate_rejections.get_or_create(&RejectionLabels { gate: g, code: code.as_str() });
            }
            let _ = self.gate_duration.get_or_create(&GateLabels { gate: g });
            let _ = self.gate_errors.get_or_create(&GateLabels { gate: g });
        }
        for service in &known.services {
            for code_class in CODE_CLASSES {
                let _ = self.http_requests.get_or_create(&HttpLabels { service: service.clone(), code_class });
            }
            let s = ServiceLabels { service: service.clone() };
            let _ = self.http_duration.get_or_create(&s);
            let _ = self.http_response_bytes.get_or_create(&s);
            let _ = self.http_retries.get_or_create(&s);
        }
        for resolver in &known.resolvers {
            for result in DOWNLOAD_RESULTS {
                let _ = self.downloads.get_or_create(&DownloadLabels { resolver: resolver.clone(), result });
            }
        }
        for validator in &known.validators {
            for result in VALIDATION_RESULTS {
                let _ = self.validations.get_or_create(&ValidationLabels { validator: validator.clone(), result });
            }
            let _ = self.validation_duration.get_or_create(&ValidatorLabels { validator: validator.clone() });
        }
        for ontology in &known.ontologies {
            let o = OntologyLabels { ontology: ontology.clone() };
            let _ = self.ontology_last_success.get_or_create(&o);
            let _ = self.terms_removed_ratio.get_or_create(&o);
            let _ = self.license_unknown.get_or_create(&o);
            for kind in CHANGE_KINDS {
                let _ = self.term_changes.get_or_create(&ChangeLabels { ontology: ontology.clone(), kind });
            }
        }
        for route in ROUTES {
            for code_class in CODE_CLASSES {
                let _ = self.served_requests.get_or_create(&ServedLabels { route, code_class });
            }
            let _ = self.served_duration.get_or_create(&RouteLabels { route });
            let _ = self.served_bytes.get_or_create(&RouteLabels { route });
        }
        if let Some(worker) = &known.worker {
            self.worker_info.get_or_create(&WorkerLabels { worker: worker.clone() }).set(1);
        }
    }

    /// The Prometheus text exposition 0.0.4 (for node_exporter's textfile collector,
    /// Pushgateway and `promtool check metrics`), derived from the OpenMetrics text: counter
    /// families take their `_total` name, info becomes a gauge, `# UNIT`/`# EOF` go.
    pub fn encode_prometheus(&self) -> Result<String, MetricsError> {
        Ok(openmetrics_to_prometheus(&self.encode()?))
    }

    /// The OpenMetrics text exposition (what `/metrics` serves to Prometheus).
    pub fn encode(&self) -> Result<String, MetricsError> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }

    /// Writes the exposition atomically (temp file + rename), for node_exporter's textfile
    /// collector and for batch runs: a reader never sees half a file.
    pub fn write_textfile(&self, path: &std::path::Path) -> Result<(), MetricsError> {
        let text = self.encode_prometheus()?;
        ontofetch_fsutil::write_atomic(path, text.as_bytes())
            .map_err(|source| MetricsError::Write { path: path.display().to_string(), source })
    }
}

/// Rewrites OpenMetrics text into Prometheus text format 0.0.4.
pub fn openmetrics_to_prometheus(om: &str) -> String {
    let mut types = std::collections::HashMap::new();
    for line in om.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split_whitespace();
            if let (Some(name), Some(kind)) = (it.next(), it.next()) {
                types.insert(name.to_string(), kind.to_string());
            }
        }
    }
    let rename = |name: &str| -> (String, Option<&'static str>) {
        match types.get(name).map(String::as_str) {
            Some("counter") => (format!("{name}_total"), None),
            Some("info") => (format!("{name}_info"), Some("gauge")),
            Some("unknown") => (name.to_string(), Some("untyped")),
            _ => (name.to_string(), None),
        }
    };
    let mut out = String::with_capacity(om.len());
    for line in om.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, ""));
            let (new, forced) = rename(name);
            out.push_str(&format!("# TYPE {new} {}\n", forced.unwrap_or(kind)));
        } else if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            out.push_str(&format!("# HELP {} {help}\n", rename(name).0));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

impl GateObserver for Metrics {
    fn observe(&self, gate: Gate, outcome: Outcome, elapsed: Duration) {
        let g = gate.as_str();
        self.gate_duration.get_or_create(&GateLabels { gate: g }).observe(elapsed.as_secs_f64());
        let decision = match outcome {
            Outcome::Allow => "allow",
            Outcome::Reject(code) => {
                self.gate_rejections.get_or_create(&RejectionLabels { gate: g, code: code.as_str() }).inc();
                "reject"
            }
            Outcome::Error => {
                // A gate that cannot decide fails closed: it is an error and a rejection.
                self.gate_errors.get_or_create(&GateLabels { gate: g }).inc();
                "reject"
            }
        };
        self.gate_decisions.get_or_create(&DecisionLabels { gate: g, decision }).inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ontofetch_policy::{Code, Gates, Policy};

    use ontofetch_testsupport::local::metric_value as value;

    #[test]
    fn every_design_metric_is_exported_from_the_start() {
        let known = KnownSeries {
            services: vec!["ols".into()],
            resolvers: vec!["obo".into()],
            validators: vec!["rdf".into()],
            ontologies: vec!["bfo".into()],
            worker: Some("host-a-42".into()),
        };
        let text = Metrics::new(&known).encode().unwrap();
        for name in [
            "ontofetch_build_info{version=",
            "ontofetch_worker_info{worker=\"host-a-42\"} 1",
            "ontofetch_gate_decisions_total{gate=\"url\",decision=\"allow\"} 0",
            "ontofetch_gate_decisions_total{gate=\"db_boundary\",decision=\"reject\"} 0",
            "ontofetch_gate_rejections_total{gate=\"ip\",code=\"E_PRIVATE_IP\"} 0",
            "ontofetch_gate_rejections_total{gate=\"extraction\",code=\"E_RATIO\"} 0",
            "ontofetch_gate_duration_seconds_bucket{le=\"0.000001\",gate=\"filesystem\"} 0",
            "ontofetch_gate_errors_total{gate=\"storage\"} 0",
            "ontofetch_http_requests_total{service=\"ols\",code_class=\"5xx\"} 0",
            "ontofetch_http_request_duration_seconds_count{service=\"ols\"} 0",
            "ontofetch_http_response_bytes_total{service=\"ols\"} 0",
            "ontofetch_http_retries_total{service=\"ols\"} 0",
            "ontofetch_downloads_total{resolver=\"obo\",result=\"not_modified\"} 0",
            "ontofetch_download_bytes_total 0",
            "ontofetch_extracted_bytes_total 0",
            "ontofetch_archive_expansion_ratio_count 0",
            "ontofetch_validations_total{validator=\"rdf\",result=\"skipped\"} 0",
            "ontofetch_validation_duration_seconds_count{validator=\"rdf\"} 0",
            "ontofetch_ontology_last_success_timestamp_seconds{ontology=\"bfo\"} 0",
            "ontofetch_store_bytes 0",
            "ontofetch_store_artifacts 0",
        ] {
            assert!(text.contains(name), "missing {name} in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn gate_calls_move_the_counters() {
        let metrics = Metrics::new(&KnownSeries::default());
        let policy = Policy::default();
        let gates = Gates::new(&policy, &metrics);
        assert!(gates.url("https://purl.obolibrary.org/obo/bfo.owl").is_ok());
        assert!(gates.url("http://169.254.169.254/").is_err());
        assert!(gates.url("http://10.0.0.1/").is_err());
        let failed = ontofetch_policy::observed::<()>(&metrics, Gate::Config, || panic!("bad facts"));
        assert!(failed.is_err());
        let text = metrics.encode().unwrap();
        assert_eq!(value(&text, "ontofetch_gate_decisions_total{gate=\"url\",decision=\"allow\"}"), Some(1.0));
        assert_eq!(value(&text, "ontofetch_gate_decisions_total{gate=\"url\",decision=\"reject\"}"), Some(2.0));
        assert_eq!(
            value(&text, &format!("ontofetch_gate_rejections_total{{gate=\"url\",code=\"{}\"}}", Code::PrivateIp)),
            Some(2.0)
        );
        assert_eq!(value(&text, "ontofetch_gate_duration_seconds_count{gate=\"url\"}"), Some(3.0));
        assert_eq!(value(&text, "ontofetch_gate_errors_total{gate=\"config\"}"), Some(1.0));
        assert_eq!(value(&text, "ontofetch_gate_decisions_total{gate=\"config\",decision=\"reject\"}"), Some(1.0));
    }

    #[test]
    fn prometheus_text_renames_counters_and_info() {
        let text = Metrics::new(&KnownSeries::default()).encode_prometheus().unwrap();
        assert!(text.contains("# TYPE ontofetch_gate_decisions_total counter"), "{text}");
        assert!(text.contains("# TYPE ontofetch_build_info gauge"));
        assert!(text.contains("# TYPE ontofetch_gate_duration_seconds histogram"));
        assert!(!text.contains("# EOF") && !text.contains("# UNIT"));
        assert!(text.contains("ontofetch_gate_errors_total{gate=\"url\"} 0"));
    }

    #[test]
    fn textfile_is_written_whole() {
        let dir = std::env::temp_dir().join(format!("ontofetch-metrics-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ontofetch.prom");
        Metrics::new(&KnownSeries::default()).write_textfile(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("ontofetch_gate_errors_total{gate=\"url\"} 0"));
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temp file left behind");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
