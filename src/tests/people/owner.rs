//! Owner mode: an Attio workspace key instead of an OAuth app. The key's mistakes are named on
//! `/health` without the key; consent is refused without a gate; with `OWNER_PASSWORD` the
//! owner approves with the password (a wrong one is refused), the app's calls act as the
//! workspace through the key, and `/connect` has nothing to connect. The key is never revoked
//! at Attio (it is everyone's connection), grants last `OWNER_GRANT_DAYS`, and searches run as
//! the workspace (issue 24, findings 2 and 5).

use crate::config::{ATTIO_API_KEY, ATTIO_CLIENT_ID, OWNER_PASSWORD};
use crate::crypto::password::PasswordHash;
use crate::platform::Clock;
use crate::tests::flow::*;
use crate::tests::*;

const KEY: &str = "attio_key_0123456789abcdef0123456789";

fn owner_settings(password: Option<&str>) -> HashMap<&'static str, String> {
    let mut m = loopback_settings();
    m.remove(ATTIO_CLIENT_ID);
    m.remove(ATTIO_CLIENT_SECRET);
    m.insert(ATTIO_API_KEY, KEY.into());
    if let Some(pw) = password {
        m.insert(OWNER_PASSWORD, PasswordHash::encode(pw, &[9u8; 16], 1_000));
    }
    m
}

#[test]
fn a_bad_key_is_named_without_being_shown() {
    for (value, why) in [
        (" attio_key_0123456789abcdef0123456789", "spaces or line breaks"),
        ("k3yZq9", "too short"),
        ("attio key with spaces in it, far too long", "characters an Attio key never has"),
    ] {
        let mut m = owner_settings(Some("pw"));
        m.insert(ATTIO_API_KEY, value.into());
        let health = text(&run(&FakePlatform::with_settings(m), get("/health")));
        assert!(health.contains("ATTIO_API_KEY") && health.contains(why), "{why}: {health}");
        assert!(!health.contains(value.trim()), "the key is never shown");
    }
    // A plain password instead of its hash is refused too.
    let mut m = owner_settings(None);
    m.insert(OWNER_PASSWORD, "hunter2".into());
    let health = text(&run(&FakePlatform::with_settings(m), get("/health")));
    assert!(health.contains("never set the password itself") && !health.contains("hunter2"), "{health}");
}

#[test]
fn without_a_gate_consent_is_refused_and_health_says_why() {
    let p = FakePlatform::with_settings(owner_settings(None));
    let health = body(&run(&p, get("/health")));
    assert_eq!(health["configured"], true, "no OAuth app needed: {health}");
    assert!(health["warnings"].to_string().contains("needs an admission gate"), "{health}");
    let client_id = register(&p);
    let r = run(&p, get(&format!("/authorize?{}", authorize_query(&client_id, "https://gateway.test/mcp"))));
    assert_eq!(r.status(), 503);
    assert!(text(&r).contains("OWNER_PASSWORD"));
}

