//! Starting the Attio sign-in (RFC 6749 §4.1.1 as Attio's OAuth client): a fresh `state`, and
//! what the callback needs (where Attio sends the person back, the PKCE verifier and, when an
//! MCP client is waiting, the authorization to finish) sealed in this browser's connect cookie
//! (XChaCha20-Poly1305 under `VAULT_KEYS`, the associated data naming the `state`), then the
//! redirect to Attio. Nothing is stored: starting a sign-in, which anyone can, spends no
//! storage. `routes::connect` finishes it at the callback and spends the `state` once Attio has
//! exchanged the code (RFC 6749 §10.12: the cookie binds the flow to the browser that began
//! it); `/connect` and the consent decision (`routes::authorize`) both start it here.

use http::StatusCode;

use crate::attio::upstream;
use crate::auth::session::{self, CONNECT_COOKIE, CONNECT_TTL_SECS};
use crate::base::http::{add_cookie, redirect, Response};
use crate::base::secret::{PkceVerifier, UpstreamState};
use crate::context::Ctx;
use crate::error::AppError;
use crate::oauth::grants::approval::Approved;
use crate::pages::paths;
use crate::pages::{error_page, NOTHING};
use crate::platform::Platform;
use crate::store::one_time;

/// The longest sealed sign-in a cookie carries (browsers keep cookies of up to 4,096 bytes).
const MAX_COOKIE: usize = 3_800;

/// A sign-in in progress, as the connect cookie carries it (sealed).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct SignIn {
    /// Our callback URL, as sent to Attio.
    pub redirect_uri: String,
    /// The PKCE verifier (a secret: the cookie is encrypted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkce_verifier: Option<String>,
    /// An MCP client's authorization the person approved, to finish once Attio says who they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continuation: Option<Approved>,
    pub expires_at_ms: u64,
}

/// The associated data of a sealed sign-in: it opens only for its own `state`.
fn sign_in_aad(keys: &crate::crypto::keys::SigningKeys, state: &UpstreamState) -> Vec<u8> {
    format!("attio-gateway/sign-in/v1|{}", keys.token_hash(state.expose_secret())).into_bytes()
}

/// The sign-in this browser's connect cookie carries for `state` (the caller checks its
/// expiry, to say so).
pub fn carried(ctx: &Ctx<'_>, req: &crate::base::http::Request, state: &UpstreamState) -> Option<SignIn> {
    let cookie = session::cookie(req, CONNECT_COOKIE)?;
    let opened = ctx.vault().open(&sign_in_aad(ctx.keys(), state), cookie).ok()?;
    serde_json::from_slice(&opened.plaintext).ok()
}

/// The associated data of a stored sign-in's PKCE verifier (the release before): its object.
pub fn pending_aad(object: &str) -> Vec<u8> {
    format!("attio-gateway/pending/v1|{object}|pkce_verifier").into_bytes()
}

/// Starts the Attio sign-in: a pending transaction for a fresh `state`, the browser binding, and
/// a redirect to Attio (`status`: 302 after a GET, 303 after a form POST).
pub async fn begin<P: Platform>(
    p: &P,
    ctx: &Ctx<'_>,
    continuation: Option<Approved>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let config = ctx.config;
    let (keys, vault) = (config.keys(), config.vault());
    let state = UpstreamState::new(p.token().map_err(|e| AppError::unavailable_because("randomness", e))?);
    let verifier = if config.attio_use_pkce {
        Some(PkceVerifier::new(p.token().map_err(|e| AppError::unavailable_because("randomness", e))?))
    } else {
        None
    };
    let redirect_uri = format!("{}{}", ctx.origin.clone(), paths::ATTIO_CALLBACK);
    let sign_in = SignIn {
        redirect_uri: redirect_uri.clone(),
        pkce_verifier: verifier.as_ref().map(|v| v.expose_secret().to_string()),
        continuation,
        expires_at_ms: p.now_ms() + CONNECT_TTL_SECS * 1000,
    };
    let plaintext = serde_json::to_vec(&sign_in).map_err(|e| AppError::unavailable_because("encoding", e))?;
    let sealed = vault
        .seal(&sign_in_aad(keys, &state), &plaintext, p)
        .map_err(|e| AppError::unavailable_because("encryption", e))?;
    if sealed.len() > MAX_COOKIE {
        return Ok(error_page(
            StatusCode::BAD_REQUEST,
            "Request too long",
            "The application's authorization request (its redirect address, state and id) is too long to carry \
             through the Attio sign-in. Nothing was stored.",
            &NOTHING,
        ));
    }
    let url = upstream::authorize_url(config, &redirect_uri, &state, verifier.as_ref())
        .map_err(|e| AppError::unavailable_because("the Attio authorize URL", e))?;
    let mut resp = redirect(status, &url);
    add_cookie(&mut resp, &session::set_cookie(CONNECT_COOKIE, &sealed, CONNECT_TTL_SECS));
    Ok(resp)
}

/// A sign-in the release before this one stored (its cookie only a binding): taken from
/// storage once, as it was then. Gone ten minutes after the upgrade.
pub async fn stored<P: Platform>(
    p: &P,
    ctx: &Ctx<'_>,
    req: &crate::base::http::Request,
    state: &UpstreamState,
) -> Result<Option<SignIn>, crate::platform::StoreError> {
    if !session::has_connect_binding(ctx.keys(), req, state) {
        return Ok(None);
    }
    let Some((object, pending)) = one_time::take_pending(p, ctx.keys(), state).await? else { return Ok(None) };
    let verifier = match &pending.pkce_verifier {
        Some(sealed) => match ctx.vault().open(&pending_aad(&object), sealed) {
            Ok(o) => String::from_utf8(o.plaintext).ok(),
            Err(_) => return Ok(None),
        },
        None => None,
    };
    Ok(Some(SignIn {
        redirect_uri: pending.redirect_uri,
        pkce_verifier: verifier,
        continuation: pending.continuation,
        expires_at_ms: u64::MAX,
    }))
}
