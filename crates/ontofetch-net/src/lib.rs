//! ontofetch's HTTP client (docs/architecture.md, "A pull", "Gates"): every URL and
//! redirect hop through the url/redirect gates, every resolved address through the ip gate
//! before it is dialled, and downloads that appear on disk only whole and verified.

#![warn(missing_docs)]

pub mod download;
pub mod error;
pub mod fetch;
pub mod limit;
pub mod resolver;
pub mod small;

pub use error::NetError;
pub use fetch::{Download, DownloadInfo, Fetched, Fetcher, HostCredential, NetConfig, ProbeInfo, Validators};
