//! The `sources.yaml` schema, key for key with DocsToKG's OntologyDownload
//! (docs/architecture.md, "Compatibility"). Unknown keys are errors that name the key.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The whole file.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourcesFile {
    /// Settings shared by every ontology.
    #[serde(default)]
    pub defaults: Defaults,
    /// The ontologies to fetch (required, may be empty).
    pub ontologies: Vec<OntologySpec>,
}

/// `defaults:`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Defaults {
    /// Licences accepted (SPDX-normalised). Empty (the default): no licence policy, nothing
    /// is refused for its licence; the licence is recorded and shown, and one outside the
    /// open-licence list is warned about. A list is a policy: every other licence is
    /// refused (`E_LICENSE`), and an entry accepts more with `extras.accept_licenses`.
    pub accept_licenses: Vec<String>,
    /// Renderings written after validation (`ttl`, `nt`, `owl`, `obo`…) for every ontology
    /// that names none of its own; `ttl` or `nt` also asks for the canonical hash. Also the
    /// download preference of an entry without `target_formats`.
    pub normalize_to: Vec<String>,
    /// Resolver fallback chain.
    pub prefer_source: Vec<String>,
    /// false = strict validation (a failed validator fails the pull).
    pub continue_on_error: bool,
    /// Try the next resolver in `prefer_source` when one fails.
    pub resolver_fallback_enabled: bool,
    /// Keep a content-addressed copy of every original (settable here, unlike the original).
    pub enable_cas_mirror: bool,
    /// With `accept_licenses` set, refuse sources whose licence stays unknown (default:
    /// fetch them with a warning, a manifest note and a metric).
    pub reject_unknown_licenses: bool,
    /// Make a release that failed validation `latest` anyway (under `continue_on_error`).
    /// Off by default: it is recorded for inspection and `latest` stays on the last
    /// version that validated.
    pub promote_invalid: bool,
    /// Also fetch what each pulled ontology imports (`owl:imports`, OBO `import:`), each
    /// import through the gates and the resolvers (an OBO PURL becomes that ontology's
    /// entry), stored as an ontology of its own and recorded as an edge in the catalog;
    /// `pull --with-imports` turns it on for one run.
    pub follow_imports: bool,
    /// How many imports deep the closure goes (1 = only what the listed ontologies import).
    pub max_import_depth: u32,
    /// At most this many imported ontologies in the closure of the ontologies a pull asks for,
    /// counting every one they brought in on earlier runs; the rest are recorded as skipped.
    pub max_imports: u32,
    /// Where the catalog and the artifacts live (local by default; PostgreSQL and object
    /// storage for a shared mirror).
    pub storage: StorageSettings,
    /// Network settings.
    pub http: HttpSettings,
    /// Planner settings.
    pub planner: PlannerSettings,
    /// Validator settings.
    pub validation: ValidationSettings,
    /// Logging settings.
    pub logging: LoggingSettings,
    /// Provenance: the key that signs each stored version's attestation.
    pub signing: SigningSettings,
}

/// `defaults.signing:`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SigningSettings {
    /// The Ed25519 signing key (`ontofetch keys generate` writes one, 0600); default
    /// `<data root>/keys/signing.key`. With a key, every stored version gets a signed
    /// attestation (`attestation.dsse.json`); without one, versions are stored unsigned.
    pub key_file: Option<String>,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            // No policy unless the user sets one: HP ("hpo"), EFO (Apache-2.0) and the docs'
            // own examples must not be refused under the defaults (DocsToKG's obo resolver
            // returned no licence, so its list never refused them either).
            accept_licenses: Vec::new(),
            normalize_to: vec!["ttl".into()],
            prefer_source: vec!["obo".into(), "ols".into(), "bioportal".into(), "direct".into()],
            continue_on_error: true,
            resolver_fallback_enabled: true,
            enable_cas_mirror: false,
            reject_unknown_licenses: false,
            promote_invalid: false,
            follow_imports: false,
            max_import_depth: 5,
            max_imports: 100,
            storage: StorageSettings::default(),
            http: HttpSettings::default(),
            planner: PlannerSettings::default(),
            validation: ValidationSettings::default(),
            logging: LoggingSettings::default(),
            signing: SigningSettings::default(),
        }
    }
}

