//! Tar (plain or compressed) and single compressed files, read as streams.

use crate::ArchiveError;
use crate::format::{Codec, decoder};
use crate::sink::Sink;
use ontofetch_policy::extraction::{EntryKind, EntryLedger};
use std::io::BufReader;
use std::path::Path;
use tar::EntryType;

pub(crate) fn extract(path: &Path, codec: Codec, sink: &mut Sink<'_, '_>) -> Result<(), ArchiveError> {
    let what = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| ArchiveError::io(format!("opening {what}"), e))?;
    let reader = decoder(codec, BufReader::new(file)).map_err(|e| ArchiveError::corrupt(&what, e))?;
    let mut archive = tar::Archive::new(reader);
    let mut ledger = EntryLedger::default();
    for entry in archive.entries().map_err(|e| ArchiveError::corrupt(&what, e))? {
        let mut entry = entry.map_err(|e| ArchiveError::corrupt(&what, e))?;
        let kind_type = entry.header().entry_type();
        if matches!(kind_type, EntryType::XGlobalHeader) {
            continue; // pax global metadata, not a file
        }
        let name = String::from_utf8(entry.path_bytes().into_owned())
            .map_err(|_| ArchiveError::corrupt(&what, "entry name is not UTF-8"))?;
        let link = entry.link_name_bytes().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
        let declared = entry.header().size().ok();
        let kind = match kind_type {
            EntryType::Regular | EntryType::Continuous => EntryKind::File,
            EntryType::Directory => EntryKind::Directory,
            EntryType::Symlink => EntryKind::Symlink(&link),
            EntryType::Link => EntryKind::Hardlink(&link),
            EntryType::Char => EntryKind::CharDevice,
            EntryType::Block => EntryKind::BlockDevice,
            EntryType::Fifo => EntryKind::Fifo,
            _ => EntryKind::Other,
        };
        let path = sink.admit(&mut ledger, &name, kind)?;
        match kind {
            EntryKind::Directory => sink.dir(&path)?,
            EntryKind::Symlink(t) => sink.symlink(&path, t)?,
            _ => sink.file(&path, &mut entry, declared.unwrap_or(0), declared)?,
        }
    }
    Ok(())
}

/// A lone `.gz`/`.xz`/`.zst`/`.bz2`: one entry named after the file without its suffix.
pub(crate) fn extract_single(path: &Path, codec: Codec, sink: &mut Sink<'_, '_>) -> Result<(), ArchiveError> {
    let what = path.display().to_string();
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = match file_name.rsplit_once('.') {
        Some((s, ext)) if matches!(ext, "gz" | "xz" | "zst" | "bz2" | "gzip" | "zstd") && !s.is_empty() => {
            s.to_string()
        }
        _ => format!("{file_name}.out"),
    };
    let compressed = std::fs::metadata(path).map_err(|e| ArchiveError::io(format!("reading {what}"), e))?.len();
    let file = std::fs::File::open(path).map_err(|e| ArchiveError::io(format!("opening {what}"), e))?;
    let mut reader = decoder(codec, BufReader::new(file)).map_err(|e| ArchiveError::corrupt(&what, e))?;
    let mut ledger = EntryLedger::default();
    let entry = sink.admit(&mut ledger, &stem, EntryKind::File)?;
    sink.file(&entry, &mut reader, compressed, None)
}
