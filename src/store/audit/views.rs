//! Reading the audit log: a person's newest records, and pages of several people's, at a
//! bounded cost whatever the log's size (each person's object answers a filtered search of its
//! own log; see `docs/architecture.md`). Records an earlier release kept in KV are read beside.

use super::super::keys;
use super::{Entry, RETENTION_MS};
use crate::base::user::UserId;
use crate::platform::{KvStore, Platform, StoreError};
use crate::transitions::usage::{Usage, UsageQuery};
use crate::transitions::{log, Command, Outcome};

/// Entries written before they carried metadata are read one by one, at most this many per
/// view (they are gone 30 days after the release that added metadata).
const READS_MAX: usize = 200;

/// Entries an earlier release wrote to KV under `prefix`, in key order, from at most `max_keys`
/// keys (until their 30 days end).
async fn kv_entries_under<P: KvStore>(
    p: &P,
    prefix: &str,
    max_keys: usize,
) -> Result<Vec<(String, Entry)>, StoreError> {
    Ok(super::super::listed(p, prefix, max_keys, READS_MAX)
        .await?
        .into_iter()
        .filter_map(|(key, text)| Some((key, serde_json::from_str::<Entry>(&text?).ok()?)))
        .collect())
}

/// The most rows (chunks of up to 32 records) one page reads, across everyone asked.
pub const ROWS_PER_PAGE: usize = 1_920;

/// A page of one person's records that `filter` keeps (within their 30 days), before
/// `before_ms`, newest first: one request to their object, which reads at most `rows` chunks.
/// With where its next page starts.
async fn search_object<P: Platform>(
    p: &P,
    user: &UserId,
    mut filter: log::Filter,
    before_ms: Option<u64>,
    (limit, rows): (usize, usize),
    usage: Option<&UsageAsk>,
) -> Result<Found, StoreError> {
    let object = keys::person_object(user);
    filter.since_ms = filter.since_ms.max(p.now_ms().saturating_sub(RETENTION_MS));
    let start = before_ms.map(|b| keys::person_audit_entry(b, ""));
    let prefix = keys::PERSON_AUDIT_PREFIX.into();
    let usage = usage.map(|u| serde_json::to_value(u.query()).unwrap_or_default());
    let command = Command::Search { prefix, start, filter, before_ms, limit, rows, usage };
    match p.transition(&object, command).await? {
        Outcome::Searched { records, next_before_ms, usage } => Ok(Found {
            entries: records.into_iter().filter_map(|v| super::super::decode::<Entry, _>(p, &object, v)).collect(),
            next_before_ms,
            usage: usage.and_then(|u| super::super::decode(p, &object, u)),
        }),
        other => Err(StoreError(format!("unexpected answer to search: {other:?}"))),
    }
}

/// What one person's object answered a search with.
struct Found {
    entries: Vec<Entry>,
    next_before_ms: Option<u64>,
    usage: Option<Usage>,
}

/// What a view asks of each person's usage (see [`crate::transitions::usage`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsageAsk {
    /// The first day (days since 1970-01-01, UTC).
    pub from_day: u64,
    /// The calls counted as destructive: tool names, and request methods followed by a space.
    pub destructive: Vec<String>,
}

impl UsageAsk {
    fn query(&self) -> UsageQuery {
        UsageQuery {
            log_prefix: keys::PERSON_AUDIT_PREFIX.into(),
            days_prefix: keys::PERSON_DAYS_PREFIX.into(),
            from_day: self.from_day,
            keep_ms: RETENTION_MS,
            destructive: self.destructive.clone(),
        }
    }
}

/// A person's usage: one request to their object, which writes the totals of days closed
/// since it last did (the daily pass of the cron asks every person, so a view seldom does).
pub async fn usage<P: Platform>(p: &P, user: &UserId, ask: &UsageAsk) -> Result<Usage, StoreError> {
    let object = keys::person_object(user);
    let query = serde_json::to_value(ask.query()).map_err(|e| StoreError(e.to_string()))?;
    match p.transition(&object, Command::Usage { query }).await? {
        Outcome::Usage { usage } => {
            serde_json::from_value(usage).map_err(|e| StoreError(format!("unexpected usage: {e}")))
        }
        other => Err(StoreError(format!("unexpected answer to usage: {other:?}"))),
    }
}

/// A person's most recent entries, newest first: their object's, and an earlier release's in KV.
pub async fn recent<P: Platform>(p: &P, user: &UserId, limit: usize) -> Result<Vec<Entry>, StoreError> {
    let (held, old) = futures_util::future::join(
        search_object(p, user, log::Filter::default(), None, (limit, ROWS_PER_PAGE), None),
        kv_entries_under(p, &keys::audit_prefix(user), limit),
    )
    .await;
    let mut entries = held?.entries;
    entries.extend(old?.into_iter().map(|(_, e)| e));
    entries.sort_by_key(|e| std::cmp::Reverse(e.at_ms));
    entries.truncate(limit);
    Ok(entries)
}

