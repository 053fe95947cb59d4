//! Black-box tests of the mock over HTTP: it must behave like Attio where the gateway relies on it.

#![allow(clippy::unwrap_used)]

use mock_attio::client::{Reply, TestClient as Client};
use mock_attio::seed::{ACME_ADMIN_MEMBER_ID, ACME_WORKSPACE_ID, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use mock_attio::{MockAttio, Settings, TokenStyle};
use serde_json::{json, Value};

const REDIRECT: &str = "http://127.0.0.1:9/callback";

fn start(settings: Settings) -> (MockAttio, Client) {
    let mock = MockAttio::start(vec![REDIRECT.into()], settings).unwrap();
    let client = Client::new(mock.base_url());
    (mock, client)
}

fn query_param(location: &str, name: &str) -> Option<String> {
    let q = location.split_once('?')?.1;
    url_param(q, name)
}

fn url_param(q: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// Walks the consent page as a person would: GET /authorize, then POST the approve button.
fn authorize(c: &Client, extra: &[(&str, &str)]) -> Reply {
    let mut q = vec![
        ("client_id", DEFAULT_CLIENT_ID),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("state", "s t&ate"),
    ];
    q.extend_from_slice(extra);
    let page = c.get(&format!("/authorize?{}", serde_urlencoded::to_string(&q).unwrap()), None);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Approve"));
    let mut form = q.clone();
    form.push(("member", ACME_ADMIN_MEMBER_ID));
    form.push(("decision", "approve"));
    c.form("/authorize", &form)
}

fn exchange(c: &Client, code: &str, extra: &[(&str, &str)]) -> Reply {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("client_id", DEFAULT_CLIENT_ID),
        ("client_secret", DEFAULT_CLIENT_SECRET),
        ("code", code),
        ("redirect_uri", REDIRECT),
    ];
    form.extend_from_slice(extra);
    c.form("/oauth/token", &form)
}

fn code_from(reply: &Reply) -> String {
    assert_eq!(reply.status, 302, "{}", reply.body);
    let loc = reply.header("location").unwrap();
    assert!(loc.starts_with(REDIRECT), "{loc}");
    assert_eq!(query_param(loc, "state").as_deref(), Some("s t&ate"), "state echoed byte-exact");
    query_param(loc, "code").expect("code")
}

#[test]
fn long_lived_flow_answers_exactly_attios_token_shape() {
    let (_m, c) = start(Settings::default());
    let code = code_from(&authorize(&c, &[]));
    let tok = exchange(&c, &code, &[]);
    assert_eq!(tok.status, 200);
    assert_eq!(tok.header("cache-control"), Some("no-store"));
    let body = tok.json();
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["access_token", "token_type"]);
    assert_eq!(body["token_type"], "Bearer");

    let me = c.get("/v2/self", body["access_token"].as_str()).json();
    assert_eq!(me["active"], true);
    assert_eq!(me["workspace_id"], ACME_WORKSPACE_ID);
    assert_eq!(me["sub"], ACME_WORKSPACE_ID);
    assert_eq!(me["authorized_by_workspace_member_id"], ACME_ADMIN_MEMBER_ID);
    assert_eq!(me["iss"], "attio.com");
    assert!(me["exp"].is_null());
    assert!(me.get("data").is_none(), "/v2/self is not wrapped in data");

    // Codes are single-use.
    assert_eq!(exchange(&c, &code, &[]).json()["error"], "invalid_grant");
}

#[test]
fn bad_redirect_uri_or_client_renders_an_error_and_never_redirects() {
    let (_m, c) = start(Settings::default());
    for q in [
        format!("client_id={DEFAULT_CLIENT_ID}&response_type=code&redirect_uri=https%3A%2F%2Fevil.test%2Fcb"),
        format!(
            "client_id={DEFAULT_CLIENT_ID}&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcallback%2F"
        ),
        "client_id=unknown&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcallback".to_string(),
    ] {
        let r = c.get(&format!("/authorize?{q}"), None);
        assert_eq!(r.status, 400, "{q}");
        assert!(r.header("location").is_none());
    }
}

