//! Browser-bound values, all in `__Host-` cookies (`Secure`, `HttpOnly`, `SameSite=Lax`,
//! `Path=/`, no `Domain`), signed with a key derived from `SIGNING_KEY`:
//!
//! - the **connect binding**: ties an upstream OAuth `state` to the browser that started the
//!   flow; its value is a signature over the state, so the state itself is not in the cookie
//!   (security checklist F.35, fastmcp GHSA-rww4-4w9c-7733);
//! - the **session**: who connected in this browser (workspace + member), short-lived, used
//!   only by the gateway's own pages — never an API credential;
//! - **CSRF tokens** for the pages' forms: a signature over the session's random id.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http::header::{COOKIE, ORIGIN};
use serde::{Deserialize, Serialize};

use crate::base::http::Request;
use crate::base::secret::{constant_time_eq, SessionId, UpstreamState};
use crate::base::user::UserId;
use crate::context::Ctx;
use crate::crypto::keys::SigningKeys;

pub const CONNECT_COOKIE: &str = "__Host-agw-connect";
pub const SESSION_COOKIE: &str = "__Host-agw-session";

/// How long the connect binding (and the pending transaction) lives.
pub const CONNECT_TTL_SECS: u64 = 600;
/// How long a session lasts.
pub const SESSION_TTL_SECS: u64 = 3600;

/// Owner mode with a password gate: the owner signed in to `/admin` (an hour).
pub const OWNER_ADMIN_COOKIE: &str = "__Host-agw-owner";

/// The owner's `/admin` sign-in, valid until `expires_ms`: `<expires_ms>.<signature>`.
pub fn owner_admin_value(keys: &SigningKeys, expires_ms: u64) -> String {
    format!("{expires_ms}.{}", keys.sign(&format!("owner-admin|{expires_ms}")))
}

/// Whether the request carries a live owner sign-in.
pub fn is_owner_admin(keys: &SigningKeys, req: &Request, now_ms: u64) -> bool {
    let Some((expires, sig)) = cookie(req, OWNER_ADMIN_COOKIE).and_then(|v| v.split_once('.')) else { return false };
    let Ok(expires_ms) = expires.parse::<u64>() else { return false };
    expires_ms > now_ms && keys.verify(&format!("owner-admin|{expires_ms}"), sig)
}

/// A `Set-Cookie` value with the `__Host-` attributes.
pub fn set_cookie(name: &str, value: &str, max_age_secs: u64) -> String {
    format!("{name}={value}; Path=/; Max-Age={max_age_secs}; Secure; HttpOnly; SameSite=Lax")
}

/// A `Set-Cookie` value that deletes the cookie.
pub fn clear_cookie(name: &str) -> String {
    format!("{name}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax")
}

/// The value of a request cookie.
pub fn cookie<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The connect-binding cookie value for `state`.
pub fn connect_binding(keys: &SigningKeys, state: &UpstreamState) -> String {
    keys.sign(&format!("connect|{}", state.expose_secret()))
}

/// Whether the request carries the binding for `state` (constant-time).
pub fn has_connect_binding(keys: &SigningKeys, req: &Request, state: &UpstreamState) -> bool {
    cookie(req, CONNECT_COOKIE).is_some_and(|v| constant_time_eq(v.as_bytes(), connect_binding(keys, state).as_bytes()))
}

/// Who is signed in to the gateway's pages in this browser. `Debug` leaves out the session id
/// (a [`SessionId`]).
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub user: UserId,
    /// Random; CSRF tokens are bound to it.
    pub sid: SessionId,
    pub expires_at_ms: u64,
}

