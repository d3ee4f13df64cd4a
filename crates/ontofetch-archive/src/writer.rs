//! Hashing, writing and syncing extracted files off the decompressing thread. The reader
//! thread decompresses, gates every byte and creates each file (through the directory
//! handle); this thread hashes and writes the bytes, and a third one makes each finished
//! file durable while the next ones are being written. On two cores that is the
//! difference between the sum of the three costs and the largest of them.

use std::fs::File;
use std::io::Write;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};

/// Bytes handed over at once.
pub const CHUNK: usize = 256 << 10;

enum Msg {
    Open(String, File),
    Data(Vec<u8>),
    Close,
}

/// A finished file: relative path, bytes, SHA-256.
pub type Written = (String, u64, String);

/// The writer of one archive's files.
pub struct Writer {
    tx: Option<SyncSender<Msg>>,
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

fn write_all(rx: Receiver<Msg>) -> std::io::Result<Vec<Written>> {
    let (sync_tx, sync_rx) = sync_channel::<File>(64);
    let syncer = std::thread::spawn(move || sync_all(sync_rx));
    let mut done = Vec::new();
    let mut current: Option<(String, File, Sha256, u64)> = None;
    let mut result = Ok(());
    for msg in rx {
        match (msg, current.as_mut()) {
            (Msg::Open(rel, file), _) => current = Some((rel, file, Sha256::new(), 0)),
            (Msg::Data(bytes), Some((rel, file, hasher, n))) => {
                hasher.update(&bytes);
                *n += bytes.len() as u64;
                if let Err(e) = file.write_all(&bytes) {
                    result = Err(std::io::Error::new(e.kind(), format!("writing {rel}: {e}")));
                    break;
                }
            }
            (Msg::Close, Some(_)) => {
                let (rel, file, hasher, n) = current.take().expect("matched Some");
                done.push((rel, n, hex::encode(hasher.finalize())));
                if sync_tx.send(file).is_err() {
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
    /// Starts the writing and syncing threads.
    pub fn start() -> Writer {
        let (tx, rx) = sync_channel::<Msg>(8);
        Writer { tx: Some(tx), thread: Some(std::thread::spawn(move || write_all(rx))) }
    }

    fn send(&self, msg: Msg) -> std::io::Result<()> {
        let tx = self.tx.as_ref().expect("sending before finish");
        tx.send(msg).map_err(|_| std::io::Error::other("the writing thread stopped"))
    }

    /// A new file; its bytes follow.
    pub fn open(&self, rel: &str, file: File) -> std::io::Result<()> {
        self.send(Msg::Open(rel.to_string(), file))
    }

    /// The next bytes of the open file.
    pub fn data(&self, bytes: Vec<u8>) -> std::io::Result<()> {
        self.send(Msg::Data(bytes))
    }

    /// The open file is complete.
    pub fn close(&self) -> std::io::Result<()> {
        self.send(Msg::Close)
    }

    /// Waits until every file is written and durable; what was written, in order.
    pub fn finish(mut self) -> std::io::Result<Vec<Written>> {
        drop(self.tx.take());
        let thread = self.thread.take().expect("finished once");
        thread.join().unwrap_or_else(|_| Err(std::io::Error::other("the writing thread panicked")))
    }
}

impl Drop for Writer {
    /// An abandoned extraction still waits for its threads, so nothing writes into a
    /// directory that is being removed.
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
