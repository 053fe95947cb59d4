//! Connecting a person's Attio workspace (RFC 6749 §4.1 as Attio's OAuth client, RFC 9700 §2.1
//! and §4.7 for `state` and PKCE):
//!
//! - `GET /connect`: a fresh single-use `state` (256 bits), bound to this browser by a signed
//!   `__Host-` cookie and stored as a pending transaction in a `Transitions` object (10 min);
//!   then a redirect to Attio's authorize URL (with a PKCE S256 challenge when configured).
//! - `GET /oauth/attio/callback`: checks the browser binding, takes the pending transaction
//!   (atomically, so a `state` works once), exchanges the code, asks `/v2/self` who it belongs
//!   to, applies the workspace allowlist, vaults the token, and signs the person in to the
//!   gateway's pages. Every failure is a page, never a redirect.
//! - `GET /connect/status`: the signed-in person's connection (HTML, or JSON on
//!   `Accept: application/json`), checked live against Attio.
//! - `POST /connect/disconnect`: CSRF-protected; revokes the token at Attio and deletes it.

use http::header::{ACCEPT, RETRY_AFTER};
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use crate::attio::connection::{self, ConnectionError};
use crate::attio::identity::{Identity, TokenStatus};
use crate::attio::sign_in;
use crate::attio::AttioError;
use crate::auth::rate_limit::{self, Limit};
use crate::auth::session::{self, Session, CONNECT_COOKIE, SESSION_COOKIE, SESSION_TTL_SECS};
use crate::base::html;
use crate::base::http::{add_cookie, json as json_response, redirect, set_header, Request, Response};
use crate::base::secret::{PkceVerifier, SessionId, UpstreamState};
use crate::config::Config;
use crate::context::Ctx;
use crate::error::AppError;
use crate::oauth::grants::consent;
use crate::pages::paths::{self, DISCONNECT};
use crate::pages::{error_page, page, too_many_requests, ErrorPage, NOTHING, TRY_AGAIN};
use crate::platform::Platform;

use crate::store::one_time;

use crate::attio::upstream::{self, UpstreamError};
use crate::attio::vault::{Connection, ConnectionStatus, Tokens};
use crate::base::user::UserId;

/// `GET /connect`.
pub async fn start<P: Platform>(p: &P, ctx: &Ctx<'_>, req: &Request) -> Result<Response, AppError> {
    if !p.within_limit(Limit::Flows, &rate_limit::by_address(req)).await {
        return Ok(too_many_requests());
    }
    if ctx.config.owner.is_some() {
        return Ok(page(
            StatusCode::OK,
            "Nothing to connect",
            &html!(
                "<h1>Nothing to connect</h1><div class=card><p>This gateway reaches Attio with its owner's workspace \
                 key, so nobody signs in with Attio here. Add the gateway's <code>{}/mcp</code> URL to your AI app \
                 and approve it on the consent page.</p></div>",
                ctx.origin.clone()
            ),
        ));
    }
    sign_in::begin(p, ctx, None, StatusCode::FOUND).await
}

