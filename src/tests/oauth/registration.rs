//! Discovery documents, dynamic registration, client metadata documents, auto-approval's guard.

use crate::tests::flow;
use crate::tests::*;

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
fn registration_issues_sealed_ids_and_stores_nothing() {
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
    let id = public["client_id"].as_str().unwrap();
    assert!(id.starts_with("mcp2.") && id.len() <= 512, "{id}");
    assert!(public.get("client_secret").is_none(), "public clients get no secret");

    let r = run(
        &p,
        post_json(
            "/register",
            r#"{"redirect_uris":["http://127.0.0.1:9/cb"],"token_endpoint_auth_method":"client_secret_post"}"#,
        ),
    );
    let confidential = body(&r);
    assert!(confidential["client_secret"].as_str().unwrap().starts_with("agws2."));
    assert_eq!(p.kv_keys(), Vec::<String>::new(), "registrations store nothing");
    assert!(!p.take_calls().iter().any(|c| c.starts_with("do ") || c.starts_with("kv ")), "no storage request");

    let bad = run(&p, post_json("/register", r#"{"redirect_uris":["javascript:alert(1)"]}"#));
    assert_eq!(bad.status(), 400);
    assert_eq!(body(&bad)["error"], "invalid_redirect_uri");
    // A registration that would not fit in 512 bytes is refused, saying what to change.
    let uris: Vec<String> = (0..8).map(|i| format!("https://app.example/oauth/callback/{i}/x")).collect();
    let big = run(&p, post_json("/register", &serde_json::json!({ "redirect_uris": uris }).to_string()));
    assert_eq!((big.status().as_u16(), body(&big)["error"].as_str()), (400, Some("invalid_client_metadata")));
    assert!(body(&big)["error_description"].as_str().unwrap().contains("fewer or shorter redirect URIs"));
}

#[test]
fn a_sealed_client_works_through_a_flow_and_an_altered_id_is_unknown() {
    let p = FakePlatform::with_settings(loopback_settings());
    let client_id = flow::register(&p);
    assert!(client_id.starts_with("mcp2."));
    let (_, code, _) = flow::obtain_code_for(&p, client_id.clone(), "https://gateway.test/mcp", "read");
    assert_eq!(flow::redeem(&p, &client_id, &code, flow::VERIFIER).status(), 200);
    assert!(!p.kv_keys().iter().any(|k| k.starts_with("client:")), "no client record, even once used");
    // The same registration under another redirect URI is another id whose tag fails.
    let (head, tag) = client_id.rsplit_once('.').unwrap();
    let altered = format!("{head}.{}", tag.chars().rev().collect::<String>());
    let r = run(&p, get(&format!("/authorize?{}", flow::authorize_query(&altered, "https://gateway.test/mcp"))));
    assert_eq!(r.status(), 400, "{}", text(&r));
    assert!(text(&r).contains("Unknown application"), "{}", text(&r));
}

#[test]
fn a_client_registered_by_an_earlier_release_keeps_working_and_is_kept_once_used() {
    let p = FakePlatform::with_settings(loopback_settings());
    let record = format!(
        r#"{{"client_id":"mcp_legacy","client_name":"Test <Client>","redirect_uris":["{}"],"grant_types":["authorization_code","refresh_token"],"auth_method":"none","created_at_ms":1}}"#,
        flow::CLIENT_REDIRECT
    );
    p.kv_insert_raw("client:v1:mcp_legacy", &record);
    let (_, code, _) = flow::obtain_code_for(&p, "mcp_legacy".into(), "https://gateway.test/mcp", "read");
    assert_eq!(flow::redeem(&p, "mcp_legacy", &code, flow::VERIFIER).status(), 200);
    let key = "client:v1:mcp_legacy";
    assert_eq!(p.kv_ttl(key), Some(Some(crate::store::clients::TTL_SECS)), "a client in use is kept");
    assert!(p.kv_value(key).unwrap().contains("\"in_use\":true"));
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