/// The most people whose objects one view of everyone's log asks (each is one request; the
/// platform allows 50 a request on the Free plan, and the view makes a few more).
pub const PEOPLE_PER_VIEW: usize = 30;

/// What a view of several people's logs asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// What each record must match (its `by` is set here from `person`).
    pub filter: log::Filter,
    /// A part of `<workspace>:<member>`, or of who acted (`by`).
    pub person: Option<String>,
    /// Only records before this time: the page after one that ended here.
    pub before_ms: Option<u64>,
    /// Each asked person's usage too, in the same request to their object.
    pub usage: Option<UsageAsk>,
}

/// A page of a view: entries newest first, and where the next page starts (`None`: no more).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    pub rows: Vec<(UserId, Entry)>,
    pub next_before_ms: Option<u64>,
    /// The usage of each person asked, when the query asked for it.
    pub usage: Vec<(UserId, Usage)>,
}

/// The entries of `people` that `query` keeps, newest first, at most `limit`: the objects of
/// the first [`PEOPLE_PER_VIEW`] people the query names (by id; when it names none by id,
/// those it names as who acted) are each asked for their own newest `limit` at once, sharing
/// [`ROWS_PER_PAGE`] rows read, so however busy one person is, another's entries are in view;
/// and an earlier release's entries in KV (the first [`EVERYONE_SCAN`] keys of that listing).
/// The page ends where the first object that has more stopped, so paging on with
/// `next_before_ms` misses nothing.
pub async fn page<P: Platform>(p: &P, people: &[UserId], query: &Query, limit: usize) -> Result<Page, StoreError> {
    let wanted = query.person.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let id = |user: &UserId| format!("{}:{}", user.workspace_id, user.member_id);
    let named: Vec<&UserId> = people.iter().filter(|u| wanted.is_none_or(|w| id(u).contains(w))).collect();
    // Nobody named by id: the person is who acted (their Access email), in anyone's log.
    let (asked, by) = if named.is_empty() { (people.iter().collect(), wanted) } else { (named, None) };
    let asked = &asked[..asked.len().min(PEOPLE_PER_VIEW)];
    let rows = ROWS_PER_PAGE / asked.len().max(1);
    let filter = log::Filter { by: by.map(str::to_string), ..query.filter.clone() };
    let found = futures_util::future::join_all(
        asked
            .iter()
            .map(|user| search_object(p, user, filter.clone(), query.before_ms, (limit, rows), query.usage.as_ref())),
    );
    let (found, old) = futures_util::future::join(found, kv_entries_under(p, keys::AUDIT_PREFIX, EVERYONE_SCAN)).await;
    let mut rows: Vec<(UserId, Entry)> = Vec::new();
    let mut complete_down_to: Option<u64> = None;
    let mut usage = Vec::new();
    for (user, found) in asked.iter().zip(found) {
        let found = found?;
        complete_down_to = complete_down_to.max(found.next_before_ms);
        rows.extend(found.entries.into_iter().map(|e| ((*user).clone(), e)));
        usage.extend(found.usage.map(|u| ((*user).clone(), u)));
    }
    let before = query.before_ms.unwrap_or(u64::MAX);
    let since = query.filter.since_ms.max(p.now_ms().saturating_sub(RETENTION_MS));
    rows.extend(old?.into_iter().filter_map(|(key, e)| Some((keys::user_of_audit_entry(&key)?, e))).filter(
        |(user, e)| {
            let person = format!("{}:{}", user.workspace_id, user.member_id);
            let by_person = wanted.is_none_or(|w| person.contains(w) || e.by.as_deref().is_some_and(|b| b.contains(w)));
            let value = serde_json::to_value(e).unwrap_or_default();
            e.at_ms < before
                && by_person
                && log::Filter { by: None, since_ms: since, ..query.filter.clone() }.matches(&value)
        },
    ));
    Ok(Page { usage, ..newest_page(rows, complete_down_to, limit) })
}

/// The newest `limit` of `rows` at or after `complete_down_to` (below it some object has more
/// to say), never splitting one millisecond's entries; and where the next page starts.
fn newest_page(mut rows: Vec<(UserId, Entry)>, complete_down_to: Option<u64>, limit: usize) -> Page {
    if let Some(floor) = complete_down_to {
        rows.retain(|(_, e)| e.at_ms >= floor);
    }
    rows.sort_by_key(|(_, e)| std::cmp::Reverse(e.at_ms));
    if rows.len() > limit {
        let cut = rows[limit].1.at_ms;
        rows.truncate(limit);
        while rows.len() > 1 && rows.last().is_some_and(|(_, e)| e.at_ms == cut) {
            rows.pop();
        }
        let next_before_ms = rows.last().map(|(_, e)| e.at_ms);
        return Page { rows, next_before_ms, usage: Vec::new() };
    }
    Page { rows, next_before_ms: complete_down_to, usage: Vec::new() }
}

/// The most entries an earlier release wrote to KV that the administrators' view reads: five
/// KV listings (they are gone 30 days after this release).
pub const EVERYONE_SCAN: usize = 5_000;
