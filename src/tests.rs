//! Router-level tests: whole requests through [`crate::app::handle`] with a fake platform.

use std::collections::HashMap;

use http::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::Value;

use crate::app::{handle, MAX_BODY_BYTES};
use crate::config::{
    ATTIO_ALLOWED_WORKSPACES, ATTIO_API_BASE_URL, ATTIO_APP_BASE_URL, ATTIO_CLIENT_SECRET, INSECURE_TEST_MODE,
    KV_BINDING, PUBLIC_ORIGIN, TEST_ATTIO_TOKEN,
};
use crate::http::{is_no_store, Request, Response};
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
}

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
    script_successful_exchange(&p);
    assert_eq!(callback(&p, &format!("code=c&state={state}"), &jar).status(), 303);
    let replay = callback(&p, &format!("code=c&state={state}"), &jar);
    assert_eq!(replay.status(), 400, "replayed");
    assert!(text(&replay).contains("already used"));
    assert!(replay.headers().get(LOCATION).is_none(), "errors never redirect");
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

fn text_of(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
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

// ---------------------------------------------------------------------------------------------
// Authorization server: discovery and registration

fn post_json(path: &str, body: &str) -> Request {
    http::Request::post(format!("https://gateway.test{path}"))
        .header("content-type", "application/json")
        .body(body.as_bytes().to_vec())
        .unwrap()
}

#[test]
fn discovery_documents_name_our_origin_exactly() {
    let p = FakePlatform::default();
    let r = run(&p, get("/.well-known/oauth-authorization-server"));
    assert_eq!(r.status(), 200);
    assert_eq!(body(&r)["issuer"], "https://gateway.test", "no trailing slash");
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    for (path, resource) in [
        ("/.well-known/oauth-protected-resource", "https://gateway.test/mcp"),
        ("/.well-known/oauth-protected-resource/mcp", "https://gateway.test/mcp"),
        ("/.well-known/oauth-protected-resource/v2", "https://gateway.test/v2"),
    ] {
        let r = run(&p, get(path));
        assert_eq!(body(&r)["resource"], resource, "{path}");
        assert_eq!(body(&r)["authorization_servers"][0], "https://gateway.test");
    }
    let preflight =
        http::Request::builder().method("OPTIONS").uri("https://gateway.test/register").body(Vec::new()).unwrap();
    assert_eq!(run(&p, preflight).status(), 204);
}

#[test]
fn registration_issues_ids_and_stores_only_a_secret_hash() {
    let p = FakePlatform::default();
    let r = run(
        &p,
        post_json(
            "/register",
            r#"{"client_name":"Claude","redirect_uris":["https://claude.ai/api/mcp/auth_callback"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"]}"#,
        ),
    );
    assert_eq!(r.status(), 201, "{}", text(&r));
    assert!(is_no_store(&r));
    let public = body(&r);
    assert!(public["client_id"].as_str().unwrap().starts_with("mcp_"));
    assert!(public.get("client_secret").is_none(), "public clients get no secret");

    let r = run(
        &p,
        post_json(
            "/register",
            r#"{"redirect_uris":["http://127.0.0.1:9/cb"],"token_endpoint_auth_method":"client_secret_post"}"#,
        ),
    );
    let confidential = body(&r);
    let secret = confidential["client_secret"].as_str().unwrap();
    let stored = p.kv_value(&format!("client:v1:{}", confidential["client_id"].as_str().unwrap())).unwrap();
    assert!(!stored.contains(secret), "secret stored in the clear");
    assert!(stored.contains("secret_hash"));

    let bad = run(&p, post_json("/register", r#"{"redirect_uris":["javascript:alert(1)"]}"#));
    assert_eq!(bad.status(), 400);
    assert_eq!(body(&bad)["error"], "invalid_redirect_uri");
    assert_eq!(p.kv_keys().len(), 2, "nothing stored for a refused registration");
}

// ---------------------------------------------------------------------------------------------
// Authorization server: the whole flow

mod as_flow {
    use super::*;
    use base64::Engine;

    pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    pub const CLIENT_REDIRECT: &str = "http://127.0.0.1:7777/callback";

    pub fn register(p: &FakePlatform) -> String {
        let r = run(
            p,
            post_json(
                "/register",
                &format!(
                    r#"{{"client_name":"Test <Client>","redirect_uris":["{CLIENT_REDIRECT}"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"]}}"#
                ),
            ),
        );
        body(&r)["client_id"].as_str().unwrap().to_string()
    }

    pub fn form(path: &str, pairs: &[(&str, &str)], jar: &[String]) -> Request {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        http::Request::post(format!("https://gateway.test{path}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header(COOKIE, jar.join("; "))
            .body(body.into_bytes())
            .unwrap()
    }

    pub fn hidden(page: &str, name: &str) -> String {
        page.split(&format!("name={name} value=\"")).nth(1).unwrap().split('"').next().unwrap().to_string()
    }

    pub fn query(location: &str, name: &str) -> Option<String> {
        url::Url::parse(location).unwrap().query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
    }

    pub fn authorize_query(client_id: &str, resource: &str) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("response_type", "code"),
                ("client_id", client_id),
                ("redirect_uri", CLIENT_REDIRECT),
                ("state", "client-state&x"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
                ("resource", resource),
            ])
            .finish()
    }

    /// Register → authorize → consent → Attio sign-in (scripted) → code. Returns (client, code, session jar).
    pub fn obtain_code(p: &FakePlatform, resource: &str, access: &str) -> (String, String, Vec<String>) {
        let client_id = register(p);
        obtain_code_for(p, client_id, resource, access)
    }

    /// The same for a client already registered.
    pub fn obtain_code_for(
        p: &FakePlatform,
        client_id: String,
        resource: &str,
        access: &str,
    ) -> (String, String, Vec<String>) {
        let consent = run(p, get(&format!("/authorize?{}", authorize_query(&client_id, resource))));
        assert_eq!(consent.status(), 200, "{}", text(&consent));
        assert_eq!(consent.headers()["x-frame-options"], "DENY");
        assert!(consent.headers().get("access-control-allow-origin").is_none(), "no CORS on /authorize");
        let page = text(&consent);
        assert!(page.contains("&lt;Client&gt;"), "client name escaped");
        assert!(page.contains("127.0.0.1"), "redirect host shown");
        let jar = cookies(&consent);
        let decision = run(
            p,
            form(
                "/authorize",
                &[
                    ("request", &hidden(&page, "request")),
                    ("csrf", &hidden(&page, "csrf")),
                    ("decision", "approve"),
                    ("access", access),
                ],
                &jar,
            ),
        );
        assert_eq!(decision.status(), 303, "{}", text(&decision));
        let to_attio = decision.headers()[LOCATION].to_str().unwrap().to_string();
        assert!(to_attio.starts_with("http://127.0.0.1:9/authorize"), "{to_attio}");
        let state = query(&to_attio, "state").unwrap();
        let connect_jar = cookies(&decision);
        script_successful_exchange(p);
        let back = callback(p, &format!("code=attio-code&state={state}"), &connect_jar);
        assert_eq!(back.status(), 303, "{}", text(&back));
        let to_client = back.headers()[LOCATION].to_str().unwrap().to_string();
        assert!(to_client.starts_with(CLIENT_REDIRECT), "{to_client}");
        assert_eq!(query(&to_client, "state").as_deref(), Some("client-state&x"), "state byte-exact");
        assert_eq!(query(&to_client, "iss").as_deref(), Some("https://gateway.test"));
        (client_id, query(&to_client, "code").unwrap(), cookies(&back))
    }

    pub fn redeem(p: &FakePlatform, client_id: &str, code: &str, verifier: &str) -> Response {
        run(
            p,
            form(
                "/token",
                &[
                    ("grant_type", "authorization_code"),
                    ("client_id", client_id),
                    ("code", code),
                    ("code_verifier", verifier),
                    ("redirect_uri", CLIENT_REDIRECT),
                ],
                &[],
            ),
        )
    }

    pub fn bearer_get(p: &FakePlatform, path: &str, token: &str) -> Response {
        let req = http::Request::get(format!("https://gateway.test{path}"))
            .header("authorization", format!("Bearer {token}"))
            .body(Vec::new())
            .unwrap();
        run(p, req)
    }

    fn account_post(p: &FakePlatform, jar: &[String], form_body: &str, origin: Option<&str>) -> Response {
        let mut b = http::Request::post("https://gateway.test/account/revoke")
            .header(COOKIE, jar.join("; "))
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some(o) = origin {
            b = b.header("origin", o);
        }
        run(p, b.body(form_body.as_bytes().to_vec()).unwrap())
    }

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

        // Code replay: refused, and the tokens it issued die.
        let replay = redeem(&p, &client_id, &code, VERIFIER);
        assert_eq!(body(&replay)["error"], "invalid_grant");
        assert_eq!(bearer_get(&p, "/v2/self", &at).status(), 401, "replay revoked the grant");
        let refresh = run(
            &p,
            form("/token", &[("grant_type", "refresh_token"), ("client_id", &client_id), ("refresh_token", &rt)], &[]),
        );
        assert_eq!(body(&refresh)["error"], "invalid_grant");
    }

    #[test]
    fn refresh_rotates_retries_get_the_same_pair_and_reuse_revokes() {
        let p = FakePlatform::with_settings(loopback_settings());
        let (client_id, code, _) = obtain_code(&p, "https://gateway.test/mcp", "write");
        let t = body(&redeem(&p, &client_id, &code, VERIFIER));
        assert_eq!(t["scope"], "attio:read attio:write");
        let rt0 = t["refresh_token"].as_str().unwrap().to_string();
        let refresh = |rt: &str| {
            body(&run(
                &p,
                form(
                    "/token",
                    &[("grant_type", "refresh_token"), ("client_id", &client_id), ("refresh_token", rt)],
                    &[],
                ),
            ))
        };
        let first = refresh(&rt0);
        let rt1 = first["refresh_token"].as_str().unwrap().to_string();
        assert_ne!(rt1, rt0);
        assert_eq!(refresh(&rt0), first, "a retry within the grace period gets the same pair");
        p.advance_ms(31_000);
        let second = refresh(&rt1);
        assert!(second["access_token"].is_string(), "{second}");
        assert_eq!(refresh(&rt0)["error"], "invalid_grant", "reuse after the grace period");
        assert_eq!(
            refresh(second["refresh_token"].as_str().unwrap())["error"],
            "invalid_grant",
            "the family is revoked"
        );
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
        // A wrong verifier burns the code: the right one afterwards fails too.
        let wrong = "x".repeat(43);
        assert_eq!(body(&redeem(&p, &client_id, &code, &wrong))["error"], "invalid_grant");
        assert_eq!(body(&redeem(&p, &client_id, &code, VERIFIER))["error"], "invalid_grant");
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
        // PKCE: plain, missing method, missing challenge → error back to the client with iss.
        for (from, to) in [
            ("code_challenge_method=S256", "code_challenge_method=plain"),
            ("&code_challenge_method=S256", ""),
            (&format!("code_challenge={CHALLENGE}"), "code_challenge="),
        ] {
            let q = authorize_query(&client_id, "https://gateway.test/mcp").replace(from, to);
            let r = run(&p, get(&format!("/authorize?{q}")));
            assert_eq!(r.status(), 302, "{to}");
            let loc = r.headers()[LOCATION].to_str().unwrap();
            assert_eq!(query(loc, "error").as_deref(), Some("invalid_request"));
            assert_eq!(query(loc, "iss").as_deref(), Some("https://gateway.test"));
        }
        let q = authorize_query(&client_id, "https://evil.test/mcp");
        let r = run(&p, get(&format!("/authorize?{q}")));
        assert_eq!(query(r.headers()[LOCATION].to_str().unwrap(), "error").as_deref(), Some("invalid_target"));
        let q = authorize_query(&client_id, "https://gateway.test/mcp")
            .replace("response_type=code", "response_type=token");
        let r = run(&p, get(&format!("/authorize?{q}")));
        assert_eq!(
            query(r.headers()[LOCATION].to_str().unwrap(), "error").as_deref(),
            Some("unsupported_response_type")
        );
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
            run(&p, form("/authorize", &[("request", &request), ("csrf", &csrf), ("decision", "approve")], &[]))
                .status(),
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
        // The request is answered: a second decision finds nothing.
        assert_eq!(
            run(&p, form("/authorize", &[("request", &request), ("csrf", &csrf), ("decision", "approve")], &jar))
                .status(),
            400
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

    fn authorize_again(p: &FakePlatform, client_id: &str, jar: &[String], fetch_site: Option<&str>) -> Response {
        let mut req =
            with_cookies(&format!("/authorize?{}", authorize_query(client_id, "https://gateway.test/mcp")), jar);
        if let Some(site) = fetch_site {
            req.headers_mut().insert("sec-fetch-site", site.parse().unwrap());
        }
        run(p, req)
    }

    #[test]
    fn remembered_consent_applies_only_to_direct_navigations_for_the_same_client() {
        let p = FakePlatform::with_settings(loopback_settings());
        let (client_id, _, jar) = obtain_code(&p, "https://gateway.test/mcp", "write");
        assert!(jar.iter().any(|c| c.starts_with("__Host-agw-approved=")));
        let again = authorize_again(&p, &client_id, &jar, Some("none"));
        assert_eq!(again.status(), 302, "{}", text(&again));
        let loc = again.headers()[LOCATION].to_str().unwrap();
        assert!(loc.starts_with(CLIENT_REDIRECT) && query(loc, "code").is_some(), "{loc}");
        // A cross-site navigation, or one without Sec-Fetch-Site, sees the consent page again.
        assert_eq!(authorize_again(&p, &client_id, &jar, Some("cross-site")).status(), 200);
        assert_eq!(authorize_again(&p, &client_id, &jar, None).status(), 200);
        // Another client, or a tampered cookie: consent again.
        let other = register(&p);
        assert_eq!(authorize_again(&p, &other, &jar, Some("none")).status(), 200);
        let tampered: Vec<String> = jar
            .iter()
            .map(|c| if c.starts_with("__Host-agw-approved=") { c.replacen("-w", "-r", 1) } else { c.clone() })
            .collect();
        assert_eq!(authorize_again(&p, &client_id, &tampered, Some("none")).status(), 200);
    }

    #[test]
    fn a_read_only_approval_is_not_reused_for_write_access() {
        let p = FakePlatform::with_settings(loopback_settings());
        let (client_id, _, jar) = obtain_code(&p, "https://gateway.test/mcp", "read");
        // The client asks for read and write again: the person must be asked.
        assert_eq!(authorize_again(&p, &client_id, &jar, Some("none")).status(), 200);
    }

    #[test]
    fn token_exchange_gives_configured_backends_a_short_lived_proxy_token() {
        const BACKEND_SECRET: &str = "backend-secret-that-is-long-enough-000";
        let exchange_form = |subject: &str, secret: &str, extra: &[(&str, &str)]| {
            let mut pairs = vec![
                ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
                ("client_id", "backend-1"),
                ("client_secret", secret),
                ("subject_token", subject),
                ("subject_token_type", "urn:ietf:params:oauth:token-type:access_token"),
            ];
            pairs.extend_from_slice(extra);
            form("/token", &pairs, &[])
        };
        // Off unless configured.
        let p = FakePlatform::with_settings(loopback_settings());
        let (client_id, code, _) = obtain_code(&p, "https://gateway.test/mcp", "write");
        let subject = body(&redeem(&p, &client_id, &code, VERIFIER))["access_token"].as_str().unwrap().to_string();
        assert_eq!(body(&run(&p, exchange_form(&subject, BACKEND_SECRET, &[])))["error"], "unsupported_grant_type");

        let mut m = loopback_settings();
        m.insert(crate::config::TOKEN_EXCHANGE_CLIENTS, format!("backend-1:{BACKEND_SECRET}"));
        let p = FakePlatform::with_settings(m);
        assert!(body(&run(&p, get("/.well-known/oauth-authorization-server")))["grant_types_supported"]
            .to_string()
            .contains("token-exchange"));
        let (client_id, code, _) = obtain_code(&p, "https://gateway.test/mcp", "read");
        let subject = body(&redeem(&p, &client_id, &code, VERIFIER))["access_token"].as_str().unwrap().to_string();
        assert_eq!(run(&p, exchange_form(&subject, "wrong-secret-wrong-secret-wrong-secret", &[])).status(), 401);
        assert_eq!(
            body(&run(&p, exchange_form(&subject, BACKEND_SECRET, &[("scope", "attio:write")])))["error"],
            "invalid_scope"
        );
        assert_eq!(
            body(&run(&p, exchange_form(&subject, BACKEND_SECRET, &[("resource", "https://gateway.test/mcp")])))
                ["error"],
            "invalid_target"
        );
        assert_eq!(body(&run(&p, exchange_form("agwa.not-a-token", BACKEND_SECRET, &[])))["error"], "invalid_grant");
        let r = run(&p, exchange_form(&subject, BACKEND_SECRET, &[]));
        assert_eq!(r.status(), 200, "{}", text(&r));
        let t = body(&r);
        assert_eq!(t["issued_token_type"], "urn:ietf:params:oauth:token-type:access_token");
        assert_eq!(t["expires_in"], 900);
        assert_eq!(t["scope"], "attio:read");
        assert!(t.get("refresh_token").is_none());
        // The MCP-audience subject does not work at the proxy; the exchanged token does.
        assert_eq!(bearer_get(&p, "/v2/self", &subject).status(), 401);
        p.http.push(200, SELF_ACTIVE);
        assert_eq!(bearer_get(&p, "/v2/self", t["access_token"].as_str().unwrap()).status(), 200);
    }

    #[test]
    fn checklist_gaps_b12_b15_c19_d28_d29_and_probes_6_21_27() {
        let p = FakePlatform::with_settings(loopback_settings());
        // B.12: no code_verifier → invalid_request (and the code survives for a proper request).
        let (client_id, code, _) = obtain_code(&p, "https://gateway.test/v2", "read");
        let no_verifier = run(
            &p,
            form("/token", &[("grant_type", "authorization_code"), ("client_id", &client_id), ("code", &code)], &[]),
        );
        assert_eq!(body(&no_verifier)["error"], "invalid_request");
        // B.15: codes expire after 120 s.
        p.advance_ms(121_000);
        assert_eq!(body(&redeem(&p, &client_id, &code, VERIFIER))["error"], "invalid_grant");

        // C.19 / probe 27: a confidential client must use its registered method and secret.
        let r = run(
            &p,
            post_json(
                "/register",
                &format!(
                    r#"{{"redirect_uris":["{CLIENT_REDIRECT}"],"token_endpoint_auth_method":"client_secret_post"}}"#
                ),
            ),
        );
        let (cid, secret) = (
            body(&r)["client_id"].as_str().unwrap().to_string(),
            body(&r)["client_secret"].as_str().unwrap().to_string(),
        );
        let as_public = run(
            &p,
            form(
                "/token",
                &[
                    ("grant_type", "authorization_code"),
                    ("client_id", &cid),
                    ("code", "agwc.x"),
                    ("code_verifier", VERIFIER),
                ],
                &[],
            ),
        );
        assert_eq!(as_public.status(), 401, "no secret");
        let wrong = run(
            &p,
            form(
                "/token",
                &[
                    ("grant_type", "authorization_code"),
                    ("client_id", &cid),
                    ("client_secret", "agws.wrong"),
                    ("code", "agwc.x"),
                    ("code_verifier", VERIFIER),
                ],
                &[],
            ),
        );
        assert_eq!(body(&wrong)["error"], "invalid_client");
        assert!(wrong.headers().get("www-authenticate").is_some());
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{cid}:{secret}"));
        let mut via_basic = form(
            "/token",
            &[("grant_type", "authorization_code"), ("code", "agwc.x"), ("code_verifier", VERIFIER)],
            &[],
        );
        via_basic.headers_mut().insert("authorization", format!("Basic {basic}").parse().unwrap());
        assert_eq!(
            body(&run(&p, via_basic))["error"],
            "invalid_client",
            "registered for client_secret_post, not Basic"
        );

        // D.28: another client's refresh token, and probe 6: a forged token with a real grant id.
        let (client_id, code, _) = obtain_code(&p, "https://gateway.test/v2", "read");
        let t = body(&redeem(&p, &client_id, &code, VERIFIER));
        let rt = t["refresh_token"].as_str().unwrap().to_string();
        let other = register(&p);
        let stolen = run(
            &p,
            form("/token", &[("grant_type", "refresh_token"), ("client_id", &other), ("refresh_token", &rt)], &[]),
        );
        assert_eq!(body(&stolen)["error"], "invalid_grant");
        let grant_id = rt.split('.').nth(1).unwrap();
        let forged = format!("agwr.{grant_id}.{}", "A".repeat(43));
        let r = run(
            &p,
            form(
                "/token",
                &[("grant_type", "refresh_token"), ("client_id", &client_id), ("refresh_token", &forged)],
                &[],
            ),
        );
        assert_eq!(body(&r)["error"], "invalid_grant");
        p.http.push(200, SELF_ACTIVE);
        assert_eq!(
            bearer_get(&p, "/v2/self", t["access_token"].as_str().unwrap()).status(),
            200,
            "the forged token changed nothing"
        );

        // Probe 21: an auth-skip path in the query string does not skip auth.
        assert_eq!(run(&p, get("/v2/self?x=/.well-known/oauth-protected-resource")).status(), 401);

        // D.29: once the Attio connection is revoked, the grant cannot be refreshed.
        let record =
            p.kv_value("attio-conn:v1:ws-1:mem-1").unwrap().replace("\"status\":\"active\"", "\"status\":\"revoked\"");
        p.kv_insert_raw("attio-conn:v1:ws-1:mem-1", &record);
        let r = run(
            &p,
            form("/token", &[("grant_type", "refresh_token"), ("client_id", &client_id), ("refresh_token", &rt)], &[]),
        );
        assert_eq!(body(&r)["error"], "invalid_grant", "{}", text(&r));
    }

    #[test]
    fn a_read_only_token_gets_403_insufficient_scope_for_writes() {
        let p = FakePlatform::with_settings(loopback_settings());
        let (client_id, code, _) = obtain_code(&p, "https://gateway.test/v2", "read");
        let at = body(&redeem(&p, &client_id, &code, VERIFIER))["access_token"].as_str().unwrap().to_string();
        let config = crate::config::Config::load(&p).unwrap();
        let req = http::Request::get("https://gateway.test/v2/objects")
            .header("authorization", format!("Bearer {at}"))
            .body(Vec::new())
            .unwrap();
        // The status and challenge of a refusal (the whole response is large for a closure's Err).
        let check = |scope: &str| {
            block_on(crate::access::authenticate(&p, &config, &req, crate::oauth::metadata::Audience::Api, scope))
                .map(|_| ())
                .map_err(|r| (r.status().as_u16(), r.headers()["www-authenticate"].to_str().unwrap_or("").to_string()))
        };
        assert!(check("attio:read").is_ok());
        let (status, challenge) = check("attio:write").unwrap_err();
        assert_eq!(status, 403);
        assert!(
            challenge.contains("error=\"insufficient_scope\"") && challenge.contains("scope=\"attio:write\""),
            "{challenge}"
        );
        assert!(
            challenge.contains("resource_metadata=\"https://gateway.test/.well-known/oauth-protected-resource/v2\"")
        );
    }

    fn proxy_token(p: &FakePlatform, access: &str) -> String {
        let (client_id, code, _) = obtain_code(p, "https://gateway.test/v2", access);
        body(&redeem(p, &client_id, &code, VERIFIER))["access_token"].as_str().unwrap().to_string()
    }

    fn proxied(p: &FakePlatform, method: &str, path: &str, token: &str, body_text: &str) -> Response {
        let req = http::Request::builder()
            .method(method)
            .uri(format!("https://gateway.test{path}"))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .header("cookie", "__Host-agw-session=secret-cookie")
            .header("x-forwarded-for", "6.6.6.6")
            .body(body_text.as_bytes().to_vec())
            .unwrap();
        run(p, req)
    }

    #[test]
    fn the_proxy_forwards_method_path_query_and_body_with_the_vaulted_token() {
        let p = FakePlatform::with_settings(loopback_settings());
        let at = proxy_token(&p, "write");
        p.http.push(200, r#"{"data":{"id":{"record_id":"r1"}}}"#);
        let r = proxied(
            &p,
            "PUT",
            "/v2/objects/companies/records?matching_attribute=domains",
            &at,
            r#"{"data":{"values":{"name":"Acme"}}}"#,
        );
        assert_eq!(r.status(), 200, "{}", text(&r));
        assert_eq!(body(&r)["data"]["id"]["record_id"], "r1");
        let sent = p.http.sent.borrow();
        let up = sent.last().unwrap();
        assert_eq!(up.method(), "PUT");
        assert_eq!(up.uri(), "http://127.0.0.1:9/v2/objects/companies/records?matching_attribute=domains");
        assert_eq!(up.body(), br#"{"data":{"values":{"name":"Acme"}}}"#);
        assert_eq!(up.headers()["authorization"], "Bearer attio-at-1");
        assert_eq!(up.headers()["content-type"], "application/json");
        assert!(up.headers().get("cookie").is_none() && up.headers().get("x-forwarded-for").is_none());
        assert!(!format!("{:?}", up.headers()).contains(&at), "our token went upstream");
    }

    #[test]
    fn the_proxy_passes_attio_errors_and_retry_after_through() {
        let p = FakePlatform::with_settings(loopback_settings());
        let at = proxy_token(&p, "read");
        let mut limited = reply(
            429,
            r#"{"status_code":429,"type":"rate_limit_error","code":"rate_limit_exceeded","message":"Rate limit exceeded, please try again later"}"#,
        );
        limited.headers_mut().insert("retry-after", "Tue, 23 May 2023 14:42:01 GMT".parse().unwrap());
        limited.headers_mut().insert("set-cookie", "upstream=1".parse().unwrap());
        p.http.replies.borrow_mut().push_back(Ok(limited));
        let r = proxied(&p, "GET", "/v2/objects", &at, "");
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "Tue, 23 May 2023 14:42:01 GMT");
        assert!(r.headers().get("set-cookie").is_none());
        assert_eq!(body(&r)["code"], "rate_limit_exceeded");
        p.http.push(404, r#"{"status_code":404,"type":"invalid_request_error","code":"not_found","message":"Nope."}"#);
        assert_eq!(body(&proxied(&p, "GET", "/v2/objects/nope", &at, ""))["message"], "Nope.");
    }

    #[test]
    fn the_proxy_refuses_traversal_and_enforces_write_scope() {
        let p = FakePlatform::with_settings(loopback_settings());
        let at = proxy_token(&p, "read");
        let before = p.http.sent.borrow().len();
        for path in ["/v2/../admin", "/v2/%2e%2e/admin", "/v2/objects%2f..%2fx", "/v2//evil.test/x", "/v2/objects/%5c"]
        {
            let r = proxied(&p, "GET", path, &at, "");
            assert_eq!(r.status(), 400, "{path}");
        }
        // A read-only token may query (a POST that reads) but not create.
        assert_eq!(proxied(&p, "POST", "/v2/objects/people/records", &at, "{}").status(), 403);
        assert_eq!(p.http.sent.borrow().len(), before, "nothing was forwarded");
        p.http.push(200, r#"{"data":[]}"#);
        assert_eq!(proxied(&p, "POST", "/v2/objects/people/records/query", &at, "{}").status(), 200);
    }

    #[test]
    fn a_401_from_attio_revokes_only_when_attio_confirms_it() {
        let p = FakePlatform::with_settings(loopback_settings());
        let at = proxy_token(&p, "read");
        // A spurious 401 (Attio still says the token is active): retryable, nothing revoked.
        p.http.push(401, "");
        p.http.push(200, SELF_ACTIVE);
        assert_eq!(proxied(&p, "GET", "/v2/objects", &at, "").status(), 502);
        // A real one: the connection is revoked and the caller is told to authorize again.
        p.http.push(401, "");
        p.http.push(200, r#"{"active":false}"#);
        let r = proxied(&p, "GET", "/v2/objects", &at, "");
        assert_eq!(r.status(), 401);
        assert!(r.headers()["www-authenticate"].to_str().unwrap().contains("resource_metadata="));
        assert_eq!(body(&r)["code"], "reauthorization_required");
        assert_eq!(proxied(&p, "GET", "/v2/objects", &at, "").status(), 401, "revoked stays revoked");
    }

    fn mcp_token(p: &FakePlatform, access: &str) -> String {
        let (client_id, code, _) = obtain_code(p, "https://gateway.test/mcp", access);
        body(&redeem(p, &client_id, &code, VERIFIER))["access_token"].as_str().unwrap().to_string()
    }

    fn mcp(p: &FakePlatform, token: &str, message: &str, headers: &[(&str, &str)]) -> Response {
        mcp_at(p, "https://gateway.test/mcp", token, message, headers)
    }

    fn mcp_at(p: &FakePlatform, url: &str, token: &str, message: &str, headers: &[(&str, &str)]) -> Response {
        let mut b = http::Request::post(url)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        run(p, b.body(message.as_bytes().to_vec()).unwrap())
    }

    #[test]
    fn a_rebound_host_is_refused_once_the_public_origin_is_known() {
        let mut settings = loopback_settings();
        settings.insert(PUBLIC_ORIGIN, "https://gateway.test".into());
        let p = FakePlatform::with_settings(settings);
        let at = mcp_token(&p, "read");
        let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
        // A page on evil.test rebound to the gateway's address: its own host in Host and Origin.
        let rebound = mcp_at(&p, "https://evil.test/mcp", &at, ping, &[("origin", "https://evil.test")]);
        assert_eq!(rebound.status(), 403);
        assert_eq!(body(&rebound)["error"]["code"], -32600);
        assert_eq!(mcp_at(&p, "https://evil.test/mcp", &at, ping, &[]).status(), 403, "no Origin either");
        let ours = mcp_at(&p, "https://gateway.test/mcp", &at, ping, &[("origin", "https://gateway.test")]);
        assert_eq!(ours.status(), 200);
        // Without PUBLIC_ORIGIN the request's own host is the only reference: Origin is checked
        // against it (see mcp_transport_edge_cases).
        let open = FakePlatform::with_settings(loopback_settings());
        let at = mcp_token(&open, "read");
        assert_eq!(mcp_at(&open, "https://gateway.test/mcp", &at, ping, &[]).status(), 200);
    }

    #[test]
    fn mcp_transport_edge_cases() {
        let p = FakePlatform::with_settings(loopback_settings());
        let at = mcp_token(&p, "read");
        let init = mcp(
            &p,
            &at,
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
            &[],
        );
        assert_eq!(init.status(), 200);
        assert_eq!(body(&init)["result"]["protocolVersion"], "2025-06-18");
        assert!(init.headers().get("mcp-session-id").is_none(), "stateless: no session ids");
        assert_eq!(mcp(&p, &at, r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#, &[]).status(), 202);
        assert_eq!(
            body(&mcp(&p, &at, r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#, &[]))["result"],
            serde_json::json!({})
        );
        let foreign = mcp(&p, &at, r#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#, &[("origin", "https://evil.test")]);
        assert_eq!(foreign.status(), 403);
        assert_eq!(
            mcp(&p, &at, r#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#, &[("origin", "https://gateway.test")]).status(),
            200
        );
        assert_eq!(
            mcp(&p, &at, r#"{"jsonrpc":"2.0","id":4,"method":"ping"}"#, &[("mcp-protocol-version", "1999-01-01")])
                .status(),
            400
        );
        let batch = mcp(&p, &at, r#"[{"jsonrpc":"2.0","id":5,"method":"ping"}]"#, &[]);
        assert_eq!(
            (batch.status(), body(&batch)["error"]["code"].as_i64()),
            (http::StatusCode::BAD_REQUEST, Some(-32600))
        );
        let garbage = mcp(&p, &at, "{oops", &[]);
        assert_eq!(body(&garbage)["error"]["code"], -32700);
        assert_eq!(
            body(&mcp(&p, &at, r#"{"jsonrpc":"2.0","id":6,"method":"resources/list"}"#, &[]))["error"]["code"],
            -32601
        );
        let get = run(
            &p,
            http::Request::get("https://gateway.test/mcp")
                .header("authorization", format!("Bearer {at}"))
                .body(Vec::new())
                .unwrap(),
        );
        assert_eq!(get.status(), 405);
        let wrong_type = http::Request::post("https://gateway.test/mcp")
            .header("authorization", format!("Bearer {at}"))
            .header("content-type", "text/plain")
            .body(b"{}".to_vec())
            .unwrap();
        assert_eq!(run(&p, wrong_type).status(), 415);
        // No token: 401 pointing at the MCP resource's metadata.
        let anon = run(
            &p,
            http::Request::post("https://gateway.test/mcp")
                .header("content-type", "application/json")
                .body(b"{}".to_vec())
                .unwrap(),
        );
        assert_eq!(anon.status(), 401);
        assert!(anon.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("/.well-known/oauth-protected-resource/mcp"));
        // A REST-proxy token is not accepted here.
        let api_at = proxy_token(&p, "read");
        assert_eq!(mcp(&p, &api_at, r#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#, &[]).status(), 401);
    }

    #[test]
    fn mcp_checks_2026_headers_and_allowed_origins() {
        let mut m = loopback_settings();
        m.insert(crate::config::MCP_ALLOWED_ORIGINS, "http://localhost:6274".into());
        let p = FakePlatform::with_settings(m);
        let at = mcp_token(&p, "read");
        let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
        assert_eq!(mcp(&p, &at, ping, &[("origin", "http://localhost:6274")]).status(), 200, "allowlisted origin");
        assert_eq!(mcp(&p, &at, ping, &[("origin", "http://localhost:9999")]).status(), 403);
        assert_eq!(mcp(&p, &at, ping, &[("mcp-method", "ping")]).status(), 200);
        let r = mcp(&p, &at, ping, &[("mcp-method", "tools/call")]);
        assert_eq!((r.status(), body(&r)["error"]["code"].as_i64()), (http::StatusCode::BAD_REQUEST, Some(-32020)));
        p.http.push(200, r#"{"data":[]}"#);
        let call = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"list_lists"}}"#;
        assert_eq!(mcp(&p, &at, call, &[("mcp-method", "tools/call"), ("mcp-name", "list_lists")]).status(), 200);
        assert_eq!(body(&mcp(&p, &at, call, &[("mcp-name", "delete_task")]))["error"]["code"], -32020);
    }

    #[test]
    fn mcp_tools_enforce_the_grant_and_explain_attio_errors() {
        let p = FakePlatform::with_settings(loopback_settings());
        let read = mcp_token(&p, "read");
        let list = body(&mcp(&p, &read, r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, &[]));
        let names: Vec<String> = list["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect();
        assert!(names.contains(&"query_records".to_string()) && !names.contains(&"create_record".to_string()));
        // A write tool called anyway: 403 insufficient_scope, nothing sent to Attio.
        let before = p.http.sent.borrow().len();
        let denied = mcp(
            &p,
            &read,
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"create_record","arguments":{"object":"companies","values":{"name":"X"}}}}"#,
            &[],
        );
        assert_eq!(denied.status(), 403);
        assert!(denied.headers()["www-authenticate"].to_str().unwrap().contains("insufficient_scope"));
        assert_eq!(p.http.sent.borrow().len(), before);
        // A read: Attio's answer as structured content and text.
        p.http.push(200, r#"{"data":[{"api_slug":"companies"}]}"#);
        let r = body(&mcp(
            &p,
            &read,
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_objects","arguments":{}}}"#,
            &[],
        ));
        assert_eq!(r["result"]["isError"], false);
        assert_eq!(r["result"]["structuredContent"]["data"][0]["api_slug"], "companies");
        assert_eq!(p.http.sent.borrow().last().unwrap().headers()["authorization"], "Bearer attio-at-1");
        // Attio errors become tool errors with a hint; 429 says when to retry.
        p.http.push(
            400,
            r#"{"status_code":400,"type":"invalid_request_error","code":"filter_error","message":"Error in filter."}"#,
        );
        let r = body(&mcp(
            &p,
            &read,
            r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"query_records","arguments":{"object":"people","filter":{"nope":1}}}}"#,
            &[],
        ));
        assert_eq!(r["result"]["isError"], true);
        let text = r["result"]["content"][0]["text"].as_str().unwrap();
        assert!(text.contains("Error in filter.") && text.contains("list_attributes"), "{text}");
        let mut limited = reply(429, "{}");
        limited.headers_mut().insert("retry-after", "Tue, 23 May 2023 14:42:01 GMT".parse().unwrap());
        p.http.replies.borrow_mut().push_back(Ok(limited));
        let r = body(&mcp(
            &p,
            &read,
            r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"list_lists"}}"#,
            &[],
        ));
        assert!(r["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("Retry after Tue, 23 May 2023 14:42:01 GMT"));
        // Bad arguments and unknown tools.
        let r = body(&mcp(
            &p,
            &read,
            r#"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"get_record","arguments":{"object":"people"}}}"#,
            &[],
        ));
        assert_eq!(r["result"]["isError"], true);
        assert_eq!(
            body(&mcp(&p, &read, r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"nope"}}"#, &[]))
                ["error"]["code"],
            -32602
        );
        // A write grant may write.
        let write = mcp_token(&p, "write");
        p.http.push(200, r#"{"data":{"id":{"record_id":"r9"}}}"#);
        let r = body(&mcp(
            &p,
            &write,
            r#"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"create_record","arguments":{"object":"companies","values":{"name":"X"}}}}"#,
            &[],
        ));
        assert_eq!(r["result"]["structuredContent"]["data"]["id"]["record_id"], "r9");
        let sent = p.http.sent.borrow();
        let last = sent.last().unwrap();
        assert_eq!((last.method().as_str(), last.uri().path()), ("POST", "/v2/objects/companies/records"));
    }

    #[test]
    fn the_audit_log_records_who_did_what_without_secrets() {
        let p = FakePlatform::with_settings(loopback_settings());
        let (client_id, code, jar) = obtain_code(&p, "https://gateway.test/mcp", "write");
        let at = body(&redeem(&p, &client_id, &code, VERIFIER))["access_token"].as_str().unwrap().to_string();
        p.http.push(200, SELF_ACTIVE);
        mcp(&p, &at, r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami"}}"#, &[]);
        p.advance_ms(10);
        p.http.push(
            400,
            r#"{"status_code":400,"type":"invalid_request_error","code":"filter_error","message":"Error in filter."}"#,
        );
        mcp(
            &p,
            &at,
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"query_records","arguments":{"object":"people","filter":{"email":"secret@x.test"}}}}"#,
            &[],
        );
        p.advance_ms(10);
        let api = proxy_token(&p, "read");
        p.http.push(200, r#"{"data":[]}"#);
        proxied(&p, "GET", "/v2/notes?parent_record_id=secret-record", &api, "");

        let r = run(&p, with_cookies("/connect/audit", &jar));
        assert_eq!(r.status(), 200, "{}", text(&r));
        let entries = body(&r)["entries"].as_array().unwrap().clone();
        let actions: Vec<(&str, &str, bool)> = entries
            .iter()
            .map(|e| (e["action"].as_str().unwrap(), e["outcome"].as_str().unwrap(), e["write"].as_bool().unwrap()))
            .collect();
        assert_eq!(
            actions,
            [("GET /v2/notes", "ok", false), ("query_records", "error", false), ("whoami", "ok", false)]
        );
        // The tool calls came from the MCP client; the proxied read from the second (REST) client.
        assert!(entries[1..].iter().all(|e| e["client_id"] == client_id.as_str()));
        assert!(
            entries[0]["client_id"].as_str().unwrap().starts_with("mcp_")
                && entries[0]["client_id"] != client_id.as_str()
        );
        let all = text(&r);
        for secret in [at.as_str(), api.as_str(), "attio-at-1", "secret-record", "secret@x.test"] {
            assert!(!all.contains(secret), "audit log holds {secret}");
        }
        assert_eq!(run(&p, get("/connect/audit")).status(), 401, "only the person themselves");
    }

    #[test]
    fn a_private_key_jwt_client_spends_nothing_until_its_assertion_verifies() {
        use crate::oauth::assertion::ASSERTION_TYPE;
        use crate::testing::jwt_signer::{claims, TestKey, CLIENT_RSA_PEM, OTHER_RSA_PEM};
        let key = TestKey::rsa(CLIENT_RSA_PEM);
        let p = FakePlatform::with_settings(loopback_settings());
        let registration = serde_json::json!({
            "client_name": "Signed <Client>", "redirect_uris": [CLIENT_REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [key.public_jwk("k1")]}
        });
        let r = run(&p, post_json("/register", &registration.to_string()));
        assert_eq!(r.status(), 201, "{}", text(&r));
        assert!(body(&r).get("client_secret").is_none(), "no secret for a key-authenticated client");
        assert_eq!(body(&r)["jwks"]["keys"][0]["kid"], "k1");
        let client_id = body(&r)["client_id"].as_str().unwrap().to_string();
        let (client_id, code, _) = obtain_code_for(&p, client_id, "https://gateway.test/mcp", "write");
        let now = crate::platform::Clock::now_ms(&p) / 1000;
        let redeem_with = |jwt: &str| {
            let pairs = [
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("code_verifier", VERIFIER),
                ("redirect_uri", CLIENT_REDIRECT),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", jwt),
            ];
            run(&p, form("/token", &pairs, &[]))
        };
        let forged =
            TestKey::rsa(OTHER_RSA_PEM).sign(Some("k1"), &claims(&client_id, "https://gateway.test/token", now, "a"));
        let refused = redeem_with(&forged);
        assert_eq!(refused.status(), 401, "{}", text(&refused));
        assert_eq!(body(&refused)["error"], "invalid_client");
        assert!(is_no_store(&refused));
        // Without any assertion: the public method is not this client's.
        assert_eq!(redeem(&p, &client_id, &code, VERIFIER).status(), 401);
        // The code survived both refusals.
        let good = key.sign(Some("k1"), &claims(&client_id, "https://gateway.test/token", now, "b"));
        let tokens = redeem_with(&good);
        assert_eq!(tokens.status(), 200, "{}", text(&tokens));
        assert!(is_no_store(&tokens));
        // Refresh and revoke authenticate the same way.
        let rt = body(&tokens)["refresh_token"].as_str().unwrap().to_string();
        let next = key.sign(Some("k1"), &claims(&client_id, "https://gateway.test/token", now, "c"));
        let refreshed = run(
            &p,
            form(
                "/token",
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &rt),
                    ("client_assertion_type", ASSERTION_TYPE),
                    ("client_assertion", &next),
                ],
                &[],
            ),
        );
        assert_eq!(refreshed.status(), 200, "{}", text(&refreshed));
        let at = body(&refreshed)["access_token"].as_str().unwrap().to_string();
        let list = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
        assert_eq!(mcp(&p, &at, list, &[]).status(), 200, "the refreshed token works");
        let revoke_jwt = key.sign(Some("k1"), &claims(&client_id, "https://gateway.test/revoke", now, "d"));
        let revoked = run(
            &p,
            form(
                "/revoke",
                &[("token", &at), ("client_assertion_type", ASSERTION_TYPE), ("client_assertion", &revoke_jwt)],
                &[],
            ),
        );
        assert_eq!(revoked.status(), 200, "{}", text(&revoked));
        assert_eq!(mcp(&p, &at, list, &[]).status(), 401, "revoked");
    }

    #[test]
    fn a_client_can_revoke_only_its_own_tokens() {
        let p = FakePlatform::with_settings(loopback_settings());
        let (client_id, code, _) = obtain_code(&p, "https://gateway.test/v2", "read");
        let at = body(&redeem(&p, &client_id, &code, VERIFIER))["access_token"].as_str().unwrap().to_string();
        let other = register(&p);
        let r = run(&p, form("/revoke", &[("client_id", &other), ("token", &at)], &[]));
        assert_eq!(r.status(), 200, "RFC 7009: 200 regardless");
        p.http.push(200, SELF_ACTIVE);
        assert_eq!(bearer_get(&p, "/v2/self", &at).status(), 200, "another client cannot revoke it");
        assert_eq!(run(&p, form("/revoke", &[("client_id", &client_id), ("token", &at)], &[])).status(), 200);
        assert_eq!(bearer_get(&p, "/v2/self", &at).status(), 401, "its own client can");
    }
}

#[test]
fn auto_approve_cannot_be_switched_on_outside_test_mode() {
    // Asked for, but without test mode (or with a real Attio): the consent page still shows.
    for extra in [
        vec![("TEST_AUTO_APPROVE", "1")],
        vec![("TEST_AUTO_APPROVE", "1"), ("INSECURE_TEST_MODE", "1"), ("ATTIO_API_BASE_URL", "https://api.attio.com")],
    ] {
        let mut m = loopback_settings();
        m.insert(TEST_ATTIO_TOKEN, "attio-test-token".into());
        for (k, v) in &extra {
            let key: &'static str = match *k {
                "TEST_AUTO_APPROVE" => crate::config::TEST_AUTO_APPROVE,
                "INSECURE_TEST_MODE" => INSECURE_TEST_MODE,
                _ => ATTIO_API_BASE_URL,
            };
            m.insert(key, v.to_string());
        }
        let p = FakePlatform::with_settings(m);
        let client_id = as_flow::register(&p);
        let r =
            run(&p, get(&format!("/authorize?{}", as_flow::authorize_query(&client_id, "https://gateway.test/mcp"))));
        assert_eq!(r.status(), 200, "{extra:?}: consent page expected");
        assert!(p.http.sent.borrow().is_empty(), "no Attio call");
    }
}

#[test]
fn metadata_document_clients_are_fetched_validated_and_cached() {
    let id = "https://app.example.com/oauth/client.json";
    let doc =
        serde_json::json!({"client_id": id, "client_name": "Doc Client", "redirect_uris": [as_flow::CLIENT_REDIRECT]});
    let p = FakePlatform::with_settings(loopback_settings());
    p.http.push(200, &doc.to_string());
    let q = as_flow::authorize_query(id, "https://gateway.test/mcp");
    let r = run(&p, get(&format!("/authorize?{q}")));
    assert_eq!(r.status(), 200, "{}", text(&r));
    assert!(text(&r).contains("Doc Client"));
    assert_eq!(p.http.sent.borrow()[0].uri(), id);
    // Cached: a second authorize does not fetch again.
    assert_eq!(run(&p, get(&format!("/authorize?{q}"))).status(), 200);
    assert_eq!(p.http.sent.borrow().len(), 1);
    // A document that names another client_id, or a private address: unknown client, no fetch.
    let p = FakePlatform::with_settings(loopback_settings());
    p.http.push(200, &serde_json::json!({"client_id": "https://evil.test/c.json", "client_name": "x", "redirect_uris": [as_flow::CLIENT_REDIRECT]}).to_string());
    assert_eq!(run(&p, get(&format!("/authorize?{q}"))).status(), 400);
    let private = as_flow::authorize_query("https://169.254.169.254/latest/meta-data", "https://gateway.test/mcp");
    assert_eq!(run(&p, get(&format!("/authorize?{private}"))).status(), 400);
    assert_eq!(p.http.sent.borrow().len(), 1, "the private address was never fetched");
}

/// The edge answers some requests from their head alone, before reading the body. Each such
/// answer must be exactly what the route gives once the body is read, and a request with a
/// well-formed bearer token must never be answered early (its token still has to be checked).
#[test]
fn answers_from_the_head_equal_the_routes_answers() {
    use crate::app::answer_from_head;
    let mut settings = loopback_settings();
    settings.insert(PUBLIC_ORIGIN, "https://gateway.test".into());
    let p = FakePlatform::with_settings(settings);
    let post = |url: &str, headers: &[(&str, &str)]| {
        let mut b = http::Request::post(url).header("content-type", "application/json");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#.to_vec()).unwrap()
    };
    let refused = [
        post("https://gateway.test/mcp", &[]),
        post("https://gateway.test/mcp", &[("authorization", "Basic Zm9vOmJhcg==")]),
        post("https://gateway.test/mcp", &[("authorization", "Bearer a b")]),
        post("https://gateway.test/mcp", &[("authorization", "Bearer x"), ("origin", "https://evil.test")]),
        post("https://evil.test/mcp", &[("authorization", "Bearer x")]),
        http::Request::put("https://gateway.test/mcp").body(b"{}".to_vec()).unwrap(),
        post("https://gateway.test/v2/objects/people/records/query", &[]),
        post("https://gateway.test/v2/objects/people/records/query", &[("authorization", "Bearer")]),
    ];
    for req in refused {
        let (parts, body) = req.into_parts();
        let head = Request::from_parts(parts.clone(), Vec::new());
        let early =
            answer_from_head(&head, &p).unwrap_or_else(|| panic!("{} {} answered early", parts.method, parts.uri));
        let routed = run(&p, Request::from_parts(parts, body));
        assert!(early.status().is_client_error(), "{}", early.status());
        assert_eq!(early.status(), routed.status());
        assert_eq!(early.headers(), routed.headers());
        assert_eq!(early.body(), routed.body());
    }
    for (url, headers) in [
        ("https://gateway.test/mcp", &[("authorization", "Bearer not-checked-yet")][..]),
        ("https://gateway.test/v2/objects/people/records/query", &[("authorization", "Bearer not-checked-yet")]),
        ("https://gateway.test/token", &[]),
        ("https://gateway.test/register", &[]),
    ] {
        assert!(answer_from_head(&post(url, headers), &p).is_none(), "{url} was answered before its body");
    }
    let preflight = http::Request::options("https://gateway.test/mcp").body(Vec::new()).unwrap();
    assert!(answer_from_head(&preflight, &p).is_none());
}
