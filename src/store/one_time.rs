//! One-time values, each in a `Transitions` object of its own, so "use once" holds under
//! concurrency: authorization requests waiting on the consent page, authorization codes (and
//! what a redeemed code issued), connect flows waiting for Attio, spent client-assertion ids,
//! and the per-client key-set fetch slot.

use serde::{Deserialize, Serialize};

use super::keys;
use crate::base::secret::{AuthorizationCode, UpstreamState};
use crate::crypto::keys::SigningKeys;
use crate::oauth::grants::approval::Approved;
use crate::oauth::grants::grant::CodeGrant;
use crate::platform::{Platform, StoreError};

/// Keeps an authorization request for the consent decision; `false` if the id is taken.
pub async fn put_request<P: Platform>(
    p: &P,
    keys: &SigningKeys,
    request_id: &str,
    request: &Approved,
    expires_at_ms: u64,
) -> Result<bool, StoreError> {
    super::insert(p, &keys::authz_request(keys, request_id), keys::AUTHZ_REQUEST, request, expires_at_ms).await
}

/// The authorization request, removed: the consent form can be answered once.
pub async fn take_request<P: Platform>(
    p: &P,
    keys: &SigningKeys,
    request_id: &str,
) -> Result<Option<Approved>, StoreError> {
    for object in keys::authz_request_names(keys, request_id) {
        if let Some(request) = super::take(p, &object, keys::AUTHZ_REQUEST).await? {
            return Ok(Some(request));
        }
    }
    Ok(None)
}

/// The first of `objects` that holds `key`, and what it holds (one-time values stored before a
/// rotation of `SIGNING_KEY` live under the older key's name).
async fn first_found<T: serde::de::DeserializeOwned, P: Platform>(
    p: &P,
    objects: Vec<String>,
    key: &str,
    take: bool,
) -> Result<Option<(String, T)>, StoreError> {
    for object in objects {
        let found = if take { super::take(p, &object, key).await? } else { super::get(p, &object, key).await? };
        if let Some(value) = found {
            return Ok(Some((object, value)));
        }
    }
    Ok(None)
}

/// Stores a new authorization code's grant; `false` if the code is taken.
pub async fn put_code<P: Platform>(
    p: &P,
    keys: &SigningKeys,
    code: &AuthorizationCode,
    record: &CodeGrant,
    expires_at_ms: u64,
) -> Result<bool, StoreError> {
    super::insert(p, &keys::code(keys, code), keys::CODE, record, expires_at_ms).await
}

/// The code's grant, left in place (checks that must not spend the code come first).
pub async fn peek_code<P: Platform>(
    p: &P,
    keys: &SigningKeys,
    code: &AuthorizationCode,
) -> Result<Option<CodeGrant>, StoreError> {
    Ok(first_found(p, keys::code_names(keys, code), keys::CODE, false).await?.map(|(_, v)| v))
}

/// The code's grant, removed: whoever gets it is the one redemption.
pub async fn take_code<P: Platform>(
    p: &P,
    keys: &SigningKeys,
    code: &AuthorizationCode,
) -> Result<Option<CodeGrant>, StoreError> {
    Ok(first_found(p, keys::code_names(keys, code), keys::CODE, true).await?.map(|(_, v)| v))
}

/// What a redeemed code issued, and to whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redeemed {
    pub grant_id: String,
    pub client_id: String,
    /// The code's PKCE challenge: a replay revokes the grant only when it proves possession of
    /// the verifier. Absent in records written before it was kept (then nothing is revoked).
    #[serde(default)]
    pub code_challenge: String,
}

/// Remembers what a code issued until `expires_at_ms`, for replay detection.
pub async fn mark_redeemed<P: Platform>(
    p: &P,
    keys: &SigningKeys,
    code: &AuthorizationCode,
    redeemed: &Redeemed,
    expires_at_ms: u64,
) -> Result<(), StoreError> {
    super::put(p, &keys::code(keys, code), keys::REDEEMED, redeemed, expires_at_ms).await
}

/// What the code issued, if it was redeemed recently.
pub async fn redeemed<P: Platform>(
    p: &P,
    keys: &SigningKeys,
    code: &AuthorizationCode,
) -> Result<Option<Redeemed>, StoreError> {
    Ok(first_found(p, keys::code_names(keys, code), keys::REDEEMED, false).await?.map(|(_, v)| v))
}

/// A connect flow waiting for Attio's callback.
#[derive(Debug, Serialize, Deserialize)]
pub struct Pending {
    pub redirect_uri: String,
    /// The PKCE verifier, sealed (it is a secret, however short-lived).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkce_verifier: Option<String>,
    /// An MCP client's authorization the person approved, to finish once Attio says who they
    /// are. Kept here, server-side, never in a URL or cookie.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuation: Option<Approved>,
}

/// The object a connect flow's `state` names (also the associated data of its sealed verifier).
pub fn pending_object(keys: &SigningKeys, state: &UpstreamState) -> String {
    keys::connect_state(keys, state)
}

/// Keeps a connect flow for its callback; `false` if the state is taken.
pub async fn put_pending<P: Platform>(
    p: &P,
    object: &str,
    pending: &Pending,
    expires_at_ms: u64,
) -> Result<bool, StoreError> {
    super::insert(p, object, keys::PENDING, pending, expires_at_ms).await
}

/// The connect flow for `state`, removed (a callback succeeds once), with the object it was in
/// (the associated data of its sealed verifier).
pub async fn take_pending<P: Platform>(
    p: &P,
    keys: &SigningKeys,
    state: &UpstreamState,
) -> Result<Option<(String, Pending)>, StoreError> {
    first_found(p, keys::connect_state_names(keys, state), keys::PENDING, true).await
}

/// Spends a sign-in's `state` once Attio exchanged its code, until `expires_at_ms`; `false` if
/// it was spent already (the callback came twice).
pub async fn spend_state<P: Platform>(
    p: &P,
    keys: &SigningKeys,
    state: &UpstreamState,
    expires_at_ms: u64,
) -> Result<bool, StoreError> {
    super::insert(p, &keys::connect_state(keys, state), keys::SPENT, &(), expires_at_ms).await
}

/// Spends a client assertion's `jti` until `expires_at_ms`; `false` if it was spent already.
pub async fn spend_jti<P: Platform>(
    p: &P,
    keys: &SigningKeys,
    client_id: &str,
    jti: &str,
    expires_at_ms: u64,
) -> Result<bool, StoreError> {
    let mut names = keys::jti_names(keys, client_id, jti).into_iter();
    let Some(newest) = names.next() else { return Ok(false) };
    // Spent under an older signing key before a rotation: still spent.
    for older in names {
        if super::get::<(), P>(p, &older, keys::JTI).await?.is_some() {
            return Ok(false);
        }
    }
    super::insert(p, &newest, keys::JTI, &(), expires_at_ms).await
}
