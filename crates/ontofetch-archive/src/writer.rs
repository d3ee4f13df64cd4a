//! Hashing, writing and syncing extracted files off the reading thread. The reader thread
//! decompresses, gates every byte and creates each file (through the directory handle);
//! this thread hashes the bytes, and a third one makes each finished file durable while the
//! next ones are being written. Who writes the bytes depends on what else the reader does:
//! decompressing is the largest cost of a compressed archive, so this thread writes them;
//! a plain tar's reader only copies, while SHA-256 is about half the CPU, so the reader
//! writes and this thread only hashes ([`Placement`]). Buffers go back to the reader once
//! hashed, so no chunk is allocated or zeroed twice. On two cores that is the difference
//! between the sum of the costs and the largest of them.

use std::fs::File;
use std::io::Write;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};

/// Bytes handed over at once.
pub const CHUNK: usize = 256 << 10;

/// Chunks in flight between the reader and the hasher (and kept for reuse).
const IN_FLIGHT: usize = 8;

/// Which thread writes the extracted bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// The reading thread (it has little else to do: a plain tar).
    Reader,
    /// The hashing thread (the reader decompresses).
    Hasher,
}

enum Msg {
    /// A new file, with its handle when this thread writes it.
    Open(String, Option<File>),
    /// A chunk of the open file and how much of it is data.
    Data(Vec<u8>, usize),
    /// The open file is complete, with its handle when the reader wrote it.
    Close(Option<File>),
}

/// A finished file: relative path, bytes, SHA-256.
pub type Written = (String, u64, String);

/// The hasher of one archive's files. (A second hashing thread, files handed out in turn,
/// measured the same on two cores: the reader and the syncer need the other core.)
pub struct Writer {
    tx: Option<SyncSender<Msg>>,
    spare: Receiver<Vec<u8>>,
    thread: Option<JoinHandle<std::io::Result<Vec<Written>>>>,
}

fn sync_all(rx: Receiver<File>) -> std::io::Result<()> {
    let mut first = Ok(());
    for f in rx {
        if let Err(e) = f.sync_all()
            && first.is_ok()
        {
            first = Err(e);
        }
    }
    first
}

fn hash_all(rx: Receiver<Msg>, spare: SyncSender<Vec<u8>>) -> std::io::Result<Vec<Written>> {
    let (sync_tx, sync_rx) = sync_channel::<File>(64);
    let syncer = std::thread::spawn(move || sync_all(sync_rx));
    let mut done = Vec::new();
    let mut current: Option<(String, Option<File>, Sha256, u64)> = None;
    let mut result = Ok(());
    for msg in rx {
        match (msg, current.as_mut()) {
            (Msg::Open(rel, file), _) => current = Some((rel, file, Sha256::new(), 0)),
            (Msg::Data(bytes, n), Some((rel, file, hasher, total))) => {
                hasher.update(&bytes[..n]);
                *total += n as u64;
                if let Some(f) = file
                    && let Err(e) = f.write_all(&bytes[..n])
                {
                    result = Err(std::io::Error::new(e.kind(), format!("writing {rel}: {e}")));
                    break;
                }
                // Back to the reader; dropped when it holds enough.
                let _ = spare.try_send(bytes);
            }
            (Msg::Close(written), Some(_)) => {
                let (rel, file, hasher, n) = current.take().expect("matched Some");
                done.push((rel, n, hex::encode(hasher.finalize())));
                if let Some(f) = file.or(written)
                    && sync_tx.send(f).is_err()
                {
                    break;
                }
            }
            _ => {}
        }
    }
    drop(sync_tx);
    let synced = syncer.join().unwrap_or_else(|_| Err(std::io::Error::other("the syncing thread panicked")));
    result.and(synced).map(|()| done)
}

impl Writer {
    /// Starts the hashing and syncing threads.
    pub fn start() -> Writer {
        let (tx, rx) = sync_channel::<Msg>(IN_FLIGHT);
        let (spare_tx, spare) = sync_channel::<Vec<u8>>(IN_FLIGHT + 2);
        Writer { tx: Some(tx), spare, thread: Some(std::thread::spawn(move || hash_all(rx, spare_tx))) }
    }

    fn send(&self, msg: Msg) -> std::io::Result<()> {
        let tx = self.tx.as_ref().expect("sending before finish");
        tx.send(msg).map_err(|_| std::io::Error::other("the hashing thread stopped"))
    }

    /// A buffer of [`CHUNK`] bytes to read the next chunk into: a hashed one back from the
    /// hasher, or a new one.
    pub fn buffer(&self) -> Vec<u8> {
        self.spare.try_recv().unwrap_or_else(|_| vec![0u8; CHUNK])
    }

    /// A new file; its bytes follow. `file` is given when this thread writes it
    /// ([`Placement::Hasher`]).
    pub fn open(&self, rel: &str, file: Option<File>) -> std::io::Result<()> {
        self.send(Msg::Open(rel.to_string(), file))
    }

    /// The next `n` bytes of the open file, in `buf` (already written by the reader under
    /// [`Placement::Reader`]).
    pub fn data(&self, buf: Vec<u8>, n: usize) -> std::io::Result<()> {
        self.send(Msg::Data(buf, n))
    }

    /// The open file is complete; `file` is the handle the reader wrote it through
    /// ([`Placement::Reader`]). It is made durable.
    pub fn close(&self, file: Option<File>) -> std::io::Result<()> {
        self.send(Msg::Close(file))
    }

    /// Waits until every file is written, hashed and durable; what was written, in order.
    pub fn finish(mut self) -> std::io::Result<Vec<Written>> {
        drop(self.tx.take());
        let thread = self.thread.take().expect("finished once");
        thread.join().unwrap_or_else(|_| Err(std::io::Error::other("the hashing thread panicked")))
    }
}

impl Drop for Writer {
    /// An abandoned extraction still waits for its threads, so nothing touches a directory
    /// that is being removed.
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
