//! `sources.yaml` for ontofetch: the DocsToKG-compatible schema, the built-in default spec,
//! the precedence defaults < YAML < `ONTOFETCH_*` environment < flags, and the config gate
//! run on every value. Errors name the file, line and key.

#![warn(missing_docs)]

pub mod dirs;
pub mod env;
pub mod error;
pub mod load;
pub mod locate;
pub mod origin;
pub mod redact;
pub mod reference;
pub mod schema;
pub mod secret;
pub mod settings;

pub use dirs::DataDirs;
pub use env::Env;
pub use error::ConfigError;
pub use load::{BUILTIN_SOURCES, Loaded, Origin, Overrides, TEMPLATE_SOURCES, load};
pub use schema::{OntologySpec, SourcesFile};
pub use settings::{Endpoints, Flags, Secrets, Settings, SpecInput};
