//! The progress events of a pull as JSON: `serve --refresh`'s log lines and the Python
//! module's progress callback print the same shapes, made here once.

use ontofetch_pipeline::{PipelineError, PullResult, PullStatus, ValidationSummary};
use serde::Serialize;

/// One progress event (`{"event": "pull.start", "id": …}`).
#[derive(Debug, Serialize)]
#[serde(tag = "event")]
pub enum Event<'a> {
    /// The pull of an ontology began (its lease is held).
    #[serde(rename = "pull.start")]
    Start {
        /// Ontology id.
        id: &'a str,
    },
    /// Bytes received so far, and the total when the server announced one.
    #[serde(rename = "pull.bytes")]
    Bytes {
        /// Ontology id.
        id: &'a str,
        /// Bytes so far.
        received: u64,
        /// `Content-Length`, when known.
        total: Option<u64>,
    },
    /// The validators' verdict.
    #[serde(rename = "pull.validated")]
    Validated {
        /// Ontology id.
        id: &'a str,
        /// The verdict.
        validation: &'a ValidationSummary,
    },
    /// The pull ended.
    #[serde(rename = "pull.done")]
    Done {
        /// Ontology id.
        id: &'a str,
        /// How it ended.
        status: PullStatus,
        /// The version stored or found.
        version: Option<&'a str>,
        /// The original's SHA-256.
        sha256: Option<&'a str>,
        /// Why it failed.
        error: Option<&'a PipelineError>,
    },
}

impl<'a> Event<'a> {
    /// The event that reports a finished pull.
    pub fn done(r: &'a PullResult) -> Event<'a> {
        Event::Done {
            id: &r.id,
            status: r.status,
            version: r.version.as_deref(),
            sha256: r.sha256.as_deref(),
            error: r.error.as_ref(),
        }
    }

    /// One line of JSON.
    pub fn to_json(&self) -> String {
        // Strings, numbers and plain structs: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::Event;

    #[test]
    fn events_are_tagged_lines() {
        let e = Event::Bytes { id: "hp", received: 10, total: None };
        assert_eq!(e.to_json(), r#"{"event":"pull.bytes","id":"hp","received":10,"total":null}"#);
        assert_eq!(Event::Start { id: "go" }.to_json(), r#"{"event":"pull.start","id":"go"}"#);
    }
}
