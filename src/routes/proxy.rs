//! The REST proxy: `/v2/*` toward Attio's API, for tokens with the REST audience.
//!
//! Method, path, query and body are forwarded (after [`crate::control::proxy_policy`] checks them) to the
//! configured Attio API base with the caller's vaulted Attio token; our token never goes
//! upstream. Attio's status, body, `Content-Type` and `Retry-After` come back unchanged. When
//! Attio rejects the token (401, or `/v2/self` saying `active:false`) and `/v2/self` confirms
//! it, the connection is marked revoked and the caller gets our 401 with `resource_metadata`.

use http::header::WWW_AUTHENTICATE;
use http::StatusCode;
use serde_json::json;

use crate::attio::connection::{self, ConnectionError};
use crate::attio::identity::{parse_self, TokenStatus};
use crate::attio::AttioError;
use crate::auth::access::{authenticate, presented_token};
use crate::base::http::{json, set_header, Request, Response, TransportError};
use crate::context::Ctx;
use crate::control::proxy_policy;
use crate::error::AppError;
use crate::oauth::bearer;
use crate::oauth::metadata::{Audience, SCOPE_READ, SCOPE_WRITE};
use crate::platform::Platform;
use crate::store::audit;

pub const PREFIX: &str = "/v2/";

/// Attio's error envelope, for errors the proxy itself produces.
fn attio_error(status: StatusCode, kind: &str, code: &str, message: &str) -> Response {
    json(status, &json!({"status_code": status.as_u16(), "type": kind, "code": code, "message": message}))
}

/// A 401 for a grant whose Attio connection is gone: says where the person reconnects.
fn reauthorize(ctx: &Ctx<'_>, message: &str) -> Response {
    let message = format!(
        "{message} The person connects Attio again at {}{}, then this app is authorized again.",
        ctx.origin,
        crate::pages::paths::CONNECT
    );
    let mut resp = attio_error(StatusCode::UNAUTHORIZED, "auth_error", "reauthorization_required", &message);
    let challenge = bearer::challenge(&ctx.origin, Audience::Api, Some("invalid_token"), None);
    set_header(&mut resp, WWW_AUTHENTICATE, &challenge);
    resp
}

/// The refusal that needs only the request head: no well-formed bearer token. The edge runs it
/// before it reads a body ([`crate::app::answer_from_head`]); [`forward`] would answer the same.
pub fn refuse_by_head(ctx: &Ctx<'_>, req: &Request) -> Option<Response> {
    presented_token(req).err().map(|d| d.into_response(&ctx.origin, Audience::Api))
}

/// Marks a response Attio answered, with Attio's status, for the call's audit record.
#[derive(Debug, Clone, Copy)]
struct AttioAnswered(u16);

/// Any method on `/v2/...`: its audit record is stored with the request that authenticates it,
/// and the outcome attached once answered.
pub async fn forward<P: Platform>(p: &P, ctx: &Ctx<'_>, req: &Request) -> Result<Response, AppError> {
    let path = req.uri().path();
    let write = proxy_policy::is_write(req.method(), path);
    let record = audit::Entry::call("proxy", &format!("{} {path}", req.method()), write, Vec::new());
    let scope = if write { SCOPE_WRITE } else { SCOPE_READ };
    let principal = match authenticate(p, ctx, req, Audience::Api, scope, Some(record)).await {
        Ok(principal) => principal,
        Err(denied) => return Ok(denied.into_response(&ctx.origin, Audience::Api)),
    };
    let started = p.now_ms();
    let answer = forward_for(p, ctx, req, &principal).await;
    if let Some(pending) = &principal.audit {
        let (outcome, status) = match &answer {
            Ok(resp) => match resp.extensions().get::<AttioAnswered>() {
                Some(AttioAnswered(s)) if (200..300).contains(s) => ("ok".to_string(), Some(*s)),
                Some(AttioAnswered(s)) => (format!("error {s}"), Some(*s)),
                None => (format!("refused {}", resp.status().as_u16()), None),
            },
            Err(_) => ("error".to_string(), None),
        };
        let ended = audit::Ended { outcome, status, duration_ms: Some(p.now_ms().saturating_sub(started)) };
        audit::finish(p, pending, &principal.client_id, ended);
    }
    answer
}

async fn forward_for<P: Platform>(
    p: &P,
    ctx: &Ctx<'_>,
    req: &Request,
    principal: &crate::auth::access::Principal,
) -> Result<Response, AppError> {
    let config = ctx.config;
    let path = req.uri().path();
    if principal.policy.proxy_off {
        return Ok(attio_error(
            StatusCode::FORBIDDEN,
            "auth_error",
            "proxy_disabled",
            "The administrator of this gateway has turned the REST proxy off.",
        ));
    }
    let target = match proxy_policy::upstream_path(path, req.uri().query()) {
        Ok(t) => t,
        Err(e) => {
            return Ok(attio_error(StatusCode::BAD_REQUEST, "invalid_request_error", "validation_type", &e.to_string()))
        }
    };
    let vault = config.vault();
    let conn = match connection::usable_for_grant(
        p,
        config,
        vault,
        &principal.user,
        principal.connection_epoch,
        &principal.connection,
    )
    .await
    {
        Ok(c) => c,
        Err(ConnectionError::NotConnected | ConnectionError::Revoked | ConnectionError::Unreadable) => {
            return Ok(reauthorize(ctx, "The Attio connection behind this token is gone."))
        }
        Err(ConnectionError::Upstream(e)) => return Err(AppError::Upstream(e)),
        Err(e) => return Err(AppError::unavailable_because("the Attio connection", e)),
    };
    let token =
        connection::access_token(&conn).map_err(|e| AppError::unavailable_because("the Attio connection", e))?;

    let headers = proxy_policy::request_headers(req.headers());
    let upstream = config
        .attio()
        .forwarded(req.method().clone(), &target, headers, req.body().clone(), token)
        .map_err(|_| AppError::BadRequest("the request could not be forwarded"))?;
    let response = p.send(upstream).await.map_err(|e: TransportError| AppError::Upstream(AttioError::Transport(e)))?;
    let status = response.status();
    let rejected = status == StatusCode::UNAUTHORIZED
        || (target == "/v2/self" && matches!(parse_self(response.body()), Ok(TokenStatus::Inactive)));
    if rejected {
        // Only a confirmed dead token revokes (Attio has been seen to answer spurious 401s).
        return Ok(match connection::verify(p, config, vault, &conn).await {
            Err(ConnectionError::Revoked) => reauthorize(ctx, "Attio no longer accepts this connection."),
            _ => attio_error(
                StatusCode::BAD_GATEWAY,
                "api_error",
                "upstream_unauthorized",
                "Attio rejected the request; retry shortly.",
            ),
        });
    }
    let (parts, body) = response.into_parts();
    let mut resp = crate::base::http::response(parts.status, "application/json", body);
    for (name, value) in proxy_policy::response_headers(&parts.headers).iter() {
        resp.headers_mut().insert(name.clone(), value.clone());
    }
    resp.extensions_mut().insert(AttioAnswered(status.as_u16()));
    Ok(resp)
}
