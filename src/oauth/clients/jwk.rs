//! The public keys a client signs its assertions with (RFC 7517 JSON Web Key sets), as far as
//! `private_key_jwt` client authentication needs them (RFC 7523 §2.2).
//!
//! Only two key types are kept, each tied to the one algorithm the server allows for it
//! (RFC 7518 §3.1): RSA keys of 2048 to 4096 bits for `RS256`, and P-256 keys for `ES256`. The
//! algorithm is a property of the key we chose to accept, never of the token header, so neither
//! `none` nor `HS256` with a public key as the "secret" can get through (RFC 8725 §2.1, §3.1).
//! Keys marked for encryption, of other types or curves, or of other algorithms are skipped;
//! private members (`d`, …) are never read.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// At most this many keys of a set are considered (a client rotates between two or three).
pub const MAX_KEYS: usize = 10;
/// A key set is read up to this size, fetched or inline.
pub const MAX_SET_BYTES: usize = 16 * 1024;

/// The signature algorithms this server accepts for client assertions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JwsAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 §3.3).
    RS256,
    /// ECDSA on P-256 with SHA-256 (RFC 7518 §3.4).
    ES256,
}

impl JwsAlg {
    pub const ALL: [JwsAlg; 2] = [JwsAlg::RS256, JwsAlg::ES256];

    pub fn parse(s: &str) -> Option<JwsAlg> {
        match s {
            "RS256" => Some(JwsAlg::RS256),
            "ES256" => Some(JwsAlg::ES256),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JwsAlg::RS256 => "RS256",
            JwsAlg::ES256 => "ES256",
        }
    }

    /// Names for the metadata documents (`*_signing_alg_values_supported`).
    pub fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|a| a.as_str()).collect()
    }
}

/// A public key's material, base64url as in the JWK (already checked to decode and have the
/// right sizes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicJwk {
    Rsa { n: String, e: String },
    P256 { x: String, y: String },
}

impl PublicJwk {
    /// The one algorithm this key is accepted for.
    pub fn alg(&self) -> JwsAlg {
        match self {
            PublicJwk::Rsa { .. } => JwsAlg::RS256,
            PublicJwk::P256 { .. } => JwsAlg::ES256,
        }
    }

    /// The key as a JWK object for WebCrypto's `importKey("jwk", …)` (public members only).
    pub fn to_jwk(&self) -> Value {
        match self {
            PublicJwk::Rsa { n, e } => serde_json::json!({"kty": "RSA", "n": n, "e": e}),
            PublicJwk::P256 { x, y } => serde_json::json!({"kty": "EC", "crv": "P-256", "x": x, "y": y}),
        }
    }
}

/// One usable key of a client's set. Stored as the JWK itself (`kid` and the public members),
/// and read back through the same checks as a fetched key (`usable`), which also keeps a
/// derived deserializer for the key types out of the bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKey {
    pub kid: Option<String>,
    pub key: PublicJwk,
}

impl ClientKey {
    /// The JWK: the public members and `kid`.
    pub fn to_jwk(&self) -> Value {
        let mut jwk = self.key.to_jwk();
        if let Some(kid) = &self.kid {
            jwk["kid"] = Value::String(kid.clone());
        }
        jwk
    }
}

impl Serialize for ClientKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_jwk().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ClientKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let jwk = Value::deserialize(deserializer)?;
        usable(&jwk).ok_or_else(|| serde::de::Error::custom("not a usable RS256 or ES256 public key"))
    }
}

fn b64_len(value: Option<&Value>) -> Option<(String, Vec<u8>)> {
    let text = value?.as_str()?;
    let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
    Some((text.to_string(), bytes))
}

/// Reads one JWK; `None` when it is not a signing key this server accepts.
fn usable(jwk: &Value) -> Option<ClientKey> {
    let member = |name: &str| jwk.get(name).and_then(Value::as_str);
    if member("use").is_some_and(|u| u != "sig") {
        return None;
    }
    if let Some(ops) = jwk.get("key_ops") {
        let ops = ops.as_array()?;
        if !ops.iter().any(|o| o.as_str() == Some("verify")) {
            return None;
        }
    }
    let key = match member("kty")? {
        "RSA" => {
            let (n, n_bytes) = b64_len(jwk.get("n"))?;
            let (e, e_bytes) = b64_len(jwk.get("e"))?;
            // 2048 to 4096 bits, no leading zero byte; a small odd public exponent.
            let bits_ok =
                (256..=512).contains(&n_bytes.len()) && n_bytes[0] != 0 && n_bytes[n_bytes.len() - 1] & 1 == 1;
            // An odd public exponent of at least 3, at most 32 bits (65537 in practice).
            let e_value = e_bytes.iter().take(5).fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
            let e_ok = (1..=4).contains(&e_bytes.len()) && e_bytes[0] != 0 && e_value >= 3 && e_value & 1 == 1;
            (bits_ok && e_ok).then_some(PublicJwk::Rsa { n, e })?
        }
        "EC" if member("crv") == Some("P-256") => {
            let (x, x_bytes) = b64_len(jwk.get("x"))?;
            let (y, y_bytes) = b64_len(jwk.get("y"))?;
            (x_bytes.len() == 32 && y_bytes.len() == 32).then_some(PublicJwk::P256 { x, y })?
        }
        _ => return None,
    };
    if member("alg").is_some_and(|a| JwsAlg::parse(a) != Some(key.alg())) {
        return None;
    }
    let kid = member("kid").filter(|k| !k.is_empty() && k.len() <= 200).map(str::to_string);
    Some(ClientKey { kid, key })
}

