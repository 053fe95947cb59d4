//! HTTP handlers, one file per concern. Each takes plain values and [`crate::app::Deps`] and
//! returns a [`crate::http::Response`] or an [`crate::error::AppError`].

pub mod diagnostics;
pub mod health;
pub mod landing;
