//! Which apps a person has approved: one KV entry per grant, under the person, so the account
//! page can list them and revoke one. The grant itself (and every decision about its tokens)
//! stays in its Durable Object; this index is only for display and for finding grants by person,
//! so KV's eventual consistency costs at most a late-appearing or late-vanishing row.

use serde::{Deserialize, Serialize};

use super::keys;
use crate::base::user::UserId;
use crate::platform::{KvStore, StoreError};

/// What the account page shows about a grant. No token, no hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub grant_id: String,
    pub client_id: String,
    pub client_name: String,
    /// The host of the redirect URI the app was approved with (where codes were sent).
    pub redirect_host: String,
    pub write: bool,
    /// `mcp` or `rest`.
    pub audience: String,
    pub created_at_ms: u64,
    pub expires_at_ms: u64,
}

/// How an index entry's KV metadata names the app: the client id itself when short, else
/// `sha256:` and its hash's first 128 bits in hex (sealed ids run to 512 bytes, and metadata holds
/// 1,024). Idempotent, so either form compares with [`client_key`] of the other.
pub fn client_key(client_id: &str) -> String {
    if client_id.len() <= 64 || client_id.starts_with("sha256:") {
        return client_id.to_string();
    }
    // The first 128 bits: 32 hex digits.
    format!("sha256:{}", &keys::client_id_digest(client_id)[..32])
}

/// Records a new grant; it expires from the index with the grant. The value names the app in
/// full; the metadata (what listings read) by [`client_key`].
pub async fn record<P: KvStore>(p: &P, user: &UserId, entry: &Entry, now_ms: u64) -> Result<(), StoreError> {
    let text = serde_json::to_string(entry).map_err(|e| StoreError(e.to_string()))?;
    let listed = Entry { client_id: client_key(&entry.client_id), ..entry.clone() };
    let metadata = serde_json::to_string(&listed).map_err(|e| StoreError(e.to_string()))?;
    // KV TTLs must be at least 60 s.
    let ttl = (entry.expires_at_ms.saturating_sub(now_ms) / 1000).max(60);
    p.kv_put_with_metadata(&keys::grant_index(user, &entry.grant_id), &text, Some(ttl), super::as_metadata(&metadata))
        .await
}

/// The person's grant with this id, if it is theirs.
pub async fn find<P: KvStore>(p: &P, user: &UserId, grant_id: &str) -> Result<Option<Entry>, StoreError> {
    if grant_id.is_empty() || !grant_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Ok(None);
    }
    Ok(p.kv_get(&keys::grant_index(user, grant_id)).await?.and_then(|t| serde_json::from_str(&t).ok()))
}

/// Every live grant of the person, newest first.
pub async fn list<P: KvStore>(p: &P, user: &UserId, now_ms: u64) -> Result<Vec<Entry>, StoreError> {
    let mut entries: Vec<Entry> =
        live(super::listed(p, &keys::grant_index_prefix(user), usize::MAX, usize::MAX).await?, now_ms)
            .map(|(_, e)| e)
            .collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.created_at_ms));
    Ok(entries)
}

/// The most index entries [`everyones`] lists, and reads by key (entries from before they
/// carried metadata).
const EVERYONE_SCAN: usize = 20_000;
const EVERYONE_READS: usize = 300;

/// Every live grant of everyone, with its person: for the administrators' page, in about one
/// KV request per thousand grants.
pub async fn everyones<P: KvStore>(p: &P, now_ms: u64) -> Result<Vec<(UserId, Entry)>, StoreError> {
    let listed = super::listed(p, keys::GRANT_INDEX_PREFIX, EVERYONE_SCAN, EVERYONE_READS).await?;
    Ok(live(listed, now_ms).filter_map(|(key, e)| Some((keys::user_of_grant_index(&key)?, e))).collect())
}

fn live(listed: Vec<(String, Option<String>)>, now_ms: u64) -> impl Iterator<Item = (String, Entry)> {
    listed.into_iter().filter_map(move |(key, text)| {
        let e = serde_json::from_str::<Entry>(&text?).ok()?;
        (e.expires_at_ms > now_ms).then_some((key, e))
    })
}

pub async fn remove<P: KvStore>(p: &P, user: &UserId, grant_id: &str) -> Result<(), StoreError> {
    p.kv_delete(&keys::grant_index(user, grant_id)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{block_on, FakePlatform};

    fn entry(id: &str, created: u64) -> Entry {
        Entry {
            grant_id: id.into(),
            client_id: "mcp_x".into(),
            client_name: "Claude".into(),
            redirect_host: "claude.ai".into(),
            write: false,
            audience: "mcp".into(),
            created_at_ms: created,
            expires_at_ms: created + 1000,
        }
    }

    #[test]
    fn lists_only_the_persons_live_grants_newest_first() {
        let p = FakePlatform::with_settings(Default::default());
        let (alice, bob) = (UserId::new("ws", "alice").unwrap(), UserId::new("ws", "bob").unwrap());
        block_on(record(&p, &alice, &entry("g1", 100), 100)).unwrap();
        block_on(record(&p, &alice, &entry("g2", 200), 200)).unwrap();
        block_on(record(&p, &bob, &entry("g3", 300), 300)).unwrap();
        let ids: Vec<String> = block_on(list(&p, &alice, 150)).unwrap().into_iter().map(|e| e.grant_id).collect();
        assert_eq!(ids, ["g2", "g1"]);
        // Expired ones are not shown; another person's grant cannot be found through this one.
        assert_eq!(block_on(list(&p, &alice, 1150)).unwrap().len(), 1);
        assert!(block_on(find(&p, &alice, "g3")).unwrap().is_none());
        assert!(block_on(find(&p, &alice, "../g3")).unwrap().is_none());
        block_on(remove(&p, &alice, "g2")).unwrap();
        assert!(block_on(find(&p, &alice, "g2")).unwrap().is_none());
    }

    #[test]
    fn a_long_client_id_is_hashed_in_the_metadata_and_kept_whole_in_the_value() {
        let p = FakePlatform::with_settings(Default::default());
        let alice = UserId::new("ws", "alice").unwrap();
        let sealed = format!("mcp2.{}.{}", "e".repeat(400), "A".repeat(43));
        block_on(record(&p, &alice, &Entry { client_id: sealed.clone(), ..entry("g1", 100) }, 100)).unwrap();
        let key = keys::grant_index(&alice, "g1");
        let metadata = p.kv_metadata_of(&key).unwrap();
        assert!(metadata.len() <= 1_024 && !metadata.contains(&sealed), "{metadata}");
        assert_eq!(client_key(&sealed).len(), "sha256:".len() + 32);
        let listed = block_on(list(&p, &alice, 150)).unwrap();
        assert_eq!(client_key(&listed[0].client_id), client_key(&sealed), "either form compares");
        assert_eq!(block_on(find(&p, &alice, "g1")).unwrap().unwrap().client_id, sealed);
        assert_eq!(client_key("mcp_short"), "mcp_short");
    }
}
