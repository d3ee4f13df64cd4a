//! From ontology specs to download plans: resolvers with a fallback chain, licence
//! normalisation, expected checksums, version sniffing, lockfiles.

#![warn(missing_docs)]

pub mod license;
pub mod lockfile;
pub mod plan;
pub mod registry;
pub mod resolvers;
pub mod version;

pub use ontofetch_config::{Endpoints, Secrets, SpecInput};
pub use plan::{
    Attempt, AttemptStatus, Checksum, LicensePolicy, Plan, ResolveError, plan, plan_to_value, spec_is_opaque,
};
pub use registry::Registry;
pub use resolvers::Resolver;
