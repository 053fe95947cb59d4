//! The vocabulary every layer shares, knowing nothing of the product: HTTP requests and
//! responses ([`http`]), markup escaped by construction ([`html`](mod@html)), secrets ([`secret`]), time,
//! randomness, URLs, a small per-isolate memory, and who a person is ([`user`]).
//! Uses nothing else of the crate.

pub mod html;
pub mod http;
pub mod memo;
pub mod random;
pub mod secret;
pub mod time;
pub mod uri;
pub mod user;

/// `html!`, beside its module: `use crate::base::html;` brings both.
pub use crate::html;
