//! One-time values, each in a `Transitions` object of its own, so "use once" holds under
//! concurrency: authorization requests waiting on the consent page, authorization codes (and
//! what a redeemed code issued), connect flows waiting for Attio, spent client-assertion ids,
//! and the per-client key-set fetch slot.

use serde::{Deserialize, Serialize};

use super::keys;
use crate::crypto::keys::SigningKeys;
use crate::oauth::approval::Approved;
use crate::oauth::grant::CodeGrant;
use crate::platform::{Platform, StoreError};
use crate::secret::{AuthorizationCode, UpstreamState};

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
    super::take(p, &keys::authz_request(keys, request_id), keys::AUTHZ_REQUEST).await
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
    super::get(p, &keys::code(keys, code), keys::CODE).await
}

/// The code's grant, removed: whoever gets it is the one redemption.
pub async fn take_code<P: Platform>(
    p: &P,
    keys: &SigningKeys,
    code: &AuthorizationCode,
) -> Result<Option<CodeGrant>, StoreError> {
    super::take(p, &keys::code(keys, code), keys::CODE).await
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
    super::get(p, &keys::code(keys, code), keys::REDEEMED).await
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

/// The connect flow, removed: a callback succeeds once.
pub async fn take_pending<P: Platform>(p: &P, object: &str) -> Result<Option<Pending>, StoreError> {
    super::take(p, object, keys::PENDING).await
}

/// Spends a client assertion's `jti` until `expires_at_ms`; `false` if it was spent already.
pub async fn spend_jti<P: Platform>(
    p: &P,
    keys: &SigningKeys,
    client_id: &str,
    jti: &str,
    expires_at_ms: u64,
) -> Result<bool, StoreError> {
    super::insert(p, &keys::jti(keys, client_id, jti), keys::JTI, &(), expires_at_ms).await
}

/// Takes this minute's key-set fetch for a client; `false` if it was taken already.
pub async fn take_fetch_slot<P: Platform>(
    p: &P,
    keys: &SigningKeys,
    client_id: &str,
    expires_at_ms: u64,
) -> Result<bool, StoreError> {
    super::insert(p, &keys::jwks_fetch(keys, client_id), keys::FETCH, &(), expires_at_ms).await
}
