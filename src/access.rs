//! Who may use a protected route: bearer-token validation for `/mcp` and the REST proxy
//! (RFC 6750 §2.1 header, §3 challenges; RFC 9728 §5.1 `resource_metadata`), against the grant
//! the token belongs to, its audience (RFC 8707) and its scope.

use http::header::WWW_AUTHENTICATE;
use http::StatusCode;
use serde_json::json;

use crate::context::Ctx;
use crate::http::{json as json_response, set_header, Request, Response};
use crate::oauth::grant::{self, Grant, TokenKind};
use crate::oauth::metadata::{Audience, SCOPE_WRITE};
use crate::oauth::{bearer, OAuthError};
use crate::platform::Platform;
use crate::store::grants;
use crate::vault::UserId;

/// Who a valid access token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: UserId,
    pub client_id: String,
    pub scope: Vec<String>,
    pub grant_id: String,
}

impl Principal {
    pub fn can_write(&self) -> bool {
        self.scope.iter().any(|s| s == SCOPE_WRITE)
    }
}

/// A 401/403 for `audience` with its `WWW-Authenticate` challenge (RFC 6750 §3).
fn deny(
    origin: &str,
    audience: Audience,
    status: StatusCode,
    error: Option<&str>,
    description: &str,
    needed: Option<&str>,
) -> Response {
    let mut resp =
        json_response(status, &json!({"error": error.unwrap_or("unauthorized"), "error_description": description}));
    set_header(&mut resp, WWW_AUTHENTICATE, &bearer::challenge(origin, audience, error, needed));
    resp
}

/// The bearer token of the request, or the 401 for a missing or malformed `Authorization`
/// header. Needs only the request head, so it also runs before a body is read
/// ([`crate::app::answer_from_head`]).
#[allow(clippy::result_large_err)] // the error is the response itself, built only on refusal, like `authenticate`'s
pub fn presented_token<'r>(ctx: &Ctx<'_>, req: &'r Request, audience: Audience) -> Result<&'r str, Response> {
    match bearer::token(req) {
        Ok(Some(t)) => Ok(t),
        Ok(None) => {
            Err(deny(&ctx.origin, audience, StatusCode::UNAUTHORIZED, None, "an access token is required", None))
        }
        Err(_) => Err(deny(
            &ctx.origin,
            audience,
            StatusCode::UNAUTHORIZED,
            Some("invalid_token"),
            "malformed Authorization header",
            None,
        )),
    }
}

/// Validates the bearer token for `audience` and `scope`; the error is the 401/403 to send.
pub async fn authenticate<P: Platform>(
    p: &P,
    ctx: &Ctx<'_>,
    req: &Request,
    audience: Audience,
    scope: &str,
) -> Result<Principal, Response> {
    let config = ctx.config;
    let token = presented_token(ctx, req, audience)?;
    let origin = ctx.origin.clone();
    let keys = config.keys();
    let deny = |status: StatusCode, error: Option<&str>, description: &str, needed: Option<&str>| {
        deny(&origin, audience, status, error, description, needed)
    };
    let invalid = || {
        deny(StatusCode::UNAUTHORIZED, Some("invalid_token"), "the access token is invalid, expired or revoked", None)
    };
    let Some((TokenKind::Access, grant_id)) = grant::parse_token(token) else { return Err(invalid()) };
    let grant: Grant = match grants::load(p, grant_id).await {
        Ok(Some(current)) => current.grant,
        Ok(None) => return Err(invalid()),
        Err(_) => return Err(OAuthError::temporarily_unavailable("token storage is unavailable").into_response()),
    };
    let scopes = match grant.check_access(keys, token, audience, p.now_ms()) {
        Ok(s) => s,
        Err(grant::AccessDenied::WrongAudience) => {
            return Err(deny(
                StatusCode::UNAUTHORIZED,
                Some("invalid_token"),
                "the access token is for another resource",
                None,
            ))
        }
        Err(grant::AccessDenied::Invalid) => return Err(invalid()),
    };
    if !scopes.iter().any(|s| s == scope) {
        return Err(deny(
            StatusCode::FORBIDDEN,
            Some("insufficient_scope"),
            "the access token lacks a needed scope",
            Some(scope),
        ));
    }
    Ok(Principal { user: grant.user, client_id: grant.client_id, scope: scopes, grant_id: grant.grant_id })
}
