//! Using a user's Attio connection: a usable access token, refreshed when it is about to expire,
//! and the connection marked revoked once Attio says the grant is gone.
//!
//! ## Single-flight refresh
//!
//! Attio refresh tokens rotate: spending one twice fails with `invalid_grant`, and a naive
//! gateway would then revoke a perfectly good connection. So a refresh happens under a lease in
//! the connection's `Transitions` Durable Object (one object per connection):
//!
//! 1. look at the object's `latest` record: if someone already wrote a newer revision than the
//!    one we read from KV (KV may lag by a minute), use it;
//! 2. otherwise take the `refresh-lease`; if another request holds it, wait and go to 1;
//! 3. holding the lease, check `latest` once more, then refresh at Attio, write the new revision
//!    to the object's `latest` (strongly consistent) and to KV, and release the lease.
//!
//! Only `invalid_grant` revokes; 429, 5xx and timeouts are transient and change nothing.

use crate::attio::identity::TokenStatus;
use crate::attio::members::Membership;
use crate::attio::upstream::{self, UpstreamError};
use crate::attio::vault::{self, Connection, ConnectionStatus, Tokens, VaultStoreError};
use crate::attio::AttioError;
use crate::base::random::RandomError;
use crate::base::secret::AttioAccessToken;
use crate::base::user::UserId;
use crate::config::Config;
use crate::crypto::envelope::Vault;
use crate::platform::{Platform, StoreError};
use crate::store::connections;
use crate::store::connections::ConnectionCopy;

mod lifecycle;

use crate::store::connections::disconnected_since;
use lifecycle::publish_over;
pub use lifecycle::{disconnect, establish, mark_revoked, random_epoch};

/// Refresh this long before the access token expires.
pub const REFRESH_MARGIN_MS: u64 = 60_000;
/// A refresh lease outlives the holder's call to Attio (bounded by the upstream timeout) by
/// this much; a holder that dies leaves the lease to expire.
const LEASE_SLACK_MS: u64 = 5_000;
const WAIT_STEP_MS: u32 = 100;

