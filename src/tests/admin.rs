//! `/admin` without Cloudflare Access: Attio workspace admins administer their own workspace;
//! members, and people not signed in, are refused.

use super::flow::*;
use super::*;

#[test]
fn workspace_admins_administer_their_workspace_and_members_cannot() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, code, jar) = obtain_code(&p, "https://gateway.test/mcp", "write");
    assert_eq!(redeem(&p, &client_id, &code, VERIFIER).status(), 200);
    assert_eq!(run(&p, get("/admin")).status(), 401, "not signed in");
    p.http.push(200, r#"{"data":{"access_level":"admin","email_address":"ada@acme.example"}}"#);
    let r = run(&p, with_cookies("/admin", &jar));
    assert_eq!(r.status(), 200, "{}", text(&r));
    let page = text(&r);
    assert!(page.contains("You administer the Attio workspace") && page.contains("Test &lt;Client&gt;"), "{page}");
    assert!(p.http.sent.borrow().last().unwrap().uri().path().starts_with("/v2/workspace_members/"));
    p.http.push(200, r#"{"data":{"access_level":"member"}}"#);
    assert_eq!(run(&p, with_cookies("/admin", &jar)).status(), 403);
    // Attio will not say (no user_management:read): not let in on a guess.
    p.http.push(403, r#"{"status_code":403,"type":"auth_error","code":"missing_scopes","message":"no"}"#);
    assert_eq!(run(&p, with_cookies("/admin", &jar)).status(), 503);
}
