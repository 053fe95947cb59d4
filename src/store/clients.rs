//! Client records in Workers KV: clients registered by earlier releases (`client:v1:`, kept
//! [`TTL_SECS`]), and copies of sealed clients whose id was made under a `SIGNING_KEY` that is
//! being retired (`client:v2:`, written once when such a client authenticates, so it outlives
//! the key). New registrations carry themselves in their id and store nothing
//! ([`crate::oauth::clients::sealed_client`]). Fetched metadata documents and key sets are kept in the
//! isolate's memory ([`crate::auth::clients`]).

use super::keys;
use crate::oauth::clients::client::RegisteredClient;
use crate::platform::{KvStore, StoreError};

/// How long a registered client that is in use is kept (RFC 7591 gives no lifetime): 90 days
/// from its first redeemed code.
pub const TTL_SECS: u64 = 90 * 24 * 3600;
/// How long after the first run of a release that stores no registration a client registered
/// before can still exist: a day unused, then 90 days from its first code. Past that such an
/// id is refused without a read.
pub const EARLIER_LIFETIME_MS: u64 = (UNUSED_TTL_SECS + TTL_SECS) * 1000;

/// How long a registration nobody has used yet is kept: a day is ample to finish connecting,
/// and registrations made and abandoned (or made by the thousand) go away on their own.
pub const UNUSED_TTL_SECS: u64 = 24 * 3600;

/// A registered client by id.
pub async fn load_registered(kv: &impl KvStore, client_id: &str) -> Result<Option<RegisteredClient>, StoreError> {
    Ok(kv.kv_get(&keys::client_record(client_id)).await?.and_then(|t| serde_json::from_str(&t).ok()))
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

/// The kept copy of a sealed client.
pub async fn load_sealed_copy(kv: &impl KvStore, client_id: &str) -> Result<Option<RegisteredClient>, StoreError> {
    Ok(kv.kv_get(&keys::sealed_client_copy(client_id)).await?.and_then(|t| serde_json::from_str(&t).ok()))
}

/// Keeps a copy of a sealed client (with its secret's hash, for a confidential one). No
/// lifetime: written only for clients that authenticated while a key was being retired.
pub async fn keep_sealed_copy(kv: &impl KvStore, client: &RegisteredClient) -> Result<(), StoreError> {
    let text = serde_json::to_string(client).map_err(|e| StoreError(format!("encoding: {e}")))?;
    kv.kv_put(&keys::sealed_client_copy(&client.client_id), &text, None).await
}
