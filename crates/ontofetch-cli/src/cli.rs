//! Command-line surface (clap derive). Flags that change configuration follow the
//! precedence defaults < sources.yaml < ONTOFETCH_* environment < these flags.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// ontofetch: fetch ontologies from their registries into a verified local mirror,
/// with every URL, address, path and write passing a policy gate.
#[derive(Debug, Parser)]
#[command(
    name = "ontofetch",
    version,
    about = "Fetch ontologies from their registries (OBO PURLs, OLS, BioPortal, LOV, URLs) into a verified,\nversioned local mirror; every URL, address, path and write passes a policy gate.",
    long_about = None
)]
pub struct Cli {
    /// Options every command accepts.
    #[command(flatten)]
    pub global: Global,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts.
#[derive(Debug, Args, Clone, Default)]
pub struct Global {
    /// Print one JSON document on stdout (logs and progress go to stderr).
    #[arg(long, global = true)]
    pub json: bool,
    /// sources.yaml to use (default: ./sources.yaml, else <data-root>/configs/sources.yaml, else the
    /// built-in spec; `config show` names the one in use).
    #[arg(long, global = true, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    /// Data root (default: $PYSTOW_HOME/ontology-fetcher, else ~/.data/ontology-fetcher).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_root: Option<PathBuf>,
    /// Logging level: DEBUG, INFO, WARNING or ERROR.
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// Write the metrics exposition to FILE when the command ends (node_exporter textfile).
    #[arg(long, global = true, value_name = "FILE")]
    pub metrics_textfile: Option<PathBuf>,
    /// Override defaults.http.max_retries.
    #[arg(long, global = true, value_name = "N")]
    pub max_retries: Option<u32>,
    /// Override defaults.http.timeout_sec.
    #[arg(long, global = true, value_name = "SECONDS")]
    pub timeout_sec: Option<f64>,
    /// Append to defaults.http.allowed_hosts (comma-separated; repeatable).
    #[arg(long, global = true, value_name = "HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,
}

impl From<Global> for ontofetch_app::Options {
    fn from(g: Global) -> Self {
        ontofetch_app::Options {
            json: g.json,
            spec: g.spec,
            data_root: g.data_root,
            log_level: g.log_level,
            metrics_textfile: g.metrics_textfile,
            max_retries: g.max_retries,
            timeout_sec: g.timeout_sec,
            allowed_hosts: g.allowed_hosts,
        }
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write an example sources.yaml (refuses to overwrite without --force).
    Init {
        /// Where to write it.
        #[arg(default_value = "sources.yaml")]
        path: PathBuf,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Show or validate the effective configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Ask the policy gates about a URL or a path.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Check the environment, the store and the catalog; --fix repairs what it can.
    Doctor {
        /// Create missing directories, remove stale staging, repair store/catalog orphans
        /// and what can be repaired from the stored bytes; says what it cannot.
        #[arg(long)]
        fix: bool,
        /// Re-hash every stored artifact (streamed, local or S3) and compare each with the
        /// catalog and its manifest: drift is reported as E_DRIFT.
        #[arg(long)]
        verify: bool,
    },
    /// Download ontologies into the store (a bare id means `pull ID`).
    Pull(PullArgs),
    /// Resolve download plans without downloading; writes the lockfile.
    Plan(PlanArgs),
    /// Compare the current plans with a baseline.
    PlanDiff {
        /// Plan options.
        #[command(flatten)]
        plan: PlanArgs,
        /// Baseline file (default: <data-root>/cache/plans/baseline.json).
        #[arg(long, value_name = "FILE")]
        baseline: Option<PathBuf>,
        /// Replace the baseline with the current plans (a missing baseline counts as empty).
        #[arg(long)]
        update_baseline: bool,
    },
    /// Show the latest manifest of an ontology, or its versions.
    Show {
        /// Ontology id.
        id: String,
        /// List stored versions instead.
        #[arg(long)]
        versions: bool,
    },
    /// What changed between two stored versions: terms added, removed, obsoleted,
    /// relabelled, with new definitions or parents (default: the two latest).
    Diff {
        /// Ontology id.
        id: String,
        /// The older version (default: the one before NEW).
        old: Option<String>,
        /// The newer version (default: the latest).
        new: Option<String>,
        /// Examples listed per kind of change.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Write files other tools read the mirror through.
    #[command(subcommand)]
    Export(ExportCommand),
    /// The registry snapshot (Bioregistry) the obo/bioregistry resolvers read.
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// Delete old versions, keeping the newest N.
    Prune {
        /// Versions to keep per ontology (at least 1).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        keep: u32,
        /// Also delete versions downloaded before this date (YYYY-MM-DD), still keeping --keep.
        #[arg(long, value_name = "DATE")]
        older_than: Option<String>,
        /// Only these ontologies.
        #[arg(long, value_delimiter = ',')]
        ids: Vec<String>,
        /// Report without deleting.
        #[arg(long)]
        dry_run: bool,
    },
    /// Query the catalog.
    #[command(subcommand)]
    Db(DbCommand),
    /// Re-run the validators on a stored version and record the results.
    Validate {
        /// Ontology id (or --file).
        #[arg(required_unless_present = "file")]
        id: Option<String>,
        /// Version (default: the latest).
        version: Option<String>,
        /// On failure, purge this version and point `latest` back at the previous good one.
        #[arg(long, conflicts_with = "file")]
        strict: bool,
        /// Validate a local file instead, without storing it (same worker, limits and report
        /// as a pull); exit 1 when it fails.
        #[arg(long, conflicts_with_all = ["id", "version"])]
        file: Option<PathBuf>,
        /// With --file: keep the normalised files (canonical N-Triples, Turtle…) in DIR.
        #[arg(long, requires = "file")]
        output_dir: Option<PathBuf>,
    },
    /// Internal: validate one file in this (resource-limited) process and print JSON.
    #[command(hide = true)]
    ValidateWorker {
        /// File to validate.
        #[arg(long)]
        file: PathBuf,
        /// The job's options (JSON).
        #[arg(long, default_value = "{}")]
        options: String,
    },
    /// Serve the mirror (status page, API, artifacts, PURL-style paths) and /metrics;
    /// optionally pull on a schedule.
    Serve(ServeArgs),
    /// Run `serve` in the background, and write Grafana/Prometheus provisioning.
    #[command(subcommand)]
    Monitor(MonitorCommand),
    /// The mirror's signing key: every version stored with one gets a signed attestation.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The mirror's transparency log of attestations (c2sp.org/tlog-tiles in the store,
    /// served under /log/): its checkpoint, or publish what is not in it yet.
    #[command(subcommand)]
    Log(LogCommand),
    /// Check a stored version, or a local file, against its signed attestation: the
    /// signature under the trusted key, every byte's SHA-256, and the attestation's place in
    /// the mirror's transparency log. Exit 3 (E_ATTESTATION, E_LOG_INCONSISTENT) when it
    /// does not hold.
    Verify {
        /// Ontology id (or --file).
        #[arg(required_unless_present = "file")]
        id: Option<String>,
        /// Version (default: the latest).
        version: Option<String>,
        /// A local file instead (an `original/<file>` a mirror handed out, a download).
        #[arg(long, conflicts_with_all = ["id", "version"])]
        file: Option<PathBuf>,
        /// With --file: the attestation (default: `attestation.dsse.json` of the version
        /// directory the file is in).
        #[arg(long, requires = "file")]
        attestation: Option<PathBuf>,
        /// With --file: the mirror's transparency log (its `…/log` URL, or a directory
        /// holding a copy) to prove the attestation is in, under a checkpoint signed by the
        /// same key, consistent with the last one seen (exit 3, E_LOG_INCONSISTENT).
        #[arg(long, requires = "file", value_name = "URL|DIR")]
        log: Option<String>,
        /// The verifier key to trust (`name+id+key`, or a file holding it); default: this
        /// mirror's own signing key's.
        #[arg(long, value_name = "VKEY")]
        key: Option<String>,
    },
}

/// `keys …`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create the Ed25519 signing key (0600; never over an existing one) and print its
    /// verifier key in the C2SP signed-note form.
    Generate {
        /// The key's name: the mirror's origin, a host and path (default: HOSTNAME/ontofetch).
        #[arg(long, value_name = "ORIGIN")]
        name: Option<String>,
    },
    /// Print the verifier key of the signing key.
    Show,
}

/// `log …`.
#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// The published checkpoint (origin, entries, root) and what waits to be appended.
    Show,
    /// Append every attestation not in the log yet and publish a new checkpoint (every
    /// pull does this when the mirror signs).
    Publish,
}

/// `serve` options.
#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// Address to listen on (loopback by default; anything else is an explicit choice).
    #[arg(long, default_value = "127.0.0.1:9464", conflicts_with = "port")]
    pub listen: std::net::SocketAddr,
    /// Listen on 127.0.0.1 at this port (shorthand for --listen 127.0.0.1:N).
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,
    /// Pull every configured ontology at start and then every DURATION (e.g. 24h, 30m).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub refresh: Option<std::time::Duration>,
    /// PEM certificate chain: serve HTTPS.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// File holding a bearer token required on /metrics.
    #[arg(long, value_name = "FILE", conflicts_with = "basic_auth_file")]
    pub bearer_token_file: Option<PathBuf>,
    /// File holding `user:password` required (HTTP basic) on /metrics.
    #[arg(long, value_name = "FILE")]
    pub basic_auth_file: Option<PathBuf>,
    /// File holding a bearer token required on the mirror (/, /api, /ontologies, /obo);
    /// without it (or --artifacts-basic-auth-file) the mirror is open.
    #[arg(long, value_name = "FILE", conflicts_with = "artifacts_basic_auth_file")]
    pub artifacts_bearer_token_file: Option<PathBuf>,
    /// File holding `user:password` required (HTTP basic) on the mirror.
    #[arg(long, value_name = "FILE")]
    pub artifacts_basic_auth_file: Option<PathBuf>,
    /// Connections held at once (one more is closed on accept); downloads of artifacts get
    /// all but a reserve of them, so health and metrics stay reachable.
    #[arg(long, value_name = "N", default_value_t = 512, value_parser = clap::value_parser!(usize))]
    pub max_connections: usize,
    /// Connections one client address may hold.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(usize))]
    pub max_connections_per_client: usize,
    /// Close a connection whose response write makes no progress for this many seconds
    /// (a client that stopped reading); a slow reader that keeps reading is served.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub write_timeout_sec: f64,
    /// Close a connection that has not sent a whole request head within this many seconds
    /// (also between requests on a kept-alive connection).
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub header_timeout_sec: f64,
}

impl ServeArgs {
    /// The address to listen on: `--port` on loopback, else `--listen`.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.port.map_or(self.listen, |p| std::net::SocketAddr::from(([127, 0, 0, 1], p)))
    }
}

