//! The vault: each user's Attio connection, stored in Workers KV with its tokens sealed.
//!
//! A "user" is an Attio workspace member ([`UserId`]), as `/v2/self` reported when they
//! connected. Their record ([`SealedConnection`], the exact KV value) holds the identity in
//! clear and the Attio access and refresh tokens only as vault envelopes
//! ([`crate::crypto::envelope`]). Each envelope's associated data names the KV key, the record
//! revision and the field, so a ciphertext copied to another record, another field, or an older
//! revision does not decrypt.
//!
//! Reading a record sealed under an older vault key re-seals it under the newest one (lazy
//! rotation); the cron does the same for every record ([`reseal_one`]), so an old key can be
//! retired.

use crate::base::random::Random;
use crate::base::secret::{AttioAccessToken, AttioRefreshToken};
use crate::base::user::UserId;
use crate::crypto::envelope::{Vault, VaultError};
use crate::platform::KvStore;
use crate::platform::Platform;
use crate::store::connections;
use crate::store::keys;
use crate::store::vault as stored;
pub use crate::store::vault::{ConnectionStatus, SealedConnection, VaultStoreError};

/// The schema version of [`SealedConnection`] (part of every envelope's associated data).
const SCHEMA: u8 = 1;

/// A connection with its tokens in the clear (in memory only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub user: UserId,
    pub workspace_slug: String,
    pub workspace_name: String,
    /// Space-separated scopes Attio granted.
    pub scope: String,
    pub status: ConnectionStatus,
    /// `None` once revoked.
    pub tokens: Option<Tokens>,
    /// When the access token expires (expiring-token style only).
    pub access_expires_at_ms: Option<u64>,
    pub connected_at_ms: u64,
    pub updated_at_ms: u64,
    /// Grows with every write; part of the envelopes' associated data.
    pub revision: u64,
    /// Which connection this is (see [`SealedConnection::epoch`]).
    pub epoch: u64,
    /// The member's email address, when known (see [`SealedConnection::member_email`]).
    pub member_email: Option<String>,
    /// The member's name, when Attio told it at connect (for the administrators' pages).
    pub member_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access: AttioAccessToken,
    pub refresh: Option<AttioRefreshToken>,
}

/// Associated data for one sealed field.
fn aad(user: &UserId, revision: u64, field: &str) -> Vec<u8> {
    format!("attio-gateway/connection/v{SCHEMA}|{}|{revision}|{field}", keys::connection_record(user)).into_bytes()
}

impl Connection {
    /// Seals the tokens for storage.
    pub fn seal(&self, vault: &Vault, random: &impl Random) -> Result<SealedConnection, VaultStoreError> {
        let seal = |field: &str, value: &str| -> Result<String, VaultStoreError> {
            vault.seal(&aad(&self.user, self.revision, field), value.as_bytes(), random).map_err(|e| match e {
                VaultError::Random(r) => VaultStoreError::Random(r),
                _ => VaultStoreError::Unreadable,
            })
        };
        let (access_token, refresh_token) = match &self.tokens {
            Some(t) => (
                Some(seal("access_token", t.access.expose_secret())?),
                t.refresh.as_ref().map(|r| seal("refresh_token", r.expose_secret())).transpose()?,
            ),
            None => (None, None),
        };
        Ok(SealedConnection {
            schema: SCHEMA,
            revision: self.revision,
            workspace_id: self.user.workspace_id.clone(),
            member_id: self.user.member_id.clone(),
            workspace_slug: self.workspace_slug.clone(),
            workspace_name: self.workspace_name.clone(),
            scope: self.scope.clone(),
            status: self.status,
            access_token,
            refresh_token,
            access_expires_at_ms: self.access_expires_at_ms,
            connected_at_ms: self.connected_at_ms,
            updated_at_ms: self.updated_at_ms,
            epoch: self.epoch,
            member_email: self.member_email.clone(),
            member_name: self.member_name.clone(),
        })
    }
}

/// A record opened from storage.
#[derive(Debug)]
pub struct Opened {
    pub connection: Connection,
    /// Some field was sealed under an older vault key.
    pub stale_key: bool,
}

