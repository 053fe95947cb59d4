//! Usage at a glance: a log's records counted per UTC day (by outcome, reads and writes, per
//! app and per tool, with the day's latest destructive calls), and per hour over the last day.
//!
//! A closed day's totals are written once, as one row beside the log (`<days prefix><day>`), by
//! the first search or daily pass that finds the day closed ([`CLOSE_AFTER_MS`] past its end,
//! time for its last calls' outcomes to arrive); the newest closed day always gets a row, even
//! an empty one, so it marks how far the rows go. Days not closed yet (today, and any day since
//! the last row) are counted from the log's chunks at each ask: what a view reads is the rows
//! of the days asked for and the chunks of the open days, not the month's records.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::log::at_ms;

pub const DAY_MS: u64 = 86_400_000;
pub const HOUR_MS: u64 = 3_600_000;
/// A day's totals are written this long after it ends.
pub const CLOSE_AFTER_MS: u64 = 10 * 60_000;
/// The most days one ask covers (the log keeps 30).
pub const DAYS_MAX: u64 = 31;
/// The apps and tools a day keeps by name (the busiest; the rest are summed under [`OTHERS`]).
pub const NAMED_MAX: usize = 40;
pub const OTHERS: &str = "(others)";
/// The latest destructive calls a day keeps.
pub const DESTRUCTIVE_MAX: usize = 5;

/// Calls by outcome: `ok`, `error` (Attio answered with an error, or was unreachable),
/// `refused` (by the gateway: scope, policy, a bad token), `limited` (a rate limit: the
/// gateway's, or Attio's 429) and `unknown` (no outcome was attached).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcomes {
    #[serde(default)]
    pub ok: u64,
    #[serde(default)]
    pub error: u64,
    #[serde(default)]
    pub refused: u64,
    #[serde(default)]
    pub limited: u64,
    #[serde(default)]
    pub unknown: u64,
}

impl Outcomes {
    pub fn total(&self) -> u64 {
        self.ok + self.error + self.refused + self.limited + self.unknown
    }

    pub fn add(&mut self, other: &Outcomes) {
        self.ok += other.ok;
        self.error += other.error;
        self.refused += other.refused;
        self.limited += other.limited;
        self.unknown += other.unknown;
    }

    /// One record's outcome, `n` times (a tally of refusals counts each).
    fn count(&mut self, record: &Value, n: u64) {
        let outcome = record.get("outcome").and_then(Value::as_str).unwrap_or("unknown");
        let status = record.get("status").and_then(Value::as_u64);
        let slot = match outcome {
            "ok" => &mut self.ok,
            "unknown" => &mut self.unknown,
            o if o.starts_with("refused 429") || status == Some(429) => &mut self.limited,
            o if o.starts_with("refused") => &mut self.refused,
            _ => &mut self.error,
        };
        *slot += n;
    }
}

/// What a stretch of the log adds up to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    #[serde(default)]
    pub outcomes: Outcomes,
    #[serde(default)]
    pub reads: u64,
    #[serde(default)]
    pub writes: u64,
    /// Per app (client id): its calls by outcome.
    #[serde(default)]
    pub apps: BTreeMap<String, Outcomes>,
    /// Per tool name (or proxied request, its ids as `{id}`): calls.
    #[serde(default)]
    pub tools: BTreeMap<String, u64>,
    /// The latest destructive calls (records as the log keeps them), newest first.
    #[serde(default)]
    pub destructive: Vec<Value>,
}

impl Totals {
    /// Counts `record`; `destructive` names the calls that replace or remove data (a tool's
    /// name, or a request method followed by a space). An approval (`kind` `consent`) is no call.
    pub fn count(&mut self, record: &Value, destructive: &[String]) {
        if !is_call(record) {
            return;
        }
        let n = calls_in(record);
        let action = record.get("action").and_then(Value::as_str).unwrap_or_default();
        self.outcomes.count(record, n);
        if record.get("write").and_then(Value::as_bool).unwrap_or(false) {
            self.writes += n;
        } else {
            self.reads += n;
        }
        let app = record.get("client_id").and_then(Value::as_str).unwrap_or_default();
        self.apps.entry(app.to_string()).or_default().count(record, n);
        *self.tools.entry(tool_of(action)).or_default() += n;
        if is_destructive(action, destructive) {
            self.destructive.push(record.clone());
            self.destructive = newest_first(std::mem::take(&mut self.destructive), DESTRUCTIVE_MAX);
        }
    }

