//! Grants: what a person allowed one client, and the tokens issued under it. Pure rules; the
//! records live in `Transitions` objects (through `store::grants` and `store::one_time`; see docs/storage-schema.md).
//!
//! ## Tokens
//!
//! `agwa.<grant id>.<secret>` (access) and `agwr.<grant id>.<secret>` (refresh): 256-bit
//! secrets, stored only as `HMAC(K, token)`. The grant id (random, meaningless) only says which
//! object to ask; nothing is decided before the whole token's hash has matched.
//!
//! ## Refresh rotation (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2)
//!
//! Every refresh returns a new refresh token. The one just replaced stays usable for a short
//! grace period and then gives **the same response** — so a client retrying after a lost
//! response, or racing itself, gets one consistent token pair instead of forking the family.
//! The gateway can repeat the response without storing any token: the new pair is *derived*
//! from the presented refresh token with a server key (`SigningKeys::derive_secret`). After the
//! grace period, presenting a replaced token is reuse — a stolen token — and revokes the family.

use serde::{Deserialize, Serialize};

use super::metadata::{Audience, SCOPE_READ, SCOPE_WRITE};
use crate::crypto::keys::SigningKeys;
use crate::secret::constant_time_eq;
use crate::vault::UserId;

/// Authorization codes live this long (OAuth 2.1 recommends at most 10 minutes; 2 is plenty).
pub const CODE_TTL_MS: u64 = 120_000;
pub const ACCESS_TTL_MS: u64 = 3_600_000;
/// How long a replaced refresh token still answers (with the same response).
pub const REFRESH_GRACE_MS: u64 = 30_000;
/// A grant ends after this long, however often it is refreshed (RFC 9700 §4.14.2).
pub const GRANT_LIFETIME_MS: u64 = 30 * 24 * 3_600_000;
const MAX_ACCESS: usize = 4;
const MAX_ANCESTORS: usize = 16;

/// What an authorization code stands for, until it is redeemed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeGrant {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub audience: Audience,
    pub scope: Vec<String>,
    pub user: UserId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRecord {
    pub hash: String,
    pub expires_at_ms: u64,
    pub scope: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshState {
    pub current: String,
    #[serde(default)]
    pub previous: Option<String>,
    #[serde(default)]
    pub previous_until_ms: u64,
    /// Older replaced tokens: presenting one is reuse.
    #[serde(default)]
    pub ancestors: Vec<String>,
}

/// A grant (one object per grant: `grant:<id>`, key `grant`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub grant_id: String,
    pub client_id: String,
    pub user: UserId,
    pub scope: Vec<String>,
    pub audience: Audience,
    pub created_at_ms: u64,
    pub expires_at_ms: u64,
    #[serde(default)]
    pub refresh: Option<RefreshState>,
    #[serde(default)]
    pub access: Vec<AccessRecord>,
    #[serde(default)]
    pub revoked: bool,
}

/// A token response's contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in_secs: u64,
    pub scope: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

/// Grant ids are 32 lowercase hex characters.
fn valid_grant_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The kind and grant id of a token of ours, if it has our shape (nothing is trusted yet).
pub fn parse_token(token: &str) -> Option<(TokenKind, &str)> {
    let mut parts = token.split('.');
    let kind = match parts.next()? {
        "agwa" => TokenKind::Access,
        "agwr" => TokenKind::Refresh,
        _ => return None,
    };
    let (gid, secret) = (parts.next()?, parts.next()?);
    let secret_ok = secret.len() == 43 && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (parts.next().is_none() && valid_grant_id(gid) && secret_ok).then_some((kind, gid))
}

