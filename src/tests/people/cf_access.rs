//! Cloudflare Access in front of the people's pages: a valid `Cf-Access-Jwt-Assertion` admits
//! (and its email is shown and audited); none, expired, for another application or team, or
//! signed by another key is refused with a page; programs' endpoints are not gated.

use serde_json::json;

use crate::platform::Clock;
use crate::testing::jwt_signer::{TestKey, CLIENT_RSA_PEM, OTHER_RSA_PEM};
use crate::tests::flow::*;
use crate::tests::*;

const TEAM: &str = "https://acme.cloudflareaccess.com";
const AUD: &str = "4714c1358e65fe4b408ad6d432a5f878f08194bdb6ae1d1e2ee3d7d1d9e86abf";

fn gated() -> FakePlatform {
    FakePlatform::with_settings(gated_settings())
}

fn gated_settings() -> HashMap<&'static str, String> {
    let mut m = loopback_settings();
    m.insert(ACCESS_TEAM_DOMAIN, "acme.cloudflareaccess.com".into());
    m.insert(ACCESS_AUD, AUD.into());
    m
}

/// Behind Access with boss@acme.example as the administrator, the team's keys ready to fetch.
fn gated_with_an_admin(key: &TestKey) -> FakePlatform {
    let mut m = gated_settings();
    m.insert(crate::config::ADMIN_EMAILS, "boss@acme.example".into());
    let p = FakePlatform::with_settings(m);
    p.http.push(200, &certs(key));
    p
}

fn token(p: &FakePlatform, key: &TestKey, change: impl Fn(&mut Value)) -> String {
    let now = p.now_ms() / 1000;
    let mut claims = json!({"iss": TEAM, "aud": [AUD], "email": "ada@acme.example", "exp": now + 600, "iat": now, "nbf": now,
        "sub": "7335d417-61da-459d-899c-0a01c76a2f94", "type": "app"});
    change(&mut claims);
    key.sign(Some("k1"), &claims)
}

fn certs(key: &TestKey) -> String {
    json!({"keys": [key.public_jwk("k1")], "public_cert": {"kid": "k1", "cert": "-----BEGIN CERTIFICATE-----"}})
        .to_string()
}

fn account_with(p: &FakePlatform, assertion: Option<&str>) -> Response {
    let mut req = get("/account");
    if let Some(a) = assertion {
        req.headers_mut().insert("cf-access-jwt-assertion", a.parse().unwrap());
    }
    run(p, req)
}

#[test]
fn pages_need_a_valid_access_login_and_show_who_it_is() {
    let p = gated();
    let key = TestKey::rsa(CLIENT_RSA_PEM);
    // No login: a page that says what to do, before anything else runs.
    let r = account_with(&p, None);
    assert_eq!(r.status(), 403);
    assert!(text(&r).contains("Cloudflare Access"), "{}", text(&r));
    assert!(p.http.sent.borrow().is_empty());
    // A valid one: the page itself (here: sign in with Attio first). The team's keys are
    // fetched once.
    p.http.push(200, &certs(&key));
    let r = account_with(&p, Some(&token(&p, &key, |_| {})));
    assert_eq!(r.status(), 401, "past the gate, to the page's own sign-in: {}", text(&r));
    let fetched = p.http.sent.borrow()[0].uri().to_string();
    assert_eq!(fetched, format!("{TEAM}/cdn-cgi/access/certs"));
    // The consent page says who Access admitted.
    let client_id = register(&p);
    let mut consent = get(&format!("/authorize?{}", authorize_query(&client_id, "https://gateway.test/mcp")));
    consent.headers_mut().insert("cf-access-jwt-assertion", token(&p, &key, |_| {}).parse().unwrap());
    let page = text(&run(&p, consent));
    assert!(page.contains("Signed in through Cloudflare Access as <strong>ada@acme.example</strong>"), "{page}");
    assert_eq!(p.http.sent.borrow().len(), 1, "keys cached");
    // Expired, another application, another team, another key: refused.
    let expired = token(&p, &key, |c| c["exp"] = json!(p.now_ms() / 1000 - 3600));
    let other_aud = token(&p, &key, |c| c["aud"] = json!(["0000aaaa0000aaaa"]));
    let other_team = token(&p, &key, |c| c["iss"] = json!("https://evil.cloudflareaccess.com"));
    for (what, t) in [("expired", expired), ("audience", other_aud), ("team", other_team)] {
        assert_eq!(account_with(&p, Some(&t)).status(), 403, "{what}");
    }
    let forged = token(&p, &TestKey::rsa(OTHER_RSA_PEM), |_| {});
    assert_eq!(account_with(&p, Some(&forged)).status(), 403, "another key");
    assert_eq!(account_with(&p, Some("not-a-jwt")).status(), 403);
    // Programs' endpoints are not gated.
    assert_eq!(run(&p, get("/.well-known/oauth-authorization-server")).status(), 200);
    let mcp = http::Request::post("https://gateway.test/mcp").body(b"{}".to_vec()).unwrap();
    assert_eq!(run(&p, mcp).status(), 401, "its own bearer authentication");
}

