//! Every name under which the gateway stores something: Workers KV keys, `Transitions` Durable
//! Object names (one object per one-time value, grant or connection) and the record keys inside
//! them. Values we issue appear only as keyed hashes (`SIGNING_KEY`-derived HMAC), never as
//! themselves. `docs/storage-schema.md` lists the same names with their records and lifetimes.
//!
//! The KV key formats are part of the stored state: changing one strands every record written
//! under the old one (and the vault's envelopes name the connection key in their associated
//! data), so they only ever gain a new version beside the old.

use crate::base::secret::{AuthorizationCode, UpstreamState};
use crate::base::user::UserId;
use crate::crypto::keys::SigningKeys;
use crate::oauth::grants::grant::{self, GrantHome};

// ---------------------------------------------------------------------------------------------
// Workers KV

/// Every Attio connection record's key starts with this.
pub const CONNECTION_RECORD_PREFIX: &str = "attio-conn:v1:";

/// `attio-conn:v1:<workspace>:<member>`: a person's sealed Attio connection.
pub fn connection_record(user: &UserId) -> String {
    format!("{CONNECTION_RECORD_PREFIX}{}:{}", user.workspace_id, user.member_id)
}

/// The person a connection record's key names.
pub fn user_of_connection_record(key: &str) -> Option<UserId> {
    let (ws, member) = key.strip_prefix(CONNECTION_RECORD_PREFIX)?.split_once(':')?;
    UserId::new(ws, member)
}

/// `vault-report:v1`: what the last sweep of the vault found.
pub const VAULT_REPORT: &str = "vault-report:v1";

/// `sweep:v1`: how far the cron is through its daily pass over everyone.
pub const SWEEP_PROGRESS: &str = "sweep:v1";

/// `client:v1:<client id>`: a dynamically registered client.
pub fn client_record(client_id: &str) -> String {
    format!("client:v1:{client_id}")
}

/// `client:v2:<SHA-256(client id)>`: the copy of a sealed client kept past the retirement of
/// the key that made its id. Keyed by a plain hash (the id is no secret, and sealed ids run to
/// 512 bytes), so the key outlives every rotation.
pub fn sealed_client_copy(client_id: &str) -> String {
    format!("client:v2:{}", client_id_digest(client_id))
}

