//! The REST proxy (`/v2/*`) toward Attio's API, for tokens with the REST audience. So far it
//! serves `GET /v2/self`: who the caller's vaulted Attio token belongs to, in Attio's own shape.
//! The caller's token (ours) never goes upstream; the vaulted Attio token does.

use http::header::WWW_AUTHENTICATE;
use http::{Method, StatusCode};
use serde_json::json;

use crate::attio::identity::TokenStatus;
use crate::attio::{AttioApi, AttioError};
use crate::config::Config;
use crate::connection::{self, ConnectionError};
use crate::crypto::envelope::Vault;
use crate::error::AppError;
use crate::http::{json, set_header, Request, Response};
use crate::oauth::bearer;
use crate::oauth::metadata::{Audience, SCOPE_READ};
use crate::platform::Platform;
use crate::routes::connect::origin;
use crate::routes::oauth_flow::authenticate;

pub const SELF: &str = "/v2/self";

/// Attio's error envelope, for errors the proxy itself produces.
fn attio_error(status: StatusCode, kind: &str, code: &str, message: &str) -> Response {
    json(status, &json!({"status_code": status.as_u16(), "type": kind, "code": code, "message": message}))
}

fn reauthorize(config: &Config, req: &Request, message: &str) -> Response {
    let mut resp = attio_error(StatusCode::UNAUTHORIZED, "auth_error", "reauthorization_required", message);
    let challenge = bearer::challenge(&origin(config, req), Audience::Api, Some("invalid_token"), None);
    set_header(&mut resp, WWW_AUTHENTICATE, &challenge);
    resp
}

/// `GET /v2/self`.
pub async fn attio_self<P: Platform>(p: &P, config: &Config, req: &Request) -> Result<Response, AppError> {
    let principal = match authenticate(p, config, req, Audience::Api, SCOPE_READ).await {
        Ok(principal) => principal,
        Err(resp) => return Ok(resp),
    };
    let vault = Vault::new(&config.vault_keys);
    let conn = match connection::usable(p, config, &vault, &principal.user).await {
        Ok(c) => c,
        Err(ConnectionError::NotConnected | ConnectionError::Revoked | ConnectionError::Unreadable) => {
            return Ok(reauthorize(config, req, "The Attio connection behind this token is gone; authorize again."))
        }
        Err(ConnectionError::Upstream(e)) => return Err(AppError::Upstream(e)),
        Err(_) => return Err(AppError::Unavailable("the Attio connection")),
    };
    let token = connection::access_token(&conn).map_err(|_| AppError::Unavailable("the Attio connection"))?;
    let api = AttioApi::new(config.attio_api_base.clone());
    let body = api.send(p, api.request(Method::GET, "self", token, None)).await;
    let body = match body {
        Ok(b) => b,
        Err(AttioError::Unauthorized) => {
            let _ = connection::verify(p, config, &vault, &conn).await;
            return Ok(reauthorize(config, req, "Attio no longer accepts this connection; authorize again."));
        }
        Err(e) => return Err(AppError::Upstream(e)),
    };
    if matches!(crate::attio::identity::parse_self(&body), Ok(TokenStatus::Inactive)) {
        connection::mark_revoked(p, &vault, &conn, "Attio reports the token inactive").await;
        return Ok(reauthorize(config, req, "Attio no longer accepts this connection; authorize again."));
    }
    Ok(crate::http::response(StatusCode::OK, "application/json", body))
}
