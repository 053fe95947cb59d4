//! Issue 26: the cron's fan-outs stay within 40 subrequests a run for any number of people.
//! Over 500 people: the day's pass checks every member and every record, a batch a run; a
//! policy save reaches the first holders at once and the cron the rest; a minute with nothing to
//! do reads one KV key; `/health` says when the pass finished and whom it covered.

use super::*;
use crate::attio::vault::{Connection, ConnectionStatus, Tokens};
use crate::base::secret::{AttioAccessToken, AttioRefreshToken};
use crate::base::user::UserId;

const PEOPLE: usize = 500;

fn connection(member: &str) -> Connection {
    Connection {
        user: UserId::new("ws-1", member).unwrap(),
        workspace_slug: "acme".into(),
        workspace_name: "Acme".into(),
        scope: "record_permission:read".into(),
        status: ConnectionStatus::Active,
        tokens: Some(Tokens {
            access: AttioAccessToken::new(format!("access-{member}")),
            refresh: Some(AttioRefreshToken::new(format!("refresh-{member}"))),
        }),
        access_expires_at_ms: None,
        connected_at_ms: 1,
        updated_at_ms: 1,
        revision: 1,
        epoch: 1,
        member_email: None,
        member_name: None,
    }
}

#[test]
fn a_day_of_the_cron_covers_500_people_and_a_policy_save_reaches_them_all_within_40_subrequests_a_run() {
    let p = FakePlatform::with_settings(loopback_settings());
    p.kv_page.set(1000);
    // An hour into a UTC day, so the day's pass is done before the next begins.
    let day = 86_400_000;
    p.advance_ms(day - crate::platform::Clock::now_ms(&p) % day + 3_600_000);
    let config = crate::config::SettingsSource::config(&p).unwrap();
    let people: Vec<UserId> = (0..PEOPLE).map(|i| UserId::new("ws-1", &format!("m{i:03}")).unwrap()).collect();
    for user in &people {
        block_on(crate::attio::vault::save(&p, config.vault(), &connection(&user.member_id))).unwrap();
        block_on(crate::store::policy::adopt(&p, user)).unwrap();
    }
    // A policy save: the first holders at once, within one request's share.
    p.take_calls();
    let policy = crate::control::policy::Policy { writes_off: true, ..Default::default() };
    let spread = block_on(crate::store::policy::save(&p, &policy)).unwrap();
    assert!(p.take_calls().len() <= 40);
    assert_eq!(spread.updated as usize, crate::store::policy::COPIES_PER_INVOCATION);
    block_on(crate::store::sweep::spread_pending(&p, spread.rest.unwrap())).unwrap();

    // The cron, a run a minute, until everything is done; one in five members has left.
    for i in 0..PEOPLE {
        let level = if i % 5 == 0 { "suspended" } else { "member" };
        p.http.push(200, &format!(r#"{{"data":{{"access_level":"{level}"}}}}"#));
    }
    p.take_calls();
    let mut runs = 0;
    let progress = loop {
        block_on(crate::control::cron::run(&p, &config));
        runs += 1;
        let calls = p.take_calls();
        assert!(calls.len() <= 40, "run {runs}: {} subrequests", calls.len());
        let progress = block_on(crate::store::sweep::load(&p));
        if progress.done && progress.spread.is_none() {
            break progress;
        }
        assert!(runs < 400, "{progress:?}");
        p.advance_ms(60_000);
    };
    assert_eq!((progress.people, progress.members.checked, progress.members.ended), (500, 500, 100));
    assert_eq!(progress.reseal.scanned, 500);
    // The save's rest first, then the pass, then the day's copies again.
    let copies = PEOPLE.div_ceil(crate::store::policy::COPIES_PER_INVOCATION);
    assert_eq!(runs, copies - 1 + PEOPLE.div_ceil(crate::control::cron::PEOPLE_PER_RUN) + copies);
    let copy = |u: &UserId| {
        let get = Command::Get { key: crate::store::keys::POLICY_COPY.into() };
        match block_on(p.transition(&crate::store::keys::person_object(u), get)).unwrap() {
            Outcome::Found { value } => value["writes_off"] == true,
            _ => false,
        }
    };
    assert!(people.iter().all(copy), "every copy has the change");

    // A minute with nothing to do reads one KV key.
    p.take_calls();
    block_on(crate::control::cron::run(&p, &config));
    assert_eq!(p.take_calls(), ["kv get sweep:v1"]);
    // /health says when the pass finished, whom it covered, and what it found.
    let health = body(&run(&p, get("/health")));
    assert_eq!(health["daily_check"]["people"], 500, "{health}");
    assert_eq!(health["daily_check"]["connections_ended"], 100, "{health}");
    // Three days later with no pass since, it says the cron is not running.
    p.advance_ms(3 * day);
    let health = body(&run(&p, get("/health")));
    assert!(health["warnings"].to_string().contains("is the cron trigger deployed"), "{health}");
}