#[test]
fn denial_redirects_with_access_denied_and_state() {
    let (_m, c) = start(Settings::default());
    let form = [
        ("client_id", DEFAULT_CLIENT_ID),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT),
        ("state", "xyz"),
        ("decision", "deny"),
    ];
    let r = c.form("/authorize", &form);
    let loc = r.header("location").unwrap();
    assert_eq!(query_param(loc, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_param(loc, "state").as_deref(), Some("xyz"));
    assert!(query_param(loc, "code").is_none());
}

#[test]
fn token_endpoint_errors() {
    let (_m, c) = start(Settings::default());
    let code = code_from(&authorize(&c, &[]));
    let wrong_secret = c.form(
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", "nope"),
            ("code", &code),
        ],
    );
    assert_eq!(wrong_secret.status, 401);
    assert_eq!(wrong_secret.json()["error"], "invalid_client");
    let refresh = c.form(
        "/oauth/token",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", DEFAULT_CLIENT_SECRET),
            ("refresh_token", "x"),
        ],
    );
    assert_eq!(refresh.json()["error"], "unsupported_grant_type", "long-lived tokens have no refresh grant");
    let json_body = c.send_json("POST", "/oauth/token", None, &json!({"grant_type": "authorization_code"}));
    assert_eq!(json_body.status, 400);
}

#[test]
fn expiring_style_issues_and_rotates_refresh_tokens() {
    let (mock, c) =
        start(Settings { token_style: TokenStyle::Expiring, access_token_ttl_secs: 60, ..Settings::default() });
    let code = code_from(&authorize(&c, &[]));
    let first = exchange(&c, &code, &[]).json();
    assert_eq!(first["expires_in"], 60);
    let rt = first["refresh_token"].as_str().unwrap().to_string();
    let at = first["access_token"].as_str().unwrap().to_string();
    assert_eq!(c.get("/v2/objects", Some(&at)).status, 200);

    mock.with(|w| w.clock.advance(61));
    assert_eq!(c.get("/v2/objects", Some(&at)).status, 401, "expired access token");
    assert_eq!(c.get("/v2/self", Some(&at)).json()["active"], false);

    let refresh = |token: &str| {
        c.form(
            "/oauth/token",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", DEFAULT_CLIENT_ID),
                ("client_secret", DEFAULT_CLIENT_SECRET),
                ("refresh_token", token),
            ],
        )
    };
    let second = refresh(&rt).json();
    let at2 = second["access_token"].as_str().unwrap();
    assert_ne!(second["refresh_token"], first["refresh_token"], "rotated");
    assert_eq!(c.get("/v2/objects", Some(at2)).status, 200);
    assert_eq!(refresh(&rt).json()["error"], "invalid_grant", "old refresh token is spent");
}

#[test]
fn pkce_switch_enforces_s256() {
    let (_m, c) = start(Settings { require_pkce: true, ..Settings::default() });
    // Without a challenge: error redirect, no code.
    let q =
        format!("client_id={DEFAULT_CLIENT_ID}&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcallback");
    let r = c.get(&format!("/authorize?{q}"), None);
    assert_eq!(query_param(r.header("location").unwrap(), "error").as_deref(), Some("invalid_request"));

    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let pkce = [("code_challenge", challenge), ("code_challenge_method", "S256")];
    let code = code_from(&authorize(&c, &pkce));
    assert_eq!(
        exchange(&c, &code, &[("code_verifier", "wrong-verifier-wrong-verifier-wrong-verifier")]).json()["error"],
        "invalid_grant"
    );
    // A failed verification burns the code.
    assert_eq!(exchange(&c, &code, &[("code_verifier", verifier)]).json()["error"], "invalid_grant");
    let code = code_from(&authorize(&c, &pkce));
    assert_eq!(exchange(&c, &code, &[("code_verifier", verifier)]).status, 200);
}

