//! How far the cron is through its daily pass over everyone (`sweep:v1` in KV; see
//! `crate::cron`). Read by every cron run (a KV read, of which the Free plan allows 100,000 a
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
