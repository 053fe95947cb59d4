//! Who is calling the token and revocation endpoints (RFC 6749 §2.3): a public client (its id
//! only), a client secret (HTTP Basic, RFC 6749 §2.3.1, or in the form), or a signed JWT
//! assertion (`private_key_jwt`, RFC 7523 §2.2 and §3, RFC 7521 §4.2).
//!
//! The method a client presents must be one its record allows ([`RegisteredClient::allows`]):
//! a metadata document that declares `private_key_jwt` cannot fall back to `none`. Callers
//! authenticate the client before looking up any code or refresh token, so a refused
//! assertion spends nothing. An assertion is checked in this order: its form (algorithm from
//! the server's list), the client it names, its claims, a key of the client's set (refetched
//! once when its `kid` is unknown), the signature, and last its `jti`, which is spent in a
//! `Transitions` object until the assertion expires, so it is used at most once.

use base64::Engine;
use http::header::AUTHORIZATION;

use crate::clients::{self, KeysError};
use crate::config::{Config, ExchangeClient};
use crate::http::Request;
use crate::oauth::assertion::{self, Assertion, Expected, ASSERTION_TYPE};
use crate::oauth::client::{AuthMethod, RegisteredClient};
use crate::oauth::{params, sealed_client, OAuthError};
use crate::platform::Platform;
use crate::secret::constant_time_eq;
use crate::store::clients as store_clients;
use crate::store::one_time;

/// How much longer than its acceptance window a spent `jti` is remembered.
const JTI_MARGIN_SECS: u64 = 300;

/// `Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1).
pub fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, rest) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(rest.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |s: &str| -> Option<String> {
        let plus_as_space = s.replace('+', " ");
        url::form_urlencoded::parse(format!("x={plus_as_space}").as_bytes()).next().map(|(_, v)| v.into_owned())
    };
    Some((decode(id)?, decode(secret)?)).filter(|(i, s)| !i.is_empty() && !s.is_empty())
}

/// A backend named in `TOKEN_EXCHANGE_CLIENTS`, by its id and secret (HTTP Basic or the form),
/// for RFC 8693 token exchange. The secret is compared in constant time.
pub fn authenticate_backend<'c>(
    config: &'c Config,
    req: &Request,
    form: &[(String, String)],
) -> Result<&'c ExchangeClient, OAuthError> {
    if config.exchange_clients.is_empty() {
        return Err(OAuthError::unsupported_grant_type("token exchange is not enabled on this gateway"));
    }
    let (id, secret) = match req.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        Some(v) => parse_basic(v).ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?,
        None => (
            params::get(form, "client_id").unwrap_or_default().to_string(),
            params::get(form, "client_secret").unwrap_or_default().to_string(),
        ),
    };
    config
        .exchange_clients
        .iter()
        .find(|c| c.id == id && constant_time_eq(c.secret.expose_secret().as_bytes(), secret.as_bytes()))
        .ok_or_else(|| OAuthError::invalid_client("client authentication failed"))
}

/// What the request presents.
enum Presented<'a> {
    Secret { client_id: &'a str, secret: &'a str, method: AuthMethod },
    Assertion { client_id: String, assertion: Assertion },
    Public { client_id: &'a str },
}

fn presented<'a>(
    basic: &'a Option<(String, String)>,
    form: &'a [(String, String)],
) -> Result<Presented<'a>, OAuthError> {
    let form_id = params::get(form, "client_id");
    let assertion_type = params::get(form, "client_assertion_type");
    let jwt = params::get(form, "client_assertion");
    if assertion_type.is_some() || jwt.is_some() {
        if basic.is_some() || params::get(form, "client_secret").is_some() {
            return Err(OAuthError::invalid_request("use one client authentication method"));
        }
        if assertion_type != Some(ASSERTION_TYPE) {
            return Err(OAuthError::invalid_client(format!("client_assertion_type must be {ASSERTION_TYPE}")));
        }
        let jwt = jwt.ok_or_else(|| OAuthError::invalid_request("client_assertion is required"))?;
        let assertion = assertion::parse(jwt).map_err(|e| OAuthError::invalid_client(e.0))?;
        let client_id = assertion::claimed_client(&assertion)
            .ok_or_else(|| OAuthError::invalid_client("the client assertion must have a sub naming the client"))?
            .to_string();
        // RFC 7523 §3: a client_id sent alongside must name the same client.
        if form_id.is_some_and(|f| f != client_id) {
            return Err(OAuthError::invalid_client("client_id does not match the client assertion"));
        }
        return Ok(Presented::Assertion { client_id, assertion });
    }
    Ok(match (basic, params::get(form, "client_secret")) {
        (Some(_), Some(_)) => return Err(OAuthError::invalid_request("use one client authentication method")),
        (Some((id, secret)), None) => {
            if form_id.is_some_and(|f| f != id) {
                return Err(OAuthError::invalid_client("client_id does not match the credentials"));
            }
            Presented::Secret { client_id: id, secret, method: AuthMethod::ClientSecretBasic }
        }
        (None, Some(secret)) => {
            Presented::Secret { client_id: form_id.unwrap_or(""), secret, method: AuthMethod::ClientSecretPost }
        }
        (None, None) => Presented::Public { client_id: form_id.unwrap_or("") },
    })
}

