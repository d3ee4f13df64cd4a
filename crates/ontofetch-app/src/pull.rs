//! `pull` and `ensure`, for every front end: which specs (the configuration, or a
//! lockfile), the pull with its import closure, the lockfile written or pinned, metrics
//! published; the report says how each ontology ended and which exit status that is.

use crate::context::Context;
use crate::error::{AppError, batch_outcome, exit_for};
use crate::report::{Report, safe};
use crate::{lock, publish};
use ontofetch_config::SpecInput;
use ontofetch_pipeline::{PullObserver, PullResult};
use ontofetch_policy::Code;
use serde::Serialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// What a pull is asked to do.
#[derive(Debug, Clone, Default)]
pub struct PullRequest {
    /// Ontology ids (every configured one, or every entry of the lockfile, when empty).
    pub ids: Vec<String>,
    /// A resolver to use instead of each entry's chain.
    pub resolver: Option<String>,
    /// Pull the entries of this lockfile instead of the configuration.
    pub lock: Option<PathBuf>,
    /// With `lock`: every entry must be pinned, and the lockfile is not written.
    pub locked: bool,
    /// With `lock`: take what the URLs serve now and pin it.
    pub update_lock: bool,
    /// Without `lock`: where the pull is recorded as a lockfile (none when `None`).
    pub write_lock: Option<PathBuf>,
    /// Fetch again, without conditional requests.
    pub force: bool,
    /// Make a version that failed validation latest anyway.
    pub promote_invalid: bool,
    /// Pull the import closure too.
    pub with_imports: bool,
    /// Push the run's metrics to this Pushgateway when done.
    pub pushgateway: Option<String>,
    /// Serve `/metrics` here while the pull runs.
    pub metrics_addr: Option<SocketAddr>,
}

/// How one ontology's pull ended, with the exit status it stands for.
#[derive(Debug, Clone, Serialize)]
pub struct Pulled {
    /// The pipeline's result.
    #[serde(flatten)]
    pub result: PullResult,
    /// 0, or the status a pull of this ontology alone would exit with.
    pub exit_code: u8,
}

/// A pull's report: one entry per ontology, the asked ones first, then their imports.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct PullReport {
    /// Each ontology.
    pub results: Vec<Pulled>,
    /// The transparency log published after the run (a signing mirror), or why it was not
    /// (`log show --json` has it as a document; the JSON of a pull stays its results).
    #[serde(skip)]
    pub log: Option<Result<ontofetch_pipeline::tlog::Published, AppError>>,
}

impl PullReport {
    /// The command's outcome: an error (exit 1, or 3 when every failure was a refusal)
    /// when any ontology failed.
    pub fn outcome(&self) -> Result<(), AppError> {
        batch_outcome(self.results.iter().map(|p| &p.result))?;
        match &self.log {
            Some(Err(e)) => Err(e.clone()),
            _ => Ok(()),
        }
    }
}

impl Report for PullReport {
    /// One row per ontology, notes and validation under it.
    fn human(&self) -> String {
        let mut out = format!(
            "{:<14} {:<10} {:<8} {:<28} {:>12}  {:<14} {}\n",
            "id", "resolver", "status", "version", "bytes", "sha256", "file / error"
        );
        for r in self.results.iter().map(|p| &p.result) {
            let tail = match &r.error {
                // The table shows the primary failure; the other resolvers' are in --json.
                Some(e) => {
                    format!("{}: {}", e.code, safe(e.message.split(" (also tried ").next().unwrap_or(&e.message)))
                }
                None => safe(&r.path.clone().unwrap_or_default()),
            };
            out.push_str(&format!(
                "{:<14} {:<10} {:<8} {:<28} {:>12}  {:<14} {}\n",
                safe(&r.id),
                r.resolver.clone().unwrap_or_default(),
                r.status.as_str(),
                safe(&r.version.clone().unwrap_or_default()),
                r.content_length.map(|b| b.to_string()).unwrap_or_default(),
                r.sha256.as_deref().map(|s| &s[..12.min(s.len())]).unwrap_or(""),
                tail
            ));
            if let Some(v) = &r.validation {
                out.push_str(&format!("{:<14} validation: {}\n", "", safe(&v.brief())));
            }
            for n in &r.notes {
                out.push_str(&format!("{:<14} note: {}\n", "", safe(n)));
            }
        }
        match &self.log {
            Some(Ok(l)) if l.appended > 0 || l.restored > 0 => out.push_str(&format!(
                "log: {} entries ({} appended{}), checkpoint of {} published\n",
                l.size,
                l.appended,
                if l.restored > 0 { format!(", {} restored from the store", l.restored) } else { String::new() },
                safe(&l.origin)
            )),
            Some(Err(e)) => out.push_str(&format!("log: not published: {}: {}\n", e.code, safe(&e.message))),
            _ => {}
        }
        out
    }
}

