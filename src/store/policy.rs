//! The deployer's policy ([`crate::control::policy::Policy`]): the record of truth is `policy` in the
//! `policy:v1` Durable Object; every person's object holding a grant keeps a copy
//! ([`keys::POLICY_COPY`]) so that authenticating a token reads grant, connection and policy in
//! one request. No record: the default (nothing off).
//!
//! Keeping the copies in step, with strong consistency and no scan of KV (which lags):
//!
//! - a person's object *adopts* the policy before its first grant is stored: it is listed in the
//!   policy object (`holder:<person>`) and only then reads the policy and writes its copy;
//! - a change is stored (its `version` one more than before) and only then *spread*: written to
//!   the copy of every listed holder.
//!
//! Either the listing precedes the spread's reading of the list (the spread reaches the new
//! holder), or the change was stored before the adoption read the policy (the adoption copies
//! the change). A copy is only ever replaced by a newer version, so the order the two writes
//! land in does not matter. One invocation writes at most [`COPIES_PER_INVOCATION`] copies (each
//! is a Durable Object request, and the Free plan allows 50 subrequests an invocation): a save
//! spreads to the first holders and the cron, every minute, goes on from where it stopped
//! ([`spread_from`], `crate::control::cron`); the cron also brings every copy up to date once a day, so a
//! copy a failed spread left behind is caught up. `/admin` says when that is pending.

use serde_json::Value;

use super::{decode, encode, keys};
use crate::base::user::UserId;
use crate::control::policy::Policy;
use crate::platform::{Platform, StoreError};
use crate::transitions::{Command, Outcome};

/// Copies written at once while spreading a change.
const SPREAD_BATCH: usize = 16;

/// The most copies one invocation writes: the rest go on in the next.
pub const COPIES_PER_INVOCATION: usize = 24;

/// Kept ten years past the last change: in effect, until changed.
const TTL_MS: u64 = 10 * 365 * 86_400_000;

/// The policy as its own object holds it.
pub async fn load<P: Platform>(p: &P) -> Result<Policy, StoreError> {
    Ok(load_stored(p).await?.0)
}

/// How long an isolate uses the policy it read for [`load_recent`].
pub const RECENT_MS: u64 = 60_000;

std::thread_local! {
    static RECENT: std::cell::RefCell<crate::base::memo::Memo<Policy>> = const { std::cell::RefCell::new(crate::base::memo::Memo::new(1)) };
}

/// The policy as this isolate read it within [`RECENT_MS`]: for a page anyone can open (the
/// start of an authorization), so a stream of them costs one storage request a minute per
/// isolate. Calls and refreshes read the current policy with the grant.
pub async fn load_recent<P: Platform>(p: &P) -> Result<Policy, StoreError> {
    let now = p.now_ms();
    if let Some(policy) = crate::base::memo::get(&RECENT, "policy", now) {
        return Ok(policy);
    }
    let policy = load(p).await?;
    crate::base::memo::put(&RECENT, "policy", now + RECENT_MS, policy.clone(), now);
    Ok(policy)
}

/// Forgets this thread's copy (host tests).
#[cfg(test)]
pub fn forget_recent() {
    RECENT.with_borrow_mut(crate::base::memo::Memo::clear);
}

async fn load_stored<P: Platform>(p: &P) -> Result<(Policy, Option<Value>), StoreError> {
    match p.transition(keys::POLICY_OBJECT, Command::Get { key: keys::POLICY.into() }).await? {
        Outcome::Found { value } => {
            Ok((decode::<Policy, P>(p, keys::POLICY_OBJECT, value.clone()).unwrap_or_default(), Some(value)))
        }
        _ => Ok((Policy::default(), None)),
    }
}

/// What a [`save`] or a [`spread_from`] did to the copies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spread {
    pub updated: u64,
    /// Copies that could not be written now (caught up by the next save or the daily cron).
    pub failed: u64,
    /// The holders not reached yet, when one invocation's share ran out.
    pub rest: Option<Rest>,
}

/// Where a spread goes on: after the holder key `after` (`None`: from the first).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rest {
    pub after: Option<String>,
}

/// Stores `policy` as the next version, then brings the first [`COPIES_PER_INVOCATION`] copies
/// up to it (the cron goes on with [`Spread::rest`]).
pub async fn save<P: Platform>(p: &P, policy: &Policy) -> Result<Spread, StoreError> {
    for _ in 0..5 {
        let (current, stored) = load_stored(p).await?;
        let next = Policy { version: current.version + 1, ..policy.clone() };
        let cas = Command::Cas {
            key: keys::POLICY.into(),
            expected: stored,
            value: encode(&next)?,
            expires_at_ms: p.now_ms() + TTL_MS,
        };
        if p.transition(keys::POLICY_OBJECT, cas).await? == Outcome::Stored {
            return Ok(spread_batch(p, &next, None).await);
        }
    }
    Err(StoreError("the policy kept changing while it was saved".into()))
}

/// Brings the next [`COPIES_PER_INVOCATION`] holders' copies after `rest` up to the stored
/// policy (the cron: after a save reached only the first, and once a day for all).
pub async fn spread_from<P: Platform>(p: &P, rest: &Rest) -> Result<Spread, StoreError> {
    let (policy, stored) = load_stored(p).await?;
    if stored.is_none() {
        return Ok(Spread::default());
    }
    Ok(spread_batch(p, &policy, rest.after.clone()).await)
}

