//! The authorization-code flow for MCP clients (OAuth 2.1 §4.1, RFC 7636, RFC 8707, RFC 9207,
//! RFC 7009), chained to the Attio connection:
//!
//! 1. `GET /authorize`: the client and redirect URI are checked first (a bad one gets a page,
//!    never a redirect); then PKCE (S256 only), scope and resource (errors go back to the
//!    client). The request is kept server-side and our consent page is shown, bound to this
//!    browser by a `__Host-` cookie and carrying a CSRF token.
//! 2. `POST /authorize`: the person's decision. Approval with a live Attio connection in this
//!    browser's session issues a code at once; otherwise the Attio sign-in runs first and the
//!    code is issued when it returns ([`crate::sign_in`], then [`crate::consent`] from the
//!    Attio callback). Every redirect back carries `state` and `iss`.
//! 3. `POST /token`: code redemption (single use, bound to client, redirect URI, PKCE and
//!    resource; a replayed code revokes what it issued) and refresh rotation
//!    ([`crate::oauth::grant`]), all through [`crate::store`], so they hold under concurrency.
//!    Clients authenticate first ([`crate::client_auth`]).
//! 4. `POST /revoke`: RFC 7009, a client revokes only its own tokens.
//!
//! Bearer validation for protected routes is [`crate::access`].

use http::header::{AUTHORIZATION, ORIGIN};
use http::StatusCode;
use serde_json::json;

use crate::client_auth::{self, parse_basic};
use crate::clients;
use crate::config::Config;
use crate::connection;
use crate::consent;
use crate::context::origin;
use crate::crypto::keys::SigningKeys;
use crate::error::AppError;
use crate::http::{
    add_cookie, json as json_response, redirect as redirect_response, set_header, with_cors, Request, Response,
};
use crate::oauth::approval::Approved;
use crate::oauth::client::RegisteredClient;
use crate::oauth::grant::{self, CodeGrant, Grant, Issued, RefreshOutcome, TokenKind};
use crate::oauth::metadata::{Audience, SCOPE_WRITE, TOKEN_EXCHANGE};
use crate::oauth::{grant_index, pkce, redirect, OAuthError};
use crate::pages::{avatar, error_page, escape, page_with_form_targets};
use crate::platform::Platform;
use crate::session::{self, Session};
use crate::sign_in;
use crate::store::grants::{self, Replaced};
use crate::store::one_time::{self, Redeemed};
use crate::vault::UserId;

pub const AUTHORIZE: &str = "/authorize";
pub const TOKEN: &str = "/token";
pub const REVOKE: &str = "/revoke";

const AUTHZ_COOKIE: &str = "__Host-agw-authz";
const AUTHZ_TTL_SECS: u64 = 600;
/// Query or form parameters, refusing any repeated name (RFC 6749 §3.1).
pub fn params(raw: &str) -> Result<Vec<(String, String)>, &'static str> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes()).into_owned().collect();
    for (i, (k, _)) in pairs.iter().enumerate() {
        if pairs[..i].iter().any(|(other, _)| other == k) {
            return Err("a parameter was given more than once");
        }
    }
    Ok(pairs)
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

/// An error sent back to the client's (validated) redirect URI, with `state` and `iss`.
fn error_redirect(status: StatusCode, origin: &str, approved: &Approved, error: &str, description: &str) -> Response {
    let mut extra = vec![("error", error), ("error_description", description), ("iss", origin)];
    if let Some(s) = &approved.state {
        extra.push(("state", s));
    }
    redirect_response(status, &consent::redirect_url(&approved.redirect_uri, &extra))
}

fn bad_request_page(title: &str, message: &str) -> Response {
    error_page(StatusCode::BAD_REQUEST, title, message, "<p>Return to the application and try connecting again.</p>")
}

