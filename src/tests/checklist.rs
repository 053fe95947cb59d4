//! Security-checklist items and probes, each a request the gateway must refuse or answer safely.

use super::flow::*;
use super::*;
use base64::Engine;

#[test]
fn missing_verifiers_expired_codes_wrong_client_methods_and_other_checklist_probes_are_refused() {
    let p = FakePlatform::with_settings(loopback_settings());
    // B.12: no code_verifier → invalid_request (and the code survives for a proper request).
    let (client_id, code, _) = obtain_code(&p, "https://gateway.test/v2", "read");
    let no_verifier = run(
        &p,
        form("/token", &[("grant_type", "authorization_code"), ("client_id", &client_id), ("code", &code)], &[]),
    );
    assert_eq!(body(&no_verifier)["error"], "invalid_request");
    // B.15: codes expire after 120 s.
    p.advance_ms(121_000);
    assert_eq!(body(&redeem(&p, &client_id, &code, VERIFIER))["error"], "invalid_grant");

    // C.19 / probe 27: a confidential client must use its registered method and secret.
    let r = run(
        &p,
        post_json(
            "/register",
            &format!(r#"{{"redirect_uris":["{CLIENT_REDIRECT}"],"token_endpoint_auth_method":"client_secret_post"}}"#),
        ),
    );
    let (cid, secret) =
        (body(&r)["client_id"].as_str().unwrap().to_string(), body(&r)["client_secret"].as_str().unwrap().to_string());
    let as_public = run(
        &p,
        form(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", &cid),
                ("code", "agwc.x"),
                ("code_verifier", VERIFIER),
            ],
            &[],
        ),
    );
    assert_eq!(as_public.status(), 401, "no secret");
    let wrong = run(
        &p,
        form(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", &cid),
                ("client_secret", "agws.wrong"),
                ("code", "agwc.x"),
                ("code_verifier", VERIFIER),
            ],
            &[],
        ),
    );
    assert_eq!(body(&wrong)["error"], "invalid_client");
    assert!(wrong.headers().get("www-authenticate").is_some());
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{cid}:{secret}"));
    let mut via_basic =
        form("/token", &[("grant_type", "authorization_code"), ("code", "agwc.x"), ("code_verifier", VERIFIER)], &[]);
    via_basic.headers_mut().insert("authorization", format!("Basic {basic}").parse().unwrap());
    assert_eq!(body(&run(&p, via_basic))["error"], "invalid_client", "registered for client_secret_post, not Basic");

    // D.28: another client's refresh token, and probe 6: a forged token with a real grant id.
    let (client_id, code, _) = obtain_code(&p, "https://gateway.test/v2", "read");
    let t = body(&redeem(&p, &client_id, &code, VERIFIER));
    let rt = t["refresh_token"].as_str().unwrap().to_string();
    let other = register(&p);
    let stolen = run(&p, refresh_request(&other, &rt));
    assert_eq!(body(&stolen)["error"], "invalid_grant");
    let grant_id = rt.split('.').nth(1).unwrap();
    let forged = format!("agwr.{grant_id}.{}", "A".repeat(43));
    let r = run(&p, refresh_request(&client_id, &forged));
    assert_eq!(body(&r)["error"], "invalid_grant");
    p.http.push(200, SELF_ACTIVE);
    assert_eq!(
        bearer_get(&p, "/v2/self", t["access_token"].as_str().unwrap()).status(),
        200,
        "the forged token changed nothing"
    );

    // Probe 21: an auth-skip path in the query string does not skip auth.
    assert_eq!(run(&p, get("/v2/self?x=/.well-known/oauth-protected-resource")).status(), 401);

    // D.29: once the Attio connection is revoked (as when Attio refuses its token: the record
    // in KV and the copy in the person's object), the grant cannot be refreshed.
    let config = crate::config::Config::load(&p).unwrap();
    let user = crate::base::user::UserId::new("ws-1", "mem-1").unwrap();
    let live = block_on(crate::attio::vault::load(&p, config.vault(), &user)).unwrap().unwrap();
    block_on(crate::attio::connection::mark_revoked(&p, config.vault(), &live, "probe"));
    assert!(p.kv_value("attio-conn:v1:ws-1:mem-1").unwrap().contains("\"status\":\"revoked\""));
    let r = run(&p, refresh_request(&client_id, &rt));
    assert_eq!(body(&r)["error"], "invalid_grant", "{}", text(&r));
}
