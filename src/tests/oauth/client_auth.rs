//! Client authentication at `/token` and `/revoke`: `private_key_jwt`, and revocation by the owning client only.

use crate::tests::flow::*;
use crate::tests::*;

#[test]
fn a_private_key_jwt_client_spends_nothing_until_its_assertion_verifies() {
    use crate::oauth::clients::assertion::ASSERTION_TYPE;
    use crate::testing::jwt_signer::{claims, TestKey, CLIENT_P256_PEM, CLIENT_RSA_PEM, OTHER_RSA_PEM};
    let p = FakePlatform::with_settings(loopback_settings());
    let registration = |key: &TestKey| {
        serde_json::json!({
            "client_name": "Signed <Client>", "redirect_uris": [CLIENT_REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [key.public_jwk("k1")]}
        })
        .to_string()
    };
    // An inline RSA key does not fit in a sealed client id: refused, pointing to jwks_uri.
    let r = run(&p, post_json("/register", &registration(&TestKey::rsa(CLIENT_RSA_PEM))));
    assert_eq!(r.status(), 400, "{}", text(&r));
    assert!(body(&r)["error_description"].as_str().unwrap().contains("jwks_uri"), "{}", text(&r));
    let key = TestKey::p256(CLIENT_P256_PEM);
    let r = run(&p, post_json("/register", &registration(&key)));
    assert_eq!(r.status(), 201, "{}", text(&r));
    assert!(body(&r).get("client_secret").is_none(), "no secret for a key-authenticated client");
    assert_eq!(body(&r)["jwks"]["keys"][0]["kid"], "k1");
    let client_id = body(&r)["client_id"].as_str().unwrap().to_string();
    let (client_id, code, _) = obtain_code_for(&p, client_id, "https://gateway.test/mcp", "write");
    let now = crate::platform::Clock::now_ms(&p) / 1000;
    let redeem_with = |jwt: &str| {
        let pairs = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("code_verifier", VERIFIER),
            ("redirect_uri", CLIENT_REDIRECT),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", jwt),
        ];
        run(&p, form("/token", &pairs, &[]))
    };
    let forged =
        TestKey::rsa(OTHER_RSA_PEM).sign(Some("k1"), &claims(&client_id, "https://gateway.test/token", now, "a"));
    let refused = redeem_with(&forged);
    assert_eq!(refused.status(), 401, "{}", text(&refused));
    assert_eq!(body(&refused)["error"], "invalid_client");
    assert!(is_no_store(&refused));
    // Without any assertion: the public method is not this client's.
    assert_eq!(redeem(&p, &client_id, &code, VERIFIER).status(), 401);
    // The code survived both refusals.
    let good = key.sign(Some("k1"), &claims(&client_id, "https://gateway.test/token", now, "b"));
    let tokens = redeem_with(&good);
    assert_eq!(tokens.status(), 200, "{}", text(&tokens));
    assert!(is_no_store(&tokens));
    // Refresh and revoke authenticate the same way.
    let rt = body(&tokens)["refresh_token"].as_str().unwrap().to_string();
    let next = key.sign(Some("k1"), &claims(&client_id, "https://gateway.test/token", now, "c"));
    let refreshed = run(
        &p,
        form(
            "/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &rt),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", &next),
            ],
            &[],
        ),
    );
    assert_eq!(refreshed.status(), 200, "{}", text(&refreshed));
    let at = body(&refreshed)["access_token"].as_str().unwrap().to_string();
    let list = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    assert_eq!(mcp(&p, &at, list, &[]).status(), 200, "the refreshed token works");
    let revoke_jwt = key.sign(Some("k1"), &claims(&client_id, "https://gateway.test/revoke", now, "d"));
    let revoked = run(
        &p,
        form(
            "/revoke",
            &[("token", &at), ("client_assertion_type", ASSERTION_TYPE), ("client_assertion", &revoke_jwt)],
            &[],
        ),
    );
    assert_eq!(revoked.status(), 200, "{}", text(&revoked));
    assert_eq!(mcp(&p, &at, list, &[]).status(), 401, "revoked");
}

#[test]
fn a_client_can_revoke_only_its_own_tokens() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, code, _) = obtain_code(&p, "https://gateway.test/v2", "read");
    let at = body(&redeem(&p, &client_id, &code, VERIFIER))["access_token"].as_str().unwrap().to_string();
    let other = register(&p);
    let r = run(&p, form("/revoke", &[("client_id", &other), ("token", &at)], &[]));
    assert_eq!(r.status(), 200, "RFC 7009: 200 regardless");
    p.http.push(200, SELF_ACTIVE);
    assert_eq!(bearer_get(&p, "/v2/self", &at).status(), 200, "another client cannot revoke it");
    assert_eq!(run(&p, form("/revoke", &[("client_id", &client_id), ("token", &at)], &[])).status(), 200);
    assert_eq!(bearer_get(&p, "/v2/self", &at).status(), 401, "its own client can");
}
