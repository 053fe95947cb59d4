//! What every handler module shares: the mock's state ([`Shared`], taken with [`lock`]) and two
//! request helpers (the caller's token, HTML escaping). A leaf: of this crate it uses only
//! [`model`], so the root and the handler modules can all import it.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::{header, HeaderMap};
use base64::Engine;

use crate::model;

/// The mock's state, shared by every handler.
pub type Shared = Arc<Mutex<model::World>>;

/// Locks the world. A panic in one handler must not wedge the mock for the rest of a test run,
/// so a poisoned lock is taken over.
pub fn lock(shared: &Shared) -> MutexGuard<'_, model::World> {
    shared.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The token from `Authorization: Bearer <t>` or `Authorization: Basic base64(<t>:)`
/// (Attio accepts both).
pub fn bearer_or_basic_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim().to_string());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD.decode(rest.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, _password) = text.split_once(':')?;
        return Some(user.to_string());
    }
    None
}

pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}
