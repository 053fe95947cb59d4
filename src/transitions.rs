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

use serde::{Deserialize, Serialize};
use serde_json::Value;

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
}

impl Command {
    pub fn key(&self) -> &str {
        match self {
            Command::Insert { key, .. }
            | Command::Take { key }
            | Command::Get { key }
            | Command::Put { key, .. }
            | Command::Acquire { key, .. }
            | Command::Release { key, .. }
            | Command::Cas { key, .. } => key,
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
    fn is_live(&self, now_ms: u64) -> bool {
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
}

/// What the object must do to its storage after [`apply`].
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    None,
    Put(Entry),
    Delete,
}

/// Decides a command against the current entry at `now_ms`.
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
        assert_eq!(c.key(), "abc");
        assert_eq!(serde_json::to_string(&Outcome::Missing).unwrap(), r#"{"outcome":"missing"}"#);
    }
}
