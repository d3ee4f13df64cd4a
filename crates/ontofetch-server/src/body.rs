//! Response bodies: small ones built whole, artifacts streamed from the store.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody, combinators::UnsyncBoxBody};
use hyper::body::Frame;
use hyper::{Response, StatusCode};

/// Every response's body: whole or streamed, failing with an I/O error mid-stream.
pub(crate) type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// A body held whole.
pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed_unsync()
}

/// A streamed body.
pub(crate) fn stream(s: ontofetch_store::ByteStream) -> Body {
    use futures_util::StreamExt;
    BodyExt::boxed_unsync(StreamBody::new(s.map(|chunk| chunk.map(Frame::data))))
}

/// A body held whole, with its type and length.
pub(crate) fn whole(status: StatusCode, ctype: &str, body: impl Into<Bytes>) -> Response<Body> {
    let body = body.into();
    Response::builder()
        .status(status)
        .header("Content-Type", ctype)
        .header("Content-Length", body.len())
        .header("X-Content-Type-Options", "nosniff")
        .body(full(body))
        .unwrap_or_else(|_| Response::new(full(Bytes::new())))
}

/// A plain-text response.
pub(crate) fn text(status: StatusCode, body: &str) -> Response<Body> {
    whole(status, "text/plain; charset=utf-8", body.to_string())
}

/// A JSON response from a typed document.
pub(crate) fn json<T: serde::Serialize + ?Sized>(status: StatusCode, value: &T) -> Response<Body> {
    // The documents are plain structs of strings and numbers: serialising cannot fail.
    let mut body = serde_json::to_vec_pretty(value).unwrap_or_else(|_| b"{}".to_vec());
    body.push(b'\n');
    whole(status, "application/json", body)
}

/// An HTML page (no scripts: the policy forbids them, so nothing injected could run).
pub(crate) fn html(page: String) -> Response<Body> {
    let mut r = whole(StatusCode::OK, "text/html; charset=utf-8", page);
    r.headers_mut().insert(
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'".parse().expect("static header"),
    );
    r
}
