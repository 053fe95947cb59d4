//! Connecting Attio and vaulting the token, end to end: the real worker in workerd, the mock
//! Attio on loopback, a cookie-keeping client standing in for the person's browser.

use base64::Engine;
use serde_json::json;

use crate::harness::*;

/// Every encoding of `secret` a careless implementation might have stored.
fn encodings(secret: &str) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let bytes = secret.as_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    vec![
        secret.to_string(),
        STANDARD.encode(bytes),
        STANDARD_NO_PAD.encode(bytes),
        URL_SAFE.encode(bytes),
        URL_SAFE_NO_PAD.encode(bytes),
        hex.clone(),
        hex.to_uppercase(),
    ]
}

/// Fails if any file of the worker's local state holds any encoding of any of `secrets`.
fn assert_state_holds_none(stack: &Stack, secrets: &[String]) {
    let files = read_tree(&stack.worker.state_dir());
    assert!(!files.is_empty(), "no local state found under {:?}", stack.worker.state_dir());
    for (path, bytes) in &files {
        let text = String::from_utf8_lossy(bytes);
        for secret in secrets {
            for encoded in encodings(secret) {
                assert!(!text.contains(&encoded), "{path:?} holds a token ({} chars of it)", encoded.len());
            }
        }
    }
}

fn state_mentions(stack: &Stack, needle: &str) -> bool {
    read_tree(&stack.worker.state_dir()).iter().any(|(_, b)| String::from_utf8_lossy(b).contains(needle))
}

fn expiring_mock(ttl_secs: i64) -> MockAttio {
    let mock = Stack::mock();
    mock.with(|w| {
        w.settings.token_style = mock_attio::TokenStyle::Expiring;
        w.settings.access_token_ttl_secs = ttl_secs;
    });
    mock
}

#[test]
fn connect_long_lived_binds_identity_and_stores_only_ciphertext() {
    let stack = Stack::start(&[]);
    let mut browser = stack.browser();
    let status = stack.connect(&mut browser);
    assert_eq!(status.status, 200, "{}", status.body);
    let s = status.json();
    assert_eq!(s["status"], "connected");
    assert_eq!(s["workspace"]["id"], ACME_WORKSPACE_ID);
    assert_eq!(s["workspace"]["slug"], "acme");
    assert_eq!(s["member_id"], ACME_ADMIN_MEMBER_ID);
    assert!(s["scopes"].as_array().unwrap().iter().any(|v| v == "record_permission:read-write"));
    assert!(s["token_expires_at_ms"].is_null(), "long-lived token");
    assert!(browser.has_cookie("__Host-agw-session"));
    assert!(!browser.has_cookie("__Host-agw-connect"), "the state binding is spent");

    // The token exchange was form-encoded client_secret_post, exactly once.
    assert_eq!(stack.mock_requests("/oauth/token", "grant_type=authorization_code"), 1);
    assert_eq!(stack.mock_requests("/oauth/token", "client_secret=mock-attio-client-secret"), 1);
    let tokens = stack.issued_tokens();
    assert_eq!(tokens.len(), 1);
    assert!(state_mentions(&stack, "attio-conn:v1:"), "the connection is in local KV");
    assert_state_holds_none(&stack, &tokens);
    assert!(!stack.worker.log_text().contains(&tokens[0]), "token in the worker's log");
}

