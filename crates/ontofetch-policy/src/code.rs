//! The one closed registry of stable codes (docs/architecture.md, "Error codes").
//!
//! Every code the tool can emit lives here: the refusals of the gates and the runtime
//! failures (network, I/O, catalog…). Scripts, alerts and dashboards key on them, so a code
//! is added but never renamed or removed. Every crate's error type implements [`Coded`].

use std::fmt;

/// Whether a code is a gate's refusal or a failure of the work itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CodeKind {
    /// A policy gate refused a value (exit status 3 when it is the command's answer).
    Refusal,
    /// Something failed while doing the work (exit status 1, or 2 for bad input).
    Runtime,
}

macro_rules! codes {
    ($($variant:ident => $text:literal, $kind:ident: $doc:literal,)+) => {
        /// A stable code. `as_str` is what users, logs and metrics see.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $(#[doc = $doc] $variant,)+
        }

        impl Code {
            /// Every code, in declaration order, so exporters can pre-create series.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)+];

            /// The stable text form (`E_…`).
            pub const fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $text,)+ }
            }

            /// What the code means, for `ontofetch policy codes` and the docs.
            pub const fn meaning(self) -> &'static str {
                match self { $(Code::$variant => $doc,)+ }
            }

            /// Refusal or runtime failure.
            pub const fn kind(self) -> CodeKind {
                match self { $(Code::$variant => CodeKind::$kind,)+ }
            }

            /// Parses the text form; used by corpus files and tests.
            pub fn parse(text: &str) -> Option<Code> {
                match text { $($text => Some(Code::$variant),)+ _ => None }
            }
        }
    };
}

