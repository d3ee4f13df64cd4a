//! ontofetch's HTTP client (DESIGN.md §1, §3): every URL and redirect hop through the
//! url/redirect gates, every resolved address through the ip gate before it is dialled,
//! and downloads that appear on disk only whole and verified.

pub mod error;
pub mod fetch;
pub mod limit;
pub mod resolver;

pub use error::NetError;
pub use fetch::{
    Download, DownloadInfo, Fetched, Fetcher, HostCredential, NetConfig, ProbeInfo, Validators, looks_like_html,
};