    /// Adds `other` (another day, another person).
    pub fn add(&mut self, other: &Totals) {
        self.outcomes.add(&other.outcomes);
        self.reads += other.reads;
        self.writes += other.writes;
        for (app, o) in &other.apps {
            self.apps.entry(app.clone()).or_default().add(o);
        }
        for (tool, n) in &other.tools {
            *self.tools.entry(tool.clone()).or_default() += n;
        }
        self.destructive.extend(other.destructive.iter().cloned());
        self.destructive = newest_first(std::mem::take(&mut self.destructive), DESTRUCTIVE_MAX);
    }

    /// Keeps the [`NAMED_MAX`] busiest apps and tools by name, the rest summed: a day's row
    /// stays small however many different requests went through the proxy.
    pub fn trim(&mut self) {
        if self.apps.len() > NAMED_MAX {
            let apps = std::mem::take(&mut self.apps).into_iter().map(|(app, o)| ((app, o), o.total())).collect();
            let mut others = Outcomes::default();
            for (i, ((app, o), _)) in busiest_first(apps).into_iter().enumerate() {
                if i < NAMED_MAX {
                    self.apps.insert(app, o);
                } else {
                    others.add(&o);
                }
            }
            self.apps.entry(OTHERS.into()).or_default().add(&others);
        }
        if self.tools.len() > NAMED_MAX {
            let mut others = 0;
            for (i, (tool, n)) in
                busiest_first(std::mem::take(&mut self.tools).into_iter().collect()).into_iter().enumerate()
            {
                if i < NAMED_MAX {
                    self.tools.insert(tool, n);
                } else {
                    others += n;
                }
            }
            *self.tools.entry(OTHERS.into()).or_default() += others;
        }
    }
}

/// `items` by their count, largest first, ties in their order. The sort itself runs once, on
/// (count, index) pairs: sorting each type of item directly would bring a copy of the
/// standard library's sort per type into the bundle.
pub fn busiest_first<T>(items: Vec<(T, u64)>) -> Vec<(T, u64)> {
    let order = order_by_count(items.iter().map(|(_, n)| *n).collect());
    let mut slots: Vec<Option<(T, u64)>> = items.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots.get_mut(i).and_then(Option::take)).collect()
}

fn order_by_count(counts: Vec<u64>) -> Vec<usize> {
    let mut pairs: Vec<(u64, usize)> = counts.into_iter().enumerate().map(|(i, n)| (u64::MAX - n, i)).collect();
    pairs.sort_unstable();
    pairs.into_iter().map(|(_, i)| i).collect()
}

/// The newest `max` of `records` (by `at_ms`), newest first.
pub fn newest_first(records: Vec<Value>, max: usize) -> Vec<Value> {
    let timed = records.into_iter().map(|r| {
        let at = at_ms(&r);
        (r, at)
    });
    busiest_first(timed.collect()).into_iter().take(max).map(|(r, _)| r).collect()
}

/// How many calls a record stands for: a tally of refusals its `count`, else one.
fn calls_in(record: &Value) -> u64 {
    record.get("count").and_then(Value::as_u64).unwrap_or(1).max(1)
}

/// Whether a record is a call (a tool's or a proxied request), not an approval.
fn is_call(record: &Value) -> bool {
    record.get("kind").and_then(Value::as_str) != Some("consent")
}

/// A tool's name as it is; a proxied request (`GET /v2/objects/people/records/<id>`) with the
/// segments that name one thing (anything with a digit) as `{id}`, so requests group by route.
pub fn tool_of(action: &str) -> String {
    let Some((method, path)) = action.split_once(' ') else { return action.to_string() };
    let path: Vec<&str> = path
        .split('/')
        .map(|s| if s.len() > 8 && s.bytes().any(|b| b.is_ascii_digit()) { "{id}" } else { s })
        .collect();
    format!("{method} {}", path.join("/"))
}

/// Whether `action` replaces or removes data, by the names in `destructive`.
pub fn is_destructive(action: &str, destructive: &[String]) -> bool {
    destructive.iter().any(|d| if d.ends_with(' ') { action.starts_with(d.as_str()) } else { action == d })
}

