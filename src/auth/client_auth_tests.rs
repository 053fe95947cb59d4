//! Tests of [`super`]: client authentication at the token and revocation endpoints.

use super::*;
use crate::config::SettingsSource;
use crate::oauth::clients::jwk::PublicJwk;
use crate::testing::jwt_signer::{self, TestKey, CLIENT_P256_PEM, CLIENT_RSA_PEM, OTHER_RSA_PEM};
use crate::testing::{block_on, verify_with_rustcrypto, FakePlatform};
use serde_json::{json, Value};

const CLIENT: &str = "https://chatgpt.example/oauth/abc/client.json";
const JWKS: &str = "https://chatgpt.example/oauth/jwks.json";
const ORIGIN: &str = "https://gateway.test";
const KID: &str = "cimd-20260428030119";

fn document(extra: Value) -> String {
    let mut doc = json!({
        "client_id": CLIENT, "client_uri": "https://chatgpt.example/", "client_name": "ChatGPT",
        "redirect_uris": ["https://chatgpt.example/connector/oauth/abc"],
        "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
        "token_endpoint_auth_method": "private_key_jwt", "token_endpoint_auth_signing_alg": "RS256",
        "jwks_uri": JWKS
    });
    for (k, v) in extra.as_object().unwrap() {
        doc[k] = v.clone();
    }
    doc.to_string()
}

fn jwks(keys: &[(&TestKey, &str)]) -> String {
    json!({"keys": keys.iter().map(|(k, kid)| k.public_jwk(kid)).collect::<Vec<_>>()}).to_string()
}

fn form_with(assertion: &str) -> Vec<(String, String)> {
    vec![
        ("grant_type".into(), "authorization_code".into()),
        ("client_assertion_type".into(), ASSERTION_TYPE.into()),
        ("client_assertion".into(), assertion.into()),
    ]
}

fn auth(p: &FakePlatform, form: &[(String, String)]) -> Result<RegisteredClient, OAuthError> {
    let config = p.config().unwrap();
    let req = http::Request::post(format!("{ORIGIN}/token")).body(Vec::new()).unwrap();
    block_on(authenticate(p, &config, ORIGIN, &format!("{ORIGIN}/token"), &req, form))
}

fn now(p: &FakePlatform) -> u64 {
    use crate::platform::Clock;
    p.now_ms() / 1000
}

/// A platform that will serve ChatGPT's document and then its key set (`keys`).
fn chatgpt(keys: &[(&TestKey, &str)]) -> FakePlatform {
    let p = FakePlatform::default();
    p.http.push(200, &document(json!({})));
    p.http.push(200, &jwks(keys));
    p
}

fn assertion(p: &FakePlatform, key: &TestKey, jti: &str) -> String {
    key.sign(Some(KID), &jwt_signer::claims(CLIENT, &format!("{ORIGIN}/token"), now(p), jti))
}

#[test]
fn a_chatgpt_shaped_client_authenticates_with_a_signed_assertion_once() {
    let key = TestKey::rsa(CLIENT_RSA_PEM);
    let p = chatgpt(&[(&key, KID)]);
    let client = auth(&p, &form_with(&assertion(&p, &key, "j-1"))).unwrap();
    assert_eq!(client.client_id, CLIENT);
    assert_eq!(p.http.sent.borrow()[1].uri(), JWKS, "the key set is fetched from the document's jwks_uri");
    // The key set is cached: a second assertion fetches nothing.
    assert!(auth(&p, &form_with(&assertion(&p, &key, "j-2"))).is_ok());
    assert_eq!(p.http.sent.borrow().len(), 2);
    // The same jti again: refused, even with a fresh signature.
    let replay = auth(&p, &form_with(&assertion(&p, &key, "j-1"))).unwrap_err();
    assert_eq!(
        (replay.code, replay.description.as_str()),
        ("invalid_client", "the client assertion was already used (jti)")
    );
    // aud may also be the issuer (one string).
    let claims = jwt_signer::claims(CLIENT, ORIGIN, now(&p), "j-3");
    assert!(auth(&p, &form_with(&key.sign(Some(KID), &claims))).is_ok());
}

