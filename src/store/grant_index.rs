//! Which apps a person has approved: one KV entry per grant, under the person, so the account
//! page can list them and revoke one. The grant itself (and every decision about its tokens)
//! stays in its Durable Object; this index is only for display and for finding grants by person,
//! so KV's eventual consistency costs at most a late-appearing or late-vanishing row.

use serde::{Deserialize, Serialize};

use super::keys;
use crate::platform::{KvStore, StoreError};
use crate::user::UserId;

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

/// Records a new grant; it expires from the index with the grant.
pub async fn record<P: KvStore>(p: &P, user: &UserId, entry: &Entry, now_ms: u64) -> Result<(), StoreError> {
    let text = serde_json::to_string(entry).map_err(|e| StoreError(e.to_string()))?;
    // KV TTLs must be at least 60 s.
    let ttl = (entry.expires_at_ms.saturating_sub(now_ms) / 1000).max(60);
    p.kv_put(&keys::grant_index(user, &entry.grant_id), &text, Some(ttl)).await
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
    let prefix = keys::grant_index_prefix(user);
    let mut entries = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = p.kv_list(&prefix, cursor.as_deref()).await?;
        for k in page.keys {
            if let Some(e) = p.kv_get(&k).await?.and_then(|t| serde_json::from_str::<Entry>(&t).ok()) {
                if e.expires_at_ms > now_ms {
                    entries.push(e);
                }
            }
        }
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    entries.sort_by_key(|e| std::cmp::Reverse(e.created_at_ms));
    Ok(entries)
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
}
