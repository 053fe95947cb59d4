//! The `connection:<KV key>` object of each person's Attio connection: the newest sealed record
//! (`latest`, read before refreshing, because KV can serve a stale copy for a minute) and the
//! refresh lease that makes a refresh single-flight. The record itself lives in KV
//! ([`crate::attio::vault`]); this object only mirrors its newest revision.

use serde_json::Value;

use super::keys;
use super::vault::{SealedConnection, VaultStoreError};
use crate::base::user::UserId;
use crate::platform::{Platform, StoreError};
use crate::transitions::{Command, Outcome};

/// How long the mirrored newest revision is kept after its last write. Tool calls read the
/// connection from here (one request with the grant); once it lapses, the next call reads KV
/// and puts the copy back.
const LATEST_TTL_MS: u64 = 30 * 24 * 3600 * 1000;

fn object(user: &UserId) -> String {
    keys::person_object(user)
}

/// The newest sealed revision the object holds, if any (an unreadable one is ignored).
pub async fn latest<P: Platform>(p: &P, user: &UserId) -> Result<Option<SealedConnection>, StoreError> {
    super::get(p, &object(user), keys::LATEST).await
}

/// The person's sealed connection as their object holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionCopy {
    /// The newest revision (not one from before a disconnect).
    Held(Box<SealedConnection>),
    /// The object holds none (it lapsed, or was never written): read KV, and put the copy back
    /// unless the person disconnected at or after its revision (`gone`).
    Missing { gone: Option<u64> },
    /// Not read (a grant in an object of its own): read KV.
    NotRead,
}

impl ConnectionCopy {
    /// What the object's newest revision and disconnect marker amount to: a revision from before
    /// the last disconnect is no copy.
    pub fn of(latest: Option<SealedConnection>, gone: Option<u64>) -> Self {
        match latest {
            Some(sealed) if !disconnected_since(gone, sealed.revision) => ConnectionCopy::Held(Box::new(sealed)),
            _ => ConnectionCopy::Missing { gone },
        }
    }
}

/// What the object holds of a person's connection, read in one request: the newest revision
/// (as stored, so a compare-and-swap can expect exactly it even when it does not decode) and
/// the disconnect marker.
#[derive(Debug, Clone, Default)]
pub struct Held {
    stored: Option<Value>,
    /// The newest revision; `None` when there is none or it does not decode.
    pub latest: Option<SealedConnection>,
    /// The revision at which the person last disconnected, while remembered.
    pub gone: Option<u64>,
}

/// Reads [`Held`].
pub async fn held<P: Platform>(p: &P, user: &UserId) -> Result<Held, StoreError> {
    let object = object(user);
    let read = Command::Read { keys: vec![keys::LATEST.into(), keys::GONE.into()] };
    let Outcome::Values { values, .. } = p.transition(&object, read).await? else {
        return Err(StoreError("unexpected answer to read".into()));
    };
    let mut values = values.into_iter();
    let mut next = || values.next().flatten();
    let (stored, gone) = (next(), next());
    let latest = stored.clone().and_then(|v| super::decode(p, &object, v));
    Ok(Held { stored, latest, gone: gone.and_then(|v| super::decode(p, &object, v)) })
}

/// Replaces the newest revision with `next` only if the object still holds what `held` read.
pub async fn swap<P: Platform>(p: &P, user: &UserId, held: &Held, next: &SealedConnection) -> Result<bool, StoreError> {
    let cas = Command::Cas {
        key: keys::LATEST.into(),
        expected: held.stored.clone(),
        value: super::encode(next)?,
        expires_at_ms: p.now_ms() + LATEST_TTL_MS,
    };
    Ok(p.transition(&object(user), cas).await? == Outcome::Stored)
}

/// Whether the person disconnected at or after `revision` (`gone`: the object's marker), which
/// makes a record of that revision one to ignore (KV may serve a deleted record for a minute).
pub fn disconnected_since(gone: Option<u64>, revision: u64) -> bool {
    gone.is_some_and(|g| g >= revision)
}

