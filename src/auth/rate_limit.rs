//! Rate limits on what anyone can reach without authentication, so nobody on the internet can
//! make a deployed gateway write storage (or fetch other servers) without bound: about a
//! thousand requests would otherwise use up the free plan's daily KV writes, after which
//! connecting fails and audit entries are lost (security checklist E.30: rate-limit open
//! registration; anything reachable without authentication is bounded).
//!
//! | Limit | Key | Default | Binding |
//! |---|---|---|---|
//! | dynamic client registration (`POST /register`) | client address | 20 / minute | `LIMIT_REGISTRATION` |
//! | starting a flow (`GET /authorize`, `GET /connect`) | client address | 60 / minute | `LIMIT_FLOWS` |
//! | failed client authentications or grants at `/token`, failed client authentications at `/revoke` | client id, and client address | 30 / minute each | `LIMIT_TOKEN_FAILURES` |
//! | work nothing local can settle first: fetching a client metadata document the isolate does not hold (`/token`, `/revoke`), looking up a token of the earlier, untagged format (`/mcp`, `/v2`, `/token`, `/revoke`) | client address | 30 / minute | `LIMIT_LOOKUPS` |
//!
//! A client address is an IPv4 address or an IPv6 /64 ([`by_address`]).
//!
//! They are the platform's Rate Limiting bindings (`[[ratelimits]]` in `wrangler.toml`, where a
//! deployer changes a number; the simulator in `wrangler dev` enforces them too), counted per
//! Cloudflare location, which is what a burst from one address meets. A refusal is `429` with
//! `Retry-After`. Only failures count at `/token`, so an app people use is never slowed down,
//! and someone sending bad credentials under a real app's id cannot lock that app out.
//! Without the bindings the limits are off, and `/health` and `/setup` say so.

use crate::base::http::Request;
use crate::config::{
    FLOWS_LIMIT_BINDING, LOOKUPS_LIMIT_BINDING, REGISTRATION_LIMIT_BINDING, TOKEN_FAILURES_LIMIT_BINDING,
};

/// One of the gateway's rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// `POST /register`, per client address.
    Registration,
    /// `GET /authorize` and `GET /connect`, per client address.
    Flows,
    /// Failed client authentications or grants at `/token`, per client id and per address.
    TokenFailures,
    /// Fetches of metadata documents and lookups of untagged tokens, per address, counted
    /// before the work.
    Lookups,
}

/// How long a refused caller should wait (the limits count per minute).
pub const RETRY_AFTER_SECS: u64 = 60;

impl Limit {
    /// The Rate Limiting binding that counts it.
    pub const fn binding(self) -> &'static str {
        match self {
            Limit::Registration => REGISTRATION_LIMIT_BINDING,
            Limit::Flows => FLOWS_LIMIT_BINDING,
            Limit::TokenFailures => TOKEN_FAILURES_LIMIT_BINDING,
            Limit::Lookups => LOOKUPS_LIMIT_BINDING,
        }
    }

    /// The shipped limit per minute (`wrangler.toml`); the test double enforces the same.
    pub const fn default_per_minute(self) -> u32 {
        match self {
            Limit::Registration => 20,
            Limit::Flows => 60,
            Limit::TokenFailures => 30,
            Limit::Lookups => 30,
        }
    }
}

/// The address the request came from: `CF-Connecting-IP`, which Cloudflare sets on every
/// request it delivers (a client cannot choose it there). `unknown` when absent, which then
/// shares one budget.
pub fn client_address(req: &Request) -> &str {
    req.headers().get("cf-connecting-ip").and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty()).unwrap_or("unknown")
}

/// The key of a per-address count: an IPv4 address, or an IPv6 address's /64 (one subscriber's
/// network: a client that has one would otherwise get 2^64 budgets).
pub fn by_address(req: &Request) -> String {
    let address = client_address(req);
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            // An IPv4 address written as IPv6 counts as itself.
            if let Some(v4) = v6.to_ipv4_mapped() {
                return format!("addr:{v4}");
            }
            let s = v6.segments();
            format!("addr:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        _ => format!("addr:{address}"),
    }
}

/// The key of a per-client count (client ids are at most 2,000 bytes; longer ones are cut, as
/// they name no client anyway).
pub fn by_client(client_id: &str) -> String {
    let end = client_id.char_indices().nth(512).map_or(client_id.len(), |(i, _)| i);
    format!("client:{}", &client_id[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_the_address_or_the_client() {
        let req = http::Request::get("/").header("cf-connecting-ip", "203.0.113.9").body(Vec::new()).unwrap();
        assert_eq!(by_address(&req), "addr:203.0.113.9");
        assert_eq!(by_address(&http::Request::get("/").body(Vec::new()).unwrap()), "addr:unknown");
        assert_eq!(by_client("mcp_x"), "client:mcp_x");
        // IPv6: every address of one /64 shares a budget; another /64 has its own.
        let v6 = |a: &str| by_address(&http::Request::get("/").header("cf-connecting-ip", a).body(Vec::new()).unwrap());
        assert_eq!(v6("2001:db8:1:2:aaaa::1"), "addr:2001:db8:1:2::/64");
        assert_eq!(v6("2001:0db8:0001:0002:ffff:ffff:ffff:ffff"), "addr:2001:db8:1:2::/64");
        assert_ne!(v6("2001:db8:1:3::1"), v6("2001:db8:1:2::1"));
        assert_eq!(v6("::ffff:203.0.113.9"), "addr:203.0.113.9");
        assert_eq!(by_client(&"é".repeat(3000)).chars().count(), "client:".len() + 512);
    }
}
