//! Finding a client and its keys: a registered client ([`crate::store::clients`]), or, for an `https`
//! client id, its Client ID Metadata Document (fetched under the SSRF policy of
//! [`public_url::check`], at most [`cimd::MAX_DOCUMENT`] bytes within [`FETCH_TIMEOUT_MS`],
//! validated, kept for an hour, a failure remembered for a minute); and a `private_key_jwt` client's public keys (RFC 7517),
//! inline or fetched from its `jwks_uri` under the same policy and kept briefly.
//!
//! What is fetched is kept in the isolate's memory ([`crate::base::memo`]), never in storage: anyone
//! can name a metadata document, so caching it in KV would let anonymous requests spend the
//! day's KV writes. A request that would fetch a document this isolate does not hold passes the
//! per-address `Lookups` limit first ([`needs_lookup`], checked by the routes). Key sets are
//! fetched at most once a minute per client and isolate, so a stream of assertions with random
//! `kid`s cannot turn the gateway into a fetch amplifier.

use http::StatusCode;

use crate::base::http::{with_limits, ReadLimits};
use crate::base::memo::{self, Memo};
use crate::config::Config;
use crate::oauth::clients::cimd;
use crate::oauth::clients::client::{KeySource, RegisteredClient};
use crate::oauth::clients::jwk;
use crate::oauth::clients::sealed_client;
use crate::oauth::public_url;
use crate::platform::{Platform, StoreError};
use crate::store::clients as store_clients;

/// Deadline for fetching a metadata document or key set, head and body together.
pub const FETCH_TIMEOUT_MS: u32 = 5_000;
/// How long a fetched key set is used before it is fetched again.
pub const KEYS_CACHE_SECS: u64 = 300;
/// How long a fetched key set may still be used when it cannot be fetched again.
pub const KEYS_STALE_SECS: u64 = 3600;
/// At most one key-set fetch per client in this many seconds.
pub const KEYS_REFETCH_SECS: u64 = 60;

/// How many documents, key sets and fetch slots one isolate keeps (oldest out first).
const MEMO_ENTRIES: usize = 256;

/// A key set as fetched, with when.
#[derive(Debug, Clone)]
struct FetchedKeys {
    keys: Vec<jwk::ClientKey>,
    fetched_at_ms: u64,
}

std::thread_local! {
    /// Metadata documents by URL: the validated client, or `None` for one that failed.
    static DOCUMENTS: std::cell::RefCell<Memo<Option<RegisteredClient>>> = const { std::cell::RefCell::new(Memo::new(MEMO_ENTRIES)) };
    /// Key sets by owner and URI.
    static KEY_SETS: std::cell::RefCell<Memo<FetchedKeys>> = const { std::cell::RefCell::new(Memo::new(MEMO_ENTRIES)) };
    /// Owners whose key set was fetched within the minute.
    static FETCH_SLOTS: std::cell::RefCell<Memo<()>> = const { std::cell::RefCell::new(Memo::new(MEMO_ENTRIES)) };
}

/// Forgets what this thread's isolate fetched (host tests: each fake platform starts afresh).
#[cfg(test)]
pub fn forget_fetched() {
    DOCUMENTS.with_borrow_mut(Memo::clear);
    KEY_SETS.with_borrow_mut(Memo::clear);
    FETCH_SLOTS.with_borrow_mut(Memo::clear);
}

/// Whether `client_id` has the form of a client registered by an earlier release (`mcp_…`).
pub fn earlier_registration(client_id: &str) -> bool {
    client_id.starts_with("mcp_")
}

/// Whether resolving `client_id` would make a storage request or a fetch: a metadata document
/// this isolate does not hold, a client registered by an earlier release (a KV record), or a
/// sealed id whose tag no listed key recognises (its kept copy is looked for). The caller counts
/// the per-address `Lookups` limit first. A sealed id with a good tag costs nothing.
pub fn needs_lookup(config: &Config, client_id: &str, now_ms: u64) -> bool {
    if client_id.is_empty() || client_id.len() > 2000 {
        return false;
    }
    if cimd::is_url(client_id) {
        return public_url::check(client_id, allow_loopback(config)).is_ok()
            && memo::get(&DOCUMENTS, client_id, now_ms).is_none();
    }
    !(sealed_client::is_sealed(client_id) && config.keys().token_intact(client_id))
}

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
    if sealed_client::is_sealed(client_id) {
        if let Some(client) = sealed_client::open(config.keys(), client_id) {
            return Ok(Some(client));
        }
        // Made under a key since retired, and kept when it was last used before that.
        return store_clients::load_sealed_copy(p, client_id).await;
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
    if let Some(known) = memo::get(&DOCUMENTS, client_id, now) {
        return Ok(known);
    }
    let failed = || {
        memo::put(&DOCUMENTS, client_id, now + FAILED_DOCUMENT_SECS * 1000, None, now);
        Ok(None)
    };
    let Some(body) = fetch_small(p, client_id, cimd::MAX_DOCUMENT, "cimd").await else {
        return failed();
    };
    match cimd::parse_document(client_id, &body, now, allow_loopback(config)) {
        Ok(client) => {
            memo::put(&DOCUMENTS, client_id, now + cimd::CACHE_SECS * 1000, Some(client.clone()), now);
            Ok(Some(client))
        }
        Err(why) => {
            p.log("cimd.invalid", why);
            failed()
        }
    }
}

/// How long a metadata document that could not be fetched or used is not fetched again by an
/// isolate: a burst naming one document costs its server one request, not one each.
pub const FAILED_DOCUMENT_SECS: u64 = 60;

/// Why a client's keys could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeysError {
    #[error("the client's key set could not be fetched or is not usable")]
    Unusable,
    #[error("the client's key set was fetched less than a minute ago")]
    Throttled,
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
    key_set(p, &client.client_id, uri, refresh).await
}

/// The key set published at `uri` (a client's `jwks_uri`, or Cloudflare Access's certs),
/// cached under `owner` for [`KEYS_CACHE_SECS`]. `refresh`: the cached set lacked the key asked
/// for, so fetch again if `owner`'s minute allows; when a fetch is not allowed or fails, a set
/// fetched within [`KEYS_STALE_SECS`] is used.
pub async fn key_set<P: Platform>(
    p: &P,
    owner: &str,
    uri: &str,
    refresh: bool,
) -> Result<Vec<jwk::ClientKey>, KeysError> {
    let now = p.now_ms();
    let memo_key = format!("{owner}\n{uri}");
    let cached = memo::get(&KEY_SETS, &memo_key, now);
    if let Some(c) = cached.as_ref().filter(|c| !refresh && now < c.fetched_at_ms + KEYS_CACHE_SECS * 1000) {
        return Ok(c.keys.clone());
    }
    let stale_or = |e: KeysError| cached.as_ref().map(|c| c.keys.clone()).ok_or(e);
    if memo::get(&FETCH_SLOTS, owner, now).is_some() {
        return stale_or(KeysError::Throttled);
    }
    memo::put(&FETCH_SLOTS, owner, now + KEYS_REFETCH_SECS * 1000, (), now);
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
    let fresh = FetchedKeys { keys, fetched_at_ms: now };
    memo::put(&KEY_SETS, &memo_key, now + KEYS_STALE_SECS * 1000, fresh.clone(), now);
    Ok(fresh.keys)
}
