//! What every command starts from, whichever front end runs it: the options, a snapshot of
//! the environment, the resolved settings (or why they could not be resolved), the metric
//! registry that observes every gate, how to start a validator worker, and the one async
//! runtime the command's work runs on.

use crate::error::AppError;
use ontofetch_config::{ConfigError, DataDirs, Env, Flags, Overrides, Settings};
use ontofetch_metrics::{KnownSeries, Metrics};
use ontofetch_pipeline::{Pipeline, Subprocess};
use ontofetch_policy::Gates;
use std::path::PathBuf;
use std::sync::Arc;

/// Options every command takes (the command line's global flags; the Python API's
/// keyword arguments).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// One JSON document on stdout.
    pub json: bool,
    /// `sources.yaml` to use.
    pub spec: Option<PathBuf>,
    /// The data root.
    pub data_root: Option<PathBuf>,
    /// DEBUG, INFO, WARNING or ERROR.
    pub log_level: Option<String>,
    /// Where to write the metrics exposition when the command ends.
    pub metrics_textfile: Option<PathBuf>,
    /// Overrides `defaults.http.max_retries`.
    pub max_retries: Option<u32>,
    /// Overrides `defaults.http.timeout_sec`.
    pub timeout_sec: Option<f64>,
    /// Appended to `defaults.http.allowed_hosts`.
    pub allowed_hosts: Vec<String>,
}

/// The command context.
pub struct Context {
    /// The options the command was given.
    pub options: Options,
    /// Data directories (known even when the configuration is invalid).
    pub dirs: DataDirs,
    /// The metric registry; also the gate observer.
    pub metrics: Arc<Metrics>,
    /// How validator workers are started.
    pub worker: Subprocess,
    settings: Result<Settings, ConfigError>,
    /// Built on the first `block_on`: a command that does no async work (the validator
    /// worker, under its RLIMIT_AS) starts no threads.
    runtime: std::sync::OnceLock<tokio::runtime::Runtime>,
    /// Ctrl-C ends the command with 130 after removing this process's staging (the CLI's
    /// commands that write; Python handles its own interrupts, `serve` its own shutdown).
    exit_on_interrupt: bool,
}

impl Context {
    /// Resolves the settings for a command; `command` holds its own overrides.
    pub fn new(options: Options, command: Overrides, builtin_only: bool, worker: Subprocess) -> Result<Self, AppError> {
        let cwd = std::env::current_dir().map_err(|e| AppError::io("reading the current directory", e))?;
        let env = Env::from_process();
        let overrides = Overrides {
            max_retries: options.max_retries,
            timeout_sec: options.timeout_sec,
            allowed_hosts: options.allowed_hosts.clone(),
            log_level: options.log_level.clone(),
            ..command
        };
        let flags = Flags { spec: options.spec.clone(), data_root: options.data_root.clone(), builtin_only, overrides };
        let metrics = Arc::new(Metrics::new(&KnownSeries::default()));
        let settings = Settings::resolve(&flags, &env, &cwd, metrics.as_ref());
        if let Ok(s) = &settings {
            metrics.add_known(&ontofetch_pipeline::known_series(s));
        }
        crate::logging::init(settings.as_ref().ok().map(|s| &s.logging), options.log_level.as_deref());
        if let Ok(s) = &settings {
            match &s.loaded.origin {
                ontofetch_config::Origin::File(p) => tracing::debug!(file = %p.display(), "configuration"),
                ontofetch_config::Origin::Builtin => tracing::debug!(file = "built-in", "configuration"),
            }
            for (key, why) in s.defaults().inert_keys() {
                tracing::warn!(key, "{key} is accepted for compatibility with DocsToKG but has no effect: {why}");
            }
        }
        match &settings {
            Ok(s) => {
                tracing::debug!(source = %s.loaded.origin.label(), catalog = ?s.defaults().storage.catalog_url, env = ?env.set_names(), "settings resolved")
            }
            Err(e) => tracing::debug!(error = %e, "settings not resolved"),
        }
        let runtime = std::sync::OnceLock::new();
        Ok(Context {
            dirs: Settings::dirs(&flags, &env, &cwd),
            options,
            metrics,
            worker,
            settings,
            runtime,
            exit_on_interrupt: false,
        })
    }

    /// The settings, or the configuration error (exit 2).
    pub fn settings(&self) -> Result<&Settings, AppError> {
        self.settings.as_ref().map_err(|e| e.clone().into())
    }

    /// The settings or their error, for commands that report either (doctor).
    pub fn settings_result(&self) -> Result<&Settings, &ConfigError> {
        self.settings.as_ref()
    }

