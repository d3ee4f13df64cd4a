//! `registry show|search|update`: what the registry snapshot says about a prefix, and
//! replacing the snapshot with a newer Bioregistry release (or a team's curated copy)
//! fetched through every gate.

use crate::context::Context;
use crate::error::AppError;
use crate::report::{Report, safe};
use ontofetch_policy::Code;
use ontofetch_resolve::Registry;
use ontofetch_resolve::registry::{Entry, STORED, Source};
use serde::Serialize;
use std::path::PathBuf;

/// Where Bioregistry publishes its data in its own format (the file the package ships).
pub const DEFAULT_URL: &str =
    "https://raw.githubusercontent.com/biopragmatics/bioregistry/main/src/bioregistry/data/bioregistry.json";

/// The largest registry document read (Bioregistry's is about 8 MB).
const MAX_BYTES: u64 = 64 << 20;

/// The data root's snapshot file.
pub fn stored_path(ctx: &Context) -> Result<PathBuf, AppError> {
    Ok(ctx.settings()?.dirs.root.join(STORED))
}

/// The snapshot commands see: the data root's, else the built-in one.
pub fn load(ctx: &Context) -> Result<Registry, AppError> {
    Ok(Registry::load(&stored_path(ctx)?))
}

/// What `registry show ID` reports: the entry and what the `obo` resolver would fetch.
#[derive(Debug, Serialize)]
pub struct Shown {
    /// The id as asked.
    pub id: String,
    /// The registry's record.
    pub entry: Entry,
    /// The URL a pull would plan (before the gates), and why.
    pub resolves_to: Option<String>,
    /// `obo-purl` or `registry-download`.
    pub route: &'static str,
    /// The snapshot in use (the built-in one, or an overlay over it).
    pub snapshot: Source,
    /// The snapshot whose record answered: an overlay's label, else the built-in one's.
    pub answered_by: String,
    /// What the licence policy does with a pull of it.
    pub license_policy: LicensePolicyAnswer,
}

/// What `accept_licenses` does with a prefix's licence (the one decision a pull makes).
pub use ontofetch_resolve::license::{Judgement as LicensePolicyAnswer, Verdict as LicenseVerdict};

/// What the licence settings do with `license` for entry `id`.
pub fn license_policy(
    defaults: &ontofetch_config::schema::Defaults,
    id: &str,
    license: Option<&str>,
) -> LicensePolicyAnswer {
    ontofetch_resolve::license::judge(id, license, &defaults.accept_licenses, &[], defaults.reject_unknown_licenses)
}

/// `registry show ID`.
pub fn show(ctx: &Context, id: &str) -> Result<Shown, AppError> {
    show_in(ctx, &load(ctx)?, id)
}

fn show_in(ctx: &Context, registry: &Registry, id: &str) -> Result<Shown, AppError> {
    let Some(entry) = registry.lookup(id) else {
        let close = registry.closest(id, 3);
        let hint = if close.is_empty() { String::new() } else { format!("; closest: {}", close.join(", ")) };
        return Err(AppError::usage(format!(
            "{id:?} is not a prefix in the registry snapshot ({}){hint}",
            registry.source.label
        )));
    };
    let settings = ctx.settings()?;
    // What the resolver would take for an entry without target_formats of its own.
    let formats = &settings.defaults().normalize_to;
    let route = entry.route(formats);
    Ok(Shown {
        id: id.to_string(),
        entry: entry.clone(),
        resolves_to: route.url(&settings.endpoints.obo),
        route: route.name(),
        snapshot: registry.source.clone(),
        answered_by: registry.answered_by(entry).to_string(),
        license_policy: license_policy(settings.defaults(), &entry.prefix, entry.license.as_deref()),
    })
}

/// `registry show ID ID…`: every id, in order, from one load of the snapshot; the first
/// unknown id fails the whole answer, naming it.
pub fn show_many(ctx: &Context, ids: &[String]) -> Result<ShownMany, AppError> {
    let registry = load(ctx)?;
    let shown: Vec<Shown> = ids.iter().map(|id| show_in(ctx, &registry, id)).collect::<Result<_, _>>()?;
    Ok(ShownMany { count: shown.len(), shown })
}

