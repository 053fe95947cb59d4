//! End-to-end tests: the real worker bundle in workerd, talking to the mock Attio over loopback.
//! Black-box: everything goes through HTTP.

#![allow(clippy::unwrap_used)]
// Test helpers are `pub` for the test modules that share them, not an API.
#![allow(unreachable_pub)]

mod access;
mod anonymous;
mod browser;
mod clients;
mod conformance;
mod connect;
mod faults;
mod glance;
mod harness;
#[path = "../support/jwt_signer.rs"]
mod jwt_signer;
mod oauth;
mod owner;
mod sdk;
mod tools;
mod upgrade;

use std::process::Command;

use harness::*;
use serde_json::json;

#[test]
fn configured_worker_boots_reports_health_and_routes() {
    let stack = Stack::start(&[]);
    let c = &stack.worker.client;

    let health = c.get("/health", None);
    assert_eq!(health.status, 200, "{}", health.body);
    let h = health.json();
    assert_eq!(h["configured"], true);
    assert_eq!(h["bindings"][0]["present"], true, "KV binding");
    assert_eq!(h["bindings"][1]["present"], true, "Durable Object binding");
    assert_eq!(health.header("cache-control"), Some("no-store"));
    for secret in [DEFAULT_CLIENT_SECRET, TEST_KEY] {
        assert!(!health.body.contains(secret), "/health leaked a secret value");
    }

    let missing = c.get("/no/such/route", None);
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("content-type"), Some("application/json"));
    assert_eq!(missing.json()["error"], "not_found");

    let wrong_method = c.request("POST", "/health", &[], Some(b"{}"));
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.header("allow"), Some("GET, HEAD"));

    // Test-only routes do not exist without test mode.
    assert_eq!(c.get("/__test/attio-self", None).status, 404);

    let big = vec![b'x'; 1024 * 1024 + 1];
    assert_eq!(c.request("POST", "/health", &[], Some(&big)).status, 413);
    // A chunked body declares no length: its bytes are counted as they arrive, and the request
    // is refused past 1 MiB — while the body is still coming, not after buffering all of it.
    assert_eq!(post_chunked(&c.base, "/register", 2 * 1024 * 1024, true), Some(413), "a chunked 2 MB registration");
    assert_eq!(post_chunked(&c.base, "/register", 1536 * 1024, false), Some(413), "refused mid-body");
    assert_eq!(post_chunked(&c.base, "/register", 100, true), Some(400), "a small chunked body is read");
}

#[test]
fn unconfigured_worker_says_what_is_missing() {
    let worker = Worker::start(&[]);
    let health = worker.client.get("/health", None);
    assert_eq!(health.status, 503);
    let h = health.json();
    assert_eq!(h["status"], "misconfigured");
    let problems = h["problems"].to_string();
    for name in ["ATTIO_CLIENT_ID", "ATTIO_CLIENT_SECRET", "VAULT_KEYS", "SIGNING_KEY"] {
        assert!(problems.contains(&format!("{name} is missing")), "{name} not reported: {problems}");
    }
    // The defaults from wrangler.toml are in force and shown (they are not secret).
    assert!(health.body.contains("https://api.attio.com"));

    // A route that needs configuration answers a clear 503, not a crash.
    let r = worker.client.get("/__test/attio-self", None);
    assert_eq!(r.status, 503);
    assert_eq!(r.json()["error"], "server_misconfigured");
    assert!(r.json()["error_description"].as_str().unwrap().contains("VAULT_KEYS is missing"));
}

#[test]
fn malformed_settings_are_named_without_their_values() {
    let mock = Stack::mock();
    let stack =
        Stack::with_mock(mock, &[("SIGNING_KEY", "dG9vLXNob3J0"), ("ATTIO_API_BASE_URL", "http://attio.example")]);
    let health = stack.worker.client.get("/health", None);
    assert_eq!(health.status, 503);
    let problems = health.json()["problems"].to_string();
    assert!(problems.contains("SIGNING_KEY is malformed"), "{problems}");
    assert!(problems.contains("ATTIO_API_BASE_URL is malformed: must use https"), "{problems}");
    assert!(!health.body.contains("dG9vLXNob3J0"), "secret value shown");
}