    /// Gates bound to the configured policy, reporting into this context's metrics.
    pub fn gates(&self) -> Result<Gates<'_>, AppError> {
        Ok(Gates::new(&self.settings()?.loaded.policy, self.metrics.as_ref()))
    }

    /// The ontologies a command works on: `ids` (every configured one when empty), with
    /// `resolver` forced when given. Bad input is a usage error that names it.
    pub fn specs(&self, ids: &[String], resolver: Option<&str>) -> Result<Vec<ontofetch_config::SpecInput>, AppError> {
        if let Some(r) = resolver
            && !ontofetch_config::load::RESOLVERS.contains(&r)
        {
            return Err(AppError::usage(format!(
                "--resolver {r:?} is not one of {}",
                ontofetch_config::load::RESOLVERS.join(", ")
            )));
        }
        let mut specs = self.settings()?.spec_inputs(ids, resolver).map_err(|e| AppError::usage(e.to_string()))?;
        // An id given on the command line that no entry of the spec names, for a resolver
        // that reads the registry, is the registry's prefix: `pull HP` stores `hp`, which
        // `show HP`, `/obo/HP.owl` and `pull hp` all find.
        let configured = &self.settings()?.loaded.config.ontologies;
        if !ids.is_empty() {
            let mut registry = None;
            for spec in specs.iter_mut().filter(|s| !configured.iter().any(|c| c.id == s.id)) {
                let reads_registry = spec
                    .chain
                    .first()
                    .and_then(|r| ontofetch_resolve::Resolver::parse(r))
                    .is_some_and(ontofetch_resolve::Resolver::reads_registry);
                if !reads_registry {
                    continue;
                }
                let r = match &registry {
                    Some(r) => r,
                    None => registry.insert(crate::registry::load(self)?),
                };
                if let Some(entry) = r.lookup(&spec.id)
                    && ontofetch_policy::config_gate::check_ontology_id("id", &entry.prefix).is_ok()
                {
                    spec.id = entry.prefix.clone();
                }
            }
            // `pull HP hpo` names one ontology once.
            let mut seen = std::collections::HashSet::new();
            specs.retain(|s| seen.insert(s.id.clone()));
        }
        if specs.is_empty() {
            return Err(AppError::usage("no ontologies to process: give ids or a --spec with ontologies"));
        }
        Ok(specs)
    }

    /// The pipeline: backends opened (created if missing), HTTP client built.
    pub async fn pipeline(&self, force: bool) -> Result<Pipeline, AppError> {
        let runner = Arc::new(self.worker.clone());
        Ok(Pipeline::new(self.settings()?.clone(), self.metrics.clone(), runner, force).await?)
    }

    /// Runs a command's async work to completion on the context's runtime: one for the
    /// command's whole life, built on first use, a worker per core (the blocking pool serves
    /// file I/O and hashing).
    pub fn block_on<F: std::future::Future>(&self, work: F) -> F::Output {
        let runtime = self.runtime.get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                // Only an exhausted process (no threads, no file descriptors) gets here.
                .expect("starting the async runtime")
        });
        if !self.exit_on_interrupt {
            return runtime.block_on(work);
        }
        runtime.block_on(async {
            tokio::select! {
                out = work => out,
                Ok(()) = tokio::signal::ctrl_c() => self.interrupted(),
            }
        })
    }

    /// From now on, Ctrl-C removes the staging this process made and exits with 130: an
    /// ordinary interrupt leaves nothing for `doctor` to report (a cron job or a monitor
    /// would alert on it).
    pub fn exit_on_interrupt(&mut self) {
        self.exit_on_interrupt = true;
    }

    fn interrupted(&self) -> ! {
        let mut roots = vec![self.dirs.root.clone()];
        if let Ok(s) = &self.settings
            && let Some(local) = s.storage.store_url.as_deref().and_then(|u| u.strip_prefix("file://"))
        {
            roots.push(std::path::PathBuf::from(local));
        }
        let mut removed = 0;
        for root in &roots {
            // A download thread may still be adding files: a few tries empty it.
            for _ in 0..5 {
                let own = ontofetch_store::own_staging(root);
                if own.is_empty() {
                    break;
                }
                removed += own.iter().filter(|d| ontofetch_store::remove_staging(root, d).is_ok()).count();
            }
        }
        let said = match removed {
            0 => "interrupted".to_string(),
            n => format!(
                "interrupted; removed {n} staging director{} this run had made",
                if n == 1 { "y" } else { "ies" }
            ),
        };
        eprintln!("{}", crate::logging::error_line(ontofetch_policy::Code::Interrupted, &said));
        std::process::exit(130)
    }

    /// Ends the context without waiting for blocking work still running on its runtime (a
    /// hash or a file copy that a cancelled command abandoned): what an interrupted Python
    /// call needs to return at once.
    pub fn shutdown_background(self) {
        if let Some(runtime) = self.runtime.into_inner() {
            runtime.shutdown_background();
        }
    }

    /// Writes the metrics textfile if one was asked for.
    pub fn finish(&self) -> Result<(), AppError> {
        if let Some(path) = &self.options.metrics_textfile {
            self.metrics.write_textfile(path)?;
        }
        Ok(())
    }
}
