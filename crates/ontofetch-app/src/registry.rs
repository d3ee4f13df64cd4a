//! `registry show|search|update`: what the registry snapshot says about a prefix, and
//! replacing the snapshot with a newer Bioregistry release (or a team's curated copy)
//! fetched through every gate.

use crate::context::Context;
use crate::error::AppError;
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

/// What `accept_licenses` does with a prefix's licence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LicenseVerdict {
    /// Fetched.
    Accepted,
    /// Fetched, with a warning and a manifest note.
    Warned,
    /// Refused with `E_LICENSE` before anything is downloaded.
    Refused,
}

/// A [`LicenseVerdict`] and why.
#[derive(Debug, Clone, Serialize)]
pub struct LicensePolicyAnswer {
    /// What happens.
    pub verdict: LicenseVerdict,
    /// Why, in words.
    pub why: String,
}

/// What the licence settings do with `license` for entry `id`.
pub fn license_policy(
    defaults: &ontofetch_config::schema::Defaults,
    id: &str,
    license: Option<&str>,
) -> LicensePolicyAnswer {
    use ontofetch_resolve::license;
    let accept = &defaults.accept_licenses;
    let (verdict, why) = match license {
        None if !accept.is_empty() && defaults.reject_unknown_licenses => {
            (LicenseVerdict::Refused, "the licence is unknown and defaults.reject_unknown_licenses is set".to_string())
        }
        None if !accept.is_empty() => {
            (LicenseVerdict::Warned, "the licence is unknown; fetched with a warning (accept_licenses is set)".into())
        }
        None => (LicenseVerdict::Accepted, "the licence is unknown; no accept_licenses is set".into()),
        Some(l) if accept.is_empty() && !license::is_open(l) => (
            LicenseVerdict::Warned,
            format!(
                "licence {} is outside the open-licence list; fetched with a warning because no accept_licenses is set",
                license::described(l)
            ),
        ),
        Some(l) if accept.is_empty() => {
            (LicenseVerdict::Accepted, format!("licence {} is open; no accept_licenses is set", license::described(l)))
        }
        Some(l) if license::accepted(Some(l), accept) => {
            (LicenseVerdict::Accepted, format!("licence {} is in accept_licenses", license::described(l)))
        }
        Some(l) => (LicenseVerdict::Refused, license::refusal(id, l, accept)),
    };
    LicensePolicyAnswer { verdict, why }
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
pub fn show_many(ctx: &Context, ids: &[String]) -> Result<Vec<Shown>, AppError> {
    let registry = load(ctx)?;
    ids.iter().map(|id| show_in(ctx, &registry, id)).collect()
}

/// `registry search TEXT`: at most `limit` entries.
pub fn search(ctx: &Context, text: &str, limit: usize) -> Result<(Source, Vec<Entry>), AppError> {
    let registry = load(ctx)?;
    let hits = registry.search(text).into_iter().take(limit).cloned().collect();
    Ok((registry.source.clone(), hits))
}

/// `registry update [--from URL]`: fetches Bioregistry's JSON through every gate (URL,
/// redirects, addresses, size), derives and validates the snapshot, overlays it on the
/// built-in one (its records win, every other prefix stays) and replaces the data root's
/// atomically; a failure leaves the previous one in place.
/// A local file instead (`--file`: an air-gapped copy, or the pinned release the repo's
/// snapshot is cut from) is read as it is; `label` names its origin.
pub fn update(ctx: &Context, from: From<'_>, label: Option<&str>) -> Result<Source, AppError> {
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
    Ok(registry.source.clone())
}

/// `registry reset`: removes the data root's snapshot, so the built-in one answers again.
/// Returns whether there was one.
pub fn reset(ctx: &Context) -> Result<bool, AppError> {
    let path = stored_path(ctx)?;
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(AppError::io(format!("removing {}", path.display()), e)),
    }
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
