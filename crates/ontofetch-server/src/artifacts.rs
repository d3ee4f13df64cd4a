//! `GET|HEAD /ontologies/{id}/{version}/{file…}` and the PURL-style `/obo/{id}.{ext}`.
//!
//! Only files the catalog records for a version are served: the request names a file, the
//! catalog says which stored key that is, and both the request path and the stored key pass
//! the filesystem and db_boundary gates before the store is opened (which, on local disk,
//! never follows a symlink). Responses carry the file's SHA-256 as a strong `ETag`, honour
//! `If-None-Match` and single `Range`s, and stream from the store.

use crate::body::{self, Body};
use crate::error::ServerError;
use crate::state::ServerState;
use hyper::header::HeaderValue;
use hyper::{HeaderMap, Method, Response, StatusCode};
use ontofetch_catalog::ArtifactKind;
use ontofetch_catalog::{ArtifactRow, VersionRow};
use ontofetch_metrics::RouteLabels;
use ontofetch_pipeline::Backends;
use ontofetch_policy::Code;
use ontofetch_policy::filesystem::PathFacts;
use ontofetch_store::layout;
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

/// Characters escaped in a path segment of a `Location`.
const SEGMENT: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'%').add(b'/').add(b'?').add(b'<').add(b'>');

/// The request's path segments, percent-decoded. An encoded `/`, `\` or NUL inside a
/// segment is refused outright: it can only be an attempt to smuggle a separator.
fn decode(raw: &str) -> Result<Vec<String>, ServerError> {
    raw.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let d = percent_decode_str(s)
                .decode_utf8()
                .map_err(|_| {
                    ServerError::new(
                        StatusCode::BAD_REQUEST,
                        Code::UrlInvalid,
                        format!("path segment {s:?} is not UTF-8"),
                    )
                })?
                .into_owned();
            if d.contains(['/', '\\', '\0']) {
                return Err(ServerError::new(
                    StatusCode::BAD_REQUEST,
                    Code::Traversal,
                    format!("path segment {s:?} hides a separator"),
                ));
            }
            Ok(d)
        })
        .collect()
}

/// The content type of a stored file, by extension.
pub(crate) fn content_type(name: &str) -> &'static str {
    let lower = name.to_ascii_lowercase();
    let ext = lower.rsplit('.').next().unwrap_or("");
    match ext {
        "owl" | "rdf" | "xml" => "application/rdf+xml",
        "owx" => "application/owl+xml",
        "ofn" | "omn" => "text/plain; charset=utf-8",
        "ttl" => "text/turtle",
        "nt" => "application/n-triples",
        "nq" => "application/n-quads",
        "jsonld" => "application/ld+json",
        "json" => "application/json",
        "obo" => "text/plain; charset=utf-8",
        "gz" | "tgz" => "application/gzip",
        "zip" => "application/zip",
        "tar" => "application/x-tar",
        "xz" => "application/x-xz",
        "zst" => "application/zstd",
        "bz2" => "application/x-bzip2",
        _ => "application/octet-stream",
    }
}

/// The version a request names (`latest` or a stored version).
async fn find_version(b: &Backends, id: &str, version: &str) -> Result<Option<VersionRow>, ServerError> {
    let found =
        if version == layout::LATEST { b.catalog.latest(id).await } else { b.catalog.version(id, version).await };
    found.map_err(|e| ServerError::unavailable(e, "catalog unavailable"))
}

/// A version's recorded files (a catalog that fails is a 503, never "no such file").
async fn files_of(b: &Backends, id: &str, version: &str) -> Result<Vec<ArtifactRow>, ServerError> {
    b.catalog.artifacts(id, version).await.map_err(|e| ServerError::unavailable(e, "catalog unavailable"))
}

/// The recorded file a request names: the exact path inside the version
/// (`original/x.owl`, `normalized/x.nt`, `extracted/x/a.owl`, `manifest.json`), or a bare
/// file name that only one of the version's files has.
fn pick<'a>(files: &'a [ArtifactRow], version_key: &str, file: &str) -> Option<&'a ArtifactRow> {
    let exact = format!("{version_key}/{file}");
    if let Some(f) = files.iter().find(|f| f.relpath == exact) {
        return Some(f);
    }
    let mut by_name =
        files.iter().filter(|f| f.relpath.starts_with(version_key) && f.relpath.rsplit('/').next() == Some(file));
    match (by_name.next(), by_name.next()) {
        (Some(f), None) => Some(f),
        _ => None,
    }
}

