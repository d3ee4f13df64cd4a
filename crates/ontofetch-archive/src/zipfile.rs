//! Zip: the central directory is cross-checked with every local header and checked for
//! overlapping entries (Fifield) before a single byte is extracted.

use crate::ArchiveError;
use crate::sink::Sink;
use ontofetch_policy::extraction::{EntryKind, EntryLedger, ZipSpan};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use zip::CompressionMethod;

const S_IFMT: u32 = 0o170000;

/// Reads the local file header at `offset`: (name, offset one past the header).
fn local_header(file: &mut std::fs::File, offset: u64) -> std::io::Result<(Vec<u8>, u64)> {
    let mut fixed = [0u8; 30];
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(&mut fixed)?;
    if fixed[..4] != [0x50, 0x4b, 0x03, 0x04] {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("no local header at offset {offset}"),
        ));
    }
    let name_len = u16::from_le_bytes([fixed[26], fixed[27]]) as u64;
    let extra_len = u16::from_le_bytes([fixed[28], fixed[29]]) as u64;
    let mut name = vec![0u8; name_len as usize];
    file.read_exact(&mut name)?;
    Ok((name, offset + 30 + name_len + extra_len))
}

/// The entry count of the end-of-central-directory record (`None` for zip64 or when the
/// record cannot be found; the reader then decides).
fn eocd_entries(file: &mut std::fs::File) -> std::io::Result<Option<u64>> {
    let len = file.seek(SeekFrom::End(0))?;
    let tail_len = len.min(22 + 65535);
    file.seek(SeekFrom::Start(len - tail_len))?;
    let mut tail = vec![0u8; tail_len as usize];
    file.read_exact(&mut tail)?;
    let Some(at) = tail.windows(4).rposition(|w| w == [0x50, 0x4b, 0x05, 0x06]) else { return Ok(None) };
    if at + 22 > tail.len() {
        return Ok(None);
    }
    let total = u16::from_le_bytes([tail[at + 10], tail[at + 11]]);
    Ok((total != 0xffff).then_some(total as u64))
}

/// Verifies the CRC-32 of everything read, so a damaged entry is an error, not a file.
struct CrcCheck<R> {
    inner: R,
    hasher: crc32fast::Hasher,
    expected: u32,
    what: String,
    verified: bool,
}

impl<R: Read> Read for CrcCheck<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.verified {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            let got = std::mem::take(&mut self.hasher).finalize();
            if got != self.expected {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: CRC-32 {got:08x} but the header says {:08x}", self.what, self.expected),
                ));
            }
            // Checked once; the end of the entry stays the end.
            self.verified = true;
        } else {
            self.hasher.update(&buf[..n]);
        }
        Ok(n)
    }
}

pub(crate) fn extract(path: &Path, sink: &mut Sink<'_, '_>) -> Result<(), ArchiveError> {
    let what = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| ArchiveError::io(format!("opening {what}"), e))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| ArchiveError::corrupt(&what, e))?;
    let mut raw = std::fs::File::open(path).map_err(|e| ArchiveError::io(format!("opening {what}"), e))?;

    let mut names = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let f = zip.by_index_raw(i).map_err(|e| ArchiveError::corrupt(&what, e))?;
        let central = String::from_utf8_lossy(f.name_raw()).into_owned();
        let (header_start, compressed) = (f.header_start(), f.compressed_size());
        drop(f);
        let (local, data_start) = local_header(&mut raw, header_start).map_err(|e| ArchiveError::corrupt(&what, e))?;
        names.push((
            central,
            String::from_utf8_lossy(&local).into_owned(),
            header_start,
            data_start.saturating_add(compressed),
        ));
    }
    let spans: Vec<ZipSpan<'_>> = names
        .iter()
        .map(|(c, l, s, e)| ZipSpan { central_name: c, local_name: l, header_start: *s, data_end: *e })
        .collect();
    let declared = eocd_entries(&mut raw).map_err(|e| ArchiveError::corrupt(&what, e))?;
    sink.gates.zip_layout(&spans, zip.central_directory_start(), declared)?;

    let mut ledger = EntryLedger::default();
    for i in 0..zip.len() {
        let (name, kind_bits, is_dir, encrypted, method, size, compressed) = {
            let f = zip.by_index_raw(i).map_err(|e| ArchiveError::corrupt(&what, e))?;
            let name = f.name().map_err(|e| ArchiveError::corrupt(&what, e))?.into_owned();
            (
                name,
                f.unix_mode().map(|m| m & S_IFMT),
                f.is_dir(),
                f.encrypted(),
                f.compression(),
                f.size(),
                f.compressed_size(),
            )
        };
        let mut target = String::new();
        let unsupported;
        let kind = if encrypted {
            EntryKind::Unsupported("encrypted entries are not extracted")
        } else if !matches!(method, CompressionMethod::Stored | CompressionMethod::Deflated) {
            unsupported = format!("compression method {method:?} is not enabled");
            EntryKind::Unsupported(&unsupported)
        } else if is_dir {
            EntryKind::Directory
        } else {
            match kind_bits {
                Some(0o120000) => {
                    let mut f = zip.by_index(i).map_err(|e| ArchiveError::corrupt(&what, e))?;
                    (&mut f).take(4096).read_to_string(&mut target).map_err(|e| ArchiveError::corrupt(&what, e))?;
                    EntryKind::Symlink(&target)
                }
                Some(0o020000) => EntryKind::CharDevice,
                Some(0o060000) => EntryKind::BlockDevice,
                Some(0o010000) => EntryKind::Fifo,
                Some(0o140000) => EntryKind::Other,
                _ => EntryKind::File,
            }
        };
        let path = sink.admit(&mut ledger, &name, kind)?;
        match kind {
            EntryKind::Directory => sink.dir(&path)?,
            EntryKind::Symlink(t) => sink.symlink(&path, t)?,
            _ => {
                // Decompress the raw stream ourselves: the gate, not the reader, decides
                // when an entry produced too much (the reader would stop at the declared size).
                let raw = zip.by_index_raw(i).map_err(|e| ArchiveError::corrupt(&what, e))?;
                let crc = raw.crc32();
                let body: Box<dyn Read> = match method {
                    CompressionMethod::Deflated => Box::new(flate2::read::DeflateDecoder::new(raw)),
                    _ => Box::new(raw),
                };
                let mut checked = CrcCheck {
                    inner: body,
                    hasher: crc32fast::Hasher::new(),
                    expected: crc,
                    what: format!("{what} entry {name}"),
                    verified: false,
                };
                sink.file(&path, &mut checked, compressed, Some(size))?;
            }
        }
    }
    Ok(())
}