#[test]
fn connect_expiring_tokens_refresh_single_flight_and_rotate() {
    // Tokens live 45 s; the gateway refreshes 60 s before expiry, so each is due at once.
    let stack = Stack::with_mock(expiring_mock(45), &[]);
    let mut browser = stack.browser();
    let status = stack.connect(&mut browser);
    assert_eq!(status.status, 200, "{}", status.body);
    assert_eq!(stack.mock_requests("/oauth/token", "grant_type=refresh_token"), 1, "the status check refreshed");

    // Eight requests at once, all needing a refresh: exactly one reaches Attio. The token that
    // refresh returns lives an hour, so a request that starts only after it finished reads a
    // fresh record instead of refreshing again (with 45 s tokens every new one is due at once).
    stack.mock.with(|w| w.settings.access_token_ttl_secs = 3600);
    let cookie = browser.cookie_header();
    let base = stack.worker.client.base.clone();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (cookie, base) = (cookie.clone(), base.clone());
            std::thread::spawn(move || {
                let c = TestClient::new(base);
                c.request("GET", "/connect/status", &[("cookie", &cookie), ("accept", "application/json")], None)
            })
        })
        .collect();
    for t in threads {
        let r = t.join().unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
    }
    assert_eq!(stack.mock_requests("/oauth/token", "grant_type=refresh_token"), 2, "one refresh for eight requests");

    // Each refresh spent the refresh token the previous one stored (Attio rejects a spent one),
    // so the rotated token was kept, and none was spent twice.
    let spent = stack.mock.with(|w| w.refresh_tokens.values().filter(|g| g.used).count());
    assert_eq!(spent, 2, "each refresh token was spent exactly once");
    assert_eq!(browser.get("/connect/status").status, 200);
    assert_eq!(stack.mock_requests("/oauth/token", "grant_type=refresh_token"), 2, "fresh now: no refresh");
    assert_state_holds_none(&stack, &stack.issued_tokens());
}

#[test]
fn connect_with_pkce_when_attio_enforces_it() {
    let mock = Stack::mock();
    mock.with(|w| w.settings.require_pkce = true);
    let stack = Stack::with_mock(mock, &[("ATTIO_USE_PKCE", "true")]);
    let mut browser = stack.browser();
    let status = stack.connect(&mut browser);
    assert_eq!(status.status, 200, "{}", status.body);
    assert_eq!(stack.mock_requests("/oauth/token", "code_verifier="), 1);
}

#[test]
fn without_pkce_an_enforcing_attio_refuses_with_a_clear_page() {
    let mock = Stack::mock();
    mock.with(|w| w.settings.require_pkce = true);
    let stack = Stack::with_mock(mock, &[]);
    stack.auto_approve();
    let mut browser = stack.browser();
    browser.accept_json = false;
    let start = browser.get("/connect");
    let at_attio = browser.get_absolute(start.header("location").unwrap());
    let back = browser.get_absolute(at_attio.header("location").unwrap());
    assert_eq!(back.status, 400);
    assert!(back.body.contains("invalid_request"), "{}", back.body);
    assert!(back.header("location").is_none());
}

#[test]
fn state_is_single_use_fresh_and_bound_to_the_browser() {
    let stack = Stack::start(&[]);
    stack.auto_approve();
    let mut alice = stack.browser();
    alice.accept_json = false;
    let start = alice.get("/connect");
    let back = alice.get_absolute(start.header("location").unwrap()).header("location").unwrap().to_string();
    let path = back.strip_prefix(&stack.worker.client.base).unwrap().to_string();

    // Another browser (no binding cookie) presenting Alice's valid callback: refused, not spent.
    let mut mallory = stack.browser();
    let stolen = mallory.get(&path);
    assert_eq!(stolen.status, 403, "{}", stolen.body);
    assert!(stolen.body.contains("different browser"));

    let missing = alice.get("/oauth/attio/callback?code=x");
    assert_eq!(missing.status, 400);
    assert!(missing.body.contains("no state"));

    // Alice's binding cookie survives the refusals above? No: each callback answer clears it.
    // So run a fresh flow for the success and replay checks.
    let start = alice.get("/connect");
    let back = alice.get_absolute(start.header("location").unwrap()).header("location").unwrap().to_string();
    let path = back.strip_prefix(&stack.worker.client.base).unwrap().to_string();
    let cookie = alice.cookie_header();
    let ok = alice.get(&path);
    assert_eq!(ok.status, 303, "{}", ok.body);
    // Replayed with the same cookie the browser had then: Attio refuses its spent code (and had
    // it not, the spent state would be refused: host test `state_must_be_present_…`).
    let replay = TestClient::new(stack.worker.client.base.clone()).request("GET", &path, &[("cookie", &cookie)], None);
    assert_eq!(replay.status, 400);
    assert!(replay.body.contains("Attio refused"), "{}", replay.body);
    // An unknown state with a binding made for it is still unknown.
    let unknown = TestClient::new(stack.worker.client.base.clone()).request(
        "GET",
        "/oauth/attio/callback?code=x&state=never-issued",
        &[("cookie", &cookie)],
        None,
    );
    assert!(unknown.status == 400 || unknown.status == 403, "{}", unknown.status);
    // The legitimate callback exchanged its code; the replay's was refused by Attio; the
    // foreign and unknown states sent nothing.
    assert_eq!(stack.mock_requests("/oauth/token", ""), 2);
}