/// Several answers of `registry show`.
#[derive(Debug, Serialize)]
pub struct ShownMany {
    /// How many.
    pub count: usize,
    /// Each, in the order asked.
    pub shown: Vec<Shown>,
}

impl Report for ShownMany {
    fn human(&self) -> String {
        self.shown.iter().map(Report::human).collect::<Vec<_>>().join("\n\n")
    }
}

impl Report for Shown {
    fn human(&self) -> String {
        let e = &self.entry;
        let mut out = format!("{} — {}\n", e.prefix, safe(e.name.as_deref().unwrap_or("(no name)")));
        let mut line = |k: &str, v: String| out.push_str(&format!("  {k:<11} {v}\n"));
        if let Some(key) = &e.bioregistry_prefix {
            line("bioregistry:", safe(key));
        }
        if let Some(p) = &e.preferred_prefix {
            line("preferred:", safe(p));
        }
        if !e.synonyms.is_empty() {
            line("synonyms:", safe(&e.synonyms.join(", ")));
        }
        let licence = match (&e.license, &e.license_source) {
            (Some(l), Some(from)) => format!("{} (from {})", safe(l), safe(from)),
            (Some(l), None) => safe(l),
            (None, _) => "unknown".into(),
        };
        line("licence:", licence);
        let verdict = match self.license_policy.verdict {
            LicenseVerdict::Accepted => "accepted",
            LicenseVerdict::Warned => "warned",
            LicenseVerdict::Refused => "refused",
        };
        line("policy:", format!("{verdict}: {}", safe(&self.license_policy.why)));
        let foundry = match (e.obo_foundry, &e.obo_status, &e.obo_prefix) {
            (true, status, id) => format!(
                "yes{}{}",
                id.as_deref().map(|i| format!(", id {}", safe(i))).unwrap_or_default(),
                status.as_deref().map(|s| format!(" ({})", safe(s))).unwrap_or_default()
            ),
            _ => "no".into(),
        };
        line("foundry:", foundry);
        if e.deprecated {
            line("deprecated:", "yes (Bioregistry marks it deprecated or inactive)".into());
        }
        for (format, url) in &e.downloads {
            line(&format!("{format}:"), safe(url));
        }
        let target = self.resolves_to.as_deref().map(safe).unwrap_or_else(|| "nothing to download".into());
        line("pull gets:", format!("{target} ({})", self.route));
        line("snapshot:", safe(&self.answered_by));
        out.trim_end().to_string()
    }
}

/// `registry search`'s answer.
#[derive(Debug, Serialize)]
pub struct Found {
    /// The snapshot searched.
    pub snapshot: Source,
    /// How many entries.
    pub count: usize,
    /// The entries.
    pub entries: Vec<Entry>,
}

impl Report for Found {
    fn human(&self) -> String {
        let row = |e: &Entry| {
            let lic = e.license.as_deref().unwrap_or("-");
            format!("{:<18} {:<14} {}", safe(&e.prefix), safe(lic), safe(e.name.as_deref().unwrap_or("")))
        };
        self.entries.iter().map(row).collect::<Vec<_>>().join("\n")
    }
}

/// `registry search TEXT`: at most `limit` entries.
pub fn search(ctx: &Context, text: &str, limit: usize) -> Result<Found, AppError> {
    let registry = load(ctx)?;
    let entries: Vec<Entry> = registry.search(text).into_iter().take(limit).cloned().collect();
    Ok(Found { snapshot: registry.source.clone(), count: entries.len(), entries })
}

/// What `registry update` or `registry reset` did to the data root's snapshot.
#[derive(Debug, Serialize)]
pub struct Replaced {
    /// Always true.
    pub ok: bool,
    /// The snapshot written (`update`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<Source>,
    /// Whether there was one to remove (`reset`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removed: Option<bool>,
    /// The data root's snapshot file.
    pub path: PathBuf,
}

