//! What every connection shares: the metric registry, the settings, credentials, and the
//! catalog and store once they exist.

use crate::auth::Auth;
use crate::error::ServerError;
use ontofetch_catalog::Catalog;
use ontofetch_config::Settings;
use ontofetch_metrics::Metrics;
use ontofetch_pipeline::Backends;
use ontofetch_policy::Gates;
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
    /// Credentials required on the mirror (`/`, `/api`, `/ontologies`, `/obo`): metrics
    /// can be private while artifacts are open, or the other way round.
    pub artifacts_auth: Option<Auth>,
    /// The catalog and store, opened on first use (they may not exist when the server starts).
    backends: OnceCell<Backends>,
    /// Artifact downloads streaming at once (fewer than the connections, so health and
    /// metrics are answered when every download slot is taken).
    pub artifact_streams: Arc<tokio::sync::Semaphore>,
}

impl ServerState {
    /// State for these settings.
    pub fn new(metrics: Arc<Metrics>, settings: Settings, metrics_auth: Option<Auth>) -> Self {
        let streams = crate::limits::ConnectionLimits::default().artifact_streams();
        ServerState {
            metrics,
            settings,
            metrics_auth,
            artifacts_auth: None,
            backends: OnceCell::new(),
            artifact_streams: Arc::new(tokio::sync::Semaphore::new(streams)),
        }
    }

    /// Sizes the download slots for these connection limits.
    pub fn with_limits(mut self, limits: &crate::limits::ConnectionLimits) -> Self {
        self.artifact_streams = Arc::new(tokio::sync::Semaphore::new(limits.artifact_streams()));
        self
    }

    /// Requires these credentials on the mirror's routes.
    pub fn with_artifacts_auth(mut self, auth: Option<Auth>) -> Self {
        self.artifacts_auth = auth;
        self
    }

    /// Gates bound to the configured policy, counted in the served metrics.
    pub fn gates(&self) -> Gates<'_> {
        Gates::new(&self.settings.loaded.policy, self.metrics.as_ref())
    }

    /// The catalog and store, or `None` while no catalog exists yet (a fresh mirror is
    /// still ready; it just has nothing to hand out).
    pub async fn backends(&self) -> Result<Option<&Backends>, ServerError> {
        if let Some(b) = self.backends.get() {
            return Ok(Some(b));
        }
        let found = ontofetch_pipeline::Backends::find(&self.settings, ontofetch_pipeline::Open::Serving)
            .await
            .map_err(|e| ServerError::unavailable(e, "catalog unavailable"))?;
        // Kept once there is a catalog; a fresh mirror is looked at again on the next request.
        Ok(match found {
            Some(b) => Some(self.backends.get_or_init(|| async { b }).await),
            None => None,
        })
    }

    /// The catalog, or `None` while none exists yet.
    pub async fn catalog(&self) -> Result<Option<&Arc<dyn Catalog>>, ServerError> {
        Ok(self.backends().await?.map(|b| &b.catalog))
    }
}