/// Where alerts go (`monitor grafana-config`): secrets are named by file, never given.
#[derive(Debug, Args, Clone)]
pub struct AlertArgs {
    /// The Alertmanager Prometheus sends alerts to.
    #[arg(long, default_value = "127.0.0.1:9093")]
    pub alertmanager: String,
    /// Scrape and rule evaluation interval of the generated prometheus.yml.
    #[arg(long, default_value = "15s")]
    pub scrape_interval: String,
    /// Receivers to configure (comma-separated): slack, pagerduty, webhook.
    #[arg(long, value_delimiter = ',', default_value = "slack,pagerduty,webhook")]
    pub receivers: Vec<String>,
    /// File holding the Slack incoming-webhook URL (relative: to alertmanager.yml's directory).
    #[arg(long, value_name = "FILE", default_value = "secrets/slack_api_url")]
    pub slack_api_url_file: PathBuf,
    /// Slack channel.
    #[arg(long, default_value = "#ontologies")]
    pub slack_channel: String,
    /// File holding the PagerDuty Events v2 routing key.
    #[arg(long, value_name = "FILE", default_value = "secrets/pagerduty_routing_key")]
    pub pagerduty_routing_key_file: PathBuf,
    /// Where the generic webhook posts.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:9099/alerts")]
    pub webhook_url: String,
    /// File holding the webhook's bearer token.
    #[arg(long, value_name = "FILE", default_value = "secrets/webhook_token")]
    pub webhook_token_file: PathBuf,
    /// How long Alertmanager waits before the first notification of a group.
    #[arg(long, default_value = "30s")]
    pub group_wait: String,
    /// Alert when a release removes more than this share of its predecessor's terms.
    #[arg(long, default_value_t = 0.05)]
    pub removed_share: f64,
}

