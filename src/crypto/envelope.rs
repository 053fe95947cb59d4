//! The vault envelope: how Attio tokens are encrypted at rest.
//!
//! ```text
//! v1.<kid>.<nonce: 24 bytes, base64url>.<ciphertext ‖ tag: base64url>
//! ```
//!
//! - **AEAD:** XChaCha20-Poly1305 (RustCrypto `chacha20poly1305`). Its 192-bit nonce can be
//!   drawn at random for every encryption with no practical collision risk, and it is several
//!   times faster than software AES-GCM in wasm (no AES instructions there).
//! - **Keys:** each configured `VAULT_KEYS` entry is expanded with HKDF-SHA256, with the key id
//!   in `info`, so a ciphertext relabelled with another key id cannot decrypt.
//! - **Associated data:** the caller binds every ciphertext to where it lives (record key,
//!   record version, field), so a ciphertext moved or swapped between records fails to open.
//! - **Rotation:** the first configured key seals; any configured key opens, and [`Opened`]
//!   says when the one used is not the newest, so the caller re-seals (lazy rotation).
//!
//! Every failure is one opaque [`VaultError`] kind per cause, never carrying key or plaintext.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use sha2::Sha256;

use crate::base::random::{Random, RandomError};
use crate::base::secret::KeyMaterial;

const VERSION: &str = "v1";
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const HKDF_SALT: &[u8] = b"attio-gateway/vault";

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    #[error("the envelope is malformed")]
    Malformed,
    #[error("the envelope names a key id that is not configured")]
    UnknownKey,
    #[error("the envelope does not decrypt (tampered, moved, or the wrong key)")]
    Decrypt,
    #[error("encryption failed")]
    Encrypt,
    #[error(transparent)]
    Random(#[from] RandomError),
}

/// The configured keys, expanded once (HKDF) and ready to seal and open.
#[derive(Clone)]
pub struct Vault {
    /// Newest first.
    keys: Vec<(String, XChaCha20Poly1305)>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Vault").field("key_ids", &kids).finish_non_exhaustive()
    }
}

/// A decrypted value, and whether it was sealed under an older key.
#[derive(PartialEq, Eq)]
pub struct Opened {
    pub plaintext: Vec<u8>,
    /// Sealed under a key other than the newest: re-seal it.
    pub stale_key: bool,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened").field("plaintext", &"[redacted]").field("stale_key", &self.stale_key).finish()
    }
}

fn derive(kid: &str, material: &[u8; 32]) -> XChaCha20Poly1305 {
    let hk = Hkdf::<Sha256>::new(Some(HKDF_SALT), material);
    let mut okm = [0u8; 32];
    let info = format!("xchacha20poly1305/{VERSION}/{kid}");
    // 32 bytes is far below HKDF-SHA256's 8160-byte limit, so expand cannot fail.
    let _ = hk.expand(info.as_bytes(), &mut okm);
    XChaCha20Poly1305::new(Key::from_slice(&okm))
}

impl Vault {
    pub fn new(keys: &VaultKeys) -> Self {
        let keys =
            keys.iter().map(|(kid, material)| (kid.to_string(), derive(kid, material.expose_secret()))).collect();
        Self { keys }
    }

