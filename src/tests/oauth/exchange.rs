//! RFC 8693 token exchange for the backends in `TOKEN_EXCHANGE_CLIENTS`: a person's access
//! token becomes a short-lived REST-proxy token, never reaching further than the person's grant
//! (issue 24, finding 3): a grant limited to some parts of Attio is not exchanged (the proxy
//! reaches all of it), and every check a refresh makes (the deployer's maximum grant age, the
//! Attio connection, the person's membership) applies to the exchange too.

use crate::tests::flow::*;
use crate::tests::*;

const BACKEND_SECRET: &str = "backend-secret-that-is-long-enough-000";

fn exchange_form(subject: &str, secret: &str, extra: &[(&str, &str)]) -> Request {
    let mut pairs = vec![
        ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
        ("client_id", "backend-1"),
        ("client_secret", secret),
        ("subject_token", subject),
        ("subject_token_type", "urn:ietf:params:oauth:token-type:access_token"),
    ];
    pairs.extend_from_slice(extra);
    form("/token", &pairs, &[])
}

fn with_a_backend() -> FakePlatform {
    let mut m = loopback_settings();
    m.insert(crate::config::TOKEN_EXCHANGE_CLIENTS, format!("backend-1:{BACKEND_SECRET}"));
    FakePlatform::with_settings(m)
}

#[test]
fn token_exchange_gives_configured_backends_a_short_lived_proxy_token() {
    // Off unless configured.
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, code, _) = obtain_code(&p, "https://gateway.test/mcp", "write");
    let subject = body(&redeem(&p, &client_id, &code, VERIFIER))["access_token"].as_str().unwrap().to_string();
    assert_eq!(body(&run(&p, exchange_form(&subject, BACKEND_SECRET, &[])))["error"], "unsupported_grant_type");

    let p = with_a_backend();
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
        body(&run(&p, exchange_form(&subject, BACKEND_SECRET, &[("resource", "https://gateway.test/mcp")])))["error"],
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
    let exchanged = t["access_token"].as_str().unwrap().to_string();
    p.http.push(200, SELF_ACTIVE);
    assert_eq!(bearer_get(&p, "/v2/self", &exchanged).status(), 200);

    // An exchanged token cannot be exchanged again (no chain that outlives its source).
    let again = run(&p, exchange_form(&exchanged, BACKEND_SECRET, &[]));
    assert_eq!(body(&again)["error"], "invalid_grant", "{}", text(&again));

    // Revoking the person's token reaches what was exchanged from it.
    let revoked = run(&p, form("/revoke", &[("client_id", &client_id), ("token", &subject)], &[]));
    assert_eq!(revoked.status(), 200);
    assert_eq!(bearer_get(&p, "/v2/self", &exchanged).status(), 401, "the exchanged token died with its source");
}

#[test]
fn a_grant_limited_to_some_parts_of_attio_is_not_exchanged() {
    let p = with_a_backend();
    let choices = [("access", "read"), ("groups_shown", "1"), ("group_notes", "on")];
    let (client_id, code, _) = obtain_code_choosing(&p, register(&p), "https://gateway.test/mcp", &choices);
    let issued = body(&redeem(&p, &client_id, &code, VERIFIER));
    assert_eq!(issued["scope"], "attio:read attio:notes", "{issued}");
    let subject = issued["access_token"].as_str().unwrap();
    let r = run(&p, exchange_form(subject, BACKEND_SECRET, &[]));
    assert_eq!(body(&r)["error"], "invalid_scope", "{}", text(&r));
    assert!(text(&r).contains("limited to some parts of Attio"), "{}", text(&r));
}

#[test]
fn the_deployers_maximum_grant_age_applies_to_the_exchange() {
    let p = with_a_backend();
    let (client_id, code, _) = obtain_code(&p, "https://gateway.test/mcp", "read");
    let issued = body(&redeem(&p, &client_id, &code, VERIFIER));
    let policy = crate::control::policy::Policy { max_grant_days: Some(1), ..Default::default() };
    block_on(crate::store::policy::save(&p, &policy)).unwrap();
    // Refreshed just before the day ends: the new access token is valid for an hour by its own
    // expiry, but the grant behind it outlives the maximum within that hour.
    p.advance_ms(23 * 3_600_000 + 1_800_000);
    let refreshed = body(&run(&p, refresh_request(&client_id, issued["refresh_token"].as_str().unwrap())));
    let subject = refreshed["access_token"].as_str().expect("refreshed within the day").to_string();
    assert_eq!(run(&p, exchange_form(&subject, BACKEND_SECRET, &[])).status(), 200, "within the day");
    p.advance_ms(45 * 60_000);
    let r = run(&p, exchange_form(&subject, BACKEND_SECRET, &[]));
    assert_eq!(body(&r)["error"], "invalid_grant", "{}", text(&r));
    assert!(text(&r).contains("maximum grant lifetime"), "{}", text(&r));
}

#[test]
fn a_member_who_left_the_workspace_cannot_have_their_token_exchanged() {
    let p = with_a_backend();
    let (client_id, code, _) = obtain_code(&p, "https://gateway.test/mcp", "read");
    let subject = body(&redeem(&p, &client_id, &code, VERIFIER))["access_token"].as_str().unwrap().to_string();
    p.http.push(
        200,
        r#"{"data":{"id":{"workspace_id":"ws-1","workspace_member_id":"mem-1"},"access_level":"suspended"}}"#,
    );
    let r = run(&p, exchange_form(&subject, BACKEND_SECRET, &[]));
    assert_eq!(body(&r)["error"], "invalid_grant", "{}", text(&r));
    assert!(text(&r).contains("no longer an active member"), "{}", text(&r));
    let asked = p.http.sent.borrow().last().unwrap().uri().to_string();
    assert!(asked.ends_with("/v2/workspace_members/mem-1"), "{asked}");
}