fn host_of(uri: &str) -> String {
    match crate::uri::parse(uri) {
        Some(u) if u.scheme() == "https" || u.scheme() == "http" => u.host_str().unwrap_or("").to_string(),
        Some(u) => format!("{}:// (an app on this device)", u.scheme()),
        None => String::new(),
    }
}

/// `GET /authorize`.
pub async fn authorize<P: Platform>(p: &P, config: &Config, req: &Request) -> Result<Response, AppError> {
    let origin = origin(config, req);
    let keys = config.keys();
    let q = match params(req.uri().query().unwrap_or("")) {
        Ok(q) => q,
        Err(why) => return Ok(bad_request_page("Invalid request", why)),
    };
    // 1. Client and redirect URI: until both are known good, nothing is redirected anywhere.
    let Some(client_id) = param(&q, "client_id") else {
        return Ok(bad_request_page("Invalid request", "The request names no client."));
    };
    let client = match clients::load(p, config, client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return Ok(bad_request_page("Unknown application", "This application is not registered with this gateway."))
        }
        Err(_) => return Err(AppError::Unavailable("client storage")),
    };
    let redirect_uri = match param(&q, "redirect_uri") {
        Some(r) if redirect::matches(&client.redirect_uris, r) => r.to_string(),
        Some(_) => {
            return Ok(bad_request_page(
                "Redirect address not allowed",
                "The application asked to be sent back to an address it did not register. Nothing was sent there.",
            ))
        }
        None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
        None => return Ok(bad_request_page("Invalid request", "The request names no redirect_uri.")),
    };
    let mut approved = Approved {
        client_id: client.client_id.clone(),
        redirect_uri,
        state: param(&q, "state").map(str::to_string),
        code_challenge: String::new(),
        audience: Audience::Mcp,
        scope: Vec::new(),
    };
    // 2. Everything else: errors go back to the client.
    let back =
        |error: &str, description: &str| Ok(error_redirect(StatusCode::FOUND, &origin, &approved, error, description));
    if param(&q, "response_type") != Some("code") {
        return back("unsupported_response_type", "response_type must be code");
    }
    let challenge = param(&q, "code_challenge").unwrap_or("");
    if let Err(why) = pkce::valid_challenge(challenge, param(&q, "code_challenge_method")) {
        return back("invalid_request", why);
    }
    let requested = match grant::parse_scope(param(&q, "scope").unwrap_or("")) {
        Ok(s) if s.is_empty() => grant::scopes_for(true),
        Ok(s) => s,
        Err(why) => return back("invalid_scope", &why),
    };
    let audience = match param(&q, "resource") {
        None => Audience::Mcp,
        Some(r) => match Audience::from_resource(&origin, r) {
            Some(a) => a,
            None => return back("invalid_target", "resource is not one of this server's resources"),
        },
    };
    approved.code_challenge = challenge.to_string();
    approved.audience = audience;
    approved.scope = requested;

    if let Some(test) = config.test_mode.as_ref().filter(|t| t.auto_approve) {
        return auto_approve(p, config, req, test, &approved).await;
    }
    if let Some(user) = signed_in_user(p, config, keys, req).await {
        if consent::remembered(keys, req, &approved, &user) {
            return Ok(match consent::complete(p, config, req, &approved, &user).await {
                Ok(location) => redirect_response(StatusCode::FOUND, &location),
                Err(page) => page,
            });
        }
    }

    // 3. Keep the request here; show the consent page.
    let request_id = p.token().map_err(|_| AppError::Unavailable("randomness"))?;
    let expires_at_ms = p.now_ms() + AUTHZ_TTL_SECS * 1000;
    match one_time::put_request(p, keys, &request_id, &approved, expires_at_ms).await {
        Ok(true) => {}
        _ => return Err(AppError::Unavailable("the authorization store")),
    }
    let workspace = match Session::from_request(keys, req, p.now_ms()) {
        Some(s) => crate::vault::load_sealed(p, &s.user).await.ok().flatten().map(|c| c.workspace_name),
        None => None,
    };
    let mut resp = consent_page(config, &client, &approved, &request_id, workspace.as_deref());
    add_cookie(
        &mut resp,
        &session::set_cookie(AUTHZ_COOKIE, &keys.sign(&format!("authz|{request_id}")), AUTHZ_TTL_SECS),
    );
    Ok(resp)
}