fn etag_matches(headers: &HeaderMap, name: &str, etag: &str) -> bool {
    headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|t| {
        let t = t.trim();
        t == "*" || t == etag || t.strip_prefix("W/") == Some(etag)
    })
}

/// The mirror's URL of a version's file (`rel` under the version), every segment
/// percent-encoded: a name with a space, `#` or `%` is a URL that works.
pub(crate) fn artifact_url(id: &str, version: &str, rel: &str) -> String {
    let segs: Vec<String> = rel.split('/').map(|s| utf8_percent_encode(s, SEGMENT).to_string()).collect();
    format!(
        "/ontologies/{}/{}/{}",
        utf8_percent_encode(id, SEGMENT),
        utf8_percent_encode(version, SEGMENT),
        segs.join("/")
    )
}

/// Whether a recorded file is the ontology in some format (not its manifest, report,
/// term facts or CAS copy): only those answer `/obo/{id}.{ext}`.
fn is_ontology_file(kind: &ArtifactKind) -> bool {
    matches!(kind, ArtifactKind::Original | ArtifactKind::Normalized | ArtifactKind::Extracted)
}

/// `inline` with an ASCII fallback name and the exact name as RFC 8187 `filename*`: a name
/// with quotes, non-ASCII or bidi controls is neither echoed raw nor able to break the header.
fn content_disposition(name: &str) -> String {
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' && c != '%' { c } else { '_' }).collect();
    let exact = utf8_percent_encode(name, FILENAME).to_string();
    format!("inline; filename=\"{ascii}\"; filename*=UTF-8''{exact}")
}

/// What RFC 8187 lets stand unencoded in `filename*` (attr-char), everything else encoded.
const FILENAME: &AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// What part of the file to send.
enum Part {
    Whole,
    Range(u64, u64),
    Unsatisfiable,
}

/// Ranges one request may ask for before it is answered whole (RFC 9110 lets a server
/// ignore `Range`): validating tens of thousands pairwise would cost the executor seconds.
const MAX_RANGES: usize = 16;

fn part(headers: &HeaderMap, etag: &str, size: u64) -> Part {
    let Some(range) = headers.get("range").and_then(|v| v.to_str().ok()) else { return Part::Whole };
    if range.bytes().filter(|b| *b == b',').count() >= MAX_RANGES {
        return Part::Whole;
    }
    // A range of a different representation than the one the client holds: send it whole.
    if let Some(if_range) = headers.get("if-range").and_then(|v| v.to_str().ok())
        && if_range.trim() != etag
    {
        return Part::Whole;
    }
    // Syntax errors are ignored (RFC 9110 §14.2); several ranges are served whole.
    let Ok(parsed) = http_range_header::parse_range_header(range) else { return Part::Whole };
    // No byte of an empty representation can be asked for.
    if size == 0 {
        return Part::Unsatisfiable;
    }
    match parsed.validate(size) {
        Ok(r) if r.len() == 1 => Part::Range(*r[0].start(), *r[0].end()),
        Ok(_) => Part::Whole,
        Err(_) => Part::Unsatisfiable,
    }
}

/// Whether `If-Modified-Since` names a time at or after `at` (RFC 3339), to the second.
fn not_modified_since(headers: &HeaderMap, at: &str) -> bool {
    let Some(since) = headers.get("if-modified-since").and_then(|v| v.to_str().ok()) else { return false };
    let (Ok(since), Ok(at)) = (httpdate::parse_http_date(since), humantime::parse_rfc3339_weak(at)) else {
        return false;
    };
    let secs = |t: std::time::SystemTime| t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    secs(since) >= secs(at)
}

fn last_modified(at: &str) -> Option<String> {
    humantime::parse_rfc3339_weak(at).ok().map(httpdate::fmt_http_date)
}

/// A versioned file never changes, so it may be cached for a year, but only by the
/// client's own cache when reading it needs credentials: a shared cache in front of the
/// mirror must not hand it to anyone. `latest/` is revalidated each time.
pub(crate) fn cache_control(immutable: bool, auth: bool) -> &'static str {
    match (immutable, auth) {
        (true, false) => "public, max-age=31536000, immutable",
        (true, true) => "private, max-age=31536000, immutable",
        (false, false) => "no-cache",
        (false, true) => "private, no-cache",
    }
}

