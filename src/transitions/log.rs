//! A log kept in an object in chunks: up to [`CHUNK_RECORDS`] records (or [`CHUNK_BYTES`] of
//! them, or an hour's) share one stored entry, so adding a record or attaching its outcome
//! rewrites one row, and retention deletes one row per chunk rather than one per record.
//! SQLite-backed objects bill by rows written (a delete is one too): a record costs two rows
//! (stored, then its outcome) and its retention a thirty-second of one.
//!
//! The caller names where a log lives ([`Log`]: its keys' prefix, which sorts newest first, and
//! the key a new chunk takes), so the store keeps owning every key. A chunk is stored as
//! `{"records": "<JSON array>", "started_ms": n}`: one string for the platform to serialize
//! rather than an object per record.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Entry;

/// The most records in a chunk.
pub const CHUNK_RECORDS: usize = 32;
/// A chunk takes no more records once its JSON is this long.
pub const CHUNK_BYTES: usize = 16 * 1024;
/// A chunk takes no more records this long after its first: retention keeps no record more
/// than this past its month.
pub const CHUNK_SPAN_MS: u64 = 3_600_000;
/// How many of the oldest rows a new chunk looks at, deleting those expired: more than the one
/// chunk it adds, so the log never outgrows its retention.
pub const PRUNE_MAX: usize = 4;

/// Where a log lives in its object, as the caller names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Log {
    /// What every chunk key starts with (keys sort newest first under it).
    pub prefix: String,
    /// The key a new chunk takes, if this command starts one.
    pub new_key: String,
}

/// Where a record was stored: its chunk's key and its `id` there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    pub key: String,
    pub id: String,
}

/// One chunk, as the object holds it between requests (a cache of the stored entry).
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    pub key: String,
    pub started_ms: u64,
    pub expires_at_ms: u64,
    pub records: Vec<Value>,
    /// The length of the records' JSON when last encoded.
    bytes: usize,
}

impl Chunk {
    pub fn new(key: &str, now_ms: u64) -> Chunk {
        Chunk { key: key.into(), started_ms: now_ms, expires_at_ms: 0, records: Vec::new(), bytes: 0 }
    }

    /// The chunk a stored entry holds; `None` for anything else (a record stored on its own
    /// by an earlier release).
    pub fn from_entry(key: &str, entry: &Entry) -> Option<Chunk> {
        let text = entry.value.get("records")?.as_str()?;
        let records: Vec<Value> = serde_json::from_str(text).ok()?;
        let started_ms = entry.value.get("started_ms").and_then(Value::as_u64).unwrap_or(0);
        Some(Chunk { key: key.into(), started_ms, expires_at_ms: entry.expires_at_ms, records, bytes: text.len() })
    }

    /// The entry to store.
    pub fn encode(&mut self) -> Entry {
        let text = serde_json::to_string(&self.records).unwrap_or_else(|_| "[]".into());
        self.bytes = text.len();
        Entry {
            value: serde_json::json!({ "records": text, "started_ms": self.started_ms }),
            expires_at_ms: self.expires_at_ms,
        }
    }

    /// Whether another record may join at `now_ms`.
    pub fn has_room(&self, now_ms: u64) -> bool {
        self.records.len() < CHUNK_RECORDS
            && self.bytes < CHUNK_BYTES
            && now_ms < self.started_ms.saturating_add(CHUNK_SPAN_MS)
    }

    /// Adds `record`, kept until at least `expires_at_ms`.
    pub fn push(&mut self, record: Value, expires_at_ms: u64) {
        self.records.push(record);
        self.expires_at_ms = self.expires_at_ms.max(expires_at_ms);
    }

    /// Sets each field of `patch` on the record `id`; false when it is not here.
    pub fn patch(&mut self, id: &str, patch: &Value) -> bool {
        let Some(record) = self.record_mut(id) else { return false };
        if let (Some(record), Some(fields)) = (record.as_object_mut(), patch.as_object()) {
            for (k, v) in fields {
                record.insert(k.clone(), v.clone());
            }
        }
        true
    }

    /// Removes the record `id`; false when it is not here.
    pub fn remove(&mut self, id: &str) -> bool {
        let before = self.records.len();
        self.records.retain(|r| r.get("id").and_then(Value::as_str) != Some(id));
        self.records.len() != before
    }

    fn record_mut(&mut self, id: &str) -> Option<&mut Value> {
        self.records.iter_mut().rev().find(|r| r.get("id").and_then(Value::as_str) == Some(id))
    }
}

/// The records a value listed under a log's prefix holds: a chunk's, or the single record an
/// earlier release stored on its own.
pub fn records_of(value: Value) -> Vec<Value> {
    match value.get("records").and_then(Value::as_str) {
        Some(text) => serde_json::from_str(text).unwrap_or_default(),
        None => vec![value],
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_chunk_round_trips_and_edits_its_records_by_id() {
        let mut chunk = Chunk::new("c", 1_000);
        chunk.push(json!({"id": "a", "outcome": "unknown"}), 50);
        chunk.push(json!({"id": "b", "outcome": "unknown"}), 70);
        assert!(chunk.patch("a", &json!({"outcome": "ok", "status": 200})));
        assert!(!chunk.patch("zz", &json!({"outcome": "ok"})));
        assert!(chunk.remove("b") && !chunk.remove("b"));
        let entry = chunk.encode();
        assert_eq!(entry.expires_at_ms, 70, "a chunk lives as long as its newest record");
        assert!(entry.value["records"].is_string(), "stored as one string: {entry:?}");
        let back = Chunk::from_entry("c", &entry).unwrap();
        assert_eq!(back, chunk);
        assert_eq!(records_of(entry.value), [json!({"id": "a", "outcome": "ok", "status": 200})]);
        assert_eq!(records_of(json!({"id": "single"})), [json!({"id": "single"})], "an earlier release's record");
        assert_eq!(Chunk::from_entry("k", &Entry { value: json!({"id": "single"}), expires_at_ms: 1 }), None);
    }

    #[test]
    fn a_chunk_is_full_by_count_by_size_or_by_age() {
        let mut chunk = Chunk::new("c", 0);
        for i in 0..CHUNK_RECORDS {
            assert!(chunk.has_room(1));
            chunk.push(json!({"id": i}), 1);
        }
        assert!(!chunk.has_room(1), "count");
        let mut big = Chunk::new("c", 0);
        big.push(json!({"id": "x", "ids": ["y".repeat(CHUNK_BYTES)]}), 1);
        big.encode();
        assert!(!big.has_room(1), "size");
        assert!(!Chunk::new("c", 0).has_room(CHUNK_SPAN_MS), "age");
    }
}