/// Test mode only (loopback Attio, `TEST_AUTO_APPROVE=1`): approve as the owner of
/// `TEST_ATTIO_TOKEN`, vaulting that token as their connection, with no consent page and no
/// Attio sign-in — what the MCP conformance suite needs to drive `/authorize` unattended.
async fn auto_approve<P: Platform>(
    p: &P,
    config: &Config,
    req: &Request,
    test: &crate::config::TestMode,
    approved: &Approved,
) -> Result<Response, AppError> {
    let token = test.attio_token.clone().ok_or_else(|| crate::config::ConfigError {
        problems: vec!["TEST_AUTO_APPROVE needs TEST_ATTIO_TOKEN".into()],
    })?;
    let identity = match crate::attio::AttioApi::new(config.attio_api_base.clone()).identify(p, &token).await? {
        crate::attio::identity::TokenStatus::Active(identity) => identity,
        crate::attio::identity::TokenStatus::Inactive => return Err(AppError::Unavailable("the test Attio token")),
    };
    let user = UserId::new(&identity.workspace_id, &identity.authorized_by_workspace_member_id)
        .ok_or(AppError::Unavailable("the test Attio identity"))?;
    let now = p.now_ms();
    let connection = crate::vault::Connection {
        user: user.clone(),
        workspace_slug: identity.workspace_slug,
        workspace_name: identity.workspace_name,
        scope: identity.scope,
        status: crate::vault::ConnectionStatus::Active,
        tokens: Some(crate::vault::Tokens { access: token, refresh: None }),
        access_expires_at_ms: None,
        connected_at_ms: now,
        updated_at_ms: now,
        revision: now,
    };
    crate::vault::save(p, config.vault(), &connection)
        .await
        .map_err(|_| AppError::Unavailable("connection storage"))?;
    match consent::complete(p, config, req, approved, &user).await {
        Ok(location) => Ok(redirect_response(StatusCode::FOUND, &location)),
        Err(page) => Ok(page),
    }
}

fn consent_page(
    config: &Config,
    client: &RegisteredClient,
    approved: &Approved,
    request_id: &str,
    workspace: Option<&str>,
) -> Response {
    let keys = config.keys();
    let can_write = approved.scope.iter().any(|s| s == SCOPE_WRITE);
    let kind = redirect::validate(&approved.redirect_uri).ok();
    let warning = if kind == Some(redirect::RedirectKind::PrivateUse) {
        "<p role=note><strong>Note:</strong> this application returns to an app on your device. Only continue if you \
         just started connecting it yourself.</p>"
    } else {
        ""
    };
    let workspace = workspace.map_or(String::from("your Attio workspace (you will sign in to Attio next)"), |w| {
        format!("the Attio workspace <strong>{}</strong>", escape(w))
    });
    let write_option = if can_write {
        "<label><input type=radio name=access value=write checked> Read and change your Attio data \
         (create, update and delete records, notes, tasks and list entries)</label><br>\
         <label><input type=radio name=access value=read> Only read your Attio data</label>"
    } else {
        "<label><input type=radio name=access value=read checked> Only read your Attio data</label>"
    };
    let body = format!(
        "<h1>Allow access to Attio?</h1>\
         <div class=card><p>{avatar}<strong>{name}</strong> wants to use {workspace} through this gateway.</p>\
         <dl><dt>It will be sent back to</dt><dd>{host}</dd></dl>{warning}</div>\
         <form method=post action=\"{AUTHORIZE}\">\
         <input type=hidden name=request value=\"{request}\"><input type=hidden name=csrf value=\"{csrf}\">\
         <fieldset><legend>What may it do?</legend>{write_option}</fieldset>\
         <p><button class=primary type=submit name=decision value=approve>Allow</button> \
         <button type=submit name=decision value=deny>Deny</button></p></form>",
        avatar = avatar(client.display_name()),
        name = escape(client.display_name()),
        host = escape(&host_of(&approved.redirect_uri)),
        request = escape(request_id),
        csrf = escape(&keys.sign(&format!("authz-csrf|{request_id}"))),
    );
    // The decision redirects to Attio's sign-in or back to the app: both are form targets.
    let targets = [config.attio_app_base.as_str(), approved.redirect_uri.as_str()];
    page_with_form_targets(StatusCode::OK, "Allow access to Attio?", &body, &targets)
}

