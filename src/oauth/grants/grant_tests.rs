//! Tests of [`super`] (kept apart: with its property tests the module would pass 500 lines).

use super::*;
use crate::base::secret::KeyMaterial;

const SECRET_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const SECRET_R: &str = "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr";
const GID: &str = "0123456789abcdef0123456789abcdef";

fn keys() -> SigningKeys {
    SigningKeys::new(&KeyMaterial::new([3; 32]))
}

fn code() -> CodeGrant {
    CodeGrant {
        client_id: "mcp_c".into(),
        redirect_uri: "https://app.test/cb".into(),
        code_challenge: "x".into(),
        audience: Audience::Mcp,
        scope: scopes_for(true),
        user: UserId::new("ws", "m").unwrap(),
        connection_epoch: 1,
    }
}

fn issue() -> (Grant, Issued) {
    Grant::issue(&keys(), GID.into(), &code(), SECRET_A, Some(SECRET_R), 1_000)
}

#[test]
fn tokens_have_our_shape_and_hold_no_identity() {
    let (grant, issued) = issue();
    assert_eq!(parse_token(issued.access_token.expose_secret()), Some((TokenKind::Access, GID)));
    assert_eq!(
        parse_token(issued.refresh_token.as_ref().map(|t| t.expose_secret().as_str()).unwrap()),
        Some((TokenKind::Refresh, GID))
    );
    for bad in [
        "",
        "agwa",
        "agwa.x.y",
        &format!("agwa.{GID}.short"),
        &format!("agwx.{GID}.{SECRET_A}"),
        &format!("agwa.{GID}.{SECRET_A}.x"),
    ] {
        assert_eq!(parse_token(bad), None, "{bad}");
    }
    let stored = serde_json::to_string(&grant).unwrap();
    assert!(!stored.contains(SECRET_A) && !stored.contains(SECRET_R), "only hashes stored");
    assert!(!issued.access_token.expose_secret().contains("ws"));
}

#[test]
fn access_tokens_are_checked_for_audience_expiry_and_revocation() {
    let k = keys();
    let (grant, issued) = issue();
    assert_eq!(grant.check_access(&k, issued.access_token.expose_secret(), Audience::Mcp, 2_000), Ok(scopes_for(true)));
    assert_eq!(
        grant.check_access(&k, issued.access_token.expose_secret(), Audience::Api, 2_000),
        Err(AccessDenied::WrongAudience)
    );
    assert_eq!(
        grant.check_access(&k, issued.access_token.expose_secret(), Audience::Mcp, 1_000 + ACCESS_TTL_MS),
        Err(AccessDenied::Invalid)
    );
    let forged = format!("agwa.{GID}.{SECRET_R}");
    assert_eq!(grant.check_access(&k, &forged, Audience::Mcp, 2_000), Err(AccessDenied::Invalid));
    assert_eq!(
        grant.revoked().check_access(&k, issued.access_token.expose_secret(), Audience::Mcp, 2_000),
        Err(AccessDenied::Invalid)
    );
}

#[test]
fn refresh_rotates_and_a_retry_in_the_grace_period_gets_the_same_pair() {
    let k = keys();
    let (grant, first) = issue();
    let rt0 = first.refresh_token.unwrap().expose_secret().clone();
    let RefreshOutcome::Rotated(g1, second) = grant.refresh(&k, &rt0, None, 5_000) else { panic!() };
    assert_ne!(second.refresh_token.as_ref().map(|t| t.expose_secret().as_str()), Some(rt0.as_str()), "rotated");
    assert!(g1.check_access(&k, second.access_token.expose_secret(), Audience::Mcp, 5_001).is_ok());
    // A racing or retried request with the old token, against the new state: same pair.
    assert_eq!(g1.refresh(&k, &rt0, None, 5_000 + REFRESH_GRACE_MS - 1), RefreshOutcome::Replayed(copy(&second)));
    // After the grace period the old token is a stolen token: the family dies.
    let RefreshOutcome::Reused(dead) = g1.refresh(&k, &rt0, None, 5_000 + REFRESH_GRACE_MS) else { panic!() };
    assert!(dead.revoked);
    assert_eq!(
        dead.refresh(&k, second.refresh_token.as_ref().map(|t| t.expose_secret().as_str()).unwrap(), None, 6_000),
        RefreshOutcome::Invalid("the grant was revoked or has expired")
    );
    // The new token keeps rotating while the family lives.
    let RefreshOutcome::Rotated(g2, third) =
        g1.refresh(&k, second.refresh_token.as_ref().map(|t| t.expose_secret().as_str()).unwrap(), None, 6_000)
    else {
        panic!()
    };
    // Any older ancestor is reuse.
    assert!(matches!(g2.refresh(&k, &rt0, None, 6_001), RefreshOutcome::Reused(_)));
    assert!(third.refresh_token.is_some());
}

