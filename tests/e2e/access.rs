//! Cloudflare Access in front of the people's pages, in workerd: the team's keys served from a
//! local certs endpoint; a person with a valid Access login connects, approves an app (their
//! email on the consent page and in the audit log), and logins that are missing, expired, for
//! another application or signed by another key are refused. `/mcp` stays a program's endpoint.

use serde_json::{json, Value};

use crate::harness::*;

use crate::jwt_signer::{TestKey, CLIENT_RSA_PEM, OTHER_RSA_PEM};

const AUD: &str = "4714c1358e65fe4b408ad6d432a5f878f08194bdb6ae1d1e2ee3d7d1d9e86abf";

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

#[test]
fn cloudflare_access_guards_the_people_pages() {
    let key = TestKey::rsa(CLIENT_RSA_PEM);
    let certs = json!({"keys": [key.public_jwk("k1")]}).to_string();
    let site = Site::start(move |_, path| (path == "/cdn-cgi/access/certs").then(|| Served::Json(certs.clone())));
    let team = site.base.clone();
    let stack = Stack::start(&[
        ("ACCESS_TEAM_DOMAIN", team.as_str()),
        ("ACCESS_AUD", AUD),
        ("ADMIN_EMAILS", "boss@acme.example"),
    ]);
    let login = |key: &TestKey, change: &dyn Fn(&mut Value)| {
        let mut claims =
            json!({"iss": team, "aud": [AUD], "email": "ada@acme.example", "exp": now() + 600, "iat": now()});
        change(&mut claims);
        key.sign(Some("k1"), &claims)
    };

    // Without a valid login, every person's page is refused with an explanation.
    let refusals = [
        ("no login", None),
        ("expired", Some(login(&key, &|c| c["exp"] = json!(now() - 3600)))),
        ("another application", Some(login(&key, &|c| c["aud"] = json!(["0000aaaa0000aaaa"])))),
        ("another key", Some(login(&TestKey::rsa(OTHER_RSA_PEM), &|_| {}))),
    ];
    for (what, token) in refusals {
        let mut browser = stack.browser();
        browser.accept_json = false;
        if let Some(t) = token {
            browser.extra_headers.push(("cf-access-jwt-assertion".into(), t));
        }
        for path in ["/connect", "/account"] {
            let r = browser.get(path);
            assert_eq!(r.status, 403, "{what} {path}: {}", r.body);
            assert!(r.body.contains("Cloudflare Access"), "{what}");
        }
    }

    // With one: connect, approve an app; the consent page and the audit log name the person.
    let mut browser = stack.browser();
    browser.extra_headers.push(("cf-access-jwt-assertion".into(), login(&key, &|_| {})));
    assert_eq!(stack.connect(&mut browser).status, 200);
    let redirect = "http://127.0.0.1:7777/callback";
    let client_id = stack.register_client("Access test app", redirect);
    browser.accept_json = false;
    let consent = browser.get_absolute(&stack.authorize_url(&client_id, redirect, "/mcp", None));
    assert_eq!(consent.status, 200, "{}", consent.body);
    assert!(consent.body.contains("Signed in through Cloudflare Access as <strong>ada@acme.example</strong>"));
    let form = form_body(&[
        ("request", &hidden(&consent.body, "request")),
        ("csrf", &hidden(&consent.body, "csrf")),
        ("decision", "approve"),
        ("access", "read"),
    ]);
    let decided = browser.request("POST", "/authorize", Some(("application/x-www-form-urlencoded", &form)));
    assert_eq!(decided.status, 303, "{}", decided.body);
    browser.accept_json = true;
    let consent_entry = |audit: &Value| audit["entries"].as_array()?.iter().find(|e| e["kind"] == "consent").cloned();
    let audit = eventually(|| browser.get("/connect/audit").json(), |a| consent_entry(a).is_some());
    let approval = consent_entry(&audit).unwrap_or_else(|| panic!("no consent entry: {audit}"));
    assert_eq!(approval["by"], "ada@acme.example", "{audit}");
    assert!(site.hits("/cdn-cgi/access/certs") >= 1);

    // The app works; then the deployer's administrator sees Ada, exports the log, revokes the app.
    let c = &stack.worker.client;
    let token = stack.redeem_redirect(&client_id, redirect, decided.header("location").unwrap());
    let call = |token: &str| {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "list_lists", "arguments": {}}});
        mcp_post(c, token, &[("mcp-protocol-version", "2025-11-25")], body.to_string().as_bytes())
    };
    assert_eq!(call(&token).status, 200);
    assert_eq!(browser.get("/admin").status, 403, "Ada is not an administrator");
    let mut boss = stack.browser();
    boss.accept_json = false;
    boss.extra_headers
        .push(("cf-access-jwt-assertion".into(), login(&key, &|c| c["email"] = json!("boss@acme.example"))));
    let admin = eventually(|| boss.get("/admin"), |a| a.body.contains("list_lists"));
    assert_eq!(admin.status, 200, "{}", admin.body);
    assert!(admin.body.contains("Access test app") && admin.body.contains("list_lists"), "{}", admin.body);
    let csv = boss.get("/admin/audit.csv?tool=list_lists");
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines[0], "time_ms,time,workspace_id,member_id,by,app,kind,action,write,outcome");
    assert!(
        lines.len() >= 2 && lines[1..].iter().all(|l| l.split(',').count() == 10 && l.contains("list_lists")),
        "{}",
        csv.body
    );
    assert!(
        !csv.body.contains(&token) && !csv.body.contains("agwa.") && !csv.body.contains("agwr."),
        "no token in the export"
    );
    let jsonl = boss.get("/admin/audit.jsonl");
    assert!(jsonl.body.lines().all(|l| serde_json::from_str::<Value>(l).is_ok()));
    // A policy change applies on the very next call: lists turned off, then on again.
    let mut policy = |fields: &[(&str, &str)]| {
        let page = boss.get("/admin");
        let csrf = hidden(&page.body, "csrf");
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        let r = boss.request("POST", "/admin/policy", Some(("application/x-www-form-urlencoded", &form_body(&all))));
        assert_eq!(r.status, 303, "{}", r.body);
    };
    policy(&[("off_lists", "on")]);
    let refused = call(&token);
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.header("www-authenticate").is_some_and(|h| h.contains("attio:lists")));
    policy(&[]);
    assert_eq!(call(&token).status, 200);
    let revoke = form_body(&[
        ("csrf", &hidden(&admin.body, "csrf")),
        ("workspace_id", ACME_WORKSPACE_ID),
        ("member_id", ACME_ADMIN_MEMBER_ID),
        ("grant_id", &hidden(&admin.body, "grant_id")),
    ]);
    let revoked = boss.request("POST", "/admin/revoke", Some(("application/x-www-form-urlencoded", &revoke)));
    assert_eq!(revoked.status, 303, "{}", revoked.body);
    assert_eq!(call(&token).status, 401, "the app's token died with the revocation");
    let after = boss.get("/admin");
    assert!(
        after.body.contains("<td>boss@acme.example</td><td>revoke</td>") && after.body.contains("<td>export</td>"),
        "{}",
        after.body
    );
    // A form from another site, or without the administrator's token, is refused.
    let forged = form_body(&[("csrf", "x"), ("workspace_id", ACME_WORKSPACE_ID), ("member_id", ACME_ADMIN_MEMBER_ID)]);
    assert_eq!(
        boss.request("POST", "/admin/disconnect", Some(("application/x-www-form-urlencoded", &forged))).status,
        403
    );

    // Programs' endpoints are not behind the gate.
    let mcp = stack.worker.client.request("POST", "/mcp", &[("content-type", "application/json")], Some(b"{}"));
    assert_eq!(mcp.status, 401, "bearer authentication, not Access");
}

