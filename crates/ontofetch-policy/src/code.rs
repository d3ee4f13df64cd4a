//! The closed set of stable refusal codes (DESIGN.md §3).
//!
//! Codes are part of the public contract: scripts, alerts and dashboards key on them, so a
//! code is added but never renamed or removed.

use std::fmt;

macro_rules! codes {
    ($($variant:ident => $text:literal: $doc:literal,)+) => {
        /// A stable refusal code. `as_str` is what users, logs and metrics see.
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

            /// Parses the text form; used by corpus files and tests.
            pub fn parse(text: &str) -> Option<Code> {
                match text { $($text => Some(Code::$variant),)+ _ => None }
            }
        }
    };
}

codes! {
    ConfigInvalid => "E_CONFIG_INVALID": "A configuration value is malformed or out of bounds.",
    Scheme => "E_SCHEME": "The URL scheme is not https (or allowed plain http).",
    Userinfo => "E_USERINFO": "The URL carries credentials (user:pass@).",
    HostDenied => "E_HOST_DENIED": "The host is special-use, malformed or not in the allowlist.",
    Port => "E_PORT": "The port is not in the allowed set or cannot be parsed.",
    Idn => "E_IDN": "The host name mixes scripts or hides invisible characters (homograph).",
    PrivateIp => "E_PRIVATE_IP": "The address is loopback, private, link-local, reserved or embeds one.",
    Dns => "E_DNS": "The host did not resolve to any address.",
    RedirectLimit => "E_REDIRECT_LIMIT": "Too many redirect hops.",
    RedirectDowngrade => "E_REDIRECT_DOWNGRADE": "A redirect went from https to plain http.",
    SizeLimit => "E_SIZE_LIMIT": "A byte cap was exceeded.",
    Checksum => "E_CHECKSUM": "The bytes do not match the expected checksum.",
    MediaType => "E_MEDIA_TYPE": "The content is not what was asked for (e.g. an HTML error page).",
    Traversal => "E_TRAVERSAL": "A path escapes, or resolves to, its root.",
    AbsolutePath => "E_ABSOLUTE_PATH": "A path is absolute, has a drive letter or is a UNC/device path.",
    Link => "E_LINK": "A symlink or hardlink entry, or a path through one.",
    SpecialFile => "E_SPECIAL_FILE": "A device, FIFO or socket entry.",
    EntryCount => "E_ENTRY_COUNT": "Too many archive entries.",
    EntrySize => "E_ENTRY_SIZE": "One archive entry produced too many bytes.",
    Ratio => "E_RATIO": "The expansion ratio is beyond the cap (compression bomb).",
    Overlap => "E_OVERLAP": "Archive entries overlap or disagree with the central directory.",
    Nesting => "E_NESTING": "Archives nested deeper than allowed.",
    DuplicateEntry => "E_DUPLICATE_ENTRY": "Two entries claim the same path.",
    CaseCollision => "E_CASE_COLLISION": "Two entries differ only by case or Unicode form.",
    ReservedName => "E_RESERVED_NAME": "A name that is reserved, empty or has forbidden characters.",
    PathDepth => "E_PATH_DEPTH": "A path has too many components.",
    PathLength => "E_PATH_LENGTH": "A path or one of its components is too long.",
    DiskSpace => "E_DISK_SPACE": "Not enough free space for the write.",
    StorageRoot => "E_STORAGE_ROOT": "A write outside, or through a link at, the storage root.",
    DbTxn => "E_DB_TXN": "A catalog commit out of order with the store.",
    DbOrphan => "E_DB_ORPHAN": "A catalog row without its file, or a file without its row.",
    Validation => "E_VALIDATION": "The content failed validation.",
    UrlInvalid => "E_URL_INVALID": "The URL cannot be parsed, is over-long or has control characters.",
    Unsupported => "E_UNSUPPORTED": "An archive entry is encrypted or uses a compression method that is not enabled.",
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
        }
        assert_eq!(Code::parse("E_NOPE"), None);
    }
}