pub fn new_grant_id(random_bytes: [u8; 16]) -> String {
    random_bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Scopes a consent choice grants.
pub fn scopes_for(write: bool) -> Vec<String> {
    if write {
        vec![SCOPE_READ.into(), SCOPE_WRITE.into()]
    } else {
        vec![SCOPE_READ.into()]
    }
}

/// The OpenID Connect scope for refresh tokens (OIDC Core §11), tolerated, never granted.
pub const OFFLINE_ACCESS: &str = "offline_access";

/// Parses a space-separated `scope` parameter against what we support (RFC 6749 §3.3).
pub fn parse_scope(raw: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    // `offline_access` asks for a refresh token, which every client allowed the refresh grant
    // gets anyway; clients add it on their own (Claude Code), so it is accepted and dropped.
    for s in raw.split(' ').filter(|s| !s.is_empty() && *s != OFFLINE_ACCESS) {
        if s != SCOPE_READ && s != SCOPE_WRITE {
            return Err(format!("unknown scope {s}"));
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    Ok(out)
}

fn contains_hash(list: &[String], hash: &str) -> bool {
    list.iter().any(|h| constant_time_eq(h.as_bytes(), hash.as_bytes()))
}

impl Grant {
    /// A grant for a redeemed code, with its first tokens (secrets from the caller's RNG).
    pub fn issue(
        keys: &SigningKeys,
        grant_id: String,
        code: &CodeGrant,
        access_secret: &str,
        refresh_secret: Option<&str>,
        now: u64,
    ) -> (Grant, Issued) {
        let access_token = format!("agwa.{grant_id}.{access_secret}");
        let refresh_token = refresh_secret.map(|s| format!("agwr.{grant_id}.{s}"));
        let grant = Grant {
            grant_id,
            client_id: code.client_id.clone(),
            user: code.user.clone(),
            scope: code.scope.clone(),
            audience: code.audience,
            created_at_ms: now,
            expires_at_ms: now + GRANT_LIFETIME_MS,
            refresh: refresh_token.as_ref().map(|r| RefreshState {
                current: keys.token_hash(r),
                previous: None,
                previous_until_ms: 0,
                ancestors: Vec::new(),
            }),
            access: vec![AccessRecord {
                hash: keys.token_hash(&access_token),
                expires_at_ms: now + ACCESS_TTL_MS,
                scope: code.scope.clone(),
            }],
            revoked: false,
        };
        let issued =
            Issued { access_token, refresh_token, expires_in_secs: ACCESS_TTL_MS / 1000, scope: code.scope.clone() };
        (grant, issued)
    }

    pub fn is_live(&self, now: u64) -> bool {
        !self.revoked && now < self.expires_at_ms
    }

    /// The grant with every token dead.
    pub fn revoked(&self) -> Grant {
        Grant { revoked: true, refresh: None, access: Vec::new(), ..self.clone() }
    }

    /// The pair a refresh with `presented` yields: derived, so a repeat yields the same pair.
    fn derived(&self, keys: &SigningKeys, presented: &str, scope: Vec<String>) -> Issued {
        Issued {
            access_token: format!("agwa.{}.{}", self.grant_id, keys.derive_secret("access", presented)),
            refresh_token: Some(format!("agwr.{}.{}", self.grant_id, keys.derive_secret("refresh", presented))),
            expires_in_secs: ACCESS_TTL_MS / 1000,
            scope,
        }
    }

    /// Decides a refresh-token request.
    pub fn refresh(&self, keys: &SigningKeys, presented: &str, scope: Option<Vec<String>>, now: u64) -> RefreshOutcome {
        if !self.is_live(now) {
            return RefreshOutcome::Invalid("the grant was revoked or has expired");
        }
        let Some(state) = &self.refresh else { return RefreshOutcome::Invalid("this grant has no refresh token") };
        let hash = keys.token_hash(presented);
        let scope = match scope {
            Some(s) if s.iter().any(|x| !self.scope.contains(x)) => return RefreshOutcome::InvalidScope,
            Some(s) if !s.is_empty() => s,
            _ => self.scope.clone(),
        };
        if constant_time_eq(state.current.as_bytes(), hash.as_bytes()) {
            let issued = self.derived(keys, presented, scope.clone());
            let refresh_hash = keys.token_hash(issued.refresh_token.as_deref().unwrap_or_default());
            let mut ancestors = state.ancestors.clone();
            if let Some(old) = &state.previous {
                ancestors.push(old.clone());
            }
            let excess = ancestors.len().saturating_sub(MAX_ANCESTORS);
            ancestors.drain(..excess);
            let mut access: Vec<AccessRecord> = self.access.iter().filter(|a| a.expires_at_ms > now).cloned().collect();
            access.push(AccessRecord {
                hash: keys.token_hash(&issued.access_token),
                expires_at_ms: now + ACCESS_TTL_MS,
                scope,
            });
            let excess = access.len().saturating_sub(MAX_ACCESS);
            access.drain(..excess);
            let next = Grant {
                refresh: Some(RefreshState {
                    current: refresh_hash,
                    previous: Some(hash),
                    previous_until_ms: now + REFRESH_GRACE_MS,
                    ancestors,
                }),
                access,
                ..self.clone()
            };
            return RefreshOutcome::Rotated(next, issued);
        }
        let is_previous = state.previous.as_deref().is_some_and(|p| constant_time_eq(p.as_bytes(), hash.as_bytes()));
        if is_previous && now < state.previous_until_ms {
            // The same pair as the first time, with the scope it was issued with.
            let mut issued = self.derived(keys, presented, scope);
            let access_hash = keys.token_hash(&issued.access_token);
            if let Some(record) = self.access.iter().find(|a| a.hash == access_hash) {
                issued.scope = record.scope.clone();
            }
            return RefreshOutcome::Replayed(issued);
        }
        if is_previous || contains_hash(&state.ancestors, &hash) {
            return RefreshOutcome::Reused(self.revoked());
        }
        RefreshOutcome::Invalid("unknown refresh token")
    }

    /// Checks an access token of this grant for `audience`.
    pub fn check_access(
        &self,
        keys: &SigningKeys,
        presented: &str,
        audience: Audience,
        now: u64,
    ) -> Result<Vec<String>, AccessDenied> {
        if !self.is_live(now) {
            return Err(AccessDenied::Invalid);
        }
        let hash = keys.token_hash(presented);
        let record = self
            .access
            .iter()
            .find(|a| constant_time_eq(a.hash.as_bytes(), hash.as_bytes()))
            .filter(|a| a.expires_at_ms > now)
            .ok_or(AccessDenied::Invalid)?;
        if self.audience != audience {
            return Err(AccessDenied::WrongAudience);
        }
        Ok(record.scope.clone())
    }

    /// Whether `presented` is one of this grant's current tokens (for revocation).
    pub fn owns(&self, keys: &SigningKeys, presented: &str) -> bool {
        let hash = keys.token_hash(presented);
        let in_access = contains_hash(&self.access.iter().map(|a| a.hash.clone()).collect::<Vec<_>>(), &hash);
        let in_refresh = self.refresh.as_ref().is_some_and(|r| {
            constant_time_eq(r.current.as_bytes(), hash.as_bytes())
                || r.previous.as_deref().is_some_and(|p| constant_time_eq(p.as_bytes(), hash.as_bytes()))
        });
        in_access || in_refresh
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// Store the new grant state, answer with the pair.
    Rotated(Grant, Issued),
    /// A retry within the grace period: answer with the same pair, store nothing.
    Replayed(Issued),
    /// A replaced token came back after the grace period: store the revoked grant.
    Reused(Grant),
    InvalidScope,
    Invalid(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessDenied {
    /// Unknown, expired or revoked.
    Invalid,
    /// A good token for another of our resources.
    WrongAudience,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::KeyMaterial;

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
        }
    }

    fn issue() -> (Grant, Issued) {
        Grant::issue(&keys(), GID.into(), &code(), SECRET_A, Some(SECRET_R), 1_000)
    }

    #[test]
    fn tokens_have_our_shape_and_hold_no_identity() {
        let (grant, issued) = issue();
        assert_eq!(parse_token(&issued.access_token), Some((TokenKind::Access, GID)));
        assert_eq!(parse_token(issued.refresh_token.as_deref().unwrap()), Some((TokenKind::Refresh, GID)));
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
        assert!(!issued.access_token.contains("ws"));
    }

    #[test]
    fn access_tokens_are_checked_for_audience_expiry_and_revocation() {
        let k = keys();
        let (grant, issued) = issue();
        assert_eq!(grant.check_access(&k, &issued.access_token, Audience::Mcp, 2_000), Ok(scopes_for(true)));
        assert_eq!(
            grant.check_access(&k, &issued.access_token, Audience::Api, 2_000),
            Err(AccessDenied::WrongAudience)
        );
        assert_eq!(
            grant.check_access(&k, &issued.access_token, Audience::Mcp, 1_000 + ACCESS_TTL_MS),
            Err(AccessDenied::Invalid)
        );
        let forged = format!("agwa.{GID}.{SECRET_R}");
        assert_eq!(grant.check_access(&k, &forged, Audience::Mcp, 2_000), Err(AccessDenied::Invalid));
        assert_eq!(
            grant.revoked().check_access(&k, &issued.access_token, Audience::Mcp, 2_000),
            Err(AccessDenied::Invalid)
        );
    }

    #[test]
    fn refresh_rotates_and_a_retry_in_the_grace_period_gets_the_same_pair() {
        let k = keys();
        let (grant, first) = issue();
        let rt0 = first.refresh_token.unwrap();
        let RefreshOutcome::Rotated(g1, second) = grant.refresh(&k, &rt0, None, 5_000) else { panic!() };
        assert_ne!(second.refresh_token.as_deref(), Some(rt0.as_str()), "rotated");
        assert!(g1.check_access(&k, &second.access_token, Audience::Mcp, 5_001).is_ok());
        // A racing or retried request with the old token, against the new state: same pair.
        assert_eq!(g1.refresh(&k, &rt0, None, 5_000 + REFRESH_GRACE_MS - 1), RefreshOutcome::Replayed(second.clone()));
        // After the grace period the old token is a stolen token: the family dies.
        let RefreshOutcome::Reused(dead) = g1.refresh(&k, &rt0, None, 5_000 + REFRESH_GRACE_MS) else { panic!() };
        assert!(dead.revoked);
        assert_eq!(
            dead.refresh(&k, second.refresh_token.as_deref().unwrap(), None, 6_000),
            RefreshOutcome::Invalid("the grant was revoked or has expired")
        );
        // The new token keeps rotating while the family lives.
        let RefreshOutcome::Rotated(g2, third) = g1.refresh(&k, second.refresh_token.as_deref().unwrap(), None, 6_000)
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
        let read_only = Grant::issue(
            &k,
            GID.into(),
            &CodeGrant { scope: scopes_for(false), ..code() },
            SECRET_A,
            Some(SECRET_R),
            0,
        );
        let rt = read_only.1.refresh_token.unwrap();
        assert_eq!(read_only.0.refresh(&k, &rt, Some(scopes_for(true)), 1), RefreshOutcome::InvalidScope);
        let (grant, issued) = issue();
        let rt = issued.refresh_token.unwrap();
        let RefreshOutcome::Rotated(_, narrowed) = grant.refresh(&k, &rt, Some(scopes_for(false)), 1) else { panic!() };
        assert_eq!(narrowed.scope, scopes_for(false));
    }

    #[test]
    fn grants_expire_absolutely() {
        let k = keys();
        let (grant, issued) = issue();
        let rt = issued.refresh_token.unwrap();
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
                    refresh: vec![first.refresh_token.clone().unwrap_or_default()],
                    access: vec![(first.access_token.clone(), now)],
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
                                    prop_assert!(!m.refresh.contains(issued.refresh_token.as_ref().unwrap()), "a token came back");
                                    m.answered.push((issued.clone(), now + REFRESH_GRACE_MS));
                                    m.refresh.push(issued.refresh_token.clone().unwrap_or_default());
                                    m.access.push((issued.access_token.clone(), now));
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
}
