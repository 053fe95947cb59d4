//! The gateway as an OAuth 2.1 authorization server, end to end in workerd: discovery,
//! registration, consent chained to the Attio sign-in at the mock, tokens, a protected call,
//! refresh, revocation, and the one-time rules under concurrency.

use serde_json::{json, Value};

use crate::harness::*;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const CLIENT_REDIRECT: &str = "http://127.0.0.1:7777/callback";

fn post_form(c: &TestClient, path: &str, pairs: &[(&str, &str)]) -> Reply {
    c.request("POST", path, &[("content-type", "application/x-www-form-urlencoded")], Some(&form_body(pairs)))
}

fn query(location: &str, name: &str) -> Option<String> {
    url::Url::parse(location).unwrap().query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

fn register(c: &TestClient) -> String {
    let r = c.send_json(
        "POST",
        "/register",
        None,
        &json!({"client_name": "E2E client", "redirect_uris": [CLIENT_REDIRECT], "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "refresh_token"]}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["client_id"].as_str().unwrap().to_string()
}

/// A person (Acme's admin) approves the client at our consent page and signs in at the mock.
fn authorize(stack: &Stack, client_id: &str, resource: &str) -> String {
    stack.auto_approve();
    authorize_as_approved(stack, client_id, resource)
}

/// The same, for whichever member the mock is set to approve as.
fn authorize_as_approved(stack: &Stack, client_id: &str, resource: &str) -> String {
    let mut browser = stack.browser();
    browser.accept_json = false;
    let q = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", CLIENT_REDIRECT),
            ("state", "e2e-state"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("scope", "attio:read attio:write"),
            ("resource", resource),
        ])
        .finish();
    let consent = browser.get(&format!("/authorize?{q}"));
    assert_eq!(consent.status, 200, "{}", consent.body);
    assert_eq!(consent.header("x-frame-options"), Some("DENY"));
    assert!(consent.header("content-security-policy").unwrap().contains("frame-ancestors 'none'"));
    let form = form_body(&[
        ("request", &hidden(&consent.body, "request")),
        ("csrf", &hidden(&consent.body, "csrf")),
        ("decision", "approve"),
        ("access", "write"),
    ]);
    let decision = browser.request("POST", "/authorize", Some(("application/x-www-form-urlencoded", &form)));
    assert_eq!(decision.status, 303, "{}", decision.body);
    let at_attio = browser.get_absolute(decision.header("location").unwrap());
    let back = browser.get_absolute(at_attio.header("location").expect("mock redirects back"));
    assert_eq!(back.status, 303, "{}", back.body);
    let to_client = back.header("location").unwrap().to_string();
    assert!(to_client.starts_with(CLIENT_REDIRECT), "{to_client}");
    assert_eq!(query(&to_client, "state").as_deref(), Some("e2e-state"));
    assert_eq!(query(&to_client, "iss").as_deref(), Some(stack.worker.client.base.as_str()));
    query(&to_client, "code").expect("code")
}

fn redeem(c: &TestClient, client_id: &str, code: &str) -> Reply {
    post_form(
        c,
        "/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", code),
            ("code_verifier", VERIFIER),
            ("redirect_uri", CLIENT_REDIRECT),
        ],
    )
}

fn refresh(c: &TestClient, client_id: &str, rt: &str) -> Reply {
    post_form(c, "/token", &[("grant_type", "refresh_token"), ("client_id", client_id), ("refresh_token", rt)])
}

#[test]
fn an_mcp_client_discovers_registers_authorizes_calls_refreshes_and_revokes() {
    let stack = Stack::start(&[]);
    let base = stack.worker.client.base.clone();
    let c = TestClient::new(base.clone());

    // Discovery, starting from a 401.
    let unauthorized = c.get("/v2/self", None);
    assert_eq!(unauthorized.status, 401);
    let challenge = unauthorized.header("www-authenticate").unwrap().to_string();
    let prm_url = challenge.split("resource_metadata=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    assert_eq!(prm_url, format!("{base}/.well-known/oauth-protected-resource/v2"), "absolute");
    let prm = c.get(prm_url.strip_prefix(&base).unwrap(), None).json();
    assert_eq!(prm["resource"], format!("{base}/v2"));
    let issuer = prm["authorization_servers"][0].as_str().unwrap().to_string();
    let asm = c.get("/.well-known/oauth-authorization-server", None).json();
    assert_eq!(asm["issuer"], issuer, "issuer identical to the one the resource names");
    assert_eq!(asm["code_challenge_methods_supported"], json!(["S256"]));

    let client_id = register(&c);
    let code = authorize(&stack, &client_id, &format!("{base}/v2"));
    let tokens = redeem(&c, &client_id, &code);
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert_eq!(tokens.header("cache-control"), Some("no-store"));
    let t = tokens.json();
    assert_eq!(t["scope"], "attio:read attio:write");
    let at = t["access_token"].as_str().unwrap().to_string();
    let rt = t["refresh_token"].as_str().unwrap().to_string();

    // The protected call reaches Attio with the vaulted token, never ours.
    let me = c.get("/v2/self", Some(&at));
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json()["workspace_id"], ACME_WORKSPACE_ID);
    let upstream: Vec<String> = stack.mock.with(|w| w.log.iter().filter_map(|r| r.authorization.clone()).collect());
    assert!(upstream.iter().all(|a| !a.contains(&at) && !a.contains(&rt)), "our token went upstream");

    // Refresh, then revoke: the family dies at once.
    let refreshed = refresh(&c, &client_id, &rt);
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let at2 = refreshed.json()["access_token"].as_str().unwrap().to_string();
    assert_eq!(c.get("/v2/self", Some(&at2)).status, 200);
    assert_eq!(post_form(&c, "/revoke", &[("client_id", &client_id), ("token", &at2)]).status, 200);
    assert_eq!(c.get("/v2/self", Some(&at2)).status, 401);
    assert_eq!(
        refresh(&c, &client_id, refreshed.json()["refresh_token"].as_str().unwrap()).json()["error"],
        "invalid_grant"
    );

    // None of our tokens, codes or Attio's tokens is stored in any recoverable form.
    let mut secrets = vec![at, rt, at2, code];
    secrets.extend(stack.issued_tokens());
    for (path, bytes) in read_tree(&stack.worker.state_dir()) {
        let text = String::from_utf8_lossy(&bytes);
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{path:?} holds a token");
        }
    }
}

