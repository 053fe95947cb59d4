//! The administrators' own log: who revoked, disconnected, exported or changed the policy, and
//! when, written before the action runs. It lives in its own Durable Object (`admin-log:v2`) in
//! chunks ([`crate::transitions::log`]), a year, so an action costs one object request and a
//! row written rather than a KV write: when the day's KV writes are spent, administrators can
//! still revoke and disconnect. Entries an earlier release wrote to KV (`admin-log:v1:…`) are
//! read beside the new ones until the object alone fills a view.

use serde::{Deserialize, Serialize};

use crate::platform::{KvStore, Platform, StoreError};
use crate::store::keys;
use crate::transitions::{log, Command, Log, Outcome};

/// One action of an administrator: the control-plane audit, apart from the tool-call log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminAction {
    pub at_ms: u64,
    /// The administrator: their Access email, or `workspace-admin:<workspace>:<member>`.
    pub admin: String,
    /// `revoke`, `disconnect`, `export`, `policy`.
    pub action: String,
    /// What it was done to (a person, an app), never a token.
    pub target: String,
}

/// Kept a year: the record of who changed what.
pub const RETENTION_MS: u64 = 365 * 86_400_000;

/// Records an administrator's action (before it runs, so it is not lost).
pub async fn record<P: Platform>(p: &P, mut action: AdminAction) -> Result<(), StoreError> {
    action.at_ms = p.now_ms();
    let mut record = crate::store::encode(&action)?;
    record["id"] = super::random_hex(p).into();
    let new_key = keys::admin_log_chunk(action.at_ms, &super::random_hex(p));
    let log = Log { prefix: keys::ADMIN_LOG_CHUNK_PREFIX.into(), new_key };
    let command = Command::Record { record, expires_at_ms: action.at_ms + RETENTION_MS, log };
    match p.transition(keys::ADMIN_LOG_OBJECT, command).await? {
        Outcome::Recorded { .. } => Ok(()),
        other => Err(StoreError(format!("unexpected answer to record: {other:?}"))),
    }
}

/// The administrators' most recent actions, newest first.
pub async fn recent<P: Platform>(p: &P, limit: usize) -> Result<Vec<AdminAction>, StoreError> {
    let search = Command::Search {
        usage: None,
        prefix: keys::ADMIN_LOG_CHUNK_PREFIX.into(),
        start: None,
        filter: log::Filter { since_ms: p.now_ms().saturating_sub(RETENTION_MS), ..log::Filter::default() },
        before_ms: None,
        limit,
        rows: 64,
    };
    let mut actions: Vec<AdminAction> = match p.transition(keys::ADMIN_LOG_OBJECT, search).await? {
        Outcome::Searched { records, .. } => {
            records.into_iter().filter_map(|v| crate::store::decode(p, keys::ADMIN_LOG_OBJECT, v)).collect()
        }
        other => return Err(StoreError(format!("unexpected answer to search: {other:?}"))),
    };
    if actions.len() < limit {
        actions.extend(in_kv(p, limit - actions.len()).await?);
    }
    Ok(actions)
}

/// The newest `limit` entries an earlier release wrote to KV (all older than the object's).
async fn in_kv<P: KvStore>(p: &P, limit: usize) -> Result<Vec<AdminAction>, StoreError> {
    let page = p.kv_list(keys::ADMIN_LOG_PREFIX, None).await?;
    let reads = page.keys.iter().take(limit.min(20)).map(|key| p.kv_get(key));
    let mut out = Vec::new();
    for text in futures_util::future::join_all(reads).await {
        if let Some(a) = text?.and_then(|t| serde_json::from_str(&t).ok()) {
            out.push(a);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::Clock;
    use crate::testing::{block_on, FakePlatform};

    fn action(what: &str) -> AdminAction {
        AdminAction { at_ms: 0, admin: "ada@acme.example".into(), action: what.into(), target: "ws:m".into() }
    }

    #[test]
    fn actions_go_to_the_object_and_an_earlier_releases_kv_entries_are_read_beside() {
        let p = FakePlatform::default();
        let old = AdminAction { at_ms: p.now_ms() - 1000, ..action("policy") };
        let key = format!("{}{:020}:00", keys::ADMIN_LOG_PREFIX, u64::MAX - old.at_ms);
        p.kv_insert_raw(&key, &serde_json::to_string(&old).unwrap());
        p.take_calls();
        block_on(record(&p, action("revoke"))).unwrap();
        assert!(p.take_calls().iter().all(|c| c.starts_with("do ")), "no KV write");
        // With KV failing altogether, an action is still recorded.
        p.kv_fails.set(true);
        p.advance_ms(5);
        block_on(record(&p, action("disconnect"))).unwrap();
        p.kv_fails.set(false);
        let got: Vec<String> = block_on(recent(&p, 10)).unwrap().into_iter().map(|a| a.action).collect();
        assert_eq!(got, ["disconnect", "revoke", "policy"]);
        // A full view needs nothing from KV.
        p.take_calls();
        assert_eq!(block_on(recent(&p, 2)).unwrap().len(), 2);
        assert!(p.take_calls().iter().all(|c| c.starts_with("do ")));
    }
}
