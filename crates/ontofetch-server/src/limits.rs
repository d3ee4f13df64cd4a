//! How many connections the server holds and how long it waits on each: shared by the
//! accept loop (`http`) and the state the routes read (`state`: the artifact-stream
//! budget), so neither depends on the other for it.

use std::time::Duration;

/// Connection limits (`serve --max-connections`, `--max-connections-per-client`,
/// `--header-timeout-sec`, `--write-timeout-sec`).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Connections held at once; one more is accepted and closed at once, so file
    /// descriptors stay bounded whatever clients do.
    pub max_connections: usize,
    /// Connections one client address may hold: one host cannot take every slot.
    pub max_per_client: usize,
    /// A client must send a whole request head within this time, also between requests
    /// on a kept-alive connection, or it is closed.
    pub header_timeout: Duration,
    /// A response write that makes no progress for this long closes the connection: a
    /// client that asked for an artifact and stopped reading gives its slot back. A slow
    /// reader that keeps reading is served.
    pub write_timeout: Duration,
    /// A TLS handshake must finish within this time.
    pub handshake_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: 512,
            max_per_client: 64,
            header_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(10),
        }
    }
}

impl ConnectionLimits {
    /// Artifact downloads streaming at once: the connections less a reserve, so `/healthz`,
    /// `/readyz` and `/metrics` are answered while every download slot is taken.
    pub fn artifact_streams(&self) -> usize {
        let reserve = (self.max_connections / 8).max(2);
        self.max_connections.saturating_sub(reserve).max(1)
    }
}
