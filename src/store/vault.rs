//! The vault's records in Workers KV: one [`SealedConnection`] per person under
//! [`keys::connection_record`], tokens only as envelopes sealed by [`crate::attio::vault`]. This module
//! reads and writes the records; sealing and opening them is the vault's.

use serde::{Deserialize, Serialize};

use super::keys;
use crate::base::random::RandomError;
use crate::base::user::UserId;
use crate::platform::{KvStore, StoreError};

/// Whether Attio still accepts the connection's token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionStatus {
    Active,
    /// Attio no longer accepts the token: the person must connect again.
    Revoked,
}

/// The KV value, exactly (see docs/storage-schema.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedConnection {
    pub schema: u8,
    pub revision: u64,
    pub workspace_id: String,
    pub member_id: String,
    pub workspace_slug: String,
    pub workspace_name: String,
    pub scope: String,
    pub status: ConnectionStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_expires_at_ms: Option<u64>,
    pub connected_at_ms: u64,
    pub updated_at_ms: u64,
    /// Which connection this is: new when a person connects without an active connection (first
    /// time, after a disconnect or a revocation), kept when they connect again over an active one.
    /// Grants carry the epoch they were approved under and die with it. `0`: written before
    /// epochs existed (grants of that time carry `0` too).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub epoch: u64,
    /// The member's email, when the gateway learned it (to apply `ATTIO_ALLOWED_MEMBERS`).
    /// Absent in records written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_email: Option<String>,
    /// The member's name as Attio gave it at connect, for the administrators' pages. Absent when
    /// Attio would not say (no `user_management:read`) and in records written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_name: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl SealedConnection {
    /// The person the record belongs to, if its ids are valid.
    pub fn user(&self) -> Option<UserId> {
        UserId::new(&self.workspace_id, &self.member_id)
    }
}

/// Why a connection could not be read or stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultStoreError {
    /// The record does not decrypt or parse. Never deleted automatically: the person is asked
    /// to connect again, which overwrites it.
    #[error("the stored connection cannot be read")]
    Unreadable,
    #[error(transparent)]
    Storage(#[from] StoreError),
    #[error(transparent)]
    Random(#[from] RandomError),
}

/// What the re-seals of a pass over every connection record found ([`crate::attio::vault::reseal_one`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResealReport {
    pub scanned: u64,
    pub resealed: u64,
    /// Records that did not open (left untouched, never deleted).
    pub unreadable: u64,
    /// Records whose read or write failed transiently (try again later).
    pub failed: u64,
    /// When the sweep ran.
    #[serde(default)]
    pub at_ms: u64,
}

/// What the cron's membership checks (`crate::attio::connection::check_member`) found in a pass.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MembershipReport {
    pub checked: u64,
    /// Connections revoked because their member is suspended or gone.
    pub ended: u64,
    /// Connections that could not be checked (not usable now, or storage trouble).
    pub skipped: u64,
    /// Records of people who disconnected that were left in KV (deleted now).
    #[serde(default)]
    pub cleared: u64,
}

/// What the cron's last finished pass over everyone found (`crate::control::cron`): kept
/// (`vault-report:v1`, the re-seal's fields at the top level as the release before passes
/// wrote them) so `/health` and `/setup` can say when it ran, whom it covered and what failed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassReport {
    /// `at_ms`: when the pass finished.
    #[serde(flatten)]
    pub reseal: ResealReport,
    /// People the pass covered.
    #[serde(default)]
    pub people: u64,
    #[serde(default)]
    pub members: MembershipReport,
    #[serde(default)]
    pub started_at_ms: u64,
}

/// Keeps the last pass's report (best effort: a lost report only delays a warning a day).
pub async fn save_report(kv: &impl KvStore, report: &PassReport) {
    if let Ok(text) = serde_json::to_string(report) {
        let _ = kv.kv_put(keys::VAULT_REPORT, &text, None).await;
    }
}

/// The last pass's report, if there was one.
pub async fn last_report(kv: &impl KvStore) -> Option<PassReport> {
    kv.kv_get(keys::VAULT_REPORT).await.ok().flatten().and_then(|t| serde_json::from_str(&t).ok())
}

/// The person's record as stored.
pub async fn load(kv: &impl KvStore, user: &UserId) -> Result<Option<SealedConnection>, VaultStoreError> {
    let Some(text) = kv.kv_get(&keys::connection_record(user)).await? else { return Ok(None) };
    serde_json::from_str(&text).map(Some).map_err(|_| VaultStoreError::Unreadable)
}

