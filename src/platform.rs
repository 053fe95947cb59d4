//! The effects the core may use, as small traits, and [`Platform`]: everything at once.
//!
//! The edge implements them over workers-rs (Env, Fetch, KV, Durable Objects, `Date.now`,
//! `crypto.getRandomValues`); tests implement them with in-memory fakes (`src/testing/mod.rs`).

use std::future::Future;

use crate::auth::rate_limit::Limit;
use crate::base::http::HttpClient;
use crate::base::random::Random;
use crate::config::SettingsSource;
use crate::oauth::clients::jwk::PublicJwk;
use crate::transitions::{Command, Outcome};

/// Why storage did not answer. Always transient from the caller's point of view: it must never
/// be turned into "your credential is invalid" (security checklist J.51).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("storage is unavailable: {0}")]
pub struct StoreError(pub String);

/// One page of a KV listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KvPage {
    pub keys: Vec<String>,
    /// Each key's metadata as written ([`KvStore::kv_put_detached`]), in the same order.
    pub metadata: Vec<Option<String>>,
    /// Where the next page starts; `None` on the last page.
    pub cursor: Option<String>,
}

/// Workers KV: eventually consistent, for read-mostly records.
pub trait KvStore {
    fn kv_get(&self, key: &str) -> impl Future<Output = Result<Option<String>, StoreError>>;
    /// `ttl_secs`, when given, must be at least 60 (KV's floor).
    fn kv_put(&self, key: &str, value: &str, ttl_secs: Option<u64>) -> impl Future<Output = Result<(), StoreError>> {
        self.kv_put_with_metadata(key, value, ttl_secs, None)
    }
    /// [`KvStore::kv_put`], with `metadata` (at most 1,024 bytes, KV's limit) that comes back
    /// with the key in a listing, so a reader of many small records lists them instead of
    /// reading each.
    fn kv_put_with_metadata(
        &self,
        key: &str,
        value: &str,
        ttl_secs: Option<u64>,
        metadata: Option<&str>,
    ) -> impl Future<Output = Result<(), StoreError>>;
    fn kv_delete(&self, key: &str) -> impl Future<Output = Result<(), StoreError>>;
    /// Starts a write the response does not wait for: the runtime keeps it running after the
    /// response is sent (`ctx.waitUntil`). Only for records nothing in the same request reads
    /// back (the audit log); a failure is logged, never reported to the caller. `metadata` as
    /// in [`KvStore::kv_put_with_metadata`].
    fn kv_put_detached(&self, key: &str, value: &str, ttl_secs: Option<u64>, metadata: Option<&str>);
    fn kv_list(&self, prefix: &str, cursor: Option<&str>) -> impl Future<Output = Result<KvPage, StoreError>>;
}

/// The `Transitions` Durable Object: `object` names the instance (one per value or family).
pub trait TransitionStore {
    fn transition(&self, object: &str, command: Command) -> impl Future<Output = Result<Outcome, StoreError>>;
    /// Sends `command` without waiting for it: the runtime keeps it running after the response
    /// is sent (`ctx.waitUntil`). Only for records nothing in the same request reads back (an
    /// audit record's outcome); a failure is logged (`do.detached_failed`), never reported.
    fn transition_detached(&self, object: &str, command: Command);
}

/// Which of the platform's daily budgets a storage error says is spent, in words for an error
/// description (Cloudflare's messages name the limit: "KV put() limit exceeded for the day",
/// "Exceeded allowed rows written in Durable Objects free tier"). `None` for any other failure.
pub fn spent_budget(e: &StoreError) -> Option<&'static str> {
    let m = e.0.to_ascii_lowercase();
    if !m.contains("exceeded") {
        return None;
    }
    if m.contains("durable object") {
        Some("the deployment's daily Durable Object budget on Cloudflare is spent (it resets at 00:00 UTC)")
    } else if m.contains("kv") {
        Some("the deployment's daily Workers KV write budget on Cloudflare is spent (it resets at 00:00 UTC)")
    } else {
        None
    }
}

/// Wall-clock time in milliseconds since the Unix epoch.
pub trait Clock {
    fn now_ms(&self) -> u64;
}

/// Waiting without blocking the isolate (used while another request holds a lease).
pub trait Sleep {
    fn sleep_ms(&self, ms: u32) -> impl Future<Output = ()>;
}

/// Logging that never takes secrets: callers pass fixed event names and non-secret details.
pub trait Log {
    fn log(&self, event: &str, detail: &str);
}

/// Checks a JWS signature (RFC 7515 §5.2) with a client's public key, under the one algorithm
/// that key is accepted for ([`PublicJwk::alg`]). The edge uses the runtime's WebCrypto (native
/// code, nothing added to the bundle); host tests use RustCrypto.
pub trait VerifySignature {
    /// `false` for a wrong signature and for a key the runtime refuses to import.
    fn verify_signature(&self, key: &PublicJwk, message: &[u8], signature: &[u8]) -> impl Future<Output = bool>;
}

/// The platform's rate limiters ([`crate::auth::rate_limit`]).
pub trait RateLimiter {
    /// Counts one request under `key` and says whether it is within `limit`. A limiter that is
    /// not configured, or fails, allows (and the edge logs it).
    fn within_limit(&self, limit: Limit, key: &str) -> impl Future<Output = bool>;
}

/// Every effect the core uses.
pub trait Platform:
    SettingsSource + HttpClient + KvStore + TransitionStore + Random + Clock + Sleep + Log + VerifySignature + RateLimiter
{
}

impl<T> Platform for T where
    T: SettingsSource
        + HttpClient
        + KvStore
        + TransitionStore
        + Random
        + Clock
        + Sleep
        + Log
        + VerifySignature
        + RateLimiter
{
}
