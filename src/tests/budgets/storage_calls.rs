//! How many storage requests an authenticated call makes (at most one before the
//! Attio call), and that the cheap path gives nothing away: a token revoked a moment ago is
//! refused, a connection copy that lapsed is read from KV once and put back, and a grant kept
//! in an object of its own (made by an earlier release) still works.

use crate::oauth::grants::grant::{CodeGrant, Grant};
use crate::platform::Clock;
use crate::store::grants;
use crate::tests::flow::*;
use crate::tests::*;

const LIST_OBJECTS: &str =
    r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_objects","arguments":{}}}"#;

/// The storage requests (`do …`, `kv …`) made before the first request to Attio.
fn before_attio(calls: &[String]) -> Vec<String> {
    calls.iter().take_while(|c| !c.starts_with("http ")).filter(|c| !c.starts_with("http ")).cloned().collect()
}

fn list_objects(p: &FakePlatform, token: &str) -> Response {
    p.http.push(200, r#"{"data":[]}"#);
    mcp(p, token, LIST_OBJECTS, &[])
}

#[test]
fn a_tool_call_reads_storage_once_before_calling_attio() {
    let p = FakePlatform::with_settings(loopback_settings());
    let token = mcp_token(&p, "read");
    p.take_calls();
    let r = list_objects(&p, &token);
    assert_eq!(body(&r)["result"]["isError"], false, "{}", text(&r));
    let calls = p.take_calls();
    let before = before_attio(&calls);
    assert_eq!(before.len(), 1, "one storage request before Attio, not: {before:?}");
    // The grant, connection and policy read, and the call's audit record stored, in one request.
    assert!(
        before[0].starts_with("do connection:attio-conn:v1:") && before[0].ends_with(" read_and_record"),
        "{before:?}"
    );
    assert!(calls.iter().any(|c| c.starts_with("http GET") && c.contains("/v2/objects")), "{calls:?}");
    // The REST proxy takes the same path.
    let rest = proxy_token(&p, "read");
    p.take_calls();
    p.http.push(200, r#"{"data":[]}"#);
    assert_eq!(proxied(&p, "GET", "/v2/objects", &rest, "").status(), 200);
    assert_eq!(before_attio(&p.take_calls()).len(), 1);
}

#[test]
fn a_token_revoked_a_moment_ago_is_refused() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, code, _) = obtain_code(&p, "https://gateway.test/mcp", "read");
    let token = body(&redeem(&p, &client_id, &code, VERIFIER))["access_token"].as_str().unwrap().to_string();
    assert_eq!(list_objects(&p, &token).status(), 200);
    let revoke = form("/revoke", &[("token", &token), ("client_id", &client_id)], &[]);
    assert_eq!(run(&p, revoke).status(), 200);
    // No time passes: nothing cached lets the token through.
    let r = mcp(&p, &token, LIST_OBJECTS, &[]);
    assert_eq!(r.status(), 401, "{}", text(&r));
}

/// The person a token of ours belongs to.
fn person_of(token: &str) -> crate::base::user::UserId {
    let (_, grant_id) = crate::oauth::grants::grant::parse_token(token).unwrap();
    match crate::oauth::grants::grant::home_of(grant_id) {
        Some(crate::oauth::grants::grant::GrantHome::Person { user, .. }) => user,
        other => panic!("a new grant is kept with its person, not {other:?}"),
    }
}

#[test]
fn a_lapsed_connection_copy_is_read_from_kv_once_and_put_back() {
    let p = FakePlatform::with_settings(loopback_settings());
    let token = mcp_token(&p, "read");
    // As when the copy in the person's object lapses (30 days without a new revision).
    block_on(crate::store::connections::forget_latest(&p, &person_of(&token))).unwrap();
    p.take_calls();
    assert_eq!(body(&list_objects(&p, &token))["result"]["isError"], false);
    let calls = before_attio(&p.take_calls());
    assert!(calls.iter().any(|c| c.starts_with("kv get attio-conn:v1:")), "{calls:?}");
    list_objects(&p, &token);
    let again = before_attio(&p.take_calls());
    assert_eq!(again.len(), 1, "the copy was put back: {again:?}");
}

