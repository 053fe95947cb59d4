//! The authorization server: codes, tokens, refresh, PKCE, consent, bearer challenges, token exchange.

use crate::tests::flow::*;
use crate::tests::*;

#[test]
fn full_flow_code_token_protected_call_refresh_revoke() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, code, _) = obtain_code(&p, "https://gateway.test/v2", "read");
    let r = redeem(&p, &client_id, &code, VERIFIER);
    assert_eq!(r.status(), 200, "{}", text(&r));
    assert!(is_no_store(&r));
    let t = body(&r);
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["scope"], "attio:read");
    let at = t["access_token"].as_str().unwrap().to_string();
    let rt = t["refresh_token"].as_str().unwrap().to_string();
    assert!(!at.contains("attio-at-1"), "our token, not Attio's");

    // A protected call: our token in, Attio's token out.
    p.http.push(200, SELF_ACTIVE);
    let r = bearer_get(&p, "/v2/self", &at);
    assert_eq!(r.status(), 200, "{}", text(&r));
    assert_eq!(body(&r)["workspace_slug"], "acme");
    let upstream = p.http.sent.borrow().last().unwrap().headers()["authorization"].clone();
    assert_eq!(upstream, "Bearer attio-at-1", "the vaulted Attio token, never ours");

    // A replay without the verifier proves nothing: refused, and the grant lives on.
    let guess = redeem(&p, &client_id, &code, &"x".repeat(43));
    assert_eq!(body(&guess)["error"], "invalid_grant");
    p.http.push(200, SELF_ACTIVE);
    assert_eq!(bearer_get(&p, "/v2/self", &at).status(), 200, "a replay without the verifier revokes nothing");

    // Code replay with the verifier: refused, and the tokens it issued die.
    let replay = redeem(&p, &client_id, &code, VERIFIER);
    assert_eq!(body(&replay)["error"], "invalid_grant");
    assert_eq!(bearer_get(&p, "/v2/self", &at).status(), 401, "replay revoked the grant");
    let refresh = run(&p, refresh_request(&client_id, &rt));
    assert_eq!(body(&refresh)["error"], "invalid_grant");
}

#[test]
fn refresh_rotates_retries_get_the_same_pair_and_reuse_revokes() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, code, _) = obtain_code(&p, "https://gateway.test/mcp", "write");
    let t = body(&redeem(&p, &client_id, &code, VERIFIER));
    assert_eq!(t["scope"], "attio:read attio:write");
    let rt0 = t["refresh_token"].as_str().unwrap().to_string();
    let refresh = |rt: &str| body(&run(&p, refresh_request(&client_id, rt)));
    let first = refresh(&rt0);
    let rt1 = first["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt1, rt0);
    assert_eq!(refresh(&rt0), first, "a retry within the grace period gets the same pair");
    p.advance_ms(31_000);
    let second = refresh(&rt1);
    assert!(second["access_token"].is_string(), "{second}");
    assert_eq!(refresh(&rt0)["error"], "invalid_grant", "reuse after the grace period");
    assert_eq!(refresh(second["refresh_token"].as_str().unwrap())["error"], "invalid_grant", "the family is revoked");
}

#[test]
fn pkce_and_binding_failures() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, code, _) = obtain_code(&p, "https://gateway.test/mcp", "read");
    // Another client, a wrong redirect_uri or resource: refused without burning the code.
    let other = register(&p);
    assert_eq!(body(&redeem(&p, &other, &code, VERIFIER))["error"], "invalid_grant");
    let wrong_redirect = run(
        &p,
        form(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", &client_id),
                ("code", &code),
                ("code_verifier", VERIFIER),
                ("redirect_uri", "http://127.0.0.1:7777/other"),
            ],
            &[],
        ),
    );
    assert_eq!(body(&wrong_redirect)["error"], "invalid_grant");
    let wrong_resource = run(
        &p,
        form(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", &client_id),
                ("code", &code),
                ("code_verifier", VERIFIER),
                ("resource", "https://gateway.test/v2"),
            ],
            &[],
        ),
    );
    assert_eq!(body(&wrong_resource)["error"], "invalid_target");
    // A wrong verifier does not burn the code either (issue 24, finding 6): whoever intercepted
    // the code cannot deny it to the client holding the verifier, which redeems it once.
    let wrong = "x".repeat(43);
    assert_eq!(body(&redeem(&p, &client_id, &code, &wrong))["error"], "invalid_grant");
    assert_eq!(redeem(&p, &client_id, &code, VERIFIER).status(), 200, "the owner still redeems it");
    assert_eq!(body(&redeem(&p, &client_id, &code, VERIFIER))["error"], "invalid_grant", "once");
}

