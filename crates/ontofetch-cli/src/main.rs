//! The `ontofetch` binary: parse, run, map errors to stable codes and exit statuses
//! (0 ok, 1 failure, 2 usage/config, 3 refused by a gate).

mod cli;
mod commands;
mod context;
mod error;
mod fsutil;
mod output;
mod pipeline;
mod progress;
mod serve;
mod validation;

use clap::CommandFactory;
use clap::Parser;
use cli::{Cli, Command, ConfigCommand, MonitorCommand, PolicyCommand};
use context::Context;
use error::{CliError, EXIT_OK};
use std::process::ExitCode;

fn run(cli: Cli) -> Result<u8, CliError> {
    let mut ctx = Context::new(cli.global)?;
    let status = match &cli.command {
        Command::Init { path, force } => commands::init::run(&ctx, path, *force).map(|_| EXIT_OK),
        Command::Config(ConfigCommand::Show { defaults, no_redact }) => {
            commands::config::show(&mut ctx, *defaults, *no_redact).map(|_| EXIT_OK)
        }
        Command::Config(ConfigCommand::Validate) => commands::config::validate(&mut ctx).map(|_| EXIT_OK),
        Command::Policy(PolicyCommand::CheckUrl { url, resolve }) => {
            commands::policy::check_url(&mut ctx, url, *resolve)
        }
        Command::Policy(PolicyCommand::CheckPath { path, root }) => commands::policy::check_path(&mut ctx, path, root),
        Command::Policy(PolicyCommand::Codes) => commands::policy::codes(&ctx).map(|_| EXIT_OK),
        Command::Doctor { fix } => commands::doctor::run(&mut ctx, *fix).map(|_| EXIT_OK),
        Command::Pull(args) => commands::pull::pull(&mut ctx, args).map(|_| EXIT_OK),
        Command::Plan(args) => commands::pull::plan(&mut ctx, args).map(|_| EXIT_OK),
        Command::PlanDiff { plan, baseline, update_baseline } => {
            commands::pull::plan_diff(&mut ctx, plan, baseline.as_deref(), *update_baseline).map(|_| EXIT_OK)
        }
        Command::Show { id, versions } => commands::store::show(&mut ctx, id, *versions).map(|_| EXIT_OK),
        Command::Prune { keep, older_than, ids, dry_run } => {
            commands::store::prune(&mut ctx, *keep, older_than.as_deref(), ids, *dry_run).map(|_| EXIT_OK)
        }
        Command::Db(cmd) => commands::store::db(&mut ctx, cmd).map(|_| EXIT_OK),
        Command::Validate { id, version, strict } => {
            commands::store::validate(&mut ctx, id, version.as_deref(), *strict).map(|_| EXIT_OK)
        }
        Command::ValidateWorker { file, normalize_to, max_normalize_bytes } => {
            let opts = ontofetch_validate::Options {
                normalize_to: normalize_to.as_deref(),
                max_normalize_bytes: *max_normalize_bytes,
            };
            println!(
                "{}",
                serde_json::to_string(&ontofetch_validate::validate(file, &opts)).expect("outcome serialises")
            );
            Ok(EXIT_OK)
        }
        Command::Serve(args) => commands::monitor::serve(&mut ctx, args).map(|_| EXIT_OK),
        Command::Monitor(MonitorCommand::Start(args)) => commands::monitor::start(&mut ctx, args).map(|_| EXIT_OK),
        Command::Monitor(MonitorCommand::Stop) => commands::monitor::stop(&mut ctx).map(|_| EXIT_OK),
        Command::Monitor(MonitorCommand::Status) => commands::monitor::status(&mut ctx).map(|_| EXIT_OK),
        Command::Monitor(MonitorCommand::GrafanaConfig { out, prometheus_url, target }) => {
            commands::monitor::grafana_config(&ctx, out, prometheus_url, target).map(|_| EXIT_OK)
        }
        Command::Monitor(MonitorCommand::Dashboard) => commands::monitor::dashboard().map(|_| EXIT_OK),
    };
    // Metrics are written whatever the outcome: a refused run is worth observing.
    let written = ctx.finish();
    let status = status?;
    written?;
    Ok(status)
}

/// Global options that take a value (skipped when looking for the command word).
const VALUE_FLAGS: &[&str] = &[
    "--spec",
    "--data-root",
    "--log-level",
    "--metrics-textfile",
    "--max-retries",
    "--timeout-sec",
    "--allowed-hosts",
];

/// DocsToKG compatibility: `ontofetch hp` means `ontofetch pull hp`.
fn with_default_command(args: Vec<String>) -> Vec<String> {
    let known: Vec<String> = Cli::command()
        .get_subcommands()
        .flat_map(|c| std::iter::once(c.get_name().to_string()).chain(c.get_all_aliases().map(str::to_string)))
        .chain(["help".to_string()])
        .collect();
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        if VALUE_FLAGS.contains(&a.as_str()) {
            i += 2;
            continue;
        }
        if a.starts_with('-') {
            i += 1;
            continue;
        }
        if !known.contains(a) {
            let mut out = args.clone();
            out.insert(i, "pull".into());
            return out;
        }
        break;
    }
    args
}

fn main() -> ExitCode {
    let cli = Cli::parse_from(with_default_command(std::env::args().collect()));
    let json = cli.global.json;
    match run(cli) {
        Ok(status) => ExitCode::from(status),
        Err(e) => {
            eprintln!("ontofetch: {e}");
            // A failed check already printed its own report as the JSON document.
            if json && !matches!(e, CliError::CheckFailed(_)) {
                let doc = serde_json::json!({"ok": false, "error": {"code": e.code(), "message": e.to_string()}});
                println!("{}", serde_json::to_string_pretty(&doc).expect("JSON values serialise"));
            }
            ExitCode::from(e.exit_status())
        }
    }
}
