//! The `ontofetch` binary: parse, run, map errors to stable codes and exit statuses
//! (0 ok, 1 failure, 2 usage/config, 3 refused by a gate).

mod cli;
mod commands;
mod context;
mod error;
mod output;

use clap::Parser;
use cli::{Cli, Command, ConfigCommand, PolicyCommand};
use context::Context;
use error::{CliError, EXIT_OK};
use std::process::ExitCode;

fn run(cli: Cli) -> Result<u8, CliError> {
    let mut ctx = Context::new(cli.global)?;
    let status = match &cli.command {
        Command::Init { path, force } => commands::init::run(&ctx, path, *force).map(|_| EXIT_OK),
        Command::Config(ConfigCommand::Show {
            defaults,
            no_redact,
        }) => commands::config::show(&mut ctx, *defaults, *no_redact).map(|_| EXIT_OK),
        Command::Config(ConfigCommand::Validate) => {
            commands::config::validate(&mut ctx).map(|_| EXIT_OK)
        }
        Command::Policy(PolicyCommand::CheckUrl { url, resolve }) => {
            commands::policy::check_url(&mut ctx, url, *resolve)
        }
        Command::Policy(PolicyCommand::CheckPath { path, root }) => {
            commands::policy::check_path(&mut ctx, path, root)
        }
        Command::Policy(PolicyCommand::Codes) => commands::policy::codes(&ctx).map(|_| EXIT_OK),
        Command::Doctor { fix } => commands::doctor::run(&mut ctx, *fix).map(|_| EXIT_OK),
    };
    // Metrics are written whatever the outcome: a refused run is worth observing.
    let written = ctx.finish();
    let status = status?;
    written?;
    Ok(status)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.global.json;
    match run(cli) {
        Ok(status) => ExitCode::from(status),
        Err(e) => {
            eprintln!("ontofetch: {e}");
            // A failed check already printed its own report as the JSON document.
            if json && !matches!(e, CliError::CheckFailed(_)) {
                let doc = serde_json::json!({"ok": false, "error": {"code": e.code(), "message": e.to_string()}});
                println!(
                    "{}",
                    serde_json::to_string_pretty(&doc).expect("JSON values serialise")
                );
            }
            ExitCode::from(e.exit_status())
        }
    }
}
