//! The `ontofetch` command line: parse the arguments, resolve the settings, call a
//! library (pipeline, server, monitor) and render the result. Also a library so the Python
//! module can run the same command line in-process (`ontofetch` installed by pip).

#![warn(missing_docs)]

pub mod cli;
mod commands;
mod output;
mod progress;

use clap::{CommandFactory, Parser};
use cli::{Cli, Command, ConfigCommand, ExportCommand, KeysCommand, LogCommand, MonitorCommand, PolicyCommand};

use ontofetch_app::{AppError, Context, EXIT_OK, EXIT_USAGE};
use ontofetch_config::Overrides;
use ontofetch_pipeline::Subprocess;
use std::ffi::OsString;
use std::process::ExitCode;

/// Flags of a command that override configuration values.
fn command_overrides(command: &Command) -> Overrides {
    let plan = |a: &cli::PlanArgs| (!a.target_formats.is_empty()).then(|| a.target_formats.clone());
    match command {
        Command::Pull(a) => Overrides {
            target_formats: plan(&a.plan),
            concurrent_downloads: a.concurrent_downloads,
            ..Overrides::default()
        },
        Command::Plan(a) | Command::PlanDiff { plan: a, .. } => {
            Overrides { target_formats: plan(a), ..Overrides::default() }
        }
        _ => Overrides::default(),
    }
}

fn dispatch(ctx: &mut Context, command: &Command) -> Result<u8, AppError> {
    let ok = |r: Result<(), AppError>| r.map(|_| EXIT_OK);
    match command {
        Command::Init { path, force } => {
            output::emit(&ctx.options, &ontofetch_app::files::init(path, *force)?);
            Ok(EXIT_OK)
        }
        Command::Config(ConfigCommand::Show { no_redact, .. }) => ok(commands::config::show(ctx, *no_redact)),
        Command::Config(ConfigCommand::Validate) => ok(commands::config::validate(ctx)),
        Command::Config(ConfigCommand::Reference) => ok(commands::config::reference(ctx)),
        Command::Config(ConfigCommand::Schema) => ok(commands::config::schema()),
        Command::Policy(PolicyCommand::CheckUrl { url, resolve }) => commands::policy::check_url(ctx, url, *resolve),
        Command::Policy(PolicyCommand::CheckPath { path, root }) => commands::policy::check_path(ctx, path, root),
        Command::Policy(PolicyCommand::Codes) => {
            output::emit(&ctx.options, &ontofetch_app::check::codes());
            Ok(EXIT_OK)
        }
        Command::Doctor { fix, verify } => ok(commands::doctor::run(ctx, *fix, *verify)),
        Command::Pull(args) => ok(commands::pull::pull(ctx, args)),
        Command::Plan(args) => ok(commands::pull::plan(ctx, args)),
        Command::PlanDiff { plan, baseline, update_baseline } => {
            ok(commands::pull::plan_diff(ctx, plan, baseline.as_deref(), *update_baseline))
        }
        Command::Show { id, versions } => ok(commands::store::show(ctx, id, *versions)),
        Command::Prune { keep, older_than, ids, dry_run } => {
            ok(commands::store::prune(ctx, *keep, older_than.as_deref(), ids, *dry_run))
        }
        Command::Db(cmd) => ok(commands::store::db(ctx, cmd)),
        Command::Diff { id, old, new, limit } => {
            ok(commands::store::diff(ctx, id, old.as_deref(), new.as_deref(), *limit))
        }
        Command::Registry(cmd) => ok(commands::registry::run(ctx, cmd)),
        Command::Export(ExportCommand::CatalogXml { base_url, out }) => {
            ok(commands::export::catalog_xml(ctx, base_url.as_deref(), out))
        }
        Command::Validate { file: Some(file), output_dir, .. } => {
            ok(commands::store::validate_file(ctx, file, output_dir.as_deref()))
        }
        Command::Validate { id, version, strict, .. } => {
            let id = id.as_deref().expect("clap requires an id without --file");
            ok(commands::store::validate(ctx, id, version.as_deref(), *strict))
        }
        Command::ValidateWorker { file, options } => {
            output::print(&ontofetch_pipeline::runner::worker_output(file, options));
            Ok(EXIT_OK)
        }
        Command::Serve(args) => ok(commands::serve::serve(ctx, args)),
        Command::Monitor(MonitorCommand::Start(args)) => ok(commands::monitor::start(ctx, args)),
        Command::Monitor(MonitorCommand::Stop) => ok(commands::monitor::stop(ctx)),
        Command::Monitor(MonitorCommand::Status) => ok(commands::monitor::status(ctx)),
        Command::Monitor(MonitorCommand::GrafanaConfig { out, prometheus_url, target, alerts }) => {
            ok(commands::monitor::grafana_config(ctx, out, prometheus_url, target, alerts))
        }
        Command::Monitor(MonitorCommand::Dashboard) => ok(commands::monitor::dashboard()),
        Command::Keys(KeysCommand::Generate { name }) => {
            output::emit(&ctx.options, &ontofetch_app::provenance::generate(ctx, name.as_deref())?);
            Ok(EXIT_OK)
        }
        Command::Log(LogCommand::Show) => {
            output::emit(&ctx.options, &ctx.block_on(ontofetch_app::provenance::log_show(ctx))?);
            Ok(EXIT_OK)
        }
        Command::Log(LogCommand::Publish) => {
            output::emit(&ctx.options, &ctx.block_on(ontofetch_app::provenance::log_publish(ctx))?);
            Ok(EXIT_OK)
        }
        Command::Keys(KeysCommand::Show) => {
            output::emit(&ctx.options, &ontofetch_app::provenance::show(ctx)?);
            Ok(EXIT_OK)
        }
        Command::Verify { id, version, file, attestation, log, key } => {
            use ontofetch_app::provenance::Target;
            let target = match file {
                Some(path) => Target::File { path: path.clone(), attestation: attestation.clone(), log: log.clone() },
                None => Target::Stored {
                    id: id.clone().expect("clap requires an id without --file"),
                    version: version.clone(),
                },
            };
            let report = ctx.block_on(ontofetch_app::provenance::verify(ctx, &target, key.as_deref()))?;
            output::emit(&ctx.options, &report);
            Ok(EXIT_OK)
        }
    }
}

