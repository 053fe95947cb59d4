//! MCP clients as the authorization server knows them: registrations ([`client`], RFC 7591),
//! ids that carry them ([`sealed_client`]), metadata documents ([`cimd`]), public keys
//! ([`jwk`], RFC 7517) and `private_key_jwt` assertions ([`assertion`], RFC 7523).
//! May use the rest of `oauth`, `base` and `crypto`.

pub mod assertion;
pub mod cimd;
pub mod client;
pub mod jwk;
pub mod sealed_client;
