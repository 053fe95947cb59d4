//! Connecting Attio: `/connect`, the callback, status and disconnect.

use crate::tests::*;

#[test]
fn connect_stores_a_sealed_connection_bound_to_the_identity() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (state, jar) = start(&p);
    assert_eq!(state.len(), 43, "256-bit state");
    assert!(jar.iter().any(|c| c.starts_with("__Host-agw-connect=")));
    script_successful_exchange(&p);
    let r = callback(&p, &format!("code=the-code&state={state}"), &jar);
    assert_eq!(r.status(), 303, "{}", text(&r));
    assert_eq!(r.headers()[LOCATION], "/account");
    let session = cookies(&r);
    assert!(session.iter().any(|c| c.starts_with("__Host-agw-session=")));
    let stored = p.kv_value("attio-conn:v1:ws-1:mem-1").expect("stored under workspace + member");
    assert!(!stored.contains("attio-at-1"), "token sealed");
    let record: Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(record["workspace_slug"], "acme");
    assert_eq!(record["scope"], "record_permission:read");
    assert!(!p.log_text().contains("attio-at-1") && !p.log_text().contains(&state));

    // The status page uses the vaulted token.
    p.http.push(200, SELF_ACTIVE);
    let mut req = with_cookies("/connect/status", &session);
    req.headers_mut().insert("accept", "application/json".parse().unwrap());
    let r = run(&p, req);
    assert_eq!(r.status(), 200, "{}", text(&r));
    assert_eq!(body(&r)["workspace"]["slug"], "acme");
    let last = p.http.sent.borrow().last().unwrap().headers()["authorization"].clone();
    assert_eq!(last, "Bearer attio-at-1");
}

#[test]
fn state_must_be_present_known_fresh_unused_and_from_this_browser() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (state, jar) = start(&p);
    assert_eq!(callback(&p, "code=c", &jar).status(), 400, "missing state");
    assert_eq!(callback(&p, &format!("code=c&state={state}"), &[]).status(), 403, "no cookie: other browser");
    let (_, other_jar) = start(&p);
    assert_eq!(callback(&p, &format!("code=c&state={state}"), &other_jar).status(), 403, "another flow's cookie");
    assert_eq!(callback(&p, "code=c&state=forged", &jar).status(), 403, "unknown state");
    // Nothing was stored for these: a forged or foreign state opens nothing.
    assert!(!p.take_calls().iter().any(|c| c.starts_with("do ") || c.starts_with("kv ")));
    script_successful_exchange(&p);
    let done = callback(&p, &format!("code=c&state={state}"), &jar);
    assert_eq!(done.status(), 303);
    let cleared =
        done.headers().get_all(SET_COOKIE).iter().any(|c| c.to_str().unwrap().starts_with("__Host-agw-connect=;"));
    assert!(cleared, "the callback clears the browser's sign-in");
    // Replayed with the old cookie: Attio refuses its spent code...
    p.http.push(400, r#"{"error":"invalid_grant"}"#);
    let replay = callback(&p, &format!("code=c&state={state}"), &jar);
    assert_eq!(replay.status(), 400, "replayed");
    assert!(text(&replay).contains("Attio refused"), "{}", text(&replay));
    // ...and were it to hand out another token, the spent state is refused and the token given back.
    p.http.push(200, r#"{"access_token":"attio-at-2","token_type":"Bearer"}"#);
    p.http.push(200, "{}");
    let replay = callback(&p, &format!("code=c2&state={state}"), &jar);
    assert_eq!(replay.status(), 400, "replayed");
    assert!(text(&replay).contains("already used"), "{}", text(&replay));
    assert!(replay.headers().get(LOCATION).is_none(), "errors never redirect");
    assert!(p.http.sent.borrow().iter().any(|r| r.uri().path().ends_with("/revoke")), "the token given back");
}

#[test]
fn expired_state_is_rejected() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (state, jar) = start(&p);
    p.advance_ms(10 * 60 * 1000);
    let r = callback(&p, &format!("code=c&state={state}"), &jar);
    assert_eq!(r.status(), 400);
    assert!(text(&r).contains("expired"));
    assert!(p.http.sent.borrow().is_empty(), "no exchange attempted");
}

#[test]
fn denial_and_attio_errors_show_pages() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (state, jar) = start(&p);
    let r = callback(&p, &format!("error=access_denied&state={state}"), &jar);
    assert_eq!(r.status(), 400);
    assert!(text(&r).contains("You declined access"));
    let (state, jar) = start(&p);
    let r = callback(&p, &format!("error=%3Cscript%3E&state={state}"), &jar);
    assert!(!text(&r).contains("<script>"));
    assert!(p.kv_keys().is_empty());
}

