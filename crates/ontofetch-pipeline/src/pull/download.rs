//! Step 2, download: the gated download into staging, conditional on the previous
//! version's validators. Every response is data: an unsolicited `304` is a failure with a
//! code, never a crash.

use crate::Pipeline;
use crate::error::PipelineError;
use crate::observer::PullObserver;
use ontofetch_catalog::VersionRow;
use ontofetch_net::{Download, DownloadInfo, Fetched, Validators};
use ontofetch_policy::Code;
use ontofetch_resolve::Plan;
use ontofetch_store::Staging;
use std::path::PathBuf;

/// Bytes that arrived, where they are, and what the server said about them.
pub(super) struct Arrived {
    /// Facts about the bytes.
    pub info: DownloadInfo,
    /// `original/<file>` in staging.
    pub dest: PathBuf,
    /// The file name stored.
    pub filename: String,
}

/// What the download step produced.
pub(super) enum Outcome {
    /// The server said nothing changed since this stored version.
    NotModified(VersionRow),
    /// New bytes in staging.
    Downloaded(Arrived),
}

/// The file name a server's `Content-Disposition` gives, when it passes the gates: only
/// its last path component, sanitised like every stored name; a refused name is ignored
/// (the guessed name stays), never followed.
fn served_name(p: &Pipeline, info: &DownloadInfo) -> Option<String> {
    let header = info.content_disposition.as_deref()?;
    let raw = content_disposition::parse_content_disposition(header).filename_full()?;
    let last = raw.rsplit(['/', '\\']).next()?.trim();
    let name = ontofetch_store::layout::sanitize_filename(last);
    if name.is_empty() || name.starts_with('.') || !name.contains('.') {
        return None;
    }
    match p.gates().file_name(&name) {
        Ok(()) => Some(name),
        Err(e) => {
            tracing::warn!(header, error = %e, "Content-Disposition file name refused; keeping the guessed name");
            None
        }
    }
}

/// Downloads the plan's URL into `original/` of `staging`.
pub(super) async fn run(
    p: &Pipeline,
    plan: &Plan,
    staging: &Staging,
    previous: Option<&VersionRow>,
    observer: &dyn PullObserver,
) -> Result<Outcome, PipelineError> {
    // A name no reader would accept (`con.ttl`) is refused before a byte is fetched.
    p.gates().file_name(&ontofetch_store::layout::sanitize_filename(&plan.filename))?;
    let dest = staging.original(&plan.filename)?;
    // A conditional request only against the URL the stored version came from, and only
    // when what is stored is what a pin asks for: "not modified" about bytes the lock does
    // not name would let a stale pin pass unchecked.
    let pinned_elsewhere = |prev: &VersionRow| {
        plan.expected_checksum.as_ref().is_some_and(|c| !c.value.eq_ignore_ascii_case(&prev.sha256))
    };
    let asked_previous = previous.filter(|prev| !p.force && prev.url == plan.url && !pinned_elsewhere(prev));
    let conditional =
        asked_previous.map(|prev| Validators { etag: prev.etag.clone(), last_modified: prev.last_modified.clone() });
    let id = plan.id.clone();
    let progress = move |got: u64, total: Option<u64>| observer.bytes(&id, got, total);
    // The announced size must fit on the staging filesystem, with the configured reserve.
    let root = p.backends.store.local_root().to_path_buf();
    let admit = |bytes: u64| {
        let free_bytes = rustix::fs::statvfs(staging.dir()).ok().map(|s| s.f_bavail * s.f_frsize);
        p.gates().write(&ontofetch_policy::storage::WriteFacts {
            root: &root,
            target: &dest,
            root_is_symlink: false,
            bytes,
            free_bytes,
        })
    };
    let download = Download {
        url: &plan.url,
        service: &plan.service,
        dest: &dest,
        conditional,
        expected_sha256: plan.expected_checksum.as_ref().map(|c| c.value.clone()),
        credential: plan.credential.clone(),
        progress: Some(&progress),
        admit: Some(&admit),
    };
    match p.fetcher.download(&download).await? {
        Fetched::Downloaded(info) => {
            let dest = match plan.filename_guessed.then(|| served_name(p, &info)).flatten() {
                Some(name) if name != plan.filename => {
                    let named = staging.original(&name)?;
                    std::fs::rename(&dest, &named).map_err(crate::error::io(format!("naming {}", named.display())))?;
                    named
                }
                _ => dest,
            };
            let filename = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            Ok(Outcome::Downloaded(Arrived { info: *info, dest, filename }))
        }
        Fetched::NotModified { final_url } => match asked_previous {
            Some(prev) => Ok(Outcome::NotModified(prev.clone())),
            None => Err(PipelineError::new(
                Code::HttpStatus,
                format!("{final_url} answered 304 Not Modified to a request that was not conditional"),
            )),
        },
    }
}