#[test]
fn ten_parallel_redemptions_of_one_code_give_exactly_one_token() {
    let stack = Stack::start(&[]);
    let c = TestClient::new(stack.worker.client.base.clone());
    let client_id = register(&c);
    let code = authorize(&stack, &client_id, &format!("{}/mcp", c.base));
    let replies: Vec<Reply> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..10).map(|_| s.spawn(|| redeem(&c, &client_id, &code))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ok = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 1, "{:?}", replies.iter().map(|r| (r.status, r.body.clone())).collect::<Vec<_>>());
    assert!(replies.iter().filter(|r| r.status != 200).all(|r| r.json()["error"] == "invalid_grant"));
}

#[test]
fn ten_parallel_refreshes_with_one_token_keep_one_family() {
    let stack = Stack::start(&[]);
    let c = TestClient::new(stack.worker.client.base.clone());
    let client_id = register(&c);
    let code = authorize(&stack, &client_id, &format!("{}/v2", c.base));
    let rt = redeem(&c, &client_id, &code).json()["refresh_token"].as_str().unwrap().to_string();
    let replies: Vec<Reply> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..10).map(|_| s.spawn(|| refresh(&c, &client_id, &rt))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let pairs: Vec<Value> = replies.iter().filter(|r| r.status == 200).map(Reply::json).collect();
    assert!(!pairs.is_empty());
    assert!(replies.iter().all(|r| r.status == 200 || r.status == 503), "no request may revoke the family");
    let first = &pairs[0];
    assert!(pairs.iter().all(|p| p["refresh_token"] == first["refresh_token"]), "one consistent pair, no fork");
    // The family lives on: the surviving token refreshes, and its access token works.
    let next = refresh(&c, &client_id, first["refresh_token"].as_str().unwrap());
    assert_eq!(next.status, 200, "{}", next.body);
    assert_eq!(c.get("/v2/self", Some(next.json()["access_token"].as_str().unwrap())).status, 200);
}

