//! What the `Transitions` object does with one command, over any storage: the real class
//! (`src/edge/durable.rs`, the runtime's storage) and the fake platform (`src/testing`, storage
//! in memory, every row counted for the budget model) run this same code, so what the host
//! tests count is what production does.
//!
//! A Durable Object handles one event at a time and holds other events while a storage call is
//! in flight, so the read-decide-write of a command cannot interleave with another's. What the
//! object keeps in memory ([`Memory`]) is a cache of its own storage (the latest expiry, the
//! log's newest chunk) or a count it may lose (refusal tallies): a restart only costs a read.

use std::cell::RefCell;
use std::future::Future;

use serde_json::{json, Value};

use std::collections::BTreeMap;

use super::log::{at_ms, records_of, search, Chunk, Log, Place, CHUNK_SPAN_MS, PRUNE_MAX, SEARCH_ROWS};
use super::usage::{hours_from, last_closable, Counter, Totals, UsageQuery, DAYS_MAX, DAY_MS};

/// The most records one search returns.
const SEARCH_LIMIT: usize = 1_000;
use super::records::{remember, Tallied};
use super::{alarm_at, apply, expired_keys, list, read, read_and_record, tally, Command, Effect, Entry, Outcome};
use super::{Tallies, LIST_LIMIT};

/// A storage call failed (the object answers 500; the caller sees it as unavailable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed(pub String);

