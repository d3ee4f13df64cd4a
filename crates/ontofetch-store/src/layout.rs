//! The store's layout: every name and key the mirror uses, in one place. Keys are relative,
//! `/`-separated paths under the store root (a directory, or a bucket prefix), the same on
//! every backend:
//!
//! ```text
//! catalog.sqlite                                  the embedded catalog (SQLite backend)
//! ontologies/<id>/<version>/original/<file>       the downloaded bytes
//! ontologies/<id>/<version>/original/<stem>_extracted/…       archive contents
//! ontologies/<id>/<version>/original/<stem>_extracted.audit.json
//! ontologies/<id>/<version>/normalized/<stem>.{nt,ttl,owl}    normalised renderings
//! ontologies/<id>/<version>/validation/report.json
//! ontologies/<id>/<version>/manifest.json         schema 1.0
//! ontologies/<id>/latest -> <version>             local directories only
//! by-sha256/aa/bb/<sha256>                        content-addressed copies
//! .staging/  .locks/                              private to the local machine
//! ```

/// The directory of every ontology.
pub const ONTOLOGIES: &str = "ontologies";
/// The content-addressed mirror.
pub const CAS: &str = "by-sha256";
/// The embedded catalog file.
pub const CATALOG_FILE: &str = "catalog.sqlite";
/// Private per-pull staging directories (local disk only).
pub const STAGING: &str = ".staging";
/// Where an object store's promotion uploads first, under the lease's fencing token:
/// `.uploads/<id>/<token>/<version>/…`; only a holder of the current token copies them to
/// the version's keys (docs/architecture.md, "Fencing").
pub const UPLOADS: &str = ".uploads";
/// Unrecorded version directories that could not be adopted are moved here whole (never
/// deleted): `quarantine/<id>/<version>-<unix seconds>`.
pub const QUARANTINE: &str = "quarantine";
/// Advisory lock files (local disk only).
pub const LOCKS: &str = ".locks";
/// The per-ontology pointer to the newest version.
pub const LATEST: &str = "latest";
/// The manifest of a version.
pub const MANIFEST: &str = "manifest.json";
/// The signed attestation of a version (a DSSE envelope of an in-toto statement), when
/// the mirror has a signing key.
pub const ATTESTATION: &str = "attestation.dsse.json";
/// Where the transparency log is kept in the store: `log/checkpoint`, `log/tile/…`
/// (c2sp.org/tlog-tiles under this prefix).
pub const LOG: &str = "log";
/// Under the local data root: the last checkpoint `verify` saw of each log origin.
pub const TRUST: &str = "trust";
/// The upstream mirror's attestation a version pulled from another mirror keeps beside
/// its own.
pub const UPSTREAM_ATTESTATION: &str = "upstream.attestation.dsse.json";
/// The validation report of a version.
pub const VALIDATION_REPORT: &str = "validation/report.json";
/// The directory of the downloaded file.
pub const ORIGINAL: &str = "original";
/// The directory of normalised renderings.
pub const NORMALIZED: &str = "normalized";

/// Names a version may never take: the layout uses them beside version directories.
pub use ontofetch_policy::storage::RESERVED_VERSIONS;

/// `ontologies/<id>/<version>`.
pub fn version_key(id: &str, version: &str) -> String {
    format!("{ONTOLOGIES}/{id}/{version}")
}

/// `ontologies/<id>`.
pub fn ontology_key(id: &str) -> String {
    format!("{ONTOLOGIES}/{id}")
}

/// `original/<file>`, relative to a version.
pub fn original_rel(filename: &str) -> String {
    format!("{ORIGINAL}/{filename}")
}

/// `original/<stem>_extracted`, relative to a version.
pub fn extracted_rel(stem: &str) -> String {
    format!("{ORIGINAL}/{stem}_extracted")
}

/// `original/<stem>_extracted.audit.json`, relative to a version.
pub fn audit_rel(stem: &str) -> String {
    format!("{ORIGINAL}/{stem}_extracted.audit.json")
}

/// `normalized/<base>.<ext>`, relative to a version.
pub fn normalized_rel(base: &str, ext: &str) -> String {
    format!("{NORMALIZED}/{base}.{ext}")
}

/// `by-sha256/aa/bb/<sha256>`: the fan-out comes from the digest itself.
pub fn cas_key(sha256: &str) -> String {
    let a = &sha256[..2.min(sha256.len())];
    let b = &sha256[2.min(sha256.len())..4.min(sha256.len())];
    format!("{CAS}/{a}/{b}/{sha256}")
}

