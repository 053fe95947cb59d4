//! Answers decided by the request head (before the body is read) equal the routes' answers.

use super::*;

/// The edge answers some requests from their head alone, before reading the body. Each such
/// answer must be exactly what the route gives once the body is read, and a request with a
/// well-formed bearer token must never be answered early (its token still has to be checked).
#[test]
fn answers_from_the_head_equal_the_routes_answers() {
    use crate::app::answer_from_head;
    let mut settings = loopback_settings();
    settings.insert(PUBLIC_ORIGIN, "https://gateway.test".into());
    let p = FakePlatform::with_settings(settings);
    let post = |url: &str, headers: &[(&str, &str)]| {
        let mut b = http::Request::post(url).header("content-type", "application/json");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#.to_vec()).unwrap()
    };
    let refused = [
        post("https://gateway.test/mcp", &[]),
        post("https://gateway.test/mcp", &[("authorization", "Basic Zm9vOmJhcg==")]),
        post("https://gateway.test/mcp", &[("authorization", "Bearer a b")]),
        post("https://gateway.test/mcp", &[("authorization", "Bearer x"), ("origin", "https://evil.test")]),
        post("https://evil.test/mcp", &[("authorization", "Bearer x")]),
        http::Request::put("https://gateway.test/mcp").body(b"{}".to_vec()).unwrap(),
        post("https://gateway.test/v2/objects/people/records/query", &[]),
        post("https://gateway.test/v2/objects/people/records/query", &[("authorization", "Bearer")]),
    ];
    for req in refused {
        let (parts, body) = req.into_parts();
        let head = Request::from_parts(parts.clone(), Vec::new());
        let early =
            answer_from_head(&head, &p).unwrap_or_else(|| panic!("{} {} answered early", parts.method, parts.uri));
        let routed = run(&p, Request::from_parts(parts, body));
        assert!(early.status().is_client_error(), "{}", early.status());
        assert_eq!(early.status(), routed.status());
        assert_eq!(early.headers(), routed.headers());
        assert_eq!(early.body(), routed.body());
    }
    for (url, headers) in [
        ("https://gateway.test/mcp", &[("authorization", "Bearer not-checked-yet")][..]),
        ("https://gateway.test/v2/objects/people/records/query", &[("authorization", "Bearer not-checked-yet")]),
        ("https://gateway.test/token", &[]),
        ("https://gateway.test/register", &[]),
    ] {
        assert!(answer_from_head(&post(url, headers), &p).is_none(), "{url} was answered before its body");
    }
    let preflight = http::Request::options("https://gateway.test/mcp").body(Vec::new()).unwrap();
    assert!(answer_from_head(&preflight, &p).is_none());
}
