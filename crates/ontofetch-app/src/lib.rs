//! The application layer under both front ends: the `ontofetch` command line and the Python
//! module call the same [`Context`] (settings resolved once, backends, one runtime, logging)
//! and report failures with the same [`AppError`], whose code decides the exit status and the
//! Python exception. Neither front end reaches past it into how settings are resolved.

#![warn(missing_docs)]

pub mod check;
pub mod context;
pub mod error;
pub mod events;
pub mod files;
pub mod lock;
mod logging;
pub use logging::{error_line, stderr_is_terminal};
pub mod mirror;
pub mod publish;
pub mod registry;
pub mod validate;

pub use context::{Context, Options};
pub use error::{AppError, EXIT_FAILURE, EXIT_OK, EXIT_REFUSED, EXIT_USAGE, batch_outcome, exit_for};