/// The specs a pull works on: the lockfile's entries, or the configuration's.
pub fn specs(ctx: &Context, req: &PullRequest) -> Result<Vec<SpecInput>, AppError> {
    let mut specs = match &req.lock {
        Some(lock) => lock::specs(lock, &req.ids, &ctx.settings()?.defaults().normalize_to)?,
        None => ctx.specs(&req.ids, req.resolver.as_deref())?,
    };
    if let Some(lock) = req.lock.as_deref().filter(|_| req.locked) {
        lock::require_pins(lock, &specs)?;
    }
    if req.update_lock {
        // What the URLs serve now is taken, and pinned after the pull.
        for s in &mut specs {
            s.extras.remove("checksum");
        }
    }
    Ok(specs)
}

/// Pulls what `req` asks for; `observer` sees each ontology's progress.
pub async fn pull(ctx: &Context, req: &PullRequest, observer: &dyn PullObserver) -> Result<PullReport, AppError> {
    let specs = specs(ctx, req)?;
    let mut p = ctx.pipeline(req.force).await?;
    p.promote_invalid |= req.promote_invalid;
    // The Pushgateway URL is the command's own input: a gate refuses it before any work
    // (exit 3); once the pull is done, a gateway that does not answer is only a warning.
    if let Some(gw) = &req.pushgateway {
        publish::check_pushgateway(&p, gw)?;
    }
    let n = p.settings.concurrent_downloads();
    let work = ontofetch_pipeline::imports::pull_with_imports(&p, &specs, observer, n, req.with_imports);
    let results = publish::with_exporter(ctx, req.metrics_addr, work).await?;
    if let Some(gw) = &req.pushgateway
        && let Err(e) = publish::push(ctx, &p, gw).await
    {
        tracing::warn!(code = %e.code, error = %e.message, "metrics not pushed");
    }
    match (&req.lock, &req.write_lock) {
        (None, Some(path)) => lock::write_pulled(path, &results)?,
        (Some(lock), _) if !req.locked => lock::fill_pins(lock, &results, req.update_lock)?,
        _ => {}
    }
    let results = results
        .into_iter()
        .map(|r| {
            let exit_code = exit_for(r.error.as_ref().map(|e| e.code));
            Pulled { result: r, exit_code }
        })
        .collect();
    let log = ontofetch_pipeline::tlog::publish_signed(&p).await.map(|r| r.map_err(AppError::from));
    Ok(PullReport { results, log })
}

/// What `ensure` makes sure of: a configured ontology, or a bare URL under a name.
#[derive(Debug, Clone)]
pub enum Wanted {
    /// A configured (or registry) id.
    Id(String),
    /// An ontology from another ontofetch mirror, verified under its key.
    Mirror {
        /// Ontology id.
        id: String,
        /// The mirror's address.
        url: String,
        /// Its verifier key.
        key: String,
    },
    /// An arbitrary URL, stored under `name`.
    Url {
        /// The id it is stored under.
        name: String,
        /// Where it is.
        url: String,
    },
}

/// The local path of the latest stored original of what is wanted, pulled first when
/// absent or when `force` (then fetched again, no conditional request). From object
/// storage, the file is fetched into the cache directory. The path names the version: a
/// newer release is stored beside it, never over it (pystow's `ensure`).
pub async fn ensure(ctx: &Context, wanted: Wanted, force: bool) -> Result<PathBuf, AppError> {
    let spec = match wanted {
        Wanted::Id(id) => ctx.specs(&[id], None)?.remove(0),
        Wanted::Url { name, url } => ctx.settings()?.url_spec(&name, &url)?,
        Wanted::Mirror { id, url, key } => ctx.settings()?.mirror_spec(&id, &url, &key)?,
    };
    let id = spec.id.clone();
    let p = ctx.pipeline(force).await?;
    let mut row = if force { None } else { p.backends.catalog.latest(&id).await? };
    if row.is_none() {
        let results = ontofetch_pipeline::pull::pull_all(&p, &[spec], &ontofetch_pipeline::Silent, 1).await;
        if let Some(e) = results.iter().find_map(|r| r.error.clone()) {
            return Err(AppError::new(e.code, e.message));
        }
        if let Some(published) = ontofetch_pipeline::tlog::publish_signed(&p).await {
            published?;
        }
        row = p.backends.catalog.latest(&id).await?;
    }
    let row = row.ok_or_else(|| AppError::new(Code::NotFound, format!("{id} was not stored")))?;
    let key = ontofetch_pipeline::backends::original_key(&p.gates(), &row)?;
    if let Some(path) = p.backends.store.local_path(&key) {
        return Ok(path);
    }
    let dest = p.settings.dirs.cache.join("ensure").join(&id).join(&row.version).join(&row.filename);
    if !dest.is_file() {
        let dir = dest.parent().unwrap_or(&p.settings.dirs.cache);
        std::fs::create_dir_all(dir).map_err(|e| AppError::io(format!("creating {}", dir.display()), e))?;
        let tmp = dir.join(format!(".{}.part", row.filename));
        p.backends.store.fetch_to(&key, &tmp).await?;
        std::fs::rename(&tmp, &dest).map_err(|e| AppError::io(format!("renaming into {}", dest.display()), e))?;
    }
    Ok(dest)
}