#[test]
fn token_endpoint_failures_store_nothing() {
    for (status, body_text) in [(503, "down"), (200, "<html>not json</html>"), (400, r#"{"error":"invalid_grant"}"#)] {
        let p = FakePlatform::with_settings(loopback_settings());
        let (state, jar) = start(&p);
        p.http.push(status, body_text);
        let r = callback(&p, &format!("code=c&state={state}"), &jar);
        assert!(r.status() == 502 || r.status() == 400, "{status}: {}", r.status());
        assert!(p.kv_keys().is_empty(), "nothing stored after a {status}");
        assert!(cookies(&r).iter().all(|c| !c.starts_with("__Host-agw-session")));
    }
}

#[test]
fn inactive_identity_aborts_the_connection() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (state, jar) = start(&p);
    p.http.push(200, r#"{"access_token":"at","token_type":"Bearer"}"#);
    p.http.push(200, r#"{"active":false}"#);
    assert_eq!(callback(&p, &format!("code=c&state={state}"), &jar).status(), 502);
    assert!(p.kv_keys().is_empty());
}

#[test]
fn workspace_allowlist_refuses_others_and_revokes_their_token() {
    let mut m = loopback_settings();
    m.insert(ATTIO_ALLOWED_WORKSPACES, "globex".into());
    let p = FakePlatform::with_settings(m);
    let (state, jar) = start(&p);
    script_successful_exchange(&p);
    p.http.push(204, "");
    let r = callback(&p, &format!("code=c&state={state}"), &jar);
    assert_eq!(r.status(), 403);
    assert!(text(&r).contains("Acme"));
    assert!(p.kv_keys().is_empty());
    assert!(p.http.sent.borrow().iter().any(|r| r.uri().path() == "/oauth/revoke"));
}

#[test]
fn disconnect_needs_a_session_and_a_valid_csrf_token() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (state, jar) = start(&p);
    script_successful_exchange(&p);
    let session = cookies(&callback(&p, &format!("code=c&state={state}"), &jar));
    let post = |jar: &[String], form: &str, origin: Option<&str>| {
        let mut b = http::Request::post("https://gateway.test/connect/disconnect")
            .header(COOKIE, jar.join("; "))
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some(o) = origin {
            b = b.header("origin", o);
        }
        run(&p, b.body(form.as_bytes().to_vec()).unwrap())
    };
    assert_eq!(post(&[], "csrf=x", None).status(), 401);
    assert_eq!(post(&session, "csrf=forged", None).status(), 403);
    // The real token, from the status page.
    p.http.push(200, SELF_ACTIVE);
    let page = text(&run(&p, with_cookies("/connect/status", &session)));
    let csrf = page.split("name=csrf value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    assert_eq!(post(&session, &format!("csrf={csrf}"), Some("https://evil.test")).status(), 403, "cross-site");
    // As after a recent refresh: a sealed copy in the connection's object.
    let seed =
        Command::Put { key: "latest".into(), value: serde_json::json!({"sealed": "copy"}), expires_at_ms: u64::MAX };
    block_on(p.transition("connection:attio-conn:v1:ws-1:mem-1", seed)).unwrap();
    p.http.push(204, "");
    let r = post(&session, &format!("csrf={csrf}"), Some("https://gateway.test"));
    assert_eq!(r.status(), 200, "{}", text(&r));
    assert!(p.kv_keys().is_empty(), "token deleted");
    let copy = block_on(p.transition("connection:attio-conn:v1:ws-1:mem-1", Command::Get { key: "latest".into() }));
    assert_eq!(copy.unwrap(), Outcome::Missing, "no copy left in the connection's object");
    let revoke = p.http.sent.borrow().iter().find(|r| r.uri().path() == "/oauth/revoke").map(|r| text_of(r.body()));
    assert_eq!(revoke.as_deref(), Some("token=attio-at-1"));
}

#[test]
fn status_without_a_session_asks_to_connect() {
    let p = FakePlatform::with_settings(loopback_settings());
    let mut req = get("/connect/status");
    req.headers_mut().insert("accept", "application/json".parse().unwrap());
    let r = run(&p, req);
    assert_eq!(r.status(), 401);
    assert_eq!(body(&r)["connect"], "/connect");
    let _ = reply(200, "");
}

/// Security review finding 3: a grant the person's index missed must not outlive a disconnect,
/// nor come back when the same member connects again.
#[test]
fn a_grant_missing_from_the_index_dies_with_the_disconnect_and_stays_dead_after_reconnecting() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, code, jar) = flow::obtain_code(&p, "https://gateway.test/v2", "read");
    let tokens = body(&flow::redeem(&p, &client_id, &code, flow::VERIFIER));
    let (access, refresh) =
        (tokens["access_token"].as_str().unwrap().to_string(), tokens["refresh_token"].as_str().unwrap().to_string());
    // The index lost the grant (a failed write when it was created).
    let index: Vec<String> = p.kv_keys().into_iter().filter(|k| k.starts_with("grant-index:")).collect();
    assert_eq!(index.len(), 1);
    block_on(crate::platform::KvStore::kv_delete(&p, &index[0])).unwrap();

    // Disconnect, from the status page.
    assert_eq!(flow::disconnect_from_status(&p, &jar).status(), 200);

    // The same member connects again.
    let (state, connect_jar) = start(&p);
    script_successful_exchange(&p);
    assert_eq!(callback(&p, &format!("code=c2&state={state}"), &connect_jar).status(), 303);

    let again = run(&p, flow::refresh_request(&client_id, &refresh));
    assert_eq!(body(&again)["error"], "invalid_grant", "{}", text(&again));
    p.http.push(200, SELF_ACTIVE);
    assert_ne!(flow::bearer_get(&p, "/v2/self", &access).status(), 200, "the old access token reaches nothing");
}

