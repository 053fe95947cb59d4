//! Grants: what a person allowed one client, and the tokens issued under it. Pure rules; the
//! records live in `Transitions` objects (through `store::grants` and `store::one_time`; see docs/storage-schema.md).
//!
//! ## Tokens
//!
//! `agwa2.<grant id>.<secret>` (access) and `agwr2.<grant id>.<secret>` (refresh), stored only
//! as `HMAC(K, token)`. The secret (256 bits) is a 128-bit nonce and a 128-bit tag over the rest
//! of the token (`crypto::keys`), so a forged or altered token is refused before any storage is
//! asked ([`intact`]); tokens from before tags (`agwa.`, `agwr.`, random secrets) are still
//! accepted until they end. The grant id (random, meaningless) only says which object to ask;
//! nothing is decided before the whole token's hash has matched.
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

use crate::base::secret::{constant_time_eq, IssuedToken};
use crate::base::user::UserId;
use crate::crypto::keys::SigningKeys;
pub use crate::oauth::metadata::OFFLINE_ACCESS;
use crate::oauth::metadata::{Audience, SCOPE_READ, SCOPE_WRITE};

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
    /// The epoch of the person's Attio connection when they approved (`0` before epochs).
    #[serde(default)]
    pub connection_epoch: u64,
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
    /// For a token-exchange grant (RFC 8693): the grant whose token was exchanged. It lives only
    /// as long as that one does; absent for every other grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_grant: Option<String>,
    /// The epoch of the Attio connection it was approved under: the grant works only while that
    /// connection does, so a disconnect ends it even if no index listed it, and connecting
    /// again later does not bring it back. `0`: from before epochs (matches only a connection
    /// from before epochs).
    #[serde(default)]
    pub connection_epoch: u64,
}

