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

fn whole(status: StatusCode, ctype: &str, body: impl Into<Bytes>) -> Response<Body> {
    let body = body.into();
    Response::builder()
        .status(status)
        .header("Content-Type", ctype)
        .header("Content-Length", body.len())
        .header("X-Content-Type-Options", "nosniff")
        .body(full(body))
        .expect("static response")
}

/// A plain-text response.
pub(crate) fn text(status: StatusCode, body: &str) -> Response<Body> {
    whole(status, "text/plain; charset=utf-8", body.to_string())
}

/// A JSON response.
pub(crate) fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    let mut body = serde_json::to_vec_pretty(value).expect("JSON values serialise");
    body.push(b'\n');
    whole(status, "application/json", body)
}

/// A JSON error naming the stable code and what to do.
pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    json(status, &serde_json::json!({"error": message, "code": code}))
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