#[test]
fn denied_consent_at_attio_shows_the_error_page() {
    let stack = Stack::start(&[]);
    let mut browser = stack.browser();
    browser.accept_json = false;
    let start = browser.get("/connect");
    let authorize = start.header("location").unwrap().to_string();
    let page = browser.get_absolute(&authorize);
    assert_eq!(page.status, 200, "the mock's consent page");
    let query = authorize.split_once('?').unwrap().1;
    let mut form: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    form.push(("decision".into(), "deny".into()));
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
    let denied = TestClient::new(stack.mock.base_url()).request(
        "POST",
        "/authorize",
        &[("content-type", "application/x-www-form-urlencoded")],
        Some(body.as_bytes()),
    );
    let back = browser.get_absolute(denied.header("location").unwrap());
    assert_eq!(back.status, 400);
    assert!(back.body.contains("You declined access in Attio"), "{}", back.body);
    assert_eq!(back.header("x-frame-options"), Some("DENY"));
    assert!(!state_mentions(&stack, "attio-conn:v1:"));
}

#[test]
fn revocation_at_attio_and_disconnect_by_the_user() {
    let stack = Stack::start(&[]);
    let mut browser = stack.browser();
    assert_eq!(stack.connect(&mut browser).status, 200);

    // Attio revokes the token: the next use marks the connection revoked, callers are told to
    // connect again, and Attio is not asked again.
    TestClient::new(stack.mock.base_url()).send_json(
        "POST",
        "/__mock/revoke",
        None,
        &json!({"workspace_id": ACME_WORKSPACE_ID}),
    );
    let r = browser.get("/connect/status");
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.json()["error"], "reauthorization_required");
    let calls = stack.mock_requests("/v2/self", "");
    let r = browser.get("/connect/status");
    assert_eq!(r.json()["error"], "reauthorization_required");
    assert_eq!(stack.mock_requests("/v2/self", ""), calls, "a revoked connection is not retried");

    // Connect again, then disconnect from the status page's form.
    assert_eq!(stack.connect(&mut browser).status, 200);
    let token = stack.mock.with(|w| w.access_tokens.iter().find(|(_, g)| !g.revoked).map(|(t, _)| t.clone())).unwrap();
    browser.accept_json = false;
    let page = browser.get("/connect/status");
    assert!(page.body.contains("Disconnect Attio"));
    let csrf = page.body.split("name=csrf value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let forged =
        browser.request("POST", "/connect/disconnect", Some(("application/x-www-form-urlencoded", b"csrf=forged")));
    assert_eq!(forged.status, 403);
    let done = browser.request(
        "POST",
        "/connect/disconnect",
        Some(("application/x-www-form-urlencoded", format!("csrf={csrf}").as_bytes())),
    );
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(stack.mock_requests("/oauth/revoke", &format!("token={token}")), 1, "revoked at Attio");
    assert!(stack.mock.with(|w| w.access_tokens[&token].revoked));
    assert!(!browser.has_cookie("__Host-agw-session"));
}

