//! Where entries go: a directory handle, create-new files, bytes counted and gated as they
//! are written.

use crate::writer::{Placement, Writer};
use crate::{ArchiveError, Budget, ExtractedFile};
use ontofetch_policy::Gates;
use ontofetch_policy::extraction::{EntryFacts, EntryKind, EntryLedger, ProducedFacts};
use ontofetch_policy::path::SafeRelPath;
use std::io::{Read, Write};

pub(crate) struct Sink<'a, 'g> {
    pub dir: &'a cap_std::fs::Dir,
    pub gates: &'a Gates<'g>,
    pub budget: &'a mut Budget,
    pub depth: u32,
    pub writer: Writer,
    /// Which thread writes the bytes.
    pub placement: Placement,
    pub archive_name: String,
}

impl Sink<'_, '_> {
    /// Runs the entry gate and records the entry in the ledger when allowed.
    pub fn admit(
        &mut self,
        ledger: &mut EntryLedger,
        name: &str,
        kind: EntryKind<'_>,
    ) -> Result<SafeRelPath, ArchiveError> {
        let facts = EntryFacts { name, kind, index: self.budget.entries, depth: self.depth };
        let path = self.gates.entry(ledger, &facts)?;
        self.budget.entries += 1;
        ledger.record(&path, kind);
        Ok(path)
    }

    /// Creates a directory entry.
    pub fn dir(&mut self, path: &SafeRelPath) -> Result<(), ArchiveError> {
        self.dir.create_dir_all(path.as_slash_path()).map_err(|e| ArchiveError::io(format!("creating {path}"), e))
    }

    /// Creates a symlink the gate allowed (only with `allow_internal_symlinks`, and only
    /// pointing inside the root).
    pub fn symlink(&mut self, path: &SafeRelPath, target: &str) -> Result<(), ArchiveError> {
        let rel = path.as_slash_path();
        if let Some((parent, _)) = rel.rsplit_once('/') {
            self.dir.create_dir_all(parent).map_err(|e| ArchiveError::io(format!("creating {parent}"), e))?;
        }
        self.dir.symlink(target, &rel).map_err(|e| ArchiveError::io(format!("linking {rel}"), e))
    }

    /// Streams one file entry, refusing it as soon as its bytes break a cap.
    pub fn file(
        &mut self,
        path: &SafeRelPath,
        reader: &mut dyn Read,
        entry_compressed: u64,
        declared: Option<u64>,
    ) -> Result<(), ArchiveError> {
        let rel = path.as_slash_path();
        if let Some((parent, _)) = rel.rsplit_once('/') {
            self.dir.create_dir_all(parent).map_err(|e| ArchiveError::io(format!("creating {parent}"), e))?;
        }
        let mut opts = cap_std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        let out = self.dir.open_with(&rel, &opts).map_err(|e| ArchiveError::io(format!("creating {rel}"), e))?;
        let mut out = Some(out.into_std());
        let writing = |e: std::io::Error| ArchiveError::io(format!("writing {rel}"), e);
        if self.placement == Placement::Hasher {
            self.writer.open(&rel, out.take()).map_err(writing)?;
        } else {
            self.writer.open(&rel, None).map_err(writing)?;
        }
        let mut written = 0u64;
        loop {
            let mut buf = self.writer.buffer();
            let n = match read_full(reader, &mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => return Err(ArchiveError::corrupt(format!("{} entry {rel}", self.archive_name), e)),
            };
            written += n as u64;
            self.budget.total += n as u64;
            // Gated before a byte of the chunk is written.
            self.gates.produced(&ProducedFacts {
                name: &rel,
                entry_bytes: written,
                entry_compressed,
                total_bytes: self.budget.total,
                archive_compressed: self.budget.compressed,
                declared,
            })?;
            if let Some(out) = out.as_mut() {
                out.write_all(&buf[..n]).map_err(writing)?;
            }
            self.writer.data(buf, n).map_err(writing)?;
        }
        self.writer.close(out).map_err(writing)
    }

    /// Waits for every file to be written and durable: the files, in archive order.
    pub fn finish(self) -> Result<Vec<ExtractedFile>, ArchiveError> {
        let what = self.archive_name.clone();
        let written = self.writer.finish().map_err(|e| ArchiveError::io(format!("extracting {what}"), e))?;
        Ok(written.into_iter().map(|(path, bytes, sha256)| ExtractedFile { path, bytes, sha256 }).collect())
    }
}

/// Reads until `buf` is full or the entry ends (decoders return short reads).
fn read_full(reader: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
