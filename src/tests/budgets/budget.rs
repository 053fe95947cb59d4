//! The budget model's counts: every route and lifecycle event run through the router with the
//! fake platform, and the storage operations it makes counted by kind (KV get / put / delete /
//! list at KV's real page size, Durable Object requests, SQLite rows read and written by the
//! `Transitions` class, alarms set, outbound subrequests). `scripts/bench` turns them into the
//! Free-plan ceiling and the Paid cost for a day's mix (`bench/budget.mjs`); with
//! `BUDGET_JSON=<file>` this test writes them there. It also holds the per-call counts to what
//! they are, so a change in them is seen here first.

use std::collections::BTreeMap;

use serde_json::json;

use crate::testing::RowCounts;
use crate::tests::flow::*;
use crate::tests::*;

/// What one event cost.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
struct Ops {
    /// Requests the worker itself served.
    requests: u64,
    kv_get: u64,
    kv_put: u64,
    kv_delete: u64,
    kv_list: u64,
    do_requests: u64,
    rows_read: u64,
    rows_written: u64,
    alarms_set: u64,
    /// Outbound HTTP requests (Attio, metadata documents, key sets).
    fetches: u64,
}

impl Ops {
    /// Subrequests as the platform counts them per invocation: KV, Durable Object and fetch.
    fn subrequests(&self) -> u64 {
        self.kv_get + self.kv_put + self.kv_delete + self.kv_list + self.do_requests + self.fetches
    }
}

/// Counts what `work` does on `p` (which served `requests` requests).
fn measure(p: &FakePlatform, requests: u64, work: impl FnOnce()) -> Ops {
    p.take_calls();
    let before = p.rows.get();
    work();
    let after: RowCounts = p.rows.get();
    let calls = p.take_calls();
    let count = |prefix: &str| calls.iter().filter(|c| c.starts_with(prefix)).count() as u64;
    Ops {
        requests,
        kv_get: count("kv get "),
        kv_put: count("kv put "),
        kv_delete: count("kv delete "),
        kv_list: count("kv list "),
        do_requests: count("do "),
        rows_read: after.read - before.read,
        rows_written: after.written - before.written,
        alarms_set: after.alarms_set - before.alarms_set,
        fetches: count("http "),
    }
}

/// A platform as production pages KV listings (1,000 keys a page).
fn platform() -> FakePlatform {
    let p = FakePlatform::with_settings(loopback_settings());
    p.kv_page.set(1000);
    p
}

/// `SELF_ACTIVE` for another member of the workspace.
fn self_of(member: &str) -> String {
    SELF_ACTIVE.replace("mem-1", member)
}

/// A person connects Attio (no app involved): the session cookies.
fn connect_person(p: &FakePlatform, member: &str) -> Vec<String> {
    let (state, jar) = start(p);
    p.http.push(200, r#"{"access_token":"attio-at-1","token_type":"Bearer"}"#);
    p.http.push(200, &self_of(member));
    let back = callback(p, &format!("code=c&state={state}"), &jar);
    assert_eq!(back.status(), 303, "{}", text(&back));
    cookies(&back)
}

fn tool_call(name: &str) -> String {
    format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"{name}","arguments":{{}}}}}}"#)
}

