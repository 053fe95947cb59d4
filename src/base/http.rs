//! The core's HTTP vocabulary: plain `http` crate requests and responses with byte bodies,
//! the [`HttpClient`] trait outbound calls go through, and response builders that apply the
//! headers every response carries.
//!
//! The edge converts the runtime's `Request`/`Response` to and from these, so all routing and
//! protocol logic runs (and is tested) on the host.

use std::future::Future;

use http::header::{
    HeaderName, HeaderValue, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE,
};
use http::StatusCode;

pub type Request = http::Request<Vec<u8>>;
pub type Response = http::Response<Vec<u8>>;

/// Why an outbound request produced no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("the upstream did not answer within {0} ms")]
    Timeout(u32),
    #[error("the upstream could not be reached: {0}")]
    Network(String),
    #[error("the upstream response exceeded {0} bytes")]
    TooLarge(usize),
}

/// How much of an upstream answer may be read, and for how long. Set on an outbound request as
/// an extension ([`with_limits`]); a request without one gets [`ReadLimits::ATTIO`] and the
/// client's configured timeout. One deadline covers the response head *and* the whole body, so
/// an upstream that drips its body a byte at a time is cut off like one that never answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Largest body read; a declared `Content-Length` above it is refused before reading.
    pub max_bytes: usize,
    /// Deadline for the whole exchange; `None`: the client's configured timeout.
    pub timeout_ms: Option<u32>,
    /// Whether the upstream is one we configured (Attio), whose declared `Content-Length` may
    /// be taken as the body's bound. Anything a client names (metadata documents, key sets) is
    /// read chunk by chunk and capped whatever its headers say: a server may send a small
    /// `Content-Length` next to `Transfer-Encoding: chunked`, which then frames the body.
    pub trusted_upstream: bool,
}

impl ReadLimits {
    /// Attio's answers (list responses stay well below this).
    pub const ATTIO: ReadLimits = ReadLimits { max_bytes: 8 * 1024 * 1024, timeout_ms: None, trusted_upstream: true };
}

/// `request` with `limits` attached for the [`HttpClient`].
pub fn with_limits(mut request: Request, limits: ReadLimits) -> Request {
    request.extensions_mut().insert(limits);
    request
}

/// The limits an outbound request carries.
pub fn limits_of(request: &Request) -> ReadLimits {
    request.extensions().get::<ReadLimits>().copied().unwrap_or(ReadLimits::ATTIO)
}

/// Sends outbound requests (to Attio). Implementations must not follow redirects, so a
/// bearer token can never be replayed to another origin (security checklist G.42), and must
/// honour the request's [`ReadLimits`] (size and one deadline for head and body).
pub trait HttpClient {
    fn send(&self, request: Request) -> impl Future<Output = Result<Response, TransportError>>;
}

/// The only headers the core reads from an upstream (Attio) response: the proxy returns a
/// subset of them, the Attio client reads `retry-after`, and `oauth2` checks the content type.
/// The edge copies just these out of the runtime's response instead of walking every header.
pub const UPSTREAM_RESPONSE_HEADERS: [HeaderName; 2] = [CONTENT_TYPE, http::header::RETRY_AFTER];

/// Headers on every response: no sniffing, no referrer leaks, nothing cached by default
/// (responses may carry tokens, and none of them is meant to be cached).
const BASELINE_HEADERS: &[(&str, &str)] =
    &[("x-content-type-options", "nosniff"), ("referrer-policy", "no-referrer"), ("cache-control", "no-store")];

/// A response with a body, its content type and the baseline headers.
pub fn response(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut resp = http::Response::new(body);
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    for (name, value) in BASELINE_HEADERS {
        headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    resp
}

/// A JSON response. Serialising our own types cannot fail in practice; if it ever did, the
/// client gets a 500 rather than a panic.
pub fn json(status: StatusCode, value: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => response(status, "application/json", body),
        Err(_) => {
            response(StatusCode::INTERNAL_SERVER_ERROR, "application/json", br#"{"error":"server_error"}"#.to_vec())
        }
    }
}

/// Sets a header from a value we built; values that are not valid header text are dropped
/// rather than panicking.
pub fn set_header(resp: &mut Response, name: HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, v);
    }
}

/// A redirect to `location` with `status` (302, 303) and the baseline headers.
pub fn redirect(status: StatusCode, location: &str) -> Response {
    let mut resp = response(status, "text/plain; charset=utf-8", Vec::new());
    set_header(&mut resp, LOCATION, location);
    resp
}

/// Appends a `Set-Cookie` header (a response may set several).
pub fn add_cookie(resp: &mut Response, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
}

/// Open CORS without credentials, for endpoints browser-based clients call directly.
pub fn with_cors(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, OPTIONS"));
    h.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("authorization, content-type, mcp-protocol-version, mcp-session-id"),
    );
    resp
}

/// The answer to a CORS preflight.
pub fn preflight() -> Response {
    with_cors(response(StatusCode::NO_CONTENT, "text/plain", Vec::new()))
}

/// A header's value without surrounding whitespace (RFC 9110 §5.5), if present and text.
pub fn header_str<'r>(req: &'r Request, name: &str) -> Option<&'r str> {
    req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

/// Whether a response may be cached (used by tests: token-bearing responses must not).
pub fn is_no_store(resp: &Response) -> bool {
    resp.headers().get(CACHE_CONTROL).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("no-store"))
}

/// A body read in chunks as they arrive (an incoming chunked request, a response from a server
/// a client named), refused the moment it passes its cap: an endless body costs at most the cap
/// in memory. The edge feeds it; the accounting lives here so the host tests and the fuzzer
/// can reach it.
#[derive(Debug)]
pub struct CappedBody {
    max_bytes: usize,
    bytes: Vec<u8>,
}

/// More than the cap arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the body is larger than {0} bytes")]
pub struct OverCap(pub usize);

impl CappedBody {
    /// An empty body that will hold at most `max_bytes`.
    pub fn new(max_bytes: usize) -> Self {
        Self { max_bytes, bytes: Vec::new() }
    }

    /// Room for `len` more bytes, zeroed, to be filled in place; refused (and nothing grown) if
    /// they would pass the cap.
    pub fn reserve_chunk(&mut self, len: usize) -> Result<&mut [u8], OverCap> {
        let start = self.bytes.len();
        if len > self.max_bytes - start {
            return Err(OverCap(self.max_bytes));
        }
        self.bytes.resize(start + len, 0);
        Ok(&mut self.bytes[start..])
    }

    /// Appends a chunk, unless it would pass the cap.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), OverCap> {
        self.reserve_chunk(chunk.len())?.copy_from_slice(chunk);
        Ok(())
    }

    /// The bytes read.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

#[cfg(test)]
mod capped_body_tests {
    use super::*;

    #[test]
    fn a_body_is_kept_up_to_its_cap_and_refused_past_it() {
        let mut body = CappedBody::new(5);
        body.push(b"ab").unwrap();
        body.push(b"").unwrap();
        body.push(b"cde").unwrap();
        assert_eq!(body.push(b"f"), Err(OverCap(5)));
        assert_eq!(body.reserve_chunk(usize::MAX).unwrap_err(), OverCap(5), "no overflow on a huge chunk");
        assert_eq!(body.into_bytes(), b"abcde");
    }
}
