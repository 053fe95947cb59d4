//! Making, replacing and ending a person's connection. Every write of a new revision (connect,
//! refresh, revocation) and every disconnect goes through here, so the rules hold in one place:
//!
//! - the person's object's `latest` decides: a new revision is written there by compare-and-swap
//!   against what was read, then to KV (the vault of record, which may lag a minute);
//! - a connection made over an active one keeps its epoch, and anything else starts a new one,
//!   so two approvals racing agree and grants from before a disconnect never come back;
//! - a request that read a connection and then waited on Attio does not write over what happened
//!   meanwhile (a new connection, or a disconnect: the object's `gone` marker);
//! - KV follows the object: after its KV write a writer looks at the object again and repairs
//!   KV when a newer revision or a disconnect landed first
//!   ([`connections::save_in_kv`]).

use super::{next_revision, ConnectionError};
use crate::attio::upstream;
use crate::attio::vault::{self, Connection, ConnectionStatus, VaultStoreError};
use crate::base::user::UserId;
use crate::config::Config;
use crate::crypto::envelope::Vault;
use crate::platform::{Platform, StoreError};
use crate::store::connections::{self, disconnected_since};
use crate::store::vault as store_vault;
use crate::store::{grant_index, grants};

/// Makes and publishes `user`'s new connection (built by `make` from its revision and epoch),
/// returning what was published. Connecting again over an active connection keeps its epoch (its
/// grants go on); anything else (a first connection, after a disconnect or a revocation) starts
/// a new one from `fresh` (given the revision it follows), so grants from before never come back.
///
/// The epoch is decided against the newest revision in the person's object and written there by
/// compare-and-swap: two approvals racing to make the same person's connection (two MCP clients
/// authorized at once) cannot each start an epoch and leave the loser's grant dead. The loser
/// sees the winner's connection and continues its epoch.
pub async fn establish<P: Platform>(
    p: &P,
    vault: &Vault,
    user: &UserId,
    fresh: impl Fn(u64) -> u64,
    make: impl Fn(u64, u64) -> Connection,
) -> Result<Connection, ConnectionError> {
    for _ in 0..SWAP_ATTEMPTS {
        let Ok(held) = connections::held(p, user).await else { return unarbitrated(p, vault, user, fresh, make).await };
        let gone = held.gone;
        let (previous, epoch) = match &held.latest {
            Some(s) if !disconnected_since(gone, s.revision) => continued(s.status, s.revision, s.epoch, &fresh),
            _ => successor_in_kv(p, user, gone, &fresh).await,
        };
        let connection = make(next_revision(previous, p.now_ms()), epoch);
        let sealed = connection.seal(vault, p)?;
        // A person with no connection in their object: the vault of record first, so a failed
        // KV write (the day's writes spent) leaves nothing half-made anywhere. Over a held
        // connection, the object first (it arbitrates; KV follows, and a lagging KV copy is
        // caught up by the next writer).
        let first = held.latest.is_none();
        if first {
            connections::save_in_kv(p, &sealed).await?;
        }
        match connections::swap(p, user, &held, &sealed).await {
            Ok(true) => {
                if !first {
                    if let Err(e) = connections::save_in_kv(p, &sealed).await {
                        p.log("connection.publish_partial", &format!("kv: {e}"));
                    }
                }
                return Ok(connection);
            }
            // Someone else wrote first: decide again against what they wrote.
            Ok(false) => continue,
            Err(_) => return unarbitrated(p, vault, user, fresh, make).await,
        }
    }
    // Others kept writing: deciding without the object now could split the epoch again.
    Err(ConnectionError::Storage(StoreError("the connection kept changing; try again".into())))
}

/// [`establish`] when the person's object does not answer: decided from KV and written to both,
/// as before objects held connections.
async fn unarbitrated<P: Platform>(
    p: &P,
    vault: &Vault,
    user: &UserId,
    fresh: impl Fn(u64) -> u64,
    make: impl Fn(u64, u64) -> Connection,
) -> Result<Connection, ConnectionError> {
    let gone = connections::gone_revision(p, user).await.ok().flatten();
    let (previous, epoch) = successor_in_kv(p, user, gone, &fresh).await;
    let connection = make(next_revision(previous, p.now_ms()), epoch);
    publish(p, vault, &connection).await?;
    Ok(connection)
}

/// Compare-and-swap rounds a writer tries while others keep writing ([`establish`],
/// [`publish_over`]).
const SWAP_ATTEMPTS: usize = 5;

/// What a connection made over a stored one continues from: its revision, and its epoch if it
/// is active.
fn continued(status: ConnectionStatus, revision: u64, epoch: u64, fresh: &impl Fn(u64) -> u64) -> (u64, u64) {
    match status {
        ConnectionStatus::Active => (revision, epoch),
        _ => (revision, fresh(revision)),
    }
}