#[test]
fn a_metadata_document_client_authorizes_without_registering() {
    let doc = DocumentServer::start(|url| {
        json!({"client_id": url, "client_name": "CIMD client", "redirect_uris": [CLIENT_REDIRECT],
               "grant_types": ["authorization_code", "refresh_token"], "token_endpoint_auth_method": "none"})
        .to_string()
    });
    let stack = Stack::start(&[("INSECURE_TEST_MODE", "1"), ("TEST_CIMD_ALLOW_LOOPBACK", "1")]);
    let c = TestClient::new(stack.worker.client.base.clone());
    assert_eq!(
        c.get("/.well-known/oauth-authorization-server", None).json()["client_id_metadata_document_supported"],
        true
    );
    let code = authorize(&stack, &doc.url, &format!("{}/v2", c.base));
    let tokens = redeem(&c, &doc.url, &code);
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let at = tokens.json()["access_token"].as_str().unwrap().to_string();
    assert_eq!(c.get("/v2/self", Some(&at)).status, 200);
    assert_eq!(doc.fetches(), 1, "fetched once, then cached");
}

#[test]
fn metadata_documents_on_loopback_are_refused_without_the_test_setting() {
    let doc = DocumentServer::start(|url| {
        json!({"client_id": url, "client_name": "x", "redirect_uris": [CLIENT_REDIRECT]}).to_string()
    });
    let stack = Stack::start(&[]);
    let q = format!(
        "/authorize?response_type=code&client_id={}&code_challenge={CHALLENGE}&code_challenge_method=S256",
        url::form_urlencoded::byte_serialize(doc.url.as_bytes()).collect::<String>()
    );
    let r = stack.worker.client.get(&q, None);
    assert_eq!(r.status, 400);
    assert_eq!(doc.fetches(), 0, "the SSRF policy stopped the fetch");
}

