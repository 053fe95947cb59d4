//! `GET /`: a short page saying what this deployment is, with a link to its health report.

use http::StatusCode;

use crate::http::{response, Response};

pub fn page() -> Response {
    let body = concat!(
        "<!doctype html><html lang=en><meta charset=utf-8>",
        "<meta name=viewport content=\"width=device-width, initial-scale=1\">",
        "<title>Attio gateway</title>",
        "<body style=\"font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem\">",
        "<h1>Attio gateway</h1>",
        "<p>This is a self-hosted gateway between AI agents (MCP) and the Attio CRM.</p>",
        "<p>Configuration status: <a href=\"/health\">/health</a>.</p>",
        "</body></html>"
    );
    let mut resp = response(StatusCode::OK, "text/html; charset=utf-8", body.as_bytes().to_vec());
    let headers = resp.headers_mut();
    headers.insert(
        "content-security-policy",
        http::HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
    );
    headers.insert("x-frame-options", http::HeaderValue::from_static("DENY"));
    resp
}