/// `POST /authorize`: the consent decision.
pub async fn decide<P: Platform>(p: &P, config: &Config, req: &Request) -> Result<Response, AppError> {
    let origin = origin(config, req);
    let keys = config.keys();
    let forbidden = |m: &str| Ok(error_page(StatusCode::FORBIDDEN, "Request refused", m, ""));
    if req.headers().get(ORIGIN).and_then(|v| v.to_str().ok()).is_some_and(|o| o != origin) {
        return forbidden("This form was submitted from another site.");
    }
    let form = match params(std::str::from_utf8(req.body()).unwrap_or("")) {
        Ok(f) => f,
        Err(why) => return Ok(bad_request_page("Invalid request", why)),
    };
    let Some(request_id) = param(&form, "request") else {
        return Ok(bad_request_page("Invalid request", "The form is incomplete."));
    };
    let bound = session::cookie(req, AUTHZ_COOKIE).is_some_and(|c| keys.verify(&format!("authz|{request_id}"), c));
    let csrf_ok = param(&form, "csrf").is_some_and(|t| keys.verify(&format!("authz-csrf|{request_id}"), t));
    if !bound || !csrf_ok {
        return forbidden(
            "This consent form was not issued to this browser, or it has expired. Start again from the application.",
        );
    }
    let mut approved: Approved = match one_time::take_request(p, keys, request_id).await {
        Ok(Some(approved)) => approved,
        Ok(None) => {
            return Ok(bad_request_page("Request expired", "This consent request has expired or was already answered."))
        }
        Err(_) => return Err(AppError::Unavailable("the authorization store")),
    };
    // Rebuilt from storage: check the client and redirect URI again before redirecting.
    match clients::load(p, config, &approved.client_id).await {
        Ok(Some(c)) if redirect::matches(&c.redirect_uris, &approved.redirect_uri) => {}
        Ok(_) => return Ok(bad_request_page("Unknown application", "This application is no longer registered.")),
        Err(_) => return Err(AppError::Unavailable("client storage")),
    }
    let mut resp = if param(&form, "decision") != Some("approve") {
        error_redirect(StatusCode::SEE_OTHER, &origin, &approved, "access_denied", "the person denied access")
    } else {
        let write = param(&form, "access") == Some("write") && approved.scope.iter().any(|s| s == SCOPE_WRITE);
        approved.scope = grant::scopes_for(write);
        match signed_in_user(p, config, keys, req).await {
            Some(user) => match consent::complete(p, config, req, &approved, &user).await {
                Ok(location) => {
                    let mut resp = redirect_response(StatusCode::SEE_OTHER, &location);
                    add_cookie(&mut resp, &consent::remember(keys, req, &approved, &user));
                    resp
                }
                Err(page) => page,
            },
            // Not signed in, or no usable connection: Attio first, then back here.
            None => sign_in::begin(p, config, req, Some(approved), StatusCode::SEE_OTHER).await?,
        }
    };
    add_cookie(&mut resp, &session::clear_cookie(AUTHZ_COOKIE));
    Ok(resp)
}

