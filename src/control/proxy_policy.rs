//! What the REST proxy may forward to Attio (security checklist G.41–42): the upstream origin is
//! fixed by configuration, and only the path below `/v2/`, the query, the body and a few
//! headers come from the caller — each checked here, before any request is built.
//!
//! - **Path:** as received (still percent-encoded), it must start with `/v2/` and consist of
//!   unreserved characters, `/`, and percent-escapes that do not decode to `/`, `\`, `.`, `%` or
//!   a control character; no empty, `.` or `..` segments. So it cannot climb out of `/v2/`, name
//!   another host, or be read differently by Attio's router — not even by one that decodes
//!   twice, since no escape survives a first decoding (`%252e` is refused).
//! - **Query:** printable, no `#`.
//! - **Headers:** only `content-type` and `accept` go upstream (never our `Authorization`,
//!   cookies, forwarding or hop-by-hop headers); only `content-type` and `retry-after` come back.

use http::header::{HeaderMap, HeaderName, ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use http::Method;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("only paths under /v2/ are proxied")]
    NotV2,
    #[error("the path contains characters or segments that are not allowed")]
    Disallowed,
    #[error("the query string contains characters that are not allowed")]
    BadQuery,
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn valid_segment(seg: &str) -> bool {
    if seg.is_empty() || seg == "." || seg == ".." {
        return false;
    }
    let bytes = seg.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => i += 1,
            b'%' => {
                let decoded = match (bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
                    (Some(h), Some(l)) => h * 16 + l,
                    _ => return false,
                };
                if matches!(decoded, b'/' | b'\\' | b'.' | b'%') || decoded < 0x20 || decoded == 0x7f {
                    return false;
                }
                i += 3;
            }
            _ => return false,
        }
    }
    true
}

/// `path?query` to send to Attio (appended to the configured API base), from the request's
/// raw path and query.
pub fn upstream_path(path: &str, query: Option<&str>) -> Result<String, PathError> {
    let rest = path.strip_prefix("/v2/").ok_or(PathError::NotV2)?;
    if !rest.split('/').all(valid_segment) {
        return Err(PathError::Disallowed);
    }
    match query {
        None | Some("") => Ok(path.to_string()),
        Some(q) if q.bytes().all(|b| b > 0x20 && b != 0x7f && b != b'#') => Ok(format!("{path}?{q}")),
        Some(_) => Err(PathError::BadQuery),
    }
}

/// Whether a request changes Attio data (and so needs write scope). Attio's query and search
/// endpoints are POSTs that only read.
pub fn is_write(method: &Method, path: &str) -> bool {
    match *method {
        Method::GET | Method::HEAD => false,
        Method::POST => !(path.ends_with("/query") || path == "/v2/objects/records/search"),
        _ => true,
    }
}

const FORWARDED_REQUEST_HEADERS: &[HeaderName] = &[CONTENT_TYPE, ACCEPT];
const RETURNED_RESPONSE_HEADERS: &[HeaderName] = &[CONTENT_TYPE, RETRY_AFTER];

fn keep(from: &HeaderMap, names: &[HeaderName]) -> HeaderMap {
    let mut out = HeaderMap::new();
    for name in names {
        if let Some(v) = from.get(name) {
            out.insert(name.clone(), v.clone());
        }
    }
    out
}

/// The caller's headers that may reach Attio.
pub fn request_headers(incoming: &HeaderMap) -> HeaderMap {
    keep(incoming, FORWARDED_REQUEST_HEADERS)
}

