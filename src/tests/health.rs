//! `/health`, unknown routes and methods, the test-only diagnostics route, a misconfigured worker.

use super::*;

#[test]
fn health_reports_configured() {
    let r = run(&FakePlatform::default(), get("/health"));
    assert_eq!(r.status(), 200);
    let b = body(&r);
    assert_eq!(b["status"], "ok");
    assert_eq!(b["test_mode"], false);
    assert!(is_no_store(&r));
    assert!(!text(&r).contains("s3cr3t-value"));
}

/// Issue 27: polling /health spends no storage: the daily check is read once per isolate every
/// ten minutes.
#[test]
fn health_reads_storage_at_most_once_per_isolate_every_ten_minutes() {
    let p = FakePlatform::default();
    assert_eq!(run(&p, get("/health")).status(), 200);
    assert_eq!(p.take_calls(), ["kv get vault-report:v1"]);
    for _ in 0..100 {
        assert_eq!(run(&p, get("/health")).status(), 200);
    }
    assert!(p.take_calls().is_empty(), "no storage request");
    p.advance_ms(600_000);
    assert_eq!(run(&p, get("/health")).status(), 200);
    assert_eq!(p.take_calls().len(), 1);
}

/// Issue 26: the seeding route that gives end-to-end tests a large audit log answers 404 in the
/// shipped configuration (test mode needs INSECURE_TEST_MODE and loopback Attio URLs).
#[test]
fn the_audit_seeding_route_is_off_outside_test_mode() {
    let seed = r#"{"workspace_id":"ws-1","member_id":"mem-1","count":10,"newest_ms":1,"step_ms":1,"action":"x"}"#;
    let r = run(&FakePlatform::default(), post_json("/__test/seed-audit", seed));
    assert_eq!(r.status(), 404);
    let mut on = loopback_settings();
    on.insert(INSECURE_TEST_MODE, "1".into());
    let p = FakePlatform::with_settings(on);
    let r = run(&p, post_json("/__test/seed-audit", seed));
    assert_eq!(r.status(), 200, "{}", text(&r));
    assert_eq!(body(&r)["written"], 10);
    let user = crate::base::user::UserId::new("ws-1", "mem-1").unwrap();
    assert_eq!(block_on(crate::store::audit::recent(&p, &user, 50)).unwrap().len(), 0, "older than 30 days");
}

#[test]
fn health_names_missing_settings_and_bindings() {
    let mut p = FakePlatform::default();
    p.settings.values.remove(ATTIO_CLIENT_SECRET);
    p.settings.missing_bindings.push(KV_BINDING);
    let r = run(&p, get("/health"));
    assert_eq!(r.status(), 503);
    let problems = body(&r)["problems"].to_string();
    assert!(problems.contains("ATTIO_CLIENT_SECRET is missing"), "{problems}");
    assert!(problems.contains("the GATEWAY_KV binding (kv_namespace) is missing"), "{problems}");
}

#[test]
fn unknown_routes_and_methods() {
    let p = FakePlatform::default();
    let r = run(&p, get("/nope"));
    assert_eq!(r.status(), 404);
    assert_eq!(body(&r)["error"], "not_found");
    let post = http::Request::post("https://gateway.test/health").body(Vec::new()).unwrap();
    assert_eq!(run(&p, post).status(), 405);
    assert!(!p.logged("request.error"), "scanners' 404s and 405s are not logged");
    assert_eq!(run(&p, get("/connect/disconnect")).status(), 405);
    let head = http::Request::head("https://gateway.test/health").body(Vec::new()).unwrap();
    let r = run(&p, head);
    assert_eq!(r.status(), 200);
    assert!(r.body().is_empty());
    let big = http::Request::post("https://gateway.test/x").body(vec![0; MAX_BODY_BYTES + 1]).unwrap();
    assert_eq!(run(&p, big).status(), 413);
}

#[test]
fn diagnostics_route_is_absent_outside_test_mode() {
    let p = FakePlatform::default();
    assert_eq!(run(&p, get("/__test/attio-self")).status(), 404);
    assert!(p.http.sent.borrow().is_empty(), "no call to Attio");

    // Asked for, but Attio is not on loopback: still absent.
    let mut m = test_mode_settings();
    m.insert(ATTIO_API_BASE_URL, "https://api.attio.com".into());
    assert_eq!(run(&FakePlatform::with_settings(m), get("/__test/attio-self")).status(), 404);
}

#[test]
fn diagnostics_route_calls_attio_self_with_the_test_token() {
    let p = FakePlatform::with_settings(test_mode_settings());
    p.http.push(200, r#"{"active":true,"scope":"a:read b:read","client_id":"c","workspace_id":"w","workspace_name":"Acme","workspace_slug":"acme","authorized_by_workspace_member_id":"m","exp":null}"#);
    let r = run(&p, get("/__test/attio-self"));
    assert_eq!(r.status(), 200);
    assert_eq!(body(&r)["workspace_slug"], "acme");
    assert_eq!(body(&r)["scopes"][1], "b:read");
    let sent = p.http.sent.borrow();
    assert_eq!(sent[0].uri(), "http://127.0.0.1:9/v2/self");
    assert_eq!(sent[0].headers()["authorization"], "Bearer attio-test-token");
}

#[test]
fn diagnostics_route_reports_upstream_failures() {
    let p = FakePlatform::with_settings(test_mode_settings());
    p.http.push(503, "");
    assert_eq!(run(&p, get("/__test/attio-self")).status(), 502);
    // No reply at all: a transport error.
    assert_eq!(run(&p, get("/__test/attio-self")).status(), 502);
}

#[test]
fn misconfigured_worker_says_which_setting() {
    let mut m = test_mode_settings();
    m.remove(ATTIO_CLIENT_SECRET);
    let p = FakePlatform::with_settings(m);
    for path in ["/__test/attio-self", "/connect"] {
        let r = run(&p, get(path));
        assert_eq!(r.status(), 503, "{path}");
        assert_eq!(body(&r)["error"], "server_misconfigured");
        assert!(body(&r)["error_description"].as_str().unwrap().contains("ATTIO_CLIENT_SECRET is missing"));
    }
    // Each failure is logged once, as one JSON line an operator can read: path, status, kind,
    // cause; never the query string.
    let _ = run(&p, get("/connect?code=secret-code&state=secret-state"));
    let lines: Vec<Value> = p
        .log_text()
        .lines()
        .filter_map(|l| l.strip_prefix("request.error "))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{}", p.log_text());
    assert_eq!(lines[2]["path"], "/connect");
    assert_eq!((lines[2]["status"].as_u64(), lines[2]["kind"].as_str()), (Some(503), Some("misconfigured")));
    assert!(lines[2]["cause"].as_str().unwrap().contains("ATTIO_CLIENT_SECRET is missing"));
    assert!(!p.log_text().contains("secret-code") && !p.log_text().contains("secret-state"));
}
