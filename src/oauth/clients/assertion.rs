//! Client assertions: `private_key_jwt` client authentication (RFC 7523 §2.2, §3; RFC 7521
//! §4.2), the pure part — reading the JWT (RFC 7515 compact serialisation), the algorithm
//! rules, the claims, and which of the client's keys may have signed it. Fetching the key set,
//! checking the signature and spending the `jti` happen in [`crate::auth::client_auth`].
//!
//! The rules, each of which a test below breaks:
//! - the algorithm is the server's choice: `RS256` or `ES256`, equal to the client's declared
//!   `token_endpoint_auth_signing_alg` when it has one, and matching the type of the key that
//!   verifies it — the header's `alg` is only compared, never obeyed (RFC 8725 §3.1);
//! - `iss` = `sub` = the client id; `aud` is one string naming our token endpoint, the endpoint
//!   called or our issuer; `exp` is present, not past and at most [`MAX_LIFETIME_SECS`] ahead; `iat`/`nbf`
//!   are not in the future; all with [`SKEW_SECS`] of clock skew;
//! - `jti` is present (its single use is enforced by the caller);
//! - `crit` is refused: no extension is understood; keys named in the header (`jwk`, `jku`,
//!   `x5u`, `x5c`) are never used.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

use crate::oauth::clients::jwk::{ClientKey, JwsAlg};

/// `client_assertion_type` for a JWT client assertion (RFC 7523 §2.2).
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The largest assertion read (an RS256 JWT with the usual claims is under 1 KiB).
pub const MAX_ASSERTION_BYTES: usize = 8 * 1024;
/// How far ahead `exp` may be: assertions are meant to be used at once.
pub const MAX_LIFETIME_SECS: u64 = 300;
pub const SKEW_SECS: u64 = 60;
const MAX_JTI: usize = 256;

/// Why an assertion was refused. The message goes to the client (it names a rule, never a key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub &'static str);

/// A structurally valid JWS whose signature is not yet checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Assertion {
    pub alg: JwsAlg,
    pub kid: Option<String>,
    pub claims: Value,
    /// `base64url(header) "." base64url(payload)`: what the signature covers.
    pub signing_input: Vec<u8>,
    pub signature: Vec<u8>,
}

fn decode_json(part: &str) -> Result<Value, Refused> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| Refused("the client assertion is not a JWT"))?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| Refused("the client assertion is not a JWT"))?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(Refused("the client assertion is not a JWT"))
    }
}

/// Reads a compact JWS, refusing any algorithm outside the server's list (`none`, `HS256`, …).
pub fn parse(token: &str) -> Result<Assertion, Refused> {
    if token.len() > MAX_ASSERTION_BYTES {
        return Err(Refused("the client assertion is too large"));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refused("the client assertion is not a signed JWT"));
    };
    let head = decode_json(header)?;
    let alg = head
        .get("alg")
        .and_then(Value::as_str)
        .and_then(JwsAlg::parse)
        .ok_or(Refused("the client assertion must be signed with RS256 or ES256"))?;
    if head.get("crit").is_some() {
        return Err(Refused("the client assertion has critical header parameters this server does not understand"));
    }
    let kid = match head.get("kid") {
        None => None,
        Some(Value::String(k)) if !k.is_empty() && k.len() <= 200 => Some(k.clone()),
        Some(_) => return Err(Refused("the client assertion's kid is malformed")),
    };
    let claims = decode_json(payload)?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| Refused("the client assertion is not a JWT"))?;
    if signature.is_empty() {
        return Err(Refused("the client assertion is not signed"));
    }
    let signing_input = token.as_bytes()[..header.len() + 1 + payload.len()].to_vec();
    Ok(Assertion { alg, kid, claims, signing_input, signature })
}

/// Who the assertion says it is (`sub`, RFC 7523 §3 item B), before anything is verified: used
/// only to find the client whose keys must then verify it.
pub fn claimed_client(assertion: &Assertion) -> Option<&str> {
    assertion.claims.get("sub").and_then(Value::as_str)
}

/// What a valid assertion must say.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    pub client_id: &'a str,
    /// Acceptable `aud` values: our issuer, token endpoint, and the endpoint called.
    pub audiences: &'a [String],
    /// The client's declared `token_endpoint_auth_signing_alg`, if any.
    pub alg: Option<JwsAlg>,
    pub now_secs: u64,
}