#[test]
fn forged_expired_replayed_and_misaddressed_assertions_are_refused() {
    let key = TestKey::rsa(CLIENT_RSA_PEM);
    let p = chatgpt(&[(&key, KID)]);
    assert!(auth(&p, &form_with(&assertion(&p, &key, "warm-up"))).is_ok());
    let t = now(&p);
    let aud = format!("{ORIGIN}/token");
    let other = TestKey::rsa(OTHER_RSA_PEM);
    let public_n = key.public_jwk(KID)["n"].as_str().unwrap().to_string();
    let mut expired = jwt_signer::claims(CLIENT, &aud, t - 600, "j-exp");
    expired["exp"] = json!(t - 120);
    let cases = [
        ("wrong key", other.sign(Some(KID), &jwt_signer::claims(CLIENT, &aud, t, "j-a"))),
        ("alg none", jwt_signer::unsigned(&jwt_signer::claims(CLIENT, &aud, t, "j-b"))),
        (
            "HS256 with the public key",
            jwt_signer::hs256(public_n.as_bytes(), Some(KID), &jwt_signer::claims(CLIENT, &aud, t, "j-c")),
        ),
        ("expired", key.sign(Some(KID), &expired)),
        ("wrong aud", key.sign(Some(KID), &jwt_signer::claims(CLIENT, "https://evil.test/token", t, "j-d"))),
        ("another client's iss", key.sign(Some(KID), &jwt_signer::claims("https://evil.test/c.json", &aud, t, "j-e"))),
        (
            "ES256 when RS256 is declared",
            TestKey::p256(CLIENT_P256_PEM).sign(Some(KID), &jwt_signer::claims(CLIENT, &aud, t, "j-f")),
        ),
        ("replayed jti", assertion(&p, &key, "warm-up")),
    ];
    for (why, jwt) in cases {
        let e = auth(&p, &form_with(&jwt)).unwrap_err();
        assert_eq!(e.code, "invalid_client", "{why}: {}", e.description);
    }
    // Missing assertion, wrong type, and the public method for a private_key_jwt client.
    let mut no_jwt = form_with("x");
    no_jwt.retain(|(k, _)| k != "client_assertion");
    assert_eq!(auth(&p, &no_jwt).unwrap_err().code, "invalid_request");
    let mut wrong_type = form_with(&assertion(&p, &key, "j-g"));
    wrong_type[1].1 = "urn:ietf:params:oauth:client-assertion-type:saml2-bearer".into();
    assert_eq!(auth(&p, &wrong_type).unwrap_err().code, "invalid_client");
    let public = vec![("client_id".to_string(), CLIENT.to_string())];
    let e = auth(&p, &public).unwrap_err();
    assert_eq!(
        (e.code, e.description.as_str()),
        ("invalid_client", "this client must authenticate with private_key_jwt")
    );
}

#[test]
fn an_unknown_kid_refetches_the_set_at_most_once_a_minute() {
    let key = TestKey::rsa(CLIENT_RSA_PEM);
    let p = chatgpt(&[(&key, KID)]);
    assert!(auth(&p, &form_with(&assertion(&p, &key, "j-1"))).is_ok());
    // The client rotates to a new key: the cached set lacks its kid.
    let rotated = TestKey::rsa(OTHER_RSA_PEM);
    p.http.push(200, &jwks(&[(&key, KID), (&rotated, "new")]));
    let claims = |jti: &str| jwt_signer::claims(CLIENT, &format!("{ORIGIN}/token"), now(&p), jti);
    // Within a minute of the first fetch: no refetch, refused.
    let e = auth(&p, &form_with(&rotated.sign(Some("new"), &claims("j-2")))).unwrap_err();
    assert!(e.description.contains("at most once a minute"), "{}", e.description);
    assert_eq!(p.http.sent.borrow().len(), 2);
    // After it, the unknown kid refetches the set once, and the new key is used.
    p.advance_ms(61_000);
    assert!(auth(&p, &form_with(&rotated.sign(Some("new"), &claims("j-3")))).is_ok());
    assert_eq!(p.http.sent.borrow().len(), 3, "one refetch");
    // A stream of random kids within the minute fetches nothing more.
    for n in 0..20 {
        let jwt = rotated.sign(Some(&format!("random-{n}")), &claims(&format!("r-{n}")));
        assert!(auth(&p, &form_with(&jwt)).is_err());
    }
    assert_eq!(p.http.sent.borrow().len(), 3, "no fetch amplification");
}