#[test]
fn the_rest_proxy_reaches_attio_with_the_vaulted_token_only() {
    let stack = Stack::start(&[]);
    let c = TestClient::new(stack.worker.client.base.clone());
    let client_id = register(&c);
    let code = authorize(&stack, &client_id, &format!("{}/v2", c.base));
    let at = redeem(&c, &client_id, &code).json()["access_token"].as_str().unwrap().to_string();
    let auth = format!("Bearer {at}");
    let call = |method: &str, path: &str, body: Option<&Value>| {
        let text = body.map(Value::to_string);
        c.request(
            method,
            path,
            &[("authorization", &auth), ("content-type", "application/json")],
            text.as_deref().map(str::as_bytes),
        )
    };

    // A write through the proxy is visible in Attio's data; a query finds it.
    let created = call(
        "POST",
        "/v2/objects/companies/records",
        Some(&json!({"data": {"values": {"name": "Proxy Corp", "domains": ["proxy.example"]}}})),
    );
    assert_eq!(created.status, 200, "{}", created.body);
    let found =
        call("POST", "/v2/objects/companies/records/query", Some(&json!({"filter": {"name": {"$eq": "Proxy Corp"}}})));
    assert_eq!(found.json()["data"].as_array().unwrap().len(), 1);
    let notes = call("GET", "/v2/notes?limit=1", None);
    assert_eq!(notes.json()["data"].as_array().unwrap().len(), 1, "query string forwarded");

    // Attio's 429 and its Retry-After come back unchanged.
    TestClient::new(stack.mock.base_url()).send_json(
        "POST",
        "/__mock/fail-next",
        None,
        &json!({"status": 429, "count": 1, "path_prefix": "/v2/objects"}),
    );
    let limited = call("GET", "/v2/objects", None);
    assert_eq!(limited.status, 429);
    assert!(limited.header("retry-after").is_some_and(|v| v.ends_with("GMT")));
    assert_eq!(limited.json()["code"], "rate_limit_exceeded");

    // Traversal never reaches Attio; an MCP-audience token is refused here.
    let seen = stack.mock.with(|w| w.log.len());
    for path in ["/v2/%2e%2e/admin", "/v2/objects%2f..%2f..%2fadmin", "/v2/objects/%5c..%5cadmin"] {
        // Refused either by the proxy's path policy (400) or before it: workerd's URL parser
        // already resolves `%2e%2e`, so that request arrives as `/admin`, the administrators'
        // page, which asks a bearer-token caller to sign in (401).
        let status = call("GET", path, None).status;
        assert!(status == 400 || (path.contains("%2e%2e") && status == 401), "{path}: {status}");
    }
    assert_eq!(stack.mock.with(|w| w.log.len()), seen, "nothing forwarded");
    let mcp_code = authorize(&stack, &client_id, &format!("{}/mcp", c.base));
    let mcp_at = redeem(&c, &client_id, &mcp_code).json()["access_token"].as_str().unwrap().to_string();
    assert_eq!(c.get("/v2/objects", Some(&mcp_at)).status, 401);

    // Every request Attio saw carried an Attio-issued token (the vaulted one), never ours.
    let attio_tokens: Vec<String> =
        stack.mock.with(|w| w.access_tokens.keys().map(|t| format!("Bearer {t}")).collect());
    let auths: Vec<String> = stack.mock.with(|w| {
        w.log.iter().filter(|r| r.path.starts_with("/v2/")).filter_map(|r| r.authorization.clone()).collect()
    });
    assert!(!auths.is_empty());
    assert!(auths.iter().all(|a| attio_tokens.contains(a)), "{auths:?}");
    assert!(auths.iter().all(|a| !a.contains(&at) && !a.contains(&mcp_at)));
}

/// One JSON-RPC request to `/mcp`.
fn mcp(c: &TestClient, token: &str, id: u64, method: &str, params: Value) -> Reply {
    let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string();
    mcp_post(c, token, &[("mcp-protocol-version", "2025-11-25")], body.as_bytes())
}

fn call_tool(c: &TestClient, token: &str, name: &str, arguments: Value) -> Value {
    let r = mcp(c, token, 9, "tools/call", json!({"name": name, "arguments": arguments}));
    assert_eq!(r.status, 200, "{name}: {}", r.body);
    r.json()["result"].clone()
}

