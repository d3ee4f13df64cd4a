//! One module per command family.

pub mod config;
pub mod doctor;
pub mod init;
pub mod monitor;
pub mod policy;
pub mod pull;
pub mod serve;
pub mod store;