#[test]
fn a_disconnect_is_not_undone_by_a_stale_copy() {
    let p = FakePlatform::with_settings(loopback_settings());
    let token = mcp_token(&p, "read");
    let user = person_of(&token);
    let sealed = block_on(crate::store::vault::load(&p, &user)).unwrap().unwrap();
    let config = crate::config::Config::load(&p).unwrap();
    block_on(crate::attio::connection::disconnect(&p, &config, &user)).unwrap();
    // KV may serve the deleted record for a minute; the grant is revoked anyway, and the
    // object's copy is not written back from it.
    block_on(crate::store::vault::save(&p, &sealed)).unwrap();
    assert_eq!(mcp(&p, &token, LIST_OBJECTS, &[]).status(), 401);
    let copy = block_on(crate::store::connections::latest(&p, &user)).unwrap();
    assert!(copy.is_none(), "{copy:?}");
}

#[test]
fn a_refresh_reads_the_connection_where_tool_calls_do() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, code, _) = obtain_code(&p, "https://gateway.test/mcp", "read");
    let tokens = body(&redeem(&p, &client_id, &code, VERIFIER));
    let user = person_of(tokens["access_token"].as_str().unwrap());
    // KV does not have the record yet (it lags a minute behind a connection made elsewhere, or
    // its write failed); the person's object does.
    block_on(crate::store::vault::delete(&p, &user)).unwrap();
    let refreshed = run(&p, refresh_request(&client_id, tokens["refresh_token"].as_str().unwrap()));
    assert_eq!(refreshed.status(), 200, "{}", text(&refreshed));
}

#[test]
fn a_grant_kept_in_an_object_of_its_own_still_works_and_is_revocable() {
    let p = FakePlatform::with_settings(loopback_settings());
    let token = mcp_token(&p, "read");
    let user = person_of(&token);
    let config = crate::config::Config::load(&p).unwrap();
    let (_, grant_id) = crate::oauth::grants::grant::parse_token(&token).unwrap();
    let current = block_on(grants::load(&p, grant_id)).unwrap().unwrap().grant;
    // A grant as an earlier release made it: a bare random id, in `grant:<id>`.
    let record = CodeGrant {
        client_id: current.client_id.clone(),
        redirect_uri: "https://client.example/cb".into(),
        code_challenge: String::new(),
        audience: current.audience,
        scope: current.scope.clone(),
        user: user.clone(),
        connection_epoch: current.connection_epoch,
    };
    let legacy_id = "0123456789abcdef".repeat(2);
    let secret = "A".repeat(43);
    let (legacy, issued) = Grant::issue(config.keys(), legacy_id.clone(), &record, &secret, None, p.now_ms());
    assert!(block_on(grants::create(&p, &legacy)).unwrap());
    assert!(p.objects_named(&format!("grant:{legacy_id}")), "kept in its own object");
    let old_token = issued.access_token.expose_secret().clone();
    p.take_calls();
    assert_eq!(body(&list_objects(&p, &old_token))["result"]["isError"], false);
    let calls = before_attio(&p.take_calls());
    assert!(calls.iter().any(|c| c.starts_with(&format!("do grant:{legacy_id}"))), "{calls:?}");
    block_on(grants::revoke(&p, &legacy_id));
    assert_eq!(mcp(&p, &old_token, LIST_OBJECTS, &[]).status(), 401);
    // The new grant beside it is untouched.
    assert_eq!(list_objects(&p, &token).status(), 200);
}

