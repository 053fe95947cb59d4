//! Issue 27: tokens are checked before storage. A token of ours carries a tag over the rest of
//! it (`crypto::keys`); one whose tag fails (forged, altered, or made under a key the gateway no
//! longer has) is refused at `/mcp`, `/v2`, `/token` and `/revoke` without a single storage
//! request or fetch, and `initialize` with a token whose tag checks out is answered without
//! storage.

use crate::tests::flow::*;
use crate::tests::*;

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

/// The amplification measured on `main` (9b9df37): token requests from one address, each naming
/// a new metadata-document `client_id`, made the gateway fetch every document and write a KV
/// record for each. Now each fetch passes the per-address `Lookups` limit first, nothing is
/// written, and a document this isolate holds is not fetched (or counted) again.
#[test]
fn naming_new_metadata_documents_at_token_fetches_only_within_the_limit_and_stores_nothing() {
    use crate::auth::rate_limit::Limit;
    let p = FakePlatform::with_settings(loopback_settings());
    let limit = Limit::Lookups.default_per_minute() as usize;
    let attempt = |id: &str, address: &str| {
        let pairs =
            [("grant_type", "authorization_code"), ("client_id", id), ("code", "agwc.x"), ("code_verifier", VERIFIER)];
        run(&p, from_address(form("/token", &pairs, &[]), address)).status().as_u16()
    };
    let statuses: Vec<u16> = (0..150).map(|n| attempt(&format!("https://any.host/{n}"), "203.0.113.9")).collect();
    let fetches = work(&p).iter().filter(|c| c.starts_with("http ")).count();
    assert_eq!(fetches, limit, "one fetch per request within the limit, none past it");
    assert!(statuses[limit..].iter().all(|s| *s == 429), "{statuses:?}");
    assert_eq!(p.kv_keys(), Vec::<String>::new(), "no cached document or failure marker in KV");
    // Another address gets its own minute; a failed document is not fetched again for a minute.
    assert_eq!(attempt("https://any.host/0", "198.51.100.4"), 401);
    assert_eq!(work(&p), Vec::<String>::new(), "remembered as failed by this isolate");
}

#[test]
fn a_metadata_document_this_isolate_holds_is_neither_fetched_nor_counted_again() {
    let p = FakePlatform::with_settings(loopback_settings());
    let id = "https://app.example.com/oauth/client.json";
    let doc = serde_json::json!({"client_id": id, "client_name": "App", "redirect_uris": [CLIENT_REDIRECT],
        "token_endpoint_auth_method": "none"});
    p.http.push(200, &doc.to_string());
    let limit = crate::auth::rate_limit::Limit::Lookups.default_per_minute() as usize;
    // A refresh token whose tag checks out (it gets as far as the client), of no grant.
    let config = crate::config::SettingsSource::config(&p).unwrap();
    let unknown = config.keys().tagged_token("agwr2", &"0".repeat(32), &[1; 16]);
    let attempt = |id: &str| {
        let pairs = [("grant_type", "refresh_token"), ("client_id", id), ("refresh_token", unknown.as_str())];
        run(&p, from_address(form("/token", &pairs, &[]), "203.0.113.10")).status().as_u16()
    };
    // The document, then the same id again and again: one fetch, one lookup counted.
    for _ in 0..limit - 2 {
        assert_eq!(attempt(id), 400, "invalid_grant: the client resolved");
    }
    // Two new documents still fit in this address's minute: the repeats were not counted.
    attempt("https://any.host/a");
    attempt("https://any.host/b");
    let fetched: Vec<String> = work(&p).into_iter().filter(|c| c.starts_with("http ")).collect();
    assert_eq!(fetched.len(), 3, "{fetched:?}");
    assert_eq!(p.kv_keys(), Vec::<String>::new());
}

/// An access token of the earlier, untagged format: looked up only within the per-address
/// limit, and an access-token lifetime after the first cron run of this release, refused
/// without any lookup.
#[test]
fn an_untagged_access_token_is_looked_up_within_the_limit_and_not_at_all_an_hour_after_the_release() {
    use crate::auth::rate_limit::Limit;
    let p = FakePlatform::with_settings(loopback_settings());
    let old = format!("agwa.{}.{}", "0".repeat(32), "A".repeat(43));
    let call = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    let limit = Limit::Lookups.default_per_minute() as usize;
    let statuses: Vec<u16> = (0..limit + 10)
        .map(|_| mcp(&p, &old, call, &[("cf-connecting-ip", "203.0.113.11")]).status().as_u16())
        .collect();
    assert!(statuses[..limit].iter().all(|s| *s == 401) && statuses[limit..].iter().all(|s| *s == 429), "{statuses:?}");
    let lookups = work(&p).iter().filter(|c| c.starts_with("do ")).count();
    assert!((limit..=2 * limit).contains(&lookups), "a lookup per request within the limit, none past it: {lookups}");

    // The release's first cron run, then an hour and a moment.
    let config = crate::config::SettingsSource::config(&p).unwrap();
    block_on(crate::control::cron::run(&p, &config));
    p.advance_ms(crate::oauth::grants::grant::ACCESS_TTL_MS + 1);
    work(&p);
    assert_eq!(mcp(&p, &old, call, &[("cf-connecting-ip", "198.51.100.5")]).status(), 401);
    let calls = work(&p);
    assert!(!calls.iter().any(|c| c.starts_with("do ")), "{calls:?}");
    assert!(calls.iter().filter(|c| c.starts_with("kv ")).count() <= 1, "the release's time, read once: {calls:?}");
}

/// Codes are tagged like tokens: a forged one is refused before the client is resolved.
#[test]
fn a_forged_code_costs_no_storage_request() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, code, _) = obtain_code(&p, "https://gateway.test/mcp", "read");
    assert!(code.starts_with("agwc2."), "{code}");
    work(&p);
    let r = redeem(&p, &client_id, &forged(&code), VERIFIER);
    assert_eq!(body(&r)["error"], "invalid_grant", "{}", text(&r));
    assert_eq!(work(&p), Vec::<String>::new());
    assert_eq!(redeem(&p, &client_id, &code, VERIFIER).status(), 200, "the real code still works");
}
