//! Command-line surface (clap derive). Flags that change configuration follow the
//! precedence defaults < sources.yaml < ONTOFETCH_* environment < these flags.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// ontofetch: fetch ontologies from their registries into a verified local mirror,
/// with every URL, address, path and write passing a policy gate.
#[derive(Debug, Parser)]
#[command(name = "ontofetch", version, about, long_about = None)]
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
    /// sources.yaml to use (default: <data-root>/configs/sources.yaml, else the built-in spec).
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
    /// Check the environment: directories, disk, configuration, credentials, gates.
    Doctor {
        /// Create missing directories.
        #[arg(long)]
        fix: bool,
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
