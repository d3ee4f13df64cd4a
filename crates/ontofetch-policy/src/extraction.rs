//! The extraction gate: one archive entry at a time (name, type, declared sizes, position),
//! the bytes it really produced, and the archive's layout (zip overlap / header agreement).
//!
//! The gate is pure: the archive reader keeps an [`EntryLedger`] of what it already let
//! through and hands it in as a fact; `record` is called only after an entry is allowed.

use crate::code::Code;
use crate::gate::{Gate, Refusal};
use crate::path::{SafeRelPath, normalize};
use crate::policy::{ExtractionPolicy, PathPolicy};
use std::collections::{HashMap, HashSet};

/// The type an archive header claims for an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind<'a> {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// A symbolic link to `target`.
    Symlink(&'a str),
    /// A hard link to `target`.
    Hardlink(&'a str),
    /// A character device.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// A named pipe.
    Fifo,
    /// A socket or any type the reader does not know.
    Other,
    /// Encrypted, or compressed with a method that is not enabled (the reason).
    Unsupported(&'a str),
}

/// Facts about one entry, as read from its header.
#[derive(Debug, Clone, Copy)]
pub struct EntryFacts<'a> {
    /// The raw entry name.
    pub name: &'a str,
    /// The claimed type.
    pub kind: EntryKind<'a>,
    /// 0-based index of this entry in the archive.
    pub index: u64,
    /// Nesting depth of the archive this entry is in (0 = the downloaded file).
    pub depth: u32,
}

/// What the reader already let through in this archive.
#[derive(Debug, Default, Clone)]
pub struct EntryLedger {
    exact: HashMap<String, bool>,
    folded: HashMap<String, String>,
    implied_dirs: HashSet<String>,
    /// Symlinks let through, with where they resolve (components under the root, every
    /// link along the way already substituted).
    symlinks: HashMap<String, Vec<String>>,
}

impl EntryLedger {
    /// Records an allowed entry so later duplicates, collisions and writes through links fail.
    pub fn record(&mut self, path: &SafeRelPath, kind: EntryKind<'_>) {
        let comps = path.components();
        for i in 1..comps.len() {
            let dir = comps[..i].join("/");
            self.folded.entry(dir.to_lowercase()).or_insert_with(|| dir.clone());
            self.implied_dirs.insert(dir);
        }
        let name = path.as_slash_path();
        let is_dir = matches!(kind, EntryKind::Directory);
        if let EntryKind::Symlink(target) = kind
            && let Some(resolved) = self.resolve_link(path, target)
        {
            self.symlinks.insert(name.clone(), resolved);
        }
        self.folded.insert(path.fold_key(), name.clone());
        self.exact.insert(name, is_dir);
    }
}

fn refuse(code: Code, message: String) -> Refusal {
    Refusal::new(Gate::Extraction, code, message)
}

impl EntryLedger {
    /// Where a link entry's target resolves, relative to the root: component by
    /// component from the entry's directory, substituting the links this archive already
    /// created (so a chain is followed as the filesystem would follow it); `None` when it
    /// leaves the root, is absolute, or loops.
    fn resolve_link(&self, entry: &SafeRelPath, target: &str) -> Option<Vec<String>> {
        if target.starts_with('/') || target.starts_with('\\') {
            return None;
        }
        let comps = entry.components();
        let mut stack: Vec<String> = comps[..comps.len() - 1].to_vec();
        let mut substitutions = 0;
        for part in target.split(['/', '\\']) {
            match part {
                "" | "." => {}
                ".." => {
                    stack.pop()?;
                }
                p => {
                    stack.push(p.to_string());
                    if let Some(resolved) = self.symlinks.get(&stack.join("/")) {
                        substitutions += 1;
                        if substitutions > 40 {
                            return None;
                        }
                        stack = resolved.clone();
                    }
                }
            }
        }
        Some(stack)
    }
}

/// Whether a link target resolves inside the root (and not onto the root itself).
fn link_stays_inside(paths: &PathPolicy, ledger: &EntryLedger, entry: &SafeRelPath, target: &str) -> bool {
    ledger
        .resolve_link(entry, target)
        .is_some_and(|stack| !stack.is_empty() && normalize(paths, &stack.join("/")).is_ok())
}

/// The extraction gate for one entry header. Returns the safe relative path to write.
pub fn check_entry(
    policy: &ExtractionPolicy,
    paths: &PathPolicy,
    ledger: &EntryLedger,
    facts: &EntryFacts<'_>,
) -> Result<SafeRelPath, Refusal> {
    if facts.depth > policy.max_nesting {
        return Err(refuse(
            Code::Nesting,
            format!("{:?} is nested {} archives deep (max {})", facts.name, facts.depth, policy.max_nesting),
        ));
    }
    if facts.index >= policy.max_entries {
        return Err(refuse(
            Code::EntryCount,
            format!("entry #{} ({:?}) exceeds max entries {}", facts.index + 1, facts.name, policy.max_entries),
        ));
    }
    let path = normalize(paths, facts.name).map_err(|(code, m)| refuse(code, m))?;
    match facts.kind {
        EntryKind::File | EntryKind::Directory => {}
        EntryKind::Symlink(target) => {
            if !policy.allow_internal_symlinks || !link_stays_inside(paths, ledger, &path, target) {
                return Err(refuse(
                    Code::Link,
                    format!("symlink {path} -> {target:?} refused (links are not extracted)"),
                ));
            }
        }
        EntryKind::Hardlink(target) => {
            return Err(refuse(Code::Link, format!("hardlink {path} -> {target:?} refused")));
        }
        EntryKind::Unsupported(why) => {
            return Err(refuse(Code::Unsupported, format!("{path}: {why}")));
        }
        EntryKind::CharDevice | EntryKind::BlockDevice | EntryKind::Fifo | EntryKind::Other => {
            return Err(refuse(
                Code::SpecialFile,
                format!("{path} is a {:?} entry; only files and directories are extracted", facts.kind),
            ));
        }
    }
    let comps = path.components();
    for i in 1..comps.len() {
        let prefix = comps[..i].join("/");
        if let Some(other) = ledger.folded.get(&prefix.to_lowercase())
            && other != &prefix
        {
            return Err(refuse(
                Code::CaseCollision,
                format!("directory {prefix} of {path} collides with {other} on case-insensitive filesystems"),
            ));
        }
        if ledger.symlinks.contains_key(&prefix) {
            return Err(refuse(Code::Link, format!("{path} would be written through symlink {prefix}")));
        }
        if ledger.exact.get(&prefix) == Some(&false) {
            return Err(refuse(Code::DuplicateEntry, format!("{path} would be written under file entry {prefix}")));
        }
    }
    let name = path.as_slash_path();
    let is_dir = matches!(facts.kind, EntryKind::Directory);
    let dir_seen = ledger.implied_dirs.contains(&name) || ledger.exact.get(&name) == Some(&true);
    if let Some(prev_is_dir) = ledger.exact.get(&name) {
        if !(is_dir && *prev_is_dir) {
            return Err(refuse(Code::DuplicateEntry, format!("{name} appears twice in the archive")));
        }
    } else if dir_seen && !is_dir {
        return Err(refuse(Code::DuplicateEntry, format!("{name} is both a directory and a file")));
    } else if let Some(other) = ledger.folded.get(&path.fold_key())
        && other != &name
    {
        return Err(refuse(
            Code::CaseCollision,
            format!("{name} collides with {other} on case-insensitive filesystems"),
        ));
    }
    Ok(path)
}

/// Bytes really produced so far, counted by the reader while streaming.
#[derive(Debug, Clone, Copy)]
pub struct ProducedFacts<'a> {
    /// The entry being written.
    pub name: &'a str,
    /// Bytes this entry produced so far.
    pub entry_bytes: u64,
    /// Compressed bytes this entry occupies in the archive.
    pub entry_compressed: u64,
    /// Bytes all entries produced so far.
    pub total_bytes: u64,
    /// Compressed bytes of the whole archive.
    pub archive_compressed: u64,
    /// The size the archive header declared for this entry, if any.
    pub declared: Option<u64>,
}

