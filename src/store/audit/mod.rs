//! The audit log: one record per MCP tool call, per proxied REST request (allowed or refused)
//! and per approval of an app (`consent`, with the approver's Cloudflare Access email when Access
//! is on), saying who (the person, by workspace and member), which client and grant, what (tool
//! name, or method and path without the query string, and the ids it names), read or write, the
//! outcome with Attio's status and the call's duration, and when. Never tokens, query strings,
//! argument values, record contents or IP addresses.
//!
//! Records live in the person's Durable Object, the object every authenticated call already
//! reads, in chunks of up to 32 (`audit:<newest first>:<random>`, see
//! [`crate::transitions::log`]; 30 days): a call's record is stored by the same request that
//! authenticates it ([`Pending`], through `store::person::for_access`), before the call reaches
//! Attio, and its outcome is attached after the answer with one more request ([`finish`]). A
//! call costs no KV write and two rows written, and no entry is dropped when KV writes run out.
//! A record whose outcome could not be attached reads `unknown`. Records written by releases
//! before this one stay in KV under [`keys::audit_entry`] until their 30 days end, and are read
//! beside the new ones; one release kept a record per row in the object, read the same way.

use serde::{Deserialize, Serialize};

use super::keys;
use crate::base::random::Random;
use crate::base::user::UserId;
use crate::platform::{Clock, Platform, StoreError};
use crate::transitions::{log, Command, Log, Outcome, Place};

pub mod admin_log;
mod views;
pub use views::{page, recent, usage, Page, Query, UsageAsk, EVERYONE_SCAN, PEOPLE_PER_VIEW, ROWS_PER_PAGE};

pub const RETENTION_SECS: u64 = 30 * 24 * 3600;
const RETENTION_MS: u64 = RETENTION_SECS * 1000;

/// What a record's outcome reads until one is attached.
pub const UNKNOWN: &str = "unknown";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The record's name in its chunk (random; absent in records from before chunks).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    pub at_ms: u64,
    /// The app: filled in by the person's object from the grant the call authenticated with.
    #[serde(default)]
    pub client_id: String,
    /// `tool`, `proxy` or `consent`.
    pub kind: String,
    /// The tool name, or `METHOD /v2/path` (no query string).
    pub action: String,
    pub write: bool,
    /// `ok`, `error` (Attio answered with an error), `refused <why>` (the gateway refused it:
    /// scope, tool group, the deployer's policy), or `unknown` (no outcome could be attached).
    pub outcome: String,
    /// Who acted, when Cloudflare Access verified it (their email); absent for calls made by
    /// programs with a token, and in entries from before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The grant the call used (absent in records from before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<String>,
    /// Attio's HTTP status, when the call reached Attio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// How long the call took, in milliseconds, when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// The ids the call named (object and list slugs, record, entry, note, task, meeting,
    /// thread and comment ids), never other argument values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<String>,
    /// For refused calls, counted per grant, kind of call, reason and minute: how many (at
    /// least: the object counts past the first in memory). Absent on a single call's record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

impl Entry {
    /// A call's record before anything is known of its outcome.
    pub fn call(kind: &str, action: &str, write: bool, ids: Vec<String>) -> Entry {
        Entry {
            id: String::new(),
            at_ms: 0,
            client_id: String::new(),
            kind: kind.into(),
            action: action.into(),
            write,
            outcome: UNKNOWN.into(),
            by: None,
            grant_id: None,
            status: None,
            duration_ms: None,
            ids,
            count: None,
        }
    }

    /// The outcome as pages show it: with the count of a tally of refused calls.
    pub fn outcome_text(&self) -> String {
        match self.count {
            Some(n) if n > 1 => format!("{} (×{n})", self.outcome),
            _ => self.outcome.clone(),
        }
    }
}

/// A call's record, stored with the request that authenticates it (see
/// `store::person::for_access`), its outcome attached by [`finish`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub user: UserId,
    pub entry: Entry,
    /// The key a new chunk of the log takes, if this record starts one.
    new_chunk: String,
    /// Where the person's object stored it, once it did.
    pub placed: Option<Place>,
}