#[test]
fn token_endpoint_faults_give_clear_pages_and_store_nothing() {
    let stack = Stack::start(&[("ATTIO_TIMEOUT_MS", "1000")]);
    let admin = TestClient::new(stack.mock.base_url());
    let faults = [
        json!({"status": 503, "count": 1, "path_prefix": "/oauth/token"}),
        json!({"status": 200, "count": 1, "path_prefix": "/oauth/token", "body": "<html>not a token</html>"}),
        json!({"status": 502, "count": 1, "path_prefix": "/oauth/token", "body": "<html>bad gateway</html>"}),
    ];
    for fault in faults {
        admin.send_json("POST", "/__mock/fail-next", None, &fault);
        let mut browser = stack.browser();
        browser.accept_json = false;
        stack.auto_approve();
        let start = browser.get("/connect");
        let back = browser.get_absolute(start.header("location").unwrap()).header("location").unwrap().to_string();
        let r = browser.get_absolute(&back);
        assert_eq!(r.status, 502, "{fault}: {}", r.body);
        assert!(r.body.contains("Nothing was stored"), "{}", r.body);
        assert!(!r.body.contains("not a token"), "upstream body echoed");
        assert!(!browser.has_cookie("__Host-agw-session"));
    }
    // A token endpoint slower than ATTIO_TIMEOUT_MS.
    admin.send_json("POST", "/__mock/delay", None, &json!({"ms": 2500}));
    let mut browser = stack.browser();
    browser.accept_json = false;
    let start = browser.get("/connect");
    admin.send_json("POST", "/__mock/delay", None, &json!({"ms": 0}));
    let back = browser.get_absolute(start.header("location").unwrap()).header("location").unwrap().to_string();
    admin.send_json("POST", "/__mock/delay", None, &json!({"ms": 2500}));
    let r = browser.get_absolute(&back);
    admin.send_json("POST", "/__mock/clear-faults", None, &json!({}));
    assert_eq!(r.status, 502, "{}", r.body);
    assert!(!state_mentions(&stack, "attio-conn:v1:"), "no connection stored after any fault");
}

/// `/connect`, the mock Attio's sign-in (auto-approving), and the callback's answer.
fn connect_through_attio(browser: &mut Browser) -> Reply {
    let start = browser.get("/connect");
    let back = browser.get_absolute(start.header("location").unwrap()).header("location").unwrap().to_string();
    browser.get_absolute(&back)
}

#[test]
fn workspace_allowlist_refuses_other_workspaces() {
    let stack = Stack::start(&[("ATTIO_ALLOWED_WORKSPACES", "globex")]);
    let mut browser = stack.browser();
    browser.accept_json = false;
    stack.auto_approve();
    let r = connect_through_attio(&mut browser);
    assert_eq!(r.status, 403);
    assert!(r.body.contains("does not serve the Attio workspace"));
    assert!(!state_mentions(&stack, "attio-conn:v1:"));
    assert_eq!(stack.mock_requests("/oauth/revoke", ""), 1, "the unused token was revoked");
}

#[test]
fn a_refresh_rejected_with_invalid_grant_revokes_the_connection() {
    let stack = Stack::with_mock(expiring_mock(45), &[]);
    let mut browser = stack.browser();
    assert_eq!(stack.connect(&mut browser).status, 200);
    // Attio drops the grant: access and refresh tokens alike.
    TestClient::new(stack.mock.base_url()).send_json(
        "POST",
        "/__mock/revoke",
        None,
        &json!({"workspace_id": ACME_WORKSPACE_ID}),
    );
    let r = browser.get("/connect/status");
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.json()["error"], "reauthorization_required");
    let refreshes = stack.mock_requests("/oauth/token", "grant_type=refresh_token");
    assert_eq!(browser.get("/connect/status").status, 401);
    assert_eq!(stack.mock_requests("/oauth/token", "grant_type=refresh_token"), refreshes, "no retry storm");
}

/// A second key (32 bytes of 0xff), for rotation.
const SECOND_KEY: &str = "__________________________________________8";

