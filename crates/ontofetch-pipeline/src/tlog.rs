//! The mirror's transparency log (docs/provenance.md, "The log"): every attestation the
//! catalog records is appended, in record order, to an append-only Merkle log kept in the
//! store as c2sp.org/tlog-tiles (`log/tile/…`) under a signed c2sp.org/tlog-checkpoint
//! (`log/checkpoint`). The catalog holds the order (`log_entries`: an index, once given,
//! is never reused or moved); the store holds what is published. One appender at a time
//! (the catalog's lease [`LOG_LEASE`], its fencing token checked where entries are appended
//! and again before the checkpoint is written); tiles and entry bundles are written before
//! the checkpoint that covers them, so a crash leaves only unpublished tiles, which the next
//! publication writes again, byte for byte.
//!
//! A consumer proves a version's attestation is in the log under a checkpoint signed by the
//! key it trusts, and that the log only grew since the last checkpoint it saw of that
//! origin (kept under the data root's `trust/`).

use crate::backends::Backends;
use crate::error::PipelineError;
use ontofetch_catalog::{LOG_LEASE, LogEntry};
use ontofetch_metrics::Metrics;
use ontofetch_policy::Code;
use ontofetch_provenance::log::{self, Checkpoint, Tiles, Tree};
use ontofetch_provenance::{SigningKey, VerifierKey};
use ontofetch_store::{StoreError, layout};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The checkpoint's key in the store.
pub fn checkpoint_key() -> String {
    format!("{}/checkpoint", layout::LOG)
}

/// A tile's key in the store.
pub fn tile_key(tile: &log::Tile) -> String {
    format!("{}/{}", layout::LOG, log::tile_path(tile))
}

/// How long a publication waits for another worker's.
const PATIENCE: Duration = Duration::from_secs(300);

fn inconsistent(message: impl Into<String>) -> PipelineError {
    PipelineError::new(Code::LogInconsistent, message)
}

/// What a publication did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Published {
    /// The log's origin (the signing key's name).
    pub origin: String,
    /// Entries under the checkpoint now.
    pub size: u64,
    /// Entries this publication appended.
    pub appended: u64,
    /// Entries restored into the catalog from the store's entry bundles (a catalog that
    /// lost its log: adopted or restored from an old backup).
    pub restored: u64,
    /// The tree's root hash, base64 (as the checkpoint has it).
    pub root: String,
}

/// The checkpoint the store holds, verified under `key`; `None` before the first one.
pub async fn stored_checkpoint(b: &Backends, key: &VerifierKey) -> Result<Option<Checkpoint>, PipelineError> {
    match b.store.read(&checkpoint_key()).await {
        Ok(note) => log::open_checkpoint(&note, key).map(Some).map_err(|e| {
            inconsistent(format!(
                "the store's log checkpoint does not verify under {}: {e} (was the signing key replaced?)",
                key.key_id()
            ))
        }),
        Err(StoreError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Where a log is read from: this mirror's store, a directory holding a copy, or another
/// mirror's `/log/` over HTTP (through the gates). Paths are the log's own (`checkpoint`,
/// `tile/0/000`).
#[async_trait::async_trait]
pub trait LogSource: Send + Sync {
    /// The file at `path`, `None` when it is not there.
    async fn get(&self, path: &str) -> Result<Option<Vec<u8>>, PipelineError>;
}

/// This mirror's published log.
pub struct StoreLog<'a>(pub &'a Backends);

#[async_trait::async_trait]
impl LogSource for StoreLog<'_> {
    async fn get(&self, path: &str) -> Result<Option<Vec<u8>>, PipelineError> {
        match self.0.store.read(&format!("{}/{path}", layout::LOG)).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

/// A log copied to a directory (the store's `log/` directory, or a download of one).
pub struct DirLog(pub PathBuf);

#[async_trait::async_trait]
impl LogSource for DirLog {
    async fn get(&self, path: &str) -> Result<Option<Vec<u8>>, PipelineError> {
        let file = self.0.join(path);
        match std::fs::read(&file) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(crate::error::io(format!("reading {}", file.display()))(e)),
        }
    }
}

/// Another mirror's log, at `base` (its `…/log`), over HTTP through the gates.
pub struct HttpLog<'a> {
    /// The client every request goes through.
    pub fetcher: &'a ontofetch_net::Fetcher,
    /// The log's URL, without the trailing slash.
    pub base: String,
}

/// What one file of a log may weigh: a tile is 8 KiB, a bundle at most 256 entries of 64 KiB.
const LOG_FILE_CAP: u64 = 17 << 20;

#[async_trait::async_trait]
impl LogSource for HttpLog<'_> {
    async fn get(&self, path: &str) -> Result<Option<Vec<u8>>, PipelineError> {
        let url = format!("{}/{path}", self.base);
        match self.fetcher.get_small(&url, "mirror", "*/*", LOG_FILE_CAP, None).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(ontofetch_net::NetError::Status { status: 404, .. }) => Ok(None),
            Err(e) => Err(PipelineError::from_coded(e)),
        }
    }
}