fn run(cli: Cli, worker: Subprocess) -> Result<u8, AppError> {
    let builtin_only = matches!(cli.command, Command::Config(ConfigCommand::Show { defaults: true, .. }));
    let mut ctx = Context::new(cli.global.into(), command_overrides(&cli.command), builtin_only, worker)?;
    // Commands that stage files clean up on Ctrl-C (serve has its own graceful shutdown).
    if matches!(
        cli.command,
        Command::Pull(_)
            | Command::Plan(_)
            | Command::Validate { .. }
            | Command::Diff { .. }
            | Command::Doctor { .. }
            | Command::Prune { .. }
            | Command::Registry(_)
            | Command::Verify { .. }
    ) {
        ctx.exit_on_interrupt();
    }
    let status = dispatch(&mut ctx, &cli.command);
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

/// Whether `word` is within a typo of the command `name`: one edit for words of 3–4
/// letters, two for longer ones. Two-letter words (`hp`, `go`, `ro`) are always ids.
fn looks_like(word: &str, name: &str) -> bool {
    let n = word.chars().count();
    let budget = match n {
        0..=2 => return false,
        3..=4 => 1,
        _ => 2,
    };
    edit_distance(word, name) <= budget
}

/// Levenshtein distance (small inputs: command words).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// DocsToKG compatibility: `ontofetch hp` means `ontofetch pull hp`.
fn with_default_command(args: Vec<OsString>) -> Vec<OsString> {
    let known: Vec<String> = Cli::command()
        .get_subcommands()
        .flat_map(|c| std::iter::once(c.get_name().to_string()).chain(c.get_all_aliases().map(str::to_string)))
        .chain(["help".to_string()])
        .collect();
    let mut i = 1;
    while i < args.len() {
        let a = args[i].to_string_lossy();
        if VALUE_FLAGS.contains(&a.as_ref()) {
            i += 2;
            continue;
        }
        if a.starts_with('-') {
            i += 1;
            continue;
        }
        if !known.iter().any(|k| k == a.as_ref()) {
            // A near-miss of a command (`shw`) is a typo, not an id: clap reports it with
            // "did you mean", instead of a pull that rewrites the lockfile.
            if known.iter().any(|k| looks_like(&a, k)) {
                return args;
            }
            let mut out = args.clone();
            out.insert(i, "pull".into());
            return out;
        }
        break;
    }
    args
}

/// Runs the command line `args` (program name first). `worker` starts this program again
/// for validator jobs and background servers: the binary passes its own path, the Python
/// module its interpreter and `-m ontofetch`.
pub fn run_args(args: Vec<OsString>, worker: Subprocess) -> ExitCode {
    ExitCode::from(run_args_status(args, worker))
}

/// [`run_args`] returning the exit status as a number (the Python module's `sys.exit`).
pub fn run_args_status(args: Vec<OsString>, worker: Subprocess) -> u8 {
    let args = with_default_command(args);
    // Clap answers before `--json` is parsed: look for it in the words themselves, so
    // `--version --json` and a usage error under `--json` print one JSON document too.
    let wants_json = args.iter().take_while(|a| *a != "--").any(|a| a == "--json");
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            let status = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            if wants_json {
                let doc = match e.kind() {
                    ErrorKind::DisplayVersion => {
                        serde_json::json!({"ok": true, "name": "ontofetch", "version": env!("CARGO_PKG_VERSION")})
                    }
                    ErrorKind::DisplayHelp | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                        serde_json::json!({"ok": status == EXIT_OK, "help": e.render().to_string()})
                    }
                    _ => serde_json::json!({"ok": false, "error": {
                        "code": ontofetch_policy::Code::Usage,
                        "message": e.render().to_string().trim_end(),
                    }}),
                };
                if e.use_stderr() {
                    usage_to_stderr(&e);
                }
                output::print(&serde_json::to_string_pretty(&doc).unwrap_or_default());
                return status;
            }
            if e.use_stderr() {
                usage_to_stderr(&e);
            } else {
                let _ = e.print();
            }
            return status;
        }
    };
    let json = cli.global.json;
    match run(cli, worker) {
        Ok(status) => status,
        Err(e) => {
            eprintln!("{}", ontofetch_app::error_line(e.code, &e.to_string()));
            // A failed check already printed its own report as the JSON document.
            if json && e.code != ontofetch_policy::Code::CheckFailed {
                let doc = serde_json::json!({"ok": false, "error": {"code": e.code, "message": e.message}});
                output::print(&serde_json::to_string_pretty(&doc).unwrap_or_default());
            }
            e.exit_status()
        }
    }
}

