//! `sources.yaml` for ontofetch: the DocsToKG-compatible schema, the built-in default spec,
//! the precedence defaults < YAML < `ONTOFETCH_*` environment < flags, and the config gate
//! run on every value. Errors name the file, line and key.

pub mod dirs;
pub mod error;
pub mod load;
pub mod locate;
pub mod redact;
pub mod schema;

pub use dirs::DataDirs;
pub use error::ConfigError;
pub use load::{BUILTIN_SOURCES, Loaded, Origin, Overrides, TEMPLATE_SOURCES, load};
pub use schema::{OntologySpec, SourcesFile};
