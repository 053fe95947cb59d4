//! Issue 29's acceptance, in Chromium (`tests/browser/glance.mjs`): three people connected
//! through the mock Attio, three apps approved, and a realistic week of their calls seeded
//! through the test-mode route (reads, writes, Attio errors, refusals, rate limits, a
//! deletion). `/admin` (desktop and phone, light and dark), its 24-hour view, a person's page, an
//! app's page and `/account` must name people, apps and tools, show the seeded totals, give
//! every chart its text alternative and a table, and never run off the page. Screenshots are
//! kept in `test-artifacts/screenshots/glance-*.png`.

use std::time::Duration;

use serde_json::{json, Value};

use crate::browser::chromium;
use crate::harness::*;

const HOUR: u64 = 3_600_000;
const DAY: u64 = 24 * HOUR;
const CLEO: &str = "6a1c9f0e-2b7d-4c3e-9f1a-0d5e8b7c6a43";
const APPS: [&str; 3] = ["Claude", "Cursor", "Sales dashboard"];

/// One kind of call a person's app makes each day of the week: how many, and how they end.
struct Habit {
    person: usize,
    app: usize,
    action: &'static str,
    kind: &'static str,
    write: bool,
    outcome: &'static str,
    status: Option<u16>,
    per_day: u64,
}

const fn habit(person: usize, app: usize, action: &'static str, outcome: &'static str, per_day: u64) -> Habit {
    Habit { person, app, action, kind: "tool", write: false, outcome, status: None, per_day }
}

/// Ada works through Claude and a dashboard on the REST proxy, Bob through Claude and Cursor
/// (some refused, some rate-limited), Cleo through Cursor (with one deletion).
fn habits() -> Vec<Habit> {
    vec![
        habit(0, 0, "search_records", "ok", 10),
        habit(0, 0, "get_record", "error", 2),
        Habit { kind: "proxy", ..habit(0, 2, "POST /v2/objects/companies/records/query", "ok", 4) },
        Habit {
            kind: "proxy",
            write: true,
            status: Some(200),
            ..habit(0, 2, "PATCH /v2/objects/companies/records/0e9f1c2a-5b6d-4e7f-8a9b-0c1d2e3f4a5b", "ok", 1)
        },
        habit(1, 0, "query_records", "ok", 6),
        Habit { write: true, ..habit(1, 0, "create_note", "refused 403", 1) },
        habit(1, 1, "list_tasks", "ok", 5),
        habit(1, 1, "list_tasks", "refused 429", 2),
        Habit { status: Some(429), ..habit(1, 1, "search_records", "error", 1) },
        habit(2, 1, "get_record", "ok", 8),
    ]
}

/// What the gateway counts an outcome as (`transitions::usage`).
fn class(outcome: &str, status: Option<u16>) -> usize {
    match outcome {
        "ok" => 0,
        o if o.starts_with("refused 429") || status == Some(429) => 3,
        o if o.starts_with("refused") => 2,
        _ => 1,
    }
}

/// The totals line the pages print: "N calls: a ok, b Attio error, …".
fn totals_line(counts: [u64; 4]) -> String {
    let names = ["ok", "Attio error", "refused", "rate-limited"];
    let parts: Vec<String> =
        counts.iter().zip(names).filter(|(n, _)| **n > 0).map(|(n, name)| format!("{n} {name}")).collect();
    format!("{} calls: {}", counts.iter().sum::<u64>(), parts.join(", "))
}

