//! Who is calling: bearer tokens at `/mcp` and the proxy ([`access`]), MCP clients at the token
//! endpoint ([`client_auth`], [`clients`]), people's browsers ([`session`]), Cloudflare Access
//! ([`cf_access`]), the owner gate ([`owner`]) and the limits on anonymous traffic ([`rate_limit`]).
//! May use `base`, `config`, `crypto`, `platform`, `store`, `oauth`, `attio` and `control`'s policy;
//! never `routes`, `pages` beyond their error pages, or the edge.

pub mod access;
pub mod cf_access;
pub mod client_auth;
pub mod clients;
pub mod owner;
pub mod rate_limit;
pub mod session;
