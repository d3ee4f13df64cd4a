//! One module per command family.

pub mod config;
pub mod doctor;
pub mod export;
pub mod monitor;
pub mod policy;
pub mod pull;
pub mod registry;
pub mod serve;
pub mod store;
