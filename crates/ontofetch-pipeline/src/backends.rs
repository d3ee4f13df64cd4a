//! Opening the storage backends a configuration names: the catalog (SQLite by default)
//! and the artifact store (the data root by default).

use crate::error::PipelineError;
use ontofetch_catalog::{Catalog, PgCatalog, SqliteCatalog};
use ontofetch_config::Settings;
use ontofetch_net::limit::{FileRates, SharedRates};
use ontofetch_policy::Code;
use ontofetch_store::{ArtifactStore, LocalStore, ObjectStoreBackend, S3Options, layout};
use std::path::PathBuf;
use std::sync::Arc;

/// The catalog and the store of one mirror.
#[derive(Clone)]
pub struct Backends {
    /// Where versions are recorded.
    pub catalog: Arc<dyn Catalog>,
    /// Where files are kept.
    pub store: Arc<dyn ArtifactStore>,
}

/// How to open the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Open {
    /// Create it (and the data root) when missing: commands that write.
    Create,
    /// Fail with a hint when it does not exist yet: commands that only read.
    Existing,
    /// As `Existing`, for a server answering requests: an unreachable catalog or bucket is
    /// reported within a second or two (a 503), never waited on for a whole retry budget.
    Serving,
}

/// How long to keep trying a backend that does not answer, by mode.
fn patience(settings: &Settings, mode: Open) -> (std::time::Duration, std::time::Duration) {
    match mode {
        Open::Serving => (std::time::Duration::from_secs(1), std::time::Duration::from_secs(2)),
        _ => (ontofetch_catalog::postgres_patience(), settings.storage.retry_budget),
    }
}

/// Where request slots are shared: `shared_rate_limit_dir` when set, else the catalog when
/// it shares them (PostgreSQL: every worker of the mirror), else `<cache>/rate-limits`
/// (every process on this data root).
pub fn shared_rates(settings: &Settings, backends: &Backends) -> Arc<dyn SharedRates> {
    let http = &settings.defaults().http;
    match &http.shared_rate_limit_dir {
        Some(dir) => Arc::new(FileRates::new(PathBuf::from(dir))),
        None if matches!(CatalogAt::of(settings), Ok(CatalogAt::Postgres(_))) => {
            Arc::new(CatalogRates(backends.catalog.clone()))
        }
        None => Arc::new(FileRates::new(settings.dirs.cache.join("rate-limits"))),
    }
}

/// Request slots kept in the catalog's database.
struct CatalogRates(Arc<dyn Catalog>);

#[async_trait::async_trait]
impl SharedRates for CatalogRates {
    async fn reserve(&self, key: &str, per_second: f64) -> std::io::Result<std::time::Duration> {
        match self.0.reserve_rate(key, per_second).await {
            Ok(Some(wait)) => Ok(wait),
            Ok(None) => Err(std::io::Error::other("this catalog does not share rates")),
            Err(e) => Err(std::io::Error::other(e.to_string())),
        }
    }
}

/// The catalog URL in effect: the configured one, else the SQLite file under the root.
pub fn catalog_url(settings: &Settings) -> String {
    settings
        .storage
        .catalog_url
        .as_ref()
        .map(|u| u.expose().to_string())
        .unwrap_or_else(|| format!("sqlite:{}", settings.dirs.root.join(layout::CATALOG_FILE).display()))
}

/// The store URL in effect: the configured one, else the data root.
pub fn store_url(settings: &Settings) -> String {
    settings.storage.store_url.clone().unwrap_or_else(|| format!("file://{}", settings.dirs.root.display()))
}

fn config_error(key: &str, url: &str, what: &str) -> PipelineError {
    PipelineError::new(Code::ConfigInvalid, format!("defaults.storage.{key} {url:?}: {what}"))
}

/// Where the catalog is, read once from its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogAt {
    /// `sqlite:PATH` (the default: `catalog.sqlite` under the data root).
    Sqlite(PathBuf),
    /// `postgresql://user@host:port/db` (the URL as configured, secrets and all).
    Postgres(String),
}

impl CatalogAt {
    /// The catalog the settings name; a URL of another scheme is a configuration error.
    pub fn of(settings: &Settings) -> Result<CatalogAt, PipelineError> {
        let url = catalog_url(settings);
        if let Some(path) = url.strip_prefix("sqlite:") {
            return Ok(CatalogAt::Sqlite(PathBuf::from(path.trim_start_matches("//"))));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(CatalogAt::Postgres(url));
        }
        Err(config_error(
            "catalog_url",
            &ontofetch_catalog::redact(&url),
            "use sqlite:PATH or postgresql://user@host:port/db",
        ))
    }
}

/// Where the artifact store is, read once from its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreAt {
    /// `file://DIR` (the default: the data root).
    Local(PathBuf),
    /// `s3://bucket/prefix`.
    S3(String),
}

