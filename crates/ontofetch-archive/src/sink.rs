//! Where entries go: a directory handle, create-new files, bytes counted and gated as they
//! are written.

use crate::{ArchiveError, Budget, ExtractedFile};
use ontofetch_policy::Gates;
use ontofetch_policy::extraction::{EntryFacts, EntryKind, EntryLedger, ProducedFacts};
use ontofetch_policy::path::SafeRelPath;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};

pub(crate) struct Sink<'a, 'g> {
    pub dir: &'a cap_std::fs::Dir,
    pub gates: &'a Gates<'g>,
    pub budget: &'a mut Budget,
    pub depth: u32,
    pub files: Vec<ExtractedFile>,
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
        let mut out = self.dir.open_with(&rel, &opts).map_err(|e| ArchiveError::io(format!("creating {rel}"), e))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut written = 0u64;
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ArchiveError::corrupt(format!("{} entry {rel}", self.archive_name), e)),
            };
            written += n as u64;
            self.budget.total += n as u64;
            self.gates.produced(&ProducedFacts {
                name: &rel,
                entry_bytes: written,
                entry_compressed,
                total_bytes: self.budget.total,
                archive_compressed: self.budget.compressed,
                declared,
            })?;
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(|e| ArchiveError::io(format!("writing {rel}"), e))?;
        }
        out.sync_all().map_err(|e| ArchiveError::io(format!("syncing {rel}"), e))?;
        self.files.push(ExtractedFile { path: rel, bytes: written, sha256: hex::encode(hasher.finalize()) });
        Ok(())
    }
}
