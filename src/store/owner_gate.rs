//! Failed owner-password sign-ins (`POST /admin/sign-in`), counted across every Cloudflare
//! location: the rate-limit binding counts per location, so a guesser spread over many
//! locations would otherwise get each one's budget. After [`LOCKOUT_AFTER`] failures in a UTC
//! hour, sign-in is refused until the hour ends (`/admin` shows the count). Kept in the
//! `owner-gate:v1` Durable Object, one entry per hour: a failure writes one row until the
//! lock-out and none after it, so guessing cannot spend the storage budget either.

use super::keys;
use crate::platform::{Platform, StoreError};
use crate::transitions::{Command, Outcome};

/// Failures in an hour after which sign-in is refused for the rest of it.
pub const LOCKOUT_AFTER: u64 = 20;

const HOUR_MS: u64 = 3_600_000;

fn hour_key(now_ms: u64) -> String {
    format!("failures:{}", now_ms / HOUR_MS)
}

/// Failed sign-ins so far this hour.
pub async fn failures<P: Platform>(p: &P) -> Result<u64, StoreError> {
    let get = Command::Get { key: hour_key(p.now_ms()) };
    Ok(match p.transition(keys::OWNER_GATE_OBJECT, get).await? {
        Outcome::Found { value } => value.as_u64().unwrap_or(0),
        _ => 0,
    })
}

/// Counts one more failure (`seen`: the count read before), unless the hour is already locked.
pub async fn record_failure<P: Platform>(p: &P, mut seen: u64) -> Result<(), StoreError> {
    let now = p.now_ms();
    for _ in 0..3 {
        if seen >= LOCKOUT_AFTER {
            return Ok(());
        }
        let cas = Command::Cas {
            key: hour_key(now),
            expected: (seen > 0).then(|| seen.into()),
            value: (seen + 1).into(),
            expires_at_ms: (now / HOUR_MS + 2) * HOUR_MS,
        };
        match p.transition(keys::OWNER_GATE_OBJECT, cas).await? {
            Outcome::Stored => return Ok(()),
            Outcome::Conflict { current } => seen = current.and_then(|v| v.as_u64()).unwrap_or(0),
            other => return Err(StoreError(format!("unexpected answer to a count: {other:?}"))),
        }
    }
    Ok(())
}
