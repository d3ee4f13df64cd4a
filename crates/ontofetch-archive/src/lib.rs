//! Safe extraction (docs/architecture.md, "Archive rules"): zip, tar and tar.{gz,xz,zst,bz2}, and
//! single .gz/.xz/.zst/.bz2 files. No crate's `extract()`/`unpack()` is called: entries are
//! iterated, every entry passes the extraction gate, bytes are counted as they are written
//! (never trusting declared sizes), files are created through a directory handle (cap-std)
//! with create-new semantics in a fresh directory, and any failure removes everything
//! extracted so far.

#![warn(missing_docs)]

mod format;
mod sink;
mod tarball;
mod writer;
mod zipfile;

pub use format::{Codec, Format, detect};

use ontofetch_policy::{Gates, PolicyError};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Why an extraction failed.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// A gate refused an entry, its bytes or the archive layout.
    #[error(transparent)]
    Refused(#[from] PolicyError),
    /// The archive is damaged or not what it claims.
    #[error("{what}: {message}")]
    Corrupt {
        /// Which archive (and entry).
        what: String,
        /// The reader's complaint.
        message: String,
    },
    /// Local file trouble.
    #[error("{what}: {source}")]
    Io {
        /// What we were doing.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
}

impl ontofetch_policy::Coded for ArchiveError {
    fn code(&self) -> ontofetch_policy::Code {
        match self {
            ArchiveError::Refused(e) => e.code(),
            ArchiveError::Corrupt { .. } => ontofetch_policy::Code::ArchiveCorrupt,
            ArchiveError::Io { .. } => ontofetch_policy::Code::Io,
        }
    }
}

impl ArchiveError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        ArchiveError::Io { what: what.into(), source }
    }

    pub(crate) fn corrupt(what: impl Into<String>, message: impl ToString) -> Self {
        ArchiveError::Corrupt { what: what.into(), message: message.to_string() }
    }
}

/// One extracted file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExtractedFile {
    /// Path relative to the extraction root (`/`-separated, NFC).
    pub path: String,
    /// Bytes written.
    pub bytes: u64,
    /// SHA-256 of the bytes written.
    pub sha256: String,
}

/// What an extraction did (also written as the audit JSON).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Files written, in archive order (nested archives' files under `<archive>.d/`).
    pub files: Vec<ExtractedFile>,
    /// Entries seen (directories included).
    pub entries: u64,
    /// Bytes written in total.
    pub total_bytes: u64,
    /// Compressed bytes read (all archives, nested included).
    pub compressed_bytes: u64,
}

impl Report {
    /// total / compressed.
    pub fn ratio(&self) -> f64 {
        self.total_bytes as f64 / self.compressed_bytes.max(1) as f64
    }
}

/// Running totals shared by an archive and the archives nested in it.
pub(crate) struct Budget {
    pub entries: u64,
    pub total: u64,
    pub compressed: u64,
}

/// Extracts `archive` into `dest`, which must not exist yet (it is created fresh, so no
/// planted symlink can redirect a write). On any error `dest` is removed entirely.
pub fn extract(archive: &Path, dest: &Path, gates: &Gates<'_>) -> Result<Report, ArchiveError> {
    std::fs::create_dir(dest)
        .map_err(|e| ArchiveError::io(format!("creating fresh directory {}", dest.display()), e))?;
    let mut report = Report::default();
    let mut budget = Budget { entries: 0, total: 0, compressed: 0 };
    let result = extract_into(archive, dest, "", gates, 0, &mut budget, &mut report);
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(dest);
        return Err(e);
    }
    report.entries = budget.entries;
    report.total_bytes = budget.total;
    report.compressed_bytes = budget.compressed;
    Ok(report)
}

fn extract_into(
    archive: &Path,
    dest: &Path,
    prefix: &str,
    gates: &Gates<'_>,
    depth: u32,
    budget: &mut Budget,
    report: &mut Report,
) -> Result<(), ArchiveError> {
    let size =
        std::fs::metadata(archive).map_err(|e| ArchiveError::io(format!("reading {}", archive.display()), e))?.len();
    budget.compressed += size;
    let dir = cap_std::fs::Dir::open_ambient_dir(dest, cap_std::ambient_authority())
        .map_err(|e| ArchiveError::io(format!("opening {}", dest.display()), e))?;
    let format = detect(archive).map_err(|e| ArchiveError::io(format!("reading {}", archive.display()), e))?;
    // A plain tar's reader only copies: it writes too, and the other thread only hashes.
    let placement = match format {
        Format::Tar(Codec::None) => writer::Placement::Reader,
        _ => writer::Placement::Hasher,
    };
    let mut sink = sink::Sink {
        dir: &dir,
        gates,
        budget,
        depth,
        writer: writer::Writer::start(),
        placement,
        archive_name: archive.display().to_string(),
    };
    match format {
        Format::Zip => zipfile::extract(archive, &mut sink)?,
        Format::Tar(codec) => tarball::extract(archive, codec, &mut sink)?,
        Format::Single(codec) => tarball::extract_single(archive, codec, &mut sink)?,
        Format::Plain => return Err(ArchiveError::corrupt(archive.display().to_string(), "not an archive")),
    }
    let files = sink.finish()?;
    for f in files {
        let full = dest.join(&f.path);
        // Nested archives are extracted next to themselves, sharing the byte budget; the
        // extraction gate refuses them past max_nesting.
        if !matches!(detect(&full), Ok(Format::Plain) | Err(_)) {
            let nested = PathBuf::from(format!("{}.d", full.display()));
            std::fs::create_dir(&nested).map_err(|e| ArchiveError::io(format!("creating {}", nested.display()), e))?;
            let nested_prefix = format!("{prefix}{}.d/", f.path);
            extract_into(&full, &nested, &nested_prefix, gates, depth + 1, budget, report)?;
        }
        report.files.push(ExtractedFile { path: format!("{prefix}{}", f.path), ..f });
    }
    Ok(())
}

/// Whether a file looks like an archive this crate extracts.
pub fn is_archive(path: &Path) -> bool {
    !matches!(detect(path), Ok(Format::Plain) | Err(_))
}
