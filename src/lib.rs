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
//! Each folder is one layer or one concern (its module file says what it holds and what it may
//! use; `tests/architecture.rs` checks those rules):
//!
//! - [`base`]: the vocabulary every layer uses and nothing of the product: HTTP types, escaped
//!   markup, secrets, time, randomness, URLs, who a person is.
//! - [`config`]: every setting and binding the worker reads, validated; [`crypto`]: the vault
//!   envelope and keys derived from `SIGNING_KEY`; [`platform`]: the effects as traits.
//! - [`transitions`]: the protocol of the Durable Object (one-time transitions, the audit log in
//!   chunks, usage totals); [`store`]: every stored record, typed: the only modules that read or
//!   write KV or name a Durable Object command.
//! - [`oauth`]: the gateway as an OAuth 2.1 authorization server (one file per RFC; clients and
//!   grants in their folders); [`mcp`]: the MCP server and its Attio tools.
//! - [`auth`]: who is calling: bearer tokens, client authentication, sessions and cookies,
//!   Cloudflare Access, the owner gate, rate limits.
//! - [`attio`]: everything that talks to Attio: its REST API, the gateway as Attio's OAuth client,
//!   the sign-in, each person's connection and the vault that keeps it.
//! - [`control`]: the deployer's controls: the policy, administrators and their views, what the
//!   proxy may forward, the cron.
//! - [`pages`]: the HTML people see, its paths and charts.
//! - [`app`] and [`routes`]: the router and one file per endpoint family; [`context`] and
//!   [`error`]: what every handler needs, and errors mapped to responses in one place.
//! - `edge` (wasm32 only): the `fetch` and cron entry points and the trait implementations.
//!
//! `docs/architecture.md` follows a request from edge to core; `docs/storage-schema.md` lists
//! every stored record.

pub mod app;
pub mod attio;
pub mod auth;
pub mod base;
pub mod config;
pub mod context;
pub mod control;
pub mod crypto;
pub mod error;
pub mod mcp;
pub mod oauth;
pub mod pages;
pub mod platform;
pub mod routes;
pub mod store;
pub mod transitions;

#[cfg(target_arch = "wasm32")]
mod edge;

// Test doubles and router tests: `pub` there is for sibling test modules, not an API.
#[cfg(test)]
#[allow(unreachable_pub)]
mod testing;

#[cfg(test)]
#[allow(unreachable_pub)]
mod tests;