#[test]
fn worker_reaches_the_mock_attio() {
    let mock = Stack::mock();
    let token = mock.issue_token(ACME_ADMIN_MEMBER_ID).expect("mint token");
    let stack = Stack::with_mock(
        mock,
        // Room for a slow first call on a busy machine, well under the delay below.
        &[("INSECURE_TEST_MODE", "1"), ("TEST_ATTIO_TOKEN", &token), ("ATTIO_TIMEOUT_MS", "2500")],
    );
    let c = &stack.worker.client;

    let r = c.get("/__test/attio-self", None);
    assert_eq!(r.status, 200, "{}", r.body);
    let me = r.json();
    assert_eq!(me["active"], true);
    assert_eq!(me["workspace_id"], ACME_WORKSPACE_ID);
    assert_eq!(me["member_id"], ACME_ADMIN_MEMBER_ID);
    assert!(!r.body.contains(&token), "the Attio token never goes back to the caller");

    let seen = stack.mock.with(|w| w.log.clone());
    let call = seen.iter().find(|r| r.path == "/v2/self").expect("the worker called /v2/self");
    assert_eq!(call.authorization.as_deref(), Some(format!("Bearer {token}").as_str()));

    // Attio's 429 is passed on with its Retry-After.
    let mock_client = TestClient::new(stack.mock.base_url());
    mock_client.send_json("POST", "/__mock/fail-next", None, &json!({"status": 429, "count": 1}));
    let limited = c.get("/__test/attio-self", None);
    assert_eq!(limited.status, 429);
    assert!(limited.header("retry-after").is_some_and(|v| v.ends_with("GMT")), "{:?}", limited.headers);

    // This route's first I/O is the call to Attio, so its timeout is armed during the edge's
    // synchronous first poll (src/edge/mod.rs); it must still end the request.
    mock_client.send_json("POST", "/__mock/delay", None, &json!({"ms": 6000}));
    let slow = c.get("/__test/attio-self", None);
    assert_eq!(slow.status, 504, "{}", slow.body);
    mock_client.send_json("POST", "/__mock/clear-faults", None, &json!({}));

    // A revoked token is reported as inactive.
    mock_client.send_json("POST", "/__mock/revoke", None, &json!({"token": token}));
    let r = c.get("/__test/attio-self", None);
    assert_eq!(r.json()["active"], false);
}

#[test]
fn stopping_the_worker_leaves_no_process_behind() {
    let worker = Worker::start(&[]);
    let pgid = worker.pid();
    assert!(group_alive(pgid));
    drop(worker);
    assert!(!group_alive(pgid), "processes of group {pgid} survived");
}

#[test]
fn deploy_dry_run_succeeds_offline() {
    ensure_built();
    let out = TempDir::new("dry-run");
    let result = Command::new("sh")
        .arg(repo_root().join("scripts/wrangler"))
        .args(["deploy", "--dry-run", "--outdir"])
        .arg(out.path())
        .current_dir(repo_root())
        .env("ATTIO_GATEWAY_PREBUILT", "1")
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
        .env("NO_COLOR", "1")
        .output()
        .expect("run wrangler deploy --dry-run");
    let text = format!("{}{}", String::from_utf8_lossy(&result.stdout), String::from_utf8_lossy(&result.stderr));
    assert!(result.status.success(), "dry run failed:\n{text}");
    for binding in ["GATEWAY_KV", "TRANSITIONS", "ATTIO_API_BASE_URL"] {
        assert!(text.contains(binding), "dry run does not list {binding}:\n{text}");
    }
    let files: Vec<String> = std::fs::read_dir(out.path())
        .expect("outdir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    assert!(files.iter().any(|f| f.ends_with(".wasm")), "no wasm in the bundle: {files:?}");
}

/// The platform's rate limiting, as `wrangler.toml` ships it (the simulator in `wrangler dev`
/// enforces the same bindings): a registration burst from one address is refused after 20 with
/// `Retry-After`, and another address still registers. Its own worker, so the budget it spends
/// is nobody else's.
#[test]
fn a_registration_burst_from_one_address_meets_the_shipped_rate_limit() {
    let stack = Stack::start(&[]);
    let c = &stack.worker.client;
    let body = br#"{"redirect_uris":["http://127.0.0.1:7777/cb"],"token_endpoint_auth_method":"none"}"#;
    let register = |address: &str| {
        c.request(
            "POST",
            "/register",
            &[("content-type", "application/json"), ("cf-connecting-ip", address)],
            Some(body),
        )
    };
    // The platform counts in fixed minutes of the wall clock: a burst that straddles one would
    // be counted in two windows. Start it well inside a minute.
    let into_minute = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() % 60_000;
    if into_minute > 40_000 {
        std::thread::sleep(std::time::Duration::from_millis((60_000 - into_minute) as u64 + 500));
    }
    let statuses: Vec<u16> = (0..25).map(|_| register("203.0.113.50").status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 20, "{statuses:?}");
    assert!(statuses[20..].iter().all(|s| *s == 429), "{statuses:?}");
    let refused = register("203.0.113.50");
    assert_eq!(refused.status, 429);
    assert_eq!(refused.header("retry-after"), Some("60"));
    assert_eq!(refused.json()["error"], "rate_limited");
    assert!(stack.worker.client.get("/health", None).json()["warnings"].as_array().is_some_and(Vec::is_empty));
    assert_eq!(register("198.51.100.50").status, 201, "another address is not limited");
}
