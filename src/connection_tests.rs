//! Tests of [`super`] (kept apart: with its property tests the module would pass 500 lines).

use super::*;
use crate::config::{Config, ATTIO_APP_BASE_URL};
use crate::platform::Clock;
use crate::secret::AttioRefreshToken;
use crate::testing::{block_on, complete_settings, reply, FakePlatform};

fn setup() -> (FakePlatform, Config, Vault) {
    let mut m = complete_settings();
    m.insert(ATTIO_APP_BASE_URL, "http://127.0.0.1:9".into());
    let p = FakePlatform::with_settings(m);
    let config = Config::load(&p).unwrap();
    let vault = Vault::new(&config.vault_keys);
    (p, config, vault)
}

fn connection(p: &FakePlatform, expires_in_ms: Option<u64>) -> Connection {
    Connection {
        user: UserId::new("ws", "m").unwrap(),
        workspace_slug: "acme".into(),
        workspace_name: "Acme".into(),
        scope: "a:read".into(),
        status: ConnectionStatus::Active,
        tokens: Some(Tokens {
            access: AttioAccessToken::new("at-old".into()),
            refresh: expires_in_ms.map(|_| AttioRefreshToken::new("rt-old".into())),
        }),
        access_expires_at_ms: expires_in_ms.map(|ms| p.now_ms() + ms),
        connected_at_ms: p.now_ms(),
        updated_at_ms: p.now_ms(),
        revision: 1,
        epoch: 1,
        member_email: None,
    }
}

fn refresh_count(p: &FakePlatform) -> usize {
    p.http
        .sent
        .borrow()
        .iter()
        .filter(|r| String::from_utf8_lossy(r.body()).contains("grant_type=refresh_token"))
        .count()
}

#[test]
fn long_lived_tokens_are_used_as_they_are() {
    let (p, config, vault) = setup();
    let c = connection(&p, None);
    block_on(vault::save(&p, &vault, &c)).unwrap();
    let got = block_on(usable(&p, &config, &vault, &c.user)).unwrap();
    assert_eq!(got, c);
    assert!(p.http.sent.borrow().is_empty());
}