/// Connecting again over an active connection (another browser, a re-run of /connect) keeps
/// the person's apps working.
#[test]
fn connecting_again_over_an_active_connection_keeps_the_grants() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, code, _) = flow::obtain_code(&p, "https://gateway.test/v2", "read");
    let tokens = body(&flow::redeem(&p, &client_id, &code, flow::VERIFIER));
    let (state, connect_jar) = start(&p);
    script_successful_exchange(&p);
    assert_eq!(callback(&p, &format!("code=c2&state={state}"), &connect_jar).status(), 303);
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let again = run(&p, flow::refresh_request(&client_id, refresh));
    assert_eq!(again.status(), 200, "{}", text(&again));
}

#[test]
fn member_allowlist_admits_listed_emails_and_cuts_off_the_others() {
    let member = r#"{"data":{"id":{"workspace_id":"w","workspace_member_id":"m"},"first_name":"Ada","last_name":"A","email_address":"Ada@Acme.example","access_level":"admin"}}"#;
    // Not on the list: refused, nothing stored, the unused token revoked.
    let mut m = loopback_settings();
    m.insert(ATTIO_ALLOWED_MEMBERS, "bob@acme.example".into());
    let p = FakePlatform::with_settings(m);
    let (state, jar) = start(&p);
    script_successful_exchange(&p);
    p.http.push(200, member);
    p.http.push(204, "");
    let r = callback(&p, &format!("code=c&state={state}"), &jar);
    assert_eq!(r.status(), 403);
    assert!(text(&r).contains("does not serve ada@acme.example"), "{}", text(&r));
    assert!(p.kv_keys().is_empty());
    assert!(p.http.sent.borrow().iter().any(|r| r.uri().path() == "/oauth/revoke"));
    // An email Attio would not tell (no user_management:read): refused too.
    let (state, jar) = start(&p);
    script_successful_exchange(&p);
    p.http.push(403, r#"{"status_code":403,"type":"auth_error","code":"missing_scopes","message":"no"}"#);
    p.http.push(204, "");
    let r = callback(&p, &format!("code=c&state={state}"), &jar);
    assert_eq!(r.status(), 403);
    assert!(text(&r).contains("user_management:read"));

    // On the list (whatever the case): connected, and the email kept with the connection.
    let mut m = loopback_settings();
    m.insert(ATTIO_ALLOWED_MEMBERS, "ada@acme.example".into());
    let mut p = FakePlatform::with_settings(m);
    let (state, jar) = start(&p);
    script_successful_exchange(&p);
    p.http.push(200, member);
    let r = callback(&p, &format!("code=c&state={state}"), &jar);
    assert_eq!(r.status(), 303, "{}", text(&r));
    let session = cookies(&r);
    p.http.push(200, SELF_ACTIVE);
    assert_eq!(run(&p, with_cookies("/connect/status", &session)).status(), 200);
    // Taken off the list: the next use finds no connection.
    p.settings.values.insert(ATTIO_ALLOWED_MEMBERS, "bob@acme.example".into());
    let page = text(&run(&p, with_cookies("/connect/status", &session)));
    assert!(page.contains("have not connected"), "cut off at the next use: {page}");
}
