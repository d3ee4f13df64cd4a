//! What every command starts from: the flags, a snapshot of the environment, the resolved
//! settings (or why they could not be resolved), the metric registry that observes every
//! gate, and how to start a validator worker.

use crate::cli::Global;
use crate::error::CliError;
use ontofetch_config::{ConfigError, DataDirs, Env, Flags, Overrides, Settings};
use ontofetch_metrics::{KnownSeries, Metrics};
use ontofetch_pipeline::{Pipeline, Subprocess};
use ontofetch_policy::Gates;
use std::sync::Arc;

/// The command context.
pub struct Context {
    /// Global options.
    pub global: Global,
    /// Data directories (known even when the configuration is invalid).
    pub dirs: DataDirs,
    /// The metric registry; also the gate observer.
    pub metrics: Arc<Metrics>,
    /// How validator workers are started.
    pub worker: Subprocess,
    settings: Result<Settings, ConfigError>,
}

impl Context {
    /// Resolves the settings for a command; `command` holds its own overrides.
    pub fn new(global: Global, command: Overrides, builtin_only: bool, worker: Subprocess) -> Result<Self, CliError> {
        let cwd = std::env::current_dir().map_err(|e| CliError::io("reading the current directory", e))?;
        let env = Env::from_process();
        let overrides = Overrides {
            max_retries: global.max_retries,
            timeout_sec: global.timeout_sec,
            allowed_hosts: global.allowed_hosts.clone(),
            log_level: global.log_level.clone(),
            ..command
        };
        let flags = Flags { spec: global.spec.clone(), data_root: global.data_root.clone(), builtin_only, overrides };
        let metrics = Arc::new(Metrics::new(&KnownSeries::default()));
        let settings = Settings::resolve(&flags, &env, &cwd, metrics.as_ref());
        if let Ok(s) = &settings {
            metrics.add_known(&ontofetch_pipeline::known_series(s));
        }
        crate::logging::init(settings.as_ref().ok().map(|s| &s.logging), global.log_level.as_deref());
        if let Ok(s) = &settings {
            let inert = s.loaded.config.defaults.inert_keys();
            if !inert.is_empty() {
                tracing::warn!(
                    keys = %inert.join(", "),
                    "accepted for compatibility with DocsToKG but without effect in ontofetch (yet); see README, \"Keys kept for compatibility\""
                );
            }
        }
        match &settings {
            Ok(s) => {
                tracing::debug!(source = %s.loaded.origin.label(), catalog = ?s.loaded.config.defaults.storage.catalog_url, env = ?env.set_names(), "settings resolved")
            }
            Err(e) => tracing::debug!(error = %e, "settings not resolved"),
        }
        Ok(Context { dirs: Settings::dirs(&flags, &env, &cwd), global, metrics, worker, settings })
    }

    /// The settings, or the configuration error (exit 2).
    pub fn settings(&self) -> Result<&Settings, CliError> {
        self.settings.as_ref().map_err(|e| e.clone().into())
    }

    /// The settings or their error, for commands that report either (doctor).
    pub fn settings_result(&self) -> Result<&Settings, &ConfigError> {
        self.settings.as_ref()
    }

    /// Gates bound to the configured policy, reporting into this context's metrics.
    pub fn gates(&self) -> Result<Gates<'_>, CliError> {
        Ok(Gates::new(&self.settings()?.loaded.policy, self.metrics.as_ref()))
    }

    /// The pipeline: backends opened (created if missing), HTTP client built.
    pub async fn pipeline(&self, force: bool) -> Result<Pipeline, CliError> {
        let runner = Arc::new(self.worker.clone());
        Ok(Pipeline::new(self.settings()?.clone(), self.metrics.clone(), runner, force).await?)
    }

    /// Writes the metrics textfile if one was asked for.
    pub fn finish(&self) -> Result<(), CliError> {
        if let Some(path) = &self.global.metrics_textfile {
            self.metrics.write_textfile(path)?;
        }
        Ok(())
    }
}

/// The async runtime commands run on (two workers: this is a 2-core tool).
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::io("starting the async runtime", e))
}
