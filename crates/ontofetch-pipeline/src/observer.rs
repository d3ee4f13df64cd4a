//! How a pull tells its caller what is happening, without knowing who listens: progress
//! bars and JSON-lines events in the binary, a callback in the Python API, nothing in tests.

use crate::result::{PullResult, ValidationSummary};

/// Receives a pull's events. Called from several tasks at once; implementations must be
/// cheap (bytes arrive per network chunk).
pub trait PullObserver: Send + Sync {
    /// An ontology's pull started.
    fn started(&self, _id: &str) {}
    /// Body bytes received so far, and the total when the server announced it.
    fn bytes(&self, _id: &str, _received: u64, _total: Option<u64>) {}
    /// A new version was validated (before it is stored).
    fn validated(&self, _id: &str, _summary: &ValidationSummary) {}
    /// An ontology's pull ended.
    fn finished(&self, _result: &PullResult) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl PullObserver for Silent {}