/// The client a request claims to be, before anything is verified: for counting failures
/// per client ([`crate::rate_limit`]), never for deciding anything.
pub fn claimed_client_id(req: &Request, form: &[(String, String)]) -> Option<String> {
    let basic = req.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(parse_basic);
    match presented(&basic, form).ok()? {
        Presented::Secret { client_id, .. } | Presented::Public { client_id } => Some(client_id.to_string()),
        Presented::Assertion { client_id, .. } => Some(client_id),
    }
    .filter(|id| !id.is_empty())
}

/// The authenticated client of a request to `endpoint` (`{origin}/token` or `{origin}/revoke`).
pub async fn authenticate<P: Platform>(
    p: &P,
    config: &Config,
    origin: &str,
    endpoint: &str,
    req: &Request,
    form: &[(String, String)],
) -> Result<RegisteredClient, OAuthError> {
    let basic = match req.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        Some(v) => Some(parse_basic(v).ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?),
        None => None,
    };
    let presented = presented(&basic, form)?;
    let (client_id, method) = match &presented {
        Presented::Secret { client_id, method, .. } => (*client_id, *method),
        Presented::Assertion { client_id, .. } => (client_id.as_str(), AuthMethod::PrivateKeyJwt),
        Presented::Public { client_id } => (*client_id, AuthMethod::None),
    };
    let client = clients::load(p, config, client_id)
        .await
        .map_err(|_| OAuthError::temporarily_unavailable("client storage is unavailable"))?
        .ok_or_else(|| OAuthError::invalid_client("unknown client"))?;
    if !client.allows(method) {
        return Err(OAuthError::invalid_client(format!(
            "this client must authenticate with {}",
            client.auth_method.as_str()
        )));
    }
    match presented {
        // A sealed client's secret is derived from its id (its kept copy holds a hash instead).
        Presented::Secret { secret, .. }
            if sealed_client::is_sealed(&client.client_id) && client.secret_hash.is_none() =>
        {
            if !sealed_client::secret_matches(config.keys(), &client.client_id, secret) {
                return Err(OAuthError::invalid_client("client authentication failed"));
            }
            keep_past_rotation(p, config, &client, Some(secret)).await;
        }
        Presented::Secret { secret, .. } => {
            let hash = client.secret_hash.as_deref().unwrap_or_default();
            // A missing hash (a public client) matches nothing: hashes are never empty.
            if hash.is_empty() || !config.keys().hash_matches(secret, hash) {
                return Err(OAuthError::invalid_client("client authentication failed"));
            }
            // Matched under an older SIGNING_KEY: re-hash under the newest, once, so the client
            // keeps working after the old key is retired.
            let newest = config.keys().token_hash(secret);
            if !constant_time_eq(newest.as_bytes(), hash.as_bytes()) {
                let rehashed = RegisteredClient { secret_hash: Some(newest), ..client.clone() };
                let kept = if sealed_client::is_sealed(&rehashed.client_id) {
                    store_clients::keep_sealed_copy(p, &rehashed).await
                } else {
                    store_clients::replace(p, &rehashed).await
                };
                if let Err(e) = kept {
                    p.log("client.rehash_failed", &e.0);
                }
            }
        }
        Presented::Assertion { assertion, .. } => {
            // Only absolute URLs: without a known origin nothing is an acceptable audience.
            let audiences: Vec<String> = [origin.to_string(), format!("{origin}/token"), endpoint.to_string()]
                .into_iter()
                .filter(|a| a.starts_with("https://") || a.starts_with("http://"))
                .collect();
            verify_assertion(p, config, &client, &assertion, &audiences).await?;
        }
        Presented::Public { .. } => {}
    }
    if !matches!(method, AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost) {
        keep_past_rotation(p, config, &client, None).await;
    }
    Ok(client)
}

