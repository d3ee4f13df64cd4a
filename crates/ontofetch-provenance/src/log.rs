//! The mirror's transparency log in the C2SP formats, computed and checked with the
//! `tlog_tiles` crate (a port of Go's `golang.org/x/mod/sumdb/tlog`): an append-only
//! RFC 6962 Merkle tree whose entries are attestation envelopes exactly as stored, laid out
//! as c2sp.org/tlog-tiles (`tile/<L>/<N>[.p/<W>]` hash tiles of height 8 and
//! `tile/entries/<N>[.p/<W>]` entry bundles), and published as a c2sp.org/tlog-checkpoint
//! signed note whose origin is the signing key's name. Everything here is pure: where the
//! tiles live (a store, a server) is the caller's.

use crate::ProvenanceError;
use crate::keys::{SigningKey, VerifierKey};
use signed_note::{Note, VerifierList};
use std::collections::HashMap;
pub use tlog_tiles::{Checkpoint, Hash, Tile};
use tlog_tiles::{HashReader, TileHashReader, TileReader};

/// Tile height of c2sp.org/tlog-tiles: 256 hashes (or entries) a full tile.
pub const HEIGHT: u8 = 8;

/// Entries a full tile holds.
pub const WIDTH: u64 = 1 << HEIGHT;

/// The largest entry an entry bundle can hold (its length is a big-endian `uint16`).
pub const MAX_ENTRY: usize = u16::MAX as usize;

fn inconsistent(message: impl Into<String>) -> ProvenanceError {
    ProvenanceError::Inconsistent(message.into())
}

fn malformed(e: impl std::fmt::Display) -> ProvenanceError {
    ProvenanceError::Format(format!("the log: {e}"))
}

/// The RFC 6962 leaf hash of an entry: SHA-256(0x00 || entry).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    tlog_tiles::record_hash(entry)
}

/// A tile's path under the log's prefix, as c2sp.org/tlog-tiles lays it out (the crate
/// writes Go sumdb's `tile/<H>/<L>/…`; tlog-tiles has no height and calls data `entries`).
pub fn tile_path(tile: &Tile) -> String {
    let sumdb = tile.path();
    let rest = sumdb.strip_prefix(&format!("tile/{}/", tile.height())).unwrap_or(&sumdb);
    match rest.strip_prefix("data/") {
        Some(n) => format!("tile/entries/{n}"),
        None => format!("tile/{rest}"),
    }
}

/// The tile a c2sp.org/tlog-tiles path names, or `None` for any other path (the server's
/// router: a path that is not exactly a tile's is never looked up). Parsed here, not by
/// `Tile::from_path`, which panics on some malformed paths (a width of 0).
pub fn parse_tile_path(path: &str) -> Option<Tile> {
    let rest = path.strip_prefix("tile/")?;
    let (level, rest) = rest.split_once('/')?;
    let (level, is_data) = match level {
        "entries" => (0, true),
        l if !l.is_empty() && l.len() <= 2 && l.bytes().all(|b| b.is_ascii_digit()) => (l.parse::<u8>().ok()?, false),
        _ => return None,
    };
    let (index, width) = match rest.split_once(".p/") {
        Some((index, w)) if !w.is_empty() && w.len() <= 3 && w.bytes().all(|b| b.is_ascii_digit()) => {
            (index, w.parse::<u32>().ok()?)
        }
        Some(_) => return None,
        None => (rest, WIDTH as u32),
    };
    if level > 63 || width == 0 || u64::from(width) > WIDTH {
        return None;
    }
    let mut n: u64 = 0;
    for part in index.split('/') {
        let digits = part.strip_prefix('x').unwrap_or(part);
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        n = n.checked_mul(1000)?.checked_add(digits.parse::<u64>().ok()?)?;
    }
    let mut tile = Tile::new(HEIGHT, level, n, width, false);
    if is_data {
        tile.set_is_data();
    }
    (tile_path(&tile) == path).then_some(tile)
}

/// Whether a tile is full (immutable: it may be cached for ever).
pub fn is_full(tile: &Tile) -> bool {
    u64::from(tile.width()) == WIDTH
}

/// The log's tree, every stored hash in memory (a mirror's log is thousands of entries,
/// a few hundred KiB of hashes).
#[derive(Debug, Clone, Default)]
pub struct Tree {
    stored: Vec<Hash>,
    size: u64,
}

struct Stored<'a>(&'a [Hash]);

