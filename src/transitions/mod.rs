//! One-time transitions, made atomic by a Durable Object.
//!
//! KV is eventually consistent, so "use this value once" (OAuth `state`, authorization codes,
//! refresh-token rotation) cannot be enforced there (security checklist §3). Instead each such
//! value lives in a Durable Object, whose single-threaded execution makes check-and-update
//! atomic. This module is the protocol and its rules; the edge's `Transitions` class only loads
//! the entry, calls [`apply`], and stores the result.
//!
//! Expiry is enforced here, on read, against the time the object passes in; the object also
//! sets an alarm to delete expired entries, but correctness never depends on that.
//!
//! Uses only `base`: the object runs this code over any storage (`object::ObjectStorage`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub mod log;
pub mod object;
#[cfg(test)]
mod properties;
mod records;
pub mod usage;
pub use log::{Log, Place};
pub use records::{alarm_at, expired_keys, read_and_record, remember, tally, Tallied, Tallies, TALLIES_MAX};

/// What a caller asks the object to do with one key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Command {
    /// Store `value` unless a live entry already holds the key.
    Insert { key: String, value: Value, expires_at_ms: u64 },
    /// Return the live entry and delete it, so no second caller can have it.
    Take { key: String },
    /// Return the live entry, leaving it in place.
    Get { key: String },
    /// Store `value`, replacing any entry.
    Put { key: String, value: Value, expires_at_ms: u64 },
    /// Take a lease on `key` for `holder` until `expires_at_ms`, unless another holder has a
    /// live one (the same holder may extend its own). The lease ends by [`Command::Release`]
    /// or by expiring, so a crashed holder cannot block others for long.
    Acquire { key: String, holder: String, expires_at_ms: u64 },
    /// End `holder`'s lease on `key` (no effect on another holder's lease).
    Release { key: String, holder: String },
    /// Replace the entry only if its live value is still `expected` (`None`: no live entry):
    /// optimistic concurrency for records several requests update.
    Cas { key: String, expected: Option<Value>, value: Value, expires_at_ms: u64 },
    /// Store `value` unless the live entry's `version` field is already at least `value`'s:
    /// a copy that only ever moves forward, in one request.
    PutNewer { key: String, value: Value, expires_at_ms: u64 },
    /// Return the live entries of several keys at once (in order, `None` where there is none):
    /// everything one decision needs from one object, in one request. Answered by [`read`].
    Read { keys: Vec<String> },
    /// Return up to [`LIST_LIMIT`] live entries whose keys start with `prefix`, in key order,
    /// after the key `after`. Answered by [`list`].
    List { prefix: String, after: Option<String> },
    /// [`Command::Read`] of `keys`, and in the same request `record` added to the log `log`
    /// (see [`log`]), only when the first key holds a live grant (not revoked, not expired) one
    /// of whose access tokens hashes to one of `token_hashes`: an authenticated call's audit
    /// record, stored before the call goes on, which a forged token cannot make. The grant's
    /// `client_id` is copied into the record. Answered by [`read_and_record`], with the key of
    /// the chunk the record went to.
    ReadAndRecord { keys: Vec<String>, token_hashes: Vec<String>, record: Value, expires_at_ms: u64, log: Log },
    /// `record` added to the log `log`, unconditionally: answered with the chunk's key.
    Record { record: Value, expires_at_ms: u64, log: Log },
    /// Each field of `patch` set on the record at `place` (a call's outcome, once known).
    Attach { place: Place, patch: Value },
    /// One more refused call in the series `series` (a grant, a kind of call, a reason) in the
    /// minute `minute_ms`: one record per series and minute in the log, with a `count`. The
    /// minute's first refusal adds `record` with count 1; the object counts later ones in
    /// memory and sets the minute's total when the series' next minute begins, so a client
    /// retrying in a loop adds one record a minute (a restart of the object loses only the
    /// count beyond what was written). `drop`: a call's own record to remove, its refusal
    /// counted here instead. Answered by [`tally`].
    Tally { series: String, minute_ms: u64, record: Value, expires_at_ms: u64, drop: Option<Place>, log: Log },
    /// A page of the log under `prefix`: the records `filter` keeps, before `before_ms`,
    /// newest first, at most `limit`, reading at most `rows` chunks (never more than
    /// [`log::SEARCH_ROWS`]) from `start` (the key of a chunk begun at `before_ms`). Answered
    /// by [`log::search`]; with `usage`, the log's usage too, as [`Command::Usage`] answers it.
    Search {
        prefix: String,
        start: Option<String>,
        filter: log::Filter,
        before_ms: Option<u64>,
        limit: usize,
        rows: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        usage: Option<Value>,
    },
    /// The usage of a log (see [`usage`]): each closed day's totals from its row (written now,
    /// once, for days closed since the last), the open days counted from the log's chunks.
    /// `query` is a [`usage::UsageQuery`], and the answer a [`usage::Usage`], carried as JSON
    /// values: typed fields in these tagged enums would bring their own deserializers into the
    /// bundle (about 20 KB).
    Usage { query: Value },
}