    /// Encrypts `plaintext` under the newest key with a fresh random nonce, bound to `aad`.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8], random: &impl Random) -> Result<String, VaultError> {
        let (kid, cipher) = self.keys.first().ok_or(VaultError::Encrypt)?;
        let mut nonce = [0u8; NONCE_LEN];
        random.fill(&mut nonce)?;
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad })
            .map_err(|_| VaultError::Encrypt)?;
        Ok(format!("{VERSION}.{kid}.{}.{}", URL_SAFE_NO_PAD.encode(nonce), URL_SAFE_NO_PAD.encode(sealed)))
    }

    /// Decrypts an envelope sealed with the same `aad` under any configured key.
    pub fn open(&self, aad: &[u8], envelope: &str) -> Result<Opened, VaultError> {
        let mut parts = envelope.split('.');
        let (Some(VERSION), Some(kid), Some(nonce), Some(sealed), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(VaultError::Malformed);
        };
        let nonce = URL_SAFE_NO_PAD.decode(nonce).map_err(|_| VaultError::Malformed)?;
        let sealed = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| VaultError::Malformed)?;
        if nonce.len() != NONCE_LEN || sealed.len() < TAG_LEN {
            return Err(VaultError::Malformed);
        }
        let position = self.keys.iter().position(|(k, _)| k == kid).ok_or(VaultError::UnknownKey)?;
        let cipher = &self.keys[position].1;
        let plaintext = cipher
            .decrypt(XNonce::from_slice(&nonce), Payload { msg: &sealed, aad })
            .map_err(|_| VaultError::Decrypt)?;
        Ok(Opened { plaintext, stale_key: position != 0 })
    }

    /// The id of the key new envelopes are sealed with.
    pub fn active_key_id(&self) -> Option<&str> {
        self.keys.first().map(|(k, _)| k.as_str())
    }
}

/// The key id an envelope names, without decrypting it (for reporting rotation progress).
pub fn key_id(envelope: &str) -> Option<&str> {
    let mut parts = envelope.split('.');
    match (parts.next(), parts.next()) {
        (Some(VERSION), Some(kid)) => Some(kid),
        _ => None,
    }
}

/// Versioned encryption keys, newest first: the first encrypts, all decrypt.
#[derive(Debug, Clone)]
pub struct VaultKeys {
    keys: Vec<(String, KeyMaterial)>,
}

impl VaultKeys {
    /// Keys as (id, material), newest first. Parsing guarantees at least one.
    pub fn from_entries(keys: Vec<(String, KeyMaterial)>) -> Self {
        Self { keys }
    }

    /// The id of the key new ciphertexts are sealed with.
    pub fn active_id(&self) -> Option<&str> {
        self.keys.first().map(|(k, _)| k.as_str())
    }

    /// Every key, newest first.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &KeyMaterial)> {
        self.keys.iter().map(|(k, m)| (k.as_str(), m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::random::OsRandom;
    use crate::base::secret::KeyMaterial;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    fn vault(keys: &[(&str, u8)]) -> Vault {
        Vault::new(&VaultKeys::from_entries(
            keys.iter().map(|(kid, b)| (kid.to_string(), KeyMaterial::new([*b; 32]))).collect(),
        ))
    }

    #[test]
    fn xchacha20poly1305_matches_the_draft_vector() {
        // draft-irtf-cfrg-xchacha-03, Appendix A.3.1: the primitive under the envelope.
        let key = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
        let nonce = hex("404142434445464748494a4b4c4d4e4f5051525354555657");
        let aad = hex("50515253c0c1c2c3c4c5c6c7");
        let plaintext = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";
        let cipher = XChaCha20Poly1305::new(Key::from_slice(&key));
        let sealed = cipher.encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: &aad }).unwrap();
        let expected = "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb\
                        731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452\
                        2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9\
                        21f9664c97637da9768812f615c68b13b52e\
                        c0875924c1c7987947deafd8780acf49";
        assert_eq!(sealed, hex(expected));
    }

    #[test]
    fn round_trip() {
        let v = vault(&[("k1", 1)]);
        let env = v.seal(b"conn:w:m|1|access", b"attio-token", &OsRandom).unwrap();
        assert!(env.starts_with("v1.k1."));
        assert!(!env.contains("attio-token"));
        let opened = v.open(b"conn:w:m|1|access", &env).unwrap();
        assert_eq!(opened.plaintext, b"attio-token");
        assert!(!opened.stale_key);
    }

    #[test]
    fn same_plaintext_seals_differently() {
        let v = vault(&[("k1", 1)]);
        let a = v.seal(b"aad", b"token", &OsRandom).unwrap();
        let b = v.seal(b"aad", b"token", &OsRandom).unwrap();
        assert_ne!(a, b, "fresh random nonce each time");
    }