/// The usable keys of a JWK set (`{"keys": [...]}`), at least one, at most [`MAX_KEYS`].
pub fn parse_set(set: &Value) -> Result<Vec<ClientKey>, &'static str> {
    let keys = set.get("keys").and_then(Value::as_array).ok_or("the key set has no keys array")?;
    if keys.len() > MAX_KEYS {
        return Err("the key set has too many keys");
    }
    let usable: Vec<ClientKey> = keys.iter().filter_map(usable).collect();
    if usable.is_empty() {
        return Err("the key set has no RS256 or ES256 signing key");
    }
    Ok(usable)
}

/// [`parse_set`] over a fetched body, bounded by [`MAX_SET_BYTES`].
pub fn parse_set_bytes(body: &[u8]) -> Result<Vec<ClientKey>, &'static str> {
    if body.len() > MAX_SET_BYTES {
        return Err("the key set is too large");
    }
    let set: Value = serde_json::from_slice(body).map_err(|_| "the key set is not JSON")?;
    parse_set(&set)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A 2048-bit RSA modulus shape (the value does not matter to parsing).
    pub(crate) fn rsa_n() -> String {
        let mut n = vec![0xc5u8; 256];
        n[255] = 0x01;
        URL_SAFE_NO_PAD.encode(n)
    }

    #[test]
    fn rsa_and_p256_signing_keys_are_kept_with_their_one_algorithm() {
        let p = URL_SAFE_NO_PAD.encode([7u8; 32]);
        let set = serde_json::json!({"keys": [
            {"kty": "RSA", "kid": "cimd-20260428030119", "use": "sig", "alg": "RS256", "n": rsa_n(), "e": "AQAB"},
            {"kty": "EC", "crv": "P-256", "kid": "ec", "x": p, "y": p},
        ]});
        let keys = parse_set(&set).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].kid.as_deref(), Some("cimd-20260428030119"));
        assert_eq!(keys[0].key.alg(), JwsAlg::RS256);
        assert_eq!(keys[1].key.alg(), JwsAlg::ES256);
        assert_eq!(keys[0].key.to_jwk(), serde_json::json!({"kty": "RSA", "n": rsa_n(), "e": "AQAB"}));
        // Stored as the JWK and read back through the same checks.
        let stored = serde_json::to_string(&keys).unwrap();
        assert!(stored.contains(r#""kid":"cimd-20260428030119""#) && !stored.contains("\"use\""), "{stored}");
        assert_eq!(serde_json::from_str::<Vec<ClientKey>>(&stored).unwrap(), keys);
        assert!(serde_json::from_str::<ClientKey>(r#"{"kty":"oct","k":"c2VjcmV0"}"#).is_err());
    }

    #[test]
    fn weak_foreign_and_symmetric_keys_are_skipped() {
        let p = URL_SAFE_NO_PAD.encode([7u8; 32]);
        let short_n = URL_SAFE_NO_PAD.encode([0xc5u8; 128]);
        let skipped = [
            serde_json::json!({"kty": "oct", "k": "c2VjcmV0"}),
            serde_json::json!({"kty": "RSA", "n": short_n, "e": "AQAB"}),
            serde_json::json!({"kty": "RSA", "n": rsa_n(), "e": "AQAB", "use": "enc"}),
            serde_json::json!({"kty": "RSA", "n": rsa_n(), "e": "AQAB", "alg": "PS256"}),
            serde_json::json!({"kty": "RSA", "n": rsa_n(), "e": "AQAB", "alg": "HS256"}),
            serde_json::json!({"kty": "RSA", "n": rsa_n(), "e": "AAAC"}),
            serde_json::json!({"kty": "RSA", "n": rsa_n(), "e": "AQ"}),
            serde_json::json!({"kty": "RSA", "n": URL_SAFE_NO_PAD.encode([0xc4u8; 256]), "e": "AQAB"}),
            serde_json::json!({"kty": "RSA", "n": rsa_n(), "e": "AQAB", "key_ops": ["encrypt"]}),
            serde_json::json!({"kty": "EC", "crv": "P-384", "x": p, "y": p}),
            serde_json::json!({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": p}),
            serde_json::json!({"kty": "EC", "crv": "P-256", "x": p, "y": p, "alg": "RS256"}),
        ];
        for key in skipped {
            assert!(parse_set(&serde_json::json!({"keys": [key]})).is_err(), "{key}");
        }
        let good = serde_json::json!({"kty": "RSA", "n": rsa_n(), "e": "AQAB"});
        assert_eq!(
            parse_set(&serde_json::json!({"keys": vec![good.clone(); MAX_KEYS]})).map(|k| k.len()),
            Ok(MAX_KEYS)
        );
        assert_eq!(
            parse_set(&serde_json::json!({"keys": vec![good.clone(); MAX_KEYS + 1]})),
            Err("the key set has too many keys")
        );
        assert!(parse_set_bytes(b"not json").is_err());
        let mut padded = serde_json::json!({"keys": [good]}).to_string();
        assert!(parse_set_bytes(padded.as_bytes()).is_ok());
        padded.push_str(&" ".repeat(MAX_SET_BYTES));
        assert_eq!(parse_set_bytes(padded.as_bytes()), Err("the key set is too large"));
    }
}