impl Pending {
    /// A record of `entry` for `user`, timed now, with a fresh id.
    pub fn new<P: Random + Clock>(p: &P, user: &UserId, mut entry: Entry) -> Pending {
        entry.at_ms = p.now_ms();
        entry.id = random_hex(p);
        let new_chunk = keys::person_audit_entry(entry.at_ms, &random_hex(p));
        Pending { user: user.clone(), entry, new_chunk, placed: None }
    }

    fn log(&self) -> Log {
        Log { prefix: keys::PERSON_AUDIT_PREFIX.into(), new_key: self.new_chunk.clone() }
    }

    /// Stores it on its own (a call whose grant is not kept in the person's object, an approval).
    pub async fn store<P: Platform>(&mut self, p: &P) -> Result<(), StoreError> {
        let object = keys::person_object(&self.user);
        let command = Command::Record {
            record: super::encode(&self.entry)?,
            expires_at_ms: self.entry.at_ms + RETENTION_MS,
            log: self.log(),
        };
        match p.transition(&object, command).await? {
            Outcome::Recorded { key } => {
                self.stored_in(Some(key));
                Ok(())
            }
            other => Err(StoreError(format!("unexpected answer to record: {other:?}"))),
        }
    }

    /// The command that stores it: `keys` read, and the record stored only if the first key's
    /// grant has an access token hashing to one of `token_hashes`.
    pub fn with_read(&self, keys: Vec<String>, token_hashes: Vec<String>) -> Result<Command, StoreError> {
        Ok(Command::ReadAndRecord {
            keys,
            token_hashes,
            record: super::encode(&self.entry)?,
            expires_at_ms: self.entry.at_ms + RETENTION_MS,
            log: self.log(),
        })
    }

    /// Notes the chunk the object stored it in (`None`: it was not stored).
    pub fn stored_in(&mut self, chunk: Option<String>) {
        self.placed = chunk.map(|key| Place { key, id: self.entry.id.clone() });
    }
}

/// What is known of a call once it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ended {
    pub outcome: String,
    pub status: Option<u16>,
    pub duration_ms: Option<u64>,
}

/// Attaches `ended` to the record `pending` (after the response; a failure is logged and the
/// record keeps reading `unknown`). `client_id` is the principal's, the same grant's. A refusal
/// (`refused …`) is counted in the minute's tally for its grant, call and reason instead, and
/// the call's own record removed, so a client retrying a refused call in a loop leaves one
/// record a minute.
pub fn finish<P: Platform>(p: &P, pending: &Pending, client_id: &str, ended: Ended) {
    let Some(place) = pending.placed.clone() else {
        // Never stored: the call did not go on, so there is nothing to attach to.
        return p.log("audit.finish_unstored", &pending.entry.action);
    };
    if ended.outcome.starts_with("refused") {
        let mut entry = pending.entry.clone();
        entry.client_id = client_id.into();
        entry.outcome = ended.outcome;
        entry.status = ended.status;
        let series =
            format!("{}|{}|{}|{}", entry.grant_id.as_deref().unwrap_or(""), entry.kind, entry.action, entry.outcome);
        return tally(p, pending, &series, entry, Some(place));
    }
    let mut patch = serde_json::json!({ "client_id": client_id, "outcome": ended.outcome });
    if let Some(status) = ended.status {
        patch["status"] = status.into();
    }
    if let Some(duration) = ended.duration_ms {
        patch["duration_ms"] = duration.into();
    }
    p.transition_detached(&keys::person_object(&pending.user), Command::Attach { place, patch });
}

/// A call refused before its record could be stored (its token is not the grant's: wrong,
/// expired or revoked), counted in the minute's tally for the grant, kind of call and reason.
/// Reachable without a valid token, so it costs at most two writes a minute per grant and kind,
/// and none for a grant nobody holds.
pub fn refused_token<P: Platform>(p: &P, user: &UserId, grant_id: &str, client_id: &str, kind: &str, write: bool) {
    let reason = "refused 401: invalid, expired or revoked token";
    let entry = Entry {
        client_id: client_id.into(),
        outcome: reason.into(),
        grant_id: Some(grant_id.into()),
        ..Entry::call(kind, "*", write, Vec::new())
    };
    let pending = Pending::new(p, user, entry);
    tally(p, &pending, &format!("{grant_id}|{kind}|{reason}"), pending.entry.clone(), None);
}

