//! A fault-injecting HTTP/1.1 server bound to 127.0.0.1 for tests (docs/architecture.md, "Tests"): scripted
//! responses per path (drops mid-body, lying Content-Length, slow bodies, 429/503 with
//! Retry-After, redirects, ETag/304, Range/206), and a record of every request.
//! Plain std threads, one request per connection: small, deterministic, no internet.
//! [`archives`] generates good and malicious archives for the extraction tests.

#![warn(missing_docs)]
// Test support: a harness that cannot set up its fixture fails the test there and then.
#![allow(clippy::unwrap_used)]

pub mod archives;
pub mod cli;
pub mod dns;
pub mod fixtures;
pub mod local;
pub mod pg;
pub mod registries;
pub mod s3;
pub mod servers;

/// SHA-256 over every name and regular file under `dir`, never following a link (a link is
/// named, not read): a sentinel tree beside a data root must hash the same after every
/// command (docs/architecture.md, "Filesystem rule").
pub fn tree_digest(dir: &std::path::Path) -> String {
    let mut lines = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let Ok(t) = e.file_type() else { continue };
            let rel = e.path().strip_prefix(dir).map(|r| r.display().to_string()).unwrap_or_default();
            if t.is_dir() {
                lines.push(format!("{rel}/"));
                stack.push(e.path());
            } else if t.is_file() {
                let sha = ontofetch_fsutil::sha256_file(&e.path()).unwrap_or_default();
                lines.push(format!("{rel} {sha}"));
            } else {
                lines.push(format!("{rel} -> link"));
            }
        }
    }
    lines.sort();
    ontofetch_fsutil::sha256_bytes(lines.join("\n").as_bytes())
}

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How a response misbehaves.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Fault {
    /// Behaves.
    #[default]
    None,
    /// Sends the headers and this many body bytes, then closes the connection.
    DropAfter(usize),
    /// Declares this Content-Length but sends the real body (short or long lie).
    LieLength(u64),
    /// Sends the body in chunks of `chunk` bytes with `delay` between them.
    Slow {
        /// Bytes per write.
        chunk: usize,
        /// Pause between writes.
        delay: Duration,
    },
    /// Sends a malformed Content-Length header (and closes to delimit the body).
    BadLength,
    /// Sends the body with `Transfer-Encoding: chunked`, cut into chunks of these sizes
    /// (the rest in one last chunk), flushing each: the client sees the cuts.
    Chunked(Vec<usize>),
}

/// One scripted response.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// Misbehaviour.
    pub fault: Fault,
    /// Answer `Range: bytes=N-` with 206 (and `If-None-Match` with 304 when an ETag is set).
    pub honour_conditionals: bool,
    /// Time before the status line (a distant server's round trips).
    pub latency: Duration,
    /// An auth rule: a request without this header value gets `401` instead (BioPortal's
    /// `Authorization: apikey token=KEY`, or the same key as `?apikey=` in the query).
    pub requires: Option<(String, String)>,
}

impl Reply {
    /// 200 with a body and a content type.
    pub fn ok(body: impl Into<Vec<u8>>, content_type: &str) -> Self {
        Reply {
            status: 200,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
            fault: Fault::None,
            honour_conditionals: true,
            latency: Duration::ZERO,
            requires: None,
        }
    }

    /// A status with an empty body.
    pub fn status(status: u16) -> Self {
        Reply { status, ..Reply::default() }
    }

    /// A redirect to `location`.
    pub fn redirect(status: u16, location: &str) -> Self {
        Reply::status(status).header("Location", location)
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the fault.
    pub fn fault(mut self, fault: Fault) -> Self {
        self.fault = fault;
        self
    }

    /// Answers `401` unless the request carries `name: value`.
    pub fn requires(mut self, name: &str, value: &str) -> Self {
        self.requires = Some((name.to_ascii_lowercase(), value.into()));
        self
    }

    /// Waits this long before answering.
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }
}

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Headers, names lower-cased.
    pub headers: HashMap<String, String>,
    /// Request body (when a Content-Length was sent).
    pub body: Vec<u8>,
    /// When the request arrived.
    pub at: std::time::Instant,
}

#[derive(Default)]
struct State {
    routes: HashMap<String, (Vec<Reply>, usize)>,
    seen: Vec<Seen>,
}

