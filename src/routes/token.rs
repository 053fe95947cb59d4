//! `POST /token` and `POST /revoke` (OAuth 2.1 §4.1.3, §4.3; RFC 7009; RFC 8693): read the
//! form, authenticate the client first ([`crate::auth::client_auth`], before any code or refresh token
//! is looked up), run the grant type ([`crate::oauth::grants::token_grants`]) and answer with the tokens
//! or the OAuth error, `Cache-Control: no-store` either way.

use http::StatusCode;
use serde_json::json;

use crate::auth::client_auth;
use crate::auth::clients;
use crate::auth::rate_limit::{self, Limit};
use crate::base::http::{json as json_response, set_header, with_cors, Request, Response};
use crate::context::Ctx;
use crate::error::AppError;
use crate::oauth::grants::grant::{self, Issued};
use crate::oauth::grants::token_grants::{self, ACCESS_TOKEN_TYPE};
use crate::oauth::metadata::TOKEN_EXCHANGE;
use crate::oauth::params;
use crate::oauth::OAuthError;
use crate::platform::Platform;
use crate::store::clients as store_clients;
use crate::store::sweep as store_sweep;

pub const TOKEN: &str = "/token";
pub const REVOKE: &str = "/revoke";

/// The token response (OAuth 2.1 §3.2.3; RFC 8693 §2.2.1 adds `issued_token_type`).
fn token_response(issued: &Issued, issued_token_type: Option<&str>) -> Response {
    let mut body = json!({
        // The one place an issued token leaves the gateway: in the token response body.
        "access_token": issued.access_token.expose_secret(),
        "token_type": "Bearer",
        "expires_in": issued.expires_in_secs,
        "scope": issued.scope.join(" "),
    });
    if let Some(r) = &issued.refresh_token {
        body["refresh_token"] = json!(r.expose_secret());
    }
    if let Some(t) = issued_token_type {
        body["issued_token_type"] = json!(t);
    }
    let mut resp = json_response(StatusCode::OK, &body);
    set_header(&mut resp, http::header::PRAGMA, "no-cache");
    resp
}

fn form(req: &Request) -> Result<Vec<(String, String)>, OAuthError> {
    params::parse(std::str::from_utf8(req.body()).unwrap_or("")).map_err(OAuthError::invalid_request)
}

/// `POST /token`.
pub async fn token<P: Platform>(p: &P, ctx: &Ctx<'_>, req: &Request) -> Result<Response, AppError> {
    let resp = match token_inner(p, ctx, req).await {
        Ok(resp) => resp,
        Err(e) if e.is_credential_failure() => count_failure(p, req, e).await.into_response(),
        Err(e) => e.into_response(),
    };
    Ok(with_cors(resp))
}

/// A failed client authentication or grant counts against the client it claimed and the address
/// it came from ([`crate::auth::rate_limit`]); past either limit the answer is 429 rather than the
/// failure, so guessing stops being informative.
async fn count_failure<P: Platform>(p: &P, req: &Request, failure: OAuthError) -> OAuthError {
    let form = form(req).unwrap_or_default();
    let client = client_auth::claimed_client_id(req, &form).unwrap_or_default();
    let per_client = p.within_limit(Limit::TokenFailures, &rate_limit::by_client(&client)).await;
    let per_address = p.within_limit(Limit::TokenFailures, &rate_limit::by_address(req)).await;
    if per_client && per_address {
        return failure;
    }
    p.log("rate_limit.token_failures", if per_client { "address" } else { "client" });
    OAuthError::rate_limited("too many failed attempts; wait a minute before trying again")
}