/// `defaults.http:`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSettings {
    /// Attempts per operation.
    pub max_retries: u32,
    /// Read timeout, seconds.
    pub timeout_sec: f64,
    /// Wall-clock deadline per download attempt, seconds.
    pub download_timeout_sec: f64,
    /// Connect timeout, seconds.
    pub connect_timeout_sec: f64,
    /// Pool wait timeout, seconds.
    pub pool_timeout_sec: f64,
    /// Backoff base, seconds.
    pub backoff_factor: f64,
    /// Connection pool size.
    pub max_httpx_connections: u32,
    /// Idle connections kept open per host for reuse.
    pub max_keepalive_connections: u32,
    /// How long an idle connection is kept open, seconds.
    pub keepalive_expiry_sec: f64,
    /// Offer HTTP/2 by ALPN on TLS connections; false = HTTP/1.1 only.
    pub http2_enabled: bool,
    /// Default per-host rate, e.g. `4/second`.
    pub per_host_rate_limit: String,
    /// Per-service rates.
    pub rate_limits: BTreeMap<String, String>,
    /// Download size cap, GiB.
    pub max_uncompressed_size_gb: f64,
    /// Largest checksum file (`extras.checksum_url`) read, bytes; a bigger one fails the
    /// plan.
    pub max_checksum_response_bytes: u64,
    /// Parallel downloads.
    pub concurrent_downloads: u32,
    /// Ontologies planned (resolved and probed) at once by `plan`, `pull --dry-run` and
    /// `plan-diff`.
    pub concurrent_plans: u32,
    /// Warn, and note in the manifest, when a response's `Content-Type` does not fit the
    /// media type the registry announced (DocsToKG's rule: a warning, not a refusal). An
    /// HTML page where an ontology was expected is refused whatever this says.
    pub validate_media_type: bool,
    /// HEAD before GET.
    pub perform_head_precheck: bool,
    /// Progress log cadence (fraction).
    pub progress_log_percent_step: f64,
    /// Progress log cadence when the size is unknown, bytes.
    pub progress_log_bytes_threshold: u64,
    /// A DNS failure is fatal at plan time.
    pub strict_dns: bool,
    /// Host allowlist; absent/empty = every public host.
    pub allowed_hosts: Option<Vec<String>>,
    /// Allowlisted domains may resolve to private addresses.
    pub allow_private_networks_for_host_allowlist: bool,
    /// Allowlisted domains may use plain http.
    pub allow_plain_http_for_host_allowlist: bool,
    /// Ports allowed besides 80/443.
    pub allowed_ports: Option<Vec<u16>>,
    /// Headers sent with every request; a `User-Agent` here replaces the default one.
    pub polite_headers: BTreeMap<String, String>,
    /// DNS servers (`ip:port`) asked instead of the system resolver: air-gapped networks
    /// and tests. Every answer still passes the ip gate.
    pub dns_servers: Vec<String>,
    /// Who runs this mirror (an e-mail, `mailto:` or web address): named in the User-Agent
    /// (and `From` for an e-mail) so registry operators can reach you.
    pub contact: Option<String>,
    /// Rate limiter backend (kept for compatibility; only `pyrate`-equivalent exists).
    pub rate_limiter: String,
    /// Directory for rate-limit state shared across processes.
    pub shared_rate_limit_dir: Option<String>,
    /// Maximum redirect hops (implicit 5 in the original).
    pub max_redirects: u32,
    /// Re-downloads after a checksum mismatch (implicit 3 in the original).
    pub checksum_mismatch_retries: u32,
}

/// DocsToKG keys ontofetch accepts so that old files load, but does not act on, each with
/// the reason and what to use instead. The warning a command logs and the configuration
/// reference (docs/configuration.md) both read this table.
pub const COMPATIBILITY_ONLY: &[(&str, &str)] = &[
    (
        "defaults.http.pool_timeout_sec",
        "the HTTP client opens a connection when none is idle instead of waiting for one; \
         `connect_timeout_sec` bounds the wait",
    ),
    (
        "defaults.http.max_httpx_connections",
        "connections are bounded by `concurrent_downloads` and the per-host rate limits, not by a pool size",
    ),
    (
        "defaults.http.perform_head_precheck",
        "downloads are conditional GETs (`If-None-Match`/`If-Modified-Since`), which answer what a HEAD \
         would; the planner's probe is `planner.probing_enabled`",
    ),
    (
        "defaults.planner.head_precheck_hosts",
        "the planner always probes with HEAD and falls back to GET when a server refuses HEAD (403, 405)",
    ),
    (
        "defaults.http.progress_log_percent_step",
        "progress is a bar on a terminal and JSON progress events otherwise (`--progress`), not log lines",
    ),
    (
        "defaults.http.progress_log_bytes_threshold",
        "progress is a bar on a terminal and JSON progress events otherwise (`--progress`), not log lines",
    ),
    (
        "defaults.http.strict_dns",
        "always strict: a name that does not resolve fails the ontology with `E_DNS` (there is nothing to \
         download), once and without retries",
    ),
    ("defaults.validation.skip_reasoning_if_size_mb", "ontofetch runs no reasoner"),
    (
        "defaults.validation.streaming_normalization_threshold_mb",
        "graphs without blank nodes are always hashed as a stream, and the rest in bounded memory",
    ),
    (
        "defaults.validation.rdfc_max_mb",
        "RDFC-1.0 now runs in bounded memory for graphs of any size; `rdfc_max_component` bounds it",
    ),
    (
        "defaults.validation.use_process_pool",
        "every parser runs in a child process, under `max_memory_mb` and `parser_timeout_sec`",
    ),
    (
        "defaults.validation.process_pool_validators",
        "every parser runs in a child process, under `max_memory_mb` and `parser_timeout_sec`",
    ),
    (
        "defaults.logging.max_log_size_mb",
        "the log file (`logging.file`) rotates daily and is kept `retention_days`; size rotation is left to logrotate",
    ),
];

