//! Keys derived from `SIGNING_KEY` with HKDF-SHA256, one per purpose, so a value made for one
//! purpose (a cookie signature) can never be passed off as another (a token hash).
//!
//! - token hashes: `HMAC-SHA256(token_hash_key, token)`, hex: the only form in which tokens and
//!   codes the gateway issues are stored or looked up (security checklist I.47);
//! - signatures: `HMAC-SHA256(cookie_key, message)`, base64url, verified in constant time;
//! - token tags: the second half of a tagged token's secret is `HMAC-SHA256(tag_key, head ‖
//!   nonce)` cut to 128 bits, so a token's integrity is checked without storage
//!   ([`SigningKeys::tagged_token`], [`SigningKeys::token_intact`]).
//!
//! Rotation works like `VAULT_KEYS`: `SIGNING_KEY` may list several keys, newest first. Only the
//! newest hashes, signs and derives; the older ones still recognise what they made (token
//! hashes, cookie signatures), so nobody loses a grant, a client secret or a session when the
//! key changes, and the older key can be removed once what it made has expired (30 days).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::base::secret::KeyMaterial;

type HmacSha256 = Hmac<Sha256>;

const HKDF_SALT: &[u8] = b"attio-gateway/signing";

/// The purpose-bound keys of one `SIGNING_KEY` entry.
#[derive(Clone)]
struct Derived {
    token_hash: [u8; 32],
    cookie: [u8; 32],
    derivation: [u8; 32],
    token_tag: [u8; 32],
}

/// The purpose-bound keys: the newest entry's, and the older entries' (which only recognise).
#[derive(Clone)]
pub struct SigningKeys {
    newest: Derived,
    older: Vec<Derived>,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKeys([redacted])")
    }
}

fn expand(hk: &Hkdf<Sha256>, info: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    // 32 bytes is within HKDF-SHA256's limit, so expand cannot fail.
    let _ = hk.expand(info.as_bytes(), &mut out);
    out
}

fn mac(key: &[u8; 32]) -> HmacSha256 {
    // HMAC accepts keys of any length.
    <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

impl Derived {
    fn new(material: &KeyMaterial) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(HKDF_SALT), material.expose_secret());
        Self {
            token_hash: expand(&hk, "token-hash/v1"),
            cookie: expand(&hk, "cookie-signature/v1"),
            derivation: expand(&hk, "token-derivation/v1"),
            token_tag: expand(&hk, "token-tag/v1"),
        }
    }

    fn tag(&self, head: &str, nonce: &[u8]) -> HmacSha256 {
        let mut m = mac(&self.token_tag);
        m.update(head.as_bytes());
        m.update(nonce);
        m
    }

    fn derive_secret(&self, label: &str, input: &str) -> String {
        let mut m = mac(&self.derivation);
        m.update(label.as_bytes());
        m.update(b"|");
        m.update(input.as_bytes());
        URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())
    }

    fn token_hash(&self, token: &str) -> String {
        let mut m = mac(&self.token_hash);
        m.update(token.as_bytes());
        m.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    fn verify(&self, message: &str, signature: &[u8]) -> bool {
        let mut m = mac(&self.cookie);
        m.update(message.as_bytes());
        m.verify_slice(signature).is_ok()
    }
}

impl SigningKeys {
    /// One key.
    pub fn new(material: &KeyMaterial) -> Self {
        Self { newest: Derived::new(material), older: Vec::new() }
    }

    /// Keys newest first; the first one is used, the others only recognise.
    pub fn rotating(newest: &KeyMaterial, older: &[KeyMaterial]) -> Self {
        Self { newest: Derived::new(newest), older: older.iter().map(Derived::new).collect() }
    }

    /// The stored form of a token or code we issue: keyed, so a storage dump alone cannot
    /// confirm a guessed token. Always under the newest key.
    pub fn token_hash(&self, token: &str) -> String {
        self.newest.token_hash(token)
    }

    /// The token's hash under every key, newest first: for finding what an older key stored.
    pub fn token_hashes(&self, token: &str) -> Vec<String> {
        std::iter::once(&self.newest).chain(&self.older).map(|k| k.token_hash(token)).collect()
    }

    /// Whether `stored` is `token`'s hash under any of the keys (constant-time comparisons).
    pub fn hash_matches(&self, token: &str, stored: &str) -> bool {
        self.token_hashes(token).iter().any(|h| crate::base::secret::constant_time_eq(h.as_bytes(), stored.as_bytes()))
    }

    /// A secret derived from `input` for `label`: 256 bits, base64url. Unpredictable without
    /// both `input` and the server key; the same inputs always give the same secret.
    pub fn derive_secret(&self, label: &str, input: &str) -> String {
        self.newest.derive_secret(label, input)
    }

    /// Whether `presented` is [`Self::derive_secret`]`(label, input)` under any of the keys,
    /// compared in constant time: a derived secret outlives a rotation of `SIGNING_KEY`.
    pub fn derived_secret_matches(&self, label: &str, input: &str, presented: &str) -> bool {
        std::iter::once(&self.newest).chain(&self.older).any(|k| {
            crate::base::secret::constant_time_eq(k.derive_secret(label, input).as_bytes(), presented.as_bytes())
        })
    }

