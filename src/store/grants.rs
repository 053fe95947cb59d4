//! Grants: one per approval of a client by a person, holding the hashes of its access and
//! refresh tokens, kept in the person's object (`grant:<random>`; grants made before that, in
//! `grant:<id>` objects of their own: [`keys::grant_record`]). Every change is a
//! compare-and-swap against the version read, so concurrent refreshes and revocations decide on
//! one state.

use serde_json::Value;

use super::{decode, encode, keys};
use crate::base::user::UserId;
use crate::oauth::grants::grant::Grant;
use crate::platform::{Platform, StoreError};
use crate::store::grant_index;
use crate::transitions::{Command, Outcome};

/// A grant as read, with the stored form a [`replace`] must still find.
#[derive(Debug, Clone)]
pub struct Versioned {
    pub grant: Grant,
    stored: Value,
}

/// The grant, if it exists and is readable.
pub async fn load<P: Platform>(p: &P, grant_id: &str) -> Result<Option<Versioned>, StoreError> {
    let Some((object, key)) = keys::grant_record(grant_id) else { return Ok(None) };
    match p.transition(&object, Command::Get { key }).await? {
        Outcome::Found { value } => Ok(versioned(p, &object, value)),
        _ => Ok(None),
    }
}

/// Every grant kept in the person's object (live or revoked, until each expires), read from the
/// object itself: strongly consistent, unlike the KV grant index, so it serves decisions (a
/// remembered consent, a disconnect). Grants from before grants moved there are not included.
pub async fn of_person<P: Platform>(p: &P, user: &UserId) -> Result<Vec<Grant>, StoreError> {
    let object = keys::person_object(user);
    let mut found = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let list = Command::List { prefix: keys::PERSON_GRANT_PREFIX.into(), after: after.take() };
        let Outcome::Listed { entries, more } = p.transition(&object, list).await? else {
            return Err(StoreError("unexpected answer to list".into()));
        };
        let last = entries.last().map(|(k, _)| k.clone());
        found.extend(entries.into_iter().filter_map(|(_, v)| decode::<Grant, P>(p, &object, v)));
        match last {
            Some(last) if more => after = Some(last),
            _ => return Ok(found),
        }
    }
}

/// A stored grant as read, if it parses.
pub(super) fn versioned<P: Platform>(p: &P, object: &str, stored: Value) -> Option<Versioned> {
    decode::<Grant, P>(p, object, stored.clone()).map(|grant| Versioned { grant, stored })
}

/// Stores a new grant; `false` if its id is already taken (never in practice: ids are random).
/// The person's object is first given a copy of the deployer's policy, so that authenticating
/// the grant's tokens reads everything from that one object.
pub async fn create<P: Platform>(p: &P, grant: &Grant) -> Result<bool, StoreError> {
    let Some((object, key)) = keys::grant_record(&grant.grant_id) else {
        return Err(StoreError(format!("not a grant id: {}", grant.grant_id)));
    };
    if let Err(e) = super::policy::adopt(p, &grant.user).await {
        // Authentication reads the policy's own object while the copy is missing.
        p.log("policy.adopt_failed", &e.0);
    }
    super::insert(p, &object, &key, grant, grant.expires_at_ms).await
}

/// Whether [`replace`] stored the new version or found the grant changed meanwhile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replaced {
    Stored,
    /// Another request changed (or removed) the grant first: read it again and decide again.
    Conflict,
}

/// Replaces `current` with `next`, only if the stored grant is still `current`.
pub async fn replace<P: Platform>(p: &P, current: &Versioned, next: &Grant) -> Result<Replaced, StoreError> {
    let Some((object, key)) = keys::grant_record(&current.grant.grant_id) else { return Ok(Replaced::Conflict) };
    let cas = Command::Cas {
        key,
        expected: Some(current.stored.clone()),
        value: encode(next)?,
        expires_at_ms: next.expires_at_ms,
    };
    Ok(match p.transition(&object, cas).await? {
        Outcome::Stored => Replaced::Stored,
        _ => Replaced::Conflict,
    })
}

/// Marks a grant revoked (retried on conflict) and drops it from its person's list of apps.
/// Its access and refresh tokens fail from the next request on.
pub async fn revoke<P: Platform>(p: &P, grant_id: &str) {
    for _ in 0..5 {
        let Ok(Some(current)) = load(p, grant_id).await else { return };
        if replace(p, &current, &current.grant.revoked()).await == Ok(Replaced::Stored) {
            let _ = grant_index::remove(p, &current.grant.user, grant_id).await;
            return;
        }
    }
    p.log("grant.revoke_failed", grant_id);
}
