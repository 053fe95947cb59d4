//! The gateway as an OAuth 2.1 authorization server for MCP clients: one file per RFC, what
//! concerns clients in [`clients`], what an approval becomes in [`grants`]. May use `base`,
//! `config`, `crypto`, `platform` and `store`; never `routes` or the edge.
//!
//! | File | Implements |
//! |---|---|
//! | [`grants::approval`] | an authorization request once checked (RFC 6749 §4.1.1, RFC 7636, RFC 8707), kept until the consent decision |
//! | [`clients::assertion`] | RFC 7523 §2.2/§3 `private_key_jwt` client assertions: algorithm rules, claims, key choice |
//! | [`clients::jwk`] | RFC 7517 public key sets (RS256 and ES256 signing keys only) |
//! | [`bearer`] | RFC 6750 §2.1 bearer header, RFC 9728 §5.1 `WWW-Authenticate` challenge |
//! | [`error`] | RFC 6749 §5.2 error responses (`{"error","error_description"}`) |
//! | [`params`] | RFC 6749 §3.1 request parameters: no repeated names |
//! | [`pkce`] | RFC 7636 §4: S256 only, verifier and challenge syntax, constant-time check |
//! | [`redirect`] | redirect-URI rules: RFC 9700 §2.1 / OAuth 2.1 exact matching, RFC 8252 §7.3 loopback ports, §7.1 private-use schemes |
//! | [`metadata`] | RFC 8414 authorization-server metadata, RFC 9728 protected-resource metadata |
//! | [`clients::cimd`] | Client ID Metadata Documents: document validation, allowed auth methods |
//! | [`public_url`] | the SSRF policy for URLs from outside input (metadata documents, key sets) |
//! | [`clients::client`] | RFC 7591 dynamic client registration: validation and the stored record |
//! | [`grants::sealed_request`] | an authorization request (RFC 6749 §4.1.1) carried by the consent form under a tag: showing the page stores nothing |
//! | [`clients::sealed_client`] | RFC 7591 §3.2.1 client ids that carry their registration, tagged: registering stores nothing |
//! | [`grants::token_grants`] | the token endpoint's grant types (code, refresh, RFC 8693 exchange) and RFC 7009 revocation |
//! | [`grants::grant`] | codes, grants, access and refresh tokens (OAuth 2.1 §4.1.3, §4.3; RFC 9700 §4.14 rotation) |
//! | [`grants::tool_groups`] | RFC 6749 §3.3 scopes that limit a grant to some areas of Attio (records, notes, …) |

pub mod bearer;
pub mod clients;
pub mod error;
pub mod grants;
pub mod metadata;
pub mod params;
pub mod pkce;
pub mod public_url;
pub mod redirect;

pub use error::OAuthError;