#[test]
fn an_agent_works_on_attio_through_mcp() {
    let stack = Stack::start(&[]);
    let c = TestClient::new(stack.worker.client.base.clone());
    let client_id = register(&c);
    let code = authorize(&stack, &client_id, &format!("{}/mcp", c.base));
    let at = redeem(&c, &client_id, &code).json()["access_token"].as_str().unwrap().to_string();

    let init = mcp(
        &c,
        &at,
        1,
        "initialize",
        json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "e2e", "version": "1"}}),
    );
    assert_eq!(init.json()["result"]["protocolVersion"], "2025-11-25");
    let tools = mcp(&c, &at, 2, "tools/list", json!({})).json();
    assert!(tools["result"]["tools"].as_array().unwrap().len() >= 20);

    // Reads: whoami, a custom object, paging.
    let me = call_tool(&c, &at, "whoami", json!({}));
    assert_eq!(me["structuredContent"]["data"]["workspace_slug"], "acme");
    let projects =
        call_tool(&c, &at, "query_records", json!({"object": "projects", "filter": {"phase": {"$eq": "Build"}}}));
    assert_eq!(projects["structuredContent"]["data"].as_array().unwrap().len(), 1, "custom object");
    let page1 = call_tool(&c, &at, "query_records", json!({"object": "people", "limit": 2}));
    let page2 = call_tool(&c, &at, "query_records", json!({"object": "people", "limit": 2, "offset": 2}));
    assert_eq!(page1["structuredContent"]["data"].as_array().unwrap().len(), 2);
    assert_eq!(page2["structuredContent"]["data"].as_array().unwrap().len(), 1);
    // Every list says whether there is more and where to continue.
    assert_eq!(
        (page1["structuredContent"]["has_more"].clone(), page1["structuredContent"]["next_offset"].clone()),
        (json!(true), json!(2))
    );
    assert_eq!(page2["structuredContent"]["has_more"], false);
    assert!(page1["content"][0]["text"].as_str().unwrap().contains("\"next_offset\":2"));

    // Compact by default: current plain values, no history, at most a quarter of Attio's bytes.
    let compact = call_tool(&c, &at, "query_records", json!({"object": "companies"}));
    let raw = call_tool(&c, &at, "query_records", json!({"object": "companies", "raw": true}));
    let (text, raw_text) =
        (compact["content"][0]["text"].as_str().unwrap(), raw["content"][0]["text"].as_str().unwrap());
    for noise in ["active_from", "active_until", "created_by_actor", "attribute_type"] {
        assert!(!text.contains(noise), "{noise} in the default text");
        assert!(raw_text.contains(noise), "raw: true returns Attio's own JSON");
    }
    assert_eq!(
        compact["structuredContent"]["data"].as_array().unwrap().len(),
        raw["structuredContent"]["data"].as_array().unwrap().len()
    );
    assert!(text.contains("Hooli"), "{text}");
    assert!(text.len() * 4 <= raw_text.len(), "compact {} bytes, Attio's {} bytes", text.len(), raw_text.len());
    println!("query_records companies: compact {} bytes, raw {} bytes", text.len(), raw_text.len());
    // An argument the tool does not know is a tool error that names it.
    let typo = call_tool(&c, &at, "list_notes", json!({"record_id": "x"}));
    assert_eq!(typo["isError"], true);
    assert!(typo["content"][0]["text"].as_str().unwrap().contains("unknown argument(s) record_id"), "{typo}");

    // A write, visible in Attio's (the mock's) data.
    let hooli = call_tool(&c, &at, "search_records", json!({"query": "hooli", "objects": ["companies"]}));
    let hooli_id = hooli["structuredContent"]["data"][0]["id"].as_str().unwrap().to_string();
    let note = call_tool(
        &c,
        &at,
        "create_note",
        json!({"parent_object": "companies", "parent_record_id": hooli_id, "title": "From the agent", "content": "Hello"}),
    );
    assert_eq!(note["isError"], false, "{note}");
    assert!(stack.mock.with(|w| w.workspaces[0].notes.iter().any(|n| n.title == "From the agent")));

    // An Attio validation error, and a 429, come back as tool errors the agent can act on.
    let bad = call_tool(&c, &at, "query_records", json!({"object": "people", "filter": {"no_such_slug": 1}}));
    assert_eq!(bad["isError"], true);
    assert!(bad["content"][0]["text"].as_str().unwrap().contains("list_attributes"));
    TestClient::new(stack.mock.base_url()).send_json(
        "POST",
        "/__mock/fail-next",
        None,
        &json!({"status": 429, "count": 1}),
    );
    let limited = call_tool(&c, &at, "list_lists", json!({}));
    assert!(limited["content"][0]["text"].as_str().unwrap().contains("Retry in "), "{limited}");

    // A read-only grant: the write tool is hidden and refused.
    let read_code = {
        // Same flow, choosing read-only at consent.
        let mut browser = stack.browser();
        browser.accept_json = false;
        let q = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("response_type", "code"),
                ("client_id", client_id.as_str()),
                ("redirect_uri", CLIENT_REDIRECT),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
                ("resource", &format!("{}/mcp", c.base)),
            ])
            .finish();
        let consent = browser.get(&format!("/authorize?{q}"));
        let form = form_body(&[
            ("request", &hidden(&consent.body, "request")),
            ("csrf", &hidden(&consent.body, "csrf")),
            ("decision", "approve"),
            ("access", "read"),
        ]);
        let decision = browser.request("POST", "/authorize", Some(("application/x-www-form-urlencoded", &form)));
        let at_attio = browser.get_absolute(decision.header("location").unwrap());
        let back = browser.get_absolute(at_attio.header("location").unwrap());
        query(back.header("location").unwrap(), "code").unwrap()
    };
    let ro = redeem(&c, &client_id, &read_code).json()["access_token"].as_str().unwrap().to_string();
    let ro_tools = mcp(&c, &ro, 3, "tools/list", json!({})).json();
    assert!(ro_tools["result"]["tools"].as_array().unwrap().iter().all(|t| t["annotations"]["readOnlyHint"] == true));
    let denied = mcp(&c, &ro, 4, "tools/call", json!({"name": "delete_note", "arguments": {"note_id": "x"}}));
    assert_eq!(denied.status, 403);
    assert!(denied.header("www-authenticate").unwrap().contains("insufficient_scope"));
}