#[test]
fn scope_can_shrink_but_not_grow() {
    let k = keys();
    let read_only =
        Grant::issue(&k, GID.into(), &CodeGrant { scope: scopes_for(false), ..code() }, SECRET_A, Some(SECRET_R), 0);
    let rt = read_only.1.refresh_token.unwrap().expose_secret().clone();
    assert_eq!(read_only.0.refresh(&k, &rt, Some(scopes_for(true)), 1), RefreshOutcome::InvalidScope);
    let (grant, issued) = issue();
    let rt = issued.refresh_token.unwrap().expose_secret().clone();
    let RefreshOutcome::Rotated(_, narrowed) = grant.refresh(&k, &rt, Some(scopes_for(false)), 1) else { panic!() };
    assert_eq!(narrowed.scope, scopes_for(false));
}

#[test]
fn grants_expire_absolutely() {
    let k = keys();
    let (grant, issued) = issue();
    let rt = issued.refresh_token.unwrap().expose_secret().clone();
    assert!(matches!(grant.refresh(&k, &rt, None, 1_000 + GRANT_LIFETIME_MS), RefreshOutcome::Invalid(_)));
}

/// The refresh family as a state machine, driven by random sequences of refreshes (with any
/// token the client was ever given), access checks and clock jumps, against a model of what
/// RFC 9700 §4.14.2 and our grace period promise.
mod properties {
    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Step {
        Advance(u64),
        /// Present the refresh token at this index (modulo how many were issued; `usize::MAX`:
        /// the current one).
        Refresh(usize),
        /// Present the access token at this index.
        Check(usize),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            3 => prop_oneof![0..5_000u64, 25_000..40_000u64, 3_000_000..4_000_000u64, Just(10 * 24 * 3_600_000u64)]
                .prop_map(Step::Advance),
            // Mostly the current token (a well-behaved client), sometimes any older one.
            4 => Just(Step::Refresh(usize::MAX)),
            2 => any::<usize>().prop_map(Step::Refresh),
            3 => any::<usize>().prop_map(Step::Check),
        ]
    }

    /// What the client holds, and what the model expects.
    struct Model {
        /// Refresh tokens in issue order; the last is current.
        refresh: Vec<String>,
        /// Access tokens in issue order, with when each was issued.
        access: Vec<(String, u64)>,
        /// For each spent refresh token: the pair its rotation answered, and the grace end.
        answered: Vec<(Issued, u64)>,
        revoked: bool,
        expires_at: u64,
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn the_refresh_family_follows_the_model(steps in prop::collection::vec(step(), 1..60)) {
            let k = keys();
            let mut now = 1_000u64;
            let (mut grant, first) = issue();
            let mut m = Model {
                refresh: vec![first.refresh_token.as_ref().map(|t| t.expose_secret().clone()).unwrap_or_default()],
                access: vec![(first.access_token.expose_secret().clone(), now)],
                answered: Vec::new(),
                revoked: false,
                expires_at: now + GRANT_LIFETIME_MS,
            };
            for s in steps {
                match s {
                    Step::Advance(ms) => now += ms,
                    Step::Refresh(i) => {
                        let i = if i == usize::MAX { m.refresh.len() - 1 } else { i % m.refresh.len() };
                        let generations_back = m.refresh.len() - 1 - i;
                        let outcome = grant.refresh(&k, &m.refresh[i], None, now);
                        let dead = m.revoked || now >= m.expires_at;
                        match outcome {
                            RefreshOutcome::Rotated(next, issued) => {
                                prop_assert!(!dead && generations_back == 0, "rotated a spent or dead token");
                                prop_assert!(!m.refresh.contains(issued.refresh_token.as_ref().unwrap().expose_secret()), "a token came back");
                                m.answered.push((copy(&issued), now + REFRESH_GRACE_MS));
                                m.refresh.push(issued.refresh_token.as_ref().map(|t| t.expose_secret().clone()).unwrap_or_default());
                                m.access.push((issued.access_token.expose_secret().clone(), now));
                                grant = next;
                            }
                            RefreshOutcome::Replayed(issued) => {
                                prop_assert!(!dead && generations_back == 1, "replayed for generation {}", generations_back);
                                let (pair, grace_end) = &m.answered[i];
                                prop_assert!(now < *grace_end, "replayed after the grace period");
                                prop_assert_eq!(&issued, pair, "a replay answers the same pair");
                            }
                            RefreshOutcome::Reused(next) => {
                                prop_assert!(!dead && (1..=MAX_ANCESTORS + 1).contains(&generations_back));
                                if generations_back == 1 {
                                    prop_assert!(now >= m.answered[i].1, "reuse inside the grace period");
                                }
                                prop_assert!(next.revoked && next.refresh.is_none() && next.access.is_empty());
                                m.revoked = true;
                                grant = next;
                            }
                            RefreshOutcome::Invalid(_) => {
                                prop_assert!(dead || generations_back > MAX_ANCESTORS + 1, "refused a good token");
                            }
                            RefreshOutcome::InvalidScope => prop_assert!(false, "no scope was asked for"),
                        }
                    }
                    Step::Check(j) => {
                        let j = j % m.access.len();
                        let (token, issued_at) = &m.access[j];
                        let recent = m.access.len() - j <= MAX_ACCESS;
                        let expected = !m.revoked && now < m.expires_at && recent && now < issued_at + ACCESS_TTL_MS;
                        let got = grant.check_access(&k, token, Audience::Mcp, now);
                        prop_assert_eq!(got.is_ok(), expected, "access token {} of {} at +{} ms", j, m.access.len(), now - issued_at);
                    }
                }
            }
        }
    }
}