/// Every event of the model, counted.
fn events() -> BTreeMap<&'static str, Ops> {
    let mut e = BTreeMap::new();
    let p = platform();

    // An app's first connection: register, the consent page, the decision (the Attio sign-in
    // starts), Attio's callback (the connection made, the code issued), the code grant.
    let mut client_id = String::new();
    e.insert("register", measure(&p, 1, || client_id = register(&p)));
    let mut consent = None;
    let authorize = format!("/authorize?{}", authorize_query(&client_id, "https://gateway.test/mcp"));
    e.insert("authorize", measure(&p, 1, || consent = Some(run(&p, get(&authorize)))));
    let consent = consent.unwrap();
    let page = text(&consent);
    let fields = [("request", hidden(&page, "request")), ("csrf", hidden(&page, "csrf"))];
    let approve = [
        ("request", fields[0].1.as_str()),
        ("csrf", fields[1].1.as_str()),
        ("decision", "approve"),
        ("access", "write"),
    ];
    let mut decision = None;
    e.insert("consent", measure(&p, 1, || decision = Some(run(&p, form("/authorize", &approve, &cookies(&consent))))));
    let decision = decision.unwrap();
    let state = query(decision.headers()[LOCATION].to_str().unwrap(), "state").unwrap();
    let mut back = None;
    e.insert(
        "connect",
        measure(&p, 1, || {
            script_successful_exchange(&p);
            back = Some(callback(&p, &format!("code=attio-code&state={state}"), &cookies(&decision)));
        }),
    );
    let back = back.unwrap();
    let jar = cookies(&back);
    let code = query(back.headers()[LOCATION].to_str().unwrap(), "code").unwrap();
    let mut issued = Value::Null;
    e.insert("code_grant", measure(&p, 1, || issued = body(&redeem(&p, &client_id, &code, VERIFIER))));
    let at = issued["access_token"].as_str().unwrap().to_string();
    let mut refreshed = Value::Null;
    e.insert(
        "refresh_grant",
        measure(&p, 1, || {
            refreshed = body(&run(&p, refresh_request(&client_id, issued["refresh_token"].as_str().unwrap())))
        }),
    );
    assert!(refreshed["access_token"].is_string(), "{refreshed}");

    // Calls.
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"b","version":"1"}}}"#;
    e.insert("initialize", measure(&p, 1, || assert_eq!(mcp(&p, &at, init, &[]).status(), 200)));
    let list = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    e.insert("tools_list", measure(&p, 1, || assert_eq!(mcp(&p, &at, list, &[]).status(), 200)));
    e.insert(
        "tools_call",
        measure(&p, 1, || {
            p.http.push(200, r#"{"data":[]}"#);
            assert_eq!(body(&mcp(&p, &at, &tool_call("list_objects"), &[]))["result"]["isError"], false);
        }),
    );
    e.insert(
        "tools_call_refused",
        measure(&p, 1, || assert_eq!(mcp(&p, "agwa.0123456789abcdef0123456789abcdef.x", list, &[]).status(), 401)),
    );
    let rest = proxy_token(&p, "read");
    e.insert(
        "proxy_read",
        measure(&p, 1, || {
            p.http.push(200, r#"{"data":[]}"#);
            assert_eq!(proxied(&p, "GET", "/v2/objects", &rest, "").status(), 200);
        }),
    );

    // Pages: the person's account, and the administrators' view over a month of a busy log
    // (20,000 calls over 30 days, whose closed days the daily pass already wrote: the view reads
    // their rows and the last day's chunks, never the month's).
    e.insert("account_view", measure(&p, 1, || assert_eq!(run(&p, with_cookies("/account", &jar)).status(), 200)));
    let busy = crate::base::user::UserId::new("ws-1", "mem-1").unwrap();
    let now = crate::platform::Clock::now_ms(&p);
    let month: Vec<crate::store::audit::Entry> = (0..20_000u64)
        .map(|i| crate::store::audit::Entry {
            at_ms: now - 1_000 - i * (29 * 86_400_000 / 20_000),
            client_id: client_id.clone(),
            outcome: "ok".into(),
            ..crate::store::audit::Entry::call("tool", "list_objects", false, Vec::new())
        })
        .collect();
    block_on(crate::store::audit::seed(&p, &busy, month)).unwrap();
    let ask = crate::store::audit::UsageAsk { from_day: 0, destructive: crate::control::admin::destructive_calls() };
    block_on(crate::store::audit::usage(&p, &busy, &ask)).unwrap();
    e.insert(
        "admin_view_20k_log",
        measure(&p, 1, || {
            p.http.push(200, r#"{"data":{"access_level":"admin","email_address":"ada@acme.example"}}"#);
            assert_eq!(run(&p, with_cookies("/admin", &jar)).status(), 200);
        }),
    );

    // Revocation (RFC 7009).
    e.insert(
        "revoke",
        measure(&p, 1, || {
            let r = run(&p, form("/revoke", &[("client_id", &client_id), ("token", &at)], &[]));
            assert_eq!(r.status(), 200);
        }),
    );

    // The cron: a day of it for the mix's ten people (the pass, a batch of people a run, then
    // the policy copies), and a minute with nothing to do.
    let config = crate::config::SettingsSource::config(&p).unwrap();
    for i in 2..=10 {
        connect_person(&p, &format!("mem-{i}"));
    }
    let mut day = crate::store::sweep::Progress::default();
    let mut runs = 0u64;
    let cron_day = measure(&p, 0, || {
        for _ in 0..10 {
            p.http.push(200, r#"{"data":{"access_level":"member"}}"#);
        }
        loop {
            block_on(crate::control::cron::run(&p, &config));
            runs += 1;
            day = block_on(crate::store::sweep::load(&p));
            if (day.done && day.spread.is_none()) || runs > 20 {
                break;
            }
        }
    });
    assert_eq!((day.people, day.members.checked), (10, 10), "{day:?}");
    e.insert("cron_day_10_people", Ops { requests: runs, ..cron_day });
    e.insert("cron_idle_run", measure(&p, 1, || block_on(crate::control::cron::run(&p, &config))));
    // A policy save, with one holder and with two: what each holder adds.
    let q = platform();
    let holder = |member: &str| {
        block_on(crate::store::policy::adopt(&q, &crate::base::user::UserId::new("ws-1", member).unwrap())).unwrap()
    };
    holder("mem-1");
    block_on(crate::store::policy::save(&q, &crate::control::policy::Policy::default())).unwrap();
    let policy = crate::control::policy::Policy { writes_off: true, ..Default::default() };
    let save_one = measure(&q, 1, || {
        block_on(crate::store::policy::save(&q, &policy)).unwrap();
    });
    holder("mem-2");
    block_on(crate::store::policy::save(&q, &policy)).unwrap();
    let save_two = measure(&q, 1, || {
        block_on(crate::store::policy::save(&q, &policy)).unwrap();
    });
    // Retention: a chunk of records past its 30 days is deleted when a later record starts a
    // new chunk, one row each (deletes are billed as rows written): the difference between a
    // record that starts a chunk and finds one expired and one that finds none.
    let q = platform();
    let ada = crate::base::user::UserId::new("ws-1", "ada").unwrap();
    let stored = || {
        let call = crate::store::audit::Entry::call("tool", "whoami", false, Vec::new());
        let mut pending = crate::store::audit::Pending::new(&q, &ada, call);
        measure(&q, 0, || block_on(pending.store(&q)).unwrap())
    };
    stored();
    q.advance_ms(31 * 86_400_000);
    // The object's latest expiry moved on first (it does once a day in any case), so neither
    // measured record moves it.
    let later = crate::platform::Clock::now_ms(&q) + 60 * 86_400_000;
    let probe = Command::Put { key: "probe".into(), value: json!(1), expires_at_ms: later };
    block_on(q.transition(&crate::store::keys::person_object(&ada), probe)).unwrap();
    let pruning = stored();
    q.advance_ms(crate::transitions::log::CHUNK_SPAN_MS);
    let fresh = stored();
    e.insert("audit_retention_per_chunk", minus(pruning, fresh));
    anonymous_events(&mut e);
    e.insert("policy_save_fixed", minus(save_one, minus(save_two, save_one)));
    e.insert("policy_save_per_person", minus(save_two, save_one));
    e
}

/// What anonymous requests cost at worst once this release has served past every earlier
/// format's lifetime (the steady state): `bench/budget.mjs` multiplies each `anon_<limit>_…`
/// event by the limit it passes, a minute at a time for a day, for one address. What an
/// isolate reads once and keeps a while (the policy for the authorization page, the release's
/// first run) is `anon_perminute_…`, counted once a minute.
fn anonymous_events(e: &mut BTreeMap<&'static str, Ops>) {
    let p = platform();
    let config = crate::config::SettingsSource::config(&p).unwrap();
    block_on(crate::control::cron::run(&p, &config));
    p.advance_ms(crate::store::clients::EARLIER_LIFETIME_MS + 86_400_000);
    let client_id = register(&p);
    let authorize = format!("/authorize?{}", authorize_query(&client_id, "https://gateway.test/mcp"));
    let list = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    let untagged = format!("agwa.{}.{}", "0".repeat(32), "A".repeat(43));
    // What the isolate keeps: read once (cold), then not (warm).
    let cold = measure(&p, 2, || {
        assert_eq!(run(&p, get(&authorize)).status(), 200);
        assert_eq!(mcp(&p, &untagged, list, &[]).status(), 401);
    });
    let warm = measure(&p, 2, || {
        assert_eq!(run(&p, get(&authorize)).status(), 200);
        assert_eq!(mcp(&p, &untagged, list, &[]).status(), 401);
    });
    e.insert("anon_perminute_isolate_reads", minus(cold, warm));
    // A flow (the `Flows` limit counts each step): the authorization page, the decision (the
    // Attio sign-in starts), and Attio's callback with the state but a code Attio refuses.
    let mut consent = None;
    let page = measure(&p, 1, || consent = Some(run(&p, get(&authorize))));
    let consent = consent.unwrap();
    let html = text(&consent);
    let approve = [
        ("request", hidden(&html, "request")),
        ("csrf", hidden(&html, "csrf")),
        ("decision", "approve".into()),
        ("access", "read".into()),
    ];
    let approve: Vec<(&str, &str)> = approve.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut decision = None;
    let decide = measure(&p, 1, || decision = Some(run(&p, form("/authorize", &approve, &cookies(&consent)))));
    let decision = decision.unwrap();
    let state = query(decision.headers()[LOCATION].to_str().unwrap(), "state").unwrap();
    let refused = measure(&p, 1, || {
        p.http.push(400, r#"{"error":"invalid_grant"}"#);
        assert_eq!(callback(&p, &format!("code=stolen&state={state}"), &cookies(&decision)).status(), 400);
    });
    e.insert("anon_flows_authorization_page", page);
    e.insert("anon_flows_decision", decide);
    e.insert("anon_flows_refused_callback", refused);
    e.insert("anon_flows_connect_start", measure(&p, 1, || drop(start(&p))));
    // The `Lookups` limit: what a stranger can still ask to be looked up.
    let code_form = |client: &str, code: &str| {
        let pairs =
            [("grant_type", "authorization_code"), ("client_id", client), ("code", code), ("code_verifier", VERIFIER)];
        form("/token", &pairs, &[])
    };
    e.insert(
        "anon_lookups_earlier_client",
        measure(&p, 1, || assert_eq!(run(&p, code_form("mcp_unknown", "agwc.x")).status(), 401)),
    );
    e.insert(
        "anon_lookups_untagged_code",
        measure(&p, 1, || assert_eq!(run(&p, code_form(&client_id, "agwc.x")).status(), 400)),
    );
    // A code of ours in form (its tag checks out; what a stranger who began a flow holds).
    let code = crate::oauth::grants::grant::new_code(config.keys(), &[1; 16]);
    e.insert(
        "anon_lookups_metadata_document",
        measure(&p, 1, || assert_eq!(run(&p, code_form("https://any.host/c.json", &code)).status(), 401)),
    );
    e.insert("anon_lookups_untagged_token", measure(&p, 1, || assert_eq!(mcp(&p, &untagged, list, &[]).status(), 401)));
    // No limit needed: what costs nothing (a registration, a forged tagged token anywhere).
    e.insert("anon_registration", measure(&p, 1, || assert!(register(&p).starts_with("mcp2."))));
    let forged = format!("agwa2.{}.{}", "0".repeat(32), "A".repeat(43));
    e.insert("anon_unlimited_forged_token", measure(&p, 1, || assert_eq!(mcp(&p, &forged, list, &[]).status(), 401)));
}

/// `a - b`, field by field (never below zero).
fn minus(a: Ops, b: Ops) -> Ops {
    let d = |x: u64, y: u64| x.saturating_sub(y);
    Ops {
        requests: d(a.requests, b.requests),
        kv_get: d(a.kv_get, b.kv_get),
        kv_put: d(a.kv_put, b.kv_put),
        kv_delete: d(a.kv_delete, b.kv_delete),
        kv_list: d(a.kv_list, b.kv_list),
        do_requests: d(a.do_requests, b.do_requests),
        rows_read: d(a.rows_read, b.rows_read),
        rows_written: d(a.rows_written, b.rows_written),
        alarms_set: d(a.alarms_set, b.alarms_set),
        fetches: d(a.fetches, b.fetches),
    }
}

#[test]
fn the_budget_model_counts_every_event() {
    let events = events();
    // A tool call and a proxied read: one Attio call, no KV operation at all, and two Durable
    // Object requests writing two rows: the read that also stores the call's audit record, and
    // the outcome attached after the answer.
    for name in ["tools_call", "proxy_read"] {
        let e = events[name];
        assert_eq!((e.do_requests, e.rows_written, e.fetches), (2, 2, 1), "{name}: {e:?}");
        assert_eq!(e.kv_get + e.kv_put + e.kv_delete + e.kv_list, 0, "{name}: {e:?}");
    }
    let retention = events["audit_retention_per_chunk"];
    assert_eq!(retention.rows_written, 1, "one expired chunk deleted: {retention:?}");
    // bench/budget.mjs weighs a chunk's retention as a 32nd of a tool call.
    assert_eq!(crate::transitions::log::CHUNK_RECORDS, 32);
    // Anonymous requests store nothing and fetch nothing, once the earlier formats' lifetimes
    // are over, except the Attio exchange a callback makes and a metadata document's fetch
    // (behind their limits), and what an isolate reads once a minute at most.
    for (name, ops) in events.iter().filter(|(n, _)| n.starts_with("anon_") && !n.starts_with("anon_perminute")) {
        let storage = ops.kv_get + ops.kv_put + ops.kv_delete + ops.kv_list + ops.do_requests + ops.alarms_set;
        assert_eq!(storage, 0, "{name}: {ops:?}");
        assert!(ops.fetches <= 1, "{name}: {ops:?}");
    }
    for (name, ops) in &events {
        // A day of the cron is many invocations: each of its runs is held to 40 elsewhere.
        if *name != "cron_day_10_people" {
            assert!(ops.subrequests() <= 50, "{name} exceeds the Free plan's 50 subrequests: {ops:?}");
        }
    }
    if let Ok(path) = std::env::var("BUDGET_JSON") {
        let out: BTreeMap<&str, Value> =
            events.iter().map(|(k, v)| (*k, json!({"ops": v, "subrequests": v.subrequests()}))).collect();
        std::fs::write(path, serde_json::to_string_pretty(&out).unwrap()).unwrap();
    }
}
