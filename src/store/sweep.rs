//! How far the cron is through its daily pass over everyone (`sweep:v1` in KV; see
//! `crate::control::cron`). Read by every cron run (a KV read, of which the Free plan allows 100,000 a
//! day) and written only by a run that did some work, so an idle minute costs no write and no
//! Durable Object request. Two runs that overlap, or a run that reads a stale copy, redo a
//! batch: every step is idempotent.

use serde::{Deserialize, Serialize};

use super::keys;
use super::policy::Rest;
use super::vault::{MembershipReport, ResealReport};
use crate::platform::{KvStore, StoreError};

/// The cron's progress.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// The UTC day (days since 1970) of the pass in progress or last finished.
    pub day: u64,
    /// The pass is over for `day`.
    pub done: bool,
    /// The connection listing's page the pass is on (`None`: the first), and how many of its
    /// people are done.
    pub cursor: Option<String>,
    pub offset: usize,
    pub started_at_ms: u64,
    /// The vault key records are re-sealed under in this pass: a pass begun under another
    /// starts again, so a key rotation is carried out at the next run, not the next day.
    #[serde(default)]
    pub vault_key: String,
    /// People covered so far, and what their checks found.
    pub people: u64,
    pub reseal: ResealReport,
    pub members: MembershipReport,
    /// Policy copies still to write: after a save reached only the first holders, and once a
    /// day for all.
    pub spread: Option<Rest>,
    /// When a release issuing tagged tokens first ran the cron (0: not yet). Tokens of the
    /// earlier, untagged format are refused without storage one access-token lifetime later.
    #[serde(default)]
    pub tagged_tokens_since_ms: u64,
}

/// The progress as last saved (a fresh one when there is none or it does not read).
pub async fn load(kv: &impl KvStore) -> Progress {
    kv.kv_get(keys::SWEEP_PROGRESS).await.ok().flatten().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
}

pub async fn save(kv: &impl KvStore, progress: &Progress) -> Result<(), StoreError> {
    let text = serde_json::to_string(progress).map_err(|e| StoreError(e.to_string()))?;
    kv.kv_put(keys::SWEEP_PROGRESS, &text, None).await
}

/// Notes copies of the policy still to write after a save (the cron goes on within a minute).
pub async fn spread_pending(kv: &impl KvStore, rest: Rest) -> Result<(), StoreError> {
    let mut progress = load(kv).await;
    progress.spread = Some(rest);
    save(kv, &progress).await
}

/// How long an isolate keeps what it read of [`tagged_tokens_since`].
const SINCE_MEMO_MS: u64 = 600_000;

std::thread_local! {
    static SINCE: std::cell::RefCell<crate::base::memo::Memo<u64>> = const { std::cell::RefCell::new(crate::base::memo::Memo::new(1)) };
}

/// [`Progress::tagged_tokens_since_ms`] (`None` before the cron first ran), read at most once
/// every ten minutes per isolate.
pub async fn tagged_tokens_since(kv: &impl KvStore, now_ms: u64) -> Option<u64> {
    let since = match crate::base::memo::get(&SINCE, "since", now_ms) {
        Some(since) => since,
        None => {
            let since = load(kv).await.tagged_tokens_since_ms;
            crate::base::memo::put(&SINCE, "since", now_ms + SINCE_MEMO_MS, since, now_ms);
            since
        }
    };
    (since > 0).then_some(since)
}

/// Whether something that lives `lifetime_ms` and was made before the first release issuing
/// tagged tokens ran is certainly gone by `now_ms` (`false` before that release's first cron run).
pub async fn outlived(kv: &impl KvStore, now_ms: u64, lifetime_ms: u64) -> bool {
    tagged_tokens_since(kv, now_ms).await.is_some_and(|since| now_ms > since + lifetime_ms)
}

/// Forgets this thread's copy (host tests).
#[cfg(test)]
pub fn forget_cached() {
    SINCE.with_borrow_mut(crate::base::memo::Memo::clear);
}