/// The most entries one [`Command::List`] returns.
pub const LIST_LIMIT: usize = 256;

impl Command {
    /// The one key a single-entry command works on; `None` for [`Command::Read`] and
    /// [`Command::List`], which span several.
    pub fn key(&self) -> Option<&str> {
        match self {
            Command::Insert { key, .. }
            | Command::Take { key }
            | Command::Get { key }
            | Command::Put { key, .. }
            | Command::Acquire { key, .. }
            | Command::Release { key, .. }
            | Command::Cas { key, .. }
            | Command::PutNewer { key, .. } => Some(key),
            Command::Read { .. }
            | Command::List { .. }
            | Command::ReadAndRecord { .. }
            | Command::Record { .. }
            | Command::Attach { .. }
            | Command::Tally { .. }
            | Command::Search { .. }
            | Command::Usage { .. } => None,
        }
    }

    /// Every key a command names (a [`Command::List`] names none but its prefix), for the
    /// object to check before touching storage.
    pub fn named_keys(&self) -> Vec<&str> {
        match self {
            Command::Read { keys } => keys.iter().map(String::as_str).collect(),
            Command::ReadAndRecord { keys, log, .. } => {
                keys.iter().map(String::as_str).chain([log.prefix.as_str(), log.new_key.as_str()]).collect()
            }
            Command::Record { log, .. } => vec![log.prefix.as_str(), log.new_key.as_str()],
            Command::Attach { place, .. } => vec![place.key.as_str()],
            Command::Tally { drop, log, .. } => [log.prefix.as_str(), log.new_key.as_str()]
                .into_iter()
                .chain(drop.as_ref().map(|d| d.key.as_str()))
                .collect(),
            Command::List { prefix, .. } => vec![prefix.as_str()],
            Command::Search { prefix, usage, .. } => {
                std::iter::once(prefix.as_str()).chain(usage.iter().flat_map(usage::prefixes)).collect()
            }
            Command::Usage { query } => usage::prefixes(query).collect(),
            single => single.key().into_iter().collect(),
        }
    }
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub value: Value,
    pub expires_at_ms: u64,
}

impl Entry {
    pub fn is_live(&self, now_ms: u64) -> bool {
        now_ms < self.expires_at_ms
    }
}