/// Writes a record (it names its person), with its [`Summary`] as the key's metadata.
pub async fn save(kv: &impl KvStore, sealed: &SealedConnection) -> Result<(), VaultStoreError> {
    let user = sealed.user().ok_or(VaultStoreError::Unreadable)?;
    let text = serde_json::to_string(sealed).map_err(|_| VaultStoreError::Unreadable)?;
    let summary = Summary {
        workspace_name: sealed.workspace_name.clone(),
        workspace_slug: sealed.workspace_slug.clone(),
        member_email: sealed.member_email.clone(),
        member_name: sealed.member_name.clone(),
        status: sealed.status,
        connected_at_ms: sealed.connected_at_ms,
    };
    let summary = serde_json::to_string(&summary).map_err(|_| VaultStoreError::Unreadable)?;
    kv.kv_put_with_metadata(&keys::connection_record(&user), &text, None, super::as_metadata(&summary)).await?;
    Ok(())
}

/// What the administrators' page shows of a connection: no token, no ciphertext. Kept as the
/// record's KV metadata; its fields have the record's own names, so a record read in full
/// (one written before the metadata) parses as a summary too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub workspace_name: String,
    pub workspace_slug: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_name: Option<String>,
    pub status: ConnectionStatus,
    pub connected_at_ms: u64,
}

/// Records read in full by [`summaries`] when their metadata is missing, at most.
const SUMMARY_READS: usize = 300;

/// Everyone with a connection record, at most `max`, each with its summary (`None` for a record
/// written before summaries were kept, past the first `SUMMARY_READS` of those).
pub async fn summaries(kv: &impl KvStore, max: usize) -> Result<Vec<(UserId, Option<Summary>)>, StoreError> {
    Ok(super::listed(kv, keys::CONNECTION_RECORD_PREFIX, max, SUMMARY_READS)
        .await?
        .into_iter()
        .filter_map(|(key, text)| {
            let user = keys::user_of_connection_record(&key)?;
            Some((user, text.and_then(|t| serde_json::from_str(&t).ok())))
        })
        .collect())
}

/// Deletes the person's record.
pub async fn delete(kv: &impl KvStore, user: &UserId) -> Result<(), StoreError> {
    kv.kv_delete(&keys::connection_record(user)).await
}

/// One page of the people who have a record; `None` for a key that names no valid person.
#[derive(Debug)]
pub struct Page {
    pub users: Vec<Option<UserId>>,
    pub cursor: Option<String>,
}

/// Lists the records, a page at a time.
pub async fn list(kv: &impl KvStore, cursor: Option<&str>) -> Result<Page, StoreError> {
    let page = kv.kv_list(keys::CONNECTION_RECORD_PREFIX, cursor).await?;
    let users = page.keys.iter().map(|k| keys::user_of_connection_record(k)).collect();
    Ok(Page { users, cursor: page.cursor })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{block_on, FakePlatform};

    fn sealed(member: &str) -> SealedConnection {
        SealedConnection {
            schema: 1,
            revision: 1,
            workspace_id: "ws".into(),
            member_id: member.into(),
            workspace_slug: "acme".into(),
            workspace_name: "Acme".into(),
            scope: "record:read".into(),
            status: ConnectionStatus::Active,
            access_token: Some("sealed-bytes".into()),
            refresh_token: None,
            access_expires_at_ms: None,
            connected_at_ms: 7,
            updated_at_ms: 7,
            epoch: 1,
            member_email: Some(format!("{member}@acme.example")),
            member_name: None,
        }
    }

    #[test]
    fn summaries_come_from_the_listing_and_records_from_before_are_read() {
        let p = FakePlatform::default();
        block_on(save(&p, &sealed("ada"))).unwrap();
        // A record written before summaries were kept: no metadata.
        let old = sealed("bob");
        p.kv_insert_raw(&keys::connection_record(&old.user().unwrap()), &serde_json::to_string(&old).unwrap());
        p.take_calls();
        let all = block_on(summaries(&p, 10)).unwrap();
        let emails: Vec<_> = all.iter().map(|(_, s)| s.as_ref().and_then(|s| s.member_email.clone())).collect();
        assert_eq!(emails, [Some("ada@acme.example".to_string()), Some("bob@acme.example".to_string())]);
        let gets = p.take_calls().into_iter().filter(|c| c.starts_with("kv get")).count();
        assert_eq!(gets, 1, "only the record without a summary is read");
        assert!(!all.iter().any(|(_, s)| format!("{s:?}").contains("sealed-bytes")), "no token in a summary");
    }
}
