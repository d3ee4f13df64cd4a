//! The report `doctor` writes (its `--json` document), as types: what each check looked at
//! and found. `doctor.rs` runs the checks; the text a person reads is rendered from these
//! fields by the application layer.

use ontofetch_policy::Code;
use serde::Serialize;
use std::path::PathBuf;

/// Everything doctor found.
#[derive(Debug, Clone, Serialize)]
pub struct Checkup {
    /// No problem was found.
    pub ok: bool,
    /// ontofetch's version.
    pub version: &'static str,
    /// The data directories.
    pub directories: Directories,
    /// Free space where the data root is.
    pub disk: Disk,
    /// The configuration.
    pub config: ConfigCheck,
    /// Credentials the configuration can use.
    pub credentials: Credentials,
    /// The configured policy still refuses these SSRF targets.
    pub gate_self_test: Vec<Probe>,
    /// The signing key (`null` when the configuration is invalid).
    pub signing: Option<Signing>,
    /// The store and the catalog (`null` when the configuration is invalid).
    pub store: Option<StoreCheck>,
    /// What is wrong (the check fails).
    pub problems: Vec<String>,
    /// What is worth knowing.
    pub notes: Vec<String>,
    /// What `--fix` repaired.
    pub fixes: Vec<String>,
}

/// One data directory.
#[derive(Debug, Clone, Serialize)]
pub struct Directory {
    /// Where.
    pub path: PathBuf,
    /// It exists.
    pub exists: bool,
    /// This process may write into it.
    pub writable: bool,
}

/// The data directories.
#[derive(Debug, Clone, Serialize)]
pub struct Directories {
    /// The data root.
    pub root: Directory,
    /// `configs/`.
    pub configs: Directory,
    /// `cache/`.
    pub cache: Directory,
    /// `logs/`.
    pub logs: Directory,
    /// `ontologies/`.
    pub ontologies: Directory,
}

/// Free space.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Disk {
    /// Measured.
    Measured {
        /// The directory measured (the nearest that exists).
        path: PathBuf,
        /// Writes are admitted (above the storage gate's reserve).
        ok: bool,
        /// Below the recommended threshold.
        low: bool,
        /// Size of the filesystem.
        total_bytes: u64,
        /// Free for this user.
        free_bytes: u64,
        /// The recommended free space.
        threshold_bytes: u64,
        /// The storage gate's reserve.
        reserve_bytes: u64,
        /// One download of the size cap.
        download_cap_bytes: u64,
    },
    /// Could not be measured.
    Unknown {
        /// The directory.
        path: PathBuf,
        /// Always false.
        ok: bool,
        /// Why.
        error: String,
    },
}

/// The configuration.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ConfigCheck {
    /// It loaded and passed the gates.
    Valid {
        /// Always true.
        ok: bool,
        /// The file (none: the built-in default).
        path: Option<PathBuf>,
        /// Ontologies configured.
        ontologies: usize,
    },
    /// It did not.
    Invalid {
        /// Always false.
        ok: bool,
        /// Why (file, line, key).
        error: String,
        /// Its code.
        code: Code,
    },
}

/// Credentials.
#[derive(Debug, Clone, Serialize)]
pub struct Credentials {
    /// BioPortal's API key.
    pub bioportal_api_key: ApiKey,
}

/// Where an API key can come from and whether it does.
#[derive(Debug, Clone, Serialize)]
pub struct ApiKey {
    /// The key file read when no environment variable sets it.
    pub file: PathBuf,
    /// The file holds a key.
    pub file_configured: bool,
    /// A key is configured (file or environment).
    pub configured: bool,
}

/// One SSRF probe of the self-test.
#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    /// The URL.
    pub url: &'static str,
    /// The url gate refused it.
    pub refused: bool,
    /// With this code.
    pub code: Option<Code>,
}

/// The signing key.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Signing {
    /// Present and usable, or absent (`verifier_key: null`: versions are stored unsigned).
    Key {
        /// Where it is (or would be).
        key_file: PathBuf,
        /// Its verifier key.
        verifier_key: Option<String>,
    },
    /// Present and unusable.
    Broken {
        /// Where it is.
        key_file: PathBuf,
        /// Why it cannot be used.
        error: String,
    },
}

/// The store and the catalog.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum StoreCheck {
    /// Checked.
    Checked(Box<StoreReport>),
    /// No catalog yet (`catalog: null`).
    NoCatalog {
        /// Always `null`.
        catalog: Option<String>,
        /// Version directories found without it.
        version_dirs: usize,
        /// Where the catalog was looked for.
        note: String,
    },
    /// The backends could not be read.
    Failed {
        /// Always false.
        ok: bool,
        /// The catalog, when it opened.
        #[serde(skip_serializing_if = "Option::is_none")]
        catalog: Option<String>,
        /// The store, when it opened.
        #[serde(skip_serializing_if = "Option::is_none")]
        store: Option<String>,
        /// Why.
        error: String,
    },
}

/// What the store and catalog hold, and how they agree.
#[derive(Debug, Clone, Serialize)]
pub struct StoreReport {
    /// The catalog (no credentials).
    pub catalog: String,
    /// The store.
    pub store: String,
    /// The catalog's schema version.
    pub schema_version: Option<i64>,
    /// Versions recorded.
    pub versions: usize,
    /// Version directories stored.
    pub version_dirs: usize,
    /// Directories without a row.
    pub dirs_without_rows: Vec<String>,
    /// Rows without their files.
    pub rows_without_files: Vec<String>,
    /// Ontologies another worker was pulling (not checked).
    pub busy: Vec<String>,
    /// Staging a killed pull left.
    pub stale_staging: Vec<String>,
    /// Links planted in the data root.
    pub planted_links: Vec<crate::links::PlantedLink>,
    /// Names outside the layout.
    pub strays: Vec<String>,
    /// The invariants checked on the stored bytes.
    pub integrity: crate::integrity::Audit,
    /// Incomplete multipart uploads (object storage; `null` elsewhere).
    pub incomplete_uploads: Option<Uploads>,
    /// What lost leases uploaded (`null` when it could not be listed).
    pub lost_lease_uploads: Option<Vec<LostUploads>>,
}

/// Incomplete multipart uploads.
#[derive(Debug, Clone, Serialize)]
pub struct Uploads {
    /// Left by dead workers (or fenced ones).
    pub stale: Vec<ontofetch_store::OpenUpload>,
    /// In progress.
    pub in_progress: usize,
}

/// Objects one ontology's lost leases uploaded.
#[derive(Debug, Clone, Serialize)]
pub struct LostUploads {
    /// The ontology.
    pub id: String,
    /// The lost tokens.
    pub tokens: Vec<u64>,
    /// The current one.
    pub current: u64,
    /// `--fix` removed them.
    pub removed: bool,
}