/// The answer to a [`Command`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Inserted,
    AlreadyExists,
    Taken {
        value: Value,
    },
    Found {
        value: Value,
    },
    Stored,
    Acquired,
    /// Another holder has a live lease.
    Busy,
    Released,
    /// A [`Command::Cas`] found another value (or none) than expected.
    Conflict {
        current: Option<Value>,
    },
    /// Never stored, already taken, or expired: indistinguishable on purpose.
    Missing,
    /// The answer to a [`Command::Read`]: one value per key asked, in order; for a
    /// [`Command::ReadAndRecord`], the key of the chunk the record went to, if it was stored.
    Values {
        values: Vec<Option<Value>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recorded: Option<String>,
    },
    /// The answer to a [`Command::Record`]: the key of the chunk the record went to.
    Recorded {
        key: String,
    },
    /// The answer to a [`Command::Search`]: a page of records, and the `before_ms` of the
    /// next (`None`: no more).
    Searched {
        records: Vec<Value>,
        next_before_ms: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        usage: Option<Value>,
    },
    /// The answer to a [`Command::Usage`]: a [`usage::Usage`].
    Usage {
        usage: Value,
    },
    /// The answer to a [`Command::List`]; `more` when entries past the last were left out.
    Listed {
        entries: Vec<(String, Value)>,
        more: bool,
    },
}

/// What the object must do to its storage after [`apply`].
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    None,
    Put(Entry),
    Delete,
}

/// The answer to a [`Command::Read`], given the stored entries of its keys in order.
pub fn read(entries: Vec<Option<Entry>>, now_ms: u64) -> Outcome {
    let values = entries.into_iter().map(|e| e.filter(|e| e.is_live(now_ms)).map(|e| e.value)).collect();
    Outcome::Values { values, recorded: None }
}

/// The answer to a [`Command::List`], given the stored entries from its start in key order (at
/// most [`LIST_LIMIT`] + 1 of them, so whether there are more is known).
pub fn list(entries: Vec<(String, Entry)>, now_ms: u64) -> Outcome {
    let more = entries.len() > LIST_LIMIT;
    let entries =
        entries.into_iter().take(LIST_LIMIT).filter(|(_, e)| e.is_live(now_ms)).map(|(k, e)| (k, e.value)).collect();
    Outcome::Listed { entries, more }
}

