//! The rules of the commands that keep the audit log in a person's object
//! ([`super::Command::ReadAndRecord`], [`super::Command::Tally`],
//! [`super::Command::PutAndPrune`]): which record a read stores, how refused calls are counted
//! a minute at a time, which expired records go, and when the clean-up alarm fires for such
//! long-lived records.

use serde_json::Value;

use super::{read, Entry, Outcome};

/// When the clean-up alarm must fire for an entry expiring at `expires_at_ms`: then, for an
/// entry that lives a day or less; otherwise at the start of the next day after it, so the many
/// long-lived entries of a busy object (audit records, 30 days) move the object's latest expiry,
/// and rewrite it, once a day rather than on every write.
pub fn alarm_at(expires_at_ms: u64, now_ms: u64) -> u64 {
    const DAY_MS: u64 = 86_400_000;
    if expires_at_ms.saturating_sub(now_ms) <= DAY_MS {
        expires_at_ms
    } else {
        (expires_at_ms / DAY_MS).saturating_add(1).saturating_mul(DAY_MS)
    }
}

/// The answer to a [`super::Command::ReadAndRecord`] given the stored entries of its keys (the first
/// the grant), and the entry to store under its `record_key`, if the grant admits it.
pub fn read_and_record(
    entries: Vec<Option<Entry>>,
    token_hashes: &[String],
    mut record: Value,
    expires_at_ms: u64,
    now_ms: u64,
) -> (Outcome, Option<Entry>) {
    let grant = entries.first().cloned().flatten().filter(|e| e.is_live(now_ms)).map(|e| e.value);
    let admitted = grant.as_ref().filter(|g| {
        let live = g.get("revoked").and_then(Value::as_bool) != Some(true)
            && g.get("expires_at_ms").and_then(Value::as_u64).is_some_and(|t| now_ms < t);
        let access = g.get("access").and_then(Value::as_array).into_iter().flatten();
        let mut hashes = access.filter_map(|a| a.get("hash").and_then(Value::as_str));
        live && hashes.any(|h| token_hashes.iter().any(|t| crate::secret::constant_time_eq(t.as_bytes(), h.as_bytes())))
    });
    let stored = admitted.map(|g| {
        record["client_id"] = g.get("client_id").cloned().unwrap_or(Value::Null);
        Entry { value: record, expires_at_ms }
    });
    (read(entries, now_ms), stored)
}

/// The keys among `oldest` (the last keys under a prefix, with their entries) whose entries
/// have expired: what a [`super::Command::PutAndPrune`] deletes.
pub fn expired_keys(oldest: Vec<(String, Entry)>, now_ms: u64) -> Vec<String> {
    oldest.into_iter().filter(|(_, e)| !e.is_live(now_ms)).map(|(k, _)| k).collect()
}

/// The most tally series an object keeps counting in memory.
pub const TALLIES_MAX: usize = 1_000;

/// What an object remembers of each tally series it counted since it started: the current
/// minute's key, the record as stored, and the count so far.
pub type Tallies = std::collections::BTreeMap<String, (String, Entry, u64)>;

/// A [`super::Command::Tally`] against the object's `memory`: the records to write (the previous
/// minute's total, when it grew past what was written; the new minute's first record), in
/// order. The caller also deletes the command's `drop`.
pub fn tally(
    memory: &mut Tallies,
    series: String,
    key: String,
    record: Value,
    expires_at_ms: u64,
) -> Vec<(String, Entry)> {
    let mut writes = Vec::new();
    // Bounded: past this many series the object forgets the counts it has not written (each
    // record keeps at least the count it was written with).
    if memory.len() >= TALLIES_MAX && !memory.contains_key(&series) {
        memory.clear();
    }
    match memory.get_mut(&series) {
        Some((current, _, count)) if *current == key => {
            *count += 1;
            return writes;
        }
        Some((old_key, old, count)) if *count > 1 => {
            let mut total = old.clone();
            total.value["count"] = Value::from(*count);
            writes.push((std::mem::take(old_key), total));
        }
        _ => {}
    }
    let mut first = record;
    first["count"] = Value::from(1);
    let entry = Entry { value: first, expires_at_ms };
    writes.push((key.clone(), entry.clone()));
    memory.insert(series, (key, entry, 1));
    writes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tally_writes_a_minutes_first_refusal_and_its_total_once_the_next_minute_begins() {
        let mut memory = Tallies::new();
        let record = serde_json::json!({"outcome": "refused 401"});
        let mut writes = |key: &str| tally(&mut memory, "s".into(), key.into(), record.clone(), 10);
        let first = writes("m1");
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].1.value["count"], 1);
        for _ in 0..99 {
            assert!(writes("m1").is_empty(), "the rest of the minute is counted in memory");
        }
        let next = writes("m2");
        assert_eq!(
            next.iter().map(|(k, e)| (k.as_str(), e.value["count"].as_u64())).collect::<Vec<_>>(),
            [("m1", Some(100)), ("m2", Some(1))]
        );
        // A minute with one refusal has nothing more to write when the next begins.
        assert_eq!(writes("m3").len(), 1);
        // Memory is bounded: past TALLIES_MAX series it starts again.
        let mut memory = Tallies::new();
        for i in 0..=TALLIES_MAX {
            tally(&mut memory, format!("s{i}"), "m".into(), record.clone(), 10);
        }
        assert_eq!(memory.len(), 1);
    }
}
