//! Finding a client and its keys: a registered client ([`crate::store::clients`]), or, for an `https`
//! client id, its Client ID Metadata Document (fetched under the SSRF policy of
//! [`public_url::check`], at most [`cimd::MAX_DOCUMENT`] bytes within [`FETCH_TIMEOUT_MS`],
//! validated, cached for an hour, a failure remembered for a minute); and a `private_key_jwt` client's public keys (RFC 7517),
//! inline or fetched from its `jwks_uri` under the same policy and cached briefly.
//!
//! Key sets are fetched at most once a minute per client, enforced in a `Transitions` object
//! (strongly consistent), so a stream of assertions with random `kid`s cannot turn the gateway
//! into a fetch amplifier: an unknown `kid` refetches the set only if the minute allows.

use http::StatusCode;

use crate::config::Config;
use crate::http::{with_limits, ReadLimits};
use crate::oauth::client::{KeySource, RegisteredClient};
use crate::oauth::{cimd, jwk, public_url};
use crate::platform::{Platform, StoreError};
use crate::store::clients::{self as store_clients, CachedKeys};
use crate::store::one_time;

/// Deadline for fetching a metadata document or key set, head and body together.
pub const FETCH_TIMEOUT_MS: u32 = 5_000;
/// How long a fetched key set is used before it is fetched again.
pub const KEYS_CACHE_SECS: u64 = 300;
/// How long a fetched key set may still be used when it cannot be fetched again.
pub const KEYS_STALE_SECS: u64 = 3600;
/// At most one key-set fetch per client in this many seconds.
pub const KEYS_REFETCH_SECS: u64 = 60;

/// The test-only exception that lets metadata documents and key sets live on loopback.
pub fn allow_loopback(config: &Config) -> bool {
    config.test_mode.as_ref().is_some_and(|t| t.cimd_allow_loopback)
}

/// A client by id, or `None` when there is no such client (or its document is unusable).
pub async fn load<P: Platform>(
    p: &P,
    config: &Config,
    client_id: &str,
) -> Result<Option<RegisteredClient>, StoreError> {
    if client_id.is_empty() || client_id.len() > 2000 {
        return Ok(None);
    }
    if cimd::is_url(client_id) {
        return metadata_document_client(p, config, client_id).await;
    }
    store_clients::load_registered(p, client_id).await
}

/// GETs a small JSON document (a metadata document or key set) with the fetch limits; the
/// body of a 200, or `None` (logged under `what`).
async fn fetch_small<P: Platform>(p: &P, url: &str, max_bytes: usize, what: &str) -> Option<Vec<u8>> {
    let request = http::Request::get(url).header(http::header::ACCEPT, "application/json").body(Vec::new()).ok()?;
    let limits = ReadLimits { max_bytes, timeout_ms: Some(FETCH_TIMEOUT_MS), trusted_upstream: false };
    match p.send(with_limits(request, limits)).await {
        Ok(r) if r.status() == StatusCode::OK => Some(r.into_body()),
        Ok(r) => {
            p.log(&format!("{what}.fetch_status"), &r.status().as_u16().to_string());
            None
        }
        Err(e) => {
            p.log(&format!("{what}.fetch_failed"), &e.to_string());
            None
        }
    }
}

async fn metadata_document_client<P: Platform>(
    p: &P,
    config: &Config,
    client_id: &str,
) -> Result<Option<RegisteredClient>, StoreError> {
    if let Err(why) = public_url::check(client_id, allow_loopback(config)) {
        p.log("cimd.refused", why);
        return Ok(None);
    }
    let now = p.now_ms();
    let keys = config.keys();
    if let Some(client) = store_clients::cached_document(p, keys, client_id, now).await? {
        return Ok(Some(client));
    }
    if store_clients::document_failed_recently(p, keys, client_id, now).await {
        return Ok(None);
    }
    let Some(body) = fetch_small(p, client_id, cimd::MAX_DOCUMENT, "cimd").await else {
        store_clients::remember_failed_document(p, keys, client_id, now).await;
        return Ok(None);
    };
    let client = match cimd::parse_document(client_id, &body, now, allow_loopback(config)) {
        Ok(c) => c,
        Err(why) => {
            p.log("cimd.invalid", why);
            store_clients::remember_failed_document(p, keys, client_id, now).await;
            return Ok(None);
        }
    };
    store_clients::cache_document(p, config.keys(), &client, now, cimd::CACHE_SECS).await;
    Ok(Some(client))
}

/// Why a client's keys could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeysError {
    #[error("the client's key set could not be fetched or is not usable")]
    Unusable,
    #[error("the client's key set was fetched less than a minute ago")]
    Throttled,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A client's public keys. `refresh`: the cached set lacked the key asked for, so fetch it again
/// if the per-client minute allows. When a fetch is not allowed or fails, a set fetched within
/// [`KEYS_STALE_SECS`] is used rather than refusing a client whose keys still verify.
pub async fn keys<P: Platform>(
    p: &P,
    config: &Config,
    client: &RegisteredClient,
    refresh: bool,
) -> Result<Vec<jwk::ClientKey>, KeysError> {
    let Some(source) = client.assertion_keys.as_ref().map(|k| &k.source) else {
        return Err(KeysError::Unusable);
    };
    let uri = match source {
        KeySource::Jwks(keys) => return Ok(keys.clone()),
        KeySource::JwksUri(uri) => uri,
    };
    // The URI passed the SSRF policy when the client was accepted; checked again, as the
    // cached record could predate a policy change.
    public_url::check(uri, allow_loopback(config)).map_err(|_| KeysError::Unusable)?;
    key_set(p, config, &client.client_id, uri, refresh).await
}

/// The key set published at `uri` (a client's `jwks_uri`, or Cloudflare Access's certs),
/// cached under `owner` for [`KEYS_CACHE_SECS`]. `refresh`: the cached set lacked the key asked
/// for, so fetch again if `owner`'s minute allows; when a fetch is not allowed or fails, a set
/// fetched within [`KEYS_STALE_SECS`] is used.
pub async fn key_set<P: Platform>(
    p: &P,
    config: &Config,
    owner: &str,
    uri: &str,
    refresh: bool,
) -> Result<Vec<jwk::ClientKey>, KeysError> {
    let now = p.now_ms();
    let cached = store_clients::cached_keys(p, config.keys(), owner, uri)
        .await?
        .filter(|c| now < c.fetched_at_ms + KEYS_STALE_SECS * 1000);
    if let Some(c) = cached.as_ref().filter(|c| !refresh && now < c.fetched_at_ms + KEYS_CACHE_SECS * 1000) {
        return Ok(c.keys.clone());
    }
    let stale_or = |e: KeysError| cached.as_ref().map(|c| c.keys.clone()).ok_or(e);
    if !one_time::take_fetch_slot(p, config.keys(), owner, now + KEYS_REFETCH_SECS * 1000).await? {
        return stale_or(KeysError::Throttled);
    }
    let Some(body) = fetch_small(p, uri, jwk::MAX_SET_BYTES, "jwks").await else {
        return stale_or(KeysError::Unusable);
    };
    let keys = match jwk::parse_set_bytes(&body) {
        Ok(keys) => keys,
        Err(why) => {
            p.log("jwks.invalid", why);
            return stale_or(KeysError::Unusable);
        }
    };
    let fresh = CachedKeys { keys, fetched_at_ms: now };
    store_clients::cache_keys(p, config.keys(), owner, uri, &fresh, KEYS_STALE_SECS).await;
    Ok(fresh.keys)
}