impl Defaults {
    /// The compatibility-only keys (see [`COMPATIBILITY_ONLY`]) this configuration sets away
    /// from their default, each with why it does nothing: a user who tunes one is told, once,
    /// that it does nothing rather than left to believe it does. "Away from its default" is
    /// read off the serialised settings at the key's own path, so the table is the only
    /// list of these keys.
    pub fn inert_keys(&self) -> Vec<(&'static str, &'static str)> {
        let now = serde_json::to_value(self).unwrap_or_default();
        let default = serde_json::to_value(Defaults::default()).unwrap_or_default();
        COMPATIBILITY_ONLY
            .iter()
            .filter(|(key, _)| {
                let pointer = format!("/{}", key.trim_start_matches("defaults.").replace('.', "/"));
                now.pointer(&pointer) != default.pointer(&pointer)
            })
            .copied()
            .collect()
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            max_retries: 5,
            timeout_sec: 30.0,
            download_timeout_sec: 300.0,
            connect_timeout_sec: 5.0,
            pool_timeout_sec: 5.0,
            backoff_factor: 0.5,
            max_httpx_connections: 128,
            max_keepalive_connections: 32,
            keepalive_expiry_sec: 30.0,
            http2_enabled: true,
            per_host_rate_limit: "4/second".into(),
            rate_limits: [("ols", "4/second"), ("bioportal", "2/second"), ("lov", "1/second")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            max_uncompressed_size_gb: 10.0,
            max_checksum_response_bytes: 262_144,
            concurrent_downloads: 1,
            concurrent_plans: 8,
            validate_media_type: true,
            perform_head_precheck: true,
            progress_log_percent_step: 0.1,
            progress_log_bytes_threshold: 5 << 20,
            strict_dns: false,
            allowed_hosts: None,
            allow_private_networks_for_host_allowlist: false,
            allow_plain_http_for_host_allowlist: false,
            allowed_ports: None,
            polite_headers: BTreeMap::new(),
            dns_servers: Vec::new(),
            contact: None,
            rate_limiter: "pyrate".into(),
            shared_rate_limit_dir: None,
            max_redirects: 5,
            checksum_mismatch_retries: 3,
        }
    }
}

/// `defaults.planner:`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PlannerSettings {
    /// Probe candidate URLs at plan time.
    pub probing_enabled: bool,
    /// Hosts probed with HEAD (`host`, `.suffix`, `*.suffix`).
    pub head_precheck_hosts: Vec<String>,
}

impl Default for PlannerSettings {
    fn default() -> Self {
        PlannerSettings { probing_enabled: true, head_precheck_hosts: Vec::new() }
    }
}

/// How canonical forms write language tags (`defaults.validation.language_tags`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LanguageTagCase {
    /// As the source writes them (`@en-GB`): the hash rdf-canonize and pyld compute.
    #[default]
    AsWritten,
    /// Lower case (`@en-gb`).
    Lowercase,
}

/// `defaults.validation:`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ValidationSettings {
    /// Parser wall-clock limit, seconds.
    pub parser_timeout_sec: u64,
    /// Parser memory cap, MiB (enforced with rlimits in a child process).
    pub max_memory_mb: u64,
    /// Skip reasoning above this size, MiB.
    pub skip_reasoning_if_size_mb: u64,
    /// DocsToKG's switch to streaming normalisation, MiB.
    pub streaming_normalization_threshold_mb: u64,
    /// ontofetch 0.8's cap on in-memory RDFC-1.0, MiB.
    pub rdfc_max_mb: u64,
    /// Graphs with blank nodes get their RDFC-1.0 canonical hash at any size, in bounded
    /// memory; a connected blank-node component (one axiom's tree, one list) larger than
    /// this many blank nodes is not canonicalised, and the manifest says so and why.
    pub rdfc_max_component: u64,
    /// The case of language tags in the canonical form and its hash: `as-written` (as the
    /// source writes them, what rdf-canonize and pyld hash) or `lowercase` (RDF 1.2's
    /// canonical N-Quads). `normalization.mode` ends in `+lowercase-language-tags` when the
    /// hash used lower case.
    pub language_tags: LanguageTagCase,
    /// Validators run at once.
    pub max_concurrent_validators: u32,
    /// Run validators in child processes.
    pub use_process_pool: bool,
    /// Which validators run in child processes.
    pub process_pool_validators: Vec<String>,
}

