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
    let stack = Stack::start(&[("ACCESS_TEAM_DOMAIN", team.as_str()), ("ACCESS_AUD", AUD)]);
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
    let audit = browser.get("/connect/audit").json();
    let approval = audit["entries"].as_array().unwrap().iter().find(|e| e["kind"] == "consent").cloned().unwrap();
    assert_eq!(approval["by"], "ada@acme.example", "{audit}");
    assert!(site.hits("/cdn-cgi/access/certs") >= 1);

    // Programs' endpoints are not behind the gate.
    let mcp = stack.worker.client.request("POST", "/mcp", &[("content-type", "application/json")], Some(b"{}"));
    assert_eq!(mcp.status, 401, "bearer authentication, not Access");
}