/// The user signed in to this browser, if their Attio connection is active.
async fn signed_in_user<P: Platform>(p: &P, config: &Config, keys: &SigningKeys, req: &Request) -> Option<UserId> {
    let session = Session::from_request(keys, req, p.now_ms())?;
    let vault = config.vault();
    connection::usable(p, config, vault, &session.user).await.ok().map(|c| c.user)
}

// ---------------------------------------------------------------------------------------------
// Token endpoint

fn token_response(issued: &Issued) -> Response {
    let mut body = json!({
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in_secs,
        "scope": issued.scope.join(" "),
    });
    if let Some(r) = &issued.refresh_token {
        body["refresh_token"] = json!(r);
    }
    let mut resp = json_response(StatusCode::OK, &body);
    set_header(&mut resp, http::header::PRAGMA, "no-cache");
    resp
}

/// `POST /token`.
pub async fn token<P: Platform>(p: &P, config: &Config, req: &Request) -> Result<Response, AppError> {
    let resp = match token_inner(p, config, req).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    };
    Ok(with_cors(resp))
}

async fn token_inner<P: Platform>(p: &P, config: &Config, req: &Request) -> Result<Response, OAuthError> {
    let keys = config.keys();
    let form = params(std::str::from_utf8(req.body()).unwrap_or("")).map_err(OAuthError::invalid_request)?;
    if param(&form, "grant_type") == Some(TOKEN_EXCHANGE) {
        return exchange(p, config, keys, req, &form).await;
    }
    let origin = origin(config, req);
    let client = client_auth::authenticate(p, config, &origin, &format!("{origin}{TOKEN}"), req, &form).await?;
    match param(&form, "grant_type") {
        Some("authorization_code") => redeem_code(p, config, keys, req, &client, &form).await,
        Some("refresh_token") => refresh(p, config, keys, req, &client, &form).await,
        Some(_) => Err(OAuthError::unsupported_grant_type("supported: authorization_code, refresh_token")),
        None => Err(OAuthError::invalid_request("grant_type is required")),
    }
}

async fn redeem_code<P: Platform>(
    p: &P,
    config: &Config,
    keys: &SigningKeys,
    req: &Request,
    client: &RegisteredClient,
    form: &[(String, String)],
) -> Result<Response, OAuthError> {
    let unavailable = |_| OAuthError::temporarily_unavailable("grant storage is unavailable");
    let code = param(form, "code").ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    let verifier =
        param(form, "code_verifier").ok_or_else(|| OAuthError::invalid_request("code_verifier is required (PKCE)"))?;
    let Some(record) = one_time::peek_code(p, keys, code).await.map_err(unavailable)? else {
        return Err(replayed_code(p, keys, code, client).await);
    };
    // Checks that must not burn the code: another client, redirect URI or resource.
    if record.client_id != client.client_id {
        return Err(OAuthError::invalid_grant("the code was issued to another client"));
    }
    if param(form, "redirect_uri").is_some_and(|r| r != record.redirect_uri) {
        return Err(OAuthError::invalid_grant("redirect_uri does not match the authorization request"));
    }
    let origin = origin(config, req);
    if param(form, "resource").is_some_and(|r| Audience::from_resource(&origin, r) != Some(record.audience)) {
        return Err(OAuthError::invalid_target("resource does not match the authorization request"));
    }
    // Now spend it: exactly one request gets past this line.
    if one_time::take_code(p, keys, code).await.map_err(unavailable)?.is_none() {
        return Err(replayed_code(p, keys, code, client).await);
    }
    if !pkce::verify(verifier, &record.code_challenge) {
        return Err(OAuthError::invalid_grant("code_verifier does not match the code_challenge"));
    }
    let now = p.now_ms();
    let (grant, issued) = create_grant(p, keys, &record, client.display_name(), client.allows_refresh(), None).await?;
    let redeemed = Redeemed { grant_id: grant.grant_id, client_id: client.client_id.clone() };
    let _ = one_time::mark_redeemed(p, keys, code, &redeemed, now + 600_000).await;
    Ok(token_response(&issued))
}