impl Default for ValidationSettings {
    fn default() -> Self {
        ValidationSettings {
            parser_timeout_sec: 60,
            max_memory_mb: 2048,
            skip_reasoning_if_size_mb: 500,
            streaming_normalization_threshold_mb: 200,
            rdfc_max_mb: 32,
            rdfc_max_component: 100_000,
            language_tags: LanguageTagCase::AsWritten,
            max_concurrent_validators: 2,
            use_process_pool: false,
            process_pool_validators: vec!["rdflib".into(), "owlready2".into()],
        }
    }
}

/// `defaults.storage:`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct StorageSettings {
    /// The catalog: a SQLite file path (default `<data root>/catalog.sqlite`) or a
    /// `postgresql://user@host:port/db` URL.
    #[schemars(with = "Option<String>")]
    pub catalog_url: Option<crate::secret::SecretUrl>,
    /// The artifacts: `file://DIR` (default: the data root) or `s3://bucket/prefix`.
    pub store_url: Option<String>,
    /// How long one object-storage call keeps retrying a throttled, failing or unreachable
    /// server (with exponential backoff) before it fails: long enough to ride out a
    /// restart or a short outage.
    pub retry_budget_sec: f64,
}

impl Default for StorageSettings {
    fn default() -> Self {
        StorageSettings { catalog_url: None, store_url: None, retry_budget_sec: 60.0 }
    }
}

/// `defaults.logging:`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingSettings {
    /// DEBUG, INFO, WARNING or ERROR (any case).
    pub level: String,
    /// `text` (default) or `json` lines on stderr.
    pub format: String,
    /// Also write JSON lines to a daily-rotated file under `logs/` (kept `retention_days`).
    pub file: bool,
    /// Log file rotation size, MiB.
    pub max_log_size_mb: u64,
    /// Days logs are kept.
    pub retention_days: u64,
}

impl Default for LoggingSettings {
    fn default() -> Self {
        LoggingSettings {
            level: "INFO".into(),
            format: "text".into(),
            file: false,
            max_log_size_mb: 100,
            retention_days: 30,
        }
    }
}

/// One `ontologies[]` entry.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OntologySpec {
    /// Ontology id (directory name, metric label).
    pub id: String,
    /// Resolver; defaults to the first of `prefer_source`. One of obo, bioregistry, ols,
    /// bioportal, skos, xbrl, lov, ontobee, direct (`extras.url`) and mirror (another
    /// ontofetch mirror: `extras.url` and its verifier key `extras.key`; its attestation and
    /// transparency log are verified before anything is stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolver: Option<String>,
    /// Resolver-specific settings, plus `checksum` / `checksum_url`, and `opaque: true` for a
    /// source that is deliberately not an ontology (what no validator recognises is then
    /// stored `unvalidated` instead of failing, and never displaces a validated version).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extras: BTreeMap<String, Value>,
    /// Per-spec resolver preference (chooses the default resolver).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefer_source: Option<Vec<String>>,
    /// Renderings written for this ontology, instead of `defaults.normalize_to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalize_to: Option<Vec<String>>,
    /// Formats to download, in order of preference (`[obo]` asks an OBO PURL for `.obo`);
    /// default: the entry's `normalize_to`. It never changes the renderings (honoured,
    /// unlike the original, which ignored it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_formats: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key of the table is detected when set, and nothing else: a key added to the
    /// table without its comparison would never warn.
    #[test]
    fn every_compatibility_only_key_is_detected_when_set() {
        let yaml = "defaults:\n  http:\n    pool_timeout_sec: 1\n    max_httpx_connections: 2\n    perform_head_precheck: false\n    progress_log_percent_step: 0.5\n    progress_log_bytes_threshold: 1\n    strict_dns: true\n    http2_enabled: false\n    concurrent_plans: 2\n  planner:\n    head_precheck_hosts: [example.org]\n  validation:\n    skip_reasoning_if_size_mb: 1\n    streaming_normalization_threshold_mb: 1\n    rdfc_max_mb: 64\n    use_process_pool: true\n    process_pool_validators: [rdflib]\n  logging:\n    max_log_size_mb: 5\nontologies: []\n";
        let file: SourcesFile = serde_norway::from_str(yaml).expect("valid");
        assert_eq!(file.defaults.inert_keys(), COMPATIBILITY_ONLY);
        assert!(Defaults::default().inert_keys().is_empty());
    }
}
