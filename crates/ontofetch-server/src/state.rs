//! What every connection shares: the metric registry, the settings, credentials, and the
//! catalog once it exists.

use crate::auth::Auth;
use ontofetch_catalog::Catalog;
use ontofetch_config::Settings;
use ontofetch_metrics::Metrics;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// Shared by every connection.
pub struct ServerState {
    /// The registry served.
    pub metrics: Arc<Metrics>,
    /// The settings (to open the catalog when it appears).
    pub settings: Settings,
    /// Credentials required on `/metrics`.
    pub metrics_auth: Option<Auth>,
    /// The catalog, opened on first use (it may not exist when the server starts).
    pub catalog: OnceCell<Arc<dyn Catalog>>,
}

impl ServerState {
    /// State for these settings.
    pub fn new(metrics: Arc<Metrics>, settings: Settings, metrics_auth: Option<Auth>) -> Self {
        ServerState { metrics, settings, metrics_auth, catalog: OnceCell::new() }
    }

    /// The catalog, or `None` while none exists yet (a fresh mirror is still ready).
    pub async fn catalog(&self) -> Result<Option<&Arc<dyn Catalog>>, String> {
        let opened = self
            .catalog
            .get_or_try_init(|| async {
                ontofetch_pipeline::Backends::open(&self.settings, ontofetch_pipeline::Open::Existing)
                    .await
                    .map(|b| b.catalog)
            })
            .await;
        match opened {
            Ok(c) => Ok(Some(c)),
            Err(e) if e.code == ontofetch_policy::Code::Usage => Ok(None),
            Err(e) => Err(e.message),
        }
    }
}