/// Creates a grant with its first tokens, in its own object. `lifetime_ms` shortens both the
/// grant and its access token (exchanged tokens); `None` keeps the defaults.
async fn create_grant<P: Platform>(
    p: &P,
    keys: &SigningKeys,
    record: &CodeGrant,
    client_name: &str,
    with_refresh: bool,
    lifetime_ms: Option<u64>,
) -> Result<(Grant, Issued), OAuthError> {
    let random = || p.token().map_err(|_| OAuthError::temporarily_unavailable("randomness"));
    let mut gid = [0u8; 16];
    p.fill(&mut gid).map_err(|_| OAuthError::temporarily_unavailable("randomness"))?;
    let access_secret = random()?;
    let refresh_secret = if with_refresh { Some(random()?) } else { None };
    let now = p.now_ms();
    let (mut grant, mut issued) =
        Grant::issue(keys, grant::new_grant_id(gid), record, &access_secret, refresh_secret.as_deref(), now);
    if let Some(lifetime) = lifetime_ms {
        grant.expires_at_ms = now + lifetime;
        for a in &mut grant.access {
            a.expires_at_ms = now + lifetime;
        }
        issued.expires_in_secs = lifetime / 1000;
    }
    if grants::create(p, &grant).await != Ok(true) {
        return Err(OAuthError::temporarily_unavailable("could not create the grant"));
    }
    let entry = grant_index::Entry {
        grant_id: grant.grant_id.clone(),
        client_id: record.client_id.clone(),
        client_name: client_name.to_string(),
        redirect_host: host_of(&record.redirect_uri),
        write: grant.scope.iter().any(|s| s == SCOPE_WRITE),
        audience: match grant.audience {
            Audience::Mcp => "mcp".into(),
            Audience::Api => "rest".into(),
        },
        created_at_ms: now,
        expires_at_ms: grant.expires_at_ms,
    };
    // Only the account page reads the index: a failure here costs a row there, not the grant.
    if let Err(e) = grant_index::record(p, &grant.user, &entry, now).await {
        p.log("grant.index_failed", &e.0);
    }
    Ok((grant, issued))
}

/// A code that is gone: if it was redeemed and the same client presents it again, that is a
/// replay, and what it issued is revoked (OAuth 2.1 §4.1.3). Checked only after the client
/// authenticated, so a forged request cannot revoke anyone's grant.
async fn replayed_code<P: Platform>(p: &P, keys: &SigningKeys, code: &str, client: &RegisteredClient) -> OAuthError {
    if let Ok(Some(r)) = one_time::redeemed(p, keys, code).await {
        if r.client_id == client.client_id {
            grants::revoke(p, &r.grant_id).await;
            p.log("token.code_replayed", &format!("client {}: grant revoked", client.client_id));
        }
    }
    OAuthError::invalid_grant("the code is invalid, expired or already used")
}

