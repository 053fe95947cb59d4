//! `/admin` without Cloudflare Access: Attio workspace admins administer their own workspace;
//! members, and people not signed in, are refused.

use crate::tests::flow::*;
use crate::tests::*;

#[test]
fn workspace_admins_administer_their_workspace_and_members_cannot() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, code, jar) = obtain_code(&p, "https://gateway.test/mcp", "write");
    assert_eq!(redeem(&p, &client_id, &code, VERIFIER).status(), 200);
    assert_eq!(run(&p, get("/admin")).status(), 401, "not signed in");
    p.http.push(200, r#"{"data":{"access_level":"admin","email_address":"ada@acme.example"}}"#);
    let r = run(&p, with_cookies("/admin", &jar));
    assert_eq!(r.status(), 200, "{}", text(&r));
    let page = text(&r);
    assert!(page.contains("You administer the Attio workspace") && page.contains("Test &lt;Client&gt;"), "{page}");
    assert!(p.http.sent.borrow().last().unwrap().uri().path().starts_with("/v2/workspace_members/"));
    p.http.push(200, r#"{"data":{"access_level":"member"}}"#);
    assert_eq!(run(&p, with_cookies("/admin", &jar)).status(), 403);
    // Attio will not say (no user_management:read): not let in on a guess.
    p.http.push(403, r#"{"status_code":403,"type":"auth_error","code":"missing_scopes","message":"no"}"#);
    assert_eq!(run(&p, with_cookies("/admin", &jar)).status(), 503);
}

#[test]
fn policy_turns_writes_the_proxy_and_old_grants_off_on_the_next_call() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, code, _) = obtain_code(&p, "https://gateway.test/mcp", "write");
    let issued = body(&redeem(&p, &client_id, &code, VERIFIER));
    let mcp_at = issued["access_token"].as_str().unwrap().to_string();
    let rest = proxy_token(&p, "write");
    let save = |policy: crate::control::policy::Policy| block_on(crate::store::policy::save(&p, &policy)).unwrap();
    let note = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_note","arguments":{"parent_object":"companies","parent_record_id":"r","title":"t","content":"c"}}}"#;
    save(crate::control::policy::Policy { writes_off: true, proxy_off: true, ..Default::default() });
    let r = mcp(&p, &mcp_at, note, &[]);
    assert_eq!(r.status(), 403);
    assert!(text(&r).contains("turned writes off"), "{}", text(&r));
    let list = body(&mcp(&p, &mcp_at, r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#, &[]));
    assert!(list["result"]["tools"].as_array().unwrap().iter().all(|t| t["annotations"]["readOnlyHint"] == true));
    let r = proxied(&p, "GET", "/v2/objects", &rest, "");
    assert_eq!(r.status(), 403);
    assert_eq!(body(&r)["code"], "proxy_disabled");
    // A one-day maximum lifetime: a token refreshed just before the day ends stops working
    // when the day is over, and the grant cannot be refreshed any more.
    p.advance_ms(23 * 3_600_000 + 1_800_000);
    let refreshed = body(&run(&p, refresh_request(&client_id, issued["refresh_token"].as_str().unwrap())));
    let fresh = refreshed["access_token"].as_str().expect("refreshed within the day").to_string();
    save(crate::control::policy::Policy { max_grant_days: Some(1), ..Default::default() });
    let list = r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#;
    assert_eq!(mcp(&p, &fresh, list, &[]).status(), 200, "still within the day");
    p.advance_ms(45 * 60_000);
    assert_eq!(mcp(&p, &fresh, list, &[]).status(), 401, "the grant outlived the maximum");
    let again = run(&p, refresh_request(&client_id, refreshed["refresh_token"].as_str().unwrap()));
    assert_eq!(again.status(), 400);
    assert!(text(&again).contains("maximum grant lifetime"), "{}", text(&again));
}

/// Issue 27: registrations store nothing, so an app is refused by blocking its id in the
/// deployer's policy: its calls, its refreshes and new approvals stop; other apps carry on.
#[test]
fn a_blocked_app_cannot_call_refresh_or_be_approved_and_other_apps_carry_on() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, code, _) = obtain_code(&p, "https://gateway.test/mcp", "read");
    let issued = body(&redeem(&p, &client_id, &code, VERIFIER));
    let token = issued["access_token"].as_str().unwrap().to_string();
    let other = mcp_token(&p, "read");
    let list = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    assert_eq!(mcp(&p, &token, list, &[]).status(), 200);
    let policy = crate::control::policy::Policy::from_form(&[("blocked_apps".into(), client_id.clone())]).unwrap();
    block_on(crate::store::policy::save(&p, &policy)).unwrap();
    assert_eq!(mcp(&p, &token, list, &[]).status(), 401, "its calls stop");
    assert_eq!(mcp(&p, &other, list, &[]).status(), 200, "another app carries on");
    let r = run(&p, refresh_request(&client_id, issued["refresh_token"].as_str().unwrap()));
    assert_eq!(body(&r)["error"], "invalid_grant");
    assert!(text(&r).contains("blocked"), "{}", text(&r));
    // The authorization page, open to anyone, uses the policy an isolate read within a minute.
    p.advance_ms(crate::store::policy::RECENT_MS);
    let r = run(&p, get(&format!("/authorize?{}", authorize_query(&client_id, "https://gateway.test/mcp"))));
    assert_eq!(r.status(), 403);
    assert!(text(&r).contains("Application blocked"), "{}", text(&r));
}

/// Issue 29: each log entry opens to its details (the call, read or write, the ids it touched,
/// Attio's status, the duration; no argument value), and a person's page is the log filtered to
/// them with only their card.
#[test]
fn log_entries_open_to_their_details_and_a_persons_page_shows_only_them() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, code, jar) = obtain_code(&p, "https://gateway.test/mcp", "write");
    let token = body(&redeem(&p, &client_id, &code, VERIFIER))["access_token"].as_str().unwrap().to_string();
    p.http.push(200, r#"{"data":{"id":{"record_id":"r"},"values":{}}}"#);
    let call = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_record","arguments":{"object":"companies","record_id":"0b0e0f0a-0000-4000-8000-000000000001"}}}"#;
    assert_eq!(mcp(&p, &token, call, &[]).status(), 200);
    p.http.push(200, r#"{"data":{"access_level":"admin","email_address":"ada@acme.example"}}"#);
    let page = text(&run(&p, with_cookies("/admin?person=ws-1:mem-1", &jar)));
    assert!(page.contains("<details><summary>ok</summary>"), "{page}");
    assert!(
        page.contains("<code>get_record</code> (tool, read)") && page.contains("0b0e0f0a-0000-4000-8000-000000000001")
    );
    assert!(page.contains("<dt>Took</dt><dd>0 ms</dd>"), "{page}");
    assert!(page.contains("href=\"/admin?person=ws-1%3Amem-1\""), "the person's name links to their page");
    assert_eq!(page.matches("Disconnect this person").count(), 1, "only their card");
}