/// A usage error on stderr: clap's text at a terminal, one JSON line off one.
fn usage_to_stderr(e: &clap::Error) {
    if ontofetch_app::stderr_is_terminal() {
        let _ = e.print();
    } else {
        let text = e.render().to_string();
        eprintln!("{}", ontofetch_app::error_line(ontofetch_policy::Code::Usage, text.trim_end()));
    }
}

/// The binary's entry point: its own executable runs validator workers.
pub fn main() -> ExitCode {
    let program = std::env::current_exe().unwrap_or_else(|_| "ontofetch".into());
    run_args(std::env::args_os().collect(), Subprocess { program, args: vec![] })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn a_bare_id_means_pull_but_a_typo_of_a_command_does_not() {
        assert_eq!(with_default_command(args(&["ontofetch", "hp"])), args(&["ontofetch", "pull", "hp"]));
        assert_eq!(with_default_command(args(&["ontofetch", "uberon"])), args(&["ontofetch", "pull", "uberon"]));
        assert_eq!(with_default_command(args(&["ontofetch", "shw", "hp"])), args(&["ontofetch", "shw", "hp"]));
        assert_eq!(with_default_command(args(&["ontofetch", "doctr"])), args(&["ontofetch", "doctr"]));
        assert_eq!(with_default_command(args(&["ontofetch", "--json", "pul"])), args(&["ontofetch", "--json", "pul"]));
        assert_eq!(edit_distance("shw", "show"), 1);
        assert!(!looks_like("go", "db"));
    }
}