/// Decides a single-entry command against the current entry at `now_ms`. The commands that
/// span several entries ([`Command::Read`], [`Command::List`]) are answered by [`read`] and
/// [`list`] and change nothing here.
pub fn apply(command: Command, current: Option<Entry>, now_ms: u64) -> (Outcome, Effect) {
    let live = current.filter(|e| e.is_live(now_ms));
    let held_by = |entry: &Entry, holder: &str| entry.value.as_str() == Some(holder);
    match (command, live) {
        (Command::Insert { .. }, Some(_)) => (Outcome::AlreadyExists, Effect::None),
        (Command::Insert { value, expires_at_ms, .. }, None) => {
            if expires_at_ms <= now_ms {
                // Already expired: storing it would be pointless.
                return (Outcome::Inserted, Effect::None);
            }
            (Outcome::Inserted, Effect::Put(Entry { value, expires_at_ms }))
        }
        (Command::Take { .. }, Some(entry)) => (Outcome::Taken { value: entry.value }, Effect::Delete),
        (Command::Take { .. }, None) => (Outcome::Missing, Effect::Delete),
        (Command::Get { .. }, Some(entry)) => (Outcome::Found { value: entry.value }, Effect::None),
        (Command::Get { .. }, None) => (Outcome::Missing, Effect::None),
        (Command::Put { value, expires_at_ms, .. }, _) => {
            (Outcome::Stored, Effect::Put(Entry { value, expires_at_ms }))
        }
        (Command::Acquire { holder, .. }, Some(entry)) if !held_by(&entry, &holder) => (Outcome::Busy, Effect::None),
        (Command::Acquire { holder, expires_at_ms, .. }, _) => {
            (Outcome::Acquired, Effect::Put(Entry { value: Value::String(holder), expires_at_ms }))
        }
        (Command::Release { holder, .. }, Some(entry)) if held_by(&entry, &holder) => {
            (Outcome::Released, Effect::Delete)
        }
        (Command::Release { .. }, _) => (Outcome::Missing, Effect::None),
        (
            Command::Read { .. }
            | Command::List { .. }
            | Command::ReadAndRecord { .. }
            | Command::Record { .. }
            | Command::Attach { .. }
            | Command::Tally { .. }
            | Command::Search { .. }
            | Command::Usage { .. },
            _,
        ) => (Outcome::Missing, Effect::None),
        (Command::PutNewer { value, expires_at_ms, .. }, live) => {
            let version = |v: &Value| v.get("version").and_then(Value::as_u64).unwrap_or(0);
            match live {
                Some(current) if version(&current.value) >= version(&value) => {
                    (Outcome::Conflict { current: Some(current.value) }, Effect::None)
                }
                _ => (Outcome::Stored, Effect::Put(Entry { value, expires_at_ms })),
            }
        }
        (Command::Cas { expected, value, expires_at_ms, .. }, live) => {
            let current = live.map(|e| e.value);
            if current == expected {
                (Outcome::Stored, Effect::Put(Entry { value, expires_at_ms }))
            } else {
                (Outcome::Conflict { current }, Effect::None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn insert(v: i32, exp: u64) -> Command {
        Command::Insert { key: "k".into(), value: json!(v), expires_at_ms: exp }
    }

    fn take() -> Command {
        Command::Take { key: "k".into() }
    }

    #[test]
    fn take_is_single_use() {
        let (o, e) = apply(insert(1, 100), None, 0);
        assert_eq!(o, Outcome::Inserted);
        let Effect::Put(entry) = e else { panic!("{e:?}") };
        let (o, e) = apply(take(), Some(entry), 50);
        assert_eq!(o, Outcome::Taken { value: json!(1) });
        assert_eq!(e, Effect::Delete);
        // After the delete, a second take finds nothing.
        assert_eq!(apply(take(), None, 51).0, Outcome::Missing);
    }

    #[test]
    fn expired_entries_are_missing_and_replaceable() {
        let old = Entry { value: json!(1), expires_at_ms: 100 };
        assert_eq!(apply(take(), Some(old.clone()), 100).0, Outcome::Missing);
        let (o, e) = apply(insert(2, 300), Some(old), 200);
        assert_eq!(o, Outcome::Inserted);
        assert_eq!(e, Effect::Put(Entry { value: json!(2), expires_at_ms: 300 }));
    }

    #[test]
    fn live_entries_are_not_overwritten() {
        let live = Entry { value: json!(1), expires_at_ms: 100 };
        assert_eq!(apply(insert(2, 200), Some(live), 10), (Outcome::AlreadyExists, Effect::None));
    }

    fn acquire(holder: &str, exp: u64) -> Command {
        Command::Acquire { key: "lock".into(), holder: holder.into(), expires_at_ms: exp }
    }

    fn lease(holder: &str, exp: u64) -> Option<Entry> {
        Some(Entry { value: json!(holder), expires_at_ms: exp })
    }

    #[test]
    fn leases_are_exclusive_until_released_or_expired() {
        let (o, e) = apply(acquire("a", 100), None, 0);
        assert_eq!(o, Outcome::Acquired);
        assert_eq!(e, Effect::Put(Entry { value: json!("a"), expires_at_ms: 100 }));
        assert_eq!(apply(acquire("b", 100), lease("a", 100), 10).0, Outcome::Busy);
        assert_eq!(apply(acquire("a", 200), lease("a", 100), 10).0, Outcome::Acquired, "holder extends");
        assert_eq!(apply(acquire("b", 300), lease("a", 100), 100).0, Outcome::Acquired, "expired lease");
        let release = |h: &str| Command::Release { key: "lock".into(), holder: h.into() };
        assert_eq!(apply(release("b"), lease("a", 100), 10), (Outcome::Missing, Effect::None), "not b's");
        assert_eq!(apply(release("a"), lease("a", 100), 10), (Outcome::Released, Effect::Delete));
    }

    #[test]
    fn get_and_put() {
        let get = Command::Get { key: "k".into() };
        assert_eq!(apply(get.clone(), None, 0).0, Outcome::Missing);
        let live = Some(Entry { value: json!(7), expires_at_ms: 10 });
        assert_eq!(apply(get.clone(), live.clone(), 5), (Outcome::Found { value: json!(7) }, Effect::None));
        assert_eq!(apply(get, live.clone(), 10).0, Outcome::Missing, "expired");
        let put = Command::Put { key: "k".into(), value: json!(8), expires_at_ms: 20 };
        assert_eq!(apply(put, live, 5), (Outcome::Stored, Effect::Put(Entry { value: json!(8), expires_at_ms: 20 })));
    }

    #[test]
    fn compare_and_swap() {
        let cas = |expected: Option<Value>, v: i32| Command::Cas {
            key: "k".into(),
            expected,
            value: json!(v),
            expires_at_ms: 100,
        };
        assert_eq!(apply(cas(None, 1), None, 0).0, Outcome::Stored);
        let live = Some(Entry { value: json!(1), expires_at_ms: 100 });
        assert_eq!(apply(cas(Some(json!(1)), 2), live.clone(), 0).0, Outcome::Stored);
        assert_eq!(
            apply(cas(Some(json!(9)), 2), live.clone(), 0),
            (Outcome::Conflict { current: Some(json!(1)) }, Effect::None)
        );
        assert_eq!(apply(cas(None, 2), live, 0).0, Outcome::Conflict { current: Some(json!(1)) });
    }

    #[test]
    fn wire_format() {
        let c: Command = serde_json::from_str(r#"{"op":"take","key":"abc"}"#).unwrap();
        assert_eq!(c.key(), Some("abc"));
        assert_eq!(serde_json::to_string(&Outcome::Missing).unwrap(), r#"{"outcome":"missing"}"#);
        let r: Command = serde_json::from_str(r#"{"op":"read","keys":["a","b"]}"#).unwrap();
        assert_eq!((r.key(), r.named_keys()), (None, vec!["a", "b"]));
    }

    #[test]
    fn put_newer_only_moves_forward() {
        let put = |v: u64| Command::PutNewer { key: "k".into(), value: json!({"version": v}), expires_at_ms: 100 };
        assert_eq!(apply(put(1), None, 0).0, Outcome::Stored);
        let live = Some(Entry { value: json!({"version": 2}), expires_at_ms: 100 });
        assert_eq!(apply(put(2), live.clone(), 0).0, Outcome::Conflict { current: Some(json!({"version": 2})) });
        assert_eq!(apply(put(1), live.clone(), 0).1, Effect::None);
        assert_eq!(apply(put(3), live, 0).1, Effect::Put(Entry { value: json!({"version": 3}), expires_at_ms: 100 }));
        let dead = Some(Entry { value: json!({"version": 9}), expires_at_ms: 10 });
        assert_eq!(apply(put(1), dead, 50).0, Outcome::Stored, "an expired copy is replaced");
    }

    #[test]
    fn read_returns_live_entries_in_order() {
        let e = |v: i32, exp: u64| Some(Entry { value: json!(v), expires_at_ms: exp });
        assert_eq!(
            read(vec![e(1, 100), None, e(3, 50), e(4, 200)], 60),
            Outcome::Values { values: vec![Some(json!(1)), None, None, Some(json!(4))], recorded: None }
        );
        let (o, effect) = apply(Command::Read { keys: vec!["k".into()] }, e(1, 100), 0);
        assert_eq!((o, effect), (Outcome::Missing, Effect::None), "apply never touches storage for a read");
    }

    #[test]
    fn list_drops_dead_entries_and_says_when_there_are_more() {
        let entry = |k: usize, exp: u64| (format!("p:{k:04}"), Entry { value: json!(k), expires_at_ms: exp });
        let few: Vec<_> = (0..3).map(|k| entry(k, if k == 1 { 10 } else { 100 })).collect();
        let Outcome::Listed { entries, more } = list(few, 50) else { panic!() };
        assert_eq!(entries.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["p:0000", "p:0002"]);
        assert!(!more);
        let many: Vec<_> = (0..=LIST_LIMIT).map(|k| entry(k, 100)).collect();
        let Outcome::Listed { entries, more } = list(many, 50) else { panic!() };
        assert_eq!((entries.len(), more), (LIST_LIMIT, true));
    }
}