/// A sealed client whose id was made under an older `SIGNING_KEY` (one being retired) gets a
/// copy in KV the first time it authenticates, so it keeps working once that key is removed.
/// Best effort: a client idle for the whole rotation registers again.
async fn keep_past_rotation<P: Platform>(p: &P, config: &Config, client: &RegisteredClient, secret: Option<&str>) {
    let keys = config.keys();
    let id = &client.client_id;
    if !sealed_client::is_sealed(id) || !keys.token_intact(id) || keys.token_intact_under_newest(id) {
        return;
    }
    if matches!(store_clients::load_sealed_copy(p, id).await, Ok(Some(_))) {
        return;
    }
    let copy = RegisteredClient { secret_hash: secret.map(|s| keys.token_hash(s)), ..client.clone() };
    if let Err(e) = store_clients::keep_sealed_copy(p, &copy).await {
        p.log("client.keep_copy_failed", &e.0);
    }
}

async fn verify_assertion<P: Platform>(
    p: &P,
    config: &Config,
    client: &RegisteredClient,
    assertion: &Assertion,
    audiences: &[String],
) -> Result<(), OAuthError> {
    let refused = |why: &str| {
        p.log("client_auth.assertion_refused", why);
        OAuthError::invalid_client(why.to_string())
    };
    let expected = Expected {
        client_id: &client.client_id,
        audiences,
        alg: client.assertion_keys.as_ref().and_then(|k| k.alg),
        now_secs: p.now_ms() / 1000,
    };
    let checked = assertion::check(assertion, &expected).map_err(|e| refused(e.0))?;
    let keys_error = |e: KeysError| match e {
        KeysError::Unusable => refused("the client's key set could not be fetched or has no usable key"),
        KeysError::Throttled => {
            refused("the client's key set was fetched less than a minute ago and could not be used")
        }
    };
    let mut keys = clients::keys(p, config, client, false).await.map_err(keys_error)?;
    if assertion::candidate_keys(assertion, &keys).is_empty() {
        // Perhaps the client rotated its keys since we cached them: look once more.
        keys = clients::keys(p, config, client, true).await.map_err(keys_error)?;
    }
    let candidates = assertion::candidate_keys(assertion, &keys);
    if candidates.is_empty() {
        return Err(refused(
            "no key of the client's key set matches the assertion (its set is fetched at most once a minute)",
        ));
    }
    let mut valid = false;
    for key in candidates {
        if p.verify_signature(&key.key, &assertion.signing_input, &assertion.signature).await {
            valid = true;
            break;
        }
    }
    if !valid {
        return Err(refused("the client assertion's signature does not verify with the client's keys"));
    }
    // Kept well past the last moment the assertion could still be accepted (by any clock the
    // checks ran on), so the entry can never be already expired when it is written.
    let expires_at_ms = (checked.exp_secs.max(p.now_ms() / 1000) + assertion::SKEW_SECS + JTI_MARGIN_SECS) * 1000;
    match one_time::spend_jti(p, config.keys(), &client.client_id, &checked.jti, expires_at_ms).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(refused("the client assertion was already used (jti)")),
        Err(_) => Err(OAuthError::temporarily_unavailable("assertion storage is unavailable")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SettingsSource;
    use crate::oauth::jwk::PublicJwk;
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
            (
                "another client's iss",
                key.sign(Some(KID), &jwt_signer::claims("https://evil.test/c.json", &aud, t, "j-e")),
            ),
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
        p.http.push(
            200,
            &document(json!({"jwks_uri": null, "jwks": inline, "token_endpoint_auth_signing_alg": "ES256"})),
        );
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
            let public: Vec<_> = crate::oauth::jwk::parse_set(&json!({"keys": [key.public_jwk("k")]})).unwrap();
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
}