#[test]
fn authorize_never_redirects_to_an_unregistered_uri_and_requires_s256() {
    let p = FakePlatform::with_settings(loopback_settings());
    let client_id = register(&p);
    for bad in ["https://evil.test/cb", "http://127.0.0.1:7777/callback/x", "http://127.0.0.1:7777/callback#f"] {
        let q = authorize_query(&client_id, "https://gateway.test/mcp").replace(
            &url::form_urlencoded::byte_serialize(CLIENT_REDIRECT.as_bytes()).collect::<String>(),
            &url::form_urlencoded::byte_serialize(bad.as_bytes()).collect::<String>(),
        );
        let r = run(&p, get(&format!("/authorize?{q}")));
        assert_eq!(r.status(), 400, "{bad}");
        assert!(r.headers().get(LOCATION).is_none(), "{bad}: redirected");
    }
    assert_eq!(run(&p, get("/authorize?client_id=nope&response_type=code")).status(), 400);
    // A registered loopback URI with another port is fine.
    let q = authorize_query(&client_id, "https://gateway.test/mcp").replace("7777", "40404");
    assert_eq!(run(&p, get(&format!("/authorize?{q}"))).status(), 200);
    // PKCE, resource and response type errors, even for a client people use (it has redeemed
    // a code): a page naming the error, never a redirect (see the next test).
    let (client_id, code, _) = obtain_code_for(&p, client_id, "https://gateway.test/mcp", "read");
    assert_eq!(redeem(&p, &client_id, &code, VERIFIER).status(), 200);
    let pkce = [
        ("code_challenge_method=S256", "code_challenge_method=plain"),
        ("&code_challenge_method=S256", ""),
        (&format!("code_challenge={CHALLENGE}") as &str, "code_challenge="),
    ];
    for (from, to) in pkce {
        let q = authorize_query(&client_id, "https://gateway.test/mcp").replace(from, to);
        let r = run(&p, get(&format!("/authorize?{q}")));
        assert_eq!(r.status(), 400, "{to}");
        assert!(r.headers().get(LOCATION).is_none(), "{to}: redirected");
        assert!(text(&r).contains("invalid_request"), "{to}: {}", text(&r));
    }
    let q = authorize_query(&client_id, "https://evil.test/mcp");
    assert!(text(&run(&p, get(&format!("/authorize?{q}")))).contains("invalid_target"));
    let q =
        authorize_query(&client_id, "https://gateway.test/mcp").replace("response_type=code", "response_type=token");
    assert!(text(&run(&p, get(&format!("/authorize?{q}")))).contains("unsupported_response_type"));
}

/// Security review finding 7 and issue 24 finding 4 (RFC 9700 §4.11.2): anyone can register a
/// client whose redirect URI is theirs, and redeem one code with their own Attio account to make
/// it look used; an error answered with an immediate redirect from our domain would make the
/// gateway an open redirector. No client gets an error redirect before the person has chosen
/// anything on our consent page.
#[test]
fn no_client_is_sent_an_error_redirect_before_consent() {
    let p = FakePlatform::with_settings(loopback_settings());
    let client_id = register(&p);
    // The attacker's own approval and redemption: the client is now in use.
    let (client_id, code, _) = obtain_code_for(&p, client_id, "https://gateway.test/mcp", "read");
    assert_eq!(redeem(&p, &client_id, &code, VERIFIER).status(), 200);
    for (from, to) in [
        ("response_type=code", "response_type=bogus"),
        ("code_challenge_method=S256", "code_challenge_method=plain"),
        ("scope=", "scope=nonsense"),
    ] {
        let q = format!("{}&scope=", authorize_query(&client_id, "https://gateway.test/mcp")).replace(from, to);
        let r = run(&p, get(&format!("/authorize?{q}")));
        assert_eq!(r.status(), 400, "{to}");
        assert!(r.headers().get(LOCATION).is_none(), "{to}: redirected to the client");
        assert!(text(&r).contains("Nothing was sent back"), "{to}");
    }
}

