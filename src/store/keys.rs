//! Every name under which the gateway stores something: `Transitions` Durable Object names
//! (one object per one-time value, grant or connection) and the record keys inside them.
//! Values we issue appear only as keyed hashes (`SIGNING_KEY`-derived HMAC), never as
//! themselves. `docs/storage-schema.md` lists the same names with their records and lifetimes.
//!
//! KV keys of the records that have a module of their own stay with it for now: the vault
//! (`attio-conn:v1:`, [`crate::vault::UserId::kv_key`]), clients (`client:v1:`,
//! [`crate::oauth::client::RegisteredClient::kv_key`]), metadata documents and key sets
//! (`cimd:v1:`, `jwks:v1:`, [`crate::clients`]), the audit log and the grant index.

use crate::crypto::keys::SigningKeys;

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
/// Who may refresh the Attio token right now.
pub const REFRESH_LEASE: &str = "refresh-lease";
/// A spent client-assertion id.
pub const JTI: &str = "jti";
/// A key-set fetch in the last minute.
pub const FETCH: &str = "fetch";

/// `grant:<grant id>`: the grant id is random and public (it is in our tokens).
pub fn grant(grant_id: &str) -> String {
    format!("grant:{grant_id}")
}

/// `authz:<HMAC(request id)>`.
pub fn authz_request(keys: &SigningKeys, request_id: &str) -> String {
    format!("authz:{}", keys.token_hash(request_id))
}

/// `code:<HMAC(code)>`.
pub fn code(keys: &SigningKeys, code: &str) -> String {
    format!("code:{}", keys.token_hash(code))
}

/// `connect-state:<HMAC(state)>`.
pub fn connect_state(keys: &SigningKeys, state: &str) -> String {
    format!("connect-state:{}", keys.token_hash(state))
}

/// `connection:<KV key of the connection>`.
pub fn connection(kv_key: &str) -> String {
    format!("connection:{kv_key}")
}

/// `jti:<HMAC(client id "\n" jti)>`.
pub fn jti(keys: &SigningKeys, client_id: &str, jti: &str) -> String {
    format!("jti:{}", keys.token_hash(&format!("{client_id}\n{jti}")))
}

/// `jwks-fetch:<HMAC(client id)>`.
pub fn jwks_fetch(keys: &SigningKeys, client_id: &str) -> String {
    format!("jwks-fetch:{}", keys.token_hash(client_id))
}
