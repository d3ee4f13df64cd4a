//! The server behind `ontofetch serve` (docs/architecture.md, "Serving"): `/metrics`,
//! `/healthz`, `/readyz`; the mirror read-only (`/` status page, `/api/v1/…`, artifacts
//! under `/ontologies/…`, PURL-style `/obo/…`); optional TLS and bearer/basic auth, limits
//! on slow and idle clients, and the refresh scheduler. The binary parses flags and calls
//! [`serve`].

#![warn(missing_docs)]

mod api;
mod artifacts;
pub mod auth;
mod body;
pub mod error;
pub mod http;
pub mod limits;
mod log;
mod mirror;
pub mod refresh;
pub mod route;
mod routes;
pub mod state;
mod status_page;
pub mod supervise;
pub mod tls;

pub use auth::Auth;
pub use error::ServerError;
pub use http::{serve, termination};
pub use limits::ConnectionLimits;
pub use refresh::refresh_loop;
pub use route::Route;
pub use routes::respond;
pub use state::ServerState;
