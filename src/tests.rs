//! Router-level tests: whole requests through [`crate::app::handle`] with fakes.

use std::collections::HashMap;

use serde_json::Value;

use crate::app::{handle, Deps, MAX_BODY_BYTES};
use crate::config::{
    ATTIO_API_BASE_URL, ATTIO_APP_BASE_URL, ATTIO_CLIENT_SECRET, INSECURE_TEST_MODE, KV_BINDING,
    TEST_ATTIO_TOKEN,
};
use crate::http::{is_no_store, Response};
use crate::testing::{block_on, complete_settings, get, FakeHttp, MapSource};

fn run(settings: &MapSource, http: &FakeHttp, req: crate::http::Request) -> Response {
    block_on(handle(req, &Deps { settings, http }))
}

fn body(resp: &Response) -> Value {
    serde_json::from_slice(resp.body()).unwrap()
}

fn test_mode_settings() -> HashMap<&'static str, String> {
    let mut m = complete_settings();
    m.insert(ATTIO_APP_BASE_URL, "http://127.0.0.1:9".into());
    m.insert(ATTIO_API_BASE_URL, "http://127.0.0.1:9".into());
    m.insert(INSECURE_TEST_MODE, "1".into());
    m.insert(TEST_ATTIO_TOKEN, "attio-test-token".into());
    m
}

#[test]
fn health_reports_configured() {
    let r = run(
        &MapSource::new(complete_settings()),
        &FakeHttp::default(),
        get("/health"),
    );
    assert_eq!(r.status(), 200);
    let b = body(&r);
    assert_eq!(b["status"], "ok");
    assert_eq!(b["test_mode"], false);
    assert!(is_no_store(&r));
    assert!(!String::from_utf8_lossy(r.body()).contains("s3cr3t-value"));
}

#[test]
fn health_names_missing_settings_and_bindings() {
    let mut s = MapSource::new(complete_settings());
    s.values.remove(ATTIO_CLIENT_SECRET);
    s.missing_bindings.push(KV_BINDING);
    let r = run(&s, &FakeHttp::default(), get("/health"));
    assert_eq!(r.status(), 503);
    let problems = body(&r)["problems"].to_string();
    assert!(
        problems.contains("ATTIO_CLIENT_SECRET is missing"),
        "{problems}"
    );
    assert!(
        problems.contains("the GATEWAY_KV binding (kv_namespace) is missing"),
        "{problems}"
    );
}

#[test]
fn unknown_routes_and_methods() {
    let s = MapSource::new(complete_settings());
    let r = run(&s, &FakeHttp::default(), get("/nope"));
    assert_eq!(r.status(), 404);
    assert_eq!(body(&r)["error"], "not_found");
    let post = http::Request::post("https://gateway.test/health")
        .body(Vec::new())
        .unwrap();
    assert_eq!(run(&s, &FakeHttp::default(), post).status(), 405);
    let head = http::Request::head("https://gateway.test/health")
        .body(Vec::new())
        .unwrap();
    let r = run(&s, &FakeHttp::default(), head);
    assert_eq!(r.status(), 200);
    assert!(r.body().is_empty());
    let big = http::Request::post("https://gateway.test/x")
        .body(vec![0; MAX_BODY_BYTES + 1])
        .unwrap();
    assert_eq!(run(&s, &FakeHttp::default(), big).status(), 413);
}

#[test]
fn diagnostics_route_is_absent_outside_test_mode() {
    let http = FakeHttp::default();
    let r = run(
        &MapSource::new(complete_settings()),
        &http,
        get("/__test/attio-self"),
    );
    assert_eq!(r.status(), 404);
    assert!(http.sent.borrow().is_empty(), "no call to Attio");

    // Asked for, but Attio is not on loopback: still absent.
    let mut m = test_mode_settings();
    m.insert(ATTIO_API_BASE_URL, "https://api.attio.com".into());
    assert_eq!(
        run(&MapSource::new(m), &http, get("/__test/attio-self")).status(),
        404
    );
}

#[test]
fn diagnostics_route_calls_attio_self_with_the_test_token() {
    let http = FakeHttp::replying(
        200,
        r#"{"active":true,"scope":"a:read b:read","client_id":"c","workspace_id":"w","workspace_name":"Acme","workspace_slug":"acme","authorized_by_workspace_member_id":"m","exp":null}"#,
    );
    let r = run(
        &MapSource::new(test_mode_settings()),
        &http,
        get("/__test/attio-self"),
    );
    assert_eq!(r.status(), 200);
    assert_eq!(body(&r)["workspace_slug"], "acme");
    assert_eq!(body(&r)["scopes"][1], "b:read");
    let sent = http.sent.borrow();
    assert_eq!(sent[0].uri(), "http://127.0.0.1:9/v2/self");
    assert_eq!(
        sent[0].headers()["authorization"],
        "Bearer attio-test-token"
    );
}

#[test]
fn diagnostics_route_reports_upstream_failures() {
    let http = FakeHttp::replying(503, "");
    let r = run(
        &MapSource::new(test_mode_settings()),
        &http,
        get("/__test/attio-self"),
    );
    assert_eq!(r.status(), 502);
    let http = FakeHttp::default(); // no reply: transport error
    assert_eq!(
        run(
            &MapSource::new(test_mode_settings()),
            &http,
            get("/__test/attio-self")
        )
        .status(),
        502
    );
}

#[test]
fn misconfigured_worker_says_which_setting() {
    let mut m = test_mode_settings();
    m.remove(ATTIO_CLIENT_SECRET);
    let r = run(
        &MapSource::new(m),
        &FakeHttp::default(),
        get("/__test/attio-self"),
    );
    assert_eq!(r.status(), 503);
    assert_eq!(body(&r)["error"], "server_misconfigured");
    assert!(body(&r)["error_description"]
        .as_str()
        .unwrap()
        .contains("ATTIO_CLIENT_SECRET is missing"));
}
