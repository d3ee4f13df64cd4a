//! The work ontofetch does, as a library (docs/architecture.md, "Crates"): plan, pull
//! (one module per step), plan-diff, prune, re-validation and doctor's reconciliation.
//! The binary, the server and the Python module call it; it draws nothing and reads no
//! environment: progress goes to a [`PullObserver`], validators run through a
//! [`ValidatorRunner`], settings come resolved.

#![warn(missing_docs)]

pub mod adopt;
pub mod backends;
pub mod chain;
pub mod checkup;
pub mod diff;
pub mod doctor;
pub mod error;
pub mod export;
pub mod imports;
pub mod integrity;
pub mod links;
pub mod observer;
pub mod plan;
pub mod plan_diff;
pub mod provenance;
pub mod prune;
pub mod pull;
pub mod reconcile;
pub mod records;
pub mod remanifest;
pub mod result;
pub mod retire;
pub mod revalidate;
pub mod runner;
pub mod strays;
pub mod survey;
pub mod tlog;

pub use backends::{Backends, Open};
pub use error::PipelineError;
pub use observer::{PullObserver, Silent};
pub use result::{PullResult, PullStatus, ValidationSummary, ValidatorVerdict};
pub use runner::{InProcess, Job, Subprocess, ValidatorRunner, WorkerLimits};

use ontofetch_config::Settings;
use ontofetch_metrics::{KnownSeries, Metrics};
use ontofetch_net::{Fetcher, NetConfig};
use ontofetch_policy::Gates;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Everything a pull needs, shared by concurrent downloads.
pub struct Pipeline {
    /// Resolved settings (configuration, policy, endpoints, secrets).
    pub settings: Settings,
    /// The catalog and the store.
    pub backends: Backends,
    /// The HTTP client every request goes through.
    pub fetcher: Fetcher,
    /// The metric registry (also the gates' observer).
    pub metrics: Arc<Metrics>,
    /// Where validators run.
    pub runner: Arc<dyn ValidatorRunner>,
    /// Skip conditional requests.
    pub force: bool,
    /// Make a version that failed validation `latest` anyway (`defaults.promote_invalid`,
    /// `pull --promote-invalid`); by default it is recorded for inspection only.
    pub promote_invalid: bool,
    /// The key that signs each new version's attestation (`defaults.signing.key_file`,
    /// default `<data root>/keys/signing.key`), when there is one: without it, versions
    /// are stored unsigned.
    pub signer: Option<Arc<ontofetch_provenance::SigningKey>>,
    /// The registry snapshot the `obo`/`bioregistry` resolvers read, loaded on first use
    /// (a pull of `direct` sources never parses it).
    registry: std::sync::OnceLock<ontofetch_resolve::Registry>,
}

/// The signing key the settings name: `None` when the default file does not exist; a
/// configured file that is missing, readable by others or not a key is an error.
pub fn signing_key(settings: &Settings) -> Result<Option<ontofetch_provenance::SigningKey>, PipelineError> {
    let path = settings.signing_key_file();
    if settings.defaults().signing.key_file.is_none() && !path.exists() {
        return Ok(None);
    }
    ontofetch_provenance::SigningKey::read(&path).map(Some).map_err(PipelineError::from_coded)
}

/// Now, in seconds since the Unix epoch (what a timestamp gauge holds).
pub fn unix_now() -> f64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// UTC now as RFC 3339 with milliseconds (`2026-11-25T15:00:00.123Z`): sorts as text, and
/// orders versions downloaded within the same second.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// The network settings of `defaults.http`.
pub fn net_config(settings: &Settings) -> NetConfig {
    let h = &settings.defaults().http;
    let rate = |k: &str, v: &str| ontofetch_policy::config_gate::parse_rate_limit(k, v).ok();
    NetConfig {
        max_attempts: h.max_retries.max(1),
        read_timeout: Duration::from_secs_f64(h.timeout_sec),
        connect_timeout: Duration::from_secs_f64(h.connect_timeout_sec),
        attempt_deadline: Duration::from_secs_f64(h.download_timeout_sec),
        backoff_base: Duration::from_secs_f64(h.backoff_factor),
        max_retry_after: Duration::from_secs(120),
        max_bytes: (h.max_uncompressed_size_gb * (1u64 << 30) as f64) as u64,
        headers: settings.request_headers(),
        // Validated by the config gate.
        nameservers: h.dns_servers.iter().filter_map(|s| s.parse().ok()).collect(),
        http2: h.http2_enabled,
        idle_per_host: h.max_keepalive_connections as usize,
        idle_timeout: Duration::from_secs_f64(h.keepalive_expiry_sec),
        max_checksum_bytes: h.max_checksum_response_bytes,
        // Rates were validated by the config gate; a bad one cannot reach here.
        limits: ontofetch_net::limit::RateLimits::new(
            h.rate_limits.iter().filter_map(|(k, v)| Some((k.clone(), rate(k, v)?))).collect(),
            rate("per_host_rate_limit", &h.per_host_rate_limit),
        ),
    }
}