codes! {
    ConfigInvalid => "E_CONFIG_INVALID", Refusal: "A configuration value is malformed or out of bounds.",
    Scheme => "E_SCHEME", Refusal: "The URL scheme is not https (or allowed plain http).",
    Userinfo => "E_USERINFO", Refusal: "The URL carries credentials (user:pass@), even empty ones.",
    HostDenied => "E_HOST_DENIED", Refusal: "The host is special-use, malformed or not in the allowlist.",
    Port => "E_PORT", Refusal: "The port is not in the allowed set or cannot be parsed.",
    Idn => "E_IDN", Refusal: "The host name mixes scripts, is confusable with another, or hides invisible characters (homograph).",
    PrivateIp => "E_PRIVATE_IP", Refusal: "The address is loopback, private, link-local, reserved or embeds one.",
    Dns => "E_DNS", Refusal: "The host did not resolve to any address.",
    RedirectLimit => "E_REDIRECT_LIMIT", Refusal: "Too many redirect hops.",
    RedirectDowngrade => "E_REDIRECT_DOWNGRADE", Refusal: "A redirect went from https to plain http.",
    SizeLimit => "E_SIZE_LIMIT", Refusal: "A byte cap was exceeded.",
    Checksum => "E_CHECKSUM", Refusal: "The bytes do not match the expected checksum.",
    MediaType => "E_MEDIA_TYPE", Refusal: "The content is not what was asked for (e.g. an HTML error page).",
    Traversal => "E_TRAVERSAL", Refusal: "A path escapes, or resolves to, its root.",
    AbsolutePath => "E_ABSOLUTE_PATH", Refusal: "A path is absolute, has a drive letter or is a UNC/device path.",
    Link => "E_LINK", Refusal: "A symlink or hardlink entry, or a path through one.",
    SpecialFile => "E_SPECIAL_FILE", Refusal: "A device, FIFO or socket entry.",
    EntryCount => "E_ENTRY_COUNT", Refusal: "Too many archive entries.",
    EntrySize => "E_ENTRY_SIZE", Refusal: "One archive entry produced too many bytes.",
    Ratio => "E_RATIO", Refusal: "The expansion ratio is beyond the cap (compression bomb).",
    Overlap => "E_OVERLAP", Refusal: "Archive entries overlap or disagree with the central directory.",
    Nesting => "E_NESTING", Refusal: "Archives nested deeper than allowed.",
    DuplicateEntry => "E_DUPLICATE_ENTRY", Refusal: "Two entries claim the same path.",
    CaseCollision => "E_CASE_COLLISION", Refusal: "Two entries differ only by case or Unicode form.",
    ReservedName => "E_RESERVED_NAME", Refusal: "A name that is reserved (by the layout or an OS), empty or has forbidden characters.",
    PathDepth => "E_PATH_DEPTH", Refusal: "A path has too many components.",
    PathLength => "E_PATH_LENGTH", Refusal: "A path or one of its components is too long.",
    DiskSpace => "E_DISK_SPACE", Refusal: "Not enough free space for the write.",
    StorageRoot => "E_STORAGE_ROOT", Refusal: "A write outside, or through a link at, the storage root.",
    DbTxn => "E_DB_TXN", Refusal: "A catalog commit out of order with the store.",
    DbOrphan => "E_DB_ORPHAN", Refusal: "A catalog row without its file, or a file without its row.",
    Validation => "E_VALIDATION", Refusal: "The content failed validation.",
    UrlInvalid => "E_URL_INVALID", Refusal: "The URL cannot be parsed, is over-long or has control characters.",
    Unsupported => "E_UNSUPPORTED", Refusal: "An archive entry is encrypted or uses a compression method that is not enabled.",
    GateError => "E_GATE_ERROR", Refusal: "A gate failed to decide (a bug or impossible facts) and refused: it fails closed.",
    License => "E_LICENSE", Refusal: "The source's licence is not in accept_licenses (or unknown while reject_unknown_licenses is set).",
    Attestation => "E_ATTESTATION", Refusal: "An attestation does not verify: no signature by the trusted key, another statement, or bytes it does not name.",
    LogInconsistent => "E_LOG_INCONSISTENT", Refusal: "A transparency log's checkpoint is not consistent with one seen before: the log was rolled back, forked or rewritten, or an entry is not included under it.",
    Io => "E_IO", Runtime: "A local file operation failed; the message names the path.",
    Network => "E_NETWORK", Runtime: "A connection, TLS handshake or response body failed.",
    HttpStatus => "E_HTTP_STATUS", Runtime: "A server answered with a status that is not a success, or with unusable JSON.",
    Timeout => "E_TIMEOUT", Runtime: "A request, download or validator exceeded its deadline.",
    Resolve => "E_RESOLVE", Runtime: "A resolver could not find a download URL in the registry's answer.",
    ResolverUnavailable => "E_RESOLVER_UNAVAILABLE", Runtime: "The resolver named in the configuration is not implemented.",
    ArchiveCorrupt => "E_ARCHIVE_CORRUPT", Runtime: "An archive is damaged or not what it claims to be.",
    Db => "E_DB", Runtime: "The catalog database failed: unreachable, locked too long, or a query error.",
    Exists => "E_EXISTS", Runtime: "A version already exists with other content (never expected: promotion is idempotent).",
    Manifest => "E_MANIFEST", Runtime: "A stored manifest is missing or is not the JSON it should be.",
    Store => "E_STORE", Runtime: "The artifact store (object storage) failed: unreachable, credentials, missing bucket.",
    Usage => "E_USAGE", Runtime: "The command line is wrong: an unknown id, a bad flag value.",
    CheckFailed => "E_CHECK_FAILED", Runtime: "A check failed (doctor, validate, monitor status) or part of a batch failed.",
    MetricsEncode => "E_METRICS_ENCODE", Runtime: "The metrics exposition could not be encoded.",
    MetricsWrite => "E_METRICS_WRITE", Runtime: "The metrics textfile could not be written.",
    ServeStart => "E_SERVE_START", Runtime: "The background server did not come up.",
    Pidfile => "E_PIDFILE", Runtime: "The server's pidfile is unreadable or names no process.",
    Locked => "E_LOCKED", Runtime: "Another process holds the lock on this ontology for longer than allowed.",
    Fenced => "E_FENCED", Runtime: "This worker's lease was lost (another worker took the ontology over, e.g. after a database restart): it stopped without recording.",
    NotFound => "E_NOT_FOUND", Runtime: "The ontology, version or file asked for is not in the mirror.",
    Busy => "E_BUSY", Runtime: "Every download slot of the server is taken; retry after the Retry-After delay.",
    ImportLimit => "E_IMPORT_LIMIT", Runtime: "An import beyond max_import_depth or max_imports was recorded but not fetched.",
    Interrupted => "E_INTERRUPTED", Runtime: "The command was interrupted (Ctrl-C, SIGTERM) and exited 130, removing the staging it had made.",
    Drift => "E_DRIFT", Runtime: "What the store holds differs from what the catalog or a manifest records (size, SHA-256, a pointer, a path): `doctor --verify` found it.",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Code {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        Code::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("unknown code {text:?}")))
    }
}

/// Implemented by every crate's error type: the stable code of the failure. Messages
/// (`Display`) never repeat the code; whoever prints both prints it once.
pub trait Coded {
    /// The stable code.
    fn code(&self) -> Code;
}

impl Coded for Code {
    fn code(&self) -> Code {
        *self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            assert!(code.as_str().starts_with("E_"));
            assert_eq!(Code::parse(code.as_str()), Some(*code));
            assert!(seen.insert(code.as_str()), "duplicate {code}");
            assert!(code.meaning().ends_with('.'), "{code} needs a meaning sentence");
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(serde_json::from_str::<Code>(&json).unwrap(), *code);
        }
        assert_eq!(Code::parse("E_NOPE"), None);
        assert!(serde_json::from_str::<Code>("\"E_NOPE\"").is_err());
    }

    #[test]
    fn every_gate_code_is_a_refusal() {
        for gate in crate::Gate::ALL {
            for code in gate.codes() {
                assert_eq!(code.kind(), CodeKind::Refusal, "{gate}: {code}");
            }
        }
    }
}
