//! The audit log: one entry per MCP tool call, per proxied REST request and per approval of an
//! app (`consent`, with the approver's Cloudflare Access email when Access is on), saying who (the
//! person, by workspace and member), which client, what (tool name, or method and path without
//! the query string), read or write, the outcome, and when. Never tokens, query strings or
//! record contents.
//!
//! Entries live in KV under [`keys::audit_entry`] for 30 days, so a prefix listing returns a
//! person's entries newest first.

use serde::{Deserialize, Serialize};

use super::keys;
use crate::platform::{Clock, KvStore};
use crate::random::Random;
use crate::user::UserId;

pub const RETENTION_SECS: u64 = 30 * 24 * 3600;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub at_ms: u64,
    pub client_id: String,
    /// `tool` or `proxy`.
    pub kind: String,
    /// The tool name, or `METHOD /v2/path` (no query string).
    pub action: String,
    pub write: bool,
    /// `ok`, or `error` with a short reason (an HTTP status or error kind, never a body).
    pub outcome: String,
    /// Who acted, when Cloudflare Access verified it (their email); absent for calls made by
    /// programs with a token, and in entries from before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// Records an entry. Best effort and off the response path: the write finishes after the
/// response is sent, and a failed write is logged, never fails the request it audits.
pub fn record<P: KvStore + Random + Clock>(p: &P, user: &UserId, mut entry: Entry) {
    entry.at_ms = p.now_ms();
    let mut suffix = [0u8; 4];
    let _ = p.fill(&mut suffix);
    let random: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    let key = keys::audit_entry(user, entry.at_ms, &random);
    let Ok(value) = serde_json::to_string(&entry) else { return };
    // The entry again as the key's metadata, so readers list entries instead of reading each
    // (a long proxied path can exceed KV's 1,024-byte limit: that entry is read by key).
    let metadata = super::as_metadata(&value);
    p.kv_put_detached(&key, &value, Some(RETENTION_SECS), metadata);
}

/// Entries written before they carried metadata are read one by one, at most this many per
/// view (they are gone 30 days after the release that added metadata).
const READS_MAX: usize = 200;

/// The entries under `prefix`, in key order, from at most `max_keys` keys.
async fn entries_under<P: KvStore>(
    p: &P,
    prefix: &str,
    max_keys: usize,
) -> Result<Vec<(String, Entry)>, crate::platform::StoreError> {
    Ok(super::listed(p, prefix, max_keys, READS_MAX)
        .await?
        .into_iter()
        .filter_map(|(key, text)| Some((key, serde_json::from_str::<Entry>(&text?).ok()?)))
        .collect())
}

/// A person's most recent entries, newest first.
pub async fn recent<P: KvStore>(p: &P, user: &UserId, limit: usize) -> Result<Vec<Entry>, crate::platform::StoreError> {
    Ok(entries_under(p, &keys::audit_prefix(user), limit).await?.into_iter().map(|(_, e)| e).collect())
}

/// Everyone's entries, newest first, at most `limit`, from the first [`EVERYONE_SCAN`] keys of
/// the listing (keys sort by person, then newest first: past that many, later people's entries
/// are left out; the log is kept 30 days). Entries come with the listing (their metadata), so
/// the scan costs one KV request per thousand entries.
pub async fn everyones<P: KvStore>(p: &P, limit: usize) -> Result<Vec<(UserId, Entry)>, crate::platform::StoreError> {
    let mut rows: Vec<(UserId, Entry)> = entries_under(p, keys::AUDIT_PREFIX, EVERYONE_SCAN)
        .await?
        .into_iter()
        .filter_map(|(key, e)| Some((keys::user_of_audit_entry(&key)?, e)))
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.1.at_ms));
    rows.truncate(limit);
    Ok(rows)
}

/// The most audit entries the administrators' view reads: twenty KV listings.
pub const EVERYONE_SCAN: usize = 20_000;

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
pub const ADMIN_LOG_RETENTION_SECS: u64 = 365 * 24 * 3600;

/// Records an administrator's action (before the response, so it is not lost).
pub async fn record_admin<P: KvStore + Random + Clock>(
    p: &P,
    mut action: AdminAction,
) -> Result<(), crate::platform::StoreError> {
    action.at_ms = p.now_ms();
    let mut suffix = [0u8; 4];
    let _ = p.fill(&mut suffix);
    let random: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    let value = serde_json::to_string(&action).map_err(|e| crate::platform::StoreError(e.to_string()))?;
    p.kv_put(&keys::admin_log_entry(action.at_ms, &random), &value, Some(ADMIN_LOG_RETENTION_SECS)).await
}

/// The administrators' most recent actions, newest first.
pub async fn admin_actions<P: KvStore>(p: &P, limit: usize) -> Result<Vec<AdminAction>, crate::platform::StoreError> {
    let page = p.kv_list(keys::ADMIN_LOG_PREFIX, None).await?;
    let mut out = Vec::new();
    for key in page.keys.iter().take(limit) {
        if let Some(a) = p.kv_get(key).await?.and_then(|t| serde_json::from_str(&t).ok()) {
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

    fn entry(action: &str) -> Entry {
        Entry {
            at_ms: 0,
            client_id: "mcp_c".into(),
            kind: "tool".into(),
            action: action.into(),
            write: false,
            outcome: "ok".into(),
            by: None,
        }
    }

    #[test]
    fn entries_come_back_newest_first_and_per_person() {
        let p = FakePlatform::default();
        let ada = UserId::new("ws", "ada").unwrap();
        let bob = UserId::new("ws", "bob").unwrap();
        for (i, action) in ["first", "second", "third"].iter().enumerate() {
            record(&p, &ada, entry(action));
            p.advance_ms(1000 + i as u64);
        }
        record(&p, &bob, entry("bob's"));
        let got: Vec<String> = block_on(recent(&p, &ada, 10)).unwrap().into_iter().map(|e| e.action).collect();
        assert_eq!(got, ["third", "second", "first"]);
        assert_eq!(block_on(recent(&p, &ada, 2)).unwrap().len(), 2);
        assert_eq!(block_on(recent(&p, &bob, 10)).unwrap()[0].action, "bob's");
    }

    #[test]
    fn readers_take_entries_from_the_listing_and_read_only_older_ones() {
        let p = FakePlatform::default();
        let ada = UserId::new("ws", "ada").unwrap();
        record(&p, &ada, entry("listed"));
        p.advance_ms(1000);
        // An entry from before entries carried metadata.
        let old = serde_json::to_string(&Entry { at_ms: p.now_ms() - 5000, ..entry("old") }).unwrap();
        p.kv_insert_raw(&keys::audit_entry(&ada, p.now_ms() - 5000, "00"), &old);
        p.take_calls();
        let got: Vec<String> = block_on(recent(&p, &ada, 10)).unwrap().into_iter().map(|e| e.action).collect();
        assert_eq!(got, ["listed", "old"]);
        let gets: Vec<String> = p.take_calls().into_iter().filter(|c| c.starts_with("kv get")).collect();
        assert_eq!(gets.len(), 1, "only the entry without metadata is read: {gets:?}");
        let everyone = block_on(everyones(&p, 10)).unwrap();
        assert_eq!(everyone.iter().map(|(_, e)| e.action.as_str()).collect::<Vec<_>>(), ["listed", "old"]);
    }

    #[test]
    fn a_failed_write_is_logged_and_never_reaches_the_caller() {
        let p = FakePlatform::default();
        p.kv_fails.set(true);
        record(&p, &UserId::new("ws", "ada").unwrap(), entry("whoami"));
        assert!(p.logged("kv.detached_write_failed"));
    }
}
