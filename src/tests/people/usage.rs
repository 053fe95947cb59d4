//! Usage at a glance (issue 29): each closed day's totals are written once, as one row in the
//! person's object, so a view reads rows, not the month's records; the daily pass closes
//! yesterday for everyone; `/admin` and `/account` draw the totals as charts with text
//! alternatives, for everyone, a person or an app.

use crate::base::user::UserId;
use crate::platform::Clock;
use crate::store::audit::{self, Entry, UsageAsk};
use crate::tests::flow::*;
use crate::tests::*;
use crate::transitions::usage::{Outcomes, CLOSE_AFTER_MS, DAY_MS};

fn ask(from_day: u64) -> UsageAsk {
    UsageAsk { from_day, destructive: crate::control::admin::destructive_calls() }
}

/// `per_day` records a day for the 29 days before `now` (the newest an hour ago), outcomes
/// cycling through ok, ok, error, refused and rate-limited, one in ten a deletion; what they add up to.
fn seed_month(p: &FakePlatform, user: &UserId, per_day: u64) -> Outcomes {
    let now = p.now_ms();
    let mut expected = Outcomes::default();
    let mut entries = Vec::new();
    for i in 0..30 * per_day {
        let outcome = ["ok", "ok", "error", "refused 403", "refused 429"][(i % 5) as usize];
        match i % 5 {
            0 | 1 => expected.ok += 1,
            2 => expected.error += 1,
            3 => expected.refused += 1,
            _ => expected.limited += 1,
        }
        let action = if i % 10 == 9 { "delete_record" } else { "search_records" };
        entries.push(Entry {
            at_ms: now - 3_600_000 - i * (29 * DAY_MS / (30 * per_day)),
            client_id: format!("mcp_app_{}", i % 3),
            outcome: outcome.into(),
            ..Entry::call("tool", action, action == "delete_record", Vec::new())
        });
    }
    block_on(audit::seed(p, user, entries)).unwrap();
    expected
}

fn sum(usage: &crate::transitions::usage::Usage) -> Outcomes {
    usage.days.iter().fold(Outcomes::default(), |mut o, (_, t)| {
        o.add(&t.outcomes);
        o
    })
}

#[test]
fn closed_days_are_written_once_and_a_view_reads_their_rows_not_the_records() {
    let p = FakePlatform::default();
    let ada = UserId::new("ws", "ada").unwrap();
    let expected = seed_month(&p, &ada, 300);
    let today = p.now_ms() / DAY_MS;
    let rows = || p.rows.get();
    let before = rows();
    let first = block_on(audit::usage(&p, &ada, &ask(today - 29))).unwrap();
    let (read_first, written_first) = (rows().read - before.read, rows().written - before.written);
    assert_eq!(sum(&first), expected, "every seeded call counted once, by outcome");
    let deletions: u64 = first.days.iter().map(|(_, t)| t.tools.get("delete_record").copied().unwrap_or(0)).sum();
    assert_eq!(deletions, 30 * 300 / 10);
    assert!(first.days.iter().all(|(_, t)| !t.destructive.is_empty() && t.destructive.len() <= 5));
    // The first ask after the upgrade counts the month's chunks and writes each closed day.
    assert!(read_first > 250, "{read_first} rows read");
    assert!((29..=33).contains(&written_first), "{written_first} rows written: one a closed day");
    // Then a view reads the day rows and the open day's chunks: a few dozen rows, no write.
    let before = rows();
    let again = block_on(audit::usage(&p, &ada, &ask(today - 29))).unwrap();
    assert_eq!(again, first);
    assert_eq!(rows().written - before.written, 0, "a closed day is written once");
    let read = rows().read - before.read;
    // The day rows (31 at most), and the last day's chunks, listed a batch at a time (8, then
    // four times as many: at most four times what a day's 10 chunks need).
    assert!(read <= 32 + 4 * 11, "{read} rows read for a month of {} records in 281 chunks", 30 * 300);
    // A day on, the day that closed is written, and only it.
    p.advance_ms(DAY_MS + CLOSE_AFTER_MS);
    let before = rows();
    block_on(audit::usage(&p, &ada, &ask(today - 29))).unwrap();
    assert!(rows().written - before.written <= 2, "one day's row (and perhaps the alarm's time)");
}

#[test]
fn a_view_stays_as_cheap_when_the_log_is_ten_times_longer() {
    let cost = |per_day: u64| {
        let p = FakePlatform::default();
        let ada = UserId::new("ws", "ada").unwrap();
        seed_month(&p, &ada, per_day);
        // The daily pass closed the days.
        block_on(audit::usage(&p, &ada, &ask(0))).unwrap();
        let before = p.rows.get().read;
        block_on(audit::usage(&p, &ada, &ask(p.now_ms() / DAY_MS - 29))).unwrap();
        p.rows.get().read - before
    };
    let (small, large) = (cost(100), cost(1_000));
    // Only the open day's chunks grow with the log: 1,000 calls a day are 32 chunks.
    assert!(large <= small + 4 * 1_000 / 32, "{small} rows for 3,000 records, {large} for 30,000");
    assert!(large < 5_000 / 30, "30 such people stay within 5,000 rows a view: {large} each");
}

