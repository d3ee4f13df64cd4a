//! `/log/checkpoint` and `/log/tile/…`: the mirror's transparency log, exactly as
//! c2sp.org/tlog-tiles lays it out, so any C2SP client can audit the mirror. Only paths that
//! are exactly a tile's are looked up (the path is parsed into a tile and rendered back).
//! A full tile never changes: it is cacheable for ever; a partial tile and the checkpoint
//! change with every publication.

use crate::artifacts::cache_control;
use crate::body::{self, Body};
use crate::error::ServerError;
use crate::state::ServerState;
use hyper::{Response, StatusCode};
use ontofetch_pipeline::tlog;
use ontofetch_provenance::log as tiles;
use ontofetch_store::StoreError;

/// Answers `/log/…`.
pub(crate) async fn log(st: &ServerState, path: &str) -> Result<Response<Body>, ServerError> {
    let rest = path.strip_prefix("/log/").unwrap_or_default();
    let auth = st.artifacts_auth.is_some();
    // Full tiles and bundles never change; the checkpoint and partial tiles change with every
    // publication. Cached as the artifacts are (never by a shared cache behind credentials).
    let (key, ctype, cache) = if rest == "checkpoint" {
        (tlog::checkpoint_key(), "text/plain; charset=utf-8", cache_control(false, auth))
    } else {
        let tile = tiles::parse_tile_path(rest).ok_or_else(|| {
            ServerError::not_found(
                "the log serves /log/checkpoint, /log/tile/<L>/<N>[.p/<W>] and /log/tile/entries/<N>[.p/<W>]",
            )
        })?;
        (tlog::tile_key(&tile), "application/octet-stream", cache_control(tiles::is_full(&tile), auth))
    };
    let b = st.backends().await?.ok_or_else(|| ServerError::not_found("the mirror is empty: it has no log yet"))?;
    match b.store.read(&key).await {
        Ok(bytes) => {
            let mut r = body::whole(StatusCode::OK, ctype, bytes);
            let h = r.headers_mut();
            h.insert("Cache-Control", hyper::header::HeaderValue::from_static(cache));
            if auth {
                h.insert("Vary", hyper::header::HeaderValue::from_static("Authorization"));
            }
            Ok(r)
        }
        Err(StoreError::NotFound(_)) => Err(ServerError::not_found(format!(
            "{rest} is not published in this mirror's log (unsigned, or not that large yet)"
        ))),
        Err(e) => Err(ServerError::unavailable(e, &format!("{rest} is unreadable"))),
    }
}
