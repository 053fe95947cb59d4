//! Issue 27: tokens are checked before storage. A token of ours carries a tag over the rest of
//! it (`crypto::keys`); one whose tag fails (forged, altered, or made under a key the gateway no
//! longer has) is refused at `/mcp`, `/v2`, `/token` and `/revoke` without a single storage
//! request or fetch, and `initialize` with a token whose tag checks out is answered without
//! storage.

use super::flow::*;
use super::*;

/// A token like `token` (same prefix and grant id) with another secret: its tag fails.
fn forged(token: &str) -> String {
    let (head, _) = token.rsplit_once('.').unwrap();
    format!("{head}.{}", "A".repeat(43))
}

/// The storage requests and fetches made since the last look.
fn work(p: &FakePlatform) -> Vec<String> {
    p.take_calls()
        .into_iter()
        .filter(|c| c.starts_with("do ") || c.starts_with("kv ") || c.starts_with("http "))
        .collect()
}

#[test]
fn a_forged_token_costs_no_storage_request_anywhere() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, code, _) = obtain_code(&p, "https://gateway.test/mcp", "read");
    let issued = body(&redeem(&p, &client_id, &code, VERIFIER));
    let (at, rt) = (issued["access_token"].as_str().unwrap(), issued["refresh_token"].as_str().unwrap());
    assert!(at.starts_with("agwa2.") && rt.starts_with("agwr2."), "tagged tokens: {at} {rt}");
    let rest = proxy_token(&p, "read");
    work(&p);

    let call = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}"#;
    assert_eq!(mcp(&p, &forged(at), call, &[]).status(), 401);
    assert_eq!(work(&p), Vec::<String>::new(), "/mcp");
    assert_eq!(proxied(&p, "GET", "/v2/objects", &forged(&rest), "").status(), 401);
    assert_eq!(work(&p), Vec::<String>::new(), "/v2");
    let r = run(&p, refresh_request(&client_id, &forged(rt)));
    assert_eq!(body(&r)["error"], "invalid_grant");
    // Only the failure count (the rate limiter, not storage).
    assert_eq!(work(&p), Vec::<String>::new(), "/token");
    let r = run(&p, form("/revoke", &[("client_id", &client_id), ("token", &forged(at))], &[]));
    assert_eq!(r.status(), 200);
    assert_eq!(work(&p), Vec::<String>::new(), "/revoke");

    // The real tokens still work.
    p.http.push(200, SELF_ACTIVE);
    assert_eq!(mcp(&p, at, call, &[]).status(), 200);
}

#[test]
fn initialize_is_answered_on_the_tokens_tag_alone() {
    let p = FakePlatform::with_settings(loopback_settings());
    let token = mcp_token(&p, "read");
    work(&p);
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    let r = mcp(&p, &token, init, &[]);
    assert_eq!(r.status(), 200, "{}", text(&r));
    assert_eq!(body(&r)["result"]["protocolVersion"], "2025-11-25");
    assert_eq!(work(&p), Vec::<String>::new(), "no storage request");
    assert_eq!(mcp(&p, &forged(&token), init, &[]).status(), 401);
    // Anything else still reads the grant.
    let list = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
    assert_eq!(mcp(&p, &token, list, &[]).status(), 200);
    assert!(work(&p).iter().any(|c| c.starts_with("do ")));
}