async fn spread_batch<P: Platform>(p: &P, policy: &Policy, after: Option<String>) -> Spread {
    let list = Command::List { prefix: keys::POLICY_HOLDER_PREFIX.into(), after: after.clone() };
    let (entries, more) = match p.transition(keys::POLICY_OBJECT, list).await {
        Ok(Outcome::Listed { entries, more }) => (entries, more),
        _ => {
            p.log("policy.spread_unlisted", "the holders of the policy could not be listed");
            return Spread { updated: 0, failed: 1, rest: Some(Rest { after }) };
        }
    };
    let taken = &entries[..entries.len().min(COPIES_PER_INVOCATION)];
    let holders: Vec<UserId> = taken.iter().filter_map(|(key, _)| keys::user_of_policy_holder(key)).collect();
    let mut result = Spread::default();
    // A batch at a time, concurrently: a change reaches everyone in a few round trips' time.
    for batch in holders.chunks(SPREAD_BATCH) {
        let copies = futures_util::future::join_all(batch.iter().map(|user| copy_to(p, user, policy))).await;
        for copied in copies {
            match copied {
                Ok(()) => result.updated += 1,
                Err(_) => result.failed += 1,
            }
        }
    }
    if more || entries.len() > taken.len() {
        result.rest = Some(Rest { after: taken.last().map(|(key, _)| key.clone()) });
    }
    result
}

/// Lists the person as a holder, then copies the current policy into their object: called
/// before a grant is stored there ([`super::grants::create`]).
pub async fn adopt<P: Platform>(p: &P, user: &UserId) -> Result<(), StoreError> {
    let holder = Command::Insert {
        key: keys::policy_holder(user),
        value: Value::Bool(true),
        expires_at_ms: p.now_ms() + TTL_MS,
    };
    p.transition(keys::POLICY_OBJECT, holder).await?;
    let policy = load(p).await?;
    copy_to(p, user, &policy).await
}

/// Writes `policy` to the person's copy unless the copy is as new or newer: one request.
async fn copy_to<P: Platform>(p: &P, user: &UserId, policy: &Policy) -> Result<(), StoreError> {
    let put =
        Command::PutNewer { key: keys::POLICY_COPY.into(), value: encode(policy)?, expires_at_ms: p.now_ms() + TTL_MS };
    match p.transition(&keys::person_object(user), put).await? {
        Outcome::Stored | Outcome::Conflict { .. } => Ok(()),
        other => Err(StoreError(format!("unexpected answer to a policy copy: {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{block_on, FakePlatform};

    fn copy_of(p: &FakePlatform, user: &UserId) -> Option<Policy> {
        block_on(super::super::get::<Policy, _>(p, &keys::person_object(user), keys::POLICY_COPY)).unwrap()
    }

    #[test]
    fn copies_follow_every_change_whichever_comes_first() {
        let p = FakePlatform::default();
        let (early, late) = (UserId::new("ws", "early").unwrap(), UserId::new("ws", "late").unwrap());
        block_on(adopt(&p, &early)).unwrap();
        assert_eq!(copy_of(&p, &early).map(|c| c.version), Some(0), "the default, before any change");
        let spread = block_on(save(&p, &Policy { writes_off: true, ..Policy::default() })).unwrap();
        assert_eq!(spread, Spread { updated: 1, failed: 0, rest: None });
        assert!(copy_of(&p, &early).is_some_and(|c| c.writes_off && c.version == 1), "spread to an earlier holder");
        block_on(adopt(&p, &late)).unwrap();
        assert!(copy_of(&p, &late).is_some_and(|c| c.writes_off && c.version == 1), "adopted after the change");
        block_on(save(&p, &Policy { proxy_off: true, ..Policy::default() })).unwrap();
        for user in [&early, &late] {
            assert!(copy_of(&p, user).is_some_and(|c| c.proxy_off && !c.writes_off && c.version == 2));
        }
    }

    #[test]
    fn a_copy_is_never_replaced_by_an_older_version() {
        let p = FakePlatform::default();
        let user = UserId::new("ws", "m").unwrap();
        block_on(adopt(&p, &user)).unwrap();
        block_on(save(&p, &Policy { writes_off: true, ..Policy::default() })).unwrap();
        // An adoption that read version 0 before the change, landing after the spread.
        block_on(copy_to(&p, &user, &Policy::default())).unwrap();
        assert!(copy_of(&p, &user).is_some_and(|c| c.writes_off && c.version == 1));
    }

    #[test]
    fn a_spread_goes_on_where_an_invocations_share_ran_out_until_every_holder_has_it() {
        let p = FakePlatform::default();
        let people: Vec<UserId> =
            (0..crate::transitions::LIST_LIMIT + 3).map(|i| UserId::new("ws", &format!("m{i}")).unwrap()).collect();
        for user in &people {
            block_on(adopt(&p, user)).unwrap();
        }
        p.take_calls();
        let mut spread = block_on(save(&p, &Policy { writes_off: true, ..Policy::default() })).unwrap();
        assert!(p.take_calls().len() <= 40, "one invocation's share");
        let mut updated = spread.updated;
        let mut invocations = 1;
        while let Some(rest) = spread.rest.clone() {
            spread = block_on(spread_from(&p, &rest)).unwrap();
            assert!(p.take_calls().len() <= 40, "one invocation's share");
            updated += spread.updated;
            invocations += 1;
        }
        assert_eq!(updated, people.len() as u64);
        assert_eq!(invocations, people.len().div_ceil(COPIES_PER_INVOCATION));
        assert!(people.iter().all(|u| copy_of(&p, u).is_some_and(|c| c.writes_off)));
    }
}