/// Counts `entry` in the minute's tally of `series` in the person's object (after the response).
fn tally<P: Platform>(p: &P, pending: &Pending, series: &str, mut entry: Entry, drop: Option<Place>) {
    let minute = p.now_ms() / 60_000 * 60_000;
    entry.at_ms = minute;
    entry.duration_ms = None;
    // Its own id: the call's record (with the call's id) is the one dropped.
    entry.id = random_hex(p);
    let Ok(record) = super::encode(&entry) else { return };
    let command = Command::Tally {
        series: series.into(),
        minute_ms: minute,
        record,
        expires_at_ms: minute + RETENTION_MS,
        drop,
        log: pending.log(),
    };
    p.transition_detached(&keys::person_object(&pending.user), command);
}

pub(super) fn random_hex<P: Random>(p: &P) -> String {
    let mut suffix = [0u8; 4];
    let _ = p.fill(&mut suffix);
    suffix.iter().map(|b| format!("{b:02x}")).collect()
}

/// Records an entry that is not a call (an approval): stored in the person's object before
/// the caller goes on. A failure is logged and does not fail what it records.
pub async fn record<P: Platform>(p: &P, user: &UserId, entry: Entry) {
    if let Err(e) = Pending::new(p, user, entry).store(p).await {
        p.log("audit.record_failed", &e.0);
    }
}