impl SealedConnection {
    /// Opens the tokens. Fails as a whole if any field does not decrypt.
    pub fn open(&self, vault: &Vault) -> Result<Opened, VaultStoreError> {
        if self.schema != SCHEMA {
            return Err(VaultStoreError::Unreadable);
        }
        let user = self.user().ok_or(VaultStoreError::Unreadable)?;
        let mut stale = false;
        let mut open = |field: &str, envelope: &str| -> Result<String, VaultStoreError> {
            let opened =
                vault.open(&aad(&user, self.revision, field), envelope).map_err(|_| VaultStoreError::Unreadable)?;
            stale |= opened.stale_key;
            String::from_utf8(opened.plaintext).map_err(|_| VaultStoreError::Unreadable)
        };
        let tokens = match (&self.access_token, &self.refresh_token) {
            (Some(a), r) => Some(Tokens {
                access: AttioAccessToken::new(open("access_token", a)?),
                refresh: r.as_deref().map(|r| open("refresh_token", r)).transpose()?.map(AttioRefreshToken::new),
            }),
            (None, Some(_)) => return Err(VaultStoreError::Unreadable),
            (None, None) => None,
        };
        if self.status == ConnectionStatus::Active && tokens.is_none() {
            return Err(VaultStoreError::Unreadable);
        }
        let connection = Connection {
            user,
            workspace_slug: self.workspace_slug.clone(),
            workspace_name: self.workspace_name.clone(),
            scope: self.scope.clone(),
            status: self.status,
            tokens,
            access_expires_at_ms: self.access_expires_at_ms,
            connected_at_ms: self.connected_at_ms,
            updated_at_ms: self.updated_at_ms,
            revision: self.revision,
            epoch: self.epoch,
            member_email: self.member_email.clone(),
            member_name: self.member_name.clone(),
        };
        Ok(Opened { connection, stale_key: stale })
    }
}

/// Seals and writes a connection.
pub async fn save<P: KvStore + Random>(
    p: &P,
    vault: &Vault,
    connection: &Connection,
) -> Result<SealedConnection, VaultStoreError> {
    let sealed = connection.seal(vault, p)?;
    stored::save(p, &sealed).await?;
    Ok(sealed)
}

/// Loads and opens a user's connection; re-seals it under the newest key when it was sealed
/// under an older one ([`reseal`]). A failed re-seal is logged and does not fail the read.
pub async fn load<P: Platform>(p: &P, vault: &Vault, user: &UserId) -> Result<Option<Connection>, VaultStoreError> {
    Ok(load_sealed(p, vault, user).await?.map(|(_, connection)| connection))
}

/// [`load`], with the record as stored.
pub async fn load_sealed<P: Platform>(
    p: &P,
    vault: &Vault,
    user: &UserId,
) -> Result<Option<(SealedConnection, Connection)>, VaultStoreError> {
    let Some(sealed) = stored::load(p, user).await? else { return Ok(None) };
    let connection = open_copy(p, vault, &sealed).await?;
    Ok(Some((sealed, connection)))
}

/// Opens a sealed record (from KV, or the copy in the person's object), re-sealing it under the
/// newest key when it was sealed under an older one ([`reseal`]; a failure is logged).
pub async fn open_copy<P: Platform>(
    p: &P,
    vault: &Vault,
    sealed: &SealedConnection,
) -> Result<Connection, VaultStoreError> {
    let opened = sealed.open(vault).inspect_err(|_| p.log("vault.unreadable", "a connection record did not open"))?;
    if opened.stale_key {
        if let Err(e) = reseal(p, vault, sealed, &opened.connection).await {
            p.log("vault.reseal_failed", &e.to_string());
        }
    }
    Ok(opened.connection)
}

