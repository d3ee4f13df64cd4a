//! Opening the storage backends a configuration names: the catalog (SQLite by default)
//! and the artifact store (the data root by default).

use crate::error::PullError;
use ontofetch_catalog::{Catalog, SqliteCatalog};
use ontofetch_config::Settings;
use ontofetch_net::limit::{FileRates, SharedRates};
use ontofetch_policy::Code;
use ontofetch_store::{ArtifactStore, LocalStore, layout};
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
}

/// Where request slots are shared: `shared_rate_limit_dir` when set, else the catalog when
/// it shares them (PostgreSQL: every worker of the mirror), else `<cache>/rate-limits`
/// (every process on this data root).
pub fn shared_rates(settings: &Settings, backends: &Backends) -> Arc<dyn SharedRates> {
    let http = &settings.loaded.config.defaults.http;
    match &http.shared_rate_limit_dir {
        Some(dir) => Arc::new(FileRates::new(PathBuf::from(dir))),
        None if backends.catalog.url().starts_with("postgres") => Arc::new(CatalogRates(backends.catalog.clone())),
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

/// The SQLite file a `sqlite:` catalog URL (or the default) names.
pub fn sqlite_path(settings: &Settings) -> Option<PathBuf> {
    match settings.loaded.config.defaults.storage.catalog_url.as_deref() {
        None => Some(settings.dirs.root.join(layout::CATALOG_FILE)),
        Some(url) => url.strip_prefix("sqlite:").map(|p| PathBuf::from(p.trim_start_matches("//"))),
    }
}

impl Backends {
    /// Opens the backends the settings name.
    pub async fn open(settings: &Settings, mode: Open) -> Result<Backends, PullError> {
        let root = &settings.dirs.root;
        if mode == Open::Create {
            for d in [root, &settings.dirs.ontologies, &settings.dirs.cache] {
                std::fs::create_dir_all(d).map_err(crate::error::io(format!("creating {}", d.display())))?;
            }
        }
        let store: Arc<dyn ArtifactStore> = match settings.loaded.config.defaults.storage.store_url.as_deref() {
            None => Arc::new(LocalStore::new(root)),
            Some(url) if url.starts_with("file://") => Arc::new(LocalStore::new(&PathBuf::from(&url[7..]))),
            Some(url) => {
                return Err(PullError::new(
                    Code::ConfigInvalid,
                    format!("defaults.storage.store_url {url:?}: use file://DIR (other stores are not built in)"),
                ));
            }
        };
        let catalog: Arc<dyn Catalog> = match sqlite_path(settings) {
            Some(path) => {
                if mode == Open::Existing && !path.exists() {
                    return Err(PullError::new(
                        Code::Usage,
                        format!("no catalog at {} yet; run `ontofetch pull` first", path.display()),
                    ));
                }
                Arc::new(SqliteCatalog::open(&path)?)
            }
            None => {
                return Err(PullError::new(
                    Code::ConfigInvalid,
                    "defaults.storage.catalog_url: use sqlite:PATH (other catalogs are not built in)",
                ));
            }
        };
        Ok(Backends { catalog, store })
    }
}