#[test]
fn consent_needs_this_browsers_cookie_and_csrf_token() {
    let p = FakePlatform::with_settings(loopback_settings());
    let client_id = register(&p);
    let consent = run(&p, get(&format!("/authorize?{}", authorize_query(&client_id, "https://gateway.test/mcp"))));
    let page = text(&consent);
    let (request, csrf) = (hidden(&page, "request"), hidden(&page, "csrf"));
    let jar = cookies(&consent);
    // Another browser (no cookie), a forged token, or a cross-site post: refused.
    assert_eq!(
        run(&p, form("/authorize", &[("request", &request), ("csrf", &csrf), ("decision", "approve")], &[])).status(),
        403
    );
    assert_eq!(
        run(&p, form("/authorize", &[("request", &request), ("csrf", "forged"), ("decision", "approve")], &jar))
            .status(),
        403
    );
    let mut cross = form("/authorize", &[("request", &request), ("csrf", &csrf), ("decision", "approve")], &jar);
    cross.headers_mut().insert("origin", "https://evil.test".parse().unwrap());
    assert_eq!(run(&p, cross).status(), 403);
    // Denial goes back to the client with access_denied, state and iss.
    let denied = run(&p, form("/authorize", &[("request", &request), ("csrf", &csrf), ("decision", "deny")], &jar));
    assert_eq!(denied.status(), 303);
    let loc = denied.headers()[LOCATION].to_str().unwrap();
    assert_eq!(query(loc, "error").as_deref(), Some("access_denied"));
    assert_eq!(query(loc, "state").as_deref(), Some("client-state&x"));
    // The request is answered: the answer clears the form's cookie, so this browser cannot
    // answer it again (the request was never stored: nothing else to spend).
    let cleared = denied.headers().get_all(SET_COOKIE).iter().any(|c| {
        let c = c.to_str().unwrap();
        c.starts_with("__Host-agw-authz=;") && c.contains("Max-Age=0")
    });
    assert!(cleared, "{:?}", denied.headers());
    let after: Vec<String> = jar.iter().filter(|c| !c.starts_with("__Host-agw-authz=")).cloned().collect();
    assert_eq!(
        run(&p, form("/authorize", &[("request", &request), ("csrf", &csrf), ("decision", "approve")], &after))
            .status(),
        403
    );
}

#[test]
fn bearer_validation_answers_with_challenges() {
    let p = FakePlatform::with_settings(loopback_settings());
    let r = run(&p, get("/v2/self"));
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.headers()["www-authenticate"],
        "Bearer resource_metadata=\"https://gateway.test/.well-known/oauth-protected-resource/v2\""
    );
    let r = bearer_get(&p, "/v2/self", "attio-at-1");
    assert_eq!(r.status(), 401, "an Attio token is not ours");
    assert!(r.headers()["www-authenticate"].to_str().unwrap().contains("error=\"invalid_token\""));
    // An MCP-audience token at the REST proxy: wrong audience.
    let (client_id, code, _) = obtain_code(&p, "https://gateway.test/mcp", "read");
    let at = body(&redeem(&p, &client_id, &code, VERIFIER))["access_token"].as_str().unwrap().to_string();
    let r = bearer_get(&p, "/v2/self", &at);
    assert_eq!(r.status(), 401);
    assert!(text(&r).contains("another resource"));
    let mut q = get(&format!("/v2/self?access_token={at}"));
    q.headers_mut().remove("authorization");
    assert_eq!(run(&p, q).status(), 401, "tokens in the query string are ignored");
}