#[test]
fn the_cron_handler_reseals_so_an_old_vault_key_can_be_retired() {
    let old_only = format!("k1:{TEST_KEY}");
    let both = format!("k2:{SECOND_KEY},k1:{TEST_KEY}");
    let new_only = format!("k2:{SECOND_KEY}");
    let stack = Stack::start(&[("VAULT_KEYS", &old_only)]);
    let mut browser = stack.browser();
    assert_eq!(stack.connect(&mut browser).status, 200);
    assert!(state_mentions(&stack, "\"v1.k1."), "sealed under k1");

    let Stack { worker, mock } = stack;
    let vars = configured_vars(&mock.base_url());
    let with_keys = |keys: &str| {
        let mut v = vars.clone();
        v.retain(|(k, _)| k != "VAULT_KEYS");
        v.push(("VAULT_KEYS".into(), keys.into()));
        v
    };
    // New key first, old key still there: the cron handler re-seals everything. No request
    // reads the connection meanwhile, so lazy rotation cannot be what moves it.
    let worker = Worker::start_in(&with_keys(&both), worker.stop());
    let run = worker.client.get("/__scheduled?cron=17+3+*+*+*", None);
    assert_eq!(run.status, 200, "{}", run.body);
    // Then the old key is retired, and the connection still works.
    let worker = Worker::start_in(&with_keys(&new_only), worker.stop());
    let mut moved = browser.moved_to(worker.client.base.clone());
    let status = moved.get("/connect/status");
    assert_eq!(status.status, 200, "the token was lost with the old key: {}", status.body);
    assert_eq!(status.json()["workspace"]["slug"], "acme");
}

#[test]
fn member_allowlist_admits_only_listed_members() {
    let stack = Stack::start(&[("ATTIO_ALLOWED_MEMBERS", "bob@acme.example")]);
    let mut browser = stack.browser();
    browser.accept_json = false;
    stack.auto_approve();
    let r = connect_through_attio(&mut browser);
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("does not serve ada@acme.example"), "{}", r.body);
    assert!(!state_mentions(&stack, "attio-conn:v1:"));
    assert_eq!(stack.mock_requests("/oauth/revoke", ""), 1, "the unused token was revoked");
    // Bob, on the list, connects.
    let bob = mock_attio::seed::id("acme/member/bob");
    stack.mock.with(|w| w.settings.auto_approve_member = Some(bob));
    let mut browser = stack.browser();
    browser.accept_json = false;
    let done = connect_through_attio(&mut browser);
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(state_mentions(&stack, "attio-conn:v1:"), "Bob's connection is stored");
}

/// Several MCP clients approved for the same person at the same moment, before that person has any
/// connection: their Attio callbacks land together, and every grant keeps working (refreshed, then
/// used). Before a connection's epoch was decided in the person's object, a later callback
/// could start an epoch of its own, and an earlier client's grant died at its first refresh.
#[test]
fn clients_approved_at_the_same_moment_all_keep_working() {
    let stack = Stack::start(&[]);
    stack.auto_approve();
    let redirect = "http://127.0.0.1:7777/callback";
    // Each approval, up to the moment Attio sends the browser back.
    let prepare = |name: &str| {
        let registration = json!({"client_name": name, "redirect_uris": [redirect],
            "grant_types": ["authorization_code", "refresh_token"], "token_endpoint_auth_method": "none"});
        let registered = stack.worker.client.send_json("POST", "/register", None, &registration);
        assert_eq!(registered.status, 201, "{}", registered.body);
        let client_id = registered.json()["client_id"].as_str().unwrap().to_string();
        let mut browser = stack.browser();
        browser.accept_json = false;
        let consent = browser.get_absolute(&stack.authorize_url(&client_id, redirect, "/mcp", None));
        assert_eq!(consent.status, 200, "{}", consent.body);
        let (request, csrf) = (hidden(&consent.body, "request"), hidden(&consent.body, "csrf"));
        let form = form_body(&[("request", &request), ("csrf", &csrf), ("decision", "approve"), ("access", "read")]);
        let decided = browser.request("POST", "/authorize", Some(("application/x-www-form-urlencoded", &form)));
        assert_eq!(decided.status, 303, "{}", decided.body);
        let at_attio = browser.get_absolute(decided.header("location").expect("to Attio"));
        let back = at_attio.header("location").expect("back from Attio").to_string();
        (client_id, browser, back)
    };
    let approvals: Vec<_> = ["First app", "Second app", "Third app", "Fourth app"].map(prepare).into();
    let together = std::sync::Barrier::new(approvals.len());
    let landed: Vec<(String, String)> = std::thread::scope(|s| {
        let callbacks: Vec<_> = approvals
            .into_iter()
            .map(|(client_id, mut browser, back)| {
                let together = &together;
                s.spawn(move || {
                    together.wait();
                    let r = browser.get_absolute(&back);
                    assert_eq!(r.status, 303, "{}", r.body);
                    (client_id, r.header("location").expect("to the client").to_string())
                })
            })
            .collect();
        callbacks.into_iter().map(|c| c.join().expect("callback")).collect()
    });
    let c = &stack.worker.client;
    let token = |pairs: &[(&str, &str)]| {
        let r = c.request(
            "POST",
            "/token",
            &[("content-type", "application/x-www-form-urlencoded")],
            Some(&form_body(pairs)),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()
    };
    for (client_id, to_client) in landed {
        let code =
            url::Url::parse(&to_client).unwrap().query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
        let issued = token(&[
            ("grant_type", "authorization_code"),
            ("client_id", &client_id),
            ("code", &code),
            ("code_verifier", PKCE_VERIFIER),
            ("redirect_uri", redirect),
        ]);
        let refresh = issued["refresh_token"].as_str().unwrap();
        let refreshed =
            token(&[("grant_type", "refresh_token"), ("client_id", &client_id), ("refresh_token", refresh)]);
        let access = refreshed["access_token"].as_str().unwrap();
        let call =
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}});
        let r = mcp_post(c, access, &[("mcp-protocol-version", "2025-11-25")], call.to_string().as_bytes());
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.body.contains(ACME_WORKSPACE_ID) && !r.body.contains("\"isError\":true"), "{}", r.body);
    }
}