#[test]
fn two_peoples_interleaved_calls_never_cross() {
    let stack = Stack::start(&[]);
    let c = TestClient::new(stack.worker.client.base.clone());
    let client_id = register(&c);
    let resource = format!("{}/mcp", c.base);
    let acme_code = authorize(&stack, &client_id, &resource);
    let globex_member = stack.mock.with(|w| w.workspaces[1].members[0].id);
    stack.mock.with(|w| w.settings.auto_approve_member = Some(globex_member));
    let globex_code = authorize_as_approved(&stack, &client_id, &resource);
    let acme = redeem(&c, &client_id, &acme_code).json()["access_token"].as_str().unwrap().to_string();
    let globex = redeem(&c, &client_id, &globex_code).json()["access_token"].as_str().unwrap().to_string();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..20)
            .map(|i| {
                let (token, expected) = if i % 2 == 0 { (&acme, "acme") } else { (&globex, "globex") };
                let c = &c;
                s.spawn(move || {
                    let me = call_tool(c, token, "whoami", json!({}));
                    assert_eq!(me["structuredContent"]["data"]["workspace_slug"], expected, "call {i} crossed users");
                    let companies = call_tool(c, token, "query_records", json!({"object": "companies"}));
                    let names = companies["structuredContent"]["data"].to_string();
                    assert_eq!(names.contains("Globex Corporation"), expected == "globex", "call {i}: {names}");
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    });
}

#[test]
fn a_redirect_from_attio_is_never_followed_with_the_token() {
    let evil = DocumentServer::start(|_| "{}".to_string());
    let stack = Stack::start(&[]);
    let c = TestClient::new(stack.worker.client.base.clone());
    let client_id = register(&c);
    let api_code = authorize(&stack, &client_id, &format!("{}/v2", c.base));
    let api = redeem(&c, &client_id, &api_code).json()["access_token"].as_str().unwrap().to_string();
    let mcp_code = authorize(&stack, &client_id, &format!("{}/mcp", c.base));
    let mcp_at = redeem(&c, &client_id, &mcp_code).json()["access_token"].as_str().unwrap().to_string();
    let admin = TestClient::new(stack.mock.base_url());
    let redirect = json!({"status": 302, "count": 1, "path_prefix": "/v2/objects", "location": evil.url});

    admin.send_json("POST", "/__mock/fail-next", None, &redirect);
    let proxied = c.get("/v2/objects", Some(&api));
    assert_eq!(proxied.status, 302, "Attio's status comes back");
    assert!(proxied.header("location").is_none(), "the Location is not passed on");
    admin.send_json("POST", "/__mock/fail-next", None, &redirect);
    let tool = call_tool(&c, &mcp_at, "list_objects", json!({}));
    assert_eq!(tool["isError"], true);
    assert_eq!(evil.fetches(), 0, "the redirect was followed");
}

#[test]
fn mcp_transport_edge_cases_in_workerd() {
    let stack = Stack::start(&[]);
    let c = TestClient::new(stack.worker.client.base.clone());
    let at = stack.mcp_access_token("write");
    let ping = br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;

    let foreign = mcp_post(&c, &at, &[("origin", "https://evil.example")], ping);
    assert_eq!(foreign.status, 403, "{}", foreign.body);
    let own_origin = c.base.clone();
    assert_eq!(mcp_post(&c, &at, &[("origin", &own_origin)], ping).status, 200);
    let bad_version = mcp_post(&c, &at, &[("mcp-protocol-version", "1999-01-01")], ping);
    assert_eq!(bad_version.status, 400);
    assert_eq!(bad_version.json()["error"]["data"]["requested"], "1999-01-01");
    let batch = mcp_post(&c, &at, &[], format!("[{}]", String::from_utf8_lossy(ping)).as_bytes());
    assert_eq!((batch.status, batch.json()["error"]["code"].as_i64()), (400, Some(-32600)));
    let malformed = mcp_post(&c, &at, &[], b"{\"jsonrpc\":\"2.0\",");
    assert_eq!((malformed.status, malformed.json()["error"]["code"].as_i64()), (400, Some(-32700)));
    let oversized = mcp_post(&c, &at, &[], &vec![b' '; 1024 * 1024 + 1]);
    assert_eq!(oversized.status, 413);
    let unknown = mcp_post(&c, &at, &[], br#"{"jsonrpc":"2.0","id":2,"method":"no/such"}"#);
    assert_eq!((unknown.status, unknown.json()["error"]["code"].as_i64()), (200, Some(-32601)));
    let bad_params = mcp_post(&c, &at, &[], br#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{}}"#);
    assert_eq!(bad_params.json()["error"]["code"].as_i64(), Some(-32602));
    let notification = mcp_post(&c, &at, &[], br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    assert_eq!((notification.status, notification.body.as_str()), (202, ""));
    let get = c.request("GET", "/mcp", &[("authorization", &format!("Bearer {at}"))], None);
    assert_eq!(get.status, 405);
    assert_eq!(get.header("allow"), Some("POST"));
    // No token: 401 pointing at the resource metadata.
    let anonymous = c.request("POST", "/mcp", &[("content-type", "application/json")], Some(ping));
    assert_eq!(anonymous.status, 401);
    assert!(anonymous.header("www-authenticate").unwrap().contains("resource_metadata="));

    // 2026-07-28: server/discover with _meta, results marked complete, removed methods 404.
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                      "io.modelcontextprotocol/clientCapabilities": {}});
    let discover = json!({"jsonrpc": "2.0", "id": 4, "method": "server/discover", "params": {"_meta": meta}});
    let modern = [("mcp-protocol-version", "2026-07-28"), ("mcp-method", "server/discover")];
    let found = mcp_post(&c, &at, &modern, discover.to_string().as_bytes());
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.json()["result"]["resultType"], "complete");
    assert!(found.json()["result"]["supportedVersions"].as_array().unwrap().contains(&json!("2026-07-28")));
    let old_ping = json!({"jsonrpc": "2.0", "id": 5, "method": "ping", "params": {"_meta": meta}});
    let removed = mcp_post(&c, &at, &[modern[0], ("mcp-method", "ping")], old_ping.to_string().as_bytes());
    assert_eq!((removed.status, removed.json()["error"]["code"].as_i64()), (404, Some(-32601)));
}

#[test]
fn the_audit_log_records_tool_calls_and_proxied_requests_without_secrets() {
    let stack = Stack::start(&[]);
    let c = TestClient::new(stack.worker.client.base.clone());
    let at = stack.mcp_access_token("write");
    call_tool(&c, &at, "whoami", json!({}));
    call_tool(&c, &at, "query_records", json!({"object": "people", "filter": {"no_such_slug": 1}}));
    let hooli = call_tool(&c, &at, "search_records", json!({"query": "hooli", "objects": ["companies"]}));
    let hooli_id = hooli["structuredContent"]["data"][0]["id"].as_str().unwrap().to_string();
    call_tool(
        &c,
        &at,
        "create_note",
        json!({"parent_object": "companies", "parent_record_id": hooli_id, "title": "Secret plans", "content": "x"}),
    );

    let rest = stack.access_token("/v2", "read");
    let proxied = c.request("GET", "/v2/objects?limit=1", &[("authorization", &format!("Bearer {rest}"))], None);
    assert_eq!(proxied.status, 200, "{}", proxied.body);
    // Refused calls are recorded too: a write under a read-only grant, and a proxied write.
    let read_only = stack.mcp_access_token("read");
    let args = json!({"name": "delete_note", "arguments": {"note_id": "00000000-0000-4000-8000-000000000000"}});
    assert_eq!(mcp(&c, &read_only, 7, "tools/call", args).status, 403);
    let write = c.request("DELETE", "/v2/notes/x", &[("authorization", &format!("Bearer {rest}"))], None);
    assert_eq!(write.status, 403, "{}", write.body);

    let mut browser = stack.browser();
    assert_eq!(stack.connect(&mut browser).status, 200);
    // The last entry is written after its answer was sent.
    let log = eventually(
        || browser.get("/connect/audit"),
        |l| l.body.contains("GET /v2/objects\",") && l.body.contains("refused"),
    );
    assert_eq!(log.status, 200, "{}", log.body);
    assert_eq!(log.header("cache-control"), Some("no-store"));
    let entries = log.json()["entries"].as_array().unwrap().clone();
    let find = |action: &str| entries.iter().find(|e| e["action"] == action).cloned();
    let whoami = find("whoami").expect("whoami audited");
    assert_eq!((whoami["kind"].as_str(), whoami["write"].as_bool()), (Some("tool"), Some(false)));
    assert_eq!(whoami["outcome"], "ok");
    assert_eq!(find("query_records").unwrap()["outcome"], "error", "an Attio error is audited as such");
    let note = find("create_note").expect("write audited");
    assert_eq!(note["write"], true);
    let rest_entry = find("GET /v2/objects").expect("proxied request audited (without its query)");
    assert_eq!((rest_entry["kind"].as_str(), rest_entry["outcome"].as_str()), (Some("proxy"), Some("ok")));
    // The refused calls, with why.
    let refused = find("delete_note").expect("a refused tool call is recorded");
    assert_eq!((refused["outcome"].as_str(), refused["write"].as_bool()), (Some("refused 403"), Some(true)));
    let refused = find("DELETE /v2/notes/x").expect("a refused proxied request is recorded");
    assert!(refused["outcome"].as_str().unwrap().starts_with("refused"), "{refused}");
    // Outcomes carry Attio's status and the call's duration where it ran.
    assert_eq!(rest_entry["status"], 200, "{rest_entry}");
    assert!(whoami["duration_ms"].is_u64(), "{whoami}");
    // The administrators' view shows them (the mock's member is an Attio workspace admin).
    let admin = browser.get("/admin");
    assert_eq!(admin.status, 200, "{}", admin.body);
    for shown in ["whoami", "delete_note", "refused 403", "GET /v2/objects"] {
        assert!(admin.body.contains(shown), "/admin lacks {shown}: {}", admin.body);
    }
    // By name (issue 29): the person as Attio named them at connect, the app by its registered
    // name, the tool by its title; the ids stay in the tooltips.
    for shown in ["Ada Admin &lt;ada@acme.example&gt;", "Who am I", ">Delete a note<"] {
        assert!(admin.body.contains(shown), "/admin lacks {shown}: {}", admin.body);
    }
    assert!(
        admin.body.contains(&format!("title=\"{}\"", note["client_id"].as_str().unwrap())),
        "the app's id in a tooltip"
    );
    // Each name opens the log filtered to that person or app.
    assert!(
        admin.body.contains("href=\"/admin?app=") && admin.body.contains("href=\"/admin?person="),
        "{}",
        admin.body
    );
    // Who (the client) is recorded; contents and tokens never are.
    assert!(note["client_id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(!log.body.contains("Secret plans") && !log.body.contains(&at) && !log.body.contains(&rest));
    for token in stack.issued_tokens() {
        assert!(!log.body.contains(&token), "an Attio token is in the audit log");
    }
    // Without a session there is nothing to read.
    assert_eq!(stack.browser().get("/connect/audit").status, 401);
}
