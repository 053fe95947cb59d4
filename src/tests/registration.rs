//! Discovery documents, dynamic registration, client metadata documents, auto-approval's guard.

use super::flow;
use super::*;

#[test]
fn discovery_documents_name_our_origin_exactly() {
    let p = FakePlatform::default();
    let r = run(&p, get("/.well-known/oauth-authorization-server"));
    assert_eq!(r.status(), 200);
    assert_eq!(body(&r)["issuer"], "https://gateway.test", "no trailing slash");
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    for (path, resource) in [
        ("/.well-known/oauth-protected-resource", "https://gateway.test/mcp"),
        ("/.well-known/oauth-protected-resource/mcp", "https://gateway.test/mcp"),
        ("/.well-known/oauth-protected-resource/v2", "https://gateway.test/v2"),
    ] {
        let r = run(&p, get(path));
        assert_eq!(body(&r)["resource"], resource, "{path}");
        assert_eq!(body(&r)["authorization_servers"][0], "https://gateway.test");
    }
    let preflight =
        http::Request::builder().method("OPTIONS").uri("https://gateway.test/register").body(Vec::new()).unwrap();
    assert_eq!(run(&p, preflight).status(), 204);
}

#[test]
fn registration_issues_ids_and_stores_only_a_secret_hash() {
    let p = FakePlatform::default();
    let r = run(
        &p,
        post_json(
            "/register",
            r#"{"client_name":"Claude","redirect_uris":["https://claude.ai/api/mcp/auth_callback"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"]}"#,
        ),
    );
    assert_eq!(r.status(), 201, "{}", text(&r));
    assert!(is_no_store(&r));
    let public = body(&r);
    assert!(public["client_id"].as_str().unwrap().starts_with("mcp_"));
    assert!(public.get("client_secret").is_none(), "public clients get no secret");

    let r = run(
        &p,
        post_json(
            "/register",
            r#"{"redirect_uris":["http://127.0.0.1:9/cb"],"token_endpoint_auth_method":"client_secret_post"}"#,
        ),
    );
    let confidential = body(&r);
    let secret = confidential["client_secret"].as_str().unwrap();
    let stored = p.kv_value(&format!("client:v1:{}", confidential["client_id"].as_str().unwrap())).unwrap();
    assert!(!stored.contains(secret), "secret stored in the clear");
    assert!(stored.contains("secret_hash"));

    let bad = run(&p, post_json("/register", r#"{"redirect_uris":["javascript:alert(1)"]}"#));
    assert_eq!(bad.status(), 400);
    assert_eq!(body(&bad)["error"], "invalid_redirect_uri");
    assert_eq!(p.kv_keys().len(), 2, "nothing stored for a refused registration");
}

#[test]
fn a_registration_expires_within_a_day_unless_it_is_used() {
    let p = FakePlatform::with_settings(loopback_settings());
    let client_id = flow::register(&p);
    let key = format!("client:v1:{client_id}");
    assert_eq!(p.kv_ttl(&key), Some(Some(crate::store::clients::UNUSED_TTL_SECS)), "abandoned registrations go soon");
    let (_, code, _) = flow::obtain_code_for(&p, client_id.clone(), "https://gateway.test/mcp", "read");
    assert_eq!(flow::redeem(&p, &client_id, &code, flow::VERIFIER).status(), 200);
    assert_eq!(p.kv_ttl(&key), Some(Some(crate::store::clients::TTL_SECS)), "a client in use is kept");
    assert!(p.kv_value(&key).unwrap().contains("\"in_use\":true"));
}

#[test]
fn auto_approve_cannot_be_switched_on_outside_test_mode() {
    // Asked for, but without test mode (or with a real Attio): the consent page still shows.
    for extra in [
        vec![("TEST_AUTO_APPROVE", "1")],
        vec![("TEST_AUTO_APPROVE", "1"), ("INSECURE_TEST_MODE", "1"), ("ATTIO_API_BASE_URL", "https://api.attio.com")],
    ] {
        let mut m = loopback_settings();
        m.insert(TEST_ATTIO_TOKEN, "attio-test-token".into());
        for (k, v) in &extra {
            let key: &'static str = match *k {
                "TEST_AUTO_APPROVE" => crate::config::TEST_AUTO_APPROVE,
                "INSECURE_TEST_MODE" => INSECURE_TEST_MODE,
                _ => ATTIO_API_BASE_URL,
            };
            m.insert(key, v.to_string());
        }
        let p = FakePlatform::with_settings(m);
        let client_id = flow::register(&p);
        let r = run(&p, get(&format!("/authorize?{}", flow::authorize_query(&client_id, "https://gateway.test/mcp"))));
        assert_eq!(r.status(), 200, "{extra:?}: consent page expected");
        assert!(p.http.sent.borrow().is_empty(), "no Attio call");
    }
}

#[test]
fn metadata_document_clients_are_fetched_validated_and_cached() {
    let id = "https://app.example.com/oauth/client.json";
    let doc =
        serde_json::json!({"client_id": id, "client_name": "Doc Client", "redirect_uris": [flow::CLIENT_REDIRECT]});
    let p = FakePlatform::with_settings(loopback_settings());
    p.http.push(200, &doc.to_string());
    let q = flow::authorize_query(id, "https://gateway.test/mcp");
    let r = run(&p, get(&format!("/authorize?{q}")));
    assert_eq!(r.status(), 200, "{}", text(&r));
    assert!(text(&r).contains("Doc Client"));
    assert_eq!(p.http.sent.borrow()[0].uri(), id);
    // Cached: a second authorize does not fetch again.
    assert_eq!(run(&p, get(&format!("/authorize?{q}"))).status(), 200);
    assert_eq!(p.http.sent.borrow().len(), 1);
    // A document that names another client_id, or a private address: unknown client, no fetch.
    let p = FakePlatform::with_settings(loopback_settings());
    p.http.push(200, &serde_json::json!({"client_id": "https://evil.test/c.json", "client_name": "x", "redirect_uris": [flow::CLIENT_REDIRECT]}).to_string());
    assert_eq!(run(&p, get(&format!("/authorize?{q}"))).status(), 400);
    let private = flow::authorize_query("https://169.254.169.254/latest/meta-data", "https://gateway.test/mcp");
    assert_eq!(run(&p, get(&format!("/authorize?{private}"))).status(), 400);
    assert_eq!(p.http.sent.borrow().len(), 1, "the private address was never fetched");
}

#[test]
fn a_metadata_document_that_fails_is_not_fetched_again_for_a_minute() {
    let id = "https://app.example.com/oauth/broken.json";
    let q = flow::authorize_query(id, "https://gateway.test/mcp");
    let p = FakePlatform::with_settings(loopback_settings());
    p.http.push(404, "not found");
    for _ in 0..10 {
        assert_eq!(run(&p, get(&format!("/authorize?{q}"))).status(), 400);
    }
    assert_eq!(p.http.sent.borrow().len(), 1, "a burst costs the document's server one request");
    p.advance_ms(61_000);
    let doc = serde_json::json!({"client_id": id, "client_name": "Fixed", "redirect_uris": [flow::CLIENT_REDIRECT]});
    p.http.push(200, &doc.to_string());
    assert_eq!(run(&p, get(&format!("/authorize?{q}"))).status(), 200, "fetched again after the minute");
}