fn ratio(out: u64, input: u64) -> f64 {
    out as f64 / input.max(1) as f64
}

/// The extraction gate on produced bytes: per-entry and total caps, per-entry and overall
/// ratio. Called as bytes stream, so a bomb stops at the cap, never at its declared size.
pub fn check_produced(policy: &ExtractionPolicy, facts: &ProducedFacts<'_>) -> Result<(), Refusal> {
    if let Some(declared) = facts.declared
        && facts.entry_bytes > declared
    {
        return Err(refuse(
            Code::EntrySize,
            format!(
                "{} produced {} bytes but its header declared {declared} (size lie)",
                facts.name, facts.entry_bytes
            ),
        ));
    }
    if facts.entry_bytes > policy.max_entry_bytes {
        return Err(refuse(
            Code::EntrySize,
            format!("{} produced {} bytes (max {})", facts.name, facts.entry_bytes, policy.max_entry_bytes),
        ));
    }
    if facts.total_bytes > policy.max_total_bytes {
        return Err(refuse(
            Code::SizeLimit,
            format!("archive produced {} bytes in total (max {})", facts.total_bytes, policy.max_total_bytes),
        ));
    }
    let entry_ratio = ratio(facts.entry_bytes, facts.entry_compressed);
    if facts.entry_bytes >= policy.ratio_floor_bytes && entry_ratio > policy.max_ratio {
        return Err(refuse(
            Code::Ratio,
            format!("{} expands {entry_ratio:.0}:1 (max {}:1)", facts.name, policy.max_ratio),
        ));
    }
    let total_ratio = ratio(facts.total_bytes, facts.archive_compressed);
    if facts.total_bytes >= policy.ratio_floor_bytes && total_ratio > policy.max_ratio {
        return Err(refuse(
            Code::Ratio,
            format!("archive expands {total_ratio:.0}:1 overall (max {}:1)", policy.max_ratio),
        ));
    }
    Ok(())
}

