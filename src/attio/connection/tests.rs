//! Tests of [`super`] (kept apart: with its property tests the module would pass 500 lines).

use super::*;
use crate::base::secret::AttioRefreshToken;
use crate::config::{Config, ATTIO_APP_BASE_URL};
use crate::platform::Clock;
use crate::testing::{block_on, complete_settings, reply, FakePlatform};

pub(super) fn setup() -> (FakePlatform, Config, Vault) {
    let mut m = complete_settings();
    m.insert(ATTIO_APP_BASE_URL, "http://127.0.0.1:9".into());
    let p = FakePlatform::with_settings(m);
    let config = Config::load(&p).unwrap();
    let vault = Vault::new(&config.vault_keys);
    (p, config, vault)
}

pub(super) fn connection(p: &FakePlatform, expires_in_ms: Option<u64>) -> Connection {
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
        member_name: None,
    }
}

/// The test person's connection, made through [`establish`] (with a random epoch when it
/// starts one).
pub(super) fn connect(p: &FakePlatform, vault: &Vault) -> Connection {
    let made = |revision, epoch| Connection { revision, epoch, ..connection(p, None) };
    block_on(establish(p, vault, &connection(p, None).user, random_epoch(p), made)).unwrap()
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
    use crate::base::http::TransportError;

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
