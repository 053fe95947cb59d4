//! Owner mode in workerd: the worker holds a workspace key minted by the mock Attio instead of an
//! OAuth app. With the owner password (hashed by `scripts/hash-password`), an app is approved and
//! works as the whole workspace; a wrong password is refused; without a gate consent is refused
//! and `/health` says why; a malformed key is named on `/health` without being shown.

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
    let mut approve = |given: &str| {
        let consent = browser.get_absolute(&authorize);
        assert!(consent.body.contains("name=owner_password") && consent.body.contains("whole workspace"));
        let form = form_body(&[
            ("request", &hidden(&consent.body, "request")),
            ("csrf", &hidden(&consent.body, "csrf")),
            ("decision", "approve"),
            ("access", "write"),
            ("owner_password", given),
        ]);
        browser.request("POST", "/authorize", Some(("application/x-www-form-urlencoded", &form)))
    };
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
    let script = repo_root().join("tests/browser/gated.mjs");
    let input = input.to_string();
    let mut program = NodeProgram::start(&[script.as_os_str(), input.as_ref()]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let mut seen = None;
    while let Some(line) = program.next_line(deadline) {
        if let Some(json) = line.strip_prefix("RESULT ") {
            seen = Some(serde_json::from_str::<Value>(json).expect("RESULT is JSON"));
        }
    }
    let seen = seen.unwrap_or_else(|| panic!("no RESULT:\n{}", program.text()));
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