impl StoreAt {
    /// The store the settings name; a URL of another scheme is a configuration error.
    pub fn of(settings: &Settings) -> Result<StoreAt, PipelineError> {
        let url = store_url(settings);
        if let Some(dir) = url.strip_prefix("file://") {
            return Ok(StoreAt::Local(PathBuf::from(dir)));
        }
        if url.starts_with("s3://") {
            return Ok(StoreAt::S3(url));
        }
        Err(config_error("store_url", &url, "use file://DIR or s3://bucket/prefix"))
    }
}

async fn open_store(settings: &Settings, mode: Open) -> Result<Arc<dyn ArtifactStore>, PipelineError> {
    match StoreAt::of(settings)? {
        StoreAt::Local(dir) => Ok(Arc::new(LocalStore::new(&dir))),
        StoreAt::S3(url) => {
            let e = &settings.storage.s3;
            let options = S3Options {
                access_key_id: e.access_key_id.clone(),
                secret_access_key: e.secret_access_key.clone(),
                session_token: e.session_token.clone(),
                region: e.region.clone(),
                endpoint: e.endpoint.as_ref().map(|u| u.expose().to_string()),
                allow_http: e.allow_http,
                retry_budget: patience(settings, mode).1,
            };
            let store = ObjectStoreBackend::open(&url, &options, &settings.dirs.root)?;
            store.check().await?;
            Ok(Arc::new(store))
        }
    }
}

/// The catalog, or `None` when it is a SQLite file that does not exist yet and `mode` does
/// not create it.
async fn open_catalog(settings: &Settings, mode: Open) -> Result<Option<Arc<dyn Catalog>>, PipelineError> {
    match CatalogAt::of(settings)? {
        CatalogAt::Sqlite(path) => {
            if mode != Open::Create && !path.exists() {
                return Ok(None);
            }
            let catalog = tokio::task::spawn_blocking(move || SqliteCatalog::open(&path))
                .await
                .map_err(|e| PipelineError::new(Code::Db, format!("opening the catalog: {e}")))??;
            Ok(Some(Arc::new(catalog)))
        }
        CatalogAt::Postgres(url) => {
            Ok(Some(Arc::new(PgCatalog::connect_with(&url, patience(settings, mode).0).await?)))
        }
    }
}

/// Why a mirror that was expected has no catalog: where it was looked for, and what makes one.
pub fn no_catalog_yet(settings: &Settings) -> String {
    let at = match CatalogAt::of(settings) {
        Ok(CatalogAt::Sqlite(path)) => path.display().to_string(),
        _ => ontofetch_catalog::redact(&catalog_url(settings)),
    };
    format!("no catalog at {at} yet; run `ontofetch pull` first")
}

/// The store key of a version's original file, read through the db_boundary gate (the
/// catalog row is data: its path is judged before it names anything).
pub fn original_key(
    gates: &ontofetch_policy::Gates<'_>,
    row: &ontofetch_catalog::VersionRow,
) -> Result<String, PipelineError> {
    let key = gates.stored_path(&row.relpath)?.as_slash_path();
    Ok(gates.stored_path(&format!("{key}/{}", layout::original_rel(&row.filename)))?.as_slash_path())
}

impl Backends {
    /// A stored version's manifest, its key read through the db_boundary gate: what
    /// `show`, the server's API and the Python module hand out.
    pub async fn manifest(
        &self,
        gates: &ontofetch_policy::Gates<'_>,
        row: &ontofetch_catalog::VersionRow,
    ) -> Result<serde_json::Value, PipelineError> {
        let key = gates.stored_path(&format!("{}/{}", row.relpath, layout::MANIFEST))?.as_slash_path();
        let bytes = self.store.read(&key).await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| PipelineError::new(Code::Manifest, format!("{}: {e}", self.store.location(&key))))
    }

    /// Opens the backends the settings name. Shared backends are reached (and a missing
    /// bucket, refused credentials or an unreachable database reported) before any work. A
    /// mirror with no catalog yet is `E_NOT_FOUND` unless `mode` creates it.
    pub async fn open(settings: &Settings, mode: Open) -> Result<Backends, PipelineError> {
        Backends::find(settings, mode)
            .await?
            .ok_or_else(|| PipelineError::new(Code::NotFound, no_catalog_yet(settings)))
    }

    /// As [`Backends::open`], with `None` for a mirror that has no catalog yet (a fresh data
    /// root: nothing stored, nothing to read).
    pub async fn find(settings: &Settings, mode: Open) -> Result<Option<Backends>, PipelineError> {
        if mode == Open::Create {
            for d in [&settings.dirs.root, &settings.dirs.ontologies, &settings.dirs.cache] {
                std::fs::create_dir_all(d).map_err(crate::error::io(format!("creating {}", d.display())))?;
            }
        }
        let store = open_store(settings, mode).await?;
        Ok(open_catalog(settings, mode).await?.map(|catalog| Backends { catalog, store }))
    }
}
