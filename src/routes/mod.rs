//! HTTP handlers, one file per concern. Each takes the request and a [`crate::platform::Platform`]
//! and returns a [`crate::base::http::Response`] or an [`crate::error::AppError`].
//!
//! May use every layer below; no route file imports another, and only the router (`app`)
//! imports a route.

pub mod account;
pub mod admin;
pub mod authorize;
pub mod connect;
pub mod diagnostics;
pub mod health;
pub mod landing;
pub mod mcp;
pub mod oauth_server;
pub mod proxy;
pub mod setup;
pub mod token;
