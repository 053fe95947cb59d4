//! Issue 26: views of everyone's audit log at a bounded cost. Over 100,000 entries, most of them
//! one heavy user's, every combination of the filters (person, app, tool, outcome, time range)
//! is answered by the people's objects with at most one request each, 2,000 rows read and 40
//! subrequests per page of 50, newest first across people; paging on with the cursor visits
//! every matching entry once; and a light user's entries behind the heavy user's are found.

use serde_json::json;

use crate::base::user::UserId;
use crate::platform::Clock;
use crate::store::audit::{self, Query};
use crate::store::keys;
use crate::testing::{block_on, FakePlatform};
use crate::transitions::log::{Chunk, Filter, CHUNK_RECORDS};

const DAY_MS: u64 = 86_400_000;

/// One seeded entry: who, and the record.
struct Seeded {
    user: usize,
    at_ms: u64,
    app: &'static str,
    action: &'static str,
    outcome: &'static str,
}

fn people() -> Vec<UserId> {
    (0..10).map(|i| UserId::new("ws", &format!("member-{i}")).unwrap()).collect()
}

/// 100,000 entries over the last 20 days: person 0 has 91,000 (the newest 25,000 of them after
/// everyone else's), the nine others 1,000 each.
fn seed(p: &FakePlatform, people: &[UserId]) -> Vec<Seeded> {
    let now = p.now_ms();
    let mut all = Vec::new();
    for (user, count) in std::iter::once((0usize, 91_000u64)).chain((1..10).map(|u| (u, 1_000))) {
        let mut seeded: Vec<Seeded> = (0..count)
            .map(|i| {
                // The heavy user's newest 25,000 come after everyone else's entries.
                let age = if user == 0 && i < 25_000 { i * 10_000 } else { 25_000 * 10_000 + i * 15_000 + user as u64 };
                Seeded {
                    user,
                    at_ms: now - 1 - age.min(20 * DAY_MS),
                    app: if i % 3 == 0 { "mcp_app_b" } else { "mcp_app_a" },
                    action: ["query_records", "whoami", "create_note"][(i % 3) as usize],
                    outcome: if i % 4 == 0 { "error 429" } else { "ok" },
                }
            })
            .collect();
        seeded.sort_by_key(|s| s.at_ms);
        let object = keys::person_object(&people[user]);
        for (n, group) in seeded.chunks(CHUNK_RECORDS).enumerate() {
            let key = keys::person_audit_entry(group[0].at_ms, &format!("{n:08x}"));
            let mut chunk = Chunk::new(&key, group[0].at_ms);
            for s in group {
                let record = json!({"id": format!("{user}-{}", s.at_ms), "at_ms": s.at_ms, "client_id": s.app, "kind": "tool",
                    "action": s.action, "write": false, "outcome": s.outcome});
                chunk.push(record, s.at_ms + audit::RETENTION_SECS * 1000);
            }
            p.seed_object(&object, key, chunk.encode());
        }
        all.extend(seeded);
    }
    all
}

/// What `query` should find, newest first, by brute force.
fn expected<'a>(all: &'a [Seeded], people: &[UserId], query: &Query, now: u64) -> Vec<&'a Seeded> {
    let mut found: Vec<&Seeded> = all
        .iter()
        .filter(|s| {
            let person = format!("ws:{}", people[s.user].member_id);
            let record = json!({"at_ms": s.at_ms, "client_id": s.app, "action": s.action, "outcome": s.outcome});
            query.person.as_deref().is_none_or(|w| person.contains(w))
                && query.before_ms.is_none_or(|b| s.at_ms < b)
                && Filter { since_ms: query.filter.since_ms.max(now - 30 * DAY_MS), ..query.filter.clone() }
                    .matches(&record)
        })
        .collect();
    found.sort_by_key(|s| std::cmp::Reverse(s.at_ms));
    found
}

#[test]
fn every_filter_combination_costs_a_bounded_page_and_paging_visits_every_entry_once() {
    let p = FakePlatform::default();
    let people = people();
    let all = seed(&p, &people);
    assert_eq!(all.len(), 100_000);
    let now = p.now_ms();
    let mut combinations = 0;
    for person in [None, Some("member-0"), Some("member-7")] {
        for app in [None, Some("mcp_app_b")] {
            for tool in [None, Some("query")] {
                for outcome in [None, Some("error")] {
                    for since in [0, now - DAY_MS] {
                        let query = Query {
                            filter: Filter {
                                app: app.map(Into::into),
                                tool: tool.map(Into::into),
                                outcome: outcome.map(Into::into),
                                by: None,
                                since_ms: since,
                            },
                            person: person.map(Into::into),
                            before_ms: None,
                            usage: None,
                        };
                        p.take_calls();
                        let rows_before = p.rows.get();
                        let page = block_on(audit::page(&p, &people, &query, 50)).unwrap();
                        let calls = p.take_calls();
                        let rows_read = p.rows.get().read - rows_before.read;
                        let objects = calls.iter().filter(|c| c.starts_with("do ")).count();
                        assert!(objects <= people.len() && calls.len() <= 40, "{query:?}: {calls:?}");
                        assert!(rows_read <= 2_000, "{query:?}: {rows_read} rows read");
                        assert_eq!(p.rows.get().written, rows_before.written, "a view writes nothing");
                        // The page is the newest of what matches, in order.
                        let want = expected(&all, &people, &query, now);
                        let got: Vec<u64> = page.rows.iter().map(|(_, e)| e.at_ms).collect();
                        let head: Vec<u64> = want.iter().take(got.len()).map(|s| s.at_ms).collect();
                        assert_eq!(got, head, "{query:?}");
                        assert!(!got.is_empty() || want.is_empty(), "{query:?}: nothing shown of {}", want.len());
                        combinations += 1;
                    }
                }
            }
        }
    }
    assert_eq!(combinations, 48);

    // Paging on: every entry of a light user's failed calls, once each, in order.
    let mut query = Query { person: Some("member-7".into()), ..Query::default() };
    query.filter.outcome = Some("error".into());
    let want: Vec<u64> = expected(&all, &people, &query, now).iter().map(|s| s.at_ms).collect();
    let mut seen = Vec::new();
    loop {
        let page = block_on(audit::page(&p, &people, &query, 50)).unwrap();
        seen.extend(page.rows.iter().map(|(_, e)| e.at_ms));
        match page.next_before_ms {
            Some(next) => query.before_ms = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, want);
}

#[test]
fn a_light_users_entries_behind_a_heavy_users_25_000_are_on_the_first_page() {
    let p = FakePlatform::default();
    let people = people();
    seed(&p, &people);
    // Everyone's newest: the heavy user's alone (their newest 25,000 came last).
    let page = block_on(audit::page(&p, &people, &Query::default(), 50)).unwrap();
    assert!(page.rows.iter().all(|(u, _)| u.member_id == "member-0"));
    // Asked for, the light user's newest are there at once, however busy the other.
    let query = Query { person: Some("member-3".into()), ..Query::default() };
    let page = block_on(audit::page(&p, &people, &query, 50)).unwrap();
    assert_eq!(page.rows.len(), 50);
    assert!(page.rows.iter().all(|(u, _)| u.member_id == "member-3"));
}
