//! Owner mode in workerd: the worker holds a workspace key minted by the mock Attio instead of an
//! OAuth app. With the owner password (hashed by `scripts/hash-password`), an app is approved and
//! works as the whole workspace; a wrong password is refused; without a gate consent is refused
//! and `/health` says why; a malformed key is named on `/health` without being shown. Searches
//! run as the workspace, a comment without a member to write it is refused plainly, and an
//! administrator's disconnect ends the person's apps without revoking the key at Attio.

use std::process::Command;

use serde_json::{json, Value};

use crate::harness::*;

fn hashed(password: &str) -> String {
    let out = Command::new("sh")
        .arg(repo_root().join("scripts/hash-password"))
        .env("HASH_PASSWORD_INPUT", password)
        .output()
        .expect("scripts/hash-password runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().strip_prefix("OWNER_PASSWORD=").unwrap().to_string()
}

fn owner_stack(key: &str, extra: &[(&str, &str)]) -> Stack {
    let mock = Stack::mock();
    let key =
        if key.is_empty() { mock.issue_token(ACME_ADMIN_MEMBER_ID).expect("a key from the mock") } else { key.into() };
    let mut vars = vec![("ATTIO_API_KEY", key.as_str()), ("ATTIO_CLIENT_ID", ""), ("ATTIO_CLIENT_SECRET", "")];
    vars.extend_from_slice(extra);
    Stack::with_mock(mock, &vars)
}

#[test]
fn owner_mode_serves_the_workspace_key_behind_a_password() {
    let password = "correct horse battery staple";
    let stack = owner_stack("", &[("OWNER_PASSWORD", &hashed(password))]);
    let c = &stack.worker.client;
    assert_eq!(c.get("/health", None).json()["configured"], true, "no OAuth app needed");
    let redirect = "http://127.0.0.1:7777/callback";
    let client_id = stack.register_client("Owner's agent", redirect);
    let authorize = stack.authorize_url(&client_id, redirect, "/mcp", None);
    let mut browser = stack.browser();
    browser.accept_json = false;
    let mut approve = |given: &str| owner_decision(&mut browser, &authorize, given);
    assert_eq!(approve("not the password").status, 403);
    let approved = approve(password);
    assert_eq!(approved.status, 303, "{}", approved.body);
    let at = stack.redeem_redirect(&client_id, redirect, approved.header("location").unwrap());
    let call = |name: &str, args: Value| {
        let body =
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": args}});
        mcp_post(c, &at, &[("mcp-protocol-version", "2025-11-25")], body.to_string().as_bytes()).json()["result"]
            .clone()
    };
    let me = call("whoami", json!({}));
    assert!(me["structuredContent"]["data"]["acting_as"].as_str().unwrap().contains("whole workspace"), "{me}");
    let companies = call("query_records", json!({"object": "companies"}));
    assert_eq!(companies["isError"], false, "{companies}");
    assert!(companies["content"][0]["text"].as_str().unwrap().contains("Initech"));
    assert!(browser.get("/connect").body.contains("Nothing to connect"));

    // In Chromium: the consent page with the password gate and the plain warning.
    let screenshots = artifacts_dir().join("screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();
    let _ = std::fs::remove_file(screenshots.join("gated-owner-consent.png"));
    let input = json!({"authorizeUrl": authorize, "logins": {"owner-consent": null}, "screenshots": screenshots});
    let (seen, _) = browser_script("gated.mjs", &input.to_string(), None, std::time::Duration::from_secs(120));
    assert_eq!(seen["owner-consent"]["status"], 200, "{seen:#}");
    assert!(seen["owner-consent"]["text"].as_str().unwrap().contains("whole workspace"), "{seen:#}");
    assert!(std::fs::metadata(screenshots.join("gated-owner-consent.png")).map(|m| m.len()).unwrap_or(0) > 5_000);
}

#[test]
fn owner_mode_without_a_gate_or_with_a_bad_key_says_why() {
    let stack = owner_stack("", &[]);
    let health = stack.worker.client.get("/health", None).json();
    assert!(health["warnings"].to_string().contains("needs an admission gate"), "{health}");
    let redirect = "http://127.0.0.1:7777/callback";
    let client_id = stack.register_client("Agent", redirect);
    let mut browser = stack.browser();
    browser.accept_json = false;
    let r = browser.get_absolute(&stack.authorize_url(&client_id, redirect, "/mcp", None));
    assert_eq!(r.status, 503, "{}", r.body);
    let bad = " sk_live_0123456789abcdef0123456789";
    let stack = owner_stack(bad, &[]);
    let health = stack.worker.client.get("/health", None);
    assert!(health.body.contains("ATTIO_API_KEY has spaces or line breaks around it"), "{}", health.body);
    assert!(!health.body.contains(bad.trim()), "the key is never shown");
}

/// The owner's consent page at `authorize`, approved for writing with `password`.
fn owner_decision(browser: &mut Browser, authorize: &str, password: &str) -> Reply {
    let consent = browser.get_absolute(authorize);
    assert!(consent.body.contains("name=owner_password") && consent.body.contains("whole workspace"));
    let form = form_body(&[
        ("request", &hidden(&consent.body, "request")),
        ("csrf", &hidden(&consent.body, "csrf")),
        ("decision", "approve"),
        ("access", "write"),
        ("owner_password", password),
    ]);
    browser.request("POST", "/authorize", Some(("application/x-www-form-urlencoded", &form)))
}

/// The owner approves a new app with the password; returns its MCP access token.
fn approved_with_the_password(stack: &Stack, password: &str) -> String {
    let redirect = "http://127.0.0.1:7777/callback";
    let client_id = stack.register_client("Owner's agent", redirect);
    let mut browser = stack.browser();
    browser.accept_json = false;
    let approved = owner_decision(&mut browser, &stack.authorize_url(&client_id, redirect, "/mcp", None), password);
    assert_eq!(approved.status, 303, "{}", approved.body);
    stack.redeem_redirect(&client_id, redirect, approved.header("location").unwrap())
}

fn call_tool(stack: &Stack, at: &str, name: &str, args: Value) -> Reply {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": args}});
    mcp_post(&stack.worker.client, at, &[("mcp-protocol-version", "2025-11-25")], body.to_string().as_bytes())
}

#[test]
fn owner_mode_searches_as_the_workspace_and_a_disconnect_keeps_the_key() {
    let password = "correct horse battery staple";
    let stack = owner_stack("", &[("OWNER_PASSWORD", &hashed(password))]);
    let at = approved_with_the_password(&stack, password);
    // Search: as the workspace (the mock refuses a member id no member has).
    let found = call_tool(&stack, &at, "search_records", json!({"query": "Initech", "objects": ["companies"]})).json();
    assert_eq!(found["result"]["isError"], false, "{found}");
    assert!(found["result"]["content"][0]["text"].as_str().unwrap().contains("Initech"), "{found}");
    assert_eq!(stack.mock_requests("/v2/objects/records/search", "\"type\":\"workspace\""), 1);
    // A comment: the password names no member, so nothing is written and the agent is told why.
    let companies = call_tool(&stack, &at, "query_records", json!({"object": "companies", "limit": 1})).json();
    let record_id = companies["result"]["structuredContent"]["data"][0]["id"].as_str().unwrap().to_string();
    let args = json!({"content": "Follow up", "object": "companies", "record_id": record_id});
    let comment = call_tool(&stack, &at, "create_comment", args).json();
    assert_eq!(comment["result"]["isError"], true, "{comment}");
    assert!(comment["result"]["content"][0]["text"].as_str().unwrap().contains("create_note"), "{comment}");
    assert_eq!(stack.mock_requests("/v2/comments", ""), 0, "nothing written");

    // The administrator (the owner, signed in with the password) disconnects the person.
    let mut admin = stack.browser();
    admin.accept_json = false;
    admin.extra_headers.push(("origin".into(), stack.worker.client.base.clone()));
    let form = form_body(&[("owner_password", password)]);
    assert_eq!(admin.request("POST", "/admin/sign-in", Some(("application/x-www-form-urlencoded", &form))).status, 303);
    let page = admin.get("/admin").body;
    let disconnect = page.split("action=\"/admin/disconnect\"").nth(1).expect("a disconnect form");
    let fields = ["csrf", "workspace_id", "member_id"].map(|name| (name, hidden(disconnect, name)));
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let done =
        admin.request("POST", "/admin/disconnect", Some(("application/x-www-form-urlencoded", &form_body(&fields))));
    assert_eq!(done.status, 303, "{}", done.body);
    // Their app ends at once; the workspace key was never sent to Attio's revoke endpoint...
    assert_eq!(call_tool(&stack, &at, "whoami", json!({})).status, 401);
    assert_eq!(stack.mock_requests("/oauth/revoke", ""), 0, "the workspace key must never be revoked");
    // ...so the gateway still reaches Attio: a new approval works at once.
    let again = approved_with_the_password(&stack, password);
    let me = call_tool(&stack, &again, "whoami", json!({})).json();
    assert_eq!(me["result"]["isError"], false, "{me}");
}