#[test]
fn a_set_that_cannot_be_fetched_again_is_used_for_an_hour() {
    let key = TestKey::rsa(CLIENT_RSA_PEM);
    let p = chatgpt(&[(&key, KID)]);
    assert!(auth(&p, &form_with(&assertion(&p, &key, "j-1"))).is_ok());
    // Six minutes on, the set is due for a fetch, which fails: the fetched set still serves.
    p.advance_ms(6 * 60_000);
    p.http.push(503, "");
    assert!(auth(&p, &form_with(&assertion(&p, &key, "j-2"))).is_ok());
    assert_eq!(p.http.sent.borrow().len(), 3, "it did try to fetch");
    // Past the hour, and the key set's host still down: refused.
    p.advance_ms(60 * 60_000);
    p.http.push(200, &document(json!({})));
    p.http.push(503, "");
    let e = auth(&p, &form_with(&assertion(&p, &key, "j-3"))).unwrap_err();
    assert!(e.description.contains("could not be fetched"), "{}", e.description);
}

#[test]
fn inline_keys_and_es256_work_and_listed_methods_allow_none() {
    let ec = TestKey::p256(CLIENT_P256_PEM);
    let p = FakePlatform::default();
    let inline: Value = serde_json::from_str(&jwks(&[(&ec, "ec-1")])).unwrap();
    p.http.push(200, &document(json!({"jwks_uri": null, "jwks": inline, "token_endpoint_auth_signing_alg": "ES256"})));
    let claims = jwt_signer::claims(CLIENT, &format!("{ORIGIN}/token"), now(&p), "j-1");
    assert!(auth(&p, &form_with(&ec.sign(Some("ec-1"), &claims))).is_ok());
    assert_eq!(p.http.sent.borrow().len(), 1, "no key fetch for inline keys");
    // A document with only the list may use none.
    let p = FakePlatform::default();
    p.http.push(
        200,
        &document(json!({"token_endpoint_auth_method": null,
        "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"]})),
    );
    let public = vec![("client_id".to_string(), CLIENT.to_string())];
    assert!(auth(&p, &public).is_ok());
}

#[test]
fn the_host_verifier_matches_the_algorithms() {
    let (rsa, ec) = (TestKey::rsa(CLIENT_RSA_PEM), TestKey::p256(CLIENT_P256_PEM));
    for key in [&rsa, &ec] {
        let jwt = key.sign(None, &json!({"a": 1}));
        let a = assertion::parse(&jwt).unwrap();
        let public: Vec<_> = crate::oauth::clients::jwk::parse_set(&json!({"keys": [key.public_jwk("k")]})).unwrap();
        assert!(verify_with_rustcrypto(&public[0].key, &a.signing_input, &a.signature));
        let mut bad = a.signature.clone();
        bad[0] ^= 1;
        assert!(!verify_with_rustcrypto(&public[0].key, &a.signing_input, &bad));
    }
    assert!(!verify_with_rustcrypto(&PublicJwk::P256 { x: "AA".into(), y: "AA".into() }, b"m", &[0; 64]));
}

#[test]
fn basic_credentials_are_form_decoded() {
    let enc = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    assert_eq!(parse_basic(&format!("Basic {}", enc("id:se%3Acret"))), Some(("id".into(), "se:cret".into())));
    assert_eq!(parse_basic(&format!("Basic {}", enc("a%20b:c+d"))), Some(("a b".into(), "c d".into())));
    for bad in [
        "Bearer x".to_string(),
        "Basic !!!".into(),
        format!("Basic {}", enc("nocolon")),
        format!("Basic {}", enc(":secret")),
    ] {
        assert_eq!(parse_basic(&bad), None, "{bad}");
    }
}
