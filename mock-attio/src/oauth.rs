//! Attio's REST-app OAuth, as documented (`shared/reference/attio-api.md` §1, §7.1):
//! `GET /authorize` (a consent page, or auto-approval), `POST /oauth/token`
//! (client_secret_post, form-encoded), `POST /oauth/introspect`, `POST /oauth/revoke`.
//!
//! Two switches cover behaviours the gateway must handle: the `expiring` token style (with
//! `expires_in` and a rotating `refresh_token`) and PKCE S256 enforcement.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use base64::Engine;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::OAuthError;
use crate::model::{AccessGrant, PendingCode, RefreshGrant, TokenStyle, World};
use crate::state::{bearer_or_basic_token, html_escape, Shared};

#[derive(Debug, Deserialize)]
pub struct AuthorizeParams {
    client_id: Option<String>,
    response_type: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    /// Only on the consent form's POST: the member who approves, or absent on deny.
    member: Option<String>,
    decision: Option<String>,
}

/// An authorization request whose client and redirect URI have been checked, so errors from
/// here on may be sent to the redirect URI.
struct CheckedRequest {
    client_id: String,
    redirect_uri: String,
    state: Option<String>,
    code_challenge: Option<String>,
}

fn error_page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<!doctype html><title>Attio (mock) – error</title><h1>Authorization error</h1><p>{}</p>",
        html_escape(message)
    );
    (status, Html(body)).into_response()
}

fn redirect_with(uri: &str, params: &[(&str, &str)]) -> Response {
    let mut url = uri.to_string();
    let mut sep = if url.contains('?') { '&' } else { '?' };
    for (k, v) in params {
        url.push(sep);
        url.push_str(k);
        url.push('=');
        url.extend(form_urlencoded::byte_serialize(v.as_bytes()));
        sep = '&';
    }
    // Attio documents a 302 to the redirect URI.
    (StatusCode::FOUND, [(header::LOCATION, url)]).into_response()
}

fn redirect_error(req: &CheckedRequest, error: &str) -> Response {
    let mut params = vec![("error", error)];
    if let Some(s) = &req.state {
        params.push(("state", s));
    }
    redirect_with(&req.redirect_uri, &params)
}

