//! # attio-gateway
//!
//! A self-hostable Cloudflare Worker between AI agents and the Attio CRM. It connects a person's
//! Attio workspace with OAuth, keeps their Attio token encrypted, acts as an OAuth 2.1
//! authorization server for MCP clients, and serves a remote MCP endpoint and a REST proxy.
//!
//! ## Layout: a pure core behind a thin edge
//!
//! ```text
//!   workerd ──► edge (wasm32 only: the one module that names `worker`)
//!                 │  converts web_sys::Request ⇄ http::Request<Vec<u8>>, reads Env,
//!                 │  implements the core's traits over Fetch / KV / Durable Objects
//!                 ▼
//!               app::handle(request, &platform) ──► routes::* ──► connection, vault, upstream,
//!                 (pure; runs on the host in tests)                 attio, crypto, config, …
//! ```
//!
//! Core modules know nothing of workers-rs; effects come in through small traits bundled as
//! [`platform::Platform`] (settings, outbound HTTP, KV, the Durable Object, clock, randomness,
//! log, signature verification), so `cargo test` on the host covers the behaviour, and a core
//! module that tried to import `worker` would not compile there.
//!
//! - [`app`]: the router: one `match` on method and path, each arm naming the handler in
//!   [`routes`] (one file per endpoint family: `authorize`, `token`, `oauth_server`, `connect`,
//!   `account`, `admin`, `mcp`, `proxy`, `setup`, `health`, `landing`, `diagnostics`).
//! - [`user`]: who a person is (workspace and member).
//! - [`admin`]: the deployer's control plane (who administers, everyone's audit log, exports);
//!   its pages are `routes/admin.rs`.
//! - [`context`]: the public origin; [`paths`]: the person-facing page paths; [`access`]: bearer
//!   authentication for protected routes; [`sign_in`]: starting the Attio sign-in; [`consent`]:
//!   finishing an approved authorization (code, redirect, remembered approval).
//! - [`cf_access`]: Cloudflare Access in front of the people's pages (`Cf-Access-Jwt-Assertion`).
//! - [`clients`]: finding a client (registered, or its metadata document) and its public keys;
//!   [`client_auth`]: authenticating it at the token and revocation endpoints.
//! - [`upstream`]: the gateway as Attio's OAuth client (authorize URL, code exchange, refresh,
//!   revoke), over the `oauth2` crate.
//! - [`proxy_policy`]: what the REST proxy may forward (path, query, headers).
//! - [`vault`]: each user's connection in KV, tokens sealed; lazy and bulk key rotation.
//! - [`connection`]: using a connection: single-flight refresh, revocation.
//! - [`cron`]: the daily run (re-seal, membership check, policy copies).
//! - [`mcp`]: the MCP server: JSON-RPC, the Attio tools, method dispatch.
//! - [`oauth`]: the gateway as an OAuth 2.1 authorization server for MCP clients (one file per RFC;
//!   [`oauth::approval`] checks an authorization request, [`oauth::token_grants`] runs the token
//!   endpoint's grant types).
//! - [`session`]: `__Host-` cookies (state binding, page session, CSRF); [`pages`]: HTML pages,
//!   built from [`html`](mod@html) (markup escaped by construction).
//! - [`config`]: every setting and binding the worker reads, validated.
//! - [`uri`]: parsing URLs from outside input (ASCII only).
//! - [`http`]: request/response types, the outbound client trait, response builders.
//! - [`error`]: the application error and its mapping to responses (the one place).
//! - [`attio`]: Attio's REST API: requests, responses, errors.
//! - [`store`]: every stored record, typed (grants, one-time values, connections, the vault's
//!   records, clients, the grant index, the audit log); the only modules that read or write KV,
//!   name a Durable Object command or (de)serialise a stored record.
//! - [`transitions`]: the protocol of the Durable Object that makes one-time transitions atomic.
//! - [`crypto`]: the vault envelope (XChaCha20-Poly1305) and keys derived from `SIGNING_KEY`.
//! - [`owner`]: owner mode (an Attio workspace key instead of an OAuth app, behind a gate).
//! - [`policy`]: the deployer's policy (writes, tool groups, proxy, grant lifetime) set on `/admin`.
//! - [`time`]: calendar time from Unix milliseconds (pages, tool arguments).
//! - [`random`]: randomness behind a trait; [`secret`]: secret newtypes for every credential
//!   (redacted `Debug`, constant-time equality, not `Clone` unless needed).
//! - `edge` (wasm32 only): the `fetch` and cron entry points and the trait implementations.
//!
//! `docs/architecture.md` follows a request from edge to core; `docs/storage-schema.md` lists
//! every stored record.

pub mod access;
pub mod admin;
pub mod app;
pub mod attio;
pub mod cf_access;
pub mod client_auth;
pub mod clients;
pub mod config;
pub mod connection;
pub mod consent;
pub mod context;
pub mod cron;
pub mod crypto;
pub mod error;
pub mod html;
pub mod http;
pub mod mcp;
pub mod memo;
pub mod oauth;
pub mod owner;
pub mod pages;
pub mod paths;
pub mod platform;
pub mod policy;
pub mod proxy_policy;
pub mod random;
pub mod rate_limit;
pub mod routes;
pub mod secret;
pub mod session;
pub mod sign_in;
pub mod store;
pub mod time;
pub mod transitions;
pub mod upstream;
pub mod uri;
pub mod user;
pub mod vault;

#[cfg(target_arch = "wasm32")]
mod edge;

// Test doubles and router tests: `pub` there is for sibling test modules, not an API.
#[cfg(test)]
#[allow(unreachable_pub)]
mod testing;

#[cfg(test)]
#[allow(unreachable_pub)]
mod tests;