/// What the object holds of the person's connection (see [`ConnectionCopy::of`]).
pub async fn copy<P: Platform>(p: &P, user: &UserId) -> Result<ConnectionCopy, StoreError> {
    let held = held(p, user).await?;
    Ok(ConnectionCopy::of(held.latest, held.gone))
}

/// Records `sealed` as the newest revision.
pub async fn publish_latest<P: Platform>(p: &P, user: &UserId, sealed: &SealedConnection) -> Result<(), StoreError> {
    super::put(p, &object(user), keys::LATEST, sealed, p.now_ms() + LATEST_TTL_MS).await
}

/// Writes `sealed`, just swapped into the object as the newest revision, to KV, then makes KV
/// agree with the object. KV has no compare-and-swap: a writer delayed between its swap and its
/// KV write can land after a newer writer's, or after a disconnect deleted the record. So the
/// object is read once more, and what it holds (or the deletion) is written again when it
/// differs. Errors are the KV write's; the check after it is best effort.
pub async fn save_in_kv<P: Platform>(p: &P, sealed: &SealedConnection) -> Result<(), VaultStoreError> {
    super::vault::save(p, sealed).await?;
    let Some(user) = sealed.user() else { return Ok(()) };
    let Ok(Held { latest, gone, .. }) = held(p, &user).await else { return Ok(()) };
    match latest.filter(|l| !disconnected_since(gone, l.revision)) {
        Some(newer) if newer.revision > sealed.revision => {
            let _ = super::vault::save(p, &newer).await;
        }
        None if disconnected_since(gone, sealed.revision) => {
            let _ = super::vault::delete(p, &user).await;
        }
        _ => {}
    }
    Ok(())
}

/// How long a disconnect is remembered: far longer than KV serves a stale copy (about a minute),
/// and longer than `latest` lives, so a copy from before it put back in a race never outlives it.
const GONE_TTL_MS: u64 = LATEST_TTL_MS + 24 * 3600 * 1000;
const _: () = assert!(GONE_TTL_MS > LATEST_TTL_MS);

/// Remembers that the person disconnected at `revision`: no copy read before (KV may serve one
/// for a minute) may be written back.
pub async fn mark_gone<P: Platform>(p: &P, user: &UserId, revision: u64) -> Result<(), StoreError> {
    super::put(p, &object(user), keys::GONE, &revision, p.now_ms() + GONE_TTL_MS).await
}

/// The revision at which the person last disconnected, if remembered (31 days).
pub async fn gone_revision<P: Platform>(p: &P, user: &UserId) -> Result<Option<u64>, StoreError> {
    super::get(p, &object(user), keys::GONE).await
}

/// Forgets the newest revision (on disconnect), returning what it was.
pub async fn forget_latest<P: Platform>(p: &P, user: &UserId) -> Result<Option<SealedConnection>, StoreError> {
    let object = object(user);
    match p.transition(&object, Command::Take { key: keys::LATEST.into() }).await? {
        Outcome::Taken { value } => Ok(super::decode(p, &object, value)),
        _ => Ok(None),
    }
}

/// Takes the refresh lease for `holder` until `expires_at_ms`; `false` if another holds it.
pub async fn acquire_lease<P: Platform>(
    p: &P,
    user: &UserId,
    holder: &str,
    expires_at_ms: u64,
) -> Result<bool, StoreError> {
    let lease = Command::Acquire { key: keys::REFRESH_LEASE.into(), holder: holder.into(), expires_at_ms };
    Ok(p.transition(&object(user), lease).await? == Outcome::Acquired)
}

/// Ends `holder`'s lease.
pub async fn release_lease<P: Platform>(p: &P, user: &UserId, holder: &str) -> Result<(), StoreError> {
    let release = Command::Release { key: keys::REFRESH_LEASE.into(), holder: holder.into() };
    p.transition(&object(user), release).await.map(|_| ())
}