/// Sends one recorded file.
async fn send(
    st: &ServerState,
    b: &Backends,
    method: &Method,
    headers: &HeaderMap,
    row: &VersionRow,
    file: &ArtifactRow,
    immutable: bool,
) -> Result<Response<Body>, ServerError> {
    let gates = st.gates();
    let key = gates.stored_path(&file.relpath).map_err(ServerError::refused)?.to_string();
    let etag = format!("\"{}\"", file.sha256);
    let name = key.rsplit('/').next().unwrap_or(&key).to_string();
    let mut r = Response::builder()
        .header("ETag", &etag)
        .header("Accept-Ranges", "bytes")
        .header("Content-Type", content_type(&name))
        .header("X-Content-Type-Options", "nosniff")
        .header("Cache-Control", cache_control(immutable, st.artifacts_auth.is_some()))
        // What a shared cache keys on: with auth on, the credentials decide who may read.
        .header("Vary", if st.artifacts_auth.is_some() { "Authorization, Accept-Encoding" } else { "Accept-Encoding" })
        .header("Content-Disposition", content_disposition(&name))
        // Served inline, an RDF/XML file with XHTML <script> must never run as a page.
        .header("Content-Security-Policy", "sandbox; default-src 'none'");
    if let Some(lm) = last_modified(&row.downloaded_at) {
        r = r.header("Last-Modified", lm);
    }
    // If-None-Match wins; without it, If-Modified-Since (RFC 9110 §13.1.3) at or after the
    // download time is "not modified".
    let unmodified_since = headers.get("if-none-match").is_none() && not_modified_since(headers, &row.downloaded_at);
    if etag_matches(headers, "if-none-match", &etag) || unmodified_since {
        return r.status(StatusCode::NOT_MODIFIED).body(body::full(Vec::new())).map_err(invalid);
    }
    let size = file.bytes;
    let (status, offset, len) = match part(headers, &etag, size) {
        Part::Whole => (StatusCode::OK, 0, size),
        Part::Range(a, z) => {
            r = r.header("Content-Range", format!("bytes {a}-{z}/{size}"));
            (StatusCode::PARTIAL_CONTENT, a, z - a + 1)
        }
        Part::Unsatisfiable => {
            return r
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header("Content-Range", format!("bytes */{size}"))
                .body(body::full(Vec::new()))
                .map_err(invalid);
        }
    };
    r = r.status(status).header("Content-Length", len);
    // The headers promise the recorded size and hash; a stored object (a local file or a
    // bucket's object) that no longer has that size would end the body early, or late:
    // refuse before any header goes out rather than send a broken transfer.
    match b.store.size(&key).await {
        Ok(Some(n)) if n == size => {}
        Ok(found) => {
            let found = found.map_or("nothing".to_string(), |n| format!("{n} bytes"));
            tracing::warn!(target: "ontofetch::serve", key = %key, "stored file differs from its catalog row");
            return Err(ServerError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                Code::Drift,
                format!("{key} holds {found}, not the {size} bytes recorded; `ontofetch doctor --verify` reports it"),
            ));
        }
        Err(e) => return Err(ServerError::unavailable(e, &key)),
    }
    if method == Method::HEAD {
        return r.body(body::full(Vec::new())).map_err(invalid);
    }
    // A download slot, held by the body until it is sent or the client goes.
    let Ok(slot) = st.artifact_streams.clone().try_acquire_owned() else {
        let mut busy = ServerError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            Code::Busy,
            "every download slot is taken; retry shortly",
        )
        .into_response();
        busy.headers_mut().insert("Retry-After", HeaderValue::from_static("5"));
        // The connection goes too: a client told to come back does not hold a slot.
        busy.headers_mut().insert("Connection", HeaderValue::from_static("close"));
        return Ok(busy);
    };
    match b.store.open_range(&key, offset, len).await {
        Ok(stream) => {
            use futures_util::StreamExt;
            let served = st.metrics.served_bytes.get_or_create(&RouteLabels { route: "artifact" }).clone();
            let counted = stream.inspect(move |c| {
                let _held = &slot;
                if let Ok(c) = c {
                    served.inc_by(c.len() as u64);
                }
            });
            r.body(body::stream(counted.boxed())).map_err(invalid)
        }
        Err(e) => {
            tracing::warn!(target: "ontofetch::serve", key = %key, error = %e, "a recorded file could not be opened");
            Err(ServerError::unavailable(e, &format!("{key} is recorded but unreadable")))
        }
    }
}

