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

/// Which records a search returns: each field given must match (an empty one is not given).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    /// The app: the record's `client_id`, exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// A part of the record's `action` (a tool name, `GET /v2/objects`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// `ok`: only calls that succeeded; anything else: only those that did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// A part of who acted (`by`, the Access email).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// Only records at or after this time.
    #[serde(default)]
    pub since_ms: u64,
}

impl Filter {
    pub fn matches(&self, record: &Value) -> bool {
        let text = |field: &str| record.get(field).and_then(Value::as_str).unwrap_or_default();
        let given = |f: &Option<String>| f.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        at_ms(record) >= self.since_ms
            && given(&self.app).is_none_or(|a| text("client_id") == a)
            && given(&self.tool).is_none_or(|t| text("action").contains(&t))
            && given(&self.outcome).is_none_or(|o| (text("outcome") == "ok") == (o == "ok"))
            && given(&self.by).is_none_or(|b| text("by").contains(&b))
    }

    /// Whether a page before `before_ms` shows `record`.
    pub fn keeps(&self, record: &Value, before_ms: Option<u64>) -> bool {
        at_ms(record) < before_ms.unwrap_or(u64::MAX) && self.matches(record)
    }
}

/// The most rows (chunks) one search reads: 2,000 chunks hold up to 64,000 records. A view
/// across people shares this among their objects.
pub const SEARCH_ROWS: usize = 2_000;

/// A record's time.
pub fn at_ms(record: &Value) -> u64 {
    record.get("at_ms").and_then(Value::as_u64).unwrap_or(0)
}

/// A page of a search: the records `filter` keeps among `rows` (up to `max_rows` + 1 chunks,
/// newest first, as listed from the first chunk that may hold a record before `before_ms`),
/// newest first, at most `limit`; and where the next page starts (`None`: no more). A page
/// never splits the records of one millisecond.
pub fn search(
    rows: Vec<(String, Entry)>,
    max_rows: usize,
    filter: &Filter,
    before_ms: Option<u64>,
    limit: usize,
) -> (Vec<Value>, Option<u64>) {
    let more_rows = rows.len() > max_rows;
    let scanned: Vec<Value> = rows.into_iter().take(max_rows).flat_map(|(_, e)| records_of(e.value)).collect();
    let oldest_scanned = scanned.iter().map(at_ms).min();
    let mut found: Vec<Value> = scanned.into_iter().filter(|r| filter.keeps(r, before_ms)).collect();
    found.sort_by_key(|r| std::cmp::Reverse(at_ms(r)));
    if found.len() > limit {
        let cut = at_ms(&found[limit]);
        found.truncate(limit);
        while found.len() > 1 && found.last().is_some_and(|r| at_ms(r) == cut) {
            found.pop();
        }
        let next = found.last().map(at_ms);
        return (found, next);
    }
    // The chunks not read yet hold records older than every one read.
    (found, if more_rows { oldest_scanned } else { None })
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

    fn chunks(times: &[&[u64]]) -> Vec<(String, Entry)> {
        times
            .iter()
            .enumerate()
            .map(|(i, ts)| {
                let mut c = Chunk::new(&format!("c{i}"), 0);
                for t in *ts {
                    c.push(
                        json!({"id": format!("r{t}"), "at_ms": t, "outcome": if t % 2 == 0 { "ok" } else { "error" }}),
                        99,
                    );
                }
                (c.key.clone(), c.encode())
            })
            .collect()
    }

    fn times(records: &[Value]) -> Vec<u64> {
        records.iter().map(at_ms).collect()
    }

    #[test]
    fn a_search_pages_newest_first_by_whole_milliseconds_and_says_where_to_go_on() {
        let rows = chunks(&[&[9, 8, 8], &[7, 6], &[5]]);
        let (page, next) = search(rows.clone(), 9, &Filter::default(), None, 2);
        assert_eq!((times(&page), next), (vec![9], Some(9)), "the two records of ms 8 stay together");
        let (page, next) = search(rows.clone(), 9, &Filter::default(), Some(9), 3);
        assert_eq!((times(&page), next), (vec![8, 8, 7], Some(7)));
        let (page, next) = search(rows.clone(), 9, &Filter::default(), Some(7), 10);
        assert_eq!((times(&page), next), (vec![6, 5], None), "all read: no more");
        let ok = Filter { outcome: Some("ok".into()), ..Filter::default() };
        assert_eq!(times(&search(rows.clone(), 9, &ok, None, 10).0), [8, 8, 6]);
        let failed = Filter { outcome: Some("error".into()), since_ms: 6, ..Filter::default() };
        assert_eq!(times(&search(rows, 9, &failed, None, 10).0), [9, 7]);
        // More chunks than one search reads: it goes on from the oldest record it read.
        let many: Vec<Vec<u64>> = (0..=64).rev().map(|t| vec![t + 100]).collect();
        let many: Vec<&[u64]> = many.iter().map(Vec::as_slice).collect();
        let none = Filter { tool: Some("absent".into()), ..Filter::default() };
        assert_eq!(search(chunks(&many), 64, &none, None, 10), (vec![], Some(101)));
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
