//! Gate identities, refusals, and the instrumentation hook every gate call goes through.

use crate::code::Code;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

/// The gates of docs/architecture.md, "Gates". Their names are metric label values, so they are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Gate {
    /// Configuration values.
    Config,
    /// A URL, before any connection.
    Url,
    /// One IP address (literal or resolved).
    Ip,
    /// One redirect hop.
    Redirect,
    /// One archive entry, and archive-wide byte/layout facts.
    Extraction,
    /// One filesystem path under a root.
    Filesystem,
    /// One write into the store.
    Storage,
    /// The catalog ↔ store transaction boundary.
    DbBoundary,
}

impl Gate {
    /// Every gate, so exporters can pre-create their series.
    pub const ALL: &'static [Gate] = &[
        Gate::Config,
        Gate::Url,
        Gate::Ip,
        Gate::Redirect,
        Gate::Extraction,
        Gate::Filesystem,
        Gate::Storage,
        Gate::DbBoundary,
    ];

    /// The stable label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Gate::Config => "config",
            Gate::Url => "url",
            Gate::Ip => "ip",
            Gate::Redirect => "redirect",
            Gate::Extraction => "extraction",
            Gate::Filesystem => "filesystem",
            Gate::Storage => "storage",
            Gate::DbBoundary => "db_boundary",
        }
    }

    /// The codes this gate can emit: the `{gate, code}` series exported at 0 from the start.
    pub const fn codes(self) -> &'static [Code] {
        use Code::*;
        match self {
            Gate::Config => &[ConfigInvalid],
            Gate::Url => &[UrlInvalid, Scheme, Userinfo, HostDenied, Port, Idn, PrivateIp],
            Gate::Ip => &[PrivateIp, Dns],
            Gate::Redirect => {
                &[RedirectLimit, RedirectDowngrade, UrlInvalid, Scheme, Userinfo, HostDenied, Port, Idn, PrivateIp]
            }
            Gate::Extraction => &[
                Traversal,
                AbsolutePath,
                Link,
                SpecialFile,
                EntryCount,
                EntrySize,
                SizeLimit,
                Ratio,
                Overlap,
                Nesting,
                DuplicateEntry,
                CaseCollision,
                ReservedName,
                PathDepth,
                PathLength,
                Unsupported,
            ],
            Gate::Filesystem => &[Traversal, AbsolutePath, Link, ReservedName, PathDepth, PathLength, StorageRoot],
            Gate::Storage => &[StorageRoot, DiskSpace, Traversal, ReservedName, PathLength],
            Gate::DbBoundary => &[DbTxn, DbOrphan, AbsolutePath, Traversal, StorageRoot],
        }
    }
}

impl fmt::Display for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Gate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A gate's "no": which gate, the stable code, and a message that names the offending value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("{gate} gate refused: {message}")]
pub struct Refusal {
    /// The gate that refused.
    pub gate: Gate,
    /// The stable code.
    pub code: Code,
    /// What was refused and why, naming the value.
    pub message: String,
}

impl Refusal {
    /// Builds a refusal; gates call this with the value they refuse in the message.
    pub fn new(gate: Gate, code: Code, message: impl Into<String>) -> Self {
        Refusal { gate, code, message: message.into() }
    }

    /// Re-labels a refusal decided by a sub-gate (e.g. the url gate inside the redirect gate).
    pub fn under(mut self, gate: Gate) -> Self {
        self.gate = gate;
        self
    }
}

/// The policy crate's error type: a refusal, or a gate that could not decide (fails closed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The gate decided "no".
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The gate panicked or was handed impossible facts; treated as a refusal without code.
    #[error("{gate} gate failed to decide: {reason}")]
    GateFailed {
        /// The gate that failed.
        gate: Gate,
        /// Why it failed.
        reason: String,
    },
}

impl crate::code::Coded for PolicyError {
    /// The refusal's code; a gate that failed to decide refused with `E_GATE_ERROR`.
    fn code(&self) -> Code {
        match self {
            PolicyError::Refused(r) => r.code,
            PolicyError::GateFailed { .. } => Code::GateError,
        }
    }
}

impl crate::code::Coded for Refusal {
    fn code(&self) -> Code {
        self.code
    }
}

impl PolicyError {
    /// The gate involved.
    pub fn gate(&self) -> Gate {
        match self {
            PolicyError::Refused(r) => r.gate,
            PolicyError::GateFailed { gate, .. } => *gate,
        }
    }
}

/// What happened at one gate call, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Let through.
    Allow,
    /// Refused with a code.
    Reject(Code),
    /// The gate failed to decide.
    Error,
}

/// Receives every gate decision. Implemented by the metrics registry; gates stay free of it.
pub trait GateObserver: Send + Sync {
    /// Called once per gate call with its outcome and how long the decision took.
    fn observe(&self, gate: Gate, outcome: Outcome, elapsed: Duration);
}

/// An observer that records nothing, for callers without metrics.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoObserver;

impl GateObserver for NoObserver {
    fn observe(&self, _: Gate, _: Outcome, _: Duration) {}
}

/// Runs one gate decision, timing it and reporting it to `observer`.
///
/// A panic inside the gate is caught and reported as a gate error, so a bug fails closed
/// instead of tearing down the pipeline or, worse, letting the value through.
pub fn observed<T>(
    observer: &dyn GateObserver,
    gate: Gate,
    decide: impl FnOnce() -> Result<T, Refusal>,
) -> Result<T, PolicyError> {
    let start = Instant::now();
    let result = catch_unwind(AssertUnwindSafe(decide));
    let elapsed = start.elapsed();
    match result {
        Ok(Ok(value)) => {
            observer.observe(gate, Outcome::Allow, elapsed);
            Ok(value)
        }
        Ok(Err(refusal)) => {
            observer.observe(gate, Outcome::Reject(refusal.code), elapsed);
            Err(PolicyError::Refused(refusal.under(gate)))
        }
        Err(panic) => {
            observer.observe(gate, Outcome::Error, elapsed);
            let reason = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".to_string());
            Err(PolicyError::GateFailed { gate, reason })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<(Gate, Outcome)>>);
    impl GateObserver for Recorder {
        fn observe(&self, gate: Gate, outcome: Outcome, _: Duration) {
            self.0.lock().unwrap().push((gate, outcome));
        }
    }

    #[test]
    fn observed_reports_allow_reject_and_error() {
        let rec = Recorder::default();
        assert_eq!(observed(&rec, Gate::Url, || Ok(5)).unwrap(), 5);
        let err =
            observed::<()>(&rec, Gate::Ip, || Err(Refusal::new(Gate::Url, Code::PrivateIp, "10.0.0.1"))).unwrap_err();
        assert_eq!(crate::Coded::code(&err), Code::PrivateIp);
        assert_eq!(err.gate(), Gate::Ip, "refusal is labelled with the observed gate");
        let failed = observed::<()>(&rec, Gate::Storage, || panic!("boom")).unwrap_err();
        assert!(matches!(failed, PolicyError::GateFailed { gate: Gate::Storage, ref reason } if reason == "boom"));
        let seen = rec.0.lock().unwrap().clone();
        assert_eq!(
            seen,
            vec![
                (Gate::Url, Outcome::Allow),
                (Gate::Ip, Outcome::Reject(Code::PrivateIp)),
                (Gate::Storage, Outcome::Error)
            ]
        );
    }

    #[test]
    fn every_gate_declares_codes_from_the_closed_set() {
        for gate in Gate::ALL {
            assert!(!gate.codes().is_empty(), "{gate}");
        }
    }
}