/// [`continued`] from the KV record, or from the last disconnect (`gone`) when there is none or
/// it is from before that disconnect.
async fn successor_in_kv<P: Platform>(
    p: &P,
    user: &UserId,
    gone: Option<u64>,
    fresh: &impl Fn(u64) -> u64,
) -> (u64, u64) {
    match store_vault::load(p, user).await {
        Ok(Some(s)) if !disconnected_since(gone, s.revision) => continued(s.status, s.revision, s.epoch, fresh),
        // After a disconnect, revisions go on from it: a copy from before stays older.
        _ => {
            let previous = gone.unwrap_or(0);
            (previous, fresh(previous))
        }
    }
}

/// A fresh random epoch, for [`establish`] (`previous` is not needed: randomness keeps epochs
/// apart).
pub fn random_epoch<P: Platform>(p: &P) -> impl Fn(u64) -> u64 + '_ {
    move |_| new_epoch(p)
}

/// A fresh epoch: random, so two connections never share one (not even within a millisecond),
/// and never `0`, which means "from before epochs".
fn new_epoch<P: Platform>(p: &P) -> u64 {
    let mut bytes = [0u8; 8];
    // Without randomness the clock still separates connections made at different times.
    // 53 bits, so any JSON reader holds it exactly.
    let epoch = if p.fill(&mut bytes).is_ok() { u64::from_le_bytes(bytes) >> 11 } else { p.now_ms() };
    epoch.max(1)
}

/// Writes a new revision to the object, then to KV, unconditionally: the path for when the
/// object cannot arbitrate (it does not answer), used by [`establish`] and [`publish_over`].
/// After a successful refresh the old refresh token is spent, so both writes are attempted even
/// if one fails: either copy keeps the connection alive.
pub(super) async fn publish<P: Platform>(p: &P, vault: &Vault, connection: &Connection) -> Result<(), ConnectionError> {
    let sealed = connection.seal(vault, p)?;
    let in_object = connections::publish_latest(p, &connection.user, &sealed).await;
    let in_kv = connections::save_in_kv(p, &sealed).await;
    match (in_object, in_kv) {
        (Err(e), Err(_)) => {
            p.log("connection.publish_failed", "neither the object nor KV took the new revision");
            Err(ConnectionError::Storage(e))
        }
        (Err(e), Ok(())) => {
            p.log("connection.publish_partial", &format!("object: {e}"));
            Ok(())
        }
        (Ok(_), Err(e)) => {
            p.log("connection.publish_partial", &format!("kv: {e}"));
            Ok(())
        }
        (Ok(_), Ok(())) => Ok(()),
    }
}

/// Writes `next`, made from the revision `from`, unless the person connected again or
/// disconnected since (`false`): a request that read a connection, then waited on Attio, must
/// not write over what happened meanwhile. Compare-and-swap on the object's `latest`, then KV;
/// when the object cannot arbitrate, both are written as [`publish`] does.
pub(super) async fn publish_over<P: Platform>(
    p: &P,
    vault: &Vault,
    next: &Connection,
    from: u64,
) -> Result<bool, ConnectionError> {
    let sealed = next.seal(vault, p)?;
    // When the object does not answer, both are written as before objects held connections (a
    // refresh's new tokens must be kept somewhere: the old refresh token is spent).
    let unarbitrated = || async { publish(p, vault, next).await.map(|()| true) };
    for _ in 0..SWAP_ATTEMPTS {
        let Ok(held) = connections::held(p, &next.user).await else { return unarbitrated().await };
        if disconnected_since(held.gone, from) || held.latest.as_ref().is_some_and(|h| h.revision > from) {
            return Ok(false);
        }
        match connections::swap(p, &next.user, &held, &sealed).await {
            Ok(true) => {
                if let Err(e) = connections::save_in_kv(p, &sealed).await {
                    p.log("connection.publish_partial", &format!("kv: {e}"));
                }
                return Ok(true);
            }
            Ok(false) => continue,
            Err(_) => return unarbitrated().await,
        }
    }
    // Others kept writing (each swap met a new revision): theirs stand.
    Ok(false)
}

/// Marks a connection revoked (tokens dropped, identity kept so pages can say what happened),
/// unless the person connected again or disconnected since it was read. Failures are logged:
/// the next use will find Attio refusing again and retry.
pub async fn mark_revoked<P: Platform>(p: &P, vault: &Vault, connection: &Connection, reason: &str) {
    let now = p.now_ms();
    let revoked = Connection {
        status: ConnectionStatus::Revoked,
        tokens: None,
        access_expires_at_ms: None,
        revision: next_revision(connection.revision, now),
        updated_at_ms: now,
        ..connection.clone()
    };
    match publish_over(p, vault, &revoked, connection.revision).await {
        Ok(true) => p.log("connection.revoked", reason),
        Ok(false) => p.log("connection.revoke_superseded", "the person connected again or disconnected meanwhile"),
        Err(e) => p.log("connection.revoke_failed", &e.to_string()),
    }
}