/// Every hash tile of a tree of `size` entries, from `src`.
pub async fn fetch_tiles(src: &dyn LogSource, size: u64) -> Result<Tiles, PipelineError> {
    let mut data = HashMap::new();
    for path in Tiles::needed(size) {
        if let Some(bytes) = src.get(&path).await? {
            data.insert(path, bytes);
        }
    }
    Ok(Tiles::new(data))
}

/// The index of `entry` (exact bytes) among the first `size` entries of the log at `src`,
/// found by reading its entry bundles.
pub async fn find_entry(src: &dyn LogSource, size: u64, entry: &[u8]) -> Result<Option<u64>, PipelineError> {
    for (start, tile) in log::bundles_of(0, size) {
        let path = log::tile_path(&tile);
        let Some(bytes) = src.get(&path).await? else {
            return Err(inconsistent(format!("the log's entry bundle {path} is missing")));
        };
        let entries = log::unbundle(&bytes).map_err(PipelineError::from_coded)?;
        if let Some(i) = entries.iter().position(|e| e == entry) {
            return Ok(Some(start + i as u64));
        }
    }
    Ok(None)
}

/// Proves `entry` is in the log at `src`, wherever its bundles hold it, under the log's
/// checkpoint signed by `key`, and that the log only grew since the last checkpoint
/// remembered in `trust_dir`.
pub async fn prove_in(
    src: &dyn LogSource,
    entry: &[u8],
    key: &VerifierKey,
    trust_dir: &Path,
) -> Result<Inclusion, PipelineError> {
    let note = src.get("checkpoint").await?.ok_or_else(|| {
        PipelineError::new(Code::Attestation, "the log has no checkpoint: nothing is published in it yet")
    })?;
    let size = log::open_checkpoint(&note, key).map_err(PipelineError::from_coded)?.size();
    let index = find_entry(src, size, entry).await?.ok_or_else(|| {
        inconsistent(format!("the attestation is not among the {size} entries of the log: it was never logged"))
    })?;
    prove_at(src, &note, size, index, entry, key, trust_dir).await
}

/// [`prove`] of entry `index` under `note` (a checkpoint of `size` entries), from the tiles
/// at `src`.
async fn prove_at(
    src: &dyn LogSource,
    note: &[u8],
    size: u64,
    index: u64,
    entry: &[u8],
    key: &VerifierKey,
    trust_dir: &Path,
) -> Result<Inclusion, PipelineError> {
    let tiles = fetch_tiles(src, size).await?;
    prove(note, &tiles, index, entry, key, trust_dir)
}