    #[test]
    fn any_flipped_byte_fails() {
        let v = vault(&[("k1", 1)]);
        let env = v.seal(b"aad", b"token", &OsRandom).unwrap();
        let (head, body) = env.rsplit_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(body).unwrap();
        for i in 0..bytes.len() {
            bytes[i] ^= 0x01;
            let tampered = format!("{head}.{}", URL_SAFE_NO_PAD.encode(&bytes));
            assert_eq!(v.open(b"aad", &tampered).unwrap_err(), VaultError::Decrypt, "byte {i}");
            bytes[i] ^= 0x01;
        }
        // The nonce is authenticated too.
        let parts: Vec<&str> = env.split('.').collect();
        let mut nonce = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        nonce[0] ^= 0x80;
        let tampered = format!("v1.k1.{}.{}", URL_SAFE_NO_PAD.encode(&nonce), parts[3]);
        assert_eq!(v.open(b"aad", &tampered).unwrap_err(), VaultError::Decrypt);
    }

    #[test]
    fn wrong_associated_data_fails() {
        let v = vault(&[("k1", 1)]);
        let env = v.seal(b"conn:w:m1|1|access", b"token", &OsRandom).unwrap();
        for other in [&b"conn:w:m2|1|access"[..], b"conn:w:m1|2|access", b"conn:w:m1|1|refresh", b""] {
            assert_eq!(v.open(other, &env).unwrap_err(), VaultError::Decrypt);
        }
    }

    #[test]
    fn wrong_or_unknown_key_id_fails() {
        let v = vault(&[("k2", 2), ("k1", 1)]);
        let env = v.seal(b"aad", b"token", &OsRandom).unwrap();
        // Relabelled with the other configured key id: HKDF binds the key to its id.
        let relabelled = env.replacen("v1.k2.", "v1.k1.", 1);
        assert_eq!(v.open(b"aad", &relabelled).unwrap_err(), VaultError::Decrypt);
        let unknown = env.replacen("v1.k2.", "v1.k9.", 1);
        assert_eq!(v.open(b"aad", &unknown).unwrap_err(), VaultError::UnknownKey);
        // The same id with different material does not decrypt either.
        let impostor = vault(&[("k2", 3)]);
        assert_eq!(impostor.open(b"aad", &env).unwrap_err(), VaultError::Decrypt);
    }

    #[test]
    fn truncated_or_malformed_envelopes_fail_cleanly() {
        let v = vault(&[("k1", 1)]);
        let env = v.seal(b"aad", b"token", &OsRandom).unwrap();
        for len in 0..env.len() {
            assert!(v.open(b"aad", &env[..len]).is_err(), "prefix of length {len} opened");
        }
        for bad in ["", "v1", "v2.k1.AA.AA", "v1.k1.!!.AA", "v1.k1.AA.AA.AA", "v1.k1.AAAA.AAAA"] {
            assert_eq!(v.open(b"aad", bad).unwrap_err(), VaultError::Malformed, "{bad}");
        }
    }

    #[test]
    fn rotation_opens_old_envelopes_and_flags_them() {
        let old = vault(&[("k1", 1)]);
        let env = old.seal(b"aad", b"token", &OsRandom).unwrap();
        let rotated = vault(&[("k2", 2), ("k1", 1)]);
        let opened = rotated.open(b"aad", &env).unwrap();
        assert_eq!(opened.plaintext, b"token");
        assert!(opened.stale_key, "sealed under an older key");
        let resealed = rotated.seal(b"aad", &opened.plaintext, &OsRandom).unwrap();
        assert_eq!(key_id(&resealed), Some("k2"));
        // Once re-sealed, the old key can be retired without losing the token.
        let retired = vault(&[("k2", 2)]);
        assert_eq!(retired.open(b"aad", &resealed).unwrap().plaintext, b"token");
        assert_eq!(retired.open(b"aad", &env).unwrap_err(), VaultError::UnknownKey);
    }

    #[test]
    fn debug_shows_no_key_material_or_plaintext() {
        let v = vault(&[("k1", 1)]);
        assert_eq!(format!("{v:?}"), r#"Vault { key_ids: ["k1"], .. }"#);
        let opened = v.open(b"a", &v.seal(b"a", b"secret-token", &OsRandom).unwrap()).unwrap();
        assert!(!format!("{opened:?}").contains("secret-token"));
    }
}