impl Report for Replaced {
    fn human(&self) -> String {
        match (&self.snapshot, self.removed) {
            (Some(s), _) => format!(
                "{} prefixes from {} (sha256 {}) -> {}",
                s.prefixes,
                safe(&s.label),
                s.sha256,
                self.path.display()
            ),
            (None, Some(true)) => format!("removed {}; the built-in snapshot answers again", self.path.display()),
            (None, _) => "no snapshot in the data root; the built-in one already answers".into(),
        }
    }
}

/// `registry update [--from URL]`: fetches Bioregistry's JSON through every gate (URL,
/// redirects, addresses, size), derives and validates the snapshot, overlays it on the
/// built-in one (its records win, every other prefix stays) and replaces the data root's
/// atomically; a failure leaves the previous one in place.
/// A local file instead (`--file`: an air-gapped copy, or the pinned release the repo's
/// snapshot is cut from) is read as it is; `label` names its origin.
pub fn update(ctx: &Context, from: From<'_>, label: Option<&str>) -> Result<Replaced, AppError> {
    let (bytes, origin) = match from {
        From::Url(url) => {
            let bytes = ctx.block_on(async {
                let p = ctx.pipeline(false).await?;
                p.fetcher
                    .get_small(url, "direct", "application/json", MAX_BYTES, None)
                    .await
                    .map_err(|e| AppError::new(ontofetch_policy::Coded::code(&e), e.to_string()))
            })?;
            (bytes, label_of(url))
        }
        From::File(path) => (read_capped(path)?, path.display().to_string()),
    };
    // A label is shown everywhere the snapshot is named (manifests, the catalog, pull
    // events, the API): no credential or query string of a URL reaches it.
    let label = label.map(label_of).unwrap_or(origin.clone());
    // Overlaid on the built-in snapshot: a team's curated file of a few records keeps every
    // other prefix (the built-in snapshot stays the fallback, as the help says).
    let registry = Registry::from_bioregistry(&bytes, &label)
        .and_then(|r| r.over(&Registry::embedded()))
        .map_err(|e| AppError::new(Code::ConfigInvalid, format!("{origin}: {e}")))?;
    let path = stored_path(ctx)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| AppError::io(format!("creating {}", dir.display()), e))?;
    }
    ontofetch_fsutil::write_atomic(&path, &registry.to_compact())
        .map_err(|e| AppError::io(format!("writing {}", path.display()), e))?;
    Ok(Replaced { ok: true, snapshot: Some(registry.source.clone()), removed: None, path })
}

/// `registry reset`: removes the data root's snapshot, so the built-in one answers again.
pub fn reset(ctx: &Context) -> Result<Replaced, AppError> {
    let path = stored_path(ctx)?;
    let removed = match std::fs::remove_file(&path) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(AppError::io(format!("removing {}", path.display()), e)),
    };
    Ok(Replaced { ok: true, snapshot: None, removed: Some(removed), path })
}

/// A URL as a label: without userinfo, query or fragment (a `?token=` stays out of every
/// manifest, row and event that names the snapshot). Anything that is not a URL is kept.
fn label_of(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut u) if u.has_host() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        _ => text.to_string(),
    }
}

/// A local snapshot, read up to the same 64 MiB as a download (streamed: `/dev/zero` or a
/// 300 MB file is refused at the cap, never read into memory whole).
fn read_capped(path: &std::path::Path) -> Result<Vec<u8>, AppError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| AppError::io(format!("reading {}", path.display()), e))?;
    let mut bytes = Vec::new();
    file.take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| AppError::io(format!("reading {}", path.display()), e))?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(AppError::new(
            Code::SizeLimit,
            format!("{} is larger than {MAX_BYTES} bytes, the cap for a registry snapshot", path.display()),
        ));
    }
    Ok(bytes)
}

/// Where `registry update` reads from.
#[derive(Debug, Clone, Copy)]
pub enum From<'a> {
    /// A URL, fetched through every gate.
    Url(&'a str),
    /// A local file.
    File(&'a std::path::Path),
}