impl Session {
    /// `base64url(json).signature`.
    pub fn encode(&self, keys: &SigningKeys) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default());
        let sig = keys.sign(&format!("session|{payload}"));
        format!("{payload}.{sig}")
    }

    /// The session in the request, if its signature is ours and it has not expired.
    pub fn from_request(keys: &SigningKeys, req: &Request, now_ms: u64) -> Option<Session> {
        let (payload, sig) = cookie(req, SESSION_COOKIE)?.split_once('.')?;
        if !keys.verify(&format!("session|{payload}"), sig) {
            return None;
        }
        let session: Session = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        (session.expires_at_ms > now_ms).then_some(session)
    }

    pub fn csrf_token(&self, keys: &SigningKeys) -> String {
        keys.sign(&format!("csrf|{}", self.sid.expose_secret()))
    }

    pub fn check_csrf(&self, keys: &SigningKeys, token: &str) -> bool {
        keys.verify(&format!("csrf|{}", self.sid.expose_secret()), token)
    }
}

/// Whether a form was posted from another site (its `Origin` is not ours; browsers send one
/// with every form post).
pub fn from_other_site(ctx: &Ctx<'_>, req: &Request) -> bool {
    req.headers().get(ORIGIN).and_then(|v| v.to_str().ok()).is_some_and(|o| o != ctx.origin)
}

/// Why a form is refused: posted from another site, or without this session's CSRF token.
pub fn form_refusal(ctx: &Ctx<'_>, req: &Request, session: &Session, csrf: Option<&str>) -> Option<&'static str> {
    let config = ctx.config;
    if from_other_site(ctx, req) {
        return Some("This form was submitted from another site.");
    }
    if !csrf.is_some_and(|t| session.check_csrf(config.keys(), t)) {
        return Some("This form has expired or was not issued by this gateway. Reload the page and try again.");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_never_shows_its_id() {
        let user = UserId { workspace_id: "w".into(), member_id: "m".into() };
        let s = Session { user, sid: SessionId::new("sid-secret-value".into()), expires_at_ms: 1 };
        assert!(!format!("{s:?}").contains("sid-secret-value"));
    }
    use crate::base::secret::KeyMaterial;

    fn keys() -> SigningKeys {
        SigningKeys::new(&KeyMaterial::new([4; 32]))
    }

    fn with_cookie(value: &str) -> Request {
        http::Request::builder().header(COOKIE, value).body(Vec::new()).unwrap()
    }

    #[test]
    fn cookies_are_host_prefixed_and_locked_down() {
        let c = set_cookie(SESSION_COOKIE, "v", 60);
        assert!(c.starts_with("__Host-agw-session=v;"));
        for attr in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax", "Max-Age=60"] {
            assert!(c.contains(attr), "{attr}");
        }
        assert!(!c.contains("Domain"));
    }

    #[test]
    fn connect_binding_matches_only_its_state() {
        let k = keys();
        let (s1, s2) = (UpstreamState::new("s1".into()), UpstreamState::new("s2".into()));
        let req = with_cookie(&format!("other=1; {CONNECT_COOKIE}={}", connect_binding(&k, &s1)));
        assert!(has_connect_binding(&k, &req, &s1));
        assert!(!has_connect_binding(&k, &req, &s2));
        assert!(!has_connect_binding(&k, &with_cookie("x=y"), &s1));
        assert!(!connect_binding(&k, &s1).contains("s1"));
    }

    #[test]
    fn sessions_verify_expire_and_bind_csrf() {
        let k = keys();
        let session = |sid: &str| Session {
            user: UserId::new("w", "m").unwrap(),
            sid: SessionId::new(sid.into()),
            expires_at_ms: 1000,
        };
        let s = session("sid-1");
        let req = with_cookie(&format!("{SESSION_COOKIE}={}", s.encode(&k)));
        assert_eq!(Session::from_request(&k, &req, 999), Some(session("sid-1")));
        assert_eq!(Session::from_request(&k, &req, 1000), None, "expired");
        let forged =
            with_cookie(&format!("{SESSION_COOKIE}={}", s.encode(&SigningKeys::new(&KeyMaterial::new([5; 32])))));
        assert_eq!(Session::from_request(&k, &forged, 0), None);
        let token = s.csrf_token(&k);
        assert!(s.check_csrf(&k, &token));
        let other = session("sid-2");
        assert!(!other.check_csrf(&k, &token));
    }
}