/// `export …`.
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// An OASIS XML catalog (catalog-v001.xml) mapping each ontology's IRIs to the mirror,
    /// so Protégé, ROBOT and the OWL API resolve imports from it.
    CatalogXml {
        /// Where the mirror is served (`ontofetch serve`); without it, local file paths.
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
        /// Output file; `-` prints the catalog on stdout.
        #[arg(long, value_name = "FILE", default_value = "catalog-v001.xml")]
        out: PathBuf,
    },
}

/// `registry …`.
#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// What the snapshot says about a prefix (any spelling) and what a pull would fetch.
    Show {
        /// Prefixes, their preferred spellings or synonyms, in any case and with or without
        /// separators (`hp`, `HP`, `NCBITaxon`, `apollo_sv`); several print a list.
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
    },
    /// Prefixes whose prefix, synonyms or name contain TEXT.
    Search {
        /// What to look for.
        text: String,
        /// At most this many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Overlay Bioregistry's JSON from a URL (through every gate) or a local file (a team's
    /// curated records) on the built-in snapshot: its records win, every other prefix stays.
    Update {
        /// Where to fetch it (default: Bioregistry's published bioregistry.json).
        #[arg(long, value_name = "URL", conflicts_with = "file")]
        from: Option<String>,
        /// A local copy instead.
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// How the snapshot names its origin (default: the URL or path).
        #[arg(long)]
        label: Option<String>,
    },
    /// Drop the data root's snapshot: the built-in one answers again.
    Reset,
}