#[test]
fn the_owner_approves_with_the_password_and_apps_act_as_the_workspace() {
    let p = FakePlatform::with_settings(owner_settings(Some("correct horse")));
    let client_id = register(&p);
    let consent = run(&p, get(&format!("/authorize?{}", authorize_query(&client_id, "https://gateway.test/mcp"))));
    let page = text(&consent);
    assert!(page.contains("name=owner_password") && page.contains("whole workspace"), "{page}");
    let approve = |password: &str| owner_decision(&p, &client_id, password);
    assert_eq!(approve("wrong").status(), 403);
    assert!(p.http.sent.borrow().is_empty(), "nothing asked of Attio for a wrong password");
    p.http.push(200, SELF_ACTIVE);
    let r = approve("correct horse");
    assert_eq!(r.status(), 303, "{}", text(&r));
    let sent = p.http.sent.borrow()[0].headers()["authorization"].to_str().unwrap().to_string();
    assert_eq!(sent, format!("Bearer {KEY}"), "the key identifies the workspace");
    // The approval is audited as the owner.
    let audited = block_on(crate::store::audit::recent(&p, &owner_user(&p), 10)).unwrap();
    assert!(audited.iter().any(|e| e.kind == "consent" && e.by.as_deref() == Some("owner")), "{audited:?}");
    let to_client = r.headers()[LOCATION].to_str().unwrap().to_string();
    let code = query(&to_client, "code").unwrap();
    let at = body(&redeem(&p, &client_id, &code, VERIFIER))["access_token"].as_str().unwrap().to_string();
    p.http.push(200, SELF_ACTIVE);
    let me = body(&mcp(&p, &at, r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami"}}"#, &[]));
    let data = &me["result"]["structuredContent"]["data"];
    assert!(data["acting_as"].as_str().unwrap().contains("whole workspace"), "{me}");
    assert_eq!(data["workspace_slug"], "acme");
    let last = p.http.sent.borrow().last().unwrap().headers()["authorization"].to_str().unwrap().to_string();
    assert_eq!(last, format!("Bearer {KEY}"), "tool calls use the key");
    // Nothing to connect.
    assert!(text(&run(&p, get("/connect"))).contains("Nothing to connect"));
}

#[test]
fn the_api_key_wins_over_an_access_token() {
    let mut m = owner_settings(Some("pw"));
    m.insert(crate::config::ATTIO_ACCESS_TOKEN, "attio_token_abcdefghijklmnopqrstuvwxyz".into());
    let config = crate::config::Config::load(&crate::testing::MapSource::new(m.clone())).unwrap();
    let owner = config.owner.unwrap();
    assert_eq!((owner.setting, owner.key.expose_secret().as_str()), (ATTIO_API_KEY, KEY));
    m.remove(ATTIO_API_KEY);
    let config = crate::config::Config::load(&crate::testing::MapSource::new(m)).unwrap();
    assert_eq!(config.owner.unwrap().setting, crate::config::ATTIO_ACCESS_TOKEN);
}

#[test]
fn the_owner_administers_after_signing_in_with_the_password() {
    let p = FakePlatform::with_settings(owner_settings(Some("correct horse")));
    let r = run(&p, get("/admin"));
    assert_eq!(r.status(), 401);
    assert!(text(&r).contains("name=owner_password"));
    assert_eq!(run(&p, form("/admin/sign-in", &[("owner_password", "nope")], &[])).status(), 403);
    let signed = run(&p, form("/admin/sign-in", &[("owner_password", "correct horse")], &[]));
    assert_eq!(signed.status(), 303);
    let jar = cookies(&signed);
    assert!(jar.iter().any(|c| c.starts_with("__Host-agw-owner=")), "{jar:?}");
    let r = run(&p, with_cookies("/admin", &jar));
    assert_eq!(r.status(), 200, "{}", text(&r));
    assert!(text(&r).contains("You administer everyone"));
    // A forged or expired sign-in is not one.
    assert_eq!(run(&p, with_cookies("/admin", &["__Host-agw-owner=99999999999999.forged".to_string()])).status(), 401);
    p.advance_ms(3_600_001);
    assert_eq!(run(&p, with_cookies("/admin", &jar)).status(), 401, "an hour at most");
}

/// The consent page for `client_id`, approved for writing with `password`.
fn owner_decision(p: &FakePlatform, client_id: &str, password: &str) -> Response {
    let consent = run(p, get(&format!("/authorize?{}", authorize_query(client_id, "https://gateway.test/mcp"))));
    let page = text(&consent);
    let (request, csrf) = (hidden(&page, "request"), hidden(&page, "csrf"));
    let fields = [
        ("request", request.as_str()),
        ("csrf", csrf.as_str()),
        ("decision", "approve"),
        ("access", "write"),
        ("owner_password", password),
    ];
    run(p, form("/authorize", &fields, &cookies(&consent)))
}

/// The person the password gate admits: the owner, in the key's workspace.
fn owner_user(p: &FakePlatform) -> crate::base::user::UserId {
    let config = crate::config::SettingsSource::config(p).unwrap();
    crate::base::user::UserId::new("ws-1", &crate::auth::owner::person_id(&config, "owner")).unwrap()
}

/// The owner approves a new app with the password; returns the client and its tokens.
fn approved_by_the_owner(p: &FakePlatform) -> (String, Value) {
    let client_id = register(p);
    p.http.push(200, SELF_ACTIVE);
    let r = owner_decision(p, &client_id, "correct horse");
    assert_eq!(r.status(), 303, "{}", text(&r));
    let code = query(r.headers()[LOCATION].to_str().unwrap(), "code").unwrap();
    let issued = body(&redeem(p, &client_id, &code, VERIFIER));
    assert!(issued["access_token"].is_string(), "{issued}");
    (client_id, issued)
}

fn ping(p: &FakePlatform, at: &Value) -> u16 {
    mcp(p, at.as_str().unwrap(), r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, &[]).status().as_u16()
}

/// The owner signed in on `/admin` (cookies), and the fields of the one person's disconnect form.
fn signed_in_with_disconnect_form(p: &FakePlatform) -> (Vec<String>, Vec<(String, String)>) {
    let jar = cookies(&run(p, form("/admin/sign-in", &[("owner_password", "correct horse")], &[])));
    let page = text(&run(p, with_cookies("/admin", &jar)));
    let disconnect = page.split("action=\"/admin/disconnect\"").nth(1).expect("a disconnect form");
    let field = |name: &str| {
        let value = disconnect.split(&format!("name={name} value=\"")).nth(1).unwrap().split('"').next().unwrap();
        (name.to_string(), value.to_string())
    };
    (jar, vec![field("csrf"), field("workspace_id"), field("member_id")])
}

/// Posts the disconnect form from the gateway's own origin.
fn post_disconnect(p: &FakePlatform, jar: &[String], fields: &[(String, String)]) -> Response {
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut post = form("/admin/disconnect", &fields, jar);
    post.headers_mut().insert("origin", "https://gateway.test".parse().unwrap());
    run(p, post)
}

#[test]
fn an_admin_disconnect_keeps_the_workspace_key_and_ends_the_persons_apps_at_once() {
    let p = FakePlatform::with_settings(owner_settings(Some("correct horse")));
    let (_, issued) = approved_by_the_owner(&p);
    assert_eq!(ping(&p, &issued["access_token"]), 200);
    let (jar, fields) = signed_in_with_disconnect_form(&p);
    // The KV listing of the person's apps lost its row (a failed or late KV write): the
    // disconnect reads the grants from the person's own object, and ends them anyway.
    for key in p.kv_keys().into_iter().filter(|k| k.starts_with("grant-index:")) {
        block_on(crate::platform::KvStore::kv_delete(&p, &key)).unwrap();
    }
    let sent_before = p.http.sent.borrow().len();
    let r = post_disconnect(&p, &jar, &fields);
    assert_eq!(r.status(), 303, "{}", text(&r));
    // Nothing was sent to Attio: above all not the key to its revoke endpoint.
    let sent: Vec<String> = p.http.sent.borrow()[sent_before..].iter().map(|r| r.uri().to_string()).collect();
    assert!(sent.is_empty(), "the workspace key must never be revoked: {sent:?}");
    assert!(p.logged("disconnect.owner_key_kept"));
    // The person's apps end at once: the access token and the refresh token.
    assert_eq!(ping(&p, &issued["access_token"]), 401);
}

/// Issue 26: with the day's KV writes spent, an administrator still disconnects a person (the
/// administrators' log is in its own object, and the person's grants end in theirs).
#[test]
fn with_the_days_kv_writes_spent_an_admin_disconnect_still_ends_the_persons_apps() {
    let p = FakePlatform::with_settings(owner_settings(Some("correct horse")));
    let (_, issued) = approved_by_the_owner(&p);
    let (jar, fields) = signed_in_with_disconnect_form(&p);
    p.kv_writes_spent.set(true);
    let r = post_disconnect(&p, &jar, &fields);
    assert_eq!(r.status(), 303, "{}", text(&r));
    assert_eq!(ping(&p, &issued["access_token"]), 401);
    let page = text(&run(&p, with_cookies("/admin", &jar)));
    assert!(page.contains("<td>disconnect</td>"), "the action is in the administrators' log: {page}");
    // The record the disconnect could not delete is ignored meanwhile, and the next day's pass
    // (with the day's writes back) deletes it, before the disconnect's marker lapses.
    let records = || p.kv_keys().into_iter().filter(|k| k.starts_with("attio-conn:v1:")).count();
    assert_eq!(records(), 1);
    p.kv_writes_spent.set(false);
    p.advance_ms(86_400_000);
    let config = crate::config::SettingsSource::config(&p).unwrap();
    let progress = block_on(crate::control::cron::run_until_done(&p, &config, 10));
    assert_eq!((progress.members.cleared, records()), (1, 0), "{progress:?}");
}

/// Issue 27: wrong owner passwords are counted across every location (the rate limit counts per
/// location): after 20 in an hour, sign-in is locked, even with the right password, until the
/// hour ends; /admin shows the count.
#[test]
fn owner_sign_in_locks_after_twenty_wrong_passwords_in_an_hour_from_anywhere() {
    let p = FakePlatform::with_settings(owner_settings(Some("correct horse")));
    // To the start of an hour, so the twenty fall in one.
    p.advance_ms(3_600_000 - Clock::now_ms(&p) % 3_600_000);
    let attempt = |password: &str, address: &str| {
        let mut req = form("/admin/sign-in", &[("owner_password", password)], &[]);
        req.headers_mut().insert("cf-connecting-ip", address.parse().unwrap());
        run(&p, req)
    };
    for i in 0..20 {
        // A new address each time: the per-address limit never trips.
        assert_eq!(attempt("guess", &format!("198.51.100.{i}")).status(), 403);
    }
    let locked = attempt("correct horse", "203.0.113.1");
    assert_eq!(locked.status(), 429, "{}", text(&locked));
    assert!(text(&locked).contains("locked"), "{}", text(&locked));
    let rows = p.rows.get().written;
    assert_eq!(attempt("guess", "203.0.113.2").status(), 429);
    assert_eq!(p.rows.get().written, rows, "no write once locked");
    // The next hour, the owner signs in, and /admin shows what happened.
    p.advance_ms(3_600_000);
    let jar = cookies(&attempt("correct horse", "203.0.113.1"));
    assert_eq!(attempt("guess", "203.0.113.3").status(), 403);
    let page = text(&run(&p, with_cookies("/admin", &jar)));
    assert!(page.contains("Wrong owner passwords this hour: 1"), "{page}");
}

#[test]
fn grants_last_owner_grant_days_seven_by_default() {
    for (setting, days) in [(None, 7u64), (Some("2"), 2)] {
        let mut m = owner_settings(Some("correct horse"));
        if let Some(d) = setting {
            m.insert(crate::config::OWNER_GRANT_DAYS, d.into());
        }
        let p = FakePlatform::with_settings(m);
        let (client_id, issued) = approved_by_the_owner(&p);
        // The grant itself ends then (so /account and /admin show when).
        let held = block_on(crate::store::grants::of_person(&p, &owner_user(&p))).unwrap();
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].expires_at_ms, p.now_ms() + days * 86_400_000, "{days} days");
        // Refreshed within the last hour of the allowed days: still works.
        p.advance_ms(days * 86_400_000 - 1_800_000);
        let refreshed = body(&run(&p, refresh_request(&client_id, issued["refresh_token"].as_str().unwrap())));
        assert!(refreshed["access_token"].is_string(), "{days} days: {refreshed}");
        assert_eq!(ping(&p, &refreshed["access_token"]), 200);
        // Past them: the token is refused and the grant cannot be refreshed.
        p.advance_ms(1_800_001);
        assert_eq!(ping(&p, &refreshed["access_token"]), 401, "{days} days");
        let again = run(&p, refresh_request(&client_id, refreshed["refresh_token"].as_str().unwrap()));
        assert_eq!(body(&again)["error"], "invalid_grant", "{days} days: {}", text(&again));
    }
    // A grant made under a longer setting (or by a release before the cap) is held to the
    // current one when it is used: OWNER_GRANT_DAYS lowered from 30 to the default.
    let mut m = owner_settings(Some("correct horse"));
    m.insert(crate::config::OWNER_GRANT_DAYS, "30".into());
    let mut p = FakePlatform::with_settings(m);
    let (client_id, issued) = approved_by_the_owner(&p);
    p.settings.values.remove(crate::config::OWNER_GRANT_DAYS);
    p.advance_ms(7 * 86_400_000 + 1);
    let refused = run(&p, refresh_request(&client_id, issued["refresh_token"].as_str().unwrap()));
    assert_eq!(body(&refused)["error"], "invalid_grant", "{}", text(&refused));
    // Out of range, or not a number: named on /health.
    for bad in ["0", "31", "a week"] {
        let mut m = owner_settings(Some("pw"));
        m.insert(crate::config::OWNER_GRANT_DAYS, bad.into());
        let health = text(&run(&FakePlatform::with_settings(m), get("/health")));
        assert!(health.contains("OWNER_GRANT_DAYS") && health.contains("from 1 to 30"), "{bad}: {health}");
    }
}

