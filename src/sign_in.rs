//! Starting the Attio sign-in (RFC 6749 §4.1.1 as Attio's OAuth client): a fresh `state`, a
//! pending record for the callback (with the sealed PKCE verifier and, when an MCP client is
//! waiting, the authorization to finish), the `state` bound to this browser by a cookie, and
//! the redirect to Attio. `routes::connect` finishes it at the callback; `/connect` and the
//! consent decision (`routes::authorize`) both start it here.

use http::StatusCode;

use crate::context::Ctx;
use crate::error::AppError;
use crate::http::{add_cookie, redirect, Response};
use crate::oauth::approval::Approved;
use crate::paths;
use crate::platform::Platform;
use crate::secret::{PkceVerifier, UpstreamState};
use crate::session::{self, CONNECT_COOKIE, CONNECT_TTL_SECS};
use crate::store::one_time::{self, pending_object, Pending};
use crate::upstream;

/// The associated data sealing a pending sign-in's PKCE verifier: bound to its object.
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
    let object = pending_object(keys, &state);
    let sealed_verifier = match &verifier {
        Some(v) => Some(
            vault
                .seal(&pending_aad(&object), v.expose_secret().as_bytes(), p)
                .map_err(|e| AppError::unavailable_because("encryption", e))?,
        ),
        None => None,
    };
    let pending = Pending { redirect_uri: redirect_uri.clone(), pkce_verifier: sealed_verifier, continuation };
    match one_time::put_pending(p, &object, &pending, p.now_ms() + CONNECT_TTL_SECS * 1000).await {
        Ok(true) => {}
        Ok(false) => return Err(AppError::unavailable_because("the state store", "state already taken")),
        Err(e) => return Err(AppError::unavailable_because("the state store", e)),
    }
    let url = upstream::authorize_url(config, &redirect_uri, &state, verifier.as_ref())
        .map_err(|e| AppError::unavailable_because("the Attio authorize URL", e))?;
    let mut resp = redirect(status, &url);
    add_cookie(
        &mut resp,
        &session::set_cookie(CONNECT_COOKIE, &session::connect_binding(keys, &state), CONNECT_TTL_SECS),
    );
    Ok(resp)
}