#[test]
fn access_pages_in_chromium_show_who_is_signed_in_or_why_not() {
    let Some(chromium) = ["/usr/bin/chromium"].iter().map(std::path::PathBuf::from).find(|p| p.exists()) else {
        panic!("Chromium is missing: scripts/bootstrap installs Debian's chromium package");
    };
    let key = TestKey::rsa(CLIENT_RSA_PEM);
    let certs = json!({"keys": [key.public_jwk("k1")]}).to_string();
    let site = Site::start(move |_, path| (path == "/cdn-cgi/access/certs").then(|| Served::Json(certs.clone())));
    let team = site.base.clone();
    let stack = Stack::start(&[("ACCESS_TEAM_DOMAIN", team.as_str()), ("ACCESS_AUD", AUD)]);
    let login = |key: &TestKey, change: &dyn Fn(&mut Value)| {
        let mut claims =
            json!({"iss": team, "aud": [AUD], "email": "ada@acme.example", "exp": now() + 600, "iat": now()});
        change(&mut claims);
        key.sign(Some("k1"), &claims)
    };
    let logins = json!({
        "valid": login(&key, &|_| {}),
        "expired": login(&key, &|c| c["exp"] = json!(now() - 3600)),
        "wrong-audience": login(&key, &|c| c["aud"] = json!(["0000aaaa0000aaaa"])),
        "wrong-key": login(&TestKey::rsa(OTHER_RSA_PEM), &|_| {}),
        "none": Value::Null,
    });
    let redirect = "http://127.0.0.1:7777/callback";
    let client_id = stack.register_client("Access browser app", redirect);
    let screenshots = artifacts_dir().join("screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();
    // No screenshot from an earlier run may stand in for this run's.
    for name in logins.as_object().unwrap().keys() {
        let _ = std::fs::remove_file(screenshots.join(format!("gated-{name}.png")));
    }
    let input = json!({"authorizeUrl": stack.authorize_url(&client_id, redirect, "/mcp", None), "logins": logins,
        "screenshots": screenshots})
    .to_string();
    let (r, _) = browser_script("gated.mjs", &input, Some(chromium), std::time::Duration::from_secs(120));
    assert!(r.get("error").is_none(), "{r:#}");
    assert_eq!(r["valid"]["status"], 200, "{r:#}");
    assert!(
        r["valid"]["text"].as_str().unwrap().contains("Signed in through Cloudflare Access as ada@acme.example"),
        "{r:#}"
    );
    for refused in ["expired", "wrong-audience", "wrong-key", "none"] {
        assert_eq!(r[refused]["status"], 403, "{refused}: {r:#}");
        assert_eq!(r[refused]["title"], "Sign in through Cloudflare Access", "{refused}");
        let shot = screenshots.join(format!("gated-{refused}.png"));
        assert!(std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0) > 5_000, "{}", shot.display());
    }
}
