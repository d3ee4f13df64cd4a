//! The application layer under both front ends: the `ontofetch` command line and the Python
//! module call the same [`Context`] (settings resolved once, backends, one runtime, logging)
//! and report failures with the same [`AppError`], whose code decides the exit status and the
//! Python exception. Neither front end reaches past it into how settings are resolved.
//!
//! Each use case (pull, plan, ensure, show, db, diff, validate, prune, doctor, registry,
//! monitor, config) is a function here that takes a typed request and returns a typed
//! [`Report`]: `--json`, Python's return values and the server's API are its serialisation,
//! the terminal's text is its [`Report::human`]. The front ends map arguments in and
//! render reports out.

#![warn(missing_docs)]

pub mod check;
pub mod config;
pub mod context;
pub mod doctor;
pub mod error;
pub mod events;
pub mod files;
pub mod inspect;
pub mod lock;
mod logging;
pub use logging::{error_line, stderr_is_terminal};
pub mod mirror;
pub mod monitor;
pub mod plan;
pub mod provenance;
pub mod publish;
pub mod pull;
pub mod registry;
pub mod report;
pub mod validate;

pub use report::{Report, safe};

pub use context::{Context, Options};
pub use error::{AppError, EXIT_FAILURE, EXIT_OK, EXIT_REFUSED, EXIT_USAGE, batch_outcome, exit_for};