async fn refresh<P: Platform>(
    p: &P,
    config: &Config,
    keys: &SigningKeys,
    req: &Request,
    client: &RegisteredClient,
    form: &[(String, String)],
) -> Result<Response, OAuthError> {
    let unavailable = |_| OAuthError::temporarily_unavailable("grant storage is unavailable");
    let presented =
        param(form, "refresh_token").ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    let Some((TokenKind::Refresh, grant_id)) = grant::parse_token(presented) else {
        return Err(OAuthError::invalid_grant("unknown refresh token"));
    };
    let scope = match param(form, "scope") {
        Some(s) => Some(grant::parse_scope(s).map_err(OAuthError::invalid_scope)?),
        None => None,
    };
    for _ in 0..5 {
        let Some(current) = grants::load(p, grant_id).await.map_err(unavailable)? else {
            return Err(OAuthError::invalid_grant("unknown refresh token"));
        };
        let grant = &current.grant;
        if grant.client_id != client.client_id {
            return Err(OAuthError::invalid_grant("the token was issued to another client"));
        }
        let origin = origin(config, req);
        if param(form, "resource").is_some_and(|r| Audience::from_resource(&origin, r) != Some(grant.audience)) {
            return Err(OAuthError::invalid_target("resource does not match the grant"));
        }
        // A grant lives only as long as the Attio connection behind it.
        if !attio_connection_active(p, config, &grant.user).await? {
            grants::revoke(p, grant_id).await;
            return Err(OAuthError::invalid_grant(
                "the Attio connection behind this grant was revoked; authorize again",
            ));
        }
        let (next, answer) = match grant.refresh(keys, presented, scope.clone(), p.now_ms()) {
            RefreshOutcome::Rotated(next, issued) => (next, Ok(issued)),
            RefreshOutcome::Replayed(issued) => return Ok(token_response(&issued)),
            RefreshOutcome::Reused(dead) => {
                p.log("token.refresh_reused", &format!("client {}: grant revoked", client.client_id));
                (dead, Err(OAuthError::invalid_grant("refresh token reuse detected; the grant was revoked")))
            }
            RefreshOutcome::InvalidScope => return Err(OAuthError::invalid_scope("a refresh cannot widen the scope")),
            RefreshOutcome::Invalid(why) => return Err(OAuthError::invalid_grant(why)),
        };
        match grants::replace(p, &current, &next).await.map_err(unavailable)? {
            Replaced::Stored => return answer.map(|issued| token_response(&issued)),
            // Someone else rotated first: decide again against the new state.
            Replaced::Conflict => continue,
        }
    }
    Err(OAuthError::temporarily_unavailable("the grant is busy; retry"))
}

const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
/// Exchanged tokens are short-lived and cannot be refreshed.
const EXCHANGED_TTL_MS: u64 = 15 * 60 * 1000;

/// RFC 8693 token exchange, for backends named in `TOKEN_EXCHANGE_CLIENTS`: a person's access
/// token of ours (the subject) becomes a short-lived token for the REST proxy, with at most the
/// subject's scope. The backend reaches Attio through the gateway without ever holding the
/// Attio app's secret or anyone's Attio token.
async fn exchange<P: Platform>(
    p: &P,
    config: &Config,
    keys: &SigningKeys,
    req: &Request,
    form: &[(String, String)],
) -> Result<Response, OAuthError> {
    if config.exchange_clients.is_empty() {
        return Err(OAuthError::unsupported_grant_type("token exchange is not enabled on this gateway"));
    }
    let (id, secret) = match req.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        Some(v) => parse_basic(v).ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?,
        None => (
            param(form, "client_id").unwrap_or_default().to_string(),
            param(form, "client_secret").unwrap_or_default().to_string(),
        ),
    };
    let backend = config.exchange_clients.iter().find(|c| {
        c.id == id && crate::secret::constant_time_eq(c.secret.expose_secret().as_bytes(), secret.as_bytes())
    });
    let Some(backend) = backend else { return Err(OAuthError::invalid_client("client authentication failed")) };
    if param(form, "subject_token_type") != Some(ACCESS_TOKEN_TYPE) {
        return Err(OAuthError::invalid_request("subject_token_type must be an access token"));
    }
    if param(form, "requested_token_type").is_some_and(|t| t != ACCESS_TOKEN_TYPE) {
        return Err(OAuthError::invalid_request("only access tokens can be requested"));
    }
    let origin = origin(config, req);
    let target = param(form, "resource").or_else(|| param(form, "audience"));
    if target.is_some_and(|r| Audience::from_resource(&origin, r) != Some(Audience::Api)) {
        return Err(OAuthError::invalid_target("exchanged tokens are for the REST proxy only"));
    }
    let subject =
        param(form, "subject_token").ok_or_else(|| OAuthError::invalid_request("subject_token is required"))?;
    let Some((TokenKind::Access, grant_id)) = grant::parse_token(subject) else {
        return Err(OAuthError::invalid_grant("the subject token is not valid"));
    };
    let unavailable = |_| OAuthError::temporarily_unavailable("grant storage is unavailable");
    let Some(subject_grant) = grants::load(p, grant_id).await.map_err(unavailable)?.map(|v| v.grant) else {
        return Err(OAuthError::invalid_grant("the subject token is not valid"));
    };
    let now = p.now_ms();
    let subject_scope = subject_grant
        .check_access(keys, subject, subject_grant.audience, now)
        .map_err(|_| OAuthError::invalid_grant("the subject token is not valid"))?;
    let scope = match param(form, "scope") {
        Some(s) => {
            let wanted = grant::parse_scope(s).map_err(OAuthError::invalid_scope)?;
            if wanted.iter().any(|w| !subject_scope.contains(w)) {
                return Err(OAuthError::invalid_scope("cannot exceed the subject token's scope"));
            }
            wanted
        }
        None => subject_scope,
    };
    if !attio_connection_active(p, config, &subject_grant.user).await? {
        return Err(OAuthError::invalid_grant("the Attio connection behind the subject token was revoked"));
    }
    let record = CodeGrant {
        client_id: format!("exchange:{}", backend.id),
        redirect_uri: String::new(),
        code_challenge: String::new(),
        audience: Audience::Api,
        scope: scope.clone(),
        user: subject_grant.user.clone(),
    };
    let name = format!("Backend {}", backend.id);
    let (_, issued) = create_grant(p, keys, &record, &name, false, Some(EXCHANGED_TTL_MS)).await?;
    p.log("token.exchanged", &format!("backend {}", backend.id));
    let mut resp = token_response(&issued);
    if let Ok(mut body) = serde_json::from_slice::<serde_json::Value>(resp.body()) {
        body["issued_token_type"] = json!(ACCESS_TOKEN_TYPE);
        resp = json_response(StatusCode::OK, &body);
    }
    Ok(resp)
}

