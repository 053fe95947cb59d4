//! HTTP handlers, one file per concern. Each takes the request and a [`crate::platform::Platform`]
//! and returns a [`crate::http::Response`] or an [`crate::error::AppError`].

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