/// Security review finding 5: a member who leaves the workspace (Attio suspends them) loses
/// access at the next refresh; an answer that proves nothing (a missing scope) changes nothing.
#[test]
fn a_suspended_member_loses_access_at_the_next_refresh() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, code, _) = obtain_code(&p, "https://gateway.test/v2", "read");
    let t = body(&redeem(&p, &client_id, &code, VERIFIER));
    let refresh = |rt: &str| run(&p, refresh_request(&client_id, rt));
    // Attio answers 403 (the app lacks user_management:read): no proof, access goes on.
    p.http.push(403, r#"{"status_code":403,"type":"auth_error","code":"forbidden","message":"Missing scope"}"#);
    let ok = refresh(t["refresh_token"].as_str().unwrap());
    assert_eq!(ok.status(), 200, "{}", text(&ok));
    let member_call = p.http.sent.borrow().last().unwrap().uri().to_string();
    assert!(member_call.ends_with("/v2/workspace_members/mem-1"), "{member_call}");
    // Now Attio says the member is suspended.
    p.http.push(
        200,
        r#"{"data":{"id":{"workspace_id":"ws-1","workspace_member_id":"mem-1"},"access_level":"suspended"}}"#,
    );
    let t = body(&ok);
    let refused = refresh(t["refresh_token"].as_str().unwrap());
    assert_eq!(body(&refused)["error"], "invalid_grant", "{}", text(&refused));
    assert!(text(&refused).contains("no longer an active member"));
    // Every grant of the person stops: the connection itself is revoked.
    assert_ne!(bearer_get(&p, "/v2/self", t["access_token"].as_str().unwrap()).status(), 200);
}

#[test]
fn the_daily_sweep_revokes_connections_of_members_who_left() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, code, _) = obtain_code(&p, "https://gateway.test/v2", "read");
    let t = body(&redeem(&p, &client_id, &code, VERIFIER));
    let config = crate::config::SettingsSource::config(&p).unwrap();
    // An outage proves nothing.
    p.http.push(503, "{}");
    let progress = block_on(crate::control::cron::run_until_done(&p, &config, 5));
    assert_eq!((progress.members.checked, progress.members.ended), (1, 0));
    // The next day's pass.
    p.advance_ms(86_400_000);
    p.http.push(200, r#"{"data":{"access_level":"suspended"}}"#);
    let progress = block_on(crate::control::cron::run_until_done(&p, &config, 5));
    assert_eq!((progress.members.checked, progress.members.ended), (1, 1));
    assert_ne!(bearer_get(&p, "/v2/self", t["access_token"].as_str().unwrap()).status(), 200);
    let refused = run(&p, refresh_request(&client_id, t["refresh_token"].as_str().unwrap()));
    assert_eq!(body(&refused)["error"], "invalid_grant");
}

/// Security review finding 10: a connection record that does not open (a `VAULT_KEYS` entry
/// removed too early) is kept, and so are its grants: refreshing says "try later", and works
/// again once the key is back. The daily sweep's count of such records shows on /health.
#[test]
fn an_unreadable_connection_never_costs_anyone_their_grants_and_is_reported() {
    let mut p = FakePlatform::with_settings(loopback_settings());
    let (client_id, code, _) = obtain_code(&p, "https://gateway.test/v2", "read");
    let t = body(&redeem(&p, &client_id, &code, VERIFIER));
    let keys_in_use = p.settings.values[crate::config::VAULT_KEYS].clone();
    // The deployer replaces VAULT_KEYS without keeping the old key.
    let other = "AQECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    p.settings.values.insert(crate::config::VAULT_KEYS, format!("k9:{other}"));
    let refresh = |p: &FakePlatform, rt: &str| run(p, refresh_request(&client_id, rt));
    let r = refresh(&p, t["refresh_token"].as_str().unwrap());
    assert_eq!(r.status(), 503, "{}", text(&r));
    assert_eq!(body(&r)["error"], "temporarily_unavailable");
    // The sweep counts it; /health and /setup say so.
    let config = crate::config::SettingsSource::config(&p).unwrap();
    let progress = block_on(crate::control::cron::run_until_done(&p, &config, 5));
    assert_eq!(progress.reseal.unreadable, 1);
    let health = run(&p, get("/health"));
    assert!(body(&health)["warnings"].to_string().contains("could not be opened"), "{}", text(&health));
    assert!(text(&run(&p, get("/setup"))).contains("could not be opened"));
    // The key is back: the same refresh token works.
    p.settings.values.insert(crate::config::VAULT_KEYS, keys_in_use);
    let r = refresh(&p, t["refresh_token"].as_str().unwrap());
    assert_eq!(r.status(), 200, "{}", text(&r));
}