/// `monitor …`.
#[derive(Debug, Subcommand)]
pub enum MonitorCommand {
    /// Start `serve` in the background (pidfile and log under the data root).
    Start(ServeArgs),
    /// Stop the background `serve` (SIGTERM, then wait).
    Stop,
    /// Is the background `serve` running and healthy?
    Status,
    /// Write Grafana provisioning (datasource, provider, dashboard) and Prometheus rules.
    GrafanaConfig {
        /// Output directory.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Prometheus URL Grafana should query.
        #[arg(long, default_value = "http://127.0.0.1:9090")]
        prometheus_url: String,
        /// The `serve` address Prometheus should scrape.
        #[arg(long, default_value = "127.0.0.1:9464")]
        target: String,
        /// Alert routing and receivers (Alertmanager).
        #[command(flatten)]
        alerts: AlertArgs,
    },
    /// Print the Grafana dashboard JSON.
    Dashboard,
}

/// Options shared by `pull`, `plan` and `plan-diff`.
#[derive(Debug, Args, Clone, Default)]
pub struct PlanArgs {
    /// Ontology ids (default: every ontology in the configuration).
    pub ids: Vec<String>,
    /// Use only this resolver.
    #[arg(long)]
    pub resolver: Option<String>,
    /// Formats wanted (comma-separated), replacing the configured ones.
    #[arg(long, value_delimiter = ',')]
    pub target_formats: Vec<String>,
    /// Where to write the lockfile.
    #[arg(long, value_name = "FILE", default_value = "ontologies.lock.json")]
    pub lock_output: PathBuf,
    /// Do not write a lockfile.
    #[arg(long)]
    pub no_lock: bool,
}

/// `pull` options.
#[derive(Debug, Args, Clone, Default)]
pub struct PullArgs {
    /// Plan options.
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Replay a lockfile: exact URLs, and the pinned SHA-256 must match (other bytes are
    /// refused with E_CHECKSUM, `latest` unchanged). An entry without a pin gets the SHA-256
    /// of what was stored written into FILE, as cargo fills Cargo.lock.
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,
    /// With --lock: never write FILE; an entry without a pin is refused instead.
    #[arg(long, requires = "lock", conflicts_with = "update_lock")]
    pub locked: bool,
    /// With --lock: take what the URLs serve now, whatever the pins say, and pin it in FILE.
    #[arg(long, requires = "lock")]
    pub update_lock: bool,
    /// Plan only.
    #[arg(long)]
    pub dry_run: bool,
    /// Download again even if the server says nothing changed.
    #[arg(long)]
    pub force: bool,
    /// Make a release that fails validation `latest` anyway (default: it is stored for
    /// inspection, counted as failed, and `latest` stays on the last version that validated).
    #[arg(long)]
    pub promote_invalid: bool,
    /// Parallel downloads (overrides defaults.http.concurrent_downloads).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10))]
    pub concurrent_downloads: Option<u32>,
    /// Serve /metrics on this address while the pull runs.
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// Push the metrics to this Pushgateway when the pull ends (job "ontofetch").
    #[arg(long, value_name = "URL")]
    pub pushgateway: Option<String>,
    /// Also pull what each ontology imports, through the same gates and resolvers
    /// (defaults.follow_imports for every run).
    #[arg(long)]
    pub with_imports: bool,
}

/// `db …`.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// The latest version of each ontology (or one).
    Latest {
        /// Ontology id.
        id: Option<String>,
    },
    /// Versions, newest first.
    Versions {
        /// Ontology id.
        id: Option<String>,
        /// Maximum rows.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Totals.
    Stats,
    /// Validation results of a version (default: the latest).
    Validations {
        /// Ontology id.
        id: String,
        /// Version.
        version: Option<String>,
    },
    /// Files of a version (default: the latest).
    Files {
        /// Ontology id.
        id: String,
        /// Version.
        version: Option<String>,
    },
}

/// `config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration (secrets masked).
    Show {
        /// Show the built-in defaults instead of the file.
        #[arg(long)]
        defaults: bool,
        /// Print secrets in clear.
        #[arg(long)]
        no_redact: bool,
    },
    /// Validate the configuration; exit 2 with file:line: key: message if it is wrong.
    Validate,
    /// Print the configuration reference (every key, type, default, environment variable
    /// and effect) as Markdown: docs/configuration.md is this output.
    Reference,
    /// Print the JSON Schema of sources.yaml (for editors and CI checks).
    Schema,
}

/// `policy …`.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Judge a URL with the url gate (and, with --resolve, its DNS answers with the ip gate).
    CheckUrl {
        /// The URL.
        url: String,
        /// Resolve the host and run every address through the ip gate.
        #[arg(long)]
        resolve: bool,
    },
    /// Judge a path under a root with the filesystem gate.
    CheckPath {
        /// The path (relative to --root, or absolute inside it).
        path: String,
        /// The root it must stay under.
        #[arg(long, value_name = "DIR")]
        root: PathBuf,
    },
    /// List every gate and the codes it can refuse with.
    Codes,
}
