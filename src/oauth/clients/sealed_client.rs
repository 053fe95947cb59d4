//! Client ids that carry their own registration (RFC 7591 §2 and §3.2.1 leave the form of a
//! `client_id` to the server): `mcp2.<registration>.<nonce ‖ tag>`, where the registration is
//! compact JSON in base64url and the tag (128 bits, `SIGNING_KEY`'s token-tag key, checked under
//! every listed key) covers everything before it. Registering therefore stores nothing, so
//! anyone's registrations cost the deployment no write: the id is checked and read locally
//! wherever it is presented. A confidential client's secret is derived from its id
//! ([`secret`]), so it is not stored either.
//!
//! Ids are at most [`MAX_ID`] bytes (a registration that would not fit is refused with a hint);
//! clients registered by earlier releases (`mcp_…`, a `client:v1:` record in KV) keep working.
//! The registration is readable by whoever holds the id (a name and redirect URIs, which the
//! consent page shows anyway); it holds no secret.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::crypto::keys::SigningKeys;
use crate::oauth::clients::client::{AssertionKeys, AuthMethod, RegisteredClient};

/// How every sealed client id begins.
pub const START: &str = "mcp2.";
const PREFIX: &str = "mcp2";
/// The longest sealed id: well within what clients and KV keys take.
pub const MAX_ID: usize = 512;
/// What a confidential sealed client's secret is derived for.
const SECRET_LABEL: &str = "client-secret/v2";

/// The registration inside an id, with short names (every byte counts against [`MAX_ID`]).
#[derive(Debug, Serialize, Deserialize)]
struct Inside {
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(rename = "r")]
    redirect_uris: Vec<String>,
    /// Whether `refresh_token` is among the grant types (`authorization_code` always is).
    #[serde(rename = "f", default, skip_serializing_if = "std::ops::Not::not")]
    refresh: bool,
    #[serde(rename = "a")]
    auth_method: AuthMethod,
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    assertion_keys: Option<AssertionKeys>,
    /// Seconds since the epoch.
    #[serde(rename = "t")]
    created_at_s: u64,
}

/// Whether `client_id` has the sealed form (its tag not yet checked).
pub fn is_sealed(client_id: &str) -> bool {
    client_id.starts_with(START)
}

/// The id for `client` (its `client_id` is ignored), unique by `nonce`; `None` when it would be
/// longer than [`MAX_ID`].
pub fn seal(keys: &SigningKeys, client: &RegisteredClient, nonce: &[u8; 16]) -> Option<String> {
    let inside = Inside {
        name: client.client_name.clone(),
        redirect_uris: client.redirect_uris.clone(),
        refresh: client.allows_refresh(),
        auth_method: client.auth_method,
        assertion_keys: client.assertion_keys.clone(),
        created_at_s: client.created_at_ms / 1000,
    };
    let json = serde_json::to_vec(&inside).ok()?;
    let id = keys.tagged_token(PREFIX, &URL_SAFE_NO_PAD.encode(json), nonce);
    (id.len() <= MAX_ID).then_some(id)
}

/// The client a sealed id describes, if its tag checks out under one of the keys.
pub fn open(keys: &SigningKeys, client_id: &str) -> Option<RegisteredClient> {
    if !is_sealed(client_id) || client_id.len() > MAX_ID || !keys.token_intact(client_id) {
        return None;
    }
    let payload = client_id.strip_prefix(START)?.split('.').next()?;
    let inside: Inside = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    let mut grant_types = vec!["authorization_code".to_string()];
    if inside.refresh {
        grant_types.push("refresh_token".into());
    }
    Some(RegisteredClient {
        client_id: client_id.to_string(),
        client_name: inside.name,
        redirect_uris: inside.redirect_uris,
        grant_types,
        auth_method: inside.auth_method,
        // The secret is derived from the id, not stored: see [`secret_matches`].
        secret_hash: None,
        created_at_ms: inside.created_at_s * 1000,
        other_auth_methods: Vec::new(),
        assertion_keys: inside.assertion_keys,
        in_use: true,
    })
}