/// Security review finding 10: `SIGNING_KEY` rotates like `VAULT_KEYS` (newest first, older keys
/// only recognise): nobody loses a grant, a flow in progress or their session, and once the
/// old key is gone what it made no longer counts.
#[test]
fn signing_key_rotation_keeps_grants_sessions_and_flows_in_progress() {
    let old_key = crate::testing::KEY_A;
    let new_key = "AQECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    let mut p = FakePlatform::with_settings(loopback_settings());
    p.settings.values.insert(crate::config::SIGNING_KEY, old_key.into());
    let (client_id, code, jar) = obtain_code(&p, "https://gateway.test/v2", "read");
    let t = body(&redeem(&p, &client_id, &code, VERIFIER));
    // A second flow is waiting for its code to be redeemed when the key changes.
    let (client_b, code_b, _) = obtain_code(&p, "https://gateway.test/mcp", "read");
    // A confidential client, registered under the old key.
    let reg = body(&run(
        &p,
        post_json(
            "/register",
            r#"{"redirect_uris":["http://127.0.0.1:9/cb"],"token_endpoint_auth_method":"client_secret_post"}"#,
        ),
    ));
    let (conf_id, conf_secret) =
        (reg["client_id"].as_str().unwrap().to_string(), reg["client_secret"].as_str().unwrap().to_string());
    let authenticates = |p: &FakePlatform| {
        let revoke = form("/revoke", &[("client_id", &conf_id), ("client_secret", &conf_secret), ("token", "x")], &[]);
        run(p, revoke).status()
    };

    p.settings.values.insert(crate::config::SIGNING_KEY, format!("{new_key},{old_key}"));
    // The access token, the session cookie and the pending code made under the old key all work.
    p.http.push(200, SELF_ACTIVE);
    assert_eq!(bearer_get(&p, "/v2/self", t["access_token"].as_str().unwrap()).status(), 200);
    assert_eq!(run(&p, with_cookies("/account", &jar)).status(), 200, "still signed in");
    assert_eq!(redeem(&p, &client_b, &code_b, VERIFIER).status(), 200, "a code issued before the rotation");
    assert_eq!(authenticates(&p), 200, "a client secret issued before the rotation");
    let refreshed = run(&p, refresh_request(&client_id, t["refresh_token"].as_str().unwrap()));
    assert_eq!(refreshed.status(), 200, "{}", text(&refreshed));
    let t2 = body(&refreshed);

    // The old key retired: tokens issued since work; the old access token does not.
    p.settings.values.insert(crate::config::SIGNING_KEY, new_key.into());
    p.http.push(200, SELF_ACTIVE);
    assert_eq!(bearer_get(&p, "/v2/self", t2["access_token"].as_str().unwrap()).status(), 200);
    assert_eq!(bearer_get(&p, "/v2/self", t["access_token"].as_str().unwrap()).status(), 401);
    assert_eq!(run(&p, with_cookies("/account", &jar)).status(), 401, "its session is gone with it");
    assert_eq!(authenticates(&p), 200, "the client secret was re-hashed under the new key when it was used");
}

/// Issue 28: `offline_access` is listed by the authorization server and the protected resource
/// (some clients keep refreshing only when it is), accepted when asked for, and changes nothing:
/// the grant carries the scopes it names besides, and a refresh token comes anyway.
#[test]
fn offline_access_is_listed_accepted_and_dropped() {
    let p = FakePlatform::with_settings(loopback_settings());
    let listed = |path: &str| body(&run(&p, get(path)))["scopes_supported"].to_string();
    assert!(listed("/.well-known/oauth-authorization-server").contains("offline_access"));
    assert!(listed("/.well-known/oauth-protected-resource/mcp").contains("offline_access"));
    let client_id = register(&p);
    let query =
        format!("{}&scope=attio%3Aread+offline_access", authorize_query(&client_id, "https://gateway.test/mcp"));
    let consent = run(&p, get(&format!("/authorize?{query}")));
    assert_eq!(consent.status(), 200, "{}", text(&consent));
    let (client_id, code, _) = obtain_code(&p, "https://gateway.test/mcp", "read");
    let issued = body(&redeem(&p, &client_id, &code, VERIFIER));
    assert!(issued["refresh_token"].is_string() && !issued["scope"].to_string().contains("offline_access"), "{issued}");
}