#[test]
fn without_a_policy_copy_the_policy_is_read_from_its_own_object() {
    use crate::platform::TransitionStore;
    let p = FakePlatform::with_settings(loopback_settings());
    let token = mcp_token(&p, "write");
    block_on(crate::store::policy::save(
        &p,
        &crate::control::policy::Policy { writes_off: true, ..Default::default() },
    ))
    .unwrap();
    let object = crate::store::keys::person_object(&person_of(&token));
    let take = Command::Take { key: crate::store::keys::POLICY_COPY.into() };
    block_on(p.transition(&object, take)).unwrap();
    p.take_calls();
    let note = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_note","arguments":{"parent_object":"companies","parent_record_id":"r","title":"t","content":"c"}}}"#;
    let r = mcp(&p, &token, note, &[]);
    assert_eq!(r.status(), 403, "{}", text(&r));
    assert!(p.take_calls().iter().any(|c| c.starts_with("do policy:v1 get")));
}

/// Issue 25: a call's audit record is stored by the request that authenticates it and its
/// outcome attached after: an allowed call reads `ok` with its duration, a call the gateway
/// refuses reads why, a forged token naming a real grant costs nothing (its tag fails), and the
/// grant's own expired token is counted, a record a minute per grant (two writes a minute at
/// most, however fast it loops).
#[test]
fn allowed_and_refused_calls_are_recorded_and_refusals_are_counted_per_minute() {
    let p = FakePlatform::with_settings(loopback_settings());
    let token = mcp_token(&p, "read");
    let user = person_of(&token);
    let records = || block_on(crate::store::audit::recent(&p, &user, 50)).unwrap();
    let find = |action: &str, outcome: &str| {
        records().into_iter().filter(|e| e.action == action && e.outcome.starts_with(outcome)).collect::<Vec<_>>()
    };
    p.advance_ms(60_000);
    assert_eq!(body(&list_objects(&p, &token))["result"]["isError"], false);
    let delete = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"delete_note","arguments":{"note_id":"00000000-0000-4000-8000-000000000000"}}}"#;
    assert_eq!(mcp(&p, &token, delete, &[]).status(), 403);
    let allowed = find("list_objects", "ok");
    assert_eq!(allowed.len(), 1, "{:?}", records());
    let allowed = &allowed[0];
    assert!(
        allowed.duration_ms.is_some() && allowed.grant_id.is_some() && !allowed.client_id.is_empty(),
        "{allowed:?}"
    );
    let refused = find("delete_note", "refused 403");
    assert_eq!(refused.len(), 1, "{:?}", records());
    assert_eq!((refused[0].write, refused[0].count), (true, Some(1)));
    assert_eq!(refused[0].ids, ["00000000-0000-4000-8000-000000000000"], "the ids it named, nothing else");

    // The same grant id with a secret that is not its token (its tag fails): refused with no
    // storage request at all.
    let (prefix, _) = token.rsplit_once('.').unwrap();
    let forged = format!("{prefix}.{}", "A".repeat(43));
    p.take_calls();
    assert_eq!(list_objects(&p, &forged).status(), 401);
    assert!(p.take_calls().iter().all(|c| c.starts_with("http ")), "nothing read for a forged token");
    // The grant's own token once it expired, in a loop: refused each time; the first of the
    // minute is written, the rest counted.
    p.advance_ms(3_600_000);
    let rows = p.rows.get().written;
    for _ in 0..30 {
        assert_eq!(list_objects(&p, &token).status(), 401);
    }
    assert_eq!(p.rows.get().written - rows, 1, "one write for thirty refusals in a minute");
    p.advance_ms(60_000);
    assert_eq!(list_objects(&p, &token).status(), 401);
    assert_eq!(p.rows.get().written - rows, 2, "the minute's total and the next minute's first: one chunk written");
    let counted: Vec<Option<u64>> = find("*", "refused 401").into_iter().map(|e| e.count).collect();
    assert_eq!(counted, [Some(1), Some(30)], "newest first");
    // A grant id nobody holds costs nothing at all.
    let rows = p.rows.get().written;
    let unknown = format!("agwa.{}_{}_{}.{}", "0".repeat(32), user.workspace_id, user.member_id, "A".repeat(43));
    assert_eq!(list_objects(&p, &unknown).status(), 401);
    assert_eq!(p.rows.get().written, rows);
}