#[test]
fn introspect_and_revoke() {
    let (mock, c) = start(Settings::default());
    let token = mock.issue_token(ACME_ADMIN_MEMBER_ID).unwrap();
    let intro = c.form("/oauth/introspect", &[]);
    assert_eq!(intro.status, 401, "no token given");
    let r = c.post_bearer("/oauth/introspect", &token);
    assert_eq!(r.json()["workspace_slug"], "acme");
    assert_eq!(c.form("/oauth/revoke", &[]).status, 400);
    assert_eq!(c.form("/oauth/revoke", &[("token", &token)]).status, 204);
    assert_eq!(c.post_bearer("/oauth/introspect", &token).json(), json!({"active": false}));
    assert_eq!(c.get("/v2/self", Some(&token)).json(), json!({"active": false}));
    assert_eq!(c.get("/v2/self", Some("has space")).status, 400, "malformed token");
    assert_eq!(c.get("/v2/self", None).status, 401);
    let unauthorized = c.get("/v2/objects", Some(&token));
    assert_eq!(unauthorized.status, 401);
    assert_eq!(unauthorized.json()["type"], "auth_error");
}

#[test]
fn scopes_are_enforced_per_endpoint() {
    let (mock, c) = start(Settings::default());
    mock.with(|w| w.apps[0].scopes = vec!["record_permission:read".into(), "object_configuration:read".into()]);
    let token = mock.issue_token(ACME_ADMIN_MEMBER_ID).unwrap();
    assert_eq!(c.send_json("POST", "/v2/objects/companies/records/query", Some(&token), &json!({})).status, 200);
    let denied =
        c.send_json("POST", "/v2/objects/companies/records", Some(&token), &json!({"data": {"values": {"name": "X"}}}));
    assert_eq!(denied.status, 403);
    assert_eq!(denied.json()["code"], "missing_scopes");
    assert_eq!(c.get("/v2/workspace_members", Some(&token)).status, 403);
}

