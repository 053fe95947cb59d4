//! The REST proxy `/v2/*`.

use crate::tests::flow::*;
use crate::tests::*;

#[test]
fn a_read_only_token_gets_403_insufficient_scope_for_writes() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, code, _) = obtain_code(&p, "https://gateway.test/v2", "read");
    let at = body(&redeem(&p, &client_id, &code, VERIFIER))["access_token"].as_str().unwrap().to_string();
    let config = crate::config::Config::load(&p).unwrap();
    let req = http::Request::get("https://gateway.test/v2/objects")
        .header("authorization", format!("Bearer {at}"))
        .body(Vec::new())
        .unwrap();
    // The status and challenge of a refusal (the whole response is large for a closure's Err).
    let check = |scope: &str| {
        let ctx = crate::context::Ctx::new(&config, &req);
        block_on(crate::auth::access::authenticate(&p, &ctx, &req, crate::oauth::metadata::Audience::Api, scope, None))
            .map(|_| ())
            .map_err(|d| d.into_response(&ctx.origin, crate::oauth::metadata::Audience::Api))
            .map_err(|r| (r.status().as_u16(), r.headers()["www-authenticate"].to_str().unwrap_or("").to_string()))
    };
    assert!(check("attio:read").is_ok());
    let (status, challenge) = check("attio:write").unwrap_err();
    assert_eq!(status, 403);
    assert!(
        challenge.contains("error=\"insufficient_scope\"") && challenge.contains("scope=\"attio:write\""),
        "{challenge}"
    );
    assert!(challenge.contains("resource_metadata=\"https://gateway.test/.well-known/oauth-protected-resource/v2\""));
}

#[test]
fn the_proxy_forwards_method_path_query_and_body_with_the_vaulted_token() {
    let p = FakePlatform::with_settings(loopback_settings());
    let at = proxy_token(&p, "write");
    p.http.push(200, r#"{"data":{"id":{"record_id":"r1"}}}"#);
    let r = proxied(
        &p,
        "PUT",
        "/v2/objects/companies/records?matching_attribute=domains",
        &at,
        r#"{"data":{"values":{"name":"Acme"}}}"#,
    );
    assert_eq!(r.status(), 200, "{}", text(&r));
    assert_eq!(body(&r)["data"]["id"]["record_id"], "r1");
    let sent = p.http.sent.borrow();
    let up = sent.last().unwrap();
    assert_eq!(up.method(), "PUT");
    assert_eq!(up.uri(), "http://127.0.0.1:9/v2/objects/companies/records?matching_attribute=domains");
    assert_eq!(up.body(), br#"{"data":{"values":{"name":"Acme"}}}"#);
    assert_eq!(up.headers()["authorization"], "Bearer attio-at-1");
    assert_eq!(up.headers()["content-type"], "application/json");
    assert!(up.headers().get("cookie").is_none() && up.headers().get("x-forwarded-for").is_none());
    assert!(!format!("{:?}", up.headers()).contains(&at), "our token went upstream");
}

#[test]
fn the_proxy_passes_attio_errors_and_retry_after_through() {
    let p = FakePlatform::with_settings(loopback_settings());
    let at = proxy_token(&p, "read");
    let mut limited = reply(
        429,
        r#"{"status_code":429,"type":"rate_limit_error","code":"rate_limit_exceeded","message":"Rate limit exceeded, please try again later"}"#,
    );
    limited.headers_mut().insert("retry-after", "Tue, 23 May 2023 14:42:01 GMT".parse().unwrap());
    limited.headers_mut().insert("set-cookie", "upstream=1".parse().unwrap());
    p.http.replies.borrow_mut().push_back(Ok(limited));
    let r = proxied(&p, "GET", "/v2/objects", &at, "");
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "Tue, 23 May 2023 14:42:01 GMT");
    assert!(r.headers().get("set-cookie").is_none());
    assert_eq!(body(&r)["code"], "rate_limit_exceeded");
    p.http.push(404, r#"{"status_code":404,"type":"invalid_request_error","code":"not_found","message":"Nope."}"#);
    assert_eq!(body(&proxied(&p, "GET", "/v2/objects/nope", &at, ""))["message"], "Nope.");
}

#[test]
fn the_proxy_refuses_traversal_and_enforces_write_scope() {
    let p = FakePlatform::with_settings(loopback_settings());
    let at = proxy_token(&p, "read");
    let before = p.http.sent.borrow().len();
    for path in ["/v2/../admin", "/v2/%2e%2e/admin", "/v2/objects%2f..%2fx", "/v2//evil.test/x", "/v2/objects/%5c"] {
        let r = proxied(&p, "GET", path, &at, "");
        assert_eq!(r.status(), 400, "{path}");
    }
    // A read-only token may query (a POST that reads) but not create.
    assert_eq!(proxied(&p, "POST", "/v2/objects/people/records", &at, "{}").status(), 403);
    assert_eq!(p.http.sent.borrow().len(), before, "nothing was forwarded");
    p.http.push(200, r#"{"data":[]}"#);
    assert_eq!(proxied(&p, "POST", "/v2/objects/people/records/query", &at, "{}").status(), 200);
}

#[test]
fn a_401_from_attio_revokes_only_when_attio_confirms_it() {
    let p = FakePlatform::with_settings(loopback_settings());
    let at = proxy_token(&p, "read");
    // A spurious 401 (Attio still says the token is active): retryable, nothing revoked.
    p.http.push(401, "");
    p.http.push(200, SELF_ACTIVE);
    assert_eq!(proxied(&p, "GET", "/v2/objects", &at, "").status(), 502);
    // A real one: the connection is revoked and the caller is told to authorize again.
    p.http.push(401, "");
    p.http.push(200, r#"{"active":false}"#);
    let r = proxied(&p, "GET", "/v2/objects", &at, "");
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"].to_str().unwrap().contains("resource_metadata="));
    assert_eq!(body(&r)["code"], "reauthorization_required");
    assert_eq!(proxied(&p, "GET", "/v2/objects", &at, "").status(), 401, "revoked stays revoked");
}