/// Attio's headers that go back to the caller.
pub fn response_headers(upstream: &HeaderMap) -> HeaderMap {
    keep(upstream, RETURNED_RESPONSE_HEADERS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_attio_paths_pass_unchanged() {
        for (path, query, expected) in [
            ("/v2/self", None, "/v2/self"),
            ("/v2/objects/people/records/query", None, "/v2/objects/people/records/query"),
            (
                "/v2/objects/companies/records",
                Some("matching_attribute=domains"),
                "/v2/objects/companies/records?matching_attribute=domains",
            ),
            ("/v2/notes", Some("limit=5&offset=10"), "/v2/notes?limit=5&offset=10"),
            ("/v2/objects/my%20object/records", None, "/v2/objects/my%20object/records"),
            (
                "/v2/objects/people/records/bf071e1f-6035-429d-b874-d83ea64ea13b",
                None,
                "/v2/objects/people/records/bf071e1f-6035-429d-b874-d83ea64ea13b",
            ),
        ] {
            assert_eq!(upstream_path(path, query).as_deref(), Ok(expected));
        }
    }

    #[test]
    fn traversal_and_host_tricks_are_refused() {
        for path in [
            "/v1/objects",
            "/v2",
            "/v2/",
            "/v2/../admin",
            "/v2/objects/../../admin",
            "/v2/%2e%2e/admin",
            "/v2/%2E%2E/admin",
            "/v2/.%2e/admin",
            "/v2/objects%2f..%2fadmin",
            "/v2/objects%2F..",
            "/v2/%252e%252e/admin",
            "/v2/objects/%25",
            "/v2/objects%5c..",
            "/v2/objects\\..\\admin",
            "/v2//evil.test/x",
            "/v2/objects//records",
            "/v2/./objects",
            "/v2/objects/.",
            "/v2/http://evil.test/",
            "/v2/objects/%00",
            "/v2/objects/%zz",
            "/v2/objects/%2",
            "/v2/objects/a b",
            "/v2/@evil.test",
        ] {
            assert!(upstream_path(path, None).is_err(), "{path} was allowed");
        }
        assert_eq!(upstream_path("/v2/notes", Some("a=1#frag")), Err(PathError::BadQuery));
        assert_eq!(upstream_path("/v2/notes", Some("a=1 2")), Err(PathError::BadQuery));
    }

    #[test]
    fn reads_and_writes() {
        assert!(!is_write(&Method::GET, "/v2/objects"));
        assert!(!is_write(&Method::POST, "/v2/objects/people/records/query"));
        assert!(!is_write(&Method::POST, "/v2/lists/x/entries/query"));
        assert!(!is_write(&Method::POST, "/v2/objects/records/search"));
        assert!(is_write(&Method::POST, "/v2/objects/people/records"));
        assert!(is_write(&Method::PUT, "/v2/objects/people/records"));
        assert!(is_write(&Method::PATCH, "/v2/tasks/x"));
        assert!(is_write(&Method::DELETE, "/v2/notes/x"));
    }

    #[test]
    fn every_returned_header_is_one_the_edge_copies_from_attio() {
        for name in RETURNED_RESPONSE_HEADERS {
            assert!(crate::base::http::UPSTREAM_RESPONSE_HEADERS.contains(name), "{name} would never arrive");
        }
    }

    #[test]
    fn only_safe_headers_cross() {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("authorization", "Bearer agwa.x.y"),
            ("cookie", "a=b"),
            ("x-forwarded-for", "1.2.3.4"),
            ("x_forwarded_for", "1.2.3.4"),
            ("forwarded", "for=1.2.3.4"),
            ("host", "evil.test"),
            ("connection", "keep-alive"),
            ("content-type", "application/json"),
            ("accept", "application/json"),
        ] {
            h.insert(HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        let out = request_headers(&h);
        assert_eq!(out.len(), 2);
        assert_eq!(out[CONTENT_TYPE], "application/json");
        let mut up = HeaderMap::new();
        up.insert(RETRY_AFTER, "Tue, 23 May 2023 14:42:01 GMT".parse().unwrap());
        up.insert("set-cookie", "x=y".parse().unwrap());
        let back = response_headers(&up);
        assert_eq!(back.len(), 1);
        assert!(back.contains_key(RETRY_AFTER));
    }
}