async fn backends(st: &ServerState) -> Result<&Backends, ServerError> {
    st.backends()
        .await?
        .ok_or_else(|| ServerError::not_found("the mirror is empty: nothing has been pulled into this data root yet"))
}

/// A response whose headers the builder refused (a header value from the catalog that is
/// not a valid header): an internal error, reported rather than panicking.
fn invalid(e: hyper::http::Error) -> ServerError {
    ServerError::new(StatusCode::INTERNAL_SERVER_ERROR, Code::Io, format!("building the response: {e}"))
}

/// `/ontologies/{id}/{version}/{file…}`.
pub(crate) async fn artifact(
    st: &ServerState,
    method: &Method,
    headers: &HeaderMap,
    path: &str,
) -> Result<Response<Body>, ServerError> {
    let segments = decode(path)?;
    // ["ontologies", id, version, file…]
    if segments.len() < 4 {
        return Err(ServerError::not_found(
            "use /ontologies/{id}/{version|latest}/{file}; /api/v1/ontologies/{id} lists the files",
        ));
    }
    let (id, version, file) = (&segments[1], &segments[2], segments[3..].join("/"));
    let gates = st.gates();
    gates.segment("ontology id", id).map_err(ServerError::refused)?;
    if version != layout::LATEST {
        gates.version(version).map_err(ServerError::refused)?;
    }
    let b = backends(st).await?;
    let root = b.store.local_root().to_path_buf();
    let candidate = format!("{}/{file}", layout::version_key(id, version));
    gates
        .path(&PathFacts { root: &root, candidate: &candidate, root_is_symlink: false, symlinked_prefixes: &[] })
        .map_err(ServerError::refused)?;
    let Some(row) = find_version(b, id, version).await? else {
        return Err(ServerError::not_found(format!(
            "{id} has no version {version}; /api/v1/ontologies/{id} lists them"
        )));
    };
    let files = files_of(b, id, &row.version).await?;
    let key = layout::version_key(id, &row.version);
    match pick(&files, &key, &file) {
        Some(f) => send(st, b, method, headers, &row, f, version != layout::LATEST).await,
        None => Err(ServerError::not_found(format!(
            "{id} {} has no file {file}; it has: {}",
            row.version,
            files.iter().filter_map(|f| f.relpath.strip_prefix(&format!("{key}/"))).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// The PURL formats and the file extensions that satisfy each.
const PURL_FORMATS: &[(&str, &[&str])] =
    &[("owl", &["owl", "rdf", "owx"]), ("obo", &["obo"]), ("ttl", &["ttl"]), ("json", &["json", "jsonld"])];

fn extension(relpath: &str) -> &str {
    relpath.rsplit('/').next().and_then(|n| n.rsplit_once('.')).map_or("", |(_, e)| e)
}

/// `/obo/{id}.{owl|obo|ttl|json}`: a redirect to the latest file of that format, so a
/// consumer can point at the mirror where it pointed at purl.obolibrary.org.
pub(crate) async fn purl(st: &ServerState, path: &str) -> Result<Response<Body>, ServerError> {
    let usage = || ServerError::not_found("use /obo/{id}.owl, .obo, .ttl or .json");
    let segments = decode(path)?;
    let [_, name] = segments.as_slice() else { return Err(usage()) };
    let Some((id, ext)) = name.rsplit_once('.') else { return Err(usage()) };
    let id = id.to_ascii_lowercase();
    st.gates().segment("ontology id", &id).map_err(ServerError::refused)?;
    let Some(&(_, exts)) = PURL_FORMATS.iter().find(|(f, _)| *f == ext) else {
        return Err(ServerError::not_found(format!("no format {ext:?}: use .owl, .obo, .ttl or .json")));
    };
    let b = backends(st).await?;
    let Some(row) = find_version(b, &id, layout::LATEST).await? else {
        return Err(ServerError::not_found(format!("{id} is not in this mirror")));
    };
    let key = layout::version_key(&id, &row.version);
    let files = files_of(b, &id, &row.version).await?;
    let rank = |kind: &ArtifactKind| match kind {
        ArtifactKind::Original => 0,
        ArtifactKind::Normalized => 1,
        _ => 2,
    };
    // `.owl` of an ontology pulled as OBO is its OWL translation: the RDF/XML rendering
    // when there is one, else the Turtle (an OWL document too), as the catalog maps it.
    let translation = |f: &&ontofetch_catalog::ArtifactRow| {
        ext == "owl" && f.kind == ArtifactKind::Normalized && extension(&f.relpath) == "ttl"
    };
    let best = files
        .iter()
        .filter(|f| is_ontology_file(&f.kind) && exts.contains(&extension(&f.relpath)))
        .min_by_key(|f| rank(&f.kind))
        .or_else(|| files.iter().find(translation));
    match best.and_then(|f| f.relpath.strip_prefix(&format!("{key}/"))) {
        Some(rel) => Response::builder()
            .status(StatusCode::FOUND)
            .header("Location", artifact_url(&id, &row.version, rel))
            .header("Cache-Control", "no-cache")
            .body(body::full(Vec::new()))
            .map_err(invalid),
        None => {
            let available: Vec<String> = PURL_FORMATS
                .iter()
                .filter(|(_, e)| files.iter().any(|f| is_ontology_file(&f.kind) && e.contains(&extension(&f.relpath))))
                .map(|(f, _)| format!("/obo/{id}.{f}"))
                .collect();
            let message = format!("{id} {} has no .{ext} file", row.version);
            let doc = PurlMissing {
                error: &message,
                code: Code::NotFound,
                available,
                files: files.iter().filter_map(|f| f.relpath.strip_prefix(&format!("{key}/"))).collect(),
            };
            Ok(body::json(StatusCode::NOT_FOUND, &doc))
        }
    }
}

/// A PURL whose format the latest version lacks: the error, and what it does have.
#[derive(Debug, serde::Serialize)]
struct PurlMissing<'a> {
    error: &'a str,
    code: Code,
    available: Vec<String>,
    files: Vec<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("range", value.parse().unwrap());
        h
    }

    #[test]
    fn any_range_of_an_empty_file_is_unsatisfiable() {
        assert!(matches!(part(&range("bytes=0-0"), "\"e\"", 0), Part::Unsatisfiable));
        assert!(matches!(part(&range("bytes=-5"), "\"e\"", 0), Part::Unsatisfiable));
        assert!(matches!(part(&HeaderMap::new(), "\"e\"", 0), Part::Whole));
        assert!(matches!(part(&range("bytes=0-0"), "\"e\"", 10), Part::Range(0, 0)));
    }

    #[test]
    fn thousands_of_ranges_are_answered_whole_without_validating_them() {
        let many: String = (0..50_000).map(|i| format!("{}-{},", i * 2, i * 2)).collect();
        let header = format!("bytes={}", many.trim_end_matches(','));
        let started = std::time::Instant::now();
        assert!(matches!(part(&range(&header), "\"e\"", 1 << 30), Part::Whole));
        assert!(started.elapsed() < std::time::Duration::from_millis(100), "{:?}", started.elapsed());
    }

    #[test]
    fn if_modified_since_is_honoured_to_the_second() {
        let mut h = HeaderMap::new();
        h.insert("if-modified-since", "Sun, 01 Jun 2025 10:00:00 GMT".parse().unwrap());
        assert!(not_modified_since(&h, "2025-06-01T10:00:00.400Z"), "same second");
        assert!(not_modified_since(&h, "2025-05-31T00:00:00Z"));
        assert!(!not_modified_since(&h, "2025-06-01T10:00:01Z"), "downloaded later");
        h.insert("if-modified-since", "yesterday".parse().unwrap());
        assert!(!not_modified_since(&h, "2025-05-31T00:00:00Z"), "an unreadable date is ignored");
    }

    #[test]
    fn names_in_content_disposition_are_encoded_never_raw() {
        let h = content_disposition("evil\u{202E}lmx.owl");
        assert!(h.is_ascii(), "{h}");
        assert!(h.contains("filename*=UTF-8''evil%E2%80%AElmx.owl"), "{h}");
        let q = content_disposition("a \"b\".owl");
        assert!(q.starts_with("inline; filename=\"a__b_.owl\""), "{q}");
        assert_eq!(artifact_url("x", "v 1", "original/a#b%.owl"), "/ontologies/x/v%201/original/a%23b%25.owl");
    }
}
