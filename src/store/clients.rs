//! Client records in Workers KV: dynamically registered clients (kept [`TTL_SECS`]), and the
//! short-lived caches of fetched client metadata documents and key sets. Fetching and validating
//! those is [`crate::clients`]'s business; this module only keeps what it decided.

use serde::{Deserialize, Serialize};

use super::keys;
use crate::crypto::keys::SigningKeys;
use crate::oauth::client::RegisteredClient;
use crate::oauth::jwk::ClientKey;
use crate::platform::{KvStore, StoreError};

/// How long a registered client that is in use is kept (RFC 7591 gives no lifetime): 90 days
/// from its first redeemed code.
pub const TTL_SECS: u64 = 90 * 24 * 3600;
/// How long a registration nobody has used yet is kept: a day is ample to finish connecting,
/// and registrations made and abandoned (or made by the thousand) go away on their own.
pub const UNUSED_TTL_SECS: u64 = 24 * 3600;

/// A registered client by id.
pub async fn load_registered(kv: &impl KvStore, client_id: &str) -> Result<Option<RegisteredClient>, StoreError> {
    Ok(kv.kv_get(&keys::client_record(client_id)).await?.and_then(|t| serde_json::from_str(&t).ok()))
}

/// Keeps a newly registered client, for [`UNUSED_TTL_SECS`] until it is used.
pub async fn register(kv: &impl KvStore, client: &RegisteredClient) -> Result<(), StoreError> {
    let text = serde_json::to_string(client).map_err(|e| StoreError(format!("encoding: {e}")))?;
    kv.kv_put(&keys::client_record(&client.client_id), &text, Some(UNUSED_TTL_SECS)).await
}

/// Rewrites a registered client's record (a new secret hash), keeping its lifetime class.
pub async fn replace(kv: &impl KvStore, client: &RegisteredClient) -> Result<(), StoreError> {
    let text = serde_json::to_string(client).map_err(|e| StoreError(format!("encoding: {e}")))?;
    let ttl = if client.in_use { TTL_SECS } else { UNUSED_TTL_SECS };
    kv.kv_put(&keys::client_record(&client.client_id), &text, Some(ttl)).await
}

/// Marks a registered client as in use (it redeemed a code) and keeps it for [`TTL_SECS`]. One
/// write per client: callers skip clients already in use.
pub async fn mark_in_use(kv: &impl KvStore, client: &RegisteredClient) -> Result<(), StoreError> {
    let mut used = client.clone();
    used.in_use = true;
    let text = serde_json::to_string(&used).map_err(|e| StoreError(format!("encoding: {e}")))?;
    kv.kv_put(&keys::client_record(&client.client_id), &text, Some(TTL_SECS)).await
}

#[derive(Serialize, Deserialize)]
struct CachedDocument {
    client: RegisteredClient,
    expires_at_ms: u64,
}

/// The client a metadata document described, while its cache entry is fresh.
pub async fn cached_document(
    kv: &impl KvStore,
    keys: &SigningKeys,
    url: &str,
    now_ms: u64,
) -> Result<Option<RegisteredClient>, StoreError> {
    let cached = kv.kv_get(&keys::metadata_document(keys, url)).await?;
    Ok(cached
        .and_then(|t| serde_json::from_str::<CachedDocument>(&t).ok())
        .filter(|c| c.expires_at_ms > now_ms)
        .map(|c| c.client))
}

/// Caches the client a metadata document described, for `ttl_secs`. Best effort: a failed
/// write only means the next request fetches the document again.
pub async fn cache_document(
    kv: &impl KvStore,
    keys: &SigningKeys,
    client: &RegisteredClient,
    now_ms: u64,
    ttl_secs: u64,
) {
    let cached = CachedDocument { client: client.clone(), expires_at_ms: now_ms + ttl_secs * 1000 };
    if let Ok(text) = serde_json::to_string(&cached) {
        let _ = kv.kv_put(&keys::metadata_document(keys, &client.client_id), &text, Some(ttl_secs)).await;
    }
}

/// How long a metadata document that could not be fetched or used is not fetched again (KV's
/// shortest lifetime): a burst naming one document costs its server one request, not one each.
pub const FAILED_DOCUMENT_SECS: u64 = 60;

/// Whether fetching the document at `url` failed within [`FAILED_DOCUMENT_SECS`].
pub async fn document_failed_recently(kv: &impl KvStore, keys: &SigningKeys, url: &str, now_ms: u64) -> bool {
    let until = kv.kv_get(&keys::failed_metadata_document(keys, url)).await.ok().flatten();
    until.and_then(|t| t.parse::<u64>().ok()).is_some_and(|until| until > now_ms)
}

/// Remembers that the document at `url` could not be used. Best effort.
pub async fn remember_failed_document(kv: &impl KvStore, keys: &SigningKeys, url: &str, now_ms: u64) {
    let until = (now_ms + FAILED_DOCUMENT_SECS * 1000).to_string();
    let _ = kv.kv_put(&keys::failed_metadata_document(keys, url), &until, Some(FAILED_DOCUMENT_SECS)).await;
}

/// A key set fetched from a client's `jwks_uri`, with when it was fetched.
#[derive(Debug, Serialize, Deserialize)]
pub struct CachedKeys {
    pub keys: Vec<ClientKey>,
    pub fetched_at_ms: u64,
}

/// The key set last fetched from `uri` for the client, however old.
pub async fn cached_keys(
    kv: &impl KvStore,
    keys: &SigningKeys,
    client_id: &str,
    uri: &str,
) -> Result<Option<CachedKeys>, StoreError> {
    Ok(kv.kv_get(&keys::key_set(keys, client_id, uri)).await?.and_then(|t| serde_json::from_str(&t).ok()))
}

/// Caches a fetched key set for `ttl_secs`. Best effort, like [`cache_document`].
pub async fn cache_keys(
    kv: &impl KvStore,
    keys: &SigningKeys,
    client_id: &str,
    uri: &str,
    set: &CachedKeys,
    ttl_secs: u64,
) {
    if let Ok(text) = serde_json::to_string(set) {
        let _ = kv.kv_put(&keys::key_set(keys, client_id, uri), &text, Some(ttl_secs)).await;
    }
}