#[test]
fn a_seeded_week_reads_at_a_glance_in_chromium() {
    let browser = chromium().expect("Chromium is missing: scripts/bootstrap installs Debian's chromium package");
    let stack = Stack::start(&[("ATTIO_ALLOWED_WORKSPACES", ACME_WORKSPACE_ID), ("INSECURE_TEST_MODE", "1")]);
    let members: Vec<String> = stack.mock.with(|w| {
        let acme = w.workspaces.iter_mut().find(|ws| ws.id.to_string() == ACME_WORKSPACE_ID).unwrap();
        let mut cleo_member = acme.members[1].clone();
        cleo_member.id = CLEO.parse().unwrap();
        (cleo_member.first_name, cleo_member.last_name) = ("Cleo".into(), "Coder".into());
        cleo_member.email = "cleo@acme.example".into();
        acme.members.push(cleo_member);
        acme.members.iter().map(|m| m.id.to_string()).collect()
    });
    // Each person approves their apps (connecting Attio on the way), as the mock's member.
    let redirect = "http://127.0.0.1:7777/callback";
    let apps: Vec<String> = APPS.iter().map(|name| stack.register_client(name, redirect)).collect();
    for (person, app_list) in [(1, [0, 1].as_slice()), (2, &[1]), (0, &[0, 2])] {
        let member = members[person].parse().ok();
        stack.mock.with(|w| w.settings.auto_approve_member = member);
        for app in app_list {
            let authorize = stack.authorize_url(&apps[*app], redirect, "/mcp", Some("attio:read attio:write"));
            let to_client = stack.approve_in_browser_as_approved(&authorize, "write");
            stack.redeem_redirect(&apps[*app], redirect, &to_client);
        }
    }
    // Ada (a workspace admin) signs in: her session opens /admin and /account.
    let mut ada = stack.browser();
    assert_eq!(stack.connect(&mut ada).status, 200);

    // The week: each habit on each of the last six days, the newest calls within 8 hours.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let mut per_person: Vec<Vec<Value>> = vec![Vec::new(); 3];
    let mut week = [[0u64; 4]; 3];
    let (mut last_day, mut cursor) = ([0u64; 4], [0u64; 4]);
    let mut everyone = [0u64; 4];
    for day in 0..6u64 {
        for (i, h) in habits().iter().enumerate() {
            for j in 0..h.per_day {
                let age = day * DAY + (i as u64 * 13 + j * 7 + 1) * 60_000 * 3;
                per_person[h.person].push(json!({
                    "at_ms": now - age, "client_id": apps[h.app], "kind": h.kind, "action": h.action,
                    "write": h.write, "outcome": h.outcome, "status": h.status, "duration_ms": 180,
                }));
                let c = class(h.outcome, h.status);
                week[h.person][c] += 1;
                everyone[c] += 1;
                if day == 0 {
                    last_day[c] += 1;
                }
                if h.app == 1 {
                    cursor[c] += 1;
                }
            }
        }
    }
    // Cleo deletes a record two days ago.
    per_person[2].push(json!({
        "at_ms": now - 2 * DAY - HOUR, "client_id": apps[1], "kind": "tool", "action": "delete_record",
        "write": true, "outcome": "ok", "ids": ["companies", "0b7c4d1e-1111-4222-8333-944455556666"],
    }));
    (week[2][0], everyone[0], cursor[0]) = (week[2][0] + 1, everyone[0] + 1, cursor[0] + 1);
    for (person, entries) in per_person.iter().enumerate() {
        let body = json!({"workspace_id": ACME_WORKSPACE_ID, "member_id": members[person], "entries": entries});
        let r = stack.worker.client.send_json("POST", "/__test/seed-audit", None, &body);
        assert_eq!(r.status, 200, "{}", r.body);
    }

    let screenshots = artifacts_dir().join("screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();
    let all = ["desktop-light", "desktop-dark", "phone-light", "phone-dark"];
    let two = ["desktop-light", "phone-dark"];
    let bob_page = format!("/admin?person={ACME_WORKSPACE_ID}%3A{}&range=7d", members[1]);
    let cursor_page = format!("/admin?app={}&range=7d", apps[1]);
    let input = json!({
        "base": stack.worker.client.base, "cookie": ada.cookie_header(), "screenshots": screenshots,
        "pages": [
            {"name": "admin", "path": "/admin?range=7d", "variants": all},
            {"name": "admin-24h", "path": "/admin?range=24h", "variants": ["desktop-light"]},
            {"name": "person", "path": bob_page, "variants": two},
            {"name": "app", "path": cursor_page, "variants": two},
            {"name": "account", "path": "/account", "variants": two},
        ],
    })
    .to_string();
    let (r, ok) = browser_script("glance.mjs", &input, Some(browser), Duration::from_secs(180));
    assert!(ok, "the walk failed: {r:#}");

    let seen = |page: &str, variant: &str| &r["pages"][page][variant];
    let expected = [
        ("admin", format!("{} in the last 7 days.", totals_line(everyone))),
        ("admin-24h", format!("{} in the last 24 hours.", totals_line(last_day))),
        ("person", format!("{} in the last 7 days.", totals_line(week[1]))),
        ("app", format!("{} in the last 7 days.", totals_line(cursor))),
        ("account", format!("{} in the last 7 days.", totals_line(week[0]))),
    ];
    for (page, totals) in &expected {
        let variants = r["pages"][page].as_object().unwrap_or_else(|| panic!("{page} not seen: {r:#}"));
        for (variant, s) in variants {
            assert_eq!(s["status"], 200, "{page} {variant}");
            assert_eq!(s["totals"].as_str(), Some(totals.as_str()), "{page} {variant}: the seeded totals");
            assert!(s["overflow"].as_i64().unwrap() <= 0, "{page} {variant} runs off the page: {}", s["overflow"]);
            let charts = s["charts"].as_array().unwrap();
            assert!(!charts.is_empty(), "{page} {variant} has no chart");
            for chart in charts {
                assert_eq!(chart["role"], "img", "{page}: {chart}");
                assert!(
                    chart["label"].as_str().unwrap().contains(" calls"),
                    "{page}: a chart without its numbers: {chart}"
                );
                assert_eq!(chart["table"], true, "{page}: a chart without its table");
            }
        }
    }
    // Dark mode is dark.
    assert_ne!(seen("admin", "desktop-dark")["background"], seen("admin", "desktop-light")["background"]);
    // Names, not ids: people, apps and tools.
    let text = seen("admin", "desktop-light")["text"].as_str().unwrap();
    for name in [
        "Ada Admin",
        "Bob Builder",
        "Cleo Coder",
        "Claude",
        "Cursor",
        "Sales dashboard",
        "Search records",
        "Delete a record",
    ] {
        assert!(text.contains(name), "/admin does not name {name}");
    }
    assert!(!text.contains(&members[1]), "a member id shown as a name");
    let app = seen("app", "desktop-light")["text"].as_str().unwrap();
    assert!(app.contains("Cursor") && app.contains("Bob Builder") && app.contains("Cleo Coder"), "the app's people");
    assert!(!app.contains("Ada Admin <"), "only the app's people");
    let person = seen("person", "desktop-light")["text"].as_str().unwrap();
    assert!(person.contains("Bob Builder") && person.contains("Claude") && person.contains("Cursor"));
    for shot in [
        "glance-admin-desktop-light",
        "glance-admin-phone-dark",
        "glance-app-desktop-light",
        "glance-admin-desktop-light-top",
    ] {
        let size = std::fs::metadata(screenshots.join(format!("{shot}.png"))).map(|m| m.len()).unwrap_or(0);
        assert!(size > 5_000, "screenshot {shot} missing or empty");
    }
}