impl HashReader for Stored<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        indexes.iter().map(|&i| self.0.get(i as usize).copied().ok_or(tlog_tiles::Error::IndexesNotInTree)).collect()
    }
}

impl Tree {
    /// The tree of these entries, in order.
    pub fn of<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Result<Tree, ProvenanceError> {
        let mut tree = Tree::default();
        for e in entries {
            tree.push_hash(leaf_hash(e))?;
        }
        Ok(tree)
    }

    /// Appends an entry given its leaf hash.
    pub fn push_hash(&mut self, leaf: Hash) -> Result<(), ProvenanceError> {
        let new =
            tlog_tiles::stored_hashes_for_record_hash(self.size, leaf, &Stored(&self.stored)).map_err(malformed)?;
        self.stored.extend(new);
        self.size += 1;
        Ok(())
    }

    /// How many entries.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root hash (RFC 6962's for the empty tree too).
    pub fn root(&self) -> Result<Hash, ProvenanceError> {
        tlog_tiles::tree_hash(self.size, &Stored(&self.stored)).map_err(malformed)
    }

    /// The hash tiles to publish when the tree grew from `old` entries to this size (every
    /// tile that changed, partial ones included), with their data.
    pub fn tiles_since(&self, old: u64) -> Result<Vec<(Tile, Vec<u8>)>, ProvenanceError> {
        if self.size == 0 {
            return Ok(Vec::new());
        }
        Tile::new_tiles(HEIGHT, old.min(self.size), self.size)
            .into_iter()
            .map(|t| Ok((t, t.read_data(&Stored(&self.stored)).map_err(malformed)?)))
            .collect()
    }

    /// A checkpoint of this tree, signed by `key` (its origin is the key's name).
    pub fn checkpoint(&self, key: &SigningKey) -> Result<Vec<u8>, ProvenanceError> {
        sign_checkpoint(key, self.size, self.root()?)
    }
}