/// SHA-256 of a client id, in hex: how keys and listings name a client whose id is too long.
pub fn client_id_digest(client_id: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(client_id.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The start of every grant index entry of everyone.
pub const GRANT_INDEX_PREFIX: &str = "grant-index:v1:";

/// `grant-index:v1:<workspace>:<member>:`: the start of every index entry of a person's grants.
pub fn grant_index_prefix(user: &UserId) -> String {
    format!("{GRANT_INDEX_PREFIX}{}:{}:", user.workspace_id, user.member_id)
}

/// The person a grant index key belongs to.
pub fn user_of_grant_index(key: &str) -> Option<UserId> {
    let mut parts = key.strip_prefix(GRANT_INDEX_PREFIX)?.split(':');
    UserId::new(parts.next()?, parts.next()?)
}

/// `grant-index:v1:<workspace>:<member>:<grant id>`.
pub fn grant_index(user: &UserId, grant_id: &str) -> String {
    format!("{}{grant_id}", grant_index_prefix(user))
}

/// The start of every audit entry of everyone.
pub const AUDIT_PREFIX: &str = "audit:v1:";

/// The person an audit entry key belongs to.
pub fn user_of_audit_entry(key: &str) -> Option<UserId> {
    let mut parts = key.strip_prefix(AUDIT_PREFIX)?.split(':');
    UserId::new(parts.next()?, parts.next()?)
}

/// The start of every entry of the administrators' own log in KV, as releases before it moved
/// into its object wrote them (`admin-log:v1:<u64::MAX - at, 20 digits>:<random hex>`).
pub const ADMIN_LOG_PREFIX: &str = "admin-log:v1:";

/// The Durable Object counting failed owner-password sign-ins, an entry per hour.
pub const OWNER_GATE_OBJECT: &str = "owner-gate:v1";

/// The Durable Object holding the administrators' log, in chunks.
pub const ADMIN_LOG_OBJECT: &str = "admin-log:v2";

/// The start of every chunk of the administrators' log in its object.
pub const ADMIN_LOG_CHUNK_PREFIX: &str = "log:";

/// `log:<u64::MAX - at, 20 digits>:<random hex>`: a chunk of the administrators' log begun at
/// `at_ms`, newest first.
pub fn admin_log_chunk(at_ms: u64, random_hex: &str) -> String {
    format!("{ADMIN_LOG_CHUNK_PREFIX}{:020}:{random_hex}", u64::MAX - at_ms)
}

/// `audit:v1:<workspace>:<member>:`: the start of every audit entry of a person.
pub fn audit_prefix(user: &UserId) -> String {
    format!("audit:v1:{}:{}:", user.workspace_id, user.member_id)
}

/// `audit:v1:<workspace>:<member>:<u64::MAX - at, 20 digits>:<random hex>`: keys sort newest
/// first, so a prefix listing returns a person's entries in that order.
pub fn audit_entry(user: &UserId, at_ms: u64, random_hex: &str) -> String {
    format!("{}{:020}:{random_hex}", audit_prefix(user), u64::MAX - at_ms)
}

// ---------------------------------------------------------------------------------------------
// Durable Objects (`Transitions`) and the records inside them

/// The Durable Object holding the deployer's policy, and its record.
pub const POLICY_OBJECT: &str = "policy:v1";
pub const POLICY: &str = "policy";

/// The record key of a grant in its object.
pub const GRANT: &str = "grant";
/// An authorization request waiting on the consent page.
pub const AUTHZ_REQUEST: &str = "request";
/// An unredeemed authorization code.
pub const CODE: &str = "code";
/// What a redeemed code issued (so a replay can revoke it).
pub const REDEEMED: &str = "redeemed";
/// A connect flow waiting for Attio's callback.
pub const PENDING: &str = "pending";
/// The newest Attio connection record, beside the KV copy.
pub const LATEST: &str = "latest";
/// The revision at which the person disconnected (so a stale copy is never written back).
pub const GONE: &str = "gone";
/// Who may refresh the Attio token right now.
pub const REFRESH_LEASE: &str = "refresh-lease";
/// A spent client-assertion id.
pub const JTI: &str = "jti";
/// A sign-in `state` whose callback completed.
pub const SPENT: &str = "spent";

/// `grant:<grant id>`: the object of a grant made before grants moved into their person's
/// object. The grant id is random and public (it is in our tokens).
fn grant(grant_id: &str) -> String {
    format!("grant:{grant_id}")
}

/// `authz:<HMAC(request id)>`.
pub fn authz_request(keys: &SigningKeys, request_id: &str) -> String {
    format!("authz:{}", keys.token_hash(request_id))
}

/// [`authz_request`] under every signing key, newest first: where a request stored before a
/// rotation of `SIGNING_KEY` is found.
pub fn authz_request_names(keys: &SigningKeys, request_id: &str) -> Vec<String> {
    keys.token_hashes(request_id).into_iter().map(|h| format!("authz:{h}")).collect()
}

/// `code:<HMAC(code)>`.
pub fn code(keys: &SigningKeys, code: &AuthorizationCode) -> String {
    format!("code:{}", keys.token_hash(code.expose_secret()))
}

/// [`code`] under every signing key, newest first.
pub fn code_names(keys: &SigningKeys, code: &AuthorizationCode) -> Vec<String> {
    keys.token_hashes(code.expose_secret()).into_iter().map(|h| format!("code:{h}")).collect()
}

/// `connect-state:<HMAC(state)>`.
pub fn connect_state(keys: &SigningKeys, state: &UpstreamState) -> String {
    format!("connect-state:{}", keys.token_hash(state.expose_secret()))
}

/// [`connect_state`] under every signing key, newest first.
pub fn connect_state_names(keys: &SigningKeys, state: &UpstreamState) -> Vec<String> {
    keys.token_hashes(state.expose_secret()).into_iter().map(|h| format!("connect-state:{h}")).collect()
}

/// `connection:<KV key of the connection>`: the person's object. It holds their newest
/// connection (`latest`), the refresh lease, the disconnect marker (`gone`), their grants
/// (`grant:<random part of the id>`) and a copy of the deployer's policy (`policy`): everything
/// authenticating one of their tokens needs, so that is one request (the name predates the
/// grants moving in, and stays: it is stored state).
pub fn person_object(user: &UserId) -> String {
    format!("connection:{}", connection_record(user))
}

/// The object and the record key of the grant `grant_id`: `grant:<random>` in its person's
/// object, or (a grant made before grants moved there) `grant` in `grant:<id>`. `None` for an
/// id of neither form.
pub fn grant_record(grant_id: &str) -> Option<(String, String)> {
    Some(match grant::home_of(grant_id)? {
        GrantHome::Person { user, random } => (person_object(&user), format!("{PERSON_GRANT_PREFIX}{random}")),
        GrantHome::Own => (grant(grant_id), GRANT.to_string()),
    })
}

/// The start of every grant's record key in its person's object (`grant:<random>`).
pub const PERSON_GRANT_PREFIX: &str = "grant:";

/// The start of every audit record in a person's object.
pub const PERSON_AUDIT_PREFIX: &str = "audit:";

/// `audit:<u64::MAX - at, 20 digits>:<random hex>` in the person's object, a chunk of the log
/// begun at `at_ms`: keys sort newest first, so a listing returns the person's records in
/// about that order.
pub fn person_audit_entry(at_ms: u64, random_hex: &str) -> String {
    format!("{PERSON_AUDIT_PREFIX}{:020}:{random_hex}", u64::MAX - at_ms)
}

/// `day:<days since 1970-01-01, 6 digits>` in the person's object: a closed UTC day's usage
/// totals (see [`crate::transitions::usage`]), kept as long as the log's records.
pub const PERSON_DAYS_PREFIX: &str = "day:";

/// The copy of the deployer's policy in each person's object.
pub const POLICY_COPY: &str = "policy";

/// The start of the policy object's list of the people whose objects hold a copy.
pub const POLICY_HOLDER_PREFIX: &str = "holder:";

/// `holder:<workspace>:<member>`: a person whose object holds a copy of the policy.
pub fn policy_holder(user: &UserId) -> String {
    format!("{POLICY_HOLDER_PREFIX}{}:{}", user.workspace_id, user.member_id)
}

/// The person a [`policy_holder`] key names.
pub fn user_of_policy_holder(key: &str) -> Option<UserId> {
    let (ws, member) = key.strip_prefix(POLICY_HOLDER_PREFIX)?.split_once(':')?;
    UserId::new(ws, member)
}

/// `jti:<HMAC(client id "\n" jti)>` under every signing key, newest first (spent under the
/// newest, looked for under all).
pub fn jti_names(keys: &SigningKeys, client_id: &str, jti: &str) -> Vec<String> {
    keys.token_hashes(&format!("{client_id}\n{jti}")).into_iter().map(|h| format!("jti:{h}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_keys_round_trip_and_keep_their_format() {
        let u = UserId::new("14beef7a-99f7", "50cf242c").unwrap();
        assert_eq!(connection_record(&u), "attio-conn:v1:14beef7a-99f7:50cf242c");
        assert_eq!(user_of_connection_record(&connection_record(&u)), Some(u.clone()));
        assert_eq!(user_of_connection_record("attio-conn:v1:a:b/c"), None);
        assert_eq!(person_object(&u), "connection:attio-conn:v1:14beef7a-99f7:50cf242c");
        let new_id = format!("{}_14beef7a-99f7_50cf242c", "ab".repeat(16));
        assert_eq!(grant_record(&new_id), Some((person_object(&u), format!("grant:{}", "ab".repeat(16)))));
        let old_id = "cd".repeat(16);
        assert_eq!(grant_record(&old_id), Some((format!("grant:{old_id}"), "grant".to_string())));
        for bad in ["", "xyz", "ab_c_d", &format!("{}_a:b_c", "ab".repeat(16)), &format!("{new_id}_x")] {
            assert_eq!(grant_record(bad), None, "{bad}");
        }
        assert_eq!(user_of_policy_holder(&policy_holder(&u)), Some(u.clone()));
        assert_eq!(grant_index(&u, "g1"), "grant-index:v1:14beef7a-99f7:50cf242c:g1");
        assert_eq!(client_record("mcp_x"), "client:v1:mcp_x");
        assert_eq!(audit_entry(&u, u64::MAX - 5, "ab"), "audit:v1:14beef7a-99f7:50cf242c:00000000000000000005:ab");
    }
}