/// Checks client and redirect URI (errors rendered locally, never redirected), then the rest
/// (errors redirected, as RFC 6749 §4.1.2.1 says).
// The error is the page or redirect to send; responses are only built on this cold path.
#[allow(clippy::result_large_err)]
fn check(world: &World, p: &AuthorizeParams) -> Result<CheckedRequest, Response> {
    let Some(client_id) = p.client_id.as_deref() else {
        return Err(error_page(StatusCode::BAD_REQUEST, "Missing client_id."));
    };
    let Some(app) = world.app(client_id) else {
        return Err(error_page(StatusCode::BAD_REQUEST, "Unknown client_id."));
    };
    let Some(redirect_uri) = p.redirect_uri.as_deref() else {
        return Err(error_page(StatusCode::BAD_REQUEST, "Missing redirect_uri."));
    };
    if !app.redirect_uris.iter().any(|r| r == redirect_uri) {
        return Err(error_page(
            StatusCode::BAD_REQUEST,
            "The redirect_uri does not match any redirect URI registered for this app.",
        ));
    }
    let req = CheckedRequest {
        client_id: client_id.into(),
        redirect_uri: redirect_uri.into(),
        state: p.state.clone(),
        code_challenge: p.code_challenge.clone(),
    };
    if p.response_type.as_deref() != Some("code") {
        return Err(redirect_error(&req, "unsupported_response_type"));
    }
    if world.settings.require_pkce {
        let valid_challenge = p
            .code_challenge
            .as_deref()
            .is_some_and(|c| c.len() == 43 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        if !valid_challenge || p.code_challenge_method.as_deref() != Some("S256") {
            return Err(redirect_error(&req, "invalid_request"));
        }
    }
    Ok(req)
}

fn issue_code(world: &mut World, req: &CheckedRequest, member: Uuid) -> Response {
    let Some(ws) = world.workspace_of_member(member) else {
        return error_page(StatusCode::BAD_REQUEST, "Unknown workspace member.");
    };
    let workspace_id = ws.id;
    let code = crate::model::random_token("code_");
    let expires_at = world.clock.now() + world.settings.code_ttl_secs;
    world.codes.insert(
        code.clone(),
        PendingCode {
            client_id: req.client_id.clone(),
            redirect_uri: req.redirect_uri.clone(),
            workspace_id,
            member_id: member,
            code_challenge: req.code_challenge.clone(),
            expires_at,
            used: false,
        },
    );
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = &req.state {
        params.push(("state", s));
    }
    redirect_with(&req.redirect_uri, &params)
}

/// `GET /authorize`: the consent page (or an immediate redirect when auto-approving).
pub async fn authorize_page(State(shared): State<Shared>, Query(p): Query<AuthorizeParams>) -> Response {
    let mut world = crate::state::lock(&shared);
    let req = match check(&world, &p) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    if let Some(member) = world.settings.auto_approve_member {
        return issue_code(&mut world, &req, member);
    }
    let app_name = "Attio Gateway";
    let mut members = String::new();
    for (i, ws) in world.workspaces.iter().enumerate() {
        for (j, m) in ws.members.iter().enumerate() {
            let checked = if i == 0 && j == 0 { " checked" } else { "" };
            members.push_str(&format!(
                "<label><input type=radio name=member value=\"{}\"{checked}> {} {} &lt;{}&gt; — workspace <b>{}</b></label><br>",
                m.id,
                html_escape(&m.first_name),
                html_escape(&m.last_name),
                html_escape(&m.email),
                html_escape(&ws.name)
            ));
        }
    }
    let hidden = |name: &str, value: Option<&str>| {
        value.map_or(String::new(), |v| format!("<input type=hidden name={name} value=\"{}\">", html_escape(v)))
    };
    let body = format!(
        "<!doctype html><meta charset=utf-8><title>Attio (mock) – authorize</title>\
         <h1>Mock Attio</h1><p><b>{app_name}</b> wants to access your Attio workspace.</p>\
         <form method=post action=\"/authorize\">{members}{}{}{}{}{}{}\
         <p><button name=decision value=approve id=approve>Approve</button> \
         <button name=decision value=deny id=deny>Deny</button></p></form>",
        hidden("client_id", Some(&req.client_id)),
        hidden("response_type", Some("code")),
        hidden("redirect_uri", Some(&req.redirect_uri)),
        hidden("state", req.state.as_deref()),
        hidden("code_challenge", req.code_challenge.as_deref()),
        hidden("code_challenge_method", p.code_challenge_method.as_deref()),
    );
    Html(body).into_response()
}

/// `POST /authorize`: the person's decision on the consent page.
pub async fn authorize_decision(State(shared): State<Shared>, Form(p): Form<AuthorizeParams>) -> Response {
    let mut world = crate::state::lock(&shared);
    let req = match check(&world, &p) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    if p.decision.as_deref() != Some("approve") {
        return redirect_error(&req, "access_denied");
    }
    let member = p.member.as_deref().and_then(|m| Uuid::parse_str(m).ok());
    match member {
        Some(m) => issue_code(&mut world, &req, m),
        None => error_page(StatusCode::BAD_REQUEST, "Choose a workspace member."),
    }
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
}

fn pkce_s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// `POST /oauth/token`.
pub async fn token(State(shared): State<Shared>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return OAuthError::invalid_request("The token request must be application/x-www-form-urlencoded.")
            .into_response();
    }
    let Ok(form) = serde_urlencoded::from_bytes::<TokenForm>(&body) else {
        return OAuthError::invalid_request("Malformed form body.").into_response();
    };
    let mut world = crate::state::lock(&shared);
    match token_grant(&mut world, form) {
        Ok(body) => {
            let mut resp = (StatusCode::OK, axum::Json(body)).into_response();
            resp.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
            resp
        }
        Err(e) => e.into_response(),
    }
}

