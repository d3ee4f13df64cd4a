//! Sorted, de-duplicated lines in bounded memory: the canonical form of a graph without
//! blank nodes is its sorted N-Triples, and a gigabyte of them does not fit in memory.
//! Lines are gathered into a buffer; a full buffer is sorted, de-duplicated and written to a
//! run file in a temporary directory (each parsing thread has its own [`RunWriter`]); the
//! runs are then merged (k-way, with a heap) into one stream that is hashed and written.
//! Written here rather than taken from a crate: the general external-sort crates serialise
//! items one by one, while this sorts raw byte lines in one arena and de-duplicates and
//! hashes during the merge.

use sha2::{Digest, Sha256};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// More runs than this are merged in several passes (bounded open files and buffers).
const MAX_FAN_IN: usize = 64;
/// Read buffer per run during the merge.
const MERGE_BUFFER: usize = 256 << 10;

/// The run files of one sort, in a directory of their own.
#[derive(Debug, Clone)]
pub struct Runs {
    dir: Arc<tempfile::TempDir>,
    next: Arc<AtomicUsize>,
    files: Arc<std::sync::Mutex<Vec<PathBuf>>>,
}

impl Runs {
    /// A fresh run directory under `parent` (staging, so nothing is left outside the data
    /// root and a killed worker's runs go with its staging).
    pub fn new(parent: &Path) -> std::io::Result<Runs> {
        let dir = tempfile::Builder::new().prefix(".sort-").tempdir_in(parent)?;
        Ok(Runs { dir: Arc::new(dir), next: Arc::default(), files: Arc::default() })
    }

    fn create(&self) -> std::io::Result<(PathBuf, BufWriter<File>)> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.path().join(format!("run-{n:06}"));
        let file = File::create(&path)?;
        Ok((path, BufWriter::with_capacity(1 << 20, file)))
    }

    /// Sorts and de-duplicates the lines of `arena` and writes them as one run.
    fn spill(&self, arena: &mut Arena) -> std::io::Result<()> {
        if arena.spans.is_empty() {
            return Ok(());
        }
        let bytes = &arena.bytes;
        let line = |&(start, len): &(u32, u32)| &bytes[start as usize..(start + len) as usize];
        arena.spans.sort_unstable_by(|a, b| line(a).cmp(line(b)));
        let (path, mut out) = self.create()?;
        let mut last: &[u8] = &[];
        for span in &arena.spans {
            let l = line(span);
            if l != last {
                out.write_all(l)?;
                last = l;
            }
        }
        out.flush()?;
        self.files.lock().expect("run list").push(path);
        arena.bytes.clear();
        arena.spans.clear();
        Ok(())
    }

    /// Merges every run into one sorted, de-duplicated stream: each line goes to `out` and
    /// into the returned SHA-256, with the number of distinct lines.
    pub fn merge_into(self, out: &mut (dyn Write + Send)) -> std::io::Result<(String, u64)> {
        let mut files = std::mem::take(&mut *self.files.lock().expect("run list"));
        while files.len() > MAX_FAN_IN {
            let mut next = Vec::new();
            for group in files.chunks(MAX_FAN_IN) {
                let (path, mut w) = self.create()?;
                merge_to_file(group, &mut w)?;
                w.flush()?;
                for f in group {
                    let _ = std::fs::remove_file(f);
                }
                next.push(path);
            }
            files = next;
        }
        // The last merge hands 1 MiB batches to a thread that hashes and writes them: the
        // merge (heap, comparisons) and the output (SHA-256, the write) run side by side.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        std::thread::scope(|s| {
            let output = s.spawn(move || {
                let mut hasher = Sha256::new();
                for batch in rx {
                    hasher.update(&batch);
                    out.write_all(&batch)?;
                }
                Ok::<_, std::io::Error>(hex::encode(hasher.finalize()))
            });
            let mut count = 0u64;
            let mut batch = Vec::with_capacity(OUTPUT_BATCH + 4096);
            let merged = merge(&files, &mut batch, &mut |_| count += 1, &mut |full| {
                tx.send(std::mem::replace(full, Vec::with_capacity(OUTPUT_BATCH + 4096)))
                    .map_err(|_| std::io::Error::other("the output thread stopped"))
            });
            let last = tx.send(batch);
            drop(tx);
            let hash = output.join().unwrap_or_else(|_| Err(std::io::Error::other("the output thread panicked")));
            merged?;
            last.map_err(|_| std::io::Error::other("the output thread stopped"))?;
            Ok((hash?, count))
        })
    }
}

/// Output batches of about this many bytes go to the hashing and writing thread.
const OUTPUT_BATCH: usize = 1 << 20;

