//! The HTML pages a person sees (connect results, errors, status), in one small, accessible
//! layout with no external assets, and the headers every page carries: no framing, no
//! referrer, no caching, a CSP that allows nothing but inline styles and same-origin forms.

use http::header::{HeaderValue, CONTENT_SECURITY_POLICY};
use http::StatusCode;

use crate::http::{response, Response};

const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const STYLE: &str =
    "body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1d1d1f}\
h1{font-size:1.5rem}.card{border:1px solid #ddd;border-radius:8px;padding:1rem 1.25rem;margin:1rem 0}\
.error{border-color:#d33;background:#fff5f5}button,.button{font:inherit;padding:.5rem 1rem;border-radius:6px;\
border:1px solid #444;background:#fff;cursor:pointer;text-decoration:none;color:inherit;display:inline-block}\
dt{font-weight:600}dd{margin:0 0 .5rem}";

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A page. `body_html` must already be escaped where it holds outside text.
pub fn page(status: StatusCode, title: &str, body_html: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=en><meta charset=utf-8>\
         <meta name=viewport content=\"width=device-width, initial-scale=1\">\
         <title>{} · Attio gateway</title><style>{STYLE}</style><body><main>{body_html}</main></body></html>",
        escape(title)
    );
    let mut resp = response(status, "text/html; charset=utf-8", html.into_bytes());
    let headers = resp.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    resp
}

/// An error page: what happened, and what the person can do about it.
pub fn error_page(status: StatusCode, title: &str, message: &str, next_step_html: &str) -> Response {
    page(
        status,
        title,
        &format!(
            "<h1>{}</h1><div class=\"card error\" role=alert><p>{}</p></div>{next_step_html}",
            escape(title),
            escape(message)
        ),
    )
}

/// A link back to the start of the connect flow.
pub const TRY_AGAIN: &str = "<p><a class=button href=\"/connect\">Connect Attio again</a></p>";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("<img src=x onerror='a'>&\""), "&lt;img src=x onerror=&#39;a&#39;&gt;&amp;&quot;");
    }

    #[test]
    fn pages_cannot_be_framed_or_cached() {
        let r = error_page(StatusCode::BAD_REQUEST, "Oops <b>", "bad <script>", "");
        assert_eq!(r.headers()["x-frame-options"], "DENY");
        assert!(r.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap().contains("frame-ancestors 'none'"));
        assert_eq!(r.headers()["cache-control"], "no-store");
        assert_eq!(r.headers()["referrer-policy"], "no-referrer");
        let body = String::from_utf8(r.body().clone()).unwrap();
        assert!(!body.contains("<script>") && !body.contains("<b>"));
    }
}