/// The secret of the confidential client `client_id` (given once, at registration).
pub fn secret(keys: &SigningKeys, client_id: &str) -> String {
    format!("agws2.{}", keys.derive_secret(SECRET_LABEL, client_id))
}

/// Whether `presented` is the secret of `client_id` under any signing key (constant time).
pub fn secret_matches(keys: &SigningKeys, client_id: &str, presented: &str) -> bool {
    presented.strip_prefix("agws2.").is_some_and(|s| keys.derived_secret_matches(SECRET_LABEL, client_id, s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::secret::KeyMaterial;

    fn keys(byte: u8) -> SigningKeys {
        SigningKeys::new(&KeyMaterial::new([byte; 32]))
    }

    fn client(uris: Vec<String>, method: AuthMethod) -> RegisteredClient {
        RegisteredClient {
            client_id: String::new(),
            client_name: Some("Claude".into()),
            redirect_uris: uris,
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            auth_method: method,
            secret_hash: None,
            created_at_ms: 1_700_000_000_000,
            other_auth_methods: Vec::new(),
            assertion_keys: None,
            in_use: false,
        }
    }

    #[test]
    fn an_id_carries_its_registration_and_survives_a_key_rotation() {
        let claude = client(vec!["https://claude.ai/api/mcp/auth_callback".into()], AuthMethod::None);
        let id = seal(&keys(1), &claude, &[7; 16]).unwrap();
        assert!(id.starts_with(START) && id.len() < 200, "{id}");
        let opened = open(&keys(1), &id).unwrap();
        assert_eq!(opened, RegisteredClient { client_id: id.clone(), in_use: true, ..claude.clone() });
        // Another nonce, another id; the same registration.
        assert_ne!(seal(&keys(1), &claude, &[8; 16]).unwrap(), id);
        // After a rotation the older key still recognises it; a stranger's key does not.
        let rotated = SigningKeys::rotating(&KeyMaterial::new([2; 32]), &[KeyMaterial::new([1; 32])]);
        assert_eq!(open(&rotated, &id).map(|c| c.client_id), Some(id.clone()));
        assert_eq!(open(&keys(3), &id), None);
    }

    #[test]
    fn an_altered_or_oversized_id_is_refused() {
        let k = keys(1);
        let id = seal(&k, &client(vec!["https://a.test/cb".into()], AuthMethod::None), &[7; 16]).unwrap();
        let payload = id.split('.').nth(1).unwrap();
        let evil = URL_SAFE_NO_PAD
            .encode(String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap().replace("a.test", "e.vil"));
        assert_eq!(open(&k, &id.replace(payload, &evil)), None);
        assert_eq!(open(&k, &format!("{id}x")), None);
        assert_eq!(open(&k, "mcp2.e30.AAAA"), None);
        let many: Vec<String> = (0..10).map(|i| format!("https://app.example/callback/{i}/with/a/long/path")).collect();
        assert_eq!(seal(&k, &client(many, AuthMethod::None), &[7; 16]), None);
    }

    #[test]
    fn a_confidential_clients_secret_is_derived_from_its_id() {
        let k = keys(1);
        let id = seal(&k, &client(vec!["https://a.test/cb".into()], AuthMethod::ClientSecretBasic), &[7; 16]).unwrap();
        let s = secret(&k, &id);
        assert!(secret_matches(&k, &id, &s));
        assert!(!secret_matches(&k, &id, &secret(&k, "mcp2.other")));
        assert!(!secret_matches(&k, &id, s.trim_start_matches("agws2.")));
        let rotated = SigningKeys::rotating(&KeyMaterial::new([2; 32]), &[KeyMaterial::new([1; 32])]);
        assert!(secret_matches(&rotated, &id, &s));
    }
}