/// One line per run at a time, smallest first; equal lines are written once into `out`,
/// counted by `seen`, and `spill` is called whenever `out` holds a full batch.
fn merge(
    files: &[PathBuf],
    out: &mut Vec<u8>,
    seen: &mut dyn FnMut(&[u8]),
    spill: &mut dyn FnMut(&mut Vec<u8>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut readers = Vec::with_capacity(files.len());
    for f in files {
        readers.push(BufReader::with_capacity(MERGE_BUFFER, File::open(f)?));
    }
    let mut heap = BinaryHeap::with_capacity(readers.len());
    for (i, r) in readers.iter_mut().enumerate() {
        let mut line = Vec::new();
        if r.read_until(b'\n', &mut line)? > 0 {
            heap.push(Reverse((line, i)));
        }
    }
    let mut last: Vec<u8> = Vec::new();
    while let Some(Reverse((line, i))) = heap.pop() {
        if line != last {
            out.extend_from_slice(&line);
            seen(&line);
            last.clone_from(&line);
            if out.len() >= OUTPUT_BATCH {
                spill(out)?;
            }
        }
        let mut next = line;
        next.clear();
        if readers[i].read_until(b'\n', &mut next)? > 0 {
            heap.push(Reverse((next, i)));
        }
    }
    Ok(())
}

/// Merges runs into one file (an intermediate pass).
fn merge_to_file(files: &[PathBuf], w: &mut impl Write) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(OUTPUT_BATCH + 4096);
    merge(files, &mut buf, &mut |_| {}, &mut |full| {
        w.write_all(full)?;
        full.clear();
        Ok(())
    })?;
    w.write_all(&buf)
}

/// Lines side by side in one buffer (one allocation, not one per line).
#[derive(Default)]
struct Arena {
    bytes: Vec<u8>,
    spans: Vec<(u32, u32)>,
}

/// Gathers lines for one thread and spills a run whenever its share of memory is full.
pub struct RunWriter {
    runs: Runs,
    arena: Arena,
    budget: usize,
}

impl RunWriter {
    /// A writer that keeps at most about `budget` bytes of lines in memory (at most 4 GiB:
    /// offsets are 32-bit).
    pub fn new(runs: &Runs, budget: usize) -> RunWriter {
        RunWriter { runs: runs.clone(), arena: Arena::default(), budget: budget.clamp(1 << 10, u32::MAX as usize / 2) }
    }

    /// Adds one line (ending in `\n`). The arena is allocated once at its full size and
    /// spilled before it would grow: a doubling `Vec` would briefly hold its old and new
    /// buffers, half again over the budget, which the worker's address-space cap counts.
    pub fn push(&mut self, line: &[u8]) -> std::io::Result<()> {
        let a = &mut self.arena;
        if a.bytes.capacity() == 0 {
            a.bytes.reserve_exact(self.budget / 8 * 7);
            a.spans.reserve_exact(self.budget / 8 / std::mem::size_of::<(u32, u32)>());
        }
        let full = a.bytes.len() + line.len() > a.bytes.capacity() || a.spans.len() == a.spans.capacity();
        if full && !a.spans.is_empty() {
            self.runs.spill(&mut self.arena)?;
        }
        let a = &mut self.arena;
        let start = a.bytes.len();
        a.bytes.extend_from_slice(line);
        a.spans.push((start as u32, line.len() as u32));
        Ok(())
    }

    /// Writes what is left as a last run.
    pub fn finish(mut self) -> std::io::Result<()> {
        self.runs.spill(&mut self.arena)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_merge_sorted_and_deduplicated_whatever_the_budget() {
        let dir = tempfile::tempdir().unwrap();
        let lines: Vec<String> =
            (0..10_000).map(|i| format!("<s{}> <p> \"{}\" .\n", (i * 7919) % 1000, i % 3)).collect();
        let mut want: Vec<&str> = lines.iter().map(String::as_str).collect();
        want.sort();
        want.dedup();
        let mut hashes = Vec::new();
        for threads in [1, 3] {
            let runs = Runs::new(dir.path()).unwrap();
            let mut writers: Vec<RunWriter> = (0..threads).map(|_| RunWriter::new(&runs, 2000)).collect();
            for (i, l) in lines.iter().enumerate() {
                writers[i % threads].push(l.as_bytes()).unwrap();
            }
            for w in writers {
                w.finish().unwrap();
            }
            assert!(runs.files.lock().unwrap().len() > MAX_FAN_IN, "small budget: many runs, several merge passes");
            let mut out = Vec::new();
            let (hash, count) = runs.merge_into(&mut out).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), want.concat());
            assert_eq!(count, want.len() as u64);
            hashes.push(hash);
        }
        assert_eq!(hashes[0], hashes[1]);
        assert_eq!(hashes[0], hex::encode(Sha256::digest(want.concat().as_bytes())));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "run directories are removed");
    }
}