/// The server; stops when dropped.
pub struct TestServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Starts on 127.0.0.1 with an OS-chosen port.
    pub fn start() -> Self {
        Self::start_on(0)
    }

    /// Starts on 127.0.0.1 at `port` (a server that comes back after an outage).
    pub fn start_on(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = conn {
                    let st = st.clone();
                    std::thread::spawn(move || handle(stream, &st));
                }
            }
        });
        TestServer { addr, state, stop, thread: Some(thread) }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base(), path)
    }

    /// The `127.0.0.1:PORT` allowlist entry that lets the gates reach this server.
    pub fn allow_entry(&self) -> String {
        self.addr.to_string()
    }

    /// Scripts `path`: each request takes the next reply; the last one repeats.
    pub fn route(&self, path: &str, replies: Vec<Reply>) {
        self.state.lock().unwrap().routes.insert(path.to_string(), (replies, 0));
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// Requests so far for one path.
    pub fn hits(&self, path: &str) -> usize {
        self.seen().iter().filter(|s| s.path == path).count()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn read_request(stream: &TcpStream) -> Option<Seen> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let mut body = Vec::new();
    if let Some(n) = headers.get("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body = vec![0; n];
        reader.read_exact(&mut body).ok()?;
    }
    Some(Seen { method, path, headers, body, at: std::time::Instant::now() })
}

fn handle(mut stream: TcpStream, state: &Mutex<State>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Some(req) = read_request(&stream) else {
        return;
    };
    let reply = {
        let mut st = state.lock().unwrap();
        st.seen.push(req.clone());
        match st.routes.get_mut(&req.path) {
            Some((replies, next)) => {
                let r = replies[(*next).min(replies.len() - 1)].clone();
                *next += 1;
                r
            }
            None => Reply::status(404),
        }
    };
    let _ = respond(&mut stream, &req, reply);
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        401 => "Unauthorized",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn respond(stream: &mut TcpStream, req: &Seen, mut reply: Reply) -> std::io::Result<()> {
    std::thread::sleep(reply.latency);
    if let Some((name, value)) = &reply.requires
        && req.headers.get(name) != Some(value)
    {
        reply = Reply::ok(r#"{"errors":["You must provide a valid API Key"],"status":401}"#, "application/json");
        reply.status = 401;
    }
    let etag = reply.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("etag")).map(|(_, v)| v.clone());
    let mut extra = vec![];
    if reply.honour_conditionals && reply.status == 200 {
        if etag.is_some() && req.headers.get("if-none-match") == etag.as_ref() {
            reply.status = 304;
            reply.body.clear();
        } else if let Some(start) = req
            .headers
            .get("range")
            .and_then(|r| r.strip_prefix("bytes="))
            .and_then(|r| r.strip_suffix('-'))
            .and_then(|n| n.parse::<usize>().ok())
        {
            let len = reply.body.len();
            if start >= len {
                reply.status = 416;
                extra.push(("Content-Range".to_string(), format!("bytes */{len}")));
                reply.body.clear();
            } else {
                reply.status = 206;
                extra.push(("Content-Range".to_string(), format!("bytes {start}-{}/{len}", len - 1)));
                reply.body = reply.body[start..].to_vec();
            }
        }
    }
    let mut head = format!("HTTP/1.1 {} {}\r\nConnection: close\r\n", reply.status, reason(reply.status));
    for (k, v) in reply.headers.iter().chain(extra.iter()) {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    match &reply.fault {
        Fault::LieLength(n) => head.push_str(&format!("Content-Length: {n}\r\n")),
        Fault::BadLength => head.push_str("Content-Length: lots\r\n"),
        Fault::Chunked(_) => head.push_str("Transfer-Encoding: chunked\r\n"),
        _ => head.push_str(&format!("Content-Length: {}\r\n", reply.body.len())),
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if req.method == "HEAD" {
        return Ok(());
    }
    match reply.fault {
        Fault::DropAfter(n) => {
            stream.write_all(&reply.body[..n.min(reply.body.len())])?;
            stream.flush()?;
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
        Fault::Chunked(sizes) => {
            let mut rest = &reply.body[..];
            for size in sizes.iter().copied().chain(std::iter::once(usize::MAX)) {
                let (now, later) = rest.split_at(size.min(rest.len()));
                if !now.is_empty() {
                    write!(stream, "{:x}\r\n", now.len())?;
                    stream.write_all(now)?;
                    stream.write_all(b"\r\n")?;
                    stream.flush()?;
                    std::thread::sleep(Duration::from_millis(20));
                }
                rest = later;
            }
            stream.write_all(b"0\r\n\r\n")?;
        }
        Fault::Slow { chunk, delay } => {
            for part in reply.body.chunks(chunk.max(1)) {
                stream.write_all(part)?;
                stream.flush()?;
                std::thread::sleep(delay);
            }
        }
        _ => stream.write_all(&reply.body)?,
    }
    stream.flush()
}