/// Where one zip entry lives, from its central-directory record and its local header.
#[derive(Debug, Clone)]
pub struct ZipSpan<'a> {
    /// Name in the central directory.
    pub central_name: &'a str,
    /// Name in the local header.
    pub local_name: &'a str,
    /// Offset of the local header.
    pub header_start: u64,
    /// One past the last byte of the entry's compressed data.
    pub data_end: u64,
}

/// The extraction gate on a zip's layout (Fifield): local and central names agree, and no
/// two entries (nor an entry and the central directory) share bytes.
///
/// `declared_entries` is the end-of-central-directory record's count: readers that index
/// entries by name silently drop duplicates, so fewer listed records than declared means
/// two entries share a name.
pub fn check_zip_layout(
    spans: &[ZipSpan<'_>],
    central_dir_start: u64,
    declared_entries: Option<u64>,
) -> Result<(), Refusal> {
    if let Some(n) = declared_entries
        && n != spans.len() as u64
    {
        return Err(refuse(
            Code::DuplicateEntry,
            format!("the central directory declares {n} entries but only {} distinct names", spans.len()),
        ));
    }
    let mut sorted: Vec<&ZipSpan<'_>> = spans.iter().collect();
    sorted.sort_by_key(|s| s.header_start);
    for span in &sorted {
        if span.central_name != span.local_name {
            return Err(refuse(
                Code::Overlap,
                format!(
                    "local header name {:?} differs from central directory name {:?}",
                    span.local_name, span.central_name
                ),
            ));
        }
        if span.data_end < span.header_start || span.data_end > central_dir_start {
            return Err(refuse(Code::Overlap, format!("{:?} runs into the central directory", span.central_name)));
        }
    }
    for pair in sorted.windows(2) {
        if pair[1].header_start < pair[0].data_end {
            return Err(refuse(
                Code::Overlap,
                format!("{:?} overlaps {:?} (possible zip bomb)", pair[1].central_name, pair[0].central_name),
            ));
        }
    }
    Ok(())
}