/// The entry bundles (data tiles) holding entries `old..` of `entries` (the whole log, in
/// order): every bundle that changed, partial ones included.
pub fn bundles_since(entries: &[&[u8]], old: u64) -> Result<Vec<(Tile, Vec<u8>)>, ProvenanceError> {
    let size = entries.len() as u64;
    if size == 0 {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for tile in Tile::new_tiles(HEIGHT, old.min(size), size).into_iter().filter(|t| t.level() == 0) {
        let start = tile.level_index() * WIDTH;
        let end = start + u64::from(tile.width());
        let bundle = bundle(&entries[start as usize..end as usize])?;
        let mut data = tile;
        data.set_is_data();
        out.push((data, bundle));
    }
    Ok(out)
}

/// The entry bundles of a log of `size` entries from entry `from` on: each bundle's first
/// index and its data tile (the last one partial), as a checkpoint of that size covers them.
pub fn bundles_of(from: u64, size: u64) -> impl Iterator<Item = (u64, Tile)> {
    let first = from - from % WIDTH;
    (first..size).step_by(WIDTH as usize).map(move |start| {
        let mut tile = Tile::new(HEIGHT, 0, start / WIDTH, (size - start).min(WIDTH) as u32, false);
        tile.set_is_data();
        (start, tile)
    })
}

/// An entry bundle: each entry as a big-endian `uint16` length and its bytes.
pub fn bundle(entries: &[&[u8]]) -> Result<Vec<u8>, ProvenanceError> {
    let mut out = Vec::new();
    for e in entries {
        let len = u16::try_from(e.len()).map_err(|_| {
            ProvenanceError::Format(format!(
                "a log entry of {} bytes does not fit an entry bundle (at most {MAX_ENTRY})",
                e.len()
            ))
        })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// The entries of a bundle.
pub fn unbundle(mut bytes: &[u8]) -> Result<Vec<Vec<u8>>, ProvenanceError> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (len, rest) = bytes.split_at_checked(2).ok_or_else(|| malformed("an entry bundle ends inside a length"))?;
        let len = u16::from_be_bytes([len[0], len[1]]) as usize;
        let (entry, rest) =
            rest.split_at_checked(len).ok_or_else(|| malformed("an entry bundle ends inside an entry"))?;
        out.push(entry.to_vec());
        bytes = rest;
    }
    Ok(out)
}

/// A c2sp.org/tlog-checkpoint of a tree of `size` entries with root `root`, as a signed
/// note by `key`.
pub fn sign_checkpoint(key: &SigningKey, size: u64, root: Hash) -> Result<Vec<u8>, ProvenanceError> {
    let checkpoint = Checkpoint::new(key.verifier().name(), size, root, "").map_err(malformed)?;
    let mut note = Note::new(&checkpoint.to_bytes(), &[]).map_err(malformed)?;
    note.add_sigs(&[key.signer()]).map_err(|e| ProvenanceError::Signature(format!("signing the checkpoint: {e}")))?;
    Ok(note.to_bytes())
}

/// The checkpoint a signed note carries, once a signature by `key` verifies and its
/// origin is the key's name.
pub fn open_checkpoint(note: &[u8], key: &VerifierKey) -> Result<Checkpoint, ProvenanceError> {
    let note = Note::from_bytes(note)
        .map_err(|e| ProvenanceError::Format(format!("the checkpoint is not a signed note: {e}")))?;
    let known = VerifierList::new(vec![Box::new(key.note_verifier())]);
    note.verify(&known).map_err(|e| {
        ProvenanceError::Signature(format!("the checkpoint is not signed by the trusted key {}: {e}", key.key_id()))
    })?;
    let checkpoint = Checkpoint::from_bytes(note.text()).map_err(malformed)?;
    if checkpoint.origin() != key.name() {
        return Err(ProvenanceError::Signature(format!(
            "the checkpoint is of the log {:?}, not {:?}",
            checkpoint.origin(),
            key.name()
        )));
    }
    Ok(checkpoint)
}

/// Tiles fetched from wherever the log is published, by c2sp.org/tlog-tiles path. A tile
/// asked for at a width it was never published at is read from a wider one (a partial
/// tile may be gone once its full tile exists).
#[derive(Debug, Default)]
pub struct Tiles {
    data: HashMap<String, Vec<u8>>,
}

impl Tiles {
    /// Tiles by path.
    pub fn new(data: HashMap<String, Vec<u8>>) -> Tiles {
        Tiles { data }
    }

    /// The paths of the hash tiles a tree of `size` entries consists of: what to fetch so
    /// that any proof under a checkpoint of that size can be made.
    pub fn needed(size: u64) -> Vec<String> {
        if size == 0 {
            return Vec::new();
        }
        Tile::new_tiles(HEIGHT, 0, size).iter().map(tile_path).collect()
    }

    fn find(&self, tile: &Tile) -> Option<Vec<u8>> {
        let want = tile.width() as usize * tlog_tiles::HASH_SIZE;
        if let Some(d) = self.data.get(&tile_path(tile)) {
            return (d.len() >= want).then(|| d[..want].to_vec());
        }
        // Any wider publication of the same tile holds it as a prefix.
        (tile.width() + 1..=WIDTH as u32).find_map(|w| {
            let wider = Tile::new(tile.height(), tile.level(), tile.level_index(), w, false);
            let d = self.data.get(&tile_path(&wider))?;
            (d.len() >= want).then(|| d[..want].to_vec())
        })
    }
}

impl TileReader for Tiles {
    fn height(&self) -> u8 {
        HEIGHT
    }

    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        tiles.iter().map(|t| self.find(t).ok_or(tlog_tiles::Error::InvalidTile)).collect()
    }

    fn save_tiles(&self, _tiles: &[Tile], _data: &[Vec<u8>]) {}
}

/// Proves that `entry` is entry `index` of the tree `checkpoint` names, from its tiles
/// (which are themselves checked against the checkpoint's root).
pub fn check_inclusion(
    checkpoint: &Checkpoint,
    tiles: &Tiles,
    index: u64,
    entry: &[u8],
) -> Result<(), ProvenanceError> {
    if index >= checkpoint.size() {
        return Err(inconsistent(format!(
            "entry {index} is not under the checkpoint (its log has {} entries)",
            checkpoint.size()
        )));
    }
    let reader = TileHashReader::new(checkpoint.size(), *checkpoint.hash(), tiles);
    let proof = tlog_tiles::prove_record(checkpoint.size(), index, &reader)
        .map_err(|e| inconsistent(format!("no inclusion proof of entry {index} from the log's tiles: {e}")))?;
    tlog_tiles::check_record(&proof, checkpoint.size(), *checkpoint.hash(), index, leaf_hash(entry))
        .map_err(|e| inconsistent(format!("entry {index} is not the attestation the log holds there: {e}")))
}

