//! The command line's integration tests in one binary (ripgrep's shape): one link instead
//! of one per area, and every area a module. Each drives the `ontofetch` binary against
//! servers the tests start on 127.0.0.1; `cargo test --test integration -- shared::` runs
//! one area.

#![allow(clippy::unwrap_used)] // a test states what it expects with unwrap

/// The binary under test, for the shared harness (`ontofetch_testsupport::cli::Sandbox`).
const BIN: &str = env!("CARGO_BIN_EXE_ontofetch");

mod attacks;
mod cli;
mod concurrent;
mod integrity;
mod interop;
mod invariants;
mod mirror;
mod nothing_lost;
mod prometheus;
mod provenance;
mod pull;
mod python;
mod registries;
mod second_hour;
mod secrets;
mod serve;
mod shared;
mod validate;