fn seconds(claims: &Value, name: &str) -> Result<Option<u64>, Refused> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_f64().filter(|f| f.is_finite() && *f >= 0.0).map(|f| f as u64))
            .map(Some)
            .ok_or(Refused("the client assertion has a malformed time claim")),
    }
}

/// The assertion's `jti` and `exp`, once every claim rule holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub jti: String,
    pub exp_secs: u64,
}

/// Checks the algorithm against the client's and every claim rule.
pub fn check(assertion: &Assertion, expected: &Expected<'_>) -> Result<Checked, Refused> {
    if expected.alg.is_some_and(|a| a != assertion.alg) {
        return Err(Refused("the client assertion is not signed with the client's token_endpoint_auth_signing_alg"));
    }
    let claims = &assertion.claims;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(expected.client_id) || text("sub") != Some(expected.client_id) {
        return Err(Refused("the client assertion's iss and sub must both be the client_id"));
    }
    // One string naming us (draft-ietf-oauth-rfc7523bis): an array could carry another
    // server's audience too, which is how one assertion gets replayed across servers.
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => expected.audiences.contains(a),
        _ => false,
    };
    if !aud_ok {
        return Err(Refused("the client assertion's aud must name this server's token endpoint or issuer"));
    }
    let now = expected.now_secs;
    let exp = seconds(claims, "exp")?.ok_or(Refused("the client assertion must have an exp"))?;
    if now >= exp.saturating_add(SKEW_SECS) {
        return Err(Refused("the client assertion has expired"));
    }
    if exp > now + MAX_LIFETIME_SECS + SKEW_SECS {
        return Err(Refused("the client assertion's exp is too far ahead (at most 5 minutes)"));
    }
    for name in ["iat", "nbf"] {
        if seconds(claims, name)?.is_some_and(|t| t > now + SKEW_SECS) {
            return Err(Refused("the client assertion is not valid yet"));
        }
    }
    let jti = text("jti")
        .filter(|j| !j.is_empty() && j.len() <= MAX_JTI)
        .ok_or(Refused("the client assertion must have a jti"))?;
    Ok(Checked { jti: jti.to_string(), exp_secs: exp })
}