#[test]
fn expiring_tokens_refresh_and_store_the_rotated_refresh_token() {
    let (p, config, vault) = setup();
    let c = connection(&p, Some(30_000));
    block_on(vault::save(&p, &vault, &c)).unwrap();
    p.http.push(200, r#"{"access_token":"at-new","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-new"}"#);
    let got = block_on(usable(&p, &config, &vault, &c.user)).unwrap();
    assert_eq!(access_token(&got).unwrap().expose_secret(), "at-new");
    assert!(got.revision > c.revision);
    let stored = block_on(vault::load(&p, &vault, &c.user)).unwrap().unwrap();
    assert_eq!(stored.tokens.unwrap().refresh.unwrap().expose_secret(), "rt-new");
    // Fresh now: no second refresh.
    block_on(usable(&p, &config, &vault, &c.user)).unwrap();
    assert_eq!(refresh_count(&p), 1);
}

#[test]
fn a_reader_with_a_stale_kv_copy_uses_the_newer_revision_without_refreshing() {
    let (p, config, vault) = setup();
    let c = connection(&p, Some(30_000));
    block_on(vault::save(&p, &vault, &c)).unwrap();
    p.http.push(200, r#"{"access_token":"at-new","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-new"}"#);
    block_on(usable(&p, &config, &vault, &c.user)).unwrap();
    // KV lags: put the old revision back, as another location might still see it.
    block_on(vault::save(&p, &vault, &c)).unwrap();
    let got = block_on(usable(&p, &config, &vault, &c.user)).unwrap();
    assert_eq!(access_token(&got).unwrap().expose_secret(), "at-new");
    assert_eq!(refresh_count(&p), 1, "the spent refresh token is never sent again");
}

#[test]
fn a_held_lease_makes_others_wait_then_use_the_result() {
    let (p, config, vault) = setup();
    let c = connection(&p, Some(30_000));
    block_on(vault::save(&p, &vault, &c)).unwrap();
    let taken = connections::acquire_lease(&p, &c.user, "other", p.now_ms() + lease_ms(&config));
    assert!(block_on(taken).unwrap());
    // The other holder never finishes: after the lease expires, this request refreshes.
    p.http.push(200, r#"{"access_token":"at-new","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-new"}"#);
    let got = block_on(usable(&p, &config, &vault, &c.user)).unwrap();
    assert_eq!(access_token(&got).unwrap().expose_secret(), "at-new");
    assert_eq!(refresh_count(&p), 1);
}

#[test]
fn invalid_grant_revokes_but_transient_failures_do_not() {
    let (p, config, vault) = setup();
    let c = connection(&p, Some(30_000));
    block_on(vault::save(&p, &vault, &c)).unwrap();
    for status in [503, 429] {
        p.http.replies.borrow_mut().push_back(Ok(reply(status, "")));
        let err = block_on(usable(&p, &config, &vault, &c.user)).unwrap_err();
        assert!(matches!(err, ConnectionError::Upstream(_)), "{err:?}");
        let stored = block_on(vault::load(&p, &vault, &c.user)).unwrap().unwrap();
        assert_eq!(stored.status, ConnectionStatus::Active, "a {status} must not revoke");
    }
    p.http.push(400, r#"{"error":"invalid_grant"}"#);
    assert_eq!(block_on(usable(&p, &config, &vault, &c.user)).unwrap_err(), ConnectionError::Revoked);
    let stored = block_on(vault::load(&p, &vault, &c.user)).unwrap().unwrap();
    assert_eq!(stored.status, ConnectionStatus::Revoked);
    assert!(stored.tokens.is_none());
    assert_eq!(block_on(usable(&p, &config, &vault, &c.user)).unwrap_err(), ConnectionError::Revoked);
}

/// The connection as a state machine: random clock jumps and uses, each refresh answered
/// by Attio with a new pair, 429, 503, no connection at all, or `invalid_grant`. Only
/// `invalid_grant` may revoke; nothing else may lose or change the stored tokens; a refresh
/// is sent exactly when the token is about to expire; revisions only grow.
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::http::TransportError;

    #[derive(Debug, Clone, Copy)]
    enum Attio {
        NewPair { expires_in_secs: u64, rotates: bool },
        RateLimited,
        Unavailable,
        Unreachable,
        InvalidGrant,
    }

    #[derive(Debug, Clone, Copy)]
    enum Step {
        Advance(u64),
        Use(Attio),
    }

    fn attio() -> impl Strategy<Value = Attio> {
        prop_oneof![
            6 => (prop_oneof![Just(30u64), Just(3_600u64)], any::<bool>())
                .prop_map(|(expires_in_secs, rotates)| Attio::NewPair { expires_in_secs, rotates }),
            1 => Just(Attio::RateLimited),
            1 => Just(Attio::Unavailable),
            1 => Just(Attio::Unreachable),
            1 => Just(Attio::InvalidGrant),
        ]
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            1 => prop_oneof![0..10_000u64, 3_000_000..4_000_000u64].prop_map(Step::Advance),
            2 => attio().prop_map(Step::Use),
        ]
    }

    fn stored(p: &FakePlatform, vault: &Vault, user: &UserId) -> Connection {
        block_on(vault::load(p, vault, user)).unwrap().unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn only_invalid_grant_revokes_and_nothing_is_lost(steps in prop::collection::vec(step(), 1..40)) {
            let (p, config, vault) = setup();
            let c = connection(&p, Some(3_600_000));
            block_on(vault::save(&p, &vault, &c)).unwrap();
            let mut revoked = false;
            let mut serial = 0;
            for s in steps {
                let Step::Use(answer) = s else {
                    if let Step::Advance(ms) = s { p.advance_ms(ms); }
                    continue;
                };
                let before = stored(&p, &vault, &c.user);
                let due = needs_refresh(&before, p.now_ms());
                let sent_before = refresh_count(&p);
                if due {
                    serial += 1;
                    let reply = match answer {
                        Attio::NewPair { expires_in_secs, rotates } => {
                            let refresh = if rotates { format!(r#","refresh_token":"rt-{serial}""#) } else { String::new() };
                            Ok(reply(200, &format!(
                                r#"{{"access_token":"at-{serial}","token_type":"Bearer","expires_in":{expires_in_secs}{refresh}}}"#
                            )))
                        }
                        Attio::RateLimited => Ok(reply(429, "")),
                        Attio::Unavailable => Ok(reply(503, "")),
                        Attio::Unreachable => Err(TransportError::Network("refused".into())),
                        Attio::InvalidGrant => Ok(reply(400, r#"{"error":"invalid_grant"}"#)),
                    };
                    p.http.replies.borrow_mut().push_back(reply);
                }
                let result = block_on(usable(&p, &config, &vault, &c.user));
                let after = stored(&p, &vault, &c.user);
                let refreshes = refresh_count(&p) - sent_before;
                if revoked {
                    prop_assert_eq!(result, Err(ConnectionError::Revoked));
                    prop_assert_eq!(refreshes, 0, "a revoked connection never calls Attio");
                    continue;
                }
                prop_assert_eq!(refreshes, usize::from(due), "a refresh exactly when due");
                match (due, answer) {
                    (false, _) => {
                        prop_assert_eq!(result, Ok(before.clone()));
                        prop_assert_eq!(&after, &before);
                    }
                    (true, Attio::NewPair { rotates, .. }) => {
                        let got = result.expect("a successful refresh gives a usable connection");
                        prop_assert_eq!(access_token(&got).unwrap().expose_secret(), &format!("at-{serial}"));
                        prop_assert!(after.revision > before.revision, "revisions grow");
                        prop_assert_eq!(&after, &got);
                        let kept = before.tokens.as_ref().and_then(|t| t.refresh.as_ref()).map(|r| r.expose_secret().clone());
                        let expected = if rotates { Some(format!("rt-{serial}")) } else { kept };
                        let now_refresh = after.tokens.as_ref().and_then(|t| t.refresh.as_ref()).map(|r| r.expose_secret().clone());
                        prop_assert_eq!(now_refresh, expected, "the refresh token Attio expects next is kept");
                    }
                    (true, Attio::InvalidGrant) => {
                        prop_assert_eq!(result, Err(ConnectionError::Revoked));
                        prop_assert_eq!(after.status, ConnectionStatus::Revoked);
                        prop_assert!(after.tokens.is_none());
                        revoked = true;
                    }
                    (true, _) => {
                        prop_assert!(matches!(result, Err(ConnectionError::Upstream(_))), "{:?}", result);
                        prop_assert_eq!(&after, &before, "a transient failure changes nothing");
                    }
                }
            }
        }
    }
}

#[test]
fn verify_revokes_only_on_a_confirmed_inactive_token() {
    let (p, config, vault) = setup();
    let c = connection(&p, None);
    block_on(vault::save(&p, &vault, &c)).unwrap();
    p.http.push(503, "");
    assert!(matches!(block_on(verify(&p, &config, &vault, &c)), Err(ConnectionError::Upstream(_))));
    assert_eq!(block_on(vault::load(&p, &vault, &c.user)).unwrap().unwrap().status, ConnectionStatus::Active);
    p.http.push(200, r#"{"active":false}"#);
    assert_eq!(block_on(verify(&p, &config, &vault, &c)).unwrap_err(), ConnectionError::Revoked);
    assert_eq!(block_on(vault::load(&p, &vault, &c.user)).unwrap().unwrap().status, ConnectionStatus::Revoked);
    assert!(p.logged("connection.revoked"));
}

#[test]
fn storage_failures_are_transient_never_revocations() {
    let (p, config, vault) = setup();
    let c = connection(&p, None);
    block_on(vault::save(&p, &vault, &c)).unwrap();
    p.kv_fails.set(true);
    assert!(matches!(block_on(usable(&p, &config, &vault, &c.user)), Err(ConnectionError::Storage(_))));
    p.kv_fails.set(false);
    assert_eq!(block_on(usable(&p, &config, &vault, &c.user)).unwrap().status, ConnectionStatus::Active);
}

/// Two approvals making the same person's first connection at once (two MCP clients authorized
/// together): the second to write sees the first's connection and continues its epoch, so the
/// grant made under either keeps working.
#[test]
fn racing_first_connections_agree_on_the_epoch() {
    let (p, _config, vault) = setup();
    let user = UserId::new("ws", "m").unwrap();
    let made = |revision, epoch| Connection { revision, epoch, ..connection(&p, None) };
    let raced = std::cell::Cell::new(None);
    // The other approval writes between this one's read and its write.
    let late = |revision, epoch| {
        if raced.get().is_none() {
            let first = block_on(establish(&p, &vault, &user, random_epoch(&p), made)).unwrap();
            raced.set(Some(first.epoch));
        }
        made(revision, epoch)
    };
    let second = block_on(establish(&p, &vault, &user, random_epoch(&p), late)).unwrap();
    assert_eq!(Some(second.epoch), raced.get(), "one epoch for both approvals");
    let stored = block_on(vault::load(&p, &vault, &user)).unwrap().unwrap();
    assert_eq!((stored.revision, stored.epoch), (second.revision, second.epoch));
    let latest = block_on(connections::latest(&p, &user)).unwrap().unwrap();
    assert_eq!((latest.revision, latest.epoch), (second.revision, second.epoch));
}

/// After a revocation the next connection starts a new epoch: grants from before stay dead.
#[test]
fn a_connection_after_a_revocation_starts_a_new_epoch() {
    let (p, _config, vault) = setup();
    let user = UserId::new("ws", "m").unwrap();
    let made = |revision, epoch| Connection { revision, epoch, ..connection(&p, None) };
    let first = block_on(establish(&p, &vault, &user, random_epoch(&p), made)).unwrap();
    let again = block_on(establish(&p, &vault, &user, random_epoch(&p), made)).unwrap();
    assert_eq!(again.epoch, first.epoch, "connecting again over an active connection keeps it");
    assert!(again.revision > first.revision);
    block_on(mark_revoked(&p, &vault, &again, "test"));
    let after = block_on(establish(&p, &vault, &user, random_epoch(&p), made)).unwrap();
    assert_ne!(after.epoch, first.epoch);
}

/// What a disconnect leaves behind while KV still serves the deleted record (about a minute in
/// production): the object's marker, no copy there, and the old record in KV.
fn disconnected_with_stale_kv(p: &FakePlatform, vault: &Vault, c: &Connection) {
    block_on(connections::mark_gone(p, &c.user, next_revision(c.revision, p.now_ms()))).unwrap();
    block_on(connections::forget_latest(p, &c.user)).unwrap();
    block_on(vault::save(p, vault, c)).unwrap();
}

#[test]
fn connecting_while_kv_still_serves_a_disconnected_record_starts_a_new_epoch() {
    let (p, _config, vault) = setup();
    let user = UserId::new("ws", "m").unwrap();
    let made = |revision, epoch| Connection { revision, epoch, ..connection(&p, None) };
    let first = block_on(establish(&p, &vault, &user, random_epoch(&p), made)).unwrap();
    disconnected_with_stale_kv(&p, &vault, &first);
    let after = block_on(establish(&p, &vault, &user, random_epoch(&p), made)).unwrap();
    assert_ne!(after.epoch, first.epoch, "grants from before the disconnect stay dead");
    // A copy put back into the object after the disconnect counts no more than KV's.
    let sealed = block_on(connections::latest(&p, &user)).unwrap().unwrap();
    block_on(connections::mark_gone(&p, &user, next_revision(after.revision, p.now_ms()))).unwrap();
    let again = block_on(establish(&p, &vault, &user, random_epoch(&p), made)).unwrap();
    assert!(sealed.revision < again.revision);
    assert_ne!(again.epoch, after.epoch);
}

#[test]
fn a_record_from_before_a_disconnect_is_not_used() {
    let (p, config, vault) = setup();
    let c = connection(&p, None);
    disconnected_with_stale_kv(&p, &vault, &c);
    let (_, gone) = block_on(connections::latest_and_gone(&p, &c.user)).unwrap();
    let copy = ConnectionCopy::Missing { gone };
    assert_eq!(block_on(usable_from(&p, &config, &vault, &c.user, &copy)).unwrap_err(), ConnectionError::NotConnected);
    assert!(block_on(connections::latest(&p, &c.user)).unwrap().is_none(), "and it is not put back");
}

#[test]
fn a_revocation_read_before_a_new_connection_does_not_overwrite_it() {
    let (p, _config, vault) = setup();
    let user = UserId::new("ws", "m").unwrap();
    let made = |revision, epoch| Connection { revision, epoch, ..connection(&p, None) };
    let old = block_on(establish(&p, &vault, &user, random_epoch(&p), made)).unwrap();
    p.advance_ms(1_000);
    let new = block_on(establish(&p, &vault, &user, random_epoch(&p), made)).unwrap();
    // A call that used the old revision learns from Attio that its token is dead.
    block_on(mark_revoked(&p, &vault, &old, "test"));
    let stored = block_on(vault::load(&p, &vault, &user)).unwrap().unwrap();
    assert_eq!((stored.status, stored.revision), (ConnectionStatus::Active, new.revision));
    assert!(p.logged("connection.revoke_superseded"));
}

#[test]
fn a_revocation_after_a_disconnect_writes_nothing_back() {
    let (p, _config, vault) = setup();
    let user = UserId::new("ws", "m").unwrap();
    let made = |revision, epoch| Connection { revision, epoch, ..connection(&p, None) };
    let c = block_on(establish(&p, &vault, &user, random_epoch(&p), made)).unwrap();
    block_on(connections::mark_gone(&p, &user, next_revision(c.revision, p.now_ms()))).unwrap();
    block_on(connections::forget_latest(&p, &user)).unwrap();
    block_on(store_vault::delete(&p, &user)).unwrap();
    block_on(mark_revoked(&p, &vault, &c, "test"));
    assert!(block_on(vault::load(&p, &vault, &user)).unwrap().is_none(), "no record comes back");
    assert!(block_on(connections::latest(&p, &user)).unwrap().is_none());
}

#[test]
fn a_refresh_answered_after_a_disconnect_keeps_nothing() {
    let (p, config, vault) = setup();
    let c = connection(&p, Some(30_000));
    block_on(vault::save(&p, &vault, &c)).unwrap();
    // The refresh has read the connection; the person disconnects while Attio answers.
    block_on(connections::mark_gone(&p, &c.user, next_revision(c.revision, p.now_ms()))).unwrap();
    block_on(store_vault::delete(&p, &c.user)).unwrap();
    p.http.push(200, r#"{"access_token":"at-new","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-new"}"#);
    p.http.push(200, "");
    p.http.push(200, "");
    let got = block_on(refresh_holding_lease(&p, &config, &vault, c.clone()));
    assert_eq!(got.unwrap_err(), ConnectionError::NotConnected);
    assert!(block_on(vault::load(&p, &vault, &c.user)).unwrap().is_none(), "no record comes back");
    let sent = p.http.sent.borrow();
    for token in ["at-new", "rt-new"] {
        let revoked =
            sent.iter().skip(1).any(|r| String::from_utf8_lossy(r.body()).contains(&format!("token={token}")));
        assert!(revoked, "{token} revoked at Attio");
    }
}

#[test]
fn a_disconnect_revokes_the_newest_tokens_even_when_kv_lags() {
    let (p, config, vault) = setup();
    let user = UserId::new("ws", "m").unwrap();
    let p = &p;
    let with = |token: &'static str| {
        move |revision, epoch| Connection {
            revision,
            epoch,
            tokens: Some(Tokens { access: AttioAccessToken::new(token.into()), refresh: None }),
            ..connection(p, None)
        }
    };
    let old = block_on(establish(p, &vault, &user, random_epoch(p), with("at-first"))).unwrap();
    p.advance_ms(1_000);
    block_on(establish(p, &vault, &user, random_epoch(p), with("at-second"))).unwrap();
    block_on(vault::save(p, &vault, &old)).unwrap();
    p.http.push(200, "");
    block_on(disconnect(p, &config, &user)).unwrap();
    let sent = p.http.sent.borrow();
    assert!(sent.iter().any(|r| String::from_utf8_lossy(r.body()).contains("at-second")), "the live token is revoked");
}

/// Two writers of a person's connection: the object orders them, but their KV writes may land
/// the other way round. The one that lands last looks at the object and writes what it holds.
#[test]
fn kv_ends_at_the_newest_revision_whatever_order_the_writes_land_in() {
    let (p, config, vault) = setup();
    let user = UserId::new("ws", "m").unwrap();
    let made = |revision, epoch| Connection { revision, epoch, ..connection(&p, None) };
    block_on(establish(&p, &vault, &user, random_epoch(&p), made)).unwrap();
    p.advance_ms(1_000);
    // This connect's KV write is slow: another connect, a second later, finishes first.
    let (other, keys) = (user.clone(), config.vault_keys.clone());
    p.before(&format!("kv put {}", crate::store::keys::connection_record(&user)), move |p| {
        p.advance_ms(1_000);
        let vault = Vault::new(&keys);
        let made = |revision, epoch| Connection { revision, epoch, ..connection(p, None) };
        block_on(establish(p, &vault, &other, random_epoch(p), made)).unwrap();
    });
    let slow = block_on(establish(&p, &vault, &user, random_epoch(&p), made)).unwrap();
    let latest = block_on(connections::latest(&p, &user)).unwrap().unwrap();
    assert!(latest.revision > slow.revision, "the other connect came second in the object");
    let stored = block_on(vault::load(&p, &vault, &user)).unwrap().unwrap();
    assert_eq!(stored.revision, latest.revision, "KV holds the newest revision");
}

/// Pages, `/admin` and owner mode read a connection as tool calls do: the object first, since
/// KV may lag a minute behind a connection just made.
#[test]
fn usable_reads_the_person_object_before_kv() {
    let (p, config, vault) = setup();
    let user = UserId::new("ws", "m").unwrap();
    let made = |revision, epoch| Connection { revision, epoch, ..connection(&p, None) };
    let c = block_on(establish(&p, &vault, &user, random_epoch(&p), made)).unwrap();
    block_on(store_vault::delete(&p, &user)).unwrap();
    assert_eq!(block_on(usable(&p, &config, &vault, &user)).unwrap().revision, c.revision);
    assert_eq!(block_on(current(&p, &vault, &user)).unwrap().map(|c| c.epoch), Some(c.epoch));
}

/// A copy in the object that does not decode (written by a broken release, say) does not stop
/// the person from connecting: the swap expects exactly what is stored.
#[test]
fn a_copy_that_does_not_decode_is_replaced_by_the_next_connection() {
    let (p, _config, vault) = setup();
    let user = UserId::new("ws", "m").unwrap();
    let garbage = crate::transitions::Command::Put {
        key: crate::store::keys::LATEST.into(),
        value: serde_json::json!({"not": "a connection"}),
        expires_at_ms: p.now_ms() + 60_000,
    };
    block_on(crate::platform::TransitionStore::transition(&p, &crate::store::keys::person_object(&user), garbage))
        .unwrap();
    let made = |revision, epoch| Connection { revision, epoch, ..connection(&p, None) };
    let c = block_on(establish(&p, &vault, &user, random_epoch(&p), made)).unwrap();
    let latest = block_on(connections::latest(&p, &user)).unwrap().unwrap();
    assert_eq!((latest.revision, latest.epoch), (c.revision, c.epoch));
}

/// A refresh that read the connection before a disconnect marked it gone, and swapped its new
/// revision in before the disconnect took the object's copy: the disconnect marks that revision
/// gone too and revokes its tokens, and the refresh's late KV write is taken back.
#[test]
fn a_refresh_landing_inside_a_disconnect_is_ended_with_it() {
    let (p, config, vault) = setup();
    let user = UserId::new("ws", "m").unwrap();
    let made = |revision, epoch| Connection { revision, epoch, ..connection(&p, None) };
    let c = block_on(establish(&p, &vault, &user, random_epoch(&p), made)).unwrap();
    let late = Connection {
        revision: c.revision + 1_000_000,
        tokens: Some(Tokens { access: AttioAccessToken::new("at-late".into()), refresh: None }),
        ..c.clone()
    }
    .seal(&vault, &p)
    .unwrap();
    let swapped_in = late.clone();
    let object = crate::store::keys::person_object(&user);
    p.before(&format!("do {object} take"), move |p| {
        block_on(connections::publish_latest(p, &swapped_in.user().unwrap(), &swapped_in)).unwrap();
    });
    for _ in 0..3 {
        p.http.push(200, "");
    }
    block_on(disconnect(&p, &config, &user)).unwrap();
    // The refresh's KV write lands last.
    block_on(connections::save_in_kv(&p, &late)).unwrap();
    assert!(block_on(vault::load(&p, &vault, &user)).unwrap().is_none(), "no record comes back");
    assert!(block_on(current(&p, &vault, &user)).unwrap().is_none());
    let sent = p.http.sent.borrow();
    assert!(sent.iter().any(|r| String::from_utf8_lossy(r.body()).contains("token=at-late")), "revoked at Attio");
}
