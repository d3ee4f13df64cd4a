//! Helpers for tests that start processes on loopback and read what they export.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Child;
use std::time::Duration;

/// A child process killed and reaped when the test ends, pass or fail.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A raw HTTP/1.0 GET on 127.0.0.1 with extra headers: (status line, body), or `None`
/// when nothing answers with HTTP.
pub fn http_get(port: u16, path: &str, headers: &[(&str, &str)]) -> Option<(String, String)> {
    let (head, body) = http_get_raw(port, path, headers)?;
    Some((head.lines().next()?.to_string(), String::from_utf8_lossy(&body).into_owned()))
}

/// [`http_get`] with the whole head (status line and headers) and the body's bytes.
pub fn http_get_raw(port: u16, path: &str, headers: &[(&str, &str)]) -> Option<(String, Vec<u8>)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n{extra}\r\n").ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    Some((String::from_utf8_lossy(&raw[..split]).into_owned(), raw[split + 4..].to_vec()))
}

/// The value of one exact series (`name{labels}`) in a text exposition.
pub fn metric_value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}
