//! The server behind `ontofetch serve` (docs/architecture.md, "Serving"): `/metrics`,
//! `/healthz`, `/readyz`, optional TLS and bearer/basic auth, limits on slow and idle
//! clients, and the refresh scheduler. The binary parses flags and calls [`serve`].

#![warn(missing_docs)]

pub mod auth;
pub mod http;
pub mod refresh;
mod routes;
pub mod state;
pub mod tls;

pub use auth::Auth;
pub use http::{Limits, serve, termination};
pub use refresh::refresh_loop;
pub use state::ServerState;