#[test]
fn the_daily_pass_closes_yesterday_for_everyone() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, code, _) = obtain_code(&p, "https://gateway.test/mcp", "read");
    let token = body(&redeem(&p, &client_id, &code, VERIFIER))["access_token"].as_str().unwrap().to_string();
    assert_eq!(mcp(&p, &token, r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, &[]).status(), 200);
    let user = UserId::new("ws-1", "mem-1").unwrap();
    let object = crate::store::keys::person_object(&user);
    let days = || p.keys_in(&object).into_iter().filter(|k| k.starts_with("day:")).count();
    // The next day, ten minutes in: the pass closes the day before.
    let now = p.now_ms();
    p.advance_ms((now / DAY_MS + 1) * DAY_MS + CLOSE_AFTER_MS - now);
    assert_eq!(days(), 0);
    let config = crate::config::SettingsSource::config(&p).unwrap();
    for _ in 0..3 {
        p.http.push(200, r#"{"data":{"access_level":"member","is_active":true}}"#);
    }
    block_on(crate::control::cron::run_until_done(&p, &config, 5));
    assert_eq!(days(), 1, "yesterday's row");
}

#[test]
fn admin_and_account_pages_chart_usage_for_everyone_a_person_and_an_app() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, code, jar) = obtain_code(&p, "https://gateway.test/mcp", "write");
    let token = body(&redeem(&p, &client_id, &code, VERIFIER))["access_token"].as_str().unwrap().to_string();
    let user = UserId::new("ws-1", "mem-1").unwrap();
    let now = p.now_ms();
    let seeded: Vec<Entry> = (0..40)
        .map(|i| Entry {
            at_ms: now - 1_000 - i * 3 * 3_600_000,
            client_id: client_id.clone(),
            outcome: if i % 4 == 0 { "error".into() } else { "ok".into() },
            ..Entry::call("tool", if i == 0 { "delete_record" } else { "query_records" }, i == 0, Vec::new())
        })
        .collect();
    block_on(audit::seed(&p, &user, seeded)).unwrap();
    let admin = |path: &str| {
        p.http.push(200, r#"{"data":{"access_level":"admin","email_address":"ada@acme.example"}}"#);
        let r = run(&p, with_cookies(path, &jar));
        assert_eq!(r.status(), 200, "{path}");
        text(&r)
    };
    let page = admin("/admin?range=7d");
    assert!(page.contains("<p class=totals>40 calls: 30 ok, 10 Attio error in the last 7 days.</p>"), "{page}");
    assert!(page.contains("role=img aria-labelledby=\"usage-t usage-d\""));
    assert!(page.contains("<title id=\"usage-t\">Calls per day by outcome</title>"));
    assert!(page.contains("Calls per day by outcome as a table"), "the numbers as a table");
    assert!(page.contains("Busiest apps") && page.contains("Test &lt;Client&gt;"), "apps by name");
    assert!(page.contains("Delete a record"), "the latest destructive call, by the tool's title");
    assert!(page.contains("aria-current=page>7 days</a>"));
    let day = admin("/admin?range=24h");
    assert!(day.contains("Calls per hour by outcome"), "24 hours by the hour");
    assert!(day.contains("in the last 24 hours.</p>"));
    // An app's page: its people with a revoke button, its usage.
    let app = admin(&format!("/admin?app={client_id}&range=30d"));
    assert!(app.contains("Sends people back to <code>127.0.0.1</code>"), "{app}");
    assert!(app.contains("aria-label=\"Revoke for"), "revoke from the app's page");
    assert!(app.contains("40 calls: 30 ok, 10 Attio error in the last 30 days."), "{app}");
    assert!(!app.contains("Disconnect this person"), "only the app's people");
    let app_day = admin(&format!("/admin?app={client_id}&range=24h"));
    assert!(app_day.contains("Calls per hour by outcome"), "an app's day by the hour");
    assert!(app_day.contains("8 calls: 6 ok, 2 Attio error in the last 24 hours."), "{app_day}");
    let none = admin("/admin?app=mcp_nobody");
    assert!(none.contains("No calls in this range.") && none.contains("Nobody has this app approved now."));
    // A person's own page: the same chart over their apps.
    assert_eq!(mcp(&p, &token, r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, &[]).status(), 200);
    let account = text(&run(&p, with_cookies("/account", &jar)));
    assert!(account.contains("Your apps&#39; calls per day by outcome"), "{account}");
    assert!(account.contains("40 calls: 30 ok, 10 Attio error in the last 7 days."), "{account}");
}
