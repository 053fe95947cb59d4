//! The deployer's policy ([`crate::policy::Policy`]): one record, `policy` in the `policy:v1`
//! Durable Object, so a change is strongly consistent. No record: the default (nothing off).

use super::{get, keys, put};
use crate::platform::{Platform, StoreError};
use crate::policy::Policy;

/// Kept ten years past the last change: in effect, until changed.
const TTL_MS: u64 = 10 * 365 * 86_400_000;

pub async fn load<P: Platform>(p: &P) -> Result<Policy, StoreError> {
    Ok(get::<Policy, P>(p, keys::POLICY_OBJECT, keys::POLICY).await?.unwrap_or_default())
}

pub async fn save<P: Platform>(p: &P, policy: &Policy) -> Result<(), StoreError> {
    put(p, keys::POLICY_OBJECT, keys::POLICY, policy, p.now_ms() + TTL_MS).await
}
