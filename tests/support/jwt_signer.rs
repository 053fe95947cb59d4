//! Signs client assertions the way a `private_key_jwt` client does (RFC 7523 §2.2), for tests
//! only: RS256 or ES256 with the throwaway keys in `tests/fixtures/keys`, and the forgeries the
//! gateway must refuse (`alg: none`, HS256 keyed with the public key). Shared by the host unit
//! tests (`src/testing/mod.rs`) and the end-to-end tests (`tests/e2e`).

#![allow(dead_code)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

pub const CLIENT_RSA_PEM: &str = include_str!("../fixtures/keys/client-rsa.pem");
pub const CLIENT_P256_PEM: &str = include_str!("../fixtures/keys/client-p256.pem");
pub const OTHER_RSA_PEM: &str = include_str!("../fixtures/keys/other-rsa.pem");

pub enum TestKey {
    Rsa(Box<rsa::RsaPrivateKey>),
    P256(p256::ecdsa::SigningKey),
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl TestKey {
    pub fn rsa(pem: &str) -> TestKey {
        use rsa::pkcs8::DecodePrivateKey;
        TestKey::Rsa(Box::new(rsa::RsaPrivateKey::from_pkcs8_pem(pem).expect("RSA test key")))
    }

    pub fn p256(pem: &str) -> TestKey {
        use p256::pkcs8::DecodePrivateKey;
        TestKey::P256(p256::ecdsa::SigningKey::from_pkcs8_pem(pem).expect("P-256 test key"))
    }

    pub fn alg(&self) -> &'static str {
        match self {
            TestKey::Rsa(_) => "RS256",
            TestKey::P256(_) => "ES256",
        }
    }

    /// The public half as a JWK with `kid`, `use` and `alg`, as a client publishes it.
    pub fn public_jwk(&self, kid: &str) -> Value {
        match self {
            TestKey::Rsa(k) => {
                use rsa::traits::PublicKeyParts;
                json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                       "n": b64(&k.n().to_bytes_be()), "e": b64(&k.e().to_bytes_be())})
            }
            TestKey::P256(k) => {
                let point = k.verifying_key().to_encoded_point(false);
                json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
                       "x": b64(point.x().expect("x")), "y": b64(point.y().expect("y"))})
            }
        }
    }

    fn signature(&self, input: &[u8]) -> Vec<u8> {
        match self {
            TestKey::Rsa(k) => {
                use rsa::signature::{SignatureEncoding, Signer};
                rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new((**k).clone()).sign(input).to_vec()
            }
            TestKey::P256(k) => {
                use p256::ecdsa::signature::Signer;
                let sig: p256::ecdsa::Signature = k.sign(input);
                sig.to_bytes().to_vec()
            }
        }
    }

    /// A compact JWS of `claims`, header `{"alg": <this key's>, "typ": "JWT", "kid": kid}`.
    pub fn sign(&self, kid: Option<&str>, claims: &Value) -> String {
        let mut header = json!({"alg": self.alg(), "typ": "JWT"});
        if let Some(kid) = kid {
            header["kid"] = json!(kid);
        }
        self.sign_with_header(&header, claims)
    }

    /// The same with any header (e.g. a lying `alg`): signed with this key regardless.
    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
        let sig = self.signature(input.as_bytes());
        format!("{input}.{}", b64(&sig))
    }
}

/// An unsigned token (`alg: none`, empty signature).
pub fn unsigned(claims: &Value) -> String {
    let header = json!({"alg": "none", "typ": "JWT"});
    format!("{}.{}.", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()))
}

/// HS256 keyed with `secret` (the classic forgery: the client's public key as an HMAC secret).
pub fn hs256(secret: &[u8], kid: Option<&str>, claims: &Value) -> String {
    use hmac::Mac;
    let mut header = json!({"alg": "HS256", "typ": "JWT"});
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(input.as_bytes());
    format!("{input}.{}", b64(&mac.finalize().into_bytes()))
}

/// The claims a client puts in an assertion for `audience`, valid from `now_secs` for a minute.
pub fn claims(client_id: &str, audience: &str, now_secs: u64, jti: &str) -> Value {
    json!({"iss": client_id, "sub": client_id, "aud": audience, "iat": now_secs, "exp": now_secs + 60, "jti": jti})
}