/// The series to create at 0 for a configuration: its services, resolvers, validators
/// and ontologies.
pub fn known_series(settings: &Settings) -> KnownSeries {
    let loaded = &settings.loaded;
    KnownSeries {
        services: ["obo", "ols", "bioportal", "direct"].iter().map(|s| s.to_string()).collect(),
        resolvers: loaded.config.ontologies.iter().map(|s| loaded.resolver(s)).collect(),
        validators: ontofetch_metrics::VALIDATORS.iter().map(|s| s.to_string()).collect(),
        ontologies: loaded.config.ontologies.iter().map(|s| s.id.clone()).collect(),
        worker: Some(settings.storage.worker_id.clone()),
    }
}

impl Pipeline {
    /// Opens the backends and builds the HTTP client for these settings.
    pub async fn new(
        settings: Settings,
        metrics: Arc<Metrics>,
        runner: Arc<dyn ValidatorRunner>,
        force: bool,
    ) -> Result<Pipeline, PipelineError> {
        metrics.add_known(&known_series(&settings));
        // Nothing is created through a symlinked root (`LINK`, `LINK/`, `LINK/.`).
        let root = &settings.dirs.root;
        Gates::new(&settings.loaded.policy, metrics.as_ref()).write(&ontofetch_policy::storage::WriteFacts {
            root,
            target: &root.join(ontofetch_store::layout::ONTOLOGIES),
            root_is_symlink: ontofetch_fsutil::is_symlink(root),
            bytes: 0,
            free_bytes: None,
        })?;
        let backends = Backends::open(&settings, Open::Create).await?;
        let mut config = net_config(&settings);
        config.limits = config.limits.shared(backends::shared_rates(&settings, &backends));
        let fetcher = Fetcher::new(Arc::new(settings.loaded.policy.clone()), metrics.clone(), config)?;
        let promote_invalid = settings.defaults().promote_invalid;
        let registry = std::sync::OnceLock::new();
        let signer = signing_key(&settings)?.map(Arc::new);
        Ok(Pipeline { settings, backends, fetcher, metrics, runner, force, promote_invalid, signer, registry })
    }

    /// A client for a command that reads other servers without a mirror of its own open
    /// (`verify --file --log URL`): the same gates, limits and deadlines as a pull.
    pub fn fetcher_for(settings: &Settings, metrics: Arc<Metrics>) -> Result<Fetcher, PipelineError> {
        Ok(Fetcher::new(Arc::new(settings.loaded.policy.clone()), metrics, net_config(settings))?)
    }

    /// The registry snapshot: the data root's (`registry update`), else the built-in one.
    pub fn registry(&self) -> &ontofetch_resolve::Registry {
        self.registry.get_or_init(|| {
            ontofetch_resolve::Registry::load(&self.settings.dirs.root.join(ontofetch_resolve::registry::STORED))
        })
    }

    /// Gates bound to the configured policy, reporting into the metrics.
    pub fn gates(&self) -> Gates<'_> {
        Gates::new(&self.settings.loaded.policy, self.metrics.as_ref())
    }

    /// What `accept_licenses` and `reject_unknown_licenses` say.
    pub fn license_policy(&self) -> ontofetch_resolve::LicensePolicy<'_> {
        let d = self.settings.defaults();
        ontofetch_resolve::LicensePolicy { accept: &d.accept_licenses, reject_unknown: d.reject_unknown_licenses }
    }

    /// The validator limits of the configuration.
    pub fn limits(&self) -> WorkerLimits {
        WorkerLimits::from_settings(&self.settings)
    }
}