async fn token_inner<P: Platform>(p: &P, ctx: &Ctx<'_>, req: &Request) -> Result<Response, OAuthError> {
    let form = form(req)?;
    if params::get(&form, "grant_type") == Some(TOKEN_EXCHANGE) {
        let backend = client_auth::authenticate_backend(ctx, req, &form)?;
        let issued = token_grants::exchange(p, ctx, backend, &form).await?;
        return Ok(token_response(&issued, Some(ACCESS_TOKEN_TYPE)));
    }
    // A forged or altered code or refresh token is refused before the client is resolved (no
    // client record read, no metadata document fetched). It counts as a failed attempt.
    let presented = match params::get(&form, "grant_type") {
        Some("authorization_code") => params::get(&form, "code"),
        Some("refresh_token") => params::get(&form, "refresh_token"),
        _ => None,
    };
    if presented.is_some_and(|t| !grant::intact(ctx.keys(), t)) {
        return Err(OAuthError::invalid_grant("unknown code or refresh token"));
    }
    if let Lookup::Dead = before_lookups(p, ctx, req, &form, presented).await? {
        return Err(OAuthError::invalid_grant("unknown code or refresh token"));
    }
    let endpoint = format!("{}{TOKEN}", ctx.origin);
    let client = client_auth::authenticate(p, ctx, &ctx.origin, &endpoint, req, &form).await?;
    let issued = match params::get(&form, "grant_type") {
        Some("authorization_code") => token_grants::redeem_code(p, ctx, &client, &form).await?,
        Some("refresh_token") => token_grants::refresh(p, ctx, &client, &form).await?,
        Some(_) => return Err(OAuthError::unsupported_grant_type("supported: authorization_code, refresh_token")),
        None => return Err(OAuthError::invalid_request("grant_type is required")),
    };
    Ok(token_response(&issued, None))
}

/// What the checks before any lookup decided.
enum Lookup {
    /// Nothing to look up, or a lookup the address's limit allows.
    Go,
    /// An earlier-format code or token older than anything still live: refused unread.
    Dead,
}

/// Work nothing local can settle is counted against the per-address `Lookups` limit before it
/// is done: resolving a client that needs a fetch or a storage read
/// ([`clients::needs_lookup`]), or looking up a code or token of the earlier, untagged format.
/// Once the release has served long enough, such values and clients cannot be live any more
/// and are refused without a lookup.
async fn before_lookups<P: Platform>(
    p: &P,
    ctx: &Ctx<'_>,
    req: &Request,
    form: &[(String, String)],
    presented: Option<&str>,
) -> Result<Lookup, OAuthError> {
    let claimed = client_auth::claimed_client_id(req, form).unwrap_or_default();
    let untagged = presented.filter(|t| grant::untagged(t));
    if untagged.is_none() && !clients::needs_lookup(ctx.config, &claimed, p.now_ms()) {
        return Ok(Lookup::Go);
    }
    if !p.within_limit(Limit::Lookups, &rate_limit::by_address(req)).await {
        p.log("rate_limit.lookups", "address");
        return Err(OAuthError::rate_limited("too many requests needing a lookup from this address; wait a minute"));
    }
    let now = p.now_ms();
    if clients::earlier_registration(&claimed)
        && store_sweep::outlived(p, now, store_clients::EARLIER_LIFETIME_MS).await
    {
        return Err(OAuthError::invalid_client("unknown client"));
    }
    let dead = match untagged {
        Some(t) => store_sweep::outlived(p, now, grant::untagged_lifetime_ms(t)).await,
        None => false,
    };
    Ok(if dead { Lookup::Dead } else { Lookup::Go })
}

/// `POST /revoke` (RFC 7009): always 200 for a well-formed request from an authenticated
/// client; only that client's own tokens are affected. Failed client authentications count
/// against the same limit as `/token`'s.
pub async fn revoke<P: Platform>(p: &P, ctx: &Ctx<'_>, req: &Request) -> Result<Response, AppError> {
    let result = async {
        let form = form(req)?;
        // A tagged token whose tag fails was never ours: nothing to revoke, nothing loaded, not
        // even the client (RFC 7009 §2.2: an invalid token is answered 200).
        if params::get(&form, "token").is_some_and(|t| !grant::intact(ctx.keys(), t)) {
            return Ok(json_response(StatusCode::OK, &json!({})));
        }
        if let Lookup::Dead = before_lookups(p, ctx, req, &form, params::get(&form, "token")).await? {
            return Ok(json_response(StatusCode::OK, &json!({})));
        }
        let endpoint = format!("{}{REVOKE}", ctx.origin);
        let client = client_auth::authenticate(p, ctx, &ctx.origin, &endpoint, req, &form).await?;
        let token = params::get(&form, "token").ok_or_else(|| OAuthError::invalid_request("token is required"))?;
        token_grants::revoke(p, ctx.keys(), &client, token).await;
        Ok::<_, OAuthError>(json_response(StatusCode::OK, &json!({})))
    }
    .await;
    // A failed client authentication counts as at `/token`: past the limit, 429.
    let resp = match result {
        Ok(resp) => resp,
        Err(e) if e.is_credential_failure() => count_failure(p, req, e).await.into_response(),
        Err(e) => e.into_response(),
    };
    Ok(with_cors(resp))
}
