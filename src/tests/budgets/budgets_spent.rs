//! Issue 26: one rule per budget when a daily limit is hit anyway (injected: daily limits cannot
//! be reproduced locally). KV writes spent: tool calls, refresh, revoke and registration (which
//! stores nothing) carry on; connecting a new person is refused with a clear answer and leaves
//! nothing half-made. Durable Object
//! budget spent: calls are refused with an error naming it, never served unaudited.
//! Administrators' revoke and disconnect keep working while their own storage does.

use crate::tests::flow::*;
use crate::tests::*;

fn list_objects(p: &FakePlatform, token: &str) -> Response {
    p.http.push(200, r#"{"data":[]}"#);
    let call = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_objects","arguments":{}}}"#;
    mcp(p, token, call, &[])
}

#[test]
fn with_the_days_kv_writes_spent_calls_refresh_revoke_and_register_carry_on_and_connect_says_why() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, code, _) = obtain_code(&p, "https://gateway.test/mcp", "read");
    let issued = body(&redeem(&p, &client_id, &code, VERIFIER));
    p.kv_writes_spent.set(true);

    // A tool call, audited.
    let at = issued["access_token"].as_str().unwrap();
    assert_eq!(body(&list_objects(&p, at))["result"]["isError"], false);
    // A refresh.
    let refreshed = run(&p, refresh_request(&client_id, issued["refresh_token"].as_str().unwrap()));
    assert_eq!(refreshed.status(), 200, "{}", text(&refreshed));
    let at = body(&refreshed)["access_token"].as_str().unwrap().to_string();
    assert_eq!(body(&list_objects(&p, &at))["result"]["isError"], false);
    // A revocation: the token stops working.
    let revoke = run(&p, form("/revoke", &[("client_id", &client_id), ("token", &at)], &[]));
    assert_eq!(revoke.status(), 200, "{}", text(&revoke));
    assert_eq!(list_objects(&p, &at).status(), 401);

    // A registration carries on: it stores nothing (its id carries it).
    let keys_before = p.kv_keys().len();
    let r = run(
        &p,
        post_json(
            "/register",
            &format!(
                r#"{{"client_name":"Late","redirect_uris":["{CLIENT_REDIRECT}"],"token_endpoint_auth_method":"none"}}"#
            ),
        ),
    );
    assert_eq!(r.status(), 201, "{}", text(&r));
    assert_eq!(p.kv_keys().len(), keys_before);

    // A new person connecting is refused with a page that says why, and is not half-connected.
    p.http.replies.borrow_mut().clear();
    let (state, jar) = start(&p);
    p.http.push(200, r#"{"access_token":"attio-at-new","token_type":"Bearer"}"#);
    p.http.push(200, &SELF_ACTIVE.replace("mem-1", "mem-new"));
    p.http.push(204, "");
    let back = callback(&p, &format!("code=c&state={state}"), &jar);
    assert_eq!(back.status(), 503, "{}", text(&back));
    assert!(text(&back).contains("daily"), "{}", text(&back));
    let newcomer = crate::base::user::UserId::new("ws-1", "mem-new").unwrap();
    assert!(
        block_on(crate::store::connections::latest(&p, &newcomer)).unwrap().is_none(),
        "no connection left in the person's object"
    );
}

#[test]
fn with_the_days_object_budget_spent_calls_are_refused_naming_it_and_never_served_unaudited() {
    let p = FakePlatform::with_settings(loopback_settings());
    let token = mcp_token(&p, "read");
    let rest = proxy_token(&p, "read");
    p.objects_spent.set(true);
    let sent = p.http.sent.borrow().len();
    let r = list_objects(&p, &token);
    assert_eq!(r.status(), 503, "{}", text(&r));
    assert!(text(&r).contains("Durable Object"), "{}", text(&r));
    let r = proxied(&p, "GET", "/v2/objects", &rest, "");
    assert_eq!(r.status(), 503, "{}", text(&r));
    assert!(text(&r).contains("Durable Object"), "{}", text(&r));
    assert_eq!(p.http.sent.borrow().len(), sent, "nothing reached Attio");
}
