//! Remembered consent (security checklist F.36): a browser that approved an app skips the
//! consent page on a direct navigation from that app, only while the app still holds a live
//! grant of that person for that resource with at least the access it asks for. Every way a
//! grant ends (the client's own RFC 7009 revocation, `/account`, a disconnect, the deployer's
//! maximum grant age) ends the memory too (issue 24, finding 1).

use crate::tests::flow::*;
use crate::tests::*;

#[test]
fn remembered_consent_applies_only_to_direct_navigations_for_the_same_client() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, code, jar) = obtain_code(&p, "https://gateway.test/mcp", "write");
    assert!(jar.iter().any(|c| c.starts_with("__Host-agw-approved=")));
    // Until the code is redeemed there is no grant to stand behind the memory: asked again.
    assert_eq!(authorize_again(&p, &client_id, &jar, Some("none")).status(), 200);
    assert_eq!(redeem(&p, &client_id, &code, VERIFIER).status(), 200);
    let again = authorize_again(&p, &client_id, &jar, Some("none"));
    assert_eq!(again.status(), 302, "{}", text(&again));
    let loc = again.headers()[LOCATION].to_str().unwrap();
    assert!(loc.starts_with(CLIENT_REDIRECT) && query(loc, "code").is_some(), "{loc}");
    // A cross-site navigation, or one without Sec-Fetch-Site, sees the consent page again.
    assert_eq!(authorize_again(&p, &client_id, &jar, Some("cross-site")).status(), 200);
    assert_eq!(authorize_again(&p, &client_id, &jar, None).status(), 200);
    // Another client, or a tampered cookie: consent again.
    let other = register(&p);
    assert_eq!(authorize_again(&p, &other, &jar, Some("none")).status(), 200);
    let tampered: Vec<String> = jar
        .iter()
        .map(|c| if c.starts_with("__Host-agw-approved=") { c.replacen("-w", "-r", 1) } else { c.clone() })
        .collect();
    assert_eq!(authorize_again(&p, &client_id, &tampered, Some("none")).status(), 200);
}

#[test]
fn an_approval_of_the_mcp_endpoint_is_not_reused_for_the_rest_proxy() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, _, jar) = approved(&p, "https://gateway.test/mcp", "write");
    let mut req = with_cookies(&format!("/authorize?{}", authorize_query(&client_id, "https://gateway.test/v2")), &jar);
    req.headers_mut().insert("sec-fetch-site", "none".parse().unwrap());
    let asked = run(&p, req);
    assert_eq!(asked.status(), 200, "the person is asked again for the REST proxy");
    assert!(text(&asked).contains("REST API"), "the consent page names the resource");
    // The MCP approval itself is still remembered.
    assert_eq!(authorize_again(&p, &client_id, &jar, Some("none")).status(), 302);
}

#[test]
fn a_read_only_approval_is_not_reused_for_write_access() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, _, jar) = approved(&p, "https://gateway.test/mcp", "read");
    // The client asks for read and write again: the person must be asked.
    assert_eq!(authorize_again(&p, &client_id, &jar, Some("none")).status(), 200);
}

/// `Set-Cookie` of the remembered-approval cookie in a response, if any.
fn approved_cookie(resp: &Response) -> Option<String> {
    resp.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-agw-approved="))
        .map(str::to_string)
}

/// An app approved for `access` and its code redeemed: its client, its tokens and the browser's
/// cookies.
fn approved(p: &FakePlatform, resource: &str, access: &str) -> (String, Value, Vec<String>) {
    let (client_id, code, jar) = obtain_code(p, resource, access);
    let issued = body(&redeem(p, &client_id, &code, VERIFIER));
    assert!(issued["access_token"].is_string(), "{issued}");
    (client_id, issued, jar)
}

/// An app approved for writing and used: remembered while its grant lives.
fn approved_and_used(p: &FakePlatform) -> (String, Value, Vec<String>) {
    let (client_id, issued, jar) = approved(p, "https://gateway.test/mcp", "write");
    assert_eq!(authorize_again(p, &client_id, &jar, Some("none")).status(), 302, "remembered while it lives");
    (client_id, issued, jar)
}

