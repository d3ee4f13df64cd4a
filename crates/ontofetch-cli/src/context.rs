//! What every command starts from: the data directories, the loaded configuration and
//! the metrics registry that observes every gate.

use crate::cli::Global;
use crate::error::CliError;
use ontofetch_config::{BUILTIN_SOURCES, ConfigError, DataDirs, Loaded, Origin, Overrides};
use ontofetch_metrics::{KnownSeries, Metrics};
use ontofetch_policy::Gates;
use std::path::PathBuf;
use std::sync::Arc;

/// The command context.
pub struct Context {
    /// Global options.
    pub global: Global,
    /// Data directories.
    pub dirs: DataDirs,
    /// The metric registry; also the gate observer.
    pub metrics: Arc<Metrics>,
}

impl Context {
    /// Resolves directories from flags and the environment.
    pub fn new(global: Global) -> Result<Self, CliError> {
        let cwd = std::env::current_dir().map_err(|e| CliError::io("reading the current directory", e))?;
        let dirs = DataDirs::resolve(
            global.data_root.as_deref(),
            std::env::var("PYSTOW_HOME").ok().as_deref(),
            std::env::var("HOME").ok().as_deref(),
            &cwd,
        );
        Ok(Context { global, dirs, metrics: Arc::new(Metrics::new(&KnownSeries::default())) })
    }

    /// The configuration source: `--spec`, else `<configs>/sources.yaml` if present, else
    /// the built-in default spec.
    pub fn source(&self, builtin_only: bool) -> Result<(Origin, String), ConfigError> {
        let path: Option<PathBuf> = if builtin_only {
            None
        } else {
            self.global.spec.clone().or_else(|| Some(self.dirs.default_sources()).filter(|p| p.is_file()))
        };
        match path {
            None => Ok((Origin::Builtin, BUILTIN_SOURCES.to_string())),
            Some(p) => {
                let text = std::fs::read_to_string(&p).map_err(|e| ConfigError::Read {
                    file: p.display().to_string(),
                    message: format!("{e} (create one with `ontofetch init {}`)", p.display()),
                })?;
                Ok((Origin::File(p), text))
            }
        }
    }

    /// Loads and validates the configuration through the config gate; metric series for
    /// the configured ontologies and resolvers are created at 0.
    pub fn load(&mut self, builtin_only: bool) -> Result<Loaded, CliError> {
        self.load_with(builtin_only, Overrides::default())
    }

    /// As [`Context::load`], with command-specific flags (`--target-formats`,
    /// `--concurrent-downloads`) added to the global ones.
    pub fn load_with(&mut self, builtin_only: bool, command: Overrides) -> Result<Loaded, CliError> {
        let (origin, text) = self.source(builtin_only)?;
        let overrides = Overrides {
            max_retries: self.global.max_retries,
            timeout_sec: self.global.timeout_sec,
            allowed_hosts: self.global.allowed_hosts.clone(),
            log_level: self.global.log_level.clone(),
            ..command
        };
        let env = |k: &str| std::env::var(k).ok();
        let loaded = ontofetch_config::load(origin, &text, &env, &overrides, self.metrics.as_ref())?;
        let known = KnownSeries {
            services: ["obo", "ols", "bioportal", "direct"].iter().map(|s| s.to_string()).collect(),
            resolvers: loaded.config.ontologies.iter().map(|s| loaded.resolver(s)).collect(),
            validators: ontofetch_metrics::VALIDATORS.iter().map(|s| s.to_string()).collect(),
            ontologies: loaded.config.ontologies.iter().map(|s| s.id.clone()).collect(),
        };
        self.metrics.add_known(&known);
        Ok(loaded)
    }

    /// Gates bound to a policy, reporting into this context's metrics.
    pub fn gates<'a>(&'a self, loaded: &'a Loaded) -> Gates<'a> {
        Gates::new(&loaded.policy, self.metrics.as_ref())
    }

    /// Writes the metrics textfile if one was asked for.
    pub fn finish(&self) -> Result<(), CliError> {
        if let Some(path) = &self.global.metrics_textfile {
            self.metrics.write_textfile(path)?;
        }
        Ok(())
    }
}