#[derive(Debug, Default, Deserialize)]
struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /oauth/attio/callback`.
pub async fn callback<P: Platform>(p: &P, ctx: &Ctx<'_>, req: &Request) -> Result<Response, AppError> {
    // Counted like the start: each callback may send a code to Attio's token endpoint.
    if !p.within_limit(Limit::Flows, &rate_limit::by_address(req)).await {
        return Ok(too_many_requests());
    }
    let mut resp = finish_connect(p, ctx, req).await.unwrap_or_else(ErrorPage::into_response);
    // Whatever happened, this flow's binding is spent.
    add_cookie(&mut resp, &session::clear_cookie(CONNECT_COOKIE));
    Ok(resp)
}

/// An OAuth error code from Attio, kept only if it looks like one (it is shown on a page).
fn oauth_error_code(raw: &str) -> &str {
    if !raw.is_empty() && raw.len() <= 64 && raw.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        raw
    } else {
        "unknown_error"
    }
}

fn upstream_failure_page(e: &UpstreamError) -> ErrorPage {
    match e {
        UpstreamError::Rejected { error } => ErrorPage::new(
            StatusCode::BAD_REQUEST,
            "Attio refused the sign-in",
            format!("Attio's token endpoint answered \"{}\". Nothing was stored.", oauth_error_code(error)),
            TRY_AGAIN,
        ),
        UpstreamError::Transient(_) | UpstreamError::Malformed => ErrorPage::new(
            StatusCode::BAD_GATEWAY,
            "Attio did not answer properly",
            "Attio's token endpoint failed or timed out while finishing the sign-in. Nothing was stored; please try again in a moment.",
            TRY_AGAIN,
        ),
    }
}

async fn finish_connect<P: Platform>(p: &P, ctx: &Ctx<'_>, req: &Request) -> Result<Response, ErrorPage> {
    let params: CallbackParams = serde_urlencoded::from_str(req.uri().query().unwrap_or("")).unwrap_or_default();
    let bad =
        |title: &'static str, message: &'static str| ErrorPage::new(StatusCode::BAD_REQUEST, title, message, TRY_AGAIN);
    let Some(state) = params.state.filter(|s| !s.is_empty()).map(UpstreamState::new) else {
        return Err(bad("Missing state", "This sign-in response has no state parameter, so it cannot be trusted."));
    };
    // The browser carries its sign-in, sealed for this state: another browser (or a forged
    // state) opens nothing, and nothing was stored to look up. A sign-in the release before
    // stored is taken from storage, once.
    let carried = sign_in::carried(ctx, req, &state);
    if carried.as_ref().is_some_and(|s| p.now_ms() >= s.expires_at_ms) {
        return Err(bad("Sign-in expired", "This sign-in has expired (after 10 minutes). Start again."));
    }
    let stored = carried.is_none();
    let pending = match carried {
        Some(sign_in) => sign_in,
        None => match sign_in::stored(p, ctx, req, &state).await {
            Ok(Some(sign_in)) => sign_in,
            Ok(None) => {
                return Err(ErrorPage::new(
                    StatusCode::FORBIDDEN,
                    "Sign-in expired or started elsewhere",
                    "This sign-in was started in a different browser, has expired (after 10 minutes), or was \
                     already used. Start again from this browser.",
                    TRY_AGAIN,
                ))
            }
            Err(_) => {
                return Err(ErrorPage::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Temporarily unavailable",
                    "The gateway could not check this sign-in. Please try again.",
                    TRY_AGAIN,
                ))
            }
        },
    };
    if let Some(error) = params.error.as_deref() {
        return Err(if error == "access_denied" {
            ErrorPage::new(
                StatusCode::BAD_REQUEST,
                "Access not granted",
                "You declined access in Attio, so nothing was connected.",
                TRY_AGAIN,
            )
        } else {
            let _ = params.error_description;
            ErrorPage::new(
                StatusCode::BAD_REQUEST,
                "Attio reported an error",
                format!("Attio answered \"{}\" instead of a sign-in code.", oauth_error_code(error)),
                TRY_AGAIN,
            )
        });
    }
    let Some(code) = params.code.as_deref().filter(|c| !c.is_empty()) else {
        return Err(bad("Missing code", "Attio's response carried no authorization code."));
    };
    let verifier = pending.pkce_verifier.clone().map(PkceVerifier::new);
    let grant =
        upstream::exchange_code(p, ctx.config, &pending.redirect_uri, code, verifier.as_ref()).await.map_err(|e| {
            p.log("connect.exchange_failed", &e.to_string());
            upstream_failure_page(&e)
        })?;
    // Attio vouched for the code: now the state is spent, once (a second callback for it is
    // refused, and the token it just got is given back).
    if !stored {
        match one_time::spend_state(p, ctx.keys(), &state, pending.expires_at_ms).await {
            Ok(true) => {}
            spent_or_failed => {
                let _ = upstream::revoke(p, ctx.config, grant.access.expose_secret()).await;
                return Err(match spent_or_failed {
                    Ok(_) => {
                        bad("Sign-in already used", "This sign-in was already completed. Start again if you need to.")
                    }
                    Err(_) => ErrorPage::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "Temporarily unavailable",
                        "The gateway could not check this sign-in. Nothing was kept; please try again.",
                        TRY_AGAIN,
                    ),
                });
            }
        }
    }
    let identity = identify(p, ctx.config, &grant.access).await?;
    let Some(user) = UserId::new(&identity.workspace_id, &identity.authorized_by_workspace_member_id) else {
        return Err(ErrorPage::new(
            StatusCode::BAD_GATEWAY,
            "Unexpected answer from Attio",
            "Attio's identity answer was not usable.",
            TRY_AGAIN,
        ));
    };
    if let Some(allowed) = &ctx.config.allowed_workspaces {
        if !allowed.iter().any(|w| *w == identity.workspace_id || *w == identity.workspace_slug) {
            // Do not leave a token we will not use lying around at Attio.
            let _ = upstream::revoke(p, ctx.config, grant.access.expose_secret()).await;
            return Err(ErrorPage::new(
                StatusCode::FORBIDDEN,
                "Workspace not allowed",
                format!(
                    "This gateway does not serve the Attio workspace \"{}\". Ask its administrator.",
                    identity.workspace_name
                ),
                NOTHING,
            ));
        }
    }
    let member = admitted_member(p, ctx, &grant.access, &user).await?;
    let now = p.now_ms();
    let tokens = Tokens { access: grant.access.clone(), refresh: grant.refresh.clone() };
    let make = |revision, epoch| Connection {
        user: user.clone(),
        workspace_slug: identity.workspace_slug.clone(),
        workspace_name: identity.workspace_name.clone(),
        scope: identity.scope.clone(),
        status: ConnectionStatus::Active,
        tokens: Some(tokens.clone()),
        access_expires_at_ms: grant.expires_in.map(|s| now + s * 1000),
        connected_at_ms: now,
        updated_at_ms: now,
        revision,
        epoch,
        member_email: member.email.clone(),
        member_name: member.name.clone(),
    };
    let connection = match connection::establish(p, ctx.vault(), &user, connection::random_epoch(p), make).await {
        Ok(connection) => connection,
        Err(e) => {
            p.log("connect.store_failed", &e.to_string());
            let _ = upstream::revoke(p, ctx.config, grant.access.expose_secret()).await;
            let spent = match &e {
                ConnectionError::Storage(s) => crate::platform::spent_budget(s),
                _ => None,
            };
            let message = match spent {
                Some(budget) => format!("{budget}, so no new connection can be saved today. Nothing was kept."),
                None => "The gateway could not store your connection. Nothing was kept; please try again.".into(),
            };
            return Err(ErrorPage::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Could not save the connection",
                message,
                TRY_AGAIN,
            ));
        }
    };
    p.log("connect.connected", &format!("workspace {} member {}", user.workspace_id, user.member_id));
    let sid = SessionId::new(p.token().map_err(|_| bad("Temporarily unavailable", "Please try again."))?);
    let session = Session { user: user.clone(), sid, expires_at_ms: now + SESSION_TTL_SECS * 1000 };
    // Back to the MCP client that asked, or to the connected-apps page.
    let location = match &pending.continuation {
        Some(approved) => consent::complete(p, ctx, approved, &connection).await?,
        None => paths::ACCOUNT.to_string(),
    };
    let mut resp = redirect(StatusCode::SEE_OTHER, &location);
    add_cookie(&mut resp, &session::set_cookie(SESSION_COOKIE, &session.encode(ctx.keys()), SESSION_TTL_SECS));
    if let Some(approved) = &pending.continuation {
        if let Some(cookie) = consent::remember(ctx.keys(), req, approved, &user) {
            add_cookie(&mut resp, &cookie);
        }
    }
    Ok(resp)
}

/// Who the connecting member is (their name and email, for the administrators' pages, as far as
/// Attio says), and whether `ATTIO_ALLOWED_MEMBERS` admits them. With a list, an email that
/// cannot be learned (no `user_management:read` scope, an outage) is refused: the list decides,
/// not a guess; without one, an unknown profile only leaves the pages showing the member id.
async fn admitted_member<P: Platform>(
    p: &P,
    ctx: &Ctx<'_>,
    token: &crate::base::secret::AttioAccessToken,
    user: &UserId,
) -> Result<crate::attio::members::Profile, ErrorPage> {
    let profile = match ctx.config.attio().member_profile(p, token, &user.member_id).await {
        Ok(profile) => profile,
        Err(e) => {
            p.log("connect.member_lookup_failed", &e.to_string());
            crate::attio::members::Profile::default()
        }
    };
    let Some(allowed) = &ctx.config.allowed_members else { return Ok(profile) };
    let email = profile.email.clone();
    if email.as_ref().is_some_and(|e| allowed.contains(e)) {
        return Ok(profile);
    }
    // Do not leave a token we will not use lying around at Attio.
    let _ = upstream::revoke(p, ctx.config, token.expose_secret()).await;
    Err(match email {
        Some(email) => ErrorPage::new(
            StatusCode::FORBIDDEN,
            "Member not allowed",
            format!("This gateway does not serve {email}. Ask its administrator to add you."),
            NOTHING,
        ),
        None => ErrorPage::new(
            StatusCode::FORBIDDEN,
            "Member could not be checked",
            "This gateway admits only some members, and Attio did not tell it your email address (the \
             Attio app needs the user_management:read scope). Ask its administrator.",
            NOTHING,
        ),
    })
}

async fn identify<P: Platform>(
    p: &P,
    config: &Config,
    token: &crate::base::secret::AttioAccessToken,
) -> Result<Identity, ErrorPage> {
    match config.attio().identify(p, token).await {
        Ok(TokenStatus::Active(identity)) => Ok(identity),
        Ok(TokenStatus::Inactive) => Err(ErrorPage::new(
            StatusCode::BAD_GATEWAY,
            "Attio did not confirm the connection",
            "Attio says the token it just issued is not active. Nothing was stored.",
            TRY_AGAIN,
        )),
        Err(e) => {
            p.log("connect.identify_failed", &e.to_string());
            Err(ErrorPage::new(
                StatusCode::BAD_GATEWAY,
                "Attio did not answer properly",
                "Attio could not confirm who this connection belongs to. Nothing was stored; please try again.",
                TRY_AGAIN,
            ))
        }
    }
}

fn wants_json(req: &Request) -> bool {
    req.headers().get(ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("application/json"))
}

/// The answer when the person has no usable connection (JSON or a page).
fn reconnect(json_wanted: bool, code: &str, message: &str) -> Response {
    if json_wanted {
        return json_response(
            StatusCode::UNAUTHORIZED,
            &json!({"error": code, "error_description": message, "connect": paths::CONNECT}),
        );
    }
    page(
        StatusCode::OK,
        "Attio not connected",
        &html!("<h1>Attio not connected</h1><div class=card><p>{}</p></div>{}", message, TRY_AGAIN),
    )
}

fn unavailable(json_wanted: bool, e: &ConnectionError) -> Response {
    let retry_after = match e {
        ConnectionError::Upstream(AttioError::RateLimited { retry_after }) => retry_after.clone(),
        ConnectionError::RefreshBusy => Some("1".into()),
        _ => None,
    };
    let message = format!("{e}. Please try again shortly.");
    let mut resp = if json_wanted {
        json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"error": "temporarily_unavailable", "error_description": message}),
        )
    } else {
        error_page(StatusCode::SERVICE_UNAVAILABLE, "Temporarily unavailable", &message, &NOTHING)
    };
    if let Some(v) = retry_after {
        set_header(&mut resp, RETRY_AFTER, &v);
    }
    resp
}

fn connection_error(json_wanted: bool, e: &ConnectionError) -> Response {
    match e {
        ConnectionError::NotConnected => {
            reconnect(json_wanted, "not_connected", "You have not connected an Attio workspace yet.")
        }
        ConnectionError::Revoked => reconnect(
            json_wanted,
            "reauthorization_required",
            "Attio no longer accepts this connection (it was revoked or expired). Connect again.",
        ),
        ConnectionError::Unreadable => reconnect(
            json_wanted,
            "reauthorization_required",
            "Your stored connection could not be read. Connect again to replace it.",
        ),
        other => unavailable(json_wanted, other),
    }
}

/// `GET /connect/status`.
pub async fn status<P: Platform>(p: &P, ctx: &Ctx<'_>, req: &Request) -> Result<Response, AppError> {
    let config = ctx.config;
    let json_wanted = wants_json(req);
    let Some(session) = Session::from_request(ctx.keys(), req, p.now_ms()) else {
        return Ok(reconnect(json_wanted, "not_signed_in", "Connect your Attio workspace to use this gateway."));
    };
    let conn = match connection::usable(p, config, ctx.vault(), &session.user).await {
        Ok(c) => c,
        Err(e) => return Ok(connection_error(json_wanted, &e)),
    };
    let identity = match connection::verify(p, config, ctx.vault(), &conn).await {
        Ok(TokenStatus::Active(identity)) => identity,
        Ok(TokenStatus::Inactive) => return Ok(connection_error(json_wanted, &ConnectionError::Revoked)),
        Err(e) => return Ok(connection_error(json_wanted, &e)),
    };
    if json_wanted {
        return Ok(json_response(
            StatusCode::OK,
            &json!({
                "status": "connected",
                "workspace": {"id": conn.user.workspace_id, "slug": identity.workspace_slug, "name": identity.workspace_name},
                "member_id": conn.user.member_id,
                "scopes": identity.scope.split_whitespace().collect::<Vec<_>>(),
                "token_expires_at_ms": conn.access_expires_at_ms,
                "connected_at_ms": conn.connected_at_ms,
            }),
        ));
    }
    let body = html!(
        "<h1>Attio connected</h1><div class=card><dl><dt>Workspace</dt><dd>{} ({})</dd>\
         <dt>Member</dt><dd>{}</dd><dt>Scopes</dt><dd>{}</dd></dl></div>\
         <form method=post action=\"{DISCONNECT}\"><input type=hidden name=csrf value=\"{}\">\
         <button type=submit>Disconnect Attio</button></form>",
        identity.workspace_name,
        identity.workspace_slug,
        conn.user.member_id,
        identity.scope,
        session.csrf_token(ctx.keys()),
    );
    Ok(page(StatusCode::OK, "Attio connected", &body))
}

#[derive(Debug, Deserialize)]
struct DisconnectForm {
    csrf: Option<String>,
}

/// `POST /connect/disconnect`.
pub async fn disconnect<P: Platform>(p: &P, ctx: &Ctx<'_>, req: &Request) -> Result<Response, AppError> {
    let config = ctx.config;
    let forbidden = |message: &str| error_page(StatusCode::FORBIDDEN, "Request refused", message, &NOTHING);
    let Some(session) = Session::from_request(ctx.keys(), req, p.now_ms()) else {
        return Ok(error_page(
            StatusCode::UNAUTHORIZED,
            "Not signed in",
            "Your session has expired. Connect again to manage your connection.",
            &TRY_AGAIN,
        ));
    };
    let form: DisconnectForm = serde_urlencoded::from_bytes(req.body()).unwrap_or(DisconnectForm { csrf: None });
    if let Some(why) = session::form_refusal(ctx, req, &session, form.csrf.as_deref()) {
        return Ok(forbidden(why));
    }
    if connection::disconnect(p, config, &session.user).await.is_err() {
        return Ok(error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Temporarily unavailable",
            "The connection could not be removed. Please try again.",
            &NOTHING,
        ));
    }
    p.log("disconnect.done", &format!("workspace {} member {}", session.user.workspace_id, session.user.member_id));
    let mut resp = page(
        StatusCode::OK,
        "Attio disconnected",
        &html!(
            "<h1>Attio disconnected</h1><div class=card><p>The gateway no longer holds a token for your workspace, \
             asked Attio to revoke it, and revoked every app you had approved.</p></div>{}",
            TRY_AGAIN
        ),
    );
    add_cookie(&mut resp, &session::clear_cookie(SESSION_COOKIE));
    Ok(resp)
}

/// `GET /connect/audit`: the signed-in person's most recent audit entries (JSON).
pub async fn audit_log<P: Platform>(p: &P, ctx: &Ctx<'_>, req: &Request) -> Result<Response, AppError> {
    let config = ctx.config;
    let keys = config.keys();
    let Some(session) = Session::from_request(keys, req, p.now_ms()) else {
        return Ok(reconnect(true, "not_signed_in", "Connect your Attio workspace to see its activity."));
    };
    let entries = crate::store::audit::recent(p, &session.user, 100)
        .await
        .map_err(|e| AppError::unavailable_because("the audit log", e))?;
    let retention_days = crate::store::audit::RETENTION_SECS / 86_400;
    Ok(json_response(StatusCode::OK, &json!({"entries": entries, "retention_days": retention_days})))
}