/// The entries `from..size` of the published log, from the store's entry bundles.
async fn stored_entries(b: &Backends, from: u64, size: u64) -> Result<Vec<Vec<u8>>, PipelineError> {
    let mut out = Vec::new();
    for (start, tile) in log::bundles_of(from, size) {
        let width = u64::from(tile.width());
        let key = tile_key(&tile);
        let bytes = b.store.read(&key).await.map_err(|e| {
            inconsistent(format!("the log's entry bundle {key} cannot be read ({e}): the published log is incomplete"))
        })?;
        let entries = log::unbundle(&bytes).map_err(PipelineError::from_coded)?;
        if entries.len() as u64 != width {
            return Err(inconsistent(format!(
                "the log's entry bundle {key} holds {} entries, not {width}",
                entries.len()
            )));
        }
        let skip = from.saturating_sub(start) as usize;
        out.extend(entries.into_iter().skip(skip));
    }
    Ok(out)
}

fn tree_of(entries: &[LogEntry]) -> Result<Tree, PipelineError> {
    Tree::of(entries.iter().map(|e| e.entry.as_bytes())).map_err(PipelineError::from_coded)
}

/// The catalog's entries the checkpoint covers but it lacks, restored from the store's
/// entry bundles once the bundles prove to be that tree (a lost or restored catalog):
/// without them, the next append would give published indexes to other entries.
async fn restore(
    b: &Backends,
    key: &VerifierKey,
    checkpoint: &Checkpoint,
    entries: &[LogEntry],
    token: u64,
) -> Result<u64, PipelineError> {
    let have = entries.len() as u64;
    let missing = stored_entries(b, have, checkpoint.size()).await?;
    let all = entries.iter().map(|e| e.entry.as_bytes().to_vec()).chain(missing.iter().cloned()).collect::<Vec<_>>();
    let tree = Tree::of(all.iter().map(Vec::as_slice)).map_err(PipelineError::from_coded)?;
    if tree.root().map_err(PipelineError::from_coded)? != *checkpoint.hash() {
        return Err(inconsistent(format!(
            "the catalog's log ({have} entries) and the store's entry bundles are not the tree of the store's \
             checkpoint ({} entries): nothing is appended over it",
            checkpoint.size()
        )));
    }
    let at = crate::now_rfc3339();
    let mut restored = Vec::new();
    for bytes in missing {
        let statement = crate::provenance::open(&bytes, key)?;
        let (id, version) = (statement.predicate.ontology, statement.predicate.version);
        let entry = String::from_utf8(bytes)
            .map_err(|_| inconsistent("an entry of the published log is not UTF-8 JSON: not an attestation of ours"))?;
        restored.push(LogEntry {
            index: 0,
            relpath: format!("{}/{}", layout::version_key(&id, &version), layout::ATTESTATION),
            sha256: ontofetch_fsutil::sha256_bytes(entry.as_bytes()),
            ontology: id,
            version,
            entry,
            logged_at: at.clone(),
        });
    }
    let n = restored.len() as u64;
    b.catalog.log_append(have, &restored, token).await?;
    tracing::warn!(entries = n, "restored the transparency log's entries the catalog had lost from the store");
    Ok(n)
}