#[test]
fn half_an_access_setup_is_a_configuration_error() {
    let mut m = loopback_settings();
    m.insert(ACCESS_TEAM_DOMAIN, "acme.cloudflareaccess.com".into());
    let p = FakePlatform::with_settings(m);
    let health = body(&run(&p, get("/health")));
    assert_eq!(health["configured"], false, "{health}");
    assert!(health.to_string().contains("ACCESS_AUD is needed with ACCESS_TEAM_DOMAIN"), "{health}");
}

#[test]
fn the_admin_page_is_for_the_listed_access_emails() {
    let key = TestKey::rsa(CLIENT_RSA_PEM);
    let p = gated_with_an_admin(&key);
    let as_who = |email: &str| {
        let mut req = get("/admin");
        let t = token(&p, &key, |c| c["email"] = json!(email));
        req.headers_mut().insert("cf-access-jwt-assertion", t.parse().unwrap());
        run(&p, req)
    };
    assert_eq!(as_who("ada@acme.example").status(), 403);
    let r = as_who("boss@acme.example");
    assert_eq!(r.status(), 200, "{}", text(&r));
    assert!(text(&r).contains("You administer everyone"));
}

#[test]
fn the_deployers_policy_applies_on_the_next_call() {
    let key = TestKey::rsa(CLIENT_RSA_PEM);
    let p = gated_with_an_admin(&key);
    let boss = token(&p, &key, |c| c["email"] = json!("boss@acme.example"));
    let admin_req = |req: Request| {
        let mut req = req;
        req.headers_mut().insert("cf-access-jwt-assertion", boss.parse().unwrap());
        run(&p, req)
    };
    let set = |pairs: &[(&str, &str)]| {
        let page = text(&admin_req(get("/admin")));
        let csrf = hidden(&page, "csrf");
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(pairs);
        let r = admin_req(form("/admin/policy", &all, &[]));
        assert_eq!(r.status(), 303, "{}", text(&r));
    };
    set(&[("writes_off", "on"), ("proxy_off", "on"), ("max_grant_days", "1")]);
    let stored = block_on(crate::store::policy::load(&p)).unwrap();
    assert!(stored.writes_off && stored.proxy_off && stored.max_grant_days == Some(1));
    assert_eq!(stored.updated_by, "boss@acme.example");
    // A bad value changes nothing.
    let page = text(&admin_req(get("/admin")));
    let r = admin_req(form("/admin/policy", &[("csrf", &hidden(&page, "csrf")), ("max_grant_days", "0")], &[]));
    assert_eq!(r.status(), 400);
    // Without the administrator's form token: refused.
    assert_eq!(admin_req(form("/admin/policy", &[("csrf", "forged")], &[])).status(), 403);
}