/// Proves that the tree of `new` extends the tree of `old` (the log only grew), from the
/// tiles of `new`'s tree. A smaller tree than one seen before is a rollback; the same size
/// with another root is a fork.
pub fn check_consistency(old: &Checkpoint, new: &Checkpoint, tiles: &Tiles) -> Result<(), ProvenanceError> {
    if new.size() < old.size() {
        return Err(inconsistent(format!(
            "the log {} went back from {} entries to {}: a rollback",
            new.origin(),
            old.size(),
            new.size()
        )));
    }
    if new.size() == old.size() {
        return if new.hash() == old.hash() {
            Ok(())
        } else {
            Err(inconsistent(format!(
                "the log {} has two different trees of {} entries: a forked history",
                new.origin(),
                new.size()
            )))
        };
    }
    if old.size() == 0 {
        return Ok(());
    }
    let reader = TileHashReader::new(new.size(), *new.hash(), tiles);
    let proof = tlog_tiles::prove_tree(new.size(), old.size(), &reader)
        .map_err(|e| inconsistent(format!("no consistency proof from the log's tiles: {e}")))?;
    tlog_tiles::check_tree(&proof, new.size(), *new.hash(), old.size(), *old.hash()).map_err(|e| {
        inconsistent(format!(
            "the log {} of {} entries does not extend the one of {} seen before: its history was rewritten ({e})",
            new.origin(),
            new.size(),
            old.size()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ontofetch_policy::Coded;

    fn entries(n: usize, tag: &str) -> Vec<Vec<u8>> {
        (0..n).map(|i| format!("{{\"entry\":{i},\"tag\":\"{tag}\"}}").into_bytes()).collect()
    }

    fn publish(tree: &Tree, all: &[Vec<u8>], old: u64, into: &mut HashMap<String, Vec<u8>>) {
        for (t, d) in tree.tiles_since(old).unwrap() {
            into.insert(tile_path(&t), d);
        }
        let refs: Vec<&[u8]> = all.iter().map(Vec::as_slice).collect();
        for (t, d) in bundles_since(&refs, old).unwrap() {
            into.insert(tile_path(&t), d);
        }
    }

    /// Paths are tlog-tiles' (no height, `entries` for data), and only exact tile paths parse.
    #[test]
    fn tile_paths_are_tlog_tiles_paths() {
        let t = Tile::new(HEIGHT, 0, 1234, 256, false);
        assert_eq!(tile_path(&t), "tile/0/x001/234");
        let p = Tile::new(HEIGHT, 1, 5, 17, false);
        assert_eq!(tile_path(&p), "tile/1/005.p/17");
        let mut d = Tile::new(HEIGHT, 0, 0, 3, false);
        d.set_is_data();
        assert_eq!(tile_path(&d), "tile/entries/000.p/3");
        for path in ["tile/0/x001/234", "tile/1/005.p/17", "tile/entries/000.p/3"] {
            assert_eq!(tile_path(&parse_tile_path(path).unwrap()), path);
        }
        for bad in [
            "tile/8/0/000",
            "tile/0/1234",
            "tile/0/000.p/256",
            "tile/0/../000",
            "tile/entries/000.p/0",
            "x/0/000",
            "tile/64/000",
            "tile/0/x000/001",
            "tile/0/000.p/",
        ] {
            assert!(parse_tile_path(bad).is_none(), "{bad}");
        }
    }

    /// Bundles round-trip; a truncated one is refused.
    #[test]
    fn bundles_round_trip() {
        let e = entries(3, "a");
        let refs: Vec<&[u8]> = e.iter().map(Vec::as_slice).collect();
        let b = bundle(&refs).unwrap();
        assert_eq!(unbundle(&b).unwrap(), e);
        assert!(unbundle(&b[..b.len() - 1]).is_err());
        assert!(bundle(&[&vec![0u8; MAX_ENTRY + 1]]).is_err());
    }

    /// A log grown over several publications proves every entry's inclusion and its own
    /// growth from its tiles; another entry, a rollback and a fork are refused.
    #[test]
    fn inclusion_and_consistency_hold_and_rewrites_are_refused() {
        let key = SigningKey::generate("mirror.example.org/log").unwrap();
        let all = entries(600, "a");
        let mut tree = Tree::default();
        let mut published = HashMap::new();
        let mut notes = Vec::new();
        for cut in [1usize, 5, 256, 257, 513, 600] {
            let old = tree.size();
            for e in &all[old as usize..cut] {
                tree.push_hash(leaf_hash(e)).unwrap();
            }
            publish(&tree, &all[..cut], old, &mut published);
            notes.push(tree.checkpoint(&key).unwrap());
        }
        let tiles = Tiles::new(published.clone());
        let last = open_checkpoint(notes.last().unwrap(), key.verifier()).unwrap();
        assert_eq!(last.size(), 600);
        assert_eq!(last.hash(), &Tree::of(all.iter().map(Vec::as_slice)).unwrap().root().unwrap());
        for i in [0u64, 1, 255, 256, 300, 599] {
            check_inclusion(&last, &tiles, i, &all[i as usize]).unwrap();
        }
        assert!(check_inclusion(&last, &tiles, 3, &all[4]).is_err(), "another entry");
        assert!(check_inclusion(&last, &tiles, 600, &all[0]).is_err(), "beyond the tree");
        // Every earlier checkpoint is consistent with every later one, from the last tiles.
        for (i, a) in notes.iter().enumerate() {
            let a = open_checkpoint(a, key.verifier()).unwrap();
            for b in &notes[i..] {
                let b = open_checkpoint(b, key.verifier()).unwrap();
                check_consistency(&a, &b, &tiles).unwrap();
            }
        }
        let first = open_checkpoint(&notes[2], key.verifier()).unwrap();
        let rollback = check_consistency(&last, &first, &tiles).unwrap_err();
        assert!(rollback.to_string().contains("rollback"), "{rollback}");
        // A forked history: the same first entries but one rewritten.
        let mut forked = all.clone();
        forked[10] = b"rewritten".to_vec();
        let fork_tree = Tree::of(forked.iter().map(Vec::as_slice)).unwrap();
        let mut fork_tiles = HashMap::new();
        publish(&fork_tree, &forked, 0, &mut fork_tiles);
        let fork = open_checkpoint(&fork_tree.checkpoint(&key).unwrap(), key.verifier()).unwrap();
        let e = check_consistency(&last, &fork, &Tiles::new(fork_tiles.clone())).unwrap_err();
        assert!(e.to_string().contains("forked"), "{e}");
        let small = Tree::of(forked[..300].iter().map(Vec::as_slice)).unwrap();
        let small = open_checkpoint(&small.checkpoint(&key).unwrap(), key.verifier()).unwrap();
        let e = check_consistency(&first, &fork, &Tiles::new(fork_tiles)).unwrap_err();
        assert!(e.to_string().contains("rewritten"), "{e}");
        assert!(check_consistency(&small, &last, &tiles).is_err(), "a rewritten prefix");
        assert_eq!(e.code(), ontofetch_policy::Code::LogInconsistent);
        // Entry bundles hold the entries exactly.
        let bundle0 = published.get("tile/entries/000").unwrap();
        assert_eq!(unbundle(bundle0).unwrap(), all[..256].to_vec());
        assert_eq!(unbundle(published.get("tile/entries/002.p/88").unwrap()).unwrap(), all[512..].to_vec());
        let bundles: Vec<(u64, String)> = bundles_of(300, 600).map(|(s, t)| (s, tile_path(&t))).collect();
        assert_eq!(bundles, [(256, "tile/entries/001".to_string()), (512, "tile/entries/002.p/88".to_string())]);
    }

    /// A checkpoint by another key, of another origin, or edited, is refused.
    #[test]
    fn checkpoints_verify_only_under_their_key() {
        let key = SigningKey::generate("mirror.example.org/log").unwrap();
        let other = SigningKey::generate("mirror.example.org/log").unwrap();
        let tree = Tree::of([b"a".as_slice(), b"b"]).unwrap();
        let note = tree.checkpoint(&key).unwrap();
        let text = String::from_utf8(note.clone()).unwrap();
        assert!(text.starts_with("mirror.example.org/log\n2\n"), "{text}");
        assert!(text.contains("\n\n\u{2014} mirror.example.org/log "), "{text}");
        open_checkpoint(&note, key.verifier()).unwrap();
        assert!(open_checkpoint(&note, other.verifier()).is_err());
        let edited = text.replacen("\n2\n", "\n3\n", 1);
        assert!(open_checkpoint(edited.as_bytes(), key.verifier()).is_err());
        assert_eq!(open_checkpoint(&note, other.verifier()).unwrap_err().code(), ontofetch_policy::Code::Attestation);
    }
}