/// What a person's object is asked for: the usage of its log under `log_prefix` from
/// `from_day` (days since 1970-01-01, UTC) to today, with the day rows under `days_prefix`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageQuery {
    pub log_prefix: String,
    pub days_prefix: String,
    pub from_day: u64,
    /// How long a day's row is kept after the day ends (the log's retention).
    pub keep_ms: u64,
    /// The calls counted as destructive (see [`Totals::count`]).
    pub destructive: Vec<String>,
}

/// The keys a query names (its prefixes), for the object to check.
pub fn prefixes(query: &Value) -> impl Iterator<Item = &str> {
    ["log_prefix", "days_prefix"].into_iter().filter_map(|k| query.get(k).and_then(Value::as_str))
}

/// The answer: totals per day (oldest first, days without calls left out), over the last 24
/// whole hours (the current one included), and per hour of those.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub days: Vec<(u64, Totals)>,
    #[serde(default)]
    pub last_day: Totals,
    /// 24 hours, oldest first; the last is the current hour.
    #[serde(default)]
    pub hours: Vec<Outcomes>,
    /// The first hour's start.
    #[serde(default)]
    pub hours_from_ms: u64,
    /// The same 24 hours for each app (client id) that made calls in them: an app's page.
    #[serde(default)]
    pub app_hours: BTreeMap<String, Vec<Outcomes>>,
}

/// The start of the 24 whole hours ending with the current one.
pub fn hours_from(now_ms: u64) -> u64 {
    (now_ms / HOUR_MS).saturating_sub(23) * HOUR_MS
}

/// The newest day whose totals may be written at `now_ms` (`None`: none yet).
pub fn last_closable(now_ms: u64) -> Option<u64> {
    (now_ms.saturating_sub(CLOSE_AFTER_MS) / DAY_MS).checked_sub(1)
}

/// Counts records as they are read, a chunk at a time (the object never holds the month's
/// records at once): per day from `from_day` on, and over the hours from [`hours_from`].
#[derive(Debug)]
pub struct Counter<'d> {
    from_day: u64,
    hours_start: u64,
    destructive: &'d [String],
    days: BTreeMap<u64, Totals>,
    last_day: Totals,
    hours: Vec<Outcomes>,
    app_hours: BTreeMap<String, Vec<Outcomes>>,
}

impl<'d> Counter<'d> {
    pub fn new(from_day: u64, now_ms: u64, destructive: &'d [String]) -> Self {
        let (days, last_day, hours) = (BTreeMap::new(), Totals::default(), vec![Outcomes::default(); 24]);
        let app_hours = BTreeMap::new();
        Counter { from_day, hours_start: hours_from(now_ms), destructive, days, last_day, hours, app_hours }
    }

    pub fn count(&mut self, record: &Value) {
        let at = at_ms(record);
        if at >= self.from_day * DAY_MS {
            self.days.entry(at / DAY_MS).or_default().count(record, self.destructive);
        }
        if at >= self.hours_start && is_call(record) {
            self.last_day.count(record, self.destructive);
            let n = calls_in(record);
            let hour = ((at - self.hours_start) / HOUR_MS) as usize;
            let app = record.get("client_id").and_then(Value::as_str).unwrap_or_default();
            let app_hours = self.app_hours.entry(app.to_string()).or_insert_with(|| vec![Outcomes::default(); 24]);
            for hours in [&mut self.hours, app_hours] {
                if let Some(slot) = hours.get_mut(hour) {
                    slot.count(record, n);
                }
            }
        }
    }

    /// Totals per day, and the usage of the last day (its `days` left empty).
    pub fn finish(mut self) -> (BTreeMap<u64, Totals>, Usage) {
        self.days.values_mut().for_each(Totals::trim);
        self.last_day.trim();
        if self.app_hours.len() > NAMED_MAX {
            // The busiest apps' hours; the rest are in the totals only.
            let busiest = busiest_first(
                self.app_hours.iter().map(|(a, h)| (a.clone(), h.iter().map(Outcomes::total).sum())).collect(),
            );
            let keep: Vec<String> = busiest.into_iter().take(NAMED_MAX).map(|(a, _)| a).collect();
            self.app_hours.retain(|a, _| keep.contains(a));
        }
        let usage = Usage {
            days: Vec::new(),
            last_day: self.last_day,
            hours: self.hours,
            hours_from_ms: self.hours_start,
            app_hours: self.app_hours,
        };
        (self.days, usage)
    }
}

