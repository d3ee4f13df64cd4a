//! `ontofetch doctor`: is this machine ready to pull? Directories, free space, the
//! configuration, credentials, and a self-test that the gates refuse what they must.

use crate::context::Context;
use crate::error::CliError;
use crate::output::emit;
use serde_json::{Value, json};
use std::path::Path;

/// Free-space threshold: min(total, max(10 GB, 10% of total)), as DocsToKG's doctor.
fn disk_threshold(total: u64) -> u64 {
    total.min((10u64 * 1_000_000_000).max(total / 10))
}

fn nearest_existing(path: &Path) -> &Path {
    let mut p = path;
    while !p.exists() {
        match p.parent() {
            Some(parent) => p = parent,
            None => break,
        }
    }
    p
}

fn dir_report(path: &Path, fix: bool, fixes: &mut Vec<String>) -> Value {
    let mut exists = path.is_dir();
    if !exists && fix && std::fs::create_dir_all(path).is_ok() {
        fixes.push(format!("created {}", path.display()));
        exists = true;
    }
    let writable = exists && rustix::fs::access(path, rustix::fs::Access::WRITE_OK).is_ok();
    json!({"path": path, "exists": exists, "writable": writable})
}

/// Runs every check; fails (exit 1) when any check is not ok.
pub fn run(ctx: &mut Context, fix: bool) -> Result<(), CliError> {
    let mut fixes = Vec::new();
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let dirs = ctx.dirs.clone();
    let directories = json!({
        "root": dir_report(&dirs.root, fix, &mut fixes),
        "configs": dir_report(&dirs.configs, fix, &mut fixes),
        "cache": dir_report(&dirs.cache, fix, &mut fixes),
        "logs": dir_report(&dirs.logs, fix, &mut fixes),
        "ontologies": dir_report(&dirs.ontologies, fix, &mut fixes),
    });
    for (name, d) in directories.as_object().into_iter().flatten() {
        if d["exists"] == true && d["writable"] != true {
            problems.push(format!("directory {name} ({}) is not writable", d["path"]));
        }
        if d["exists"] != true {
            // A missing directory is fine if it can be created on first use.
            let path = Path::new(d["path"].as_str().unwrap_or(""));
            let creatable =
                rustix::fs::access(nearest_existing(path), rustix::fs::Access::WRITE_OK).is_ok();
            if creatable {
                notes.push(format!(
                    "directory {name} ({}) will be created on first use (or now with --fix)",
                    path.display()
                ));
            } else {
                problems.push(format!(
                    "directory {name} ({}) is missing and cannot be created",
                    path.display()
                ));
            }
        }
    }

    let probe = nearest_existing(&dirs.root);
    let disk = match rustix::fs::statvfs(probe) {
        Ok(s) => {
            let total = s.f_blocks * s.f_frsize;
            let free = s.f_bavail * s.f_frsize;
            let threshold = disk_threshold(total);
            let ok = free >= threshold;
            if !ok {
                problems.push(format!(
                    "only {free} bytes free under {} (want {threshold})",
                    probe.display()
                ));
            }
            json!({"path": probe, "ok": ok, "total_bytes": total, "free_bytes": free, "threshold_bytes": threshold})
        }
        Err(e) => {
            problems.push(format!(
                "cannot read free space of {}: {e}",
                probe.display()
            ));
            json!({"path": probe, "ok": false, "error": e.to_string()})
        }
    };

    let (config, loaded) = match ctx.load(false) {
        Ok(l) => {
            let path = match &l.origin {
                ontofetch_config::Origin::Builtin => Value::Null,
                ontofetch_config::Origin::File(p) => json!(p),
            };
            (
                json!({"ok": true, "path": path, "ontologies": l.config.ontologies.len()}),
                Some(l),
            )
        }
        Err(e) => {
            problems.push(e.to_string());
            (
                json!({"ok": false, "error": e.to_string(), "code": e.code()}),
                None,
            )
        }
    };

    let key_file = dirs.configs.join("bioportal_api_key.txt");
    let env_key = std::env::var("BIOPORTAL_API_KEY")
        .map(|v| !v.trim().is_empty())
        .unwrap_or(false);
    let file_key = std::fs::read_to_string(&key_file)
        .map(|v| !v.trim().is_empty())
        .unwrap_or(false);
    let credentials = json!({"bioportal_api_key": {"env": env_key, "file": key_file, "file_configured": file_key, "configured": env_key || file_key}});

    // The configured policy must still refuse the classic SSRF targets.
    let mut self_test = Vec::new();
    if let Some(l) = &loaded {
        let gates = ctx.gates(l);
        for probe in [
            "http://169.254.169.254/latest/meta-data/",
            "http://[::ffff:127.0.0.1]/",
            "http://localhost/",
            "file:///etc/passwd",
        ] {
            let refused = gates.url(probe).err();
            let ok = refused.is_some();
            if !ok {
                problems.push(format!(
                    "the configured policy lets {probe} through; check defaults.http.allowed_hosts"
                ));
            }
            self_test.push(json!({"url": probe, "refused": ok, "code": refused.and_then(|e| e.code()).map(|c| c.as_str())}));
        }
    }

    let ok = problems.is_empty();
    let doc = json!({
        "ok": ok,
        "version": env!("CARGO_PKG_VERSION"),
        "directories": directories,
        "disk": disk,
        "config": config,
        "credentials": credentials,
        "gate_self_test": self_test,
        "problems": problems,
        "notes": notes,
        "fixes": fixes,
    });
    emit(&ctx.global, &doc, || {
        let mut out = format!("ontofetch {} doctor\n", env!("CARGO_PKG_VERSION"));
        out.push_str(&format!("data root: {}\n", dirs.root.display()));
        if let Some(free) = doc["disk"]["free_bytes"].as_u64() {
            out.push_str(&format!("disk free: {:.1} GB\n", free as f64 / 1e9));
        }
        out.push_str(&format!(
            "config: {}\n",
            if doc["config"]["ok"] == true {
                format!("ok ({} ontologies)", doc["config"]["ontologies"])
            } else {
                "INVALID".into()
            }
        ));
        out.push_str(&format!(
            "gate self-test: {}/{} SSRF probes refused\n",
            self_test.iter().filter(|t| t["refused"] == true).count(),
            self_test.len()
        ));
        for f in &fixes {
            out.push_str(&format!("fixed: {f}\n"));
        }
        for n in &notes {
            out.push_str(&format!("note: {n}\n"));
        }
        for p in &problems {
            out.push_str(&format!("problem: {p}\n"));
        }
        out.push_str(if ok { "OK" } else { "NOT OK" });
        out
    });
    if ok {
        Ok(())
    } else {
        Err(CliError::CheckFailed(format!(
            "doctor found {} problem(s)",
            problems.len()
        )))
    }
}
