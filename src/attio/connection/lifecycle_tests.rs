//! Tests of [`super::lifecycle`] as the rest of [`super`] sees it: connections made, replaced
//! and ended by racing requests (kept apart from `connection_tests.rs` by concern).

use super::tests::{connect, connection, setup};
use super::*;
use crate::platform::Clock;
use crate::store::vault as store_vault;
use crate::testing::{block_on, FakePlatform};

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
            let first = connect(&p, &vault);
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
    let first = connect(&p, &vault);
    let again = connect(&p, &vault);
    assert_eq!(again.epoch, first.epoch, "connecting again over an active connection keeps it");
    assert!(again.revision > first.revision);
    block_on(mark_revoked(&p, &vault, &again, "test"));
    let after = connect(&p, &vault);
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
    let first = connect(&p, &vault);
    disconnected_with_stale_kv(&p, &vault, &first);
    let after = connect(&p, &vault);
    assert_ne!(after.epoch, first.epoch, "grants from before the disconnect stay dead");
    // A copy put back into the object after the disconnect counts no more than KV's.
    let sealed = block_on(connections::latest(&p, &user)).unwrap().unwrap();
    block_on(connections::mark_gone(&p, &user, next_revision(after.revision, p.now_ms()))).unwrap();
    let again = connect(&p, &vault);
    assert!(sealed.revision < again.revision);
    assert_ne!(again.epoch, after.epoch);
}

#[test]
fn a_record_from_before_a_disconnect_is_not_used() {
    let (p, config, vault) = setup();
    let c = connection(&p, None);
    disconnected_with_stale_kv(&p, &vault, &c);
    let held = block_on(connections::held(&p, &c.user)).unwrap();
    let copy = ConnectionCopy::Missing { gone: held.gone };
    assert_eq!(block_on(usable_from(&p, &config, &vault, &c.user, &copy)).unwrap_err(), ConnectionError::NotConnected);
    assert!(block_on(connections::latest(&p, &c.user)).unwrap().is_none(), "and it is not put back");
}

#[test]
fn a_revocation_read_before_a_new_connection_does_not_overwrite_it() {
    let (p, _config, vault) = setup();
    let user = UserId::new("ws", "m").unwrap();
    let old = connect(&p, &vault);
    p.advance_ms(1_000);
    let new = connect(&p, &vault);
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
    let c = connect(&p, &vault);
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
    connect(&p, &vault);
    p.advance_ms(1_000);
    // This connect's KV write is slow: another connect, a second later, finishes first.
    let (other, keys) = (user.clone(), config.vault_keys.clone());
    p.before(&format!("kv put {}", crate::store::keys::connection_record(&user)), move |p| {
        p.advance_ms(1_000);
        let vault = Vault::new(&keys);
        let made = |revision, epoch| Connection { revision, epoch, ..connection(p, None) };
        block_on(establish(p, &vault, &other, random_epoch(p), made)).unwrap();
    });
    let slow = connect(&p, &vault);
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
    let c = connect(&p, &vault);
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
    let c = connect(&p, &vault);
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
    let c = connect(&p, &vault);
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
