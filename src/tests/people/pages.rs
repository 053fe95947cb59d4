//! The person-facing pages: `/account` and `/setup`.

use crate::tests::flow::*;
use crate::tests::*;

#[test]
fn the_account_page_lists_apps_and_revokes_one_for_good() {
    let p = FakePlatform::with_settings(loopback_settings());
    let signed_out = run(&p, get("/account"));
    assert_eq!(signed_out.status(), 401);
    assert!(text(&signed_out).contains("Sign in with Attio"));

    let (client_id, code, jar) = obtain_code(&p, "https://gateway.test/mcp", "write");
    let token = body(&redeem(&p, &client_id, &code, VERIFIER))["access_token"].as_str().unwrap().to_string();
    let page = run(&p, with_cookies("/account", &jar));
    assert_eq!(page.status(), 200, "{}", text(&page));
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    let html = text(&page);
    assert!(html.contains("Test &lt;Client&gt;") && !html.contains("Test <Client>"), "name escaped");
    assert!(html.contains("read-write") && html.contains("127.0.0.1"), "{html}");
    assert!(!html.contains(&token), "no token on the page");
    let grant_id = html.split("name=grant_id value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let csrf = html.split("name=csrf value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();

    // CSRF: a forged token, a foreign Origin, or no session are refused; nothing is revoked.
    let good = format!("csrf={csrf}&grant_id={grant_id}");
    assert_eq!(account_post(&p, &jar, &format!("csrf=forged&grant_id={grant_id}"), None).status(), 403);
    assert_eq!(account_post(&p, &jar, &good, Some("https://evil.test")).status(), 403);
    assert_eq!(account_post(&p, &[], &good, None).status(), 401);
    assert_eq!(mcp(&p, &token, r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, &[]).status(), 200);
    // Only the person's own grants: an unknown id is not found.
    assert_eq!(account_post(&p, &jar, &format!("csrf={csrf}&grant_id=someone-elses"), None).status(), 404);

    let revoked = account_post(&p, &jar, &good, Some("https://gateway.test"));
    assert_eq!(revoked.status(), 303);
    assert_eq!(revoked.headers()[LOCATION], "/account");
    assert_eq!(mcp(&p, &token, r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#, &[]).status(), 401, "token dead");
    assert!(!text(&run(&p, with_cookies("/account", &jar))).contains(&grant_id), "gone from the list");
    // The session cookie is for these pages only: it is no credential for the APIs.
    let cookie_only = http::Request::post("https://gateway.test/mcp")
        .header(COOKIE, jar.join("; "))
        .header("content-type", "application/json")
        .body(br#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#.to_vec())
        .unwrap();
    assert_eq!(run(&p, cookie_only).status(), 401);
    assert_eq!(run(&p, with_cookies("/v2/objects", &jar)).status(), 401);
}

#[test]
fn the_setup_page_shows_what_to_register_and_never_a_value() {
    let p = FakePlatform::with_settings(loopback_settings());
    p.http.push(200, "");
    p.http.push(401, "");
    let r = run(&p, get("/setup"));
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    let html = text(&r);
    assert!(html.contains("https://gateway.test/oauth/attio/callback"), "redirect URI");
    assert!(html.contains("https://gateway.test/mcp") && html.contains("record_permission:read-write"));
    assert!(html.contains("Ready.") && html.contains("HTTP 401"), "{html}");
    // Each scope with the tools that need it, meetings, recordings and comments included.
    for row in ["<td><code>call_recording:read</code></td><td>record_activity, list_call_recordings, get_call_recording, get_transcript</td>",
        "<td><code>comment:read-write</code></td><td>record_activity, list_comment_threads, get_comment_thread, create_comment, delete_comment</td>"] {
        assert!(html.contains(row), "{row} not on /setup");
    }
    for (_, value) in loopback_settings() {
        if value.len() > 12 {
            assert!(!html.contains(&value), "a setting's value is on the page");
        }
    }
    // Incomplete settings: named as missing, no reachability check.
    let mut partial = loopback_settings();
    partial.remove(ATTIO_CLIENT_SECRET);
    let html = text(&run(&FakePlatform::with_settings(partial), get("/setup")));
    assert!(html.contains("Not ready yet") && html.contains(">missing<"), "{html}");
    // And it can be turned off.
    let mut off = loopback_settings();
    off.insert(crate::config::SETUP_PAGE, "false".into());
    assert_eq!(run(&FakePlatform::with_settings(off), get("/setup")).status(), 404);
}