    /// 128 bits derived from `input` for `label` (as [`Self::derive_secret`]): a tagged token's
    /// nonce.
    pub fn derive_nonce(&self, label: &str, input: &str) -> [u8; 16] {
        let mut m = mac(&self.newest.derivation);
        m.update(b"nonce|");
        m.update(label.as_bytes());
        m.update(b"|");
        m.update(input.as_bytes());
        let mut nonce = [0u8; 16];
        nonce.copy_from_slice(&m.finalize().into_bytes()[..16]);
        nonce
    }

    /// `<prefix>.<id>.<secret>`, whose secret (43 base64url characters, 256 bits) is `nonce`
    /// followed by a 128-bit tag over the rest under the newest key.
    pub fn tagged_token(&self, prefix: &str, id: &str, nonce: &[u8; 16]) -> String {
        let head = format!("{prefix}.{id}.");
        let mut secret = [0u8; 32];
        secret[..16].copy_from_slice(nonce);
        secret[16..].copy_from_slice(&self.newest.tag(&head, nonce).finalize().into_bytes()[..16]);
        format!("{head}{}", URL_SAFE_NO_PAD.encode(secret))
    }

    /// Whether `token` (`<head>.<secret>`) carries our tag under any of the keys, compared in
    /// constant time: a forged or altered token fails here, before any storage is asked.
    pub fn token_intact(&self, token: &str) -> bool {
        let Some(dot) = token.rfind('.') else { return false };
        let (head, secret) = (&token[..=dot], &token[dot + 1..]);
        let Ok(secret) = URL_SAFE_NO_PAD.decode(secret) else { return false };
        if secret.len() != 32 {
            return false;
        }
        let (nonce, tag) = secret.split_at(16);
        std::iter::once(&self.newest).chain(&self.older).any(|k| k.tag(head, nonce).verify_truncated_left(tag).is_ok())
    }

    /// Whether `token` carries our tag under the newest key (not only an older one).
    pub fn token_intact_under_newest(&self, token: &str) -> bool {
        let Some(dot) = token.rfind('.') else { return false };
        let (head, secret) = (&token[..=dot], &token[dot + 1..]);
        let Ok(secret) = URL_SAFE_NO_PAD.decode(secret) else { return false };
        secret.len() == 32 && self.newest.tag(head, &secret[..16]).verify_truncated_left(&secret[16..]).is_ok()
    }

    /// A signature over `message` (for cookies).
    pub fn sign(&self, message: &str) -> String {
        let mut m = mac(&self.newest.cookie);
        m.update(message.as_bytes());
        URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())
    }

    /// Whether `signature` is ours for `message` under any of the keys, compared in constant time.
    pub fn verify(&self, message: &str, signature: &str) -> bool {
        let Ok(sig) = URL_SAFE_NO_PAD.decode(signature) else { return false };
        std::iter::once(&self.newest).chain(&self.older).any(|k| k.verify(message, &sig))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha256_matches_rfc4231_case_2() {
        // RFC 4231 §4.3: the primitive under token hashes and signatures.
        let mut m = <HmacSha256 as Mac>::new_from_slice(b"Jefe").unwrap();
        m.update(b"what do ya want for nothing?");
        let hex: String = m.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn purposes_are_separated() {
        let k = SigningKeys::new(&KeyMaterial::new([9; 32]));
        let hash = k.token_hash("tok");
        assert_eq!(hash.len(), 64);
        assert_eq!(hash, k.token_hash("tok"), "deterministic");
        assert_ne!(hash, k.token_hash("tok2"));
        assert!(!hash.contains("tok"));
        let sig = k.sign("tok");
        assert!(k.verify("tok", &sig));
        assert!(!k.verify("tok2", &sig));
        assert!(!k.verify("tok", "not-base64!"));
        let other = SigningKeys::new(&KeyMaterial::new([8; 32]));
        assert_ne!(other.token_hash("tok"), hash, "keyed");
        assert!(!other.verify("tok", &sig));
        // A tagged token checks out under its key, not under another, and not once altered.
        let token = k.tagged_token("agwa2", "gid", &k.derive_nonce("access", "x"));
        assert!(k.token_intact(&token));
        assert!(!other.token_intact(&token));
        let mut altered = token.clone().into_bytes();
        let last = altered.len() - 2;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        assert!(!k.token_intact(std::str::from_utf8(&altered).unwrap()));
        assert!(!k.token_intact(&token.replace(".gid.", ".gie.")));
        let d = k.derive_secret("refresh", "tok");
        assert_eq!(d, k.derive_secret("refresh", "tok"));
        assert_ne!(d, k.derive_secret("access", "tok"));
        assert_ne!(d, other.derive_secret("refresh", "tok"));
        assert_ne!(d, k.token_hash("tok"));
        assert_eq!(d.len(), 43);
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(format!("{:?}", SigningKeys::new(&KeyMaterial::new([1; 32]))), "SigningKeys([redacted])");
    }
}