/// The part of a file name before its first dot (`hp.owl.gz` → `hp`), naming the
/// `<stem>_extracted/` and `normalized/<stem>.*` siblings of an original.
pub fn file_stem(file_name: &str) -> String {
    file_name.split('.').next().filter(|s| !s.is_empty()).unwrap_or("ontology").to_string()
}

/// DocsToKG's `sanitize_filename`: separators and anything outside `[A-Za-z0-9._-]` become
/// `_`, leading/trailing `.`/`_` are stripped, empty becomes `ontology`. At most
/// `max_bytes` bytes (the extension is kept when the name is cut), so that temporary names
/// derived from it (`.<name>.part`) still fit a 255-byte file name.
pub fn sanitize_filename(name: &str) -> String {
    const MAX: usize = 200;
    let mapped: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }).collect();
    let trimmed = mapped.trim_matches(|c| c == '.' || c == '_');
    let out = if trimmed.is_empty() { "ontology".to_string() } else { trimmed.to_string() };
    if out.len() <= MAX {
        return out;
    }
    // Keep a short extension (it decides format sniffing ties and Content-Type).
    let ext = out.rsplit_once('.').map(|(_, e)| e).filter(|e| e.len() <= 16).unwrap_or("");
    let keep = MAX - if ext.is_empty() { 0 } else { ext.len() + 1 };
    let head = &out[..keep];
    if ext.is_empty() { head.to_string() } else { format!("{head}.{ext}") }
}

/// Makes a version string usable as one directory name (same charset as ids, at most 100
/// bytes), never one of the [`RESERVED_VERSIONS`] names (a registry answering
/// `"version": "latest"` must not squat the `latest` pointer).
pub fn sanitize_version(version: &str) -> String {
    let s: String = sanitize_filename(version).chars().take(100).collect();
    if RESERVED_VERSIONS.iter().any(|r| r.eq_ignore_ascii_case(&s)) { format!("{s}-version") } else { s }
}

/// Where an unrecorded version directory that could not be adopted is moved.
pub fn quarantine_key(id: &str, version: &str, unix_seconds: u64) -> String {
    format!("{QUARANTINE}/{id}/{version}-{unix_seconds}")
}

/// The token-carrying prefix a promotion under `token` uploads a version to first.
pub fn upload_prefix(id: &str, token: u64, version: &str) -> String {
    format!("{UPLOADS}/{id}/{token}/{version}")
}

/// The fencing token an upload key carries (`.uploads/<id>/<token>/…`), with its id.
pub fn upload_token(key: &str) -> Option<(&str, u64)> {
    let mut parts = key.strip_prefix(UPLOADS)?.strip_prefix('/')?.split('/');
    let id = parts.next()?;
    let token = parts.next()?.parse().ok()?;
    Some((id, token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_like_docstokg() {
        assert_eq!(sanitize_filename("bfo.owl"), "bfo.owl");
        assert_eq!(sanitize_filename("../../etc/passwd"), "etc_passwd");
        assert_eq!(sanitize_filename("..."), "ontology");
        assert_eq!(sanitize_filename("a b?c.owl"), "a_b_c.owl");
        assert_eq!(
            sanitize_version("http://purl.obolibrary.org/obo/bfo/2019-08-26/bfo.owl"),
            "http___purl.obolibrary.org_obo_bfo_2019-08-26_bfo.owl"
        );
        assert_eq!(sanitize_version(&"v".repeat(300)).len(), 100);
    }

    #[test]
    fn long_names_are_cut_keeping_the_extension() {
        let long = format!("{}.owl", "a".repeat(252));
        let s = sanitize_filename(&long);
        assert_eq!(s.len(), 200);
        assert!(s.ends_with(".owl"));
        assert!(format!(".{s}.part").len() < 255);
    }

    #[test]
    fn reserved_layout_names_are_never_versions() {
        assert_eq!(sanitize_version("latest"), "latest-version");
        assert_eq!(sanitize_version("LATEST"), "LATEST-version");
        assert_eq!(sanitize_version("latest-2"), "latest-2");
        assert_eq!(cas_key(&"ab".repeat(32)), format!("by-sha256/ab/ab/{}", "ab".repeat(32)));
        assert_eq!(version_key("bfo", "v1"), "ontologies/bfo/v1");
        assert_eq!(file_stem("hp.owl.gz"), "hp");
    }
}
