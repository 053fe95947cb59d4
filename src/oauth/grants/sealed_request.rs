//! An authorization request carried by the consent form instead of stored: `agwq2.<request>.<nonce ‖
//! tag>`, the checked request (RFC 6749 §4.1.1: what the client sent, nothing secret) and its
//! expiry in base64url JSON, under a 128-bit tag (the tokens' tag key, every listed
//! `SIGNING_KEY`). Showing the consent page therefore stores nothing, so opening it, which
//! anyone can, spends no storage. The form stays bound to the browser that opened the page (a
//! signed cookie names the request) and answers only within [`TTL_MS`].

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::crypto::keys::SigningKeys;
use crate::oauth::grants::approval::Approved;

/// How every sealed request begins.
pub const START: &str = "agwq2.";
const PREFIX: &str = "agwq2";
/// How long the consent form may be answered.
pub const TTL_MS: u64 = 600_000;

#[derive(Serialize, Deserialize)]
struct Inside {
    #[serde(rename = "a")]
    approved: Approved,
    #[serde(rename = "e")]
    expires_at_ms: u64,
}

/// Whether `value` has the sealed form (its tag not yet checked).
pub fn is_sealed(value: &str) -> bool {
    value.starts_with(START)
}

/// The form value for `approved`, answerable until `now_ms + TTL_MS`; unique by `nonce`.
pub fn seal(keys: &SigningKeys, approved: &Approved, now_ms: u64, nonce: &[u8; 16]) -> String {
    let inside = Inside { approved: approved.clone(), expires_at_ms: now_ms + TTL_MS };
    // Serializing plain strings and enums cannot fail.
    let json = serde_json::to_vec(&inside).unwrap_or_default();
    keys.tagged_token(PREFIX, &URL_SAFE_NO_PAD.encode(json), nonce)
}

/// The request a form value carries, if its tag checks out and it has not expired.
pub fn open(keys: &SigningKeys, value: &str, now_ms: u64) -> Option<Approved> {
    if !is_sealed(value) || !keys.token_intact(value) {
        return None;
    }
    let payload = value.strip_prefix(START)?.split('.').next()?;
    let inside: Inside = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    (now_ms < inside.expires_at_ms).then_some(inside.approved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::secret::KeyMaterial;
    use crate::oauth::metadata::Audience;

    fn approved() -> Approved {
        Approved {
            client_id: "mcp2.x.y".into(),
            redirect_uri: "https://claude.ai/api/mcp/auth_callback".into(),
            state: Some("s".into()),
            code_challenge: "c".repeat(43),
            audience: Audience::Mcp,
            scope: vec!["attio:read".into()],
        }
    }

    #[test]
    fn a_request_opens_until_it_expires_and_not_once_altered() {
        let k = SigningKeys::new(&KeyMaterial::new([1; 32]));
        let sealed = seal(&k, &approved(), 1_000, &[3; 16]);
        assert_eq!(open(&k, &sealed, 1_000 + TTL_MS - 1), Some(approved()));
        assert_eq!(open(&k, &sealed, 1_000 + TTL_MS), None, "expired");
        let payload = sealed.split('.').nth(1).unwrap();
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        let evil = URL_SAFE_NO_PAD.encode(text.replace("claude.ai", "evil.test"));
        assert_eq!(open(&k, &sealed.replace(payload, &evil), 1_000), None);
        assert_eq!(open(&SigningKeys::new(&KeyMaterial::new([2; 32])), &sealed, 1_000), None);
    }
}