/// Writes `connection` (opened from `read`) back sealed under the newest key — only while `read`
/// is still the person's current revision. KV has no compare-and-swap and may serve a copy a
/// minute old, so the connection's object decides: nothing is written when it holds a newer
/// revision, or remembers a disconnect at or after this one (a stale copy must not bring a
/// deleted record back); otherwise its newest revision is swapped for the re-sealed one first,
/// so a writer racing this one makes the swap fail. `false`: left alone.
pub async fn reseal<P: Platform>(
    p: &P,
    vault: &Vault,
    read: &SealedConnection,
    connection: &Connection,
) -> Result<bool, VaultStoreError> {
    let user = &connection.user;
    let held = connections::held(p, user).await?;
    if connections::disconnected_since(held.gone, read.revision)
        || held.latest.as_ref().is_some_and(|l| l.revision != read.revision)
    {
        return Ok(false);
    }
    let resealed = connection.seal(vault, p)?;
    if !connections::swap(p, user, &held, &resealed).await? {
        return Ok(false);
    }
    connections::save_in_kv(p, &resealed).await?;
    Ok(true)
}

pub use crate::store::vault::ResealReport;

/// What `/health` and `/setup` say of the cron's daily pass over everyone (see `crate::control::cron`):
/// when it last finished, whom it covered and what failed, and the warnings it calls for.
pub async fn daily_check(p: &(impl KvStore + crate::platform::Clock)) -> (serde_json::Value, Vec<String>) {
    let Some(report) = stored::last_report(p).await else {
        return (serde_json::Value::Null, Vec::new());
    };
    let mut warnings = Vec::new();
    if report.reseal.unreadable > 0 {
        warnings.push(format!(
            "{} stored Attio connection(s) could not be opened with the configured VAULT_KEYS at the last daily \
             check (a key was probably removed too early). They are kept: put the old key back at the end of \
             VAULT_KEYS, or ask those people to connect again.",
            report.reseal.unreadable
        ));
    }
    // A pass finishes every day; two days without one means the cron is not running.
    if p.now_ms().saturating_sub(report.reseal.at_ms) > 2 * 86_400_000 {
        warnings.push(format!(
            "The daily check of every connection last finished at {}: is the cron trigger deployed?",
            crate::base::time::iso8601(report.reseal.at_ms)
        ));
    }
    let failed = report.reseal.failed + report.members.skipped;
    if failed > 0 {
        warnings.push(format!(
            "The last daily check could not check {failed} connection(s) (storage or Attio trouble); the next one tries again."
        ));
    }
    let summary = serde_json::json!({
        "finished_at": crate::base::time::iso8601(report.reseal.at_ms),
        "people": report.people,
        "members_checked": report.members.checked,
        "connections_ended": report.members.ended,
        "resealed": report.reseal.resealed,
        "unreadable": report.reseal.unreadable,
        "failed": failed,
    });
    (summary, warnings)
}

/// The cron's re-seal of one person's record (see `crate::control::cron`): sealed again with the newest
/// key when it was sealed under an older one; counted in `report`. Records that do not open are
/// left untouched and counted.
pub async fn reseal_one<P: Platform>(p: &P, vault: &Vault, user: &UserId, report: &mut ResealReport) {
    report.scanned += 1;
    match stored::load(p, user).await {
        Ok(Some(sealed)) => match sealed.open(vault) {
            Ok(opened) if opened.stale_key => match reseal(p, vault, &sealed, &opened.connection).await {
                Ok(true) => report.resealed += 1,
                // A newer revision (sealed under the newest key) or a disconnect won.
                Ok(false) => {}
                Err(_) => report.failed += 1,
            },
            Ok(_) => {}
            Err(_) => report.unreadable += 1,
        },
        Ok(None) => {}
        Err(VaultStoreError::Unreadable) => report.unreadable += 1,
        Err(_) => report.failed += 1,
    }
}

