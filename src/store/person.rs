//! What authenticating a bearer token needs, read in as few requests as the storage layout
//! allows: for a grant kept in its person's object, one request to that object returns the
//! grant, the newest sealed connection, the disconnect marker and the policy copy together, and
//! stores the call's audit record when the token is the grant's ([`Command::ReadAndRecord`]).
//! A grant from before grants moved there is read from its own object, beside the policy's, and
//! its call's record is stored once the token checked out (`audit::Pending::store`).

use serde_json::Value;

use super::audit::Pending;
use super::connections::ConnectionCopy;
use super::grants::{self, Versioned};
use super::vault::SealedConnection;
use super::{decode, keys};
use crate::control::policy::Policy;
use crate::oauth::grants::grant::{self, GrantHome};
use crate::platform::{Platform, StoreError};
use crate::transitions::{Command, Outcome};

/// A grant with what was read beside it.
#[derive(Debug, Clone)]
pub struct ForAccess {
    pub grant: Option<Versioned>,
    pub connection: ConnectionCopy,
    /// `None` when the person's object holds no copy yet (or, for a grant in its own object, the
    /// policy's object did not answer): the caller reads the policy's own object.
    pub policy: Option<Policy>,
    /// The chunk of the person's log the call's record went to, if it was stored.
    pub recorded: Option<String>,
}

/// The grant `grant_id` and what its person's object holds beside it; with `record`, the call's
/// audit record and the presented token's hashes (under every signing key), the record is stored
/// in the same request if the token is one of the grant's.
pub async fn for_access<P: Platform>(
    p: &P,
    grant_id: &str,
    record: Option<(&Pending, Vec<String>)>,
) -> Result<ForAccess, StoreError> {
    let Some((object, grant_key)) = keys::grant_record(grant_id) else {
        return Ok(ForAccess { grant: None, connection: ConnectionCopy::NotRead, policy: None, recorded: None });
    };
    if grant::home_of(grant_id) == Some(GrantHome::Own) {
        let (grant, policy) = futures_util::future::join(grants::load(p, grant_id), super::policy::load(p)).await;
        let (grant, policy) = (grant?, policy.ok());
        return Ok(ForAccess { grant, connection: ConnectionCopy::NotRead, policy, recorded: None });
    }
    let keys = vec![grant_key, keys::LATEST.into(), keys::GONE.into(), keys::POLICY_COPY.into()];
    let read = match record {
        Some((pending, token_hashes)) => pending.with_read(keys, token_hashes)?,
        None => Command::Read { keys },
    };
    let Outcome::Values { values, recorded } = p.transition(&object, read).await? else {
        return Err(StoreError("unexpected answer to read".into()));
    };
    let mut values = values.into_iter();
    let mut next = || values.next().flatten();
    let (grant, latest, gone, policy) = (next(), next(), next(), next());
    let grant = grant.and_then(|v| grants::versioned(p, &object, v));
    let gone: Option<u64> = gone.and_then(|v| decode(p, &object, v));
    let latest: Option<SealedConnection> = latest.and_then(|v: Value| decode(p, &object, v));
    let connection = ConnectionCopy::of(latest, gone);
    Ok(ForAccess { grant, connection, policy: policy.and_then(|v| decode(p, &object, v)), recorded })
}
