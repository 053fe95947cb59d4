//! `OWNER_PASSWORD`: only a salted hash of the owner's password is ever configured, in the form
//! `pbkdf2-sha256$<iterations>$<salt, base64url>$<hash, base64url>` (PBKDF2, RFC 8018 §5.2,
//! with HMAC-SHA-256), which `scripts/hash-password` prints. A leaked secret therefore does not
//! give the password away, and checking one costs the configured iterations; guessing online is
//! bounded by the rate limits on the consent form.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// A configured password hash.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash {
    iterations: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PasswordHash(pbkdf2-sha256, {} iterations, [REDACTED])", self.iterations)
    }
}

/// PBKDF2-HMAC-SHA-256 with one output block (32 bytes), RFC 8018 §5.2.
fn pbkdf2_block(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mac = || Hmac::<Sha256>::new_from_slice(password).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    let mut m = mac();
    m.update(salt);
    m.update(&1u32.to_be_bytes());
    let mut u: [u8; 32] = m.finalize().into_bytes().into();
    let mut t = u;
    for _ in 1..iterations {
        let mut m = mac();
        m.update(&u);
        u = m.finalize().into_bytes().into();
        t.iter_mut().zip(u.iter()).for_each(|(a, b)| *a ^= b);
    }
    t
}

impl PasswordHash {
    /// Reads the configured form; refuses anything else (a plain password, in particular).
    pub fn parse(raw: &str) -> Result<PasswordHash, String> {
        let not_a_hash = || "is not a hash from ./scripts/hash-password (never set the password itself)".to_string();
        let mut parts = raw.split('$');
        if parts.next() != Some("pbkdf2-sha256") {
            return Err(not_a_hash());
        }
        let iterations: u32 = parts.next().and_then(|i| i.parse().ok()).ok_or_else(not_a_hash)?;
        let salt = parts.next().and_then(|s| URL_SAFE_NO_PAD.decode(s).ok()).ok_or_else(not_a_hash)?;
        let hash = parts.next().and_then(|h| URL_SAFE_NO_PAD.decode(h).ok()).ok_or_else(not_a_hash)?;
        if parts.next().is_some() || hash.len() != 32 || salt.len() < 16 || !(1_000..=1_000_000).contains(&iterations) {
            return Err(not_a_hash());
        }
        Ok(PasswordHash { iterations, salt, hash })
    }

    /// Whether `password` is the one hashed, compared in constant time.
    pub fn verify(&self, password: &str) -> bool {
        let got = pbkdf2_block(password.as_bytes(), &self.salt, self.iterations);
        got.ct_eq(self.hash.as_slice()).into()
    }

    /// The configured form for `password` with `salt` (for tests and the hashing script's check).
    pub fn encode(password: &str, salt: &[u8], iterations: u32) -> String {
        let hash = pbkdf2_block(password.as_bytes(), salt, iterations);
        format!("pbkdf2-sha256${iterations}${}${}", URL_SAFE_NO_PAD.encode(salt), URL_SAFE_NO_PAD.encode(hash))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7914_pbkdf2_sha256_vectors() {
        // RFC 7914 §11: P = "passwd", S = "salt", c = 1 (first 32 bytes of the 64-byte output).
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        assert_eq!(
            hex(&pbkdf2_block(b"passwd", b"salt", 1)),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        );
        // P = "Password", S = "NaCl", c = 80000.
        assert_eq!(
            hex(&pbkdf2_block(b"Password", b"NaCl", 80_000)),
            "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
        );
    }

    #[test]
    fn only_the_hashed_password_verifies() {
        let encoded = PasswordHash::encode("correct horse", &[7u8; 16], 2_000);
        let h = PasswordHash::parse(&encoded).unwrap();
        assert!(h.verify("correct horse"));
        assert!(!h.verify("correct horse "));
        assert!(PasswordHash::parse("correct horse").unwrap_err().contains("never set the password itself"));
        assert!(PasswordHash::parse("pbkdf2-sha256$10$AAAAAAAAAAAAAAAAAAAAAA$AA").is_err());
        assert!(!format!("{h:?}").contains(&encoded[20..]), "Debug redacts");
    }
}
