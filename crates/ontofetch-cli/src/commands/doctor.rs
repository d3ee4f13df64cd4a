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
            let creatable = rustix::fs::access(nearest_existing(path), rustix::fs::Access::WRITE_OK).is_ok();
            if creatable {
                notes.push(format!(
                    "directory {name} ({}) will be created on first use (or now with --fix)",
                    path.display()
                ));
            } else {
                problems.push(format!("directory {name} ({}) is missing and cannot be created", path.display()));
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
                problems.push(format!("only {free} bytes free under {} (want {threshold})", probe.display()));
            }
            json!({"path": probe, "ok": ok, "total_bytes": total, "free_bytes": free, "threshold_bytes": threshold})
        }
        Err(e) => {
            problems.push(format!("cannot read free space of {}: {e}", probe.display()));
            json!({"path": probe, "ok": false, "error": e.to_string()})
        }
    };

    let (config, loaded) = match ctx.load(false) {
        Ok(l) => {
            let path = match &l.origin {
                ontofetch_config::Origin::Builtin => Value::Null,
                ontofetch_config::Origin::File(p) => json!(p),
            };
            (json!({"ok": true, "path": path, "ontologies": l.config.ontologies.len()}), Some(l))
        }
        Err(e) => {
            problems.push(e.to_string());
            (json!({"ok": false, "error": e.to_string(), "code": e.code()}), None)
        }
    };

    let key_file = dirs.configs.join("bioportal_api_key.txt");
    let env_key = std::env::var("BIOPORTAL_API_KEY").map(|v| !v.trim().is_empty()).unwrap_or(false);
    let file_key = std::fs::read_to_string(&key_file).map(|v| !v.trim().is_empty()).unwrap_or(false);
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
            // An explicit IP/CIDR allowlist entry is the user's decision (tests, mirrors);
            // anything else letting these through is a misconfiguration, and so is any
            // policy that reaches the cloud metadata endpoint.
            let listed = ontofetch_policy::url_gate::check_url(&l.policy.net, probe)
                .ok()
                .and_then(|a| match a.host {
                    ontofetch_policy::TargetHost::Ip(ip) => Some(ip),
                    ontofetch_policy::TargetHost::Domain(_) => None,
                })
                .is_some_and(|ip| l.policy.net.allowed_hosts.iter().any(|r| r.matches_ip(ip)));
            if !ok && listed && !probe.contains("169.254.169.254") {
                notes.push(format!("{probe} is reachable because allowed_hosts lists its address explicitly"));
            } else if !ok {
                problems.push(format!("the configured policy lets {probe} through; check defaults.http.allowed_hosts"));
            }
            self_test
                .push(json!({"url": probe, "refused": ok, "code": refused.and_then(|e| e.code()).map(|c| c.as_str())}));
        }
    }

    let store = store_check(ctx, loaded.as_ref(), fix, &mut problems, &mut fixes);

    let ok = problems.is_empty();
    let doc = json!({
        "ok": ok,
        "version": env!("CARGO_PKG_VERSION"),
        "directories": directories,
        "disk": disk,
        "config": config,
        "credentials": credentials,
        "gate_self_test": self_test,
        "store": store,
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
    if ok { Ok(()) } else { Err(CliError::CheckFailed(format!("doctor found {} problem(s)", problems.len()))) }
}

/// Store ↔ catalog consistency: version directories without rows, rows without files,
/// and staging left by an interrupted pull. With `fix`, each side's orphans are removed so
/// the two agree again (the catalog is the record; an unrecorded directory never became
/// visible as a version).
fn store_check(
    ctx: &Context,
    loaded: Option<&ontofetch_config::Loaded>,
    fix: bool,
    problems: &mut Vec<String>,
    fixes: &mut Vec<String>,
) -> Value {
    use ontofetch_catalog::Catalog;
    use ontofetch_policy::db_boundary::PairFacts;
    use ontofetch_store::Store;
    let store = Store::new(&ctx.dirs.root);
    let stale: Vec<String> = store.stale_staging().iter().map(|p| p.display().to_string()).collect();
    for p in &stale {
        if fix && std::fs::remove_dir_all(p).is_ok() {
            fixes.push(format!("removed interrupted staging {p}"));
        } else {
            problems.push(format!("interrupted pull left staging {p}; run `ontofetch doctor --fix`"));
        }
    }
    let cat_path = crate::pipeline::catalog_path(&ctx.dirs);
    let disk = store.version_dirs();
    if !cat_path.exists() {
        if !disk.is_empty() {
            problems.push(format!("{} version directories but no catalog at {}", disk.len(), cat_path.display()));
        }
        return json!({"catalog": null, "version_dirs": disk.len(), "stale_staging": stale});
    }
    let mut cat = match Catalog::open(&cat_path) {
        Ok(c) => c,
        Err(e) => {
            problems.push(format!("catalog {}: {e}", cat_path.display()));
            return json!({"catalog": cat_path, "ok": false, "error": e.to_string()});
        }
    };
    let rows = cat.versions(None, u32::MAX).unwrap_or_default();
    let default_policy = ontofetch_policy::Policy::default();
    let policy = loaded.map(|l| &l.policy).unwrap_or(&default_policy);
    let gates = ontofetch_policy::Gates::new(policy, ctx.metrics.as_ref());
    let mut orphan_dirs = Vec::new();
    let mut orphan_rows = Vec::new();
    for (id, version) in &disk {
        let key = format!("ontologies/{id}/{version}");
        let row_exists = rows.iter().any(|r| &r.ontology == id && &r.version == version);
        if let Err(e) = gates.pair(&PairFacts { key: &key, row_exists, file_exists: true }) {
            orphan_dirs.push(key.clone());
            if fix && store.remove_version(&gates, id, version).is_ok() {
                fixes.push(format!("removed {key}: it has no catalog row"));
            } else {
                problems.push(e.to_string());
            }
        }
    }
    for r in &rows {
        let original = store.version_dir(&r.ontology, &r.version).join("original").join(&r.filename);
        let file_exists = original.is_file();
        if let Err(e) = gates.pair(&PairFacts { key: &r.relpath, row_exists: true, file_exists }) {
            orphan_rows.push(r.relpath.clone());
            if fix && cat.remove_version(&r.ontology, &r.version).is_ok() {
                fixes.push(format!("removed the catalog row of {}: its files are gone", r.relpath));
            } else {
                problems.push(e.to_string());
            }
        }
    }
    if fix {
        for id in rows.iter().map(|r| r.ontology.clone()).collect::<std::collections::BTreeSet<_>>() {
            if let Ok(Some(latest)) = cat.latest(&id) {
                let _ = store.set_latest(&id, &latest.version);
            }
        }
    }
    json!({
        "catalog": cat_path,
        "schema_version": cat.schema_version().ok(),
        "versions": rows.len(),
        "version_dirs": disk.len(),
        "dirs_without_rows": orphan_dirs,
        "rows_without_files": orphan_rows,
        "stale_staging": stale,
    })
}