#[test]
fn workspaces_are_isolated() {
    let (mock, c) = start(Settings::default());
    let acme = mock.issue_token(ACME_ADMIN_MEMBER_ID).unwrap();
    let globex_member = mock.with(|w| w.workspaces[1].members[0].id.to_string());
    let globex = mock.issue_token(&globex_member).unwrap();
    let names = |token: &str| -> Vec<String> {
        c.send_json("POST", "/v2/objects/companies/records/query", Some(token), &json!({})).json()["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["values"]["name"][0]["value"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(names(&acme).contains(&"Initech".to_string()));
    assert_eq!(names(&globex), vec!["Globex Corporation"]);
    let initech = c
        .send_json("POST", "/v2/objects/companies/records/query", Some(&acme), &json!({"filter": {"name": "Initech"}}))
        .json();
    let rid = initech["data"][0]["id"]["record_id"].as_str().unwrap();
    assert_eq!(c.get(&format!("/v2/objects/companies/records/{rid}"), Some(&globex)).status, 404);
}

#[test]
fn records_query_create_assert_update_delete() {
    let (mock, c) = start(Settings::default());
    let token = mock.issue_token(ACME_ADMIN_MEMBER_ID).unwrap();
    let t = Some(token.as_str());
    let q = |body: Value| c.send_json("POST", "/v2/objects/deals/records/query", t, &body);

    let won = q(json!({"filter": {"stage": {"$eq": "Won 🎉"}}})).json();
    assert_eq!(won["data"].as_array().unwrap().len(), 1);
    let sorted = q(json!({"sorts": [{"attribute": "value", "direction": "desc"}], "limit": 2})).json();
    assert_eq!(sorted["data"][0]["values"]["name"][0]["value"], "Hooli expansion");
    assert_eq!(sorted["data"].as_array().unwrap().len(), 2);
    let bad = q(json!({"filter": {"no_such_attribute": 1}}));
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["code"], "filter_error");
    assert!(bad.json()["message"].as_str().unwrap().contains("stage"), "names the attributes that exist");
    assert_eq!(c.send_json("POST", "/v2/objects/nope/records/query", t, &json!({})).json()["code"], "not_found");
    assert_eq!(c.get("/v2/objects/deals/records/query", t).status, 404, "GET on a query endpoint");

    let created = c.send_json(
        "POST",
        "/v2/objects/companies/records",
        t,
        &json!({"data": {"values": {"name": "Wayne Enterprises", "domains": ["wayne.example"]}}}),
    );
    assert_eq!(created.status, 200, "{}", created.body);
    let created = created.json();
    let rid = created["data"]["id"]["record_id"].as_str().unwrap().to_string();
    assert_eq!(created["data"]["values"]["domains"][0]["root_domain"], "wayne.example");
    let dup = c.send_json(
        "POST",
        "/v2/objects/companies/records",
        t,
        &json!({"data": {"values": {"domains": ["wayne.example"]}}}),
    );
    assert_eq!(dup.status, 400, "unique attribute conflict");

    let asserted = c
        .send_json(
            "PUT",
            "/v2/objects/companies/records?matching_attribute=domains",
            t,
            &json!({"data": {"values": {"domains": ["wayne.example"], "description": "Gotham"}}}),
        )
        .json();
    assert_eq!(asserted["data"]["id"]["record_id"], rid.as_str(), "assert updates the match");
    assert_eq!(c.send_json("PUT", "/v2/objects/companies/records", t, &json!({"data": {"values": {}}})).status, 400);

    let patched = c
        .send_json(
            "PATCH",
            &format!("/v2/objects/companies/records/{rid}"),
            t,
            &json!({"data": {"values": {"categories": ["B2B"]}}}),
        )
        .json();
    assert_eq!(patched["data"]["values"]["categories"][0]["option"]["title"], "B2B");
    let patched = c
        .send_json(
            "PATCH",
            &format!("/v2/objects/companies/records/{rid}"),
            t,
            &json!({"data": {"values": {"categories": ["SaaS"]}}}),
        )
        .json();
    assert_eq!(patched["data"]["values"]["categories"].as_array().unwrap().len(), 2, "PATCH appends multiselect");
    let put = c
        .send_json(
            "PUT",
            &format!("/v2/objects/companies/records/{rid}"),
            t,
            &json!({"data": {"values": {"categories": ["B2C"]}}}),
        )
        .json();
    assert_eq!(put["data"]["values"]["categories"].as_array().unwrap().len(), 1, "PUT overwrites multiselect");

    assert_eq!(c.delete(&format!("/v2/objects/companies/records/{rid}"), &token).json(), json!({}));
    assert_eq!(c.get(&format!("/v2/objects/companies/records/{rid}"), t).status, 404);

    let custom =
        c.send_json("POST", "/v2/objects/projects/records/query", t, &json!({"filter": {"phase": "Build"}})).json();
    assert_eq!(custom["data"].as_array().unwrap().len(), 1, "custom objects work like standard ones");
    let search = c
        .send_json(
            "POST",
            "/v2/objects/records/search",
            t,
            &json!({"query": "init", "objects": ["companies", "people"], "request_as": {"type": "workspace"}}),
        )
        .json();
    assert!(search["data"].as_array().unwrap().iter().any(|h| h["record_text"] == "Initech"));
}

#[test]
fn lists_notes_tasks_members() {
    let (mock, c) = start(Settings::default());
    let token = mock.issue_token(ACME_ADMIN_MEMBER_ID).unwrap();
    let t = Some(token.as_str());
    let lists = c.get("/v2/lists", t).json();
    assert_eq!(lists["data"][0]["api_slug"], "key_accounts");
    let entries =
        c.send_json("POST", "/v2/lists/key_accounts/entries/query", t, &json!({"filter": {"priority": "High"}})).json();
    assert_eq!(entries["data"].as_array().unwrap().len(), 1);
    let hooli =
        c.send_json("POST", "/v2/objects/companies/records/query", t, &json!({"filter": {"name": "Hooli"}})).json();
    let hooli_id = hooli["data"][0]["id"]["record_id"].as_str().unwrap().to_string();
    let entry = c.send_json("POST", "/v2/lists/key_accounts/entries", t, &json!({"data": {"parent_record_id": hooli_id, "parent_object": "companies", "entry_values": {"priority": "Low"}}}));
    assert_eq!(entry.status, 200, "{}", entry.body);
    let eid = entry.json()["data"]["id"]["entry_id"].as_str().unwrap().to_string();
    assert_eq!(c.delete(&format!("/v2/lists/key_accounts/entries/{eid}"), &token).status, 200);

    let notes = c.get(&format!("/v2/notes?parent_object=companies&parent_record_id={hooli_id}"), t).json();
    assert!(notes["data"].as_array().unwrap().is_empty());
    assert_eq!(c.get("/v2/notes?limit=51", t).status, 400);
    let note = c.send_json("POST", "/v2/notes", t, &json!({"data": {"parent_object": "companies", "parent_record_id": hooli_id, "title": "Call", "format": "plaintext", "content": "Went well"}}));
    assert_eq!(note.status, 200, "{}", note.body);

    let tasks = c.get("/v2/tasks?is_completed=false", t).json();
    assert_eq!(tasks["data"].as_array().unwrap().len(), 2);
    let incomplete = c.send_json("POST", "/v2/tasks", t, &json!({"data": {"content": "x"}}));
    assert_eq!(incomplete.status, 400);
    assert!(incomplete.json()["message"].as_str().unwrap().contains("deadline_at"));
    let task = c.send_json(
        "POST",
        "/v2/tasks",
        t,
        &json!({"data": {"content": "Call Gavin", "format": "plaintext", "deadline_at": null, "is_completed": false,
        "linked_records": [{"target_object": "companies", "target_record_id": hooli_id}],
        "assignees": [{"referenced_actor_type": "workspace-member", "referenced_actor_id": ACME_ADMIN_MEMBER_ID}]}}),
    );
    assert_eq!(task.status, 200, "{}", task.body);
    let tid = task.json()["data"]["id"]["task_id"].as_str().unwrap().to_string();
    let done = c.send_json("PATCH", &format!("/v2/tasks/{tid}"), t, &json!({"data": {"is_completed": true}})).json();
    assert_eq!(done["data"]["is_completed"], true);

    let members = c.get("/v2/workspace_members", t).json();
    assert_eq!(members["data"].as_array().unwrap().len(), 2);
}

#[test]
fn fault_knobs_answer_like_attio() {
    let (mock, c) = start(Settings::default());
    let t = mock.issue_token(ACME_ADMIN_MEMBER_ID).unwrap();
    let r = c.send_json("POST", "/__mock/fail-next", None, &json!({"status": 429, "count": 2}));
    assert_eq!(r.status, 204);
    for _ in 0..2 {
        let limited = c.get("/v2/objects", Some(&t));
        assert_eq!(limited.status, 429);
        let retry_after = limited.header("retry-after").unwrap();
        assert!(httpdate::parse_http_date(retry_after).is_ok(), "HTTP-date, got {retry_after}");
        assert_eq!(
            limited.json(),
            json!({"status_code": 429, "type": "rate_limit_error", "code": "rate_limit_exceeded", "message": "Rate limit exceeded, please try again later"})
        );
    }
    assert_eq!(c.get("/v2/objects", Some(&t)).status, 200, "only N requests fail");

    c.send_json("POST", "/__mock/fail-next", None, &json!({"status": 503, "count": 1}));
    assert_eq!(c.get("/v2/objects", Some(&t)).status, 503);

    c.send_json("POST", "/__mock/revoke", None, &json!({"token": t}));
    assert_eq!(c.get("/v2/self", Some(&t)).json()["active"], false);
    let log = c.get("/__mock/requests", None).json();
    assert!(log.as_array().unwrap().iter().any(|r| r["path"] == "/v2/objects"));
}