fn lease_ms(config: &Config) -> u64 {
    u64::from(config.attio_timeout_ms) + LEASE_SLACK_MS
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionError {
    #[error("this person has not connected Attio")]
    NotConnected,
    #[error("Attio no longer accepts this connection; connect again")]
    Revoked,
    #[error("the stored connection cannot be read; connect again")]
    Unreadable,
    #[error("a token refresh is in progress; retry shortly")]
    RefreshBusy,
    #[error(transparent)]
    Storage(#[from] StoreError),
    /// Attio failed in a way worth retrying (429, 5xx, timeout) or answered unexpectedly.
    #[error(transparent)]
    Upstream(#[from] AttioError),
    #[error(transparent)]
    Random(#[from] RandomError),
}

impl From<VaultStoreError> for ConnectionError {
    fn from(e: VaultStoreError) -> Self {
        match e {
            VaultStoreError::Unreadable => ConnectionError::Unreadable,
            VaultStoreError::Storage(s) => ConnectionError::Storage(s),
            VaultStoreError::Random(r) => ConnectionError::Random(r),
        }
    }
}

/// Revisions only grow, and are unique per write (milliseconds, or one more than the last).
pub fn next_revision(previous: u64, now_ms: u64) -> u64 {
    (previous + 1).max(now_ms)
}

fn needs_refresh(c: &Connection, now_ms: u64) -> bool {
    let refreshable = c.tokens.as_ref().is_some_and(|t| t.refresh.is_some());
    refreshable && c.access_expires_at_ms.is_some_and(|exp| now_ms + REFRESH_MARGIN_MS >= exp)
}

/// An active connection whose access token is usable now (refreshed if it was about to expire),
/// read as tool calls read it: the person's object first (KV may lag a minute behind a new
/// connection, or serve one a disconnect deleted), then KV.
pub async fn usable<P: Platform>(
    p: &P,
    config: &Config,
    vault: &Vault,
    user: &UserId,
) -> Result<Connection, ConnectionError> {
    let copy = connections::copy(p, user).await.unwrap_or(ConnectionCopy::NotRead);
    usable_from(p, config, vault, user, &copy).await
}

/// The person's newest connection record as [`usable`] reads it, whatever its state: no refresh,
/// and `None` when there is none or only one from before a disconnect.
pub async fn current<P: Platform>(p: &P, vault: &Vault, user: &UserId) -> Result<Option<Connection>, ConnectionError> {
    match connections::copy(p, user).await.unwrap_or(ConnectionCopy::NotRead) {
        ConnectionCopy::Held(sealed) => Ok(Some(vault::open_copy(p, vault, &sealed).await?)),
        ConnectionCopy::Missing { gone } => {
            Ok(vault::load(p, vault, user).await?.filter(|c| !disconnected_since(gone, c.revision)))
        }
        ConnectionCopy::NotRead => Ok(vault::load(p, vault, user).await?),
    }
}

/// [`usable`], starting from what the person's object held (read with the grant): KV is read
/// only when the object held no copy, and the copy is then put back for the next call.
async fn usable_from<P: Platform>(
    p: &P,
    config: &Config,
    vault: &Vault,
    user: &UserId,
    copy: &ConnectionCopy,
) -> Result<Connection, ConnectionError> {
    let connection = match copy {
        ConnectionCopy::Held(sealed) => vault::open_copy(p, vault, sealed).await?,
        ConnectionCopy::Missing { gone } => {
            let (sealed, connection) =
                vault::load_sealed(p, vault, user).await?.ok_or(ConnectionError::NotConnected)?;
            // KV may serve a record deleted by a disconnect for a minute: it is not used.
            if disconnected_since(*gone, sealed.revision) {
                return Err(ConnectionError::NotConnected);
            }
            // Only into an empty slot: a newer revision published meanwhile wins.
            if let Err(e) = connections::swap(p, user, &connections::Held::default(), &sealed).await {
                p.log("connection.copy_failed", &e.to_string());
            }
            connection
        }
        ConnectionCopy::NotRead => vault::load(p, vault, user).await?.ok_or(ConnectionError::NotConnected)?,
    };
    if connection.status == ConnectionStatus::Revoked {
        return Err(ConnectionError::Revoked);
    }
    // A member taken off ATTIO_ALLOWED_MEMBERS (or never checked against it) is cut off at the
    // next use; connecting again would show them why.
    if let Some(allowed) = &config.allowed_members {
        if !connection.member_email.as_ref().is_some_and(|e| allowed.contains(e)) {
            return Err(ConnectionError::NotConnected);
        }
    }
    if !needs_refresh(&connection, p.now_ms()) {
        return Ok(connection);
    }
    refresh_single_flight(p, config, vault, connection).await
}

/// The person's connection, if it is usable and still the one a grant was approved under
/// (`epoch`): a grant from before a disconnect never reaches a connection made after it. `copy`
/// is what the person's object held when the grant was read ([`crate::auth::access::Principal`]).
pub async fn usable_for_grant<P: Platform>(
    p: &P,
    config: &Config,
    vault: &Vault,
    user: &UserId,
    epoch: u64,
    copy: &ConnectionCopy,
) -> Result<Connection, ConnectionError> {
    let connection = usable_from(p, config, vault, user, copy).await?;
    if connection.epoch != epoch {
        return Err(ConnectionError::NotConnected);
    }
    Ok(connection)
}

/// Whether the person behind `connection` is still an active member of its workspace. When
/// Attio says they are not (suspended, or gone), the connection is marked revoked: every grant
/// made under it stops working, and connecting again would start a new epoch. Anything short of
/// a clear answer (a missing `user_management:read` scope, a rate limit, an outage) keeps the
/// connection: access is never ended on a guess.
pub async fn still_a_member<P: Platform>(p: &P, config: &Config, vault: &Vault, connection: &Connection) -> bool {
    // Owner mode: the key is the workspace's, and the person behind it is no Attio member.
    if config.owner.is_some() {
        return true;
    }
    let Ok(token) = access_token(connection) else { return false };
    match config.attio().membership(p, token, &connection.user.member_id).await {
        Ok(Membership::Active) => true,
        Ok(Membership::Ended) => {
            mark_revoked(p, vault, connection, "the member is no longer active in the workspace").await;
            false
        }
        Err(e) => {
            p.log("connection.membership_unknown", &e.to_string());
            true
        }
    }
}

pub use crate::store::vault::MembershipReport;

/// The cron's check of one person (see `crate::control::cron`): their connection's member, and the
/// connection revoked if the member is suspended or gone; counted in `report`.
pub async fn check_member<P: Platform>(
    p: &P,
    config: &Config,
    vault: &Vault,
    user: &UserId,
    report: &mut MembershipReport,
) {
    // A record a disconnect could not delete (that day's KV deletes were spent) is deleted now,
    // before the disconnect's marker lapses.
    if let Ok(held) = connections::held(p, user).await {
        if let Ok(Some(record)) = crate::store::vault::load(p, user).await {
            if disconnected_since(held.gone, record.revision) {
                match crate::store::vault::delete(p, user).await {
                    Ok(()) => report.cleared += 1,
                    Err(_) => report.skipped += 1,
                }
                return;
            }
        }
    }
    // KV alone: a disconnected person's stale record changes nothing here (a revocation after a
    // disconnect writes nothing).
    match usable_from(p, config, vault, user, &ConnectionCopy::NotRead).await {
        Ok(connection) => {
            report.checked += 1;
            if !still_a_member(p, config, vault, &connection).await {
                report.ended += 1;
            }
        }
        Err(ConnectionError::NotConnected | ConnectionError::Revoked) => {}
        Err(_) => report.skipped += 1,
    }
}

/// The access token of a usable connection.
pub fn access_token(connection: &Connection) -> Result<&AttioAccessToken, ConnectionError> {
    connection.tokens.as_ref().map(|t| &t.access).ok_or(ConnectionError::Revoked)
}

/// A newer revision than `seen` in the object's `latest`, if there is one.
async fn newer_than<P: Platform>(
    p: &P,
    vault: &Vault,
    user: &UserId,
    seen: u64,
) -> Result<Option<Connection>, ConnectionError> {
    let Some(sealed) = connections::latest(p, user).await? else {
        return Ok(None);
    };
    if sealed.revision <= seen {
        return Ok(None);
    }
    Ok(Some(sealed.open(vault)?.connection))
}

fn active(c: Connection) -> Result<Connection, ConnectionError> {
    match c.status {
        ConnectionStatus::Active => Ok(c),
        ConnectionStatus::Revoked => Err(ConnectionError::Revoked),
    }
}

async fn refresh_single_flight<P: Platform>(
    p: &P,
    config: &Config,
    vault: &Vault,
    current: Connection,
) -> Result<Connection, ConnectionError> {
    let user = current.user.clone();
    let holder = p.token()?;
    // Wait a little longer than a lease can last, so a dead holder's lease expires in time.
    let steps = (lease_ms(config) + 1_000) / u64::from(WAIT_STEP_MS);
    for _ in 0..steps {
        if let Some(newer) = newer_than(p, vault, &user, current.revision).await? {
            return active(newer);
        }
        if connections::acquire_lease(p, &user, &holder, p.now_ms() + lease_ms(config)).await? {
            let result = refresh_holding_lease(p, config, vault, current).await;
            if let Err(e) = connections::release_lease(p, &user, &holder).await {
                p.log("connection.lease_release_failed", &e.to_string());
            }
            return result;
        }
        p.sleep_ms(WAIT_STEP_MS).await;
    }
    Err(ConnectionError::RefreshBusy)
}

async fn refresh_holding_lease<P: Platform>(
    p: &P,
    config: &Config,
    vault: &Vault,
    current: Connection,
) -> Result<Connection, ConnectionError> {
    // Someone may have finished a refresh between our look at `latest` and taking the lease.
    if let Some(newer) = newer_than(p, vault, &current.user, current.revision).await? {
        return active(newer);
    }
    // The copy we started from may be the object's, and a publish that reached only KV left a
    // newer revision there: its refresh token is the live one (ours is spent).
    if let Ok(Some((sealed, newer))) = vault::load_sealed(p, vault, &current.user).await {
        if sealed.revision > current.revision {
            return active(newer);
        }
    }
    let Some(refresh_token) = current.tokens.as_ref().and_then(|t| t.refresh.clone()) else {
        return Ok(current);
    };
    match upstream::refresh(p, config, &refresh_token).await {
        Ok(grant) => {
            let now = p.now_ms();
            let next = Connection {
                tokens: Some(Tokens { access: grant.access, refresh: grant.refresh.or(Some(refresh_token)) }),
                access_expires_at_ms: grant.expires_in.map(|s| now + s * 1000),
                revision: next_revision(current.revision, now),
                updated_at_ms: now,
                ..current
            };
            if publish_over(p, vault, &next, current.revision).await? {
                p.log("connection.refreshed", &format!("revision {}", next.revision));
                return Ok(next);
            }
            // The person connected again or disconnected while Attio answered: the tokens just
            // issued belong to nothing, so they are not kept anywhere.
            if let Some(t) = &next.tokens {
                let _ = upstream::revoke(p, config, t.access.expose_secret()).await;
                if let Some(refresh) = &t.refresh {
                    let _ = upstream::revoke(p, config, refresh.expose_secret()).await;
                }
            }
            match newer_than(p, vault, &next.user, current.revision).await? {
                Some(newer) => active(newer),
                None => Err(ConnectionError::NotConnected),
            }
        }
        Err(e) if e.is_invalid_grant() => {
            mark_revoked(p, vault, &current, "refresh token rejected").await;
            Err(ConnectionError::Revoked)
        }
        Err(UpstreamError::Transient(e)) => Err(ConnectionError::Upstream(e)),
        Err(UpstreamError::Rejected { error }) => {
            p.log("connection.refresh_rejected", &error);
            Err(ConnectionError::Upstream(AttioError::Decode(format!("Attio refused the refresh: {error}"))))
        }
        Err(UpstreamError::Malformed) => {
            Err(ConnectionError::Upstream(AttioError::Decode("unreadable token response".into())))
        }
    }
}

/// Asks Attio whether the connection's token is still good (`/v2/self`), marking the
/// connection revoked when Attio says it is not. Used after any 401 from Attio, since Attio
/// has been seen to answer a spurious 401 under load: only a confirmed inactive token revokes.
pub async fn verify<P: Platform>(
    p: &P,
    config: &Config,
    vault: &Vault,
    connection: &Connection,
) -> Result<TokenStatus, ConnectionError> {
    let token = access_token(connection)?;
    match config.attio().identify(p, token).await {
        Ok(TokenStatus::Inactive) => {
            mark_revoked(p, vault, connection, "Attio reports the token inactive").await;
            Err(ConnectionError::Revoked)
        }
        Ok(active) => Ok(active),
        Err(e) => Err(ConnectionError::Upstream(e)),
    }
}

#[cfg(test)]
#[path = "connection/lifecycle_tests.rs"]
mod lifecycle_tests;
#[cfg(test)]
#[path = "connection/tests.rs"]
mod tests;