/// The browser's remembered approvals with a new session's cookies.
fn with_new_session(jar: &[String], session: Vec<String>) -> Vec<String> {
    let mut jar: Vec<String> = jar.iter().filter(|c| c.starts_with("__Host-agw-approved=")).cloned().collect();
    jar.extend(session);
    jar
}

/// The consent page is shown again, and the browser is told to forget the approval.
fn asked_again(p: &FakePlatform, client_id: &str, jar: &[String]) {
    let again = authorize_again(p, client_id, jar, Some("none"));
    assert_eq!(again.status(), 200, "{}", text(&again));
    assert!(text(&again).contains("Allow access to Attio?"));
    let forgotten = approved_cookie(&again).expect("the stale approval is dropped from the cookie");
    assert!(forgotten.contains("Max-Age=0"), "{forgotten}");
}

#[test]
fn the_clients_own_revocation_ends_its_remembered_approval() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, issued, jar) = approved_and_used(&p);
    let at = issued["access_token"].as_str().unwrap();
    assert_eq!(run(&p, form("/revoke", &[("client_id", &client_id), ("token", at)], &[])).status(), 200);
    asked_again(&p, &client_id, &jar);
}

#[test]
fn revoking_the_app_on_the_account_page_ends_its_remembered_approval() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, _, jar) = approved_and_used(&p);
    let html = text(&run(&p, with_cookies("/account", &jar)));
    let grant_id = html.split("name=grant_id value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let csrf = html.split("name=csrf value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    assert_eq!(account_post(&p, &jar, &format!("csrf={csrf}&grant_id={grant_id}"), None).status(), 303);
    asked_again(&p, &client_id, &jar);
}

#[test]
fn the_deployers_maximum_grant_age_ends_a_remembered_approval() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, _, jar) = approved_and_used(&p);
    let policy = crate::control::policy::Policy { max_grant_days: Some(1), ..Default::default() };
    block_on(crate::store::policy::save(&p, &policy)).unwrap();
    p.advance_ms(2 * 86_400_000);
    // The person signs in again (their session lasts an hour), over the same connection.
    let jar = with_new_session(&jar, connect_again(&p));
    asked_again(&p, &client_id, &jar);
}

#[test]
fn a_new_approval_is_remembered_again_after_one_ended() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, issued, jar) = approved_and_used(&p);
    let at = issued["access_token"].as_str().unwrap();
    assert_eq!(run(&p, form("/revoke", &[("client_id", &client_id), ("token", at)], &[])).status(), 200);
    // Approved again on the consent page and redeemed: remembered once more.
    let consent = authorize_again(&p, &client_id, &jar, Some("none"));
    let page = text(&consent);
    let mut jar2 = jar.clone();
    jar2.extend(cookies(&consent));
    let fields = [("request", hidden(&page, "request")), ("csrf", hidden(&page, "csrf"))];
    let decision = run(
        &p,
        form(
            "/authorize",
            &[("request", &fields[0].1), ("csrf", &fields[1].1), ("decision", "approve"), ("access", "write")],
            &jar2,
        ),
    );
    assert_eq!(decision.status(), 303, "{}", text(&decision));
    let code = query(decision.headers()[LOCATION].to_str().unwrap(), "code").unwrap();
    assert_eq!(redeem(&p, &client_id, &code, VERIFIER).status(), 200);
    let remembered: Vec<String> =
        cookies(&decision).into_iter().filter(|c| c.starts_with("__Host-agw-approved=")).collect();
    let mut jar3: Vec<String> = jar.into_iter().filter(|c| !c.starts_with("__Host-agw-approved=")).collect();
    jar3.extend(remembered);
    assert_eq!(authorize_again(&p, &client_id, &jar3, Some("none")).status(), 302);
}

#[test]
fn a_disconnect_ends_remembered_approvals_even_after_connecting_again() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, _, jar) = approved_and_used(&p);
    assert_eq!(disconnect_from_status(&p, &jar).status(), 200);
    // Connected again in the same browser: a new connection, and the app must be asked for again.
    let jar = with_new_session(&jar, connect_again(&p));
    asked_again(&p, &client_id, &jar);
}