#[test]
fn searches_run_as_the_workspace_and_a_comment_needs_a_member() {
    let p = FakePlatform::with_settings(owner_settings(Some("correct horse")));
    let (_, issued) = approved_by_the_owner(&p);
    let at = issued["access_token"].as_str().unwrap();
    let call = |name: &str, args: &str| {
        let message = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"{name}","arguments":{args}}}}}"#
        );
        body(&mcp(&p, at, &message, &[]))["result"].clone()
    };
    p.http.push(200, r#"{"data":[]}"#);
    let found = call("search_records", r#"{"query":"Initech","objects":["companies"]}"#);
    assert_eq!(found["isError"], false, "{found}");
    let sent = p.http.sent.borrow().last().unwrap().body().clone();
    let sent: Value = serde_json::from_slice(&sent).unwrap();
    assert_eq!(sent["request_as"], serde_json::json!({"type": "workspace"}), "not an HMAC-made member id");
    // Approved with the password: no member to write a comment as. Nothing is sent.
    let before = p.http.sent.borrow().len();
    let r = call(
        "create_comment",
        r#"{"content":"hi","object":"companies","record_id":"9f2ba1a2-77b6-4d2f-9e52-3a3a48a1f2f0"}"#,
    );
    assert_eq!(r["isError"], true, "{r}");
    assert!(r["content"][0]["text"].as_str().unwrap().contains("create_note"), "{r}");
    assert_eq!(p.http.sent.borrow().len(), before, "nothing sent to Attio");
}