/// Appends every attestation not in the log yet, then publishes the tiles, the entry
/// bundles and a checkpoint signed by `key`. Refuses (`E_LOG_INCONSISTENT`) to publish over
/// a checkpoint the catalog's log does not extend.
pub async fn publish(b: &Backends, key: &SigningKey, metrics: &Metrics) -> Result<Published, PipelineError> {
    let cat = &*b.catalog;
    let lease = cat.lease(LOG_LEASE, PATIENCE).await?.ok_or_else(|| {
        PipelineError::new(Code::Locked, format!("another worker has published the log for {} s", PATIENCE.as_secs()))
    })?;
    let token = lease.token();
    let published = stored_checkpoint(b, key.verifier()).await?;
    // Nothing waits and the checkpoint covers the whole log: current, nothing to read.
    if let Some(cp) = &published
        && cat.log_size().await? == cp.size()
        && cat.log_pending().await?.is_empty()
    {
        metrics.log_entries.set(cp.size() as i64);
        metrics.log_checkpoint_timestamp.set(crate::unix_now());
        let origin = key.verifier().name().to_string();
        return Ok(Published { origin, size: cp.size(), appended: 0, restored: 0, root: cp.hash().to_string() });
    }
    let mut entries = cat.log_entries(0).await?;
    let mut restored = 0;
    if let Some(cp) = &published {
        if cp.size() > entries.len() as u64 {
            restored = restore(b, key.verifier(), cp, &entries, token).await?;
            entries = cat.log_entries(0).await?;
        }
        let prefix = tree_of(&entries[..cp.size() as usize])?;
        if prefix.root().map_err(PipelineError::from_coded)? != *cp.hash() {
            return Err(inconsistent(format!(
                "the catalog's log does not extend the published checkpoint of {} entries: another log was \
                 published here, or the catalog's was rewritten; nothing is published over it",
                cp.size()
            )));
        }
    }
    let mut fresh = Vec::new();
    let logged_at = crate::now_rfc3339();
    for (id, version, file) in cat.log_pending().await? {
        let bytes = match b.store.read(&file.relpath).await {
            Ok(bytes) => bytes,
            // Pruned since, or lost: `doctor` reports a missing file; the log takes what exists.
            Err(StoreError::NotFound(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        if ontofetch_fsutil::sha256_bytes(&bytes) != file.sha256 {
            tracing::warn!(file = %file.relpath, "an attestation is not the recorded bytes: not logged (doctor --verify)");
            continue;
        }
        let Ok(entry) = String::from_utf8(bytes) else { continue };
        if entry.len() > log::MAX_ENTRY {
            return Err(PipelineError::new(
                Code::Attestation,
                format!("the attestation {} is over {} bytes: too large for the log", file.relpath, log::MAX_ENTRY),
            ));
        }
        fresh.push(LogEntry {
            index: 0,
            ontology: id,
            version,
            relpath: file.relpath,
            sha256: file.sha256,
            entry,
            logged_at: logged_at.clone(),
        });
    }
    let appended = fresh.len() as u64;
    if !fresh.is_empty() {
        cat.log_append(entries.len() as u64, &fresh, token).await?;
        entries = cat.log_entries(0).await?;
    }
    let tree = tree_of(&entries)?;
    let root = tree.root().map_err(PipelineError::from_coded)?;
    let origin = key.verifier().name().to_string();
    let done = Published { origin, size: tree.size(), appended, restored, root: root.to_string() };
    if published.as_ref().is_some_and(|cp| cp.size() == tree.size()) {
        // Nothing new: the published checkpoint is current (as of now).
        metrics.log_entries.set(tree.size() as i64);
        metrics.log_checkpoint_timestamp.set(crate::unix_now());
        return Ok(done);
    }
    // Tiles and bundles first: a checkpoint never covers what is not there yet.
    let old = published.as_ref().map_or(0, Checkpoint::size);
    for (tile, data) in tree.tiles_since(old).map_err(PipelineError::from_coded)? {
        b.store.write(&tile_key(&tile), &data).await?;
    }
    let refs: Vec<&[u8]> = entries.iter().map(|e| e.entry.as_bytes()).collect();
    for (tile, data) in log::bundles_since(&refs, old).map_err(PipelineError::from_coded)? {
        b.store.write(&tile_key(&tile), &data).await?;
    }
    // Still the log's appender: a worker that lost the lease never publishes a checkpoint.
    let current = cat.fence_token(LOG_LEASE).await?;
    if current != token {
        return Err(PipelineError::from_coded(ontofetch_catalog::CatalogError::Fenced {
            ontology: LOG_LEASE.to_string(),
            token,
            current,
        }));
    }
    let note = tree.checkpoint(key).map_err(PipelineError::from_coded)?;
    b.store.write(&checkpoint_key(), &note).await?;
    drop(lease);
    metrics.log_entries.set(tree.size() as i64);
    metrics.log_checkpoint_timestamp.set(crate::unix_now());
    tracing::info!(entries = tree.size(), appended, "published the transparency log's checkpoint");
    Ok(done)
}

/// After a run: publishes the log when the mirror signs (`None` when it has no key).
pub async fn publish_signed(p: &crate::Pipeline) -> Option<Result<Published, PipelineError>> {
    let key = p.signer.as_ref()?;
    Some(publish(&p.backends, key, &p.metrics).await)
}

/// Where `verify` keeps the last checkpoint it saw of `origin`.
pub fn remembered_path(trust_dir: &Path, origin: &str) -> PathBuf {
    trust_dir.join(format!("{}.checkpoint", &ontofetch_fsutil::sha256_bytes(origin.as_bytes())[..32]))
}

/// What proving an attestation's place in the log established.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Inclusion {
    /// The log's origin.
    pub origin: String,
    /// The entry's index.
    pub log_index: u64,
    /// Entries under the checkpoint it was proven under.
    pub checkpoint_size: u64,
    /// The checkpoint's root, base64.
    pub root: String,
    /// Entries of the checkpoint seen before, which this one was proven to extend (`None`
    /// the first time this origin is seen).
    pub consistent_with: Option<u64>,
}

/// Proves `entry` is entry `index` under `note` (a checkpoint `key` signed), from `tiles`,
/// and that the log only grew since the checkpoint last seen of its origin in `trust_dir`,
/// which is then replaced by this one when it is larger.
pub fn prove(
    note: &[u8],
    tiles: &Tiles,
    index: u64,
    entry: &[u8],
    key: &VerifierKey,
    trust_dir: &Path,
) -> Result<Inclusion, PipelineError> {
    let checkpoint = log::open_checkpoint(note, key).map_err(PipelineError::from_coded)?;
    let remembered = remembered_path(trust_dir, checkpoint.origin());
    let mut consistent_with = None;
    match std::fs::read(&remembered) {
        Ok(old) => {
            let old = log::open_checkpoint(&old, key).map_err(|e| {
                inconsistent(format!("the checkpoint remembered in {} does not verify: {e}", remembered.display()))
            })?;
            log::check_consistency(&old, &checkpoint, tiles).map_err(PipelineError::from_coded)?;
            consistent_with = Some(old.size());
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(crate::error::io(format!("reading {}", remembered.display()))(e)),
    }
    log::check_inclusion(&checkpoint, tiles, index, entry).map_err(PipelineError::from_coded)?;
    if consistent_with.is_none_or(|old| old < checkpoint.size()) {
        std::fs::create_dir_all(trust_dir).map_err(crate::error::io(format!("creating {}", trust_dir.display())))?;
        ontofetch_fsutil::write_atomic(&remembered, note)
            .map_err(crate::error::io(format!("writing {}", remembered.display())))?;
    }
    Ok(Inclusion {
        origin: checkpoint.origin().to_string(),
        log_index: index,
        checkpoint_size: checkpoint.size(),
        root: checkpoint.hash().to_string(),
        consistent_with,
    })
}

/// Proves stored version `id`/`version`'s attestation (`envelope`, as stored) is in this
/// mirror's published log.
pub async fn prove_version(
    b: &Backends,
    id: &str,
    version: &str,
    envelope: &[u8],
    key: &VerifierKey,
    trust_dir: &Path,
) -> Result<Inclusion, PipelineError> {
    let not_logged = || {
        PipelineError::new(
            Code::Attestation,
            format!(
                "{id}/{version}'s attestation is not in the mirror's transparency log yet: the next pull publishes \
                 it (or `ontofetch log publish`)"
            ),
        )
    };
    let index = b.catalog.log_index(id, version).await?.ok_or_else(not_logged)?;
    let src = StoreLog(b);
    let Some(note) = src.get("checkpoint").await? else { return Err(not_logged()) };
    let size = log::open_checkpoint(&note, key).map_err(PipelineError::from_coded)?.size();
    if index >= size {
        return Err(not_logged());
    }
    prove_at(&src, &note, size, index, envelope, key, trust_dir).await
}

/// What `doctor` found of the log (invariant I11, docs/architecture.md).
#[derive(Debug, Clone, Default)]
pub struct LogAudit {
    /// What does not hold.
    pub problems: Vec<String>,
    /// What is worth knowing (work a publication finishes by itself).
    pub notes: Vec<String>,
}

/// Checks the log: the checkpoint verifies under `key`; the catalog's entries have no gap
/// and are the bytes their digests say; the checkpoint's tree is the tree of the catalog's
/// first entries; with `deep`, the store's entry bundles hold exactly those entries and the
/// hash tiles prove every one of them under the checkpoint.
pub async fn audit(b: &Backends, key: &SigningKey, deep: bool) -> Result<LogAudit, PipelineError> {
    let mut found = LogAudit::default();
    let entries = b.catalog.log_entries(0).await?;
    for (i, e) in entries.iter().enumerate() {
        if e.index != i as u64 {
            found.problems.push(format!(
                "{}: the log's entries have a gap at {i} (entry {})",
                Code::LogInconsistent,
                e.index
            ));
            return Ok(found);
        }
        if ontofetch_fsutil::sha256_bytes(e.entry.as_bytes()) != e.sha256 {
            found.problems.push(format!("{}: log entry {i} is not the bytes its digest names", Code::LogInconsistent));
        }
    }
    let checkpoint = match stored_checkpoint(b, key.verifier()).await {
        Ok(c) => c,
        Err(e) => {
            found.problems.push(format!("{}: {}", e.code, e.message));
            return Ok(found);
        }
    };
    let size = checkpoint.as_ref().map_or(0, Checkpoint::size);
    let have = entries.len() as u64;
    if size > have {
        found.notes.push(format!(
            "the catalog holds {have} of the {size} log entries its checkpoint covers (a lost or restored catalog): the \
             next publication restores them from the store"
        ));
    } else if let Some(cp) = &checkpoint {
        let tree = tree_of(&entries[..size as usize])?;
        if tree.root().map_err(PipelineError::from_coded)? != *cp.hash() {
            found.problems.push(format!(
                "{}: the published checkpoint of {size} entries is not the tree of the catalog's first {size} entries",
                Code::LogInconsistent
            ));
            return Ok(found);
        }
    }
    if have > size {
        found.notes.push(format!(
            "{} log entries are appended but not under a checkpoint yet (an interrupted publication): the next pull, or \
             `ontofetch log publish`, publishes them",
            have - size
        ));
    }
    let pending = b.catalog.log_pending().await?.len();
    if pending > 0 {
        found.notes.push(format!("{pending} attestation(s) are not in the log yet: the next pull appends them"));
    }
    if let (true, Some(cp)) = (deep, &checkpoint) {
        let src = StoreLog(b);
        let published = stored_entries(b, 0, size).await?;
        let tiles = fetch_tiles(&src, size).await?;
        for (i, bytes) in published.iter().enumerate() {
            let catalog = entries.get(i).map(|e| e.entry.as_bytes());
            if catalog.is_some_and(|c| c != bytes.as_slice()) {
                found.problems.push(format!(
                    "{}: the store's entry bundle holds other bytes at {i} than the catalog's log",
                    Code::LogInconsistent
                ));
            }
            if let Err(e) = log::check_inclusion(cp, &tiles, i as u64, bytes) {
                found.problems.push(format!("{}: {e}", Code::LogInconsistent));
            }
        }
    }
    Ok(found)
}
