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
    p.kv_put_detached(&key, &value, Some(RETENTION_SECS));
}

/// A person's most recent entries, newest first.
pub async fn recent<P: KvStore>(p: &P, user: &UserId, limit: usize) -> Result<Vec<Entry>, crate::platform::StoreError> {
    let prefix = keys::audit_prefix(user);
    let mut keys = Vec::new();
    let mut cursor: Option<String> = None;
    while keys.len() < limit {
        let page = p.kv_list(&prefix, cursor.as_deref()).await?;
        keys.extend(page.keys);
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    keys.truncate(limit);
    let mut entries = Vec::with_capacity(keys.len());
    for key in keys {
        if let Some(e) = p.kv_get(&key).await?.and_then(|t| serde_json::from_str(&t).ok()) {
            entries.push(e);
        }
    }
    Ok(entries)
}

/// Everyone's entries, newest first, at most `limit`, from the first [`EVERYONE_SCAN`] keys of
/// the listing (keys sort by person, then newest first: past that many, later people's entries
/// are left out; the log is kept 30 days).
pub async fn everyones<P: KvStore>(p: &P, limit: usize) -> Result<Vec<(UserId, Entry)>, crate::platform::StoreError> {
    let mut keys = Vec::new();
    let mut cursor: Option<String> = None;
    // Keys sort by person, then newest first: read them all (bounded), then order by time.
    while keys.len() < EVERYONE_SCAN {
        let page = p.kv_list(keys::AUDIT_PREFIX, cursor.as_deref()).await?;
        keys.extend(page.keys);
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let mut rows = Vec::new();
    for key in keys.iter().take(EVERYONE_SCAN) {
        let Some(user) = keys::user_of_audit_entry(key) else { continue };
        if let Some(e) = p.kv_get(key).await?.and_then(|t| serde_json::from_str::<Entry>(&t).ok()) {
            rows.push((user, e));
        }
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.1.at_ms));
    rows.truncate(limit);
    Ok(rows)
}

/// The most audit entries the administrators' view reads.
pub const EVERYONE_SCAN: usize = 2_000;

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
    fn a_failed_write_is_logged_and_never_reaches_the_caller() {
        let p = FakePlatform::default();
        p.kv_fails.set(true);
        record(&p, &UserId::new("ws", "ada").unwrap(), entry("whoami"));
        assert!(p.logged("kv.detached_write_failed"));
    }
}