fn token_grant(world: &mut World, form: TokenForm) -> Result<serde_json::Value, OAuthError> {
    // Attio documents client_secret_post only.
    let client_id = form.client_id.as_deref().ok_or_else(OAuthError::invalid_client)?;
    let app = world.app(client_id).ok_or_else(OAuthError::invalid_client)?;
    if form.client_secret.as_deref() != Some(app.client_secret.as_str()) {
        return Err(OAuthError::invalid_client());
    }
    let scopes = app.scopes.clone();
    let now = world.clock.now();
    let (workspace_id, member_id) = match form.grant_type.as_deref() {
        Some("authorization_code") => {
            let code = form.code.as_deref().ok_or(OAuthError::invalid_request("Missing code."))?;
            let pending = world.codes.get_mut(code).ok_or(OAuthError::invalid_grant("Unknown code."))?;
            if pending.used || pending.expires_at <= now || pending.client_id != client_id {
                return Err(OAuthError::invalid_grant("The code is invalid, expired or already used."));
            }
            if form.redirect_uri.as_ref().is_some_and(|r| *r != pending.redirect_uri) {
                return Err(OAuthError::invalid_grant("redirect_uri does not match the authorization request."));
            }
            if world.settings.require_pkce {
                let ok = match (&pending.code_challenge, form.code_verifier.as_deref()) {
                    (Some(challenge), Some(verifier)) => pkce_s256(verifier) == *challenge,
                    _ => false,
                };
                if !ok {
                    pending.used = true;
                    return Err(OAuthError::invalid_grant("PKCE verification failed."));
                }
            }
            pending.used = true;
            (pending.workspace_id, pending.member_id)
        }
        Some("refresh_token") if world.settings.token_style == TokenStyle::Expiring => {
            let rt = form.refresh_token.as_deref().ok_or(OAuthError::invalid_request("Missing refresh_token."))?;
            let grant = world.refresh_tokens.get_mut(rt).ok_or(OAuthError::invalid_grant("Unknown refresh token."))?;
            if grant.used || grant.revoked || grant.client_id != client_id {
                return Err(OAuthError::invalid_grant("The refresh token is invalid or was already used."));
            }
            grant.used = true;
            (grant.workspace_id, grant.member_id)
        }
        Some(_) => return Err(OAuthError::unsupported_grant_type()),
        None => return Err(OAuthError::invalid_request("Missing grant_type.")),
    };
    let access_token = crate::model::random_token("attio_at_");
    let expiring = world.settings.token_style == TokenStyle::Expiring;
    let ttl = world.settings.access_token_ttl_secs;
    world.access_tokens.insert(
        access_token.clone(),
        AccessGrant {
            workspace_id,
            member_id,
            client_id: client_id.into(),
            scopes,
            issued_at: now,
            expires_at: expiring.then_some(now + ttl),
            revoked: false,
        },
    );
    if !expiring {
        // Exactly Attio's documented response: nothing else.
        return Ok(json!({"access_token": access_token, "token_type": "Bearer"}));
    }
    let refresh_token = crate::model::random_token("attio_rt_");
    world.refresh_tokens.insert(
        refresh_token.clone(),
        RefreshGrant { workspace_id, member_id, client_id: client_id.into(), used: false, revoked: false },
    );
    Ok(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": ttl,
        "refresh_token": refresh_token,
    }))
}

/// The introspection object (Attio docs, "Introspect"); `{"active":false}` for a dead token.
pub fn introspection(world: &World, token: &str) -> serde_json::Value {
    let Some(grant) = world.live_grant(token) else {
        return json!({"active": false});
    };
    let Some(ws) = world.workspace(grant.workspace_id) else {
        return json!({"active": false});
    };
    json!({
        "active": true,
        "scope": grant.scopes.join(" "),
        "client_id": grant.client_id,
        "token_type": "Bearer",
        "exp": grant.expires_at,
        "iat": grant.issued_at,
        "sub": ws.id,
        "aud": grant.client_id,
        "iss": "attio.com",
        "authorized_by_workspace_member_id": grant.member_id,
        "workspace_id": ws.id,
        "workspace_name": ws.name,
        "workspace_slug": ws.slug,
        "workspace_logo_url": null,
    })
}

/// `POST /oauth/introspect`: the token under inspection is the bearer token.
pub async fn introspect(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let Some(token) = bearer_or_basic_token(&headers) else {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "invalid_request"}))).into_response();
    };
    let world = crate::state::lock(&shared);
    axum::Json(introspection(&world, &token)).into_response()
}

#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    token: Option<String>,
}

/// `POST /oauth/revoke`: bearer header or form `token`; 204, or 400 when absent or mismatched.
pub async fn revoke(State(shared): State<Shared>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let header_token = bearer_or_basic_token(&headers);
    let form_token = serde_urlencoded::from_bytes::<RevokeForm>(&body).ok().and_then(|f| f.token);
    let token = match (header_token, form_token) {
        (Some(h), Some(f)) if h != f => return StatusCode::BAD_REQUEST.into_response(),
        (Some(t), _) | (None, Some(t)) => t,
        (None, None) => return StatusCode::BAD_REQUEST.into_response(),
    };
    let mut world = crate::state::lock(&shared);
    if let Some(g) = world.access_tokens.get_mut(&token) {
        g.revoked = true;
    } else if let Some(g) = world.refresh_tokens.get_mut(&token) {
        g.revoked = true;
    } else {
        return StatusCode::BAD_REQUEST.into_response();
    }
    StatusCode::NO_CONTENT.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_matches_rfc7636_appendix_b() {
        assert_eq!(
            pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