/// The totals of `records` (see [`Counter`]).
#[cfg(test)]
fn count_records(
    records: impl Iterator<Item = Value>,
    from_day: u64,
    now_ms: u64,
    destructive: &[String],
) -> (BTreeMap<u64, Totals>, Totals, Vec<Outcomes>) {
    let mut counter = Counter::new(from_day, now_ms, destructive);
    records.for_each(|r| counter.count(&r));
    let (days, usage) = counter.finish();
    (days, usage.last_day, usage.hours)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rec(at: u64, outcome: &str, write: bool, action: &str) -> Value {
        json!({"at_ms": at, "outcome": outcome, "write": write, "action": action, "client_id": "app"})
    }

    #[test]
    fn records_count_by_outcome_kind_app_and_tool() {
        let destructive = vec!["delete_record".to_string(), "DELETE ".to_string()];
        let mut t = Totals::default();
        t.count(&rec(1, "ok", false, "search_records"), &destructive);
        t.count(&rec(2, "error", true, "delete_record"), &destructive);
        t.count(&json!({"at_ms": 3, "outcome": "refused 403", "action": "x", "count": 4}), &destructive);
        t.count(&rec(4, "refused 429", false, "x"), &destructive);
        t.count(&json!({"at_ms": 5, "outcome": "error", "status": 429, "action": "GET /v2/self"}), &destructive);
        t.count(&rec(6, "unknown", true, "DELETE /v2/objects/people/records/0b7c4d1e-aaaa"), &destructive);
        assert_eq!(t.outcomes, Outcomes { ok: 1, error: 1, refused: 4, limited: 2, unknown: 1 });
        assert_eq!((t.reads, t.writes), (7, 2));
        assert_eq!(t.tools["DELETE /v2/objects/people/records/{id}"], 1);
        assert_eq!(t.tools["x"], 5);
        let latest: Vec<u64> = t.destructive.iter().map(at_ms).collect();
        assert_eq!(latest, [6, 2], "newest first");
        assert!(!is_destructive("delete_records_batch", &destructive), "names match whole");
    }

    #[test]
    fn records_fall_into_their_days_and_hours() {
        let now = 10 * DAY_MS + 5 * HOUR_MS + 30;
        let records = vec![
            rec(now, "ok", false, "a"),
            rec(now - HOUR_MS, "ok", false, "a"),
            rec(10 * DAY_MS - 1, "error", false, "a"),
            rec(now - 26 * HOUR_MS, "ok", false, "a"),
            rec(2 * DAY_MS, "ok", false, "too old"),
        ];
        let (days, last_day, hours) = count_records(records.into_iter(), 9, now, &[]);
        assert_eq!(days.keys().copied().collect::<Vec<_>>(), [9, 10]);
        assert_eq!((days[&9].outcomes.total(), days[&10].outcomes.total()), (2, 2));
        assert_eq!(last_day.outcomes, Outcomes { ok: 2, error: 1, ..Default::default() });
        assert_eq!((hours[23].ok, hours[22].ok, hours[17].error), (1, 1, 1));
        assert_eq!(last_closable(now), Some(9));
        assert_eq!(last_closable(10 * DAY_MS + 60_000), Some(8), "yesterday closes ten minutes in");
    }

    #[test]
    fn a_day_keeps_its_busiest_names_and_sums_the_rest() {
        let mut t = Totals::default();
        for i in 0..(NAMED_MAX + 10) {
            for _ in 0..=i {
                t.count(&json!({"action": format!("tool{i}"), "client_id": format!("app{i}"), "outcome": "ok"}), &[]);
            }
        }
        let total = t.outcomes.total();
        t.trim();
        assert_eq!((t.tools.len(), t.apps.len()), (NAMED_MAX + 1, NAMED_MAX + 1));
        assert_eq!(t.tools.values().sum::<u64>(), total);
        assert!(t.tools.contains_key("tool49") && !t.tools.contains_key("tool0"));
    }
}
