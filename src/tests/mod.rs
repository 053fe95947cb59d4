//! Router-level tests: whole requests through [`crate::app::handle`] with a fake platform,
//! one file per route family; [`flow`] holds the steps several of them share (register,
//! authorize, consent, redeem, call).

use std::collections::HashMap;

use http::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::Value;

use crate::app::{handle, MAX_BODY_BYTES};
use crate::base::http::{is_no_store, Request, Response};
use crate::config::{
    ACCESS_AUD, ACCESS_TEAM_DOMAIN, ATTIO_ALLOWED_MEMBERS, ATTIO_ALLOWED_WORKSPACES, ATTIO_API_BASE_URL,
    ATTIO_APP_BASE_URL, ATTIO_CLIENT_SECRET, INSECURE_TEST_MODE, KV_BINDING, PUBLIC_ORIGIN, TEST_ATTIO_TOKEN,
};
use crate::platform::TransitionStore;
use crate::testing::{block_on, complete_settings, get, reply, FakePlatform};
use crate::transitions::{Command, Outcome};

fn run(p: &FakePlatform, req: Request) -> Response {
    block_on(handle(req, p))
}

fn body(resp: &Response) -> Value {
    serde_json::from_slice(resp.body()).unwrap()
}

fn text(resp: &Response) -> String {
    String::from_utf8_lossy(resp.body()).into_owned()
}

fn loopback_settings() -> HashMap<&'static str, String> {
    let mut m = complete_settings();
    m.insert(ATTIO_APP_BASE_URL, "http://127.0.0.1:9".into());
    m.insert(ATTIO_API_BASE_URL, "http://127.0.0.1:9".into());
    m
}

fn test_mode_settings() -> HashMap<&'static str, String> {
    let mut m = loopback_settings();
    m.insert(INSECURE_TEST_MODE, "1".into());
    m.insert(TEST_ATTIO_TOKEN, "attio-test-token".into());
    m
}

mod agents;
mod budgets;
mod checklist;
mod cron;
pub mod flow;
mod head;
mod health;
mod oauth;
mod people;

// ---------------------------------------------------------------------------------------------
// Connecting Attio

const SELF_ACTIVE: &str = r#"{"active":true,"scope":"record_permission:read","client_id":"client-123","token_type":"Bearer","exp":null,"iat":1,"sub":"ws-1","aud":"client-123","iss":"attio.com","authorized_by_workspace_member_id":"mem-1","workspace_id":"ws-1","workspace_name":"Acme","workspace_slug":"acme","workspace_logo_url":null}"#;

/// `Set-Cookie` values of a response, as `name=value` pairs for a `Cookie` header.
fn cookies(resp: &Response) -> Vec<String> {
    resp.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter(|c| !c.ends_with('='))
        .map(str::to_string)
        .collect()
}

fn with_cookies(path: &str, jar: &[String]) -> Request {
    http::Request::builder()
        .uri(format!("https://gateway.test{path}"))
        .header(COOKIE, jar.join("; "))
        .body(Vec::new())
        .unwrap()
}

/// Starts a connect flow; returns the state Attio would echo and the browser's cookies.
fn start(p: &FakePlatform) -> (String, Vec<String>) {
    let r = run(p, get("/connect"));
    assert_eq!(r.status(), 302, "{}", text(&r));
    let location = url::Url::parse(r.headers()[LOCATION].to_str().unwrap()).unwrap();
    assert_eq!(location.origin().ascii_serialization(), "http://127.0.0.1:9");
    let state = location.query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
    let redirect_uri = location.query_pairs().find(|(k, _)| k == "redirect_uri").unwrap().1.into_owned();
    assert_eq!(redirect_uri, "https://gateway.test/oauth/attio/callback");
    (state, cookies(&r))
}

fn callback(p: &FakePlatform, query: &str, jar: &[String]) -> Response {
    run(p, with_cookies(&format!("/oauth/attio/callback?{query}"), jar))
}

fn script_successful_exchange(p: &FakePlatform) {
    p.http.push(200, r#"{"access_token":"attio-at-1","token_type":"Bearer"}"#);
    p.http.push(200, SELF_ACTIVE);
}

fn text_of(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

// ---------------------------------------------------------------------------------------------
// Authorization server: discovery and registration

fn post_json(path: &str, body: &str) -> Request {
    http::Request::post(format!("https://gateway.test{path}"))
        .header("content-type", "application/json")
        .body(body.as_bytes().to_vec())
        .unwrap()
}