/// Re-seals every record at once (tests: production goes a batch per cron run, see
/// `crate::control::cron`).
#[cfg(test)]
pub async fn reseal_all<P: Platform>(p: &P, vault: &Vault) -> ResealReport {
    let mut report = ResealReport { at_ms: p.now_ms(), ..ResealReport::default() };
    let mut cursor: Option<String> = None;
    loop {
        let Ok(page) = stored::list(p, cursor.as_deref()).await else {
            report.failed += 1;
            return report;
        };
        for user in &page.users {
            match user {
                Some(user) => reseal_one(p, vault, user, &mut report).await,
                None => {
                    report.scanned += 1;
                    report.unreadable += 1;
                }
            }
        }
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => return report,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::secret::KeyMaterial;
    use crate::crypto::envelope::VaultKeys;
    use crate::testing::{block_on, FakePlatform};

    fn vault(keys: &[(&str, u8)]) -> Vault {
        Vault::new(&VaultKeys::from_entries(
            keys.iter().map(|(kid, b)| (kid.to_string(), KeyMaterial::new([*b; 32]))).collect(),
        ))
    }

    fn connection(member: &str) -> Connection {
        Connection {
            user: UserId::new("ws-1", member).unwrap(),
            workspace_slug: "acme".into(),
            workspace_name: "Acme".into(),
            scope: "record_permission:read".into(),
            status: ConnectionStatus::Active,
            tokens: Some(Tokens {
                access: AttioAccessToken::new("access-secret-1".into()),
                refresh: Some(AttioRefreshToken::new("refresh-secret-1".into())),
            }),
            access_expires_at_ms: Some(5_000),
            connected_at_ms: 1,
            updated_at_ms: 1,
            revision: 7,
            epoch: 3,
            member_email: None,
            member_name: None,
        }
    }

    #[test]
    fn sealed_record_holds_no_plaintext_token_and_round_trips() {
        let p = FakePlatform::default();
        let v = vault(&[("k1", 1)]);
        let c = connection("m1");
        let sealed = block_on(save(&p, &v, &c)).unwrap();
        let stored = p.kv_value(&keys::connection_record(&c.user)).unwrap();
        for secret in ["access-secret-1", "refresh-secret-1"] {
            assert!(!stored.contains(secret));
        }
        assert_eq!(sealed.open(&v).unwrap().connection, c);
        assert_eq!(block_on(load(&p, &v, &c.user)).unwrap(), Some(c));
    }

    #[test]
    fn swapped_moved_or_replayed_ciphertexts_do_not_open() {
        let p = FakePlatform::default();
        let v = vault(&[("k1", 1)]);
        let a = block_on(save(&p, &v, &connection("m1"))).unwrap();
        let b = connection("m2").seal(&v, &p).unwrap();
        // Another record's token moved into this one.
        let mut moved = a.clone();
        moved.access_token = b.access_token.clone();
        assert_eq!(moved.open(&v).unwrap_err(), VaultStoreError::Unreadable);
        // Access and refresh swapped within the record.
        let mut swapped = a.clone();
        std::mem::swap(&mut swapped.access_token, &mut swapped.refresh_token);
        assert_eq!(swapped.open(&v).unwrap_err(), VaultStoreError::Unreadable);
        // An older revision's ciphertext replayed under a newer revision number.
        let mut replayed = a.clone();
        replayed.revision += 1;
        assert_eq!(replayed.open(&v).unwrap_err(), VaultStoreError::Unreadable);
    }

    #[test]
    fn reading_under_an_old_key_reseals_lazily() {
        let p = FakePlatform::default();
        let c = connection("m1");
        block_on(save(&p, &vault(&[("k1", 1)]), &c)).unwrap();
        let rotated = vault(&[("k2", 2), ("k1", 1)]);
        assert_eq!(block_on(load(&p, &rotated, &c.user)).unwrap(), Some(c.clone()));
        let stored = p.kv_value(&keys::connection_record(&c.user)).unwrap();
        assert!(stored.contains("\"v1.k2.") && !stored.contains("\"v1.k1."), "{stored}");
        assert_eq!(block_on(load(&p, &vault(&[("k2", 2)]), &c.user)).unwrap(), Some(c));
    }

    /// A record in KV sealed under `k1`, and the vault after `k2` was added in front of it.
    fn sealed_under_an_old_key() -> (FakePlatform, Vault, Connection, SealedConnection) {
        let p = FakePlatform::default();
        let c = connection("m1");
        let stale = c.seal(&vault(&[("k1", 1)]), &p).unwrap();
        block_on(stored::save(&p, &stale)).unwrap();
        (p, vault(&[("k2", 2), ("k1", 1)]), c, stale)
    }

    /// Security review finding 10: a stale KV copy (KV serves one for up to a minute) must not
    /// be written back over a newer revision, nor bring back a record deleted by a disconnect.
    #[test]
    fn a_stale_copy_is_never_resealed_over_a_newer_revision_or_a_disconnect() {
        let (p, rotated, c, stale) = sealed_under_an_old_key();
        let still_stale = || p.kv_value(&keys::connection_record(&c.user)).unwrap().contains("\"v1.k1.");

        // A refresh published revision 8 in the connection's object; KV still served 7.
        let newer = Connection { revision: 8, ..c.clone() }.seal(&rotated, &p).unwrap();
        block_on(connections::publish_latest(&p, &c.user, &newer)).unwrap();
        assert!(!block_on(reseal(&p, &rotated, &stale, &c)).unwrap());
        assert_eq!(block_on(load(&p, &rotated, &c.user)).unwrap(), Some(c.clone()), "the read itself works");
        assert!(still_stale(), "the older revision was written back over the newer one");
        assert_eq!(block_on(connections::latest(&p, &c.user)).unwrap().unwrap().revision, 8);

        // The person disconnected after the copy was read.
        block_on(connections::forget_latest(&p, &c.user)).unwrap();
        block_on(connections::mark_gone(&p, &c.user, 8)).unwrap();
        assert!(!block_on(reseal(&p, &rotated, &stale, &c)).unwrap());
        assert!(still_stale(), "a disconnected record was brought back");
        let report = block_on(reseal_all(&p, &rotated));
        assert_eq!((report.resealed, report.failed), (0, 0));
        assert!(still_stale());
    }

    /// KV has no compare-and-swap: a disconnect that lands between a re-seal's swap in the
    /// object and its KV write finds the record still there, deletes it, and the write then
    /// brings it back. The re-seal looks at the object after writing and takes it back.
    #[test]
    fn a_disconnect_between_a_reseals_swap_and_its_write_wins() {
        let (p, rotated, c, stale) = sealed_under_an_old_key();
        let user = c.user.clone();
        p.before(&format!("kv put {}", keys::connection_record(&c.user)), move |p| {
            block_on(connections::mark_gone(p, &user, 8)).unwrap();
            block_on(connections::forget_latest(p, &user)).unwrap();
            block_on(stored::delete(p, &user)).unwrap();
        });
        block_on(reseal(&p, &rotated, &stale, &c)).unwrap();
        assert_eq!(p.kv_value(&keys::connection_record(&c.user)), None, "the disconnected record stays deleted");
    }

    #[test]
    fn reseal_all_moves_every_record_to_the_newest_key_and_loses_nothing() {
        let p = FakePlatform::default();
        let old = vault(&[("k1", 1)]);
        let people: Vec<Connection> = (0..5).map(|i| connection(&format!("m{i}"))).collect();
        for c in &people {
            block_on(save(&p, &old, c)).unwrap();
        }
        p.kv_insert_raw(&format!("{}ws-1:garbage", keys::CONNECTION_RECORD_PREFIX), "not json");
        let rotated = vault(&[("k2", 2), ("k1", 1)]);
        let report = block_on(reseal_all(&p, &rotated));
        assert_eq!(
            report,
            ResealReport {
                scanned: 6,
                resealed: 5,
                unreadable: 1,
                failed: 0,
                at_ms: crate::platform::Clock::now_ms(&p)
            }
        );
        let retired = vault(&[("k2", 2)]);
        for c in &people {
            assert_eq!(block_on(load(&p, &retired, &c.user)).unwrap().as_ref(), Some(c));
        }
        assert!(
            p.kv_value(&format!("{}ws-1:garbage", keys::CONNECTION_RECORD_PREFIX)).is_some(),
            "unreadable record kept"
        );
    }

    #[test]
    fn unreadable_records_are_errors_not_deletions() {
        let p = FakePlatform::default();
        let c = connection("m1");
        block_on(save(&p, &vault(&[("k1", 1)]), &c)).unwrap();
        let other = vault(&[("k9", 9)]);
        assert_eq!(block_on(load(&p, &other, &c.user)).unwrap_err(), VaultStoreError::Unreadable);
        assert!(p.kv_value(&keys::connection_record(&c.user)).is_some());
        assert!(p.logged("vault.unreadable"));
    }
}
