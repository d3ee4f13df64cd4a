//! Which part of the server a path belongs to: the routing decision and the `route` label
//! of the served metrics are one enum, so a new route cannot be served without a label.

/// A route of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `/`: the status page.
    Status,
    /// `/metrics`.
    Metrics,
    /// `/healthz`.
    Live,
    /// `/readyz`.
    Ready,
    /// `/api/v1/ontologies`.
    ApiList,
    /// `/api/v1/ontologies/{id}`, with the id as the path names it.
    ApiOntology,
    /// Any other path under `/api/`.
    ApiOther,
    /// `/ontologies/{id}/{version}/{file…}`.
    Artifact,
    /// `/obo/{id}.{ext}`.
    Purl,
    /// `/log/checkpoint`, `/log/tile/…`: the transparency log.
    Log,
    /// Anything else.
    Other,
}

impl Route {
    /// The route a path belongs to.
    pub fn of(path: &str) -> Route {
        match path {
            "/" => Route::Status,
            "/metrics" => Route::Metrics,
            "/healthz" => Route::Live,
            "/readyz" => Route::Ready,
            p if p.starts_with("/api/") => match p.trim_end_matches('/') {
                "/api/v1/ontologies" => Route::ApiList,
                p if p.strip_prefix("/api/v1/ontologies/").is_some_and(|id| !id.contains('/')) => Route::ApiOntology,
                _ => Route::ApiOther,
            },
            p if p.starts_with("/ontologies/") => Route::Artifact,
            p if p.starts_with("/obo/") => Route::Purl,
            p if p.starts_with("/log/") => Route::Log,
            _ => Route::Other,
        }
    }

    /// The `route` label of the served metrics (a fixed value, never the path itself).
    pub fn label(self) -> &'static str {
        match self {
            Route::Status => "status",
            Route::Metrics => "metrics",
            Route::Live | Route::Ready => "health",
            Route::ApiList | Route::ApiOntology | Route::ApiOther => "api",
            Route::Artifact => "artifact",
            Route::Purl => "purl",
            Route::Log => "log",
            Route::Other => "other",
        }
    }

    /// Whether the route hands out the mirror (and so takes the mirror's credentials).
    pub fn is_mirror(self) -> bool {
        matches!(
            self,
            Route::Status
                | Route::ApiList
                | Route::ApiOntology
                | Route::ApiOther
                | Route::Artifact
                | Route::Purl
                | Route::Log
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Route;

    #[test]
    fn paths_map_to_routes_and_labels() {
        assert_eq!(Route::of("/"), Route::Status);
        assert_eq!(Route::of("/api/v1/ontologies/"), Route::ApiList);
        assert_eq!(Route::of("/api/v1/ontologies/hp"), Route::ApiOntology);
        assert_eq!(Route::of("/api/v1/ontologies/hp/x"), Route::ApiOther);
        assert_eq!(Route::of("/ontologies/hp/latest/hp.owl").label(), "artifact");
        assert_eq!(Route::of("/log/checkpoint"), Route::Log);
        assert_eq!(Route::of("/log/tile/0/000.p/3").label(), "log");
        assert!(Route::Log.is_mirror(), "the log takes the mirror's credentials");
        assert_eq!(Route::of("/readyz").label(), "health");
        assert_eq!(Route::of("/favicon.ico"), Route::Other);
        assert!(!Route::of("/metrics").is_mirror() && Route::of("/obo/hp.owl").is_mirror());
    }
}
