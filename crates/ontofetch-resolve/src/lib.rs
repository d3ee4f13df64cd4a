//! From ontology specs to download plans: resolvers with a fallback chain, licence
//! normalisation, expected checksums, version sniffing, lockfiles.

pub mod license;
pub mod lockfile;
pub mod plan;
pub mod version;

pub use plan::{Attempt, Checksum, Endpoints, Plan, ResolveError, Secrets, SpecInput, plan, plan_to_value};