/// Ends a person's Attio connection: marked gone first (so no stale copy is written back), its
/// tokens revoked at Attio, every app they approved revoked, the sealed record deleted. Used by
/// the person (`/connect/disconnect`) and by an administrator (`/admin`). Fails only when the
/// record could not be deleted; every other step is best effort and logged.
pub async fn disconnect<P: Platform>(p: &P, config: &Config, user: &UserId) -> Result<(), StoreError> {
    let existing = newest(p, config.vault(), user).await;
    // Remembered first: from here on no stale copy of the record may be written back.
    let previous = match &existing {
        Ok(found) => found.as_ref().map_or(0, |c| c.revision),
        // It does not open: its revision is still readable.
        Err(_) => store_vault::load(p, user).await.ok().flatten().map_or(0, |s| s.revision),
    };
    let gone = next_revision(previous, p.now_ms());
    let marked = match connections::mark_gone(p, user, gone).await {
        Ok(()) => true,
        Err(e) => {
            p.log("disconnect.mark_gone_failed", &e.to_string());
            false
        }
    };
    if let Ok(Some(connection)) = &existing {
        revoke_tokens(p, config, connection).await;
    }
    // Every app the person approved loses its access with the connection, at once: the grants
    // in the person's object (strongly consistent), and those the index lists (grants from
    // before grants moved there live in objects of their own).
    let mut ended: Vec<String> = Vec::new();
    match grants::of_person(p, user).await {
        Ok(held) => ended.extend(held.into_iter().filter(|g| !g.revoked).map(|g| g.grant_id)),
        Err(e) => p.log("disconnect.grants_unread", &e.0),
    }
    match grant_index::list(p, user, p.now_ms()).await {
        Ok(listed) => ended.extend(listed.into_iter().map(|g| g.grant_id)),
        Err(e) => p.log("disconnect.grants_unlisted", &e.0),
    }
    ended.sort();
    ended.dedup();
    for grant_id in ended {
        grants::revoke(p, &grant_id).await;
    }
    // The connection's object may hold a sealed copy from a recent refresh: drop it too. One
    // written after the marker (a refresh that read the connection before it) is marked gone
    // as well, before KV is deleted, so its own KV write is taken back ([`connections::save_in_kv`]).
    match connections::forget_latest(p, user).await {
        Ok(Some(late)) if late.revision >= gone => {
            if let Err(e) = connections::mark_gone(p, user, next_revision(late.revision, p.now_ms())).await {
                p.log("disconnect.mark_gone_failed", &e.to_string());
            }
            if let Ok(opened) = late.open(config.vault()) {
                revoke_tokens(p, config, &opened.connection).await;
            }
        }
        Ok(_) => {}
        Err(e) => p.log("disconnect.object_cleanup_failed", &e.to_string()),
    }
    match store_vault::delete(p, user).await {
        Ok(()) => Ok(()),
        // The marker already makes the record one every reader ignores (the day's KV deletes
        // may be spent): disconnected, with the record left for the next connect to replace.
        Err(e) if marked => {
            p.log("disconnect.kv_record_left", &e.to_string());
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Revokes a connection's tokens at Attio (best effort, logged). Never owner mode's configured
/// key: it is every person's connection at once, and revoking it would cut everyone off Attio.
async fn revoke_tokens<P: Platform>(p: &P, config: &Config, connection: &Connection) {
    let Some(tokens) = &connection.tokens else { return };
    if config.owner.as_ref().is_some_and(|o| o.key == tokens.access) {
        p.log("disconnect.owner_key_kept", "the configured owner-mode key is not revoked at Attio");
        return;
    }
    let mut to_revoke = vec![tokens.access.expose_secret().clone()];
    to_revoke.extend(tokens.refresh.as_ref().map(|r| r.expose_secret().clone()));
    for token in to_revoke {
        if let Err(e) = upstream::revoke(p, config, &token).await {
            p.log("disconnect.revoke_failed", &e.to_string());
        }
    }
}

/// The newest revision of the person's connection: the object's copy when it is ahead of KV
/// (which may lag a minute behind a connection made again), otherwise KV's.
async fn newest<P: Platform>(p: &P, vault: &Vault, user: &UserId) -> Result<Option<Connection>, VaultStoreError> {
    let from_kv = vault::load(p, vault, user).await;
    let held = connections::latest(p, user).await.ok().flatten().and_then(|s| s.open(vault).ok());
    match held {
        Some(h) if from_kv.as_ref().map_or(true, |k| k.as_ref().is_none_or(|k| k.revision < h.connection.revision)) => {
            Ok(Some(h.connection))
        }
        _ => from_kv,
    }
}