/// An object's storage, as the commands use it. Keys never include [`LATEST_EXPIRY`], which
/// the object keeps for its clean-up alarm.
pub trait ObjectStorage {
    /// The entries of `keys`, in order (one read).
    fn get(&self, keys: &[String]) -> impl Future<Output = Result<Vec<Option<Entry>>, Failed>>;
    fn put(&self, key: &str, entry: &Entry) -> impl Future<Output = Result<(), Failed>>;
    fn delete(&self, keys: Vec<String>) -> impl Future<Output = Result<(), Failed>>;
    /// Up to `limit` entries under `prefix` in key order (reversed: from the last), from
    /// `start` (inclusive) when given.
    fn list(
        &self,
        prefix: &str,
        start: Option<&str>,
        reverse: bool,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<(String, Entry)>, Failed>>;
    /// The stored [`LATEST_EXPIRY`].
    fn latest_expiry(&self) -> impl Future<Output = Result<Option<u64>, Failed>>;
    /// Stores [`LATEST_EXPIRY`] and sets the clean-up alarm for then.
    fn set_latest_expiry(&self, at_ms: u64, now_ms: u64) -> impl Future<Output = Result<(), Failed>>;
}

/// Storage key holding the latest expiry of any entry (for the clean-up alarm).
pub const LATEST_EXPIRY: &str = "__latest_expiry_ms";

/// What an object keeps between requests: caches of its storage and counts, never anything a
/// decision relies on.
#[derive(Debug, Default)]
pub struct Memory {
    /// [`LATEST_EXPIRY`] as last read or written.
    pub latest: Option<u64>,
    /// Refusal tallies counted since the object started.
    pub tallies: Tallies,
    /// The log's newest chunk as last written.
    pub chunk: Option<Chunk>,
}

/// Carries out `command` at `now_ms`.
pub async fn execute<S: ObjectStorage>(
    s: &S,
    memory: &RefCell<Memory>,
    command: Command,
    now_ms: u64,
) -> Result<Outcome, Failed> {
    Ok(match command {
        Command::Read { keys } => read(s.get(&keys).await?, now_ms),
        Command::ReadAndRecord { keys, token_hashes, record, expires_at_ms, log } => {
            let (outcome, admitted) = read_and_record(s.get(&keys).await?, &token_hashes, record, now_ms);
            let Outcome::Values { values, .. } = outcome else { return Ok(outcome) };
            let recorded = match admitted {
                Some(record) => edit_log(s, memory, Some((&log, record, expires_at_ms)), Vec::new(), now_ms).await?,
                None => None,
            };
            Outcome::Values { values, recorded }
        }
        Command::Record { record, expires_at_ms, log } => {
            let key = edit_log(s, memory, Some((&log, record, expires_at_ms)), Vec::new(), now_ms).await?;
            Outcome::Recorded { key: key.unwrap_or_default() }
        }
        Command::Attach { place, patch } => {
            edit_log(s, memory, None, vec![(place, Change::Patch(patch))], now_ms).await?;
            Outcome::Stored
        }
        Command::Tally { series, minute_ms, mut record, expires_at_ms, drop, log } => {
            let mut changes: Vec<(Place, Change)> = drop.into_iter().map(|d| (d, Change::Remove)).collect();
            let step = tally(&mut memory.borrow_mut().tallies, &series, minute_ms);
            let Tallied::Add { total } = step else {
                edit_log(s, memory, None, changes, now_ms).await?;
                return Ok(Outcome::Stored);
            };
            if let Some((place, count)) = total {
                changes.push((place, Change::Patch(json!({ "count": count }))));
            }
            record["count"] = Value::from(1);
            let id = record.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
            if let Some(key) = edit_log(s, memory, Some((&log, record, expires_at_ms)), changes, now_ms).await? {
                remember(&mut memory.borrow_mut().tallies, series, minute_ms, Place { key, id });
            }
            Outcome::Stored
        }
        Command::Search { prefix, start, filter, before_ms, limit, rows, usage } => {
            let max_rows = rows.clamp(1, SEARCH_ROWS);
            let limit = limit.min(SEARCH_LIMIT);
            let listed =
                newest_rows(s, &prefix, start, max_rows, |rows| matching(rows, &filter, before_ms) > limit).await?;
            let (records, next_before_ms) = search(listed, max_rows, &filter, before_ms, limit);
            let usage = match usage {
                Some(query) => Some(log_usage(s, memory, query, now_ms).await?),
                None => None,
            };
            Outcome::Searched { records, next_before_ms, usage }
        }
        Command::Usage { query } => Outcome::Usage { usage: log_usage(s, memory, query, now_ms).await? },
        Command::List { prefix, after } => {
            // `start` is inclusive: the smallest key after `after` is `after` + NUL.
            let start = after.map(|a| format!("{a}\0"));
            list(s.list(&prefix, start.as_deref(), false, LIST_LIMIT + 1).await?, now_ms)
        }
        single => {
            let key = single.key().unwrap_or_default().to_string();
            // A put replaces whatever is there: nothing to read first.
            let current = match single {
                Command::Put { .. } => None,
                _ => s.get(std::slice::from_ref(&key)).await?.pop().flatten(),
            };
            let (outcome, effect) = apply(single, current, now_ms);
            match effect {
                Effect::Put(entry) => put(s, memory, &key, &entry, now_ms).await?,
                Effect::Delete => s.delete(vec![key]).await?,
                Effect::None => {}
            }
            outcome
        }
    })
}

/// Stores `entry`, moving the object's latest expiry (and its alarm) when it is later: with
/// [`alarm_at`]'s day rounding, once a day for a busy log.
async fn put<S: ObjectStorage>(
    s: &S,
    memory: &RefCell<Memory>,
    key: &str,
    entry: &Entry,
    now_ms: u64,
) -> Result<(), Failed> {
    let cached = memory.borrow().latest;
    let known = match cached {
        Some(l) => Some(l),
        None => s.latest_expiry().await?,
    };
    let at = alarm_at(entry.expires_at_ms, now_ms);
    s.put(key, entry).await?;
    if known.is_none_or(|l| l < at) {
        s.set_latest_expiry(at, now_ms).await?;
        memory.borrow_mut().latest = Some(at);
    } else {
        memory.borrow_mut().latest = known;
    }
    Ok(())
}

/// What a command does to a record already in the log.
enum Change {
    Patch(Value),
    Remove,
}

/// Adds `append`'s record to its log's newest chunk (a new chunk under the log's `new_key` when
/// that one is full, and then the expired among the oldest [`PRUNE_MAX`] rows deleted) and makes `changes`
/// to the records they name, writing each chunk touched once. Returns the key of the chunk the
/// record went to.
async fn edit_log<S: ObjectStorage>(
    s: &S,
    memory: &RefCell<Memory>,
    append: Option<(&Log, Value, u64)>,
    changes: Vec<(Place, Change)>,
    now_ms: u64,
) -> Result<Option<String>, Failed> {
    // Taken out, put back only once storage agrees with it.
    let cached = memory.borrow_mut().chunk.take();
    let mut newest = match (cached, &append) {
        (Some(c), Some((log, ..))) if c.key.starts_with(&log.prefix) => Some(c),
        (_, Some((log, ..))) => newest_chunk(s, &log.prefix).await?,
        (cached, None) => cached,
    };
    let mut others: Vec<Chunk> = Vec::new();
    let mut touched: Vec<String> = Vec::new();
    for (place, change) in changes {
        let in_newest = newest.as_ref().is_some_and(|c| c.key == place.key);
        if !in_newest && !others.iter().any(|c| c.key == place.key) {
            let stored = s.get(std::slice::from_ref(&place.key)).await?.pop().flatten();
            match stored.and_then(|e| Chunk::from_entry(&place.key, &e)) {
                Some(chunk) => others.push(chunk),
                None => continue,
            }
        }
        let Some(chunk) = newest.iter_mut().chain(others.iter_mut()).find(|c| c.key == place.key) else { continue };
        let changed = match change {
            Change::Patch(patch) => chunk.patch(&place.id, &patch),
            Change::Remove => chunk.remove(&place.id),
        };
        if changed && !touched.contains(&place.key) {
            touched.push(place.key);
        }
    }
    let mut started = None;
    let mut appended = None;
    if let Some((log, record, expires_at_ms)) = append {
        let chunk = match newest.take() {
            Some(c) if c.has_room(now_ms) => c,
            _ => {
                started = Some(log.prefix.as_str());
                Chunk::new(&log.new_key, now_ms)
            }
        };
        let chunk = newest.insert(chunk);
        chunk.push(record, expires_at_ms);
        touched.retain(|k| *k != chunk.key);
        touched.push(chunk.key.clone());
        appended = Some(chunk.key.clone());
    }
    for chunk in newest.iter_mut().chain(others.iter_mut()).filter(|c| touched.contains(&c.key)) {
        put(s, memory, &chunk.key.clone(), &chunk.encode(), now_ms).await?;
    }
    if let Some(prefix) = started {
        let oldest = s.list(prefix, None, true, PRUNE_MAX).await?;
        let expired: Vec<String> =
            expired_keys(oldest, now_ms).into_iter().filter(|k| Some(k) != appended.as_ref()).collect();
        if !expired.is_empty() {
            s.delete(expired).await?;
        }
    }
    memory.borrow_mut().chunk = newest;
    Ok(appended)
}

/// Rows under `prefix` from `start` (inclusive), in key order, listed a batch at a time (the
/// first `first` rows, each next batch `growth` times larger, up to `most`) and each batch handed
/// to `on_batch`, until it says the scan is done, a batch comes back short, or `max_rows` rows
/// were read: what a question needs, not the whole log.
async fn scan<S: ObjectStorage>(
    s: &S,
    prefix: &str,
    mut start: Option<String>,
    max_rows: usize,
    (first, growth, most): (usize, usize, usize),
    mut on_batch: impl FnMut(Vec<(String, Entry)>) -> bool,
) -> Result<(), Failed> {
    let (mut read, mut batch) = (0, first);
    while read < max_rows {
        let take = batch.min(max_rows - read);
        let rows = s.list(prefix, start.as_deref(), false, take).await?;
        let got = rows.len();
        read += got;
        // `start` is inclusive: the smallest key after the last is it + NUL.
        start = rows.last().map(|(k, _)| format!("{k}\0"));
        if on_batch(rows) || got < take {
            return Ok(());
        }
        batch = batch.saturating_mul(growth).min(most);
    }
    Ok(())
}

/// Up to `max_rows` + 1 rows under `prefix` from `start`, in key order, read a few at a time (8,
/// then four times as many each time) until `enough`, shown each batch as it is read, says the
/// rows so far answer the question: a page of the newest entries reads a handful of rows, not
/// `max_rows`.
async fn newest_rows<S: ObjectStorage>(
    s: &S,
    prefix: &str,
    start: Option<String>,
    max_rows: usize,
    mut enough: impl FnMut(&[(String, Entry)]) -> bool,
) -> Result<Vec<(String, Entry)>, Failed> {
    let mut listed: Vec<(String, Entry)> = Vec::new();
    scan(s, prefix, start, max_rows + 1, (8, 4, usize::MAX), |rows| {
        let answered = enough(&rows);
        listed.extend(rows);
        answered
    })
    .await?;
    Ok(listed)
}

/// How many records in `rows` (chunks) `filter` keeps before `before_ms`.
fn matching(rows: &[(String, Entry)], filter: &super::log::Filter, before_ms: Option<u64>) -> usize {
    rows.iter().flat_map(|(_, e)| records_of(e.value.clone())).filter(|r| filter.keeps(r, before_ms)).count()
}

/// The usage of the log `query` names (see [`super::usage`]): the stored rows of closed days,
/// the rows of days closed since the last written now, the open days counted from the chunks.
async fn log_usage<S: ObjectStorage>(
    s: &S,
    memory: &RefCell<Memory>,
    query: Value,
    now_ms: u64,
) -> Result<Value, Failed> {
    let query: UsageQuery = serde_json::from_value(query).map_err(|e| Failed(format!("malformed usage query: {e}")))?;
    let today = now_ms / DAY_MS;
    let oldest = today.saturating_sub(DAYS_MAX - 1);
    let first = query.from_day.clamp(oldest, today);
    let day_key = |day: u64| format!("{}{day:06}", query.days_prefix);
    let day_of = |key: &str| key.strip_prefix(&query.days_prefix).and_then(|d| d.parse::<u64>().ok());
    // The newest closed day always has a row: the days after it are still to be counted.
    let newest = s.list(&query.days_prefix, None, true, 1).await?;
    let closed_through = newest.iter().filter(|(_, e)| e.is_live(now_ms)).find_map(|(k, _)| day_of(k));
    let counted_from = closed_through.map_or(oldest, |d| d + 1).max(oldest);
    let mut stored: BTreeMap<u64, Totals> = BTreeMap::new();
    if first < counted_from {
        for (key, entry) in s.list(&query.days_prefix, Some(&day_key(first)), false, DAYS_MAX as usize + 1).await? {
            if let (Some(day), true) = (day_of(&key), entry.is_live(now_ms)) {
                stored.insert(day, serde_json::from_value(entry.value).unwrap_or_default());
            }
        }
    }
    let scan_from = (counted_from * DAY_MS).min(hours_from(now_ms));
    let mut counter = Counter::new(counted_from, now_ms, &query.destructive);
    each_row_since(s, &query.log_prefix, scan_from, |entry| {
        records_of(entry.value).iter().filter(|r| at_ms(r) >= scan_from).for_each(|r| counter.count(r));
    })
    .await?;
    let (mut counted, mut usage) = counter.finish();
    if let Some(closable) = last_closable(now_ms).filter(|c| *c >= counted_from) {
        for day in counted_from..=closable {
            let totals = counted.get(&day);
            if totals.is_some() || day == closable {
                let value = serde_json::to_value(totals.cloned().unwrap_or_default()).unwrap_or_default();
                let entry = Entry { value, expires_at_ms: (day + 1) * DAY_MS + query.keep_ms };
                put(s, memory, &day_key(day), &entry, now_ms).await?;
            }
        }
        let oldest = s.list(&query.days_prefix, None, false, PRUNE_MAX).await?;
        let expired = expired_keys(oldest, now_ms);
        if !expired.is_empty() {
            s.delete(expired).await?;
        }
    }
    counted.extend(stored);
    let days = counted.into_iter().filter(|(d, t)| *d >= first && t.outcomes.total() > 0).collect();
    usage.days = days;
    serde_json::to_value(usage).map_err(|e| Failed(e.to_string()))
}

/// Each row of the log under `prefix` that may hold a record from `since_ms` on, newest first,
/// up to [`SEARCH_ROWS`], handed to `each` a batch at a time (16 rows, twice as many each time,
/// 128 at most: most views need the last day's): the object never holds a month of chunks.
async fn each_row_since<S: ObjectStorage>(
    s: &S,
    prefix: &str,
    since_ms: u64,
    mut each: impl FnMut(Entry),
) -> Result<(), Failed> {
    scan(s, prefix, None, SEARCH_ROWS, (16, 2, 128), |rows| {
        for (_, entry) in rows {
            // Keys sort newest first: a chunk begun a span before `since_ms` ends the scan.
            let done = chunk_start(&entry).saturating_add(CHUNK_SPAN_MS) < since_ms;
            each(entry);
            if done {
                return true;
            }
        }
        false
    })
    .await
}

/// When a listed row of a log began: a chunk's start, or a record's time (an earlier release's
/// record stored on its own).
fn chunk_start(entry: &Entry) -> u64 {
    entry.value.get("started_ms").and_then(Value::as_u64).unwrap_or_else(|| at_ms(&entry.value))
}

/// The newest chunk under `prefix` (a record an earlier release stored on its own is none).
async fn newest_chunk<S: ObjectStorage>(s: &S, prefix: &str) -> Result<Option<Chunk>, Failed> {
    let newest = s.list(prefix, None, false, 1).await?;
    Ok(newest.first().and_then(|(key, entry)| Chunk::from_entry(key, entry)))
}