/// Whether the user's Attio connection is active (storage trouble is "try again", never "no").
async fn attio_connection_active<P: Platform>(p: &P, config: &Config, user: &UserId) -> Result<bool, OAuthError> {
    let vault = config.vault();
    match crate::vault::load(p, vault, user).await {
        Ok(Some(c)) => Ok(c.status == crate::vault::ConnectionStatus::Active),
        Ok(None) | Err(crate::vault::VaultStoreError::Unreadable) => Ok(false),
        Err(_) => Err(OAuthError::temporarily_unavailable("connection storage is unavailable")),
    }
}

/// `POST /revoke` (RFC 7009): always 200 for a well-formed request from an authenticated
/// client; only that client's own tokens are affected.
pub async fn revoke<P: Platform>(p: &P, config: &Config, req: &Request) -> Result<Response, AppError> {
    let keys = config.keys();
    let result = async {
        let form = params(std::str::from_utf8(req.body()).unwrap_or("")).map_err(OAuthError::invalid_request)?;
        let origin = origin(config, req);
        let client = client_auth::authenticate(p, config, &origin, &format!("{origin}{REVOKE}"), req, &form).await?;
        let token = param(&form, "token").ok_or_else(|| OAuthError::invalid_request("token is required"))?;
        if let Some((_, grant_id)) = grant::parse_token(token) {
            if let Ok(Some(current)) = grants::load(p, grant_id).await {
                if current.grant.client_id == client.client_id && current.grant.owns(keys, token) {
                    grants::revoke(p, grant_id).await;
                    p.log("revoke.done", &format!("client {}", client.client_id));
                }
            }
        }
        Ok::<_, OAuthError>(json_response(StatusCode::OK, &json!({})))
    }
    .await;
    Ok(with_cors(result.unwrap_or_else(OAuthError::into_response)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameters_are_refused() {
        assert!(params("a=1&b=2").is_ok());
        assert!(params("state=1&state=2").is_err());
    }
}