/// Writes `entries` (newest first) into the person's log as chunks of 32, as long ago: the
/// test-mode seeding route (`/__test/seed-audit`) alone uses it, to give end-to-end tests a large
/// log quickly. Each chunk is one request.
pub async fn seed<P: Platform>(p: &P, user: &UserId, mut entries: Vec<Entry>) -> Result<usize, StoreError> {
    let object = keys::person_object(user);
    entries.sort_by_key(|e| e.at_ms);
    let mut written = 0;
    for group in entries.chunks(log::CHUNK_RECORDS) {
        let first = group.first().map_or(0, |e| e.at_ms);
        let key = keys::person_audit_entry(first, &random_hex(p));
        let mut chunk = log::Chunk::new(&key, first);
        for e in group {
            chunk.push(super::encode(&Entry { id: random_hex(p), ..e.clone() })?, e.at_ms + RETENTION_MS);
        }
        let entry = chunk.encode();
        let put = Command::Put { key, value: entry.value, expires_at_ms: entry.expires_at_ms };
        p.transition(&object, put).await?;
        written += group.len();
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::{Clock, KvStore};
    use crate::testing::{block_on, FakePlatform};

    fn entry(action: &str) -> Entry {
        Entry { outcome: "ok".into(), ..Entry::call("tool", action, false, Vec::new()) }
    }

    #[test]
    fn entries_come_back_newest_first_and_per_person() {
        let p = FakePlatform::default();
        let ada = UserId::new("ws", "ada").unwrap();
        let bob = UserId::new("ws", "bob").unwrap();
        for (i, action) in ["first", "second", "third"].iter().enumerate() {
            block_on(record(&p, &ada, entry(action)));
            p.advance_ms(1000 + i as u64);
        }
        block_on(record(&p, &bob, entry("bob's")));
        let got: Vec<String> = block_on(recent(&p, &ada, 10)).unwrap().into_iter().map(|e| e.action).collect();
        assert_eq!(got, ["third", "second", "first"]);
        assert_eq!(block_on(recent(&p, &ada, 2)).unwrap().len(), 2);
        assert_eq!(block_on(recent(&p, &bob, 10)).unwrap()[0].action, "bob's");
    }

    #[test]
    fn entries_an_earlier_release_wrote_to_kv_are_read_beside_the_new_ones() {
        let p = FakePlatform::default();
        let ada = UserId::new("ws", "ada").unwrap();
        // As the previous release wrote them: with metadata, and older ones without.
        let listed = serde_json::to_string(&Entry { at_ms: p.now_ms() - 3000, ..entry("listed") }).unwrap();
        block_on(p.kv_put_with_metadata(
            &keys::audit_entry(&ada, p.now_ms() - 3000, "01"),
            &listed,
            None,
            Some(&listed),
        ))
        .unwrap();
        let old = serde_json::to_string(&Entry { at_ms: p.now_ms() - 5000, ..entry("old") }).unwrap();
        p.kv_insert_raw(&keys::audit_entry(&ada, p.now_ms() - 5000, "00"), &old);
        block_on(record(&p, &ada, entry("new")));
        let got: Vec<String> = block_on(recent(&p, &ada, 10)).unwrap().into_iter().map(|e| e.action).collect();
        assert_eq!(got, ["new", "listed", "old"]);
        let everyone = block_on(page(&p, std::slice::from_ref(&ada), &Query::default(), 10)).unwrap().rows;
        assert_eq!(everyone.iter().map(|(_, e)| e.action.as_str()).collect::<Vec<_>>(), ["new", "listed", "old"]);
    }

    #[test]
    fn a_record_whose_outcome_was_never_attached_reads_unknown() {
        let p = FakePlatform::default();
        let ada = UserId::new("ws", "ada").unwrap();
        let mut pending = Pending::new(&p, &ada, Entry::call("tool", "whoami", false, Vec::new()));
        block_on(pending.store(&p)).unwrap();
        assert_eq!(block_on(recent(&p, &ada, 1)).unwrap()[0].outcome, UNKNOWN);
        finish(&p, &pending, "mcp_c", Ended { outcome: "ok".into(), status: Some(200), duration_ms: Some(12) });
        let e = &block_on(recent(&p, &ada, 1)).unwrap()[0];
        assert_eq!(
            (e.outcome.as_str(), e.status, e.duration_ms, e.client_id.as_str()),
            ("ok", Some(200), Some(12), "mcp_c")
        );
    }

    /// A call's record as an authenticated call makes it: stored, then its outcome attached.
    fn call(p: &FakePlatform, user: &UserId) {
        let mut pending = Pending::new(p, user, Entry::call("tool", "whoami", false, Vec::new()));
        block_on(pending.store(p)).unwrap();
        finish(p, &pending, "mcp_c", Ended { outcome: "ok".into(), ..Default::default() });
        p.advance_ms(1);
    }

    #[test]
    fn records_share_chunks_and_chunks_past_their_month_are_deleted_when_a_new_one_starts() {
        let p = FakePlatform::default();
        let ada = UserId::new("ws", "ada").unwrap();
        let object = keys::person_object(&ada);
        let rows = || p.keys_in(&object).into_iter().filter(|k| k.starts_with(keys::PERSON_AUDIT_PREFIX)).count();
        let written = || p.rows.get().written;
        for _ in 0..40 {
            call(&p, &ada);
        }
        assert_eq!(rows(), 2, "40 records in two chunks");
        let before = written();
        call(&p, &ada);
        assert_eq!(written() - before, 2, "a call: its record, then its outcome");
        assert_eq!(block_on(recent(&p, &ada, 100)).unwrap().len(), 41);
        // A month on, the old records are no longer shown, and the next chunk deletes theirs.
        p.advance_ms(RETENTION_MS + log::CHUNK_SPAN_MS);
        assert!(block_on(recent(&p, &ada, 100)).unwrap().is_empty(), "past their month");
        call(&p, &ada);
        assert_eq!(rows(), 1, "the new chunk alone");
        assert_eq!(block_on(recent(&p, &ada, 100)).unwrap().len(), 1);
    }

    #[test]
    fn a_record_an_earlier_release_stored_on_its_own_in_the_object_is_read_and_expires() {
        let p = FakePlatform::default();
        let ada = UserId::new("ws", "ada").unwrap();
        let object = keys::person_object(&ada);
        let single = Entry { at_ms: p.now_ms(), ..entry("single") };
        let key = keys::person_audit_entry(single.at_ms, "0011aabb");
        block_on(super::super::put(&p, &object, &key, &single, p.now_ms() + RETENTION_MS)).unwrap();
        p.advance_ms(5);
        call(&p, &ada);
        let got: Vec<String> = block_on(recent(&p, &ada, 10)).unwrap().into_iter().map(|e| e.action).collect();
        assert_eq!(got, ["whoami", "single"]);
        p.advance_ms(RETENTION_MS + log::CHUNK_SPAN_MS);
        call(&p, &ada);
        assert!(!p.keys_in(&object).contains(&key), "pruned with the chunks");
    }
}