/// A token response's contents. The tokens are secrets, so `Debug` shows neither (security
/// checklist H.46).
#[derive(Debug, PartialEq, Eq)]
pub struct Issued {
    pub access_token: IssuedToken,
    pub refresh_token: Option<IssuedToken>,
    pub expires_in_secs: u64,
    pub scope: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

fn lower_hex_32(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A grant id is 32 lowercase hex characters of randomness followed by the person it belongs
/// to (`<random>_<workspace id>_<member id>`), so a token alone says which person's storage
/// holds its grant. Grants made before that are the randomness alone.
fn valid_grant_id(id: &str) -> bool {
    lower_hex_32(id) || split_grant_id(id).is_some()
}

fn split_grant_id(id: &str) -> Option<(&str, UserId)> {
    let mut parts = id.split('_');
    let (random, workspace, member) = (parts.next()?, parts.next()?, parts.next()?);
    let user = UserId::new(workspace, member)?;
    (parts.next().is_none() && lower_hex_32(random)).then_some((random, user))
}

/// Where a grant is kept, as its id says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantHome<'a> {
    /// With the person's other records; the random part keys it there.
    Person { user: UserId, random: &'a str },
    /// A grant made before grants were kept with their person: in an object of its own.
    Own,
}

/// Where the grant `id` is kept; `None` for an id of neither form.
pub fn home_of(id: &str) -> Option<GrantHome<'_>> {
    if lower_hex_32(id) {
        return Some(GrantHome::Own);
    }
    split_grant_id(id).map(|(random, user)| GrantHome::Person { user, random })
}

/// The prefixes of tagged tokens, and how such tokens begin.
const ACCESS_PREFIX: &str = "agwa2";
const REFRESH_PREFIX: &str = "agwr2";
const ACCESS_START: &str = "agwa2.";
const REFRESH_START: &str = "agwr2.";

/// How an authorization code begins: `agwc2.c.<nonce ‖ tag>` (earlier releases: `agwc.<random>`).
const CODE_PREFIX: &str = "agwc2";
const CODE_START: &str = "agwc2.";

/// A new authorization code from 128 random bits, tagged like the tokens.
pub fn new_code(keys: &SigningKeys, random: &[u8; 16]) -> String {
    keys.tagged_token(CODE_PREFIX, "c", random)
}

/// Whether `value` (a token or code presented to us) is of the earlier, untagged format: only
/// storage can tell whether it is ours, so looking it up passes the per-address limit first.
pub fn untagged(value: &str) -> bool {
    ![ACCESS_START, REFRESH_START, CODE_START].iter().any(|start| value.starts_with(start))
}

/// How long after the first run of a release issuing tagged values an untagged `value` of ours
/// can still be live: an access token an hour, a code two minutes, a refresh token its grant's
/// 30 days (it is replaced by a tagged one at its first use). Past that it is refused unread.
pub fn untagged_lifetime_ms(value: &str) -> u64 {
    match value.split('.').next() {
        Some("agwa") => ACCESS_TTL_MS,
        Some("agwc") => CODE_TTL_MS,
        Some("agwr") => GRANT_LIFETIME_MS,
        _ => 0,
    }
}

/// Whether `token` may be one of ours as far as can be told without storage: a tagged token's
/// tag must check out; a token from before tags passes (only storage can tell).
pub fn intact(keys: &SigningKeys, token: &str) -> bool {
    untagged(token) || keys.token_intact(token)
}

/// Whether `token` is tagged and its tag checks out: what may be answered without storage.
pub fn tagged_and_intact(keys: &SigningKeys, token: &str) -> bool {
    token.starts_with(ACCESS_START) && keys.token_intact(token)
}

/// The kind and grant id of a token of ours, if it has our shape (nothing is trusted yet).
pub fn parse_token(token: &str) -> Option<(TokenKind, &str)> {
    let mut parts = token.split('.');
    let kind = match parts.next()? {
        "agwa" | ACCESS_PREFIX => TokenKind::Access,
        "agwr" | REFRESH_PREFIX => TokenKind::Refresh,
        _ => return None,
    };
    let (gid, secret) = (parts.next()?, parts.next()?);
    let secret_ok = secret.len() == 43 && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (parts.next().is_none() && valid_grant_id(gid) && secret_ok).then_some((kind, gid))
}

/// A new grant id for `user`'s grant (see `valid_grant_id`).
pub fn new_grant_id(random_bytes: [u8; 16], user: &UserId) -> String {
    let random: String = random_bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{random}_{}_{}", user.workspace_id, user.member_id)
}

/// Scopes a consent choice grants.
pub fn scopes_for(write: bool) -> Vec<String> {
    if write {
        vec![SCOPE_READ.into(), SCOPE_WRITE.into()]
    } else {
        vec![SCOPE_READ.into()]
    }
}

/// Parses a space-separated `scope` parameter against what we support (RFC 6749 §3.3).
pub fn parse_scope(raw: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    // `offline_access` asks for a refresh token, which every client allowed the refresh grant
    // gets anyway; clients add it on their own (Claude Code), so it is accepted and dropped.
    for s in raw.split(' ').filter(|s| !s.is_empty() && *s != OFFLINE_ACCESS) {
        if s != SCOPE_READ && s != SCOPE_WRITE && crate::oauth::grants::tool_groups::Group::from_scope(s).is_none() {
            return Err(format!("unknown scope {s}"));
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    Ok(out)
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
        let access_token = keys.tagged_token(ACCESS_PREFIX, &grant_id, &keys.derive_nonce("access", access_secret));
        let refresh_token =
            refresh_secret.map(|s| keys.tagged_token(REFRESH_PREFIX, &grant_id, &keys.derive_nonce("refresh", s)));
        let grant = Grant {
            grant_id,
            client_id: code.client_id.clone(),
            user: code.user.clone(),
            scope: code.scope.clone(),
            audience: code.audience,
            created_at_ms: now,
            expires_at_ms: now + GRANT_LIFETIME_MS,
            refresh: refresh_token.as_ref().map(|r: &String| RefreshState {
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
            source_grant: None,
            connection_epoch: code.connection_epoch,
        };
        let issued = Issued {
            access_token: IssuedToken::new(access_token),
            refresh_token: refresh_token.map(IssuedToken::new),
            expires_in_secs: ACCESS_TTL_MS / 1000,
            scope: code.scope.clone(),
        };
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
            access_token: IssuedToken::new(keys.tagged_token(
                ACCESS_PREFIX,
                &self.grant_id,
                &keys.derive_nonce("access", presented),
            )),
            refresh_token: Some(IssuedToken::new(keys.tagged_token(
                REFRESH_PREFIX,
                &self.grant_id,
                &keys.derive_nonce("refresh", presented),
            ))),
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
        // Under every signing key, so a rotation of SIGNING_KEY costs nobody their grant.
        let hashes = keys.token_hashes(presented);
        let is = |stored: &str| hashes.iter().any(|h| constant_time_eq(stored.as_bytes(), h.as_bytes()));
        let scope = match scope {
            Some(s) if s.iter().any(|x| !self.scope.contains(x)) => return RefreshOutcome::InvalidScope,
            Some(s) if !s.is_empty() => crate::oauth::grants::tool_groups::narrowed(s, &self.scope),
            _ => self.scope.clone(),
        };
        if is(&state.current) {
            let issued = self.derived(keys, presented, scope.clone());
            let refresh_hash =
                keys.token_hash(issued.refresh_token.as_ref().map(|t| t.expose_secret().as_str()).unwrap_or_default());
            let mut ancestors = state.ancestors.clone();
            if let Some(old) = &state.previous {
                ancestors.push(old.clone());
            }
            let excess = ancestors.len().saturating_sub(MAX_ANCESTORS);
            ancestors.drain(..excess);
            let mut access: Vec<AccessRecord> = self.access.iter().filter(|a| a.expires_at_ms > now).cloned().collect();
            access.push(AccessRecord {
                hash: keys.token_hash(issued.access_token.expose_secret()),
                expires_at_ms: now + ACCESS_TTL_MS,
                scope,
            });
            let excess = access.len().saturating_sub(MAX_ACCESS);
            access.drain(..excess);
            let next = Grant {
                refresh: Some(RefreshState {
                    current: refresh_hash,
                    previous: Some(state.current.clone()),
                    previous_until_ms: now + REFRESH_GRACE_MS,
                    ancestors,
                }),
                access,
                ..self.clone()
            };
            return RefreshOutcome::Rotated(next, issued);
        }
        let is_previous = state.previous.as_deref().is_some_and(is);
        if is_previous && now < state.previous_until_ms {
            // The same pair as the first time, with the scope it was issued with.
            let mut issued = self.derived(keys, presented, scope);
            if let Some(record) =
                self.access.iter().find(|a| keys.hash_matches(issued.access_token.expose_secret(), &a.hash))
            {
                issued.scope = record.scope.clone();
            }
            return RefreshOutcome::Replayed(issued);
        }
        if is_previous || state.ancestors.iter().any(|a| is(a)) {
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
        self.check_access_hashed(&keys.token_hashes(presented), audience, now)
    }

    /// [`Grant::check_access`] for a token whose hashes (under every signing key) the caller
    /// already made: they are computed once per request, not once per access record.
    pub fn check_access_hashed(
        &self,
        token_hashes: &[String],
        audience: Audience,
        now: u64,
    ) -> Result<Vec<String>, AccessDenied> {
        if !self.is_live(now) {
            return Err(AccessDenied::Invalid);
        }
        let matches = |stored: &str| token_hashes.iter().any(|h| constant_time_eq(h.as_bytes(), stored.as_bytes()));
        let record = self
            .access
            .iter()
            .find(|a| matches(&a.hash))
            .filter(|a| a.expires_at_ms > now)
            .ok_or(AccessDenied::Invalid)?;
        if self.audience != audience {
            return Err(AccessDenied::WrongAudience);
        }
        Ok(record.scope.clone())
    }

    /// Whether `presented` is one of this grant's current tokens (for revocation).
    pub fn owns(&self, keys: &SigningKeys, presented: &str) -> bool {
        let in_access = self.access.iter().any(|a| keys.hash_matches(presented, &a.hash));
        let in_refresh = self.refresh.as_ref().is_some_and(|r| {
            keys.hash_matches(presented, &r.current)
                || r.previous.as_deref().is_some_and(|p| keys.hash_matches(presented, p))
        });
        in_access || in_refresh
    }
}

#[derive(Debug, PartialEq, Eq)]
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
#[path = "grant_tests.rs"]
mod tests;