/// Which keys may have signed the assertion: those of its algorithm, and with its `kid` when it
/// names one (or with none). Empty when the `kid` is unknown (the caller may refetch the set).
pub fn candidate_keys<'k>(assertion: &Assertion, keys: &'k [ClientKey]) -> Vec<&'k ClientKey> {
    keys.iter()
        .filter(|k| k.key.alg() == assertion.alg)
        // A key published without a kid may have signed any assertion (kid is only a hint).
        .filter(|k| assertion.kid.is_none() || k.kid.is_none() || k.kid == assertion.kid)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::clients::jwk::PublicJwk;

    const CLIENT: &str = "https://chatgpt.com/oauth/abc/client.json";
    const NOW: u64 = 1_800_000_000;

    fn jwt(header: Value, claims: Value) -> String {
        let enc = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.{}", enc(&header), enc(&claims), URL_SAFE_NO_PAD.encode([1u8; 256]))
    }

    fn claims() -> Value {
        serde_json::json!({"iss": CLIENT, "sub": CLIENT, "aud": "https://gw.test/token", "exp": NOW + 60,
                           "iat": NOW, "jti": "j-1"})
    }

    fn audiences() -> Vec<String> {
        vec!["https://gw.test".into(), "https://gw.test/token".into()]
    }

    fn run(header: Value, claims: Value, alg: Option<JwsAlg>) -> Result<Checked, Refused> {
        let a = parse(&jwt(header, claims))?;
        check(&a, &Expected { client_id: CLIENT, audiences: &audiences(), alg, now_secs: NOW })
    }

    #[test]
    fn a_well_formed_assertion_passes_and_names_its_client() {
        let a = parse(&jwt(serde_json::json!({"alg": "RS256", "kid": "k1", "typ": "JWT"}), claims())).unwrap();
        assert_eq!((a.alg, a.kid.as_deref(), claimed_client(&a)), (JwsAlg::RS256, Some("k1"), Some(CLIENT)));
        let token = jwt(serde_json::json!({"alg": "RS256", "kid": "k1", "typ": "JWT"}), claims());
        let (signed_part, _) = token.rsplit_once('.').unwrap();
        assert_eq!(a.signing_input, signed_part.as_bytes(), "the signature covers header.payload only");
        let ok = run(serde_json::json!({"alg": "RS256"}), claims(), Some(JwsAlg::RS256)).unwrap();
        assert_eq!(ok, Checked { jti: "j-1".into(), exp_secs: NOW + 60 });
        let mut issuer_aud = claims();
        issuer_aud["aud"] = serde_json::json!("https://gw.test");
        assert!(run(serde_json::json!({"alg": "ES256"}), issuer_aud, None).is_ok());
    }

    #[test]
    fn algorithms_are_the_servers_choice() {
        for alg in ["none", "HS256", "RS384", "PS256", "none ", ""] {
            let e = run(serde_json::json!({"alg": alg}), claims(), None).unwrap_err();
            assert_eq!(e, Refused("the client assertion must be signed with RS256 or ES256"), "{alg}");
        }
        assert!(run(serde_json::json!({}), claims(), None).is_err());
        // The client declared RS256: an ES256 assertion is refused even if a key could verify it.
        assert!(run(serde_json::json!({"alg": "ES256"}), claims(), Some(JwsAlg::RS256)).is_err());
        assert!(run(serde_json::json!({"alg": "RS256", "crit": ["b64"]}), claims(), None).is_err());
        // An unsigned token (empty third part) and a two-part token are refused.
        let unsigned = jwt(serde_json::json!({"alg": "RS256"}), claims());
        let (head, _) = unsigned.rsplit_once('.').unwrap();
        assert!(parse(&format!("{head}.")).is_err());
        assert!(parse(head).is_err());
        // Over the size cap, even when well formed.
        let mut big = claims();
        big["pad"] = serde_json::json!("x".repeat(MAX_ASSERTION_BYTES));
        assert_eq!(
            parse(&jwt(serde_json::json!({"alg": "RS256"}), big)),
            Err(Refused("the client assertion is too large"))
        );
    }

    #[test]
    fn every_claim_rule_is_enforced() {
        let rs = || serde_json::json!({"alg": "RS256"});
        let with = |k: &str, v: Value| {
            let mut c = claims();
            c[k] = v;
            c
        };
        let without = |k: &str| {
            let mut c = claims();
            c.as_object_mut().unwrap().remove(k);
            c
        };
        let cases = [
            with("iss", "https://evil.test/client.json".into()),
            with("sub", "someone-else".into()),
            without("iss"),
            without("sub"),
            with("aud", "https://evil.test/token".into()),
            with("aud", serde_json::json!(["https://evil.test"])),
            with("aud", serde_json::json!(["https://evil.test/token", "https://gw.test/token"])),
            without("aud"),
            without("exp"),
            with("exp", (NOW - SKEW_SECS).into()),
            with("exp", (NOW + MAX_LIFETIME_SECS + SKEW_SECS + 1).into()),
            with("exp", "soon".into()),
            with("iat", (NOW + SKEW_SECS + 1).into()),
            with("nbf", (NOW + SKEW_SECS + 1).into()),
            without("jti"),
            with("jti", "".into()),
            with("jti", "j".repeat(MAX_JTI + 1).into()),
        ];
        for c in cases {
            assert!(run(rs(), c.clone(), None).is_err(), "{c}");
        }
        // Inside the skew still passes.
        assert!(run(rs(), with("iat", (NOW + SKEW_SECS).into()), None).is_ok());
        assert!(run(rs(), with("exp", (NOW - SKEW_SECS + 1).into()), None).is_ok());
    }

    #[test]
    fn keys_are_chosen_by_algorithm_and_kid() {
        let rsa = |kid: &str| ClientKey {
            kid: Some(kid.into()),
            key: PublicJwk::Rsa { n: crate::oauth::clients::jwk::tests::rsa_n(), e: "AQAB".into() },
        };
        let ec = ClientKey { kid: Some("e".into()), key: PublicJwk::P256 { x: "x".into(), y: "y".into() } };
        let keys = [rsa("a"), rsa("b"), ec];
        let a = |header: Value| parse(&jwt(header, claims())).unwrap();
        assert_eq!(candidate_keys(&a(serde_json::json!({"alg": "RS256", "kid": "b"})), &keys), [&keys[1]]);
        assert_eq!(candidate_keys(&a(serde_json::json!({"alg": "RS256"})), &keys).len(), 2);
        assert!(candidate_keys(&a(serde_json::json!({"alg": "RS256", "kid": "e"})), &keys).is_empty());
        assert!(candidate_keys(&a(serde_json::json!({"alg": "ES256", "kid": "zzz"})), &keys).is_empty());
    }
}
