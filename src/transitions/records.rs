//! The rules of the commands that keep the audit log in a person's object
//! ([`super::Command::ReadAndRecord`], [`super::Command::Tally`]): which record a read stores,
//! how refused calls are counted a minute at a time, which expired rows go, and when the
//! clean-up alarm fires for such long-lived records.

use serde_json::Value;

use super::{read, Entry, Outcome, Place};

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

/// The answer to a [`super::Command::ReadAndRecord`] given the stored entries of its keys (the
/// first the grant), and the record to add to the log, if the grant admits it.
pub fn read_and_record(
    entries: Vec<Option<Entry>>,
    token_hashes: &[String],
    mut record: Value,
    now_ms: u64,
) -> (Outcome, Option<Value>) {
    let grant = entries.first().cloned().flatten().filter(|e| e.is_live(now_ms)).map(|e| e.value);
    let admitted = grant.as_ref().filter(|g| {
        let live = g.get("revoked").and_then(Value::as_bool) != Some(true)
            && g.get("expires_at_ms").and_then(Value::as_u64).is_some_and(|t| now_ms < t);
        // Only access tokens still within their lifetime: an expired one is refused (and
        // counted) by the caller, and must leave no record of its own.
        let access = g.get("access").and_then(Value::as_array).into_iter().flatten();
        let current = access.filter(|a| a.get("expires_at_ms").and_then(Value::as_u64).is_some_and(|t| now_ms < t));
        let mut hashes = current.filter_map(|a| a.get("hash").and_then(Value::as_str));
        live && hashes
            .any(|h| token_hashes.iter().any(|t| crate::base::secret::constant_time_eq(t.as_bytes(), h.as_bytes())))
    });
    let stored = admitted.map(|g| {
        record["client_id"] = g.get("client_id").cloned().unwrap_or(Value::Null);
        record
    });
    (read(entries, now_ms), stored)
}

/// The keys among `oldest` (the last keys under a prefix, with their entries) whose entries
/// have expired: what a new chunk of a log deletes (see [`super::log`]).
pub fn expired_keys(oldest: Vec<(String, Entry)>, now_ms: u64) -> Vec<String> {
    oldest.into_iter().filter(|(_, e)| !e.is_live(now_ms)).map(|(k, _)| k).collect()
}

/// The most tally series an object keeps counting in memory.
pub const TALLIES_MAX: usize = 1_000;

/// What an object remembers of each tally series it counted since it started: the minute,
/// where that minute's record is, and the count so far.
pub type Tallies = std::collections::BTreeMap<String, (u64, Place, u64)>;

/// What one more refusal asks of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tallied {
    /// Counted in memory: nothing to write.
    Counted,
    /// The minute's first: its record added (count 1, then [`remember`]ed), and the series'
    /// previous minute given its total when it grew past the 1 it was written with.
    Add { total: Option<(Place, u64)> },
}

/// A [`super::Command::Tally`] of `series` in `minute_ms` against the object's `memory`.
pub fn tally(memory: &mut Tallies, series: &str, minute_ms: u64) -> Tallied {
    // Bounded: past this many series the object forgets the counts it has not written (each
    // record keeps at least the count it was written with).
    if memory.len() >= TALLIES_MAX && !memory.contains_key(series) {
        memory.clear();
    }
    match memory.get_mut(series) {
        Some((minute, _, count)) if *minute == minute_ms => {
            *count += 1;
            Tallied::Counted
        }
        Some((_, place, count)) if *count > 1 => Tallied::Add { total: Some((place.clone(), *count)) },
        _ => Tallied::Add { total: None },
    }
}

/// Where the minute's first refusal of `series` went, counted once.
pub fn remember(memory: &mut Tallies, series: String, minute_ms: u64, place: Place) {
    memory.insert(series, (minute_ms, place, 1));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tally_adds_a_minutes_first_refusal_and_its_total_once_the_next_minute_begins() {
        let mut memory = Tallies::new();
        let place = |k: &str| Place { key: k.into(), id: format!("id-{k}") };
        assert_eq!(tally(&mut memory, "s", 1), Tallied::Add { total: None });
        remember(&mut memory, "s".into(), 1, place("m1"));
        for _ in 0..99 {
            assert_eq!(tally(&mut memory, "s", 1), Tallied::Counted, "the rest of the minute is counted in memory");
        }
        assert_eq!(tally(&mut memory, "s", 2), Tallied::Add { total: Some((place("m1"), 100)) });
        remember(&mut memory, "s".into(), 2, place("m2"));
        // A minute with one refusal has no total to set when the next begins.
        assert_eq!(tally(&mut memory, "s", 3), Tallied::Add { total: None });
        // Memory is bounded: past TALLIES_MAX series it starts again.
        let mut memory = Tallies::new();
        for i in 0..=TALLIES_MAX {
            let series = format!("s{i}");
            tally(&mut memory, &series, 1);
            remember(&mut memory, series, 1, place("m"));
        }
        assert_eq!(memory.len(), 1);
    }
}
