//! `ontofetch monitor start|stop|status|grafana-config|dashboard`: `serve` in the
//! background with a pidfile and a log, and the provisioning files.

use crate::cli::ServeArgs;
use crate::output::emit;
use ontofetch_app::{AppError, Context, monitor};

/// `serve`'s arguments for the background server: every option `monitor start` was given
/// (a test parses them back and compares), so the server it starts is the one asked for.
fn serve_args(args: &ServeArgs) -> Vec<std::ffi::OsString> {
    let mut out: Vec<std::ffi::OsString> = vec!["serve".into(), "--listen".into(), args.addr().to_string().into()];
    let mut put = |flag: &str, value: String| {
        out.push(flag.into());
        out.push(value.into());
    };
    put("--max-connections", args.max_connections.to_string());
    put("--max-connections-per-client", args.max_connections_per_client.to_string());
    put("--write-timeout-sec", args.write_timeout_sec.to_string());
    put("--header-timeout-sec", args.header_timeout_sec.to_string());
    if let Some(r) = args.refresh {
        put("--refresh", humantime::format_duration(r).to_string());
    }
    for (flag, v) in [
        ("--tls-cert", &args.tls_cert),
        ("--tls-key", &args.tls_key),
        ("--bearer-token-file", &args.bearer_token_file),
        ("--basic-auth-file", &args.basic_auth_file),
        ("--artifacts-bearer-token-file", &args.artifacts_bearer_token_file),
        ("--artifacts-basic-auth-file", &args.artifacts_basic_auth_file),
    ] {
        if let Some(p) = v {
            out.push(flag.into());
            out.push(p.into());
        }
    }
    out
}

/// `monitor start`.
pub fn start(ctx: &mut Context, args: &ServeArgs) -> Result<(), AppError> {
    emit(&ctx.options, &monitor::start(ctx, serve_args(args), args.addr(), args.tls_cert.is_some())?);
    Ok(())
}

/// `monitor stop`.
pub fn stop(ctx: &mut Context) -> Result<(), AppError> {
    emit(&ctx.options, &monitor::stop(ctx)?);
    Ok(())
}

/// `monitor status`: exit 0 when running and healthy, 1 otherwise.
pub fn status(ctx: &mut Context) -> Result<(), AppError> {
    let report = monitor::status(ctx);
    emit(&ctx.options, &report);
    report.outcome()
}

/// `monitor grafana-config`.
pub fn grafana_config(
    ctx: &Context,
    out: &std::path::Path,
    prometheus_url: &str,
    target: &str,
    alerts: &crate::cli::AlertArgs,
) -> Result<(), AppError> {
    let receivers = alerts
        .receivers
        .iter()
        .map(|name| {
            ontofetch_monitor::Receiver::parse(name)
                .ok_or_else(|| AppError::usage(format!("--receivers {name}: choose among slack, pagerduty, webhook")))
        })
        .collect::<Result<_, _>>()?;
    let p = ontofetch_monitor::Provisioning {
        prometheus_url: prometheus_url.to_string(),
        target: target.to_string(),
        alertmanager: alerts.alertmanager.clone(),
        scrape_interval: alerts.scrape_interval.clone(),
        alerting: ontofetch_monitor::Alerting {
            receivers,
            slack_api_url_file: alerts.slack_api_url_file.clone(),
            slack_channel: alerts.slack_channel.clone(),
            pagerduty_routing_key_file: alerts.pagerduty_routing_key_file.clone(),
            webhook_url: alerts.webhook_url.clone(),
            webhook_token_file: Some(alerts.webhook_token_file.clone()),
            group_wait: alerts.group_wait.clone(),
            removed_share: alerts.removed_share,
        },
    };
    emit(&ctx.options, &monitor::provision(out, &p)?);
    Ok(())
}

/// `monitor dashboard`: the dashboard JSON on stdout (with or without --json).
pub fn dashboard() -> Result<(), AppError> {
    crate::output::print(&serde_json::to_string_pretty(&ontofetch_monitor::dashboard()).unwrap_or_default());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command, MonitorCommand};
    use clap::Parser;

    /// Every `monitor start` option reaches the `serve` it starts: parsed back, the serve
    /// arguments are the ones given (the per-client cap and the write timeout were dropped).
    #[test]
    fn monitor_start_passes_every_option_to_serve() {
        let given = [
            "ontofetch",
            "monitor",
            "start",
            "--port",
            "9123",
            "--max-connections",
            "77",
            "--max-connections-per-client",
            "7",
            "--write-timeout-sec",
            "3.5",
            "--header-timeout-sec",
            "4",
            "--refresh",
            "2h",
            "--bearer-token-file",
            "/t",
        ];
        let Command::Monitor(MonitorCommand::Start(args)) = Cli::try_parse_from(given).unwrap().command else {
            panic!("not monitor start")
        };
        let mut again = vec![std::ffi::OsString::from("ontofetch")];
        again.extend(serve_args(&args));
        let Command::Serve(back) = Cli::try_parse_from(again).unwrap().command else { panic!("not serve") };
        assert_eq!(back.addr(), args.addr());
        assert_eq!(
            (back.max_connections, back.max_connections_per_client, back.write_timeout_sec, back.header_timeout_sec),
            (77, 7, 3.5, 4.0)
        );
        assert_eq!(back.refresh, args.refresh);
        assert_eq!(back.bearer_token_file, args.bearer_token_file);
    }
}