#[test]
fn scopes_parse_strictly() {
    assert_eq!(parse_scope("attio:read  attio:write attio:read"), Ok(scopes_for(true)));
    assert_eq!(parse_scope(""), Ok(vec![]));
    assert!(parse_scope("attio:admin").is_err());
    assert!(parse_scope("openid").is_err());
    assert_eq!(parse_scope("attio:read offline_access"), Ok(vec![SCOPE_READ.to_string()]));
}

#[test]
fn issued_tokens_never_show_in_debug() {
    let k = keys();
    let (_, issued) = Grant::issue(&k, GID.into(), &code(), "access-secret-1", Some("refresh-secret-1"), 1_000);
    let shown = format!("{issued:?} {:?}", RefreshOutcome::Replayed(copy(&issued)));
    assert!(!shown.contains("secret") && !shown.contains(issued.access_token.expose_secret()), "{shown}");
    assert!(shown.contains("[redacted]"));
}

/// A second copy of a token response, for comparing answers (`Issued` is deliberately not `Clone`).
fn copy(i: &Issued) -> Issued {
    Issued {
        access_token: IssuedToken::new(i.access_token.expose_secret().clone()),
        refresh_token: i.refresh_token.as_ref().map(|t| IssuedToken::new(t.expose_secret().clone())),
        expires_in_secs: i.expires_in_secs,
        scope: i.scope.clone(),
    }
}
