//! ontofetch's policy gates (docs/architecture.md, "Gates").
//!
//! Each gate is a pure, synchronous function `check(&policy, &facts)` that lets a value
//! through or refuses it with a stable [`Code`]. Gates never touch the network or the disk:
//! callers hand them facts (resolved addresses, `lstat` results, free space). [`Gates`]
//! bundles a policy with a [`GateObserver`] so every call is timed and counted.

#![warn(missing_docs)]

pub mod code;
pub mod config_gate;
pub mod content;
pub mod db_boundary;
pub mod extraction;
pub mod filesystem;
pub mod gate;
pub mod host;
pub mod ip;
pub mod path;
pub mod policy;
pub mod redirect;
pub mod storage;
pub mod url_gate;

pub use code::{Code, CodeKind, Coded};
pub use gate::{Gate, GateObserver, NoObserver, Outcome, PolicyError, Refusal, observed};
pub use policy::{ExtractionPolicy, NetPolicy, PathPolicy, Policy, StoragePolicy};
pub use url_gate::{TargetHost, UrlAllowed};

use std::net::IpAddr;

/// A policy plus the observer that records every decision: the way callers run gates.
#[derive(Clone, Copy)]
pub struct Gates<'a> {
    /// The rules.
    pub policy: &'a Policy,
    /// Where decisions are reported (the metrics registry in the binary).
    pub observer: &'a dyn GateObserver,
}

impl<'a> Gates<'a> {
    /// Pairs a policy with an observer.
    pub fn new(policy: &'a Policy, observer: &'a dyn GateObserver) -> Self {
        Gates { policy, observer }
    }

    /// Runs any config check through the config gate's instrumentation.
    pub fn config<T>(&self, decide: impl FnOnce() -> Result<T, Refusal>) -> Result<T, PolicyError> {
        observed(self.observer, Gate::Config, decide)
    }

    /// The url gate.
    pub fn url(&self, raw: &str) -> Result<UrlAllowed, PolicyError> {
        observed(self.observer, Gate::Url, || url_gate::check_url(&self.policy.net, raw))
    }

    /// The ip gate on one address.
    pub fn ip(&self, facts: &ip::IpFacts<'_>) -> Result<(), PolicyError> {
        observed(self.observer, Gate::Ip, || ip::check_ip(&self.policy.net, facts))
    }

    /// The ip gate on a whole DNS answer for a connection to `port`.
    pub fn resolved(
        &self,
        host: &str,
        port: Option<u16>,
        addrs: &[IpAddr],
        host_allows_internal: bool,
    ) -> Result<(), PolicyError> {
        observed(self.observer, Gate::Ip, || {
            ip::check_resolved(&self.policy.net, host, port, addrs, host_allows_internal)
        })
    }

    /// The redirect gate.
    pub fn redirect(&self, facts: &redirect::RedirectFacts<'_>) -> Result<UrlAllowed, PolicyError> {
        observed(self.observer, Gate::Redirect, || redirect::check_redirect(&self.policy.net, facts))
    }

    /// The extraction gate on one entry header.
    pub fn entry(
        &self,
        ledger: &extraction::EntryLedger,
        facts: &extraction::EntryFacts<'_>,
    ) -> Result<path::SafeRelPath, PolicyError> {
        observed(self.observer, Gate::Extraction, || {
            extraction::check_entry(&self.policy.extraction, &self.policy.paths, ledger, facts)
        })
    }

    /// The extraction gate on produced bytes.
    pub fn produced(&self, facts: &extraction::ProducedFacts<'_>) -> Result<(), PolicyError> {
        observed(self.observer, Gate::Extraction, || extraction::check_produced(&self.policy.extraction, facts))
    }

    /// The extraction gate on a zip layout.
    pub fn zip_layout(
        &self,
        spans: &[extraction::ZipSpan<'_>],
        central_dir_start: u64,
        declared_entries: Option<u64>,
    ) -> Result<(), PolicyError> {
        observed(self.observer, Gate::Extraction, || {
            extraction::check_zip_layout(spans, central_dir_start, declared_entries)
        })
    }

    /// The filesystem gate.
    pub fn path(&self, facts: &filesystem::PathFacts<'_>) -> Result<path::SafeRelPath, PolicyError> {
        observed(self.observer, Gate::Filesystem, || filesystem::check_path(&self.policy.paths, facts))
    }

    /// The storage gate on a write.
    pub fn write(&self, facts: &storage::WriteFacts<'_>) -> Result<(), PolicyError> {
        observed(self.observer, Gate::Storage, || storage::check_write(&self.policy.storage, facts))
    }

    /// The storage gate on an id or version used as a directory name.
    pub fn segment(&self, what: &str, value: &str) -> Result<(), PolicyError> {
        observed(self.observer, Gate::Storage, || storage::check_segment(&self.policy.storage, what, value))
    }

    /// The storage gate on a version used as a directory name (reserved layout names too).
    pub fn version(&self, value: &str) -> Result<(), PolicyError> {
        observed(self.observer, Gate::Storage, || storage::check_version(&self.policy.storage, value))
    }

    /// The storage gate on a file name about to be written.
    pub fn file_name(&self, value: &str) -> Result<(), PolicyError> {
        observed(self.observer, Gate::Storage, || storage::check_file_name(value))
    }

    /// The storage gate on a CAS key.
    pub fn cas_key(&self, key: &str) -> Result<(), PolicyError> {
        observed(self.observer, Gate::Storage, || storage::check_cas_key(key))
    }

    /// The db_boundary gate before a commit.
    pub fn commit(&self, facts: &db_boundary::CommitFacts<'_>) -> Result<(), PolicyError> {
        observed(self.observer, Gate::DbBoundary, || db_boundary::check_commit(facts))
    }

    /// The db_boundary gate on a path read from the catalog.
    pub fn stored_path(&self, stored: &str) -> Result<path::SafeRelPath, PolicyError> {
        observed(self.observer, Gate::DbBoundary, || db_boundary::check_stored_path(&self.policy.paths, stored))
    }

    /// The db_boundary gate on a row/file pair.
    pub fn pair(&self, facts: &db_boundary::PairFacts<'_>) -> Result<(), PolicyError> {
        observed(self.observer, Gate::DbBoundary, || db_boundary::check_pair(facts))
    }
}