/// Issue 26: an administrator finds one person's entries behind another's 25,000 on `/admin`:
/// each person's object is asked for its own newest, so however busy Ada is, Bob's are there
/// when asked for. The log is seeded through the test-mode route (`/__test/seed-audit`; the host
/// test `the_audit_seeding_route_is_off_outside_test_mode` shows it is off in the shipped
/// configuration).
#[test]
fn admin_finds_one_persons_entries_behind_anothers_25000() {
    let stack = Stack::start(&[("INSECURE_TEST_MODE", "1")]);
    let mut ada = stack.browser();
    assert_eq!(stack.connect(&mut ada).status, 200);
    let bob = mock_attio::seed::id("acme/member/bob").to_string();
    stack.mock.with(|w| w.settings.auto_approve_member = bob.parse().ok());
    let mut bobs = stack.browser();
    bobs.accept_json = false;
    assert_eq!(connect_through_attio(&mut bobs).status, 303);

    let c = &stack.worker.client;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let seed = |member: &str, count: u64, newest_ms: u64, action: &str| {
        let body = json!({"workspace_id": ACME_WORKSPACE_ID, "member_id": member, "count": count,
            "newest_ms": newest_ms, "step_ms": 1000, "action": action});
        let r = c.send_json("POST", "/__test/seed-audit", None, &body);
        assert_eq!(r.status, 200, "{}", r.body);
    };
    // Bob: twenty calls two days ago. Ada: 25,000 since, a second apart.
    seed(&bob, 20, now - 2 * 86_400_000, "bobs_lookup");
    for batch in 0..5 {
        seed(ACME_ADMIN_MEMBER_ID, 5_000, now - batch * 5_000_000, "adas_query");
    }
    ada.accept_json = false;
    let everyone = ada.get("/admin");
    assert_eq!(everyone.status, 200, "{}", everyone.body);
    // The log's first page (the usage above it counts the whole range, Bob's calls included).
    let log = everyone.body.split("<h2 id=log>").nth(1).expect("the log section");
    assert!(log.contains(">adas_query<") && !log.contains("bobs_lookup"));
    assert!(everyone.body.contains("bobs_lookup"), "Bob's calls counted in the usage");
    assert!(log.contains("Older entries"), "a way on");
    let bobs_page = ada.get(&format!("/admin?person={bob}"));
    assert_eq!(bobs_page.status, 200, "{}", bobs_page.body);
    assert_eq!(bobs_page.body.matches("<td title=\"bobs_lookup\">").count(), 20, "{}", bobs_page.body);
    assert!(!bobs_page.body.contains("adas_query"));
}
