//! Who may use a protected route: bearer-token validation for `/mcp` and the REST proxy
//! (RFC 6750 §2.1 header, §3 challenges; RFC 9728 §5.1 `resource_metadata`), against the grant
//! the token belongs to, its audience (RFC 8707) and its scope.

use http::header::WWW_AUTHENTICATE;
use http::StatusCode;
use serde_json::json;

use crate::auth::rate_limit::{self, Limit};
use crate::base::http::{json as json_response, set_header, Request, Response};
use crate::base::user::UserId;
use crate::context::Ctx;
use crate::control::policy::Policy;
use crate::oauth::bearer;
use crate::oauth::grants::grant::{self, Grant, GrantHome, TokenKind};
use crate::oauth::metadata::{Audience, SCOPE_WRITE};
use crate::oauth::OAuthError;
use crate::platform::Platform;
use crate::store::audit;
use crate::store::connections::ConnectionCopy;
use crate::store::grants;
use crate::store::person;
use crate::store::policy as store_policy;
use crate::store::sweep as store_sweep;

/// Who a valid access token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: UserId,
    pub client_id: String,
    pub scope: Vec<String>,
    pub grant_id: String,
    /// The epoch of the Attio connection the grant was approved under.
    pub connection_epoch: u64,
    /// The deployer's policy, as read with the grant.
    pub policy: Policy,
    /// The person's sealed Attio connection, when it was read with the grant.
    pub connection: ConnectionCopy,
    /// The call's audit record, stored before the call goes on; its outcome is the caller's to
    /// attach ([`audit::finish`]). `None` when the call keeps none (`tools/list`, …).
    pub audit: Option<audit::Pending>,
}

impl Principal {
    pub fn can_write(&self) -> bool {
        self.scope.iter().any(|s| s == SCOPE_WRITE)
    }

    /// The tool groups the grant allows (all, unless its scope names some), less those the
    /// deployer turned off.
    pub fn groups(&self) -> Vec<crate::oauth::grants::tool_groups::Group> {
        self.policy.allowed_groups(crate::oauth::grants::tool_groups::granted(&self.scope))
    }
}

/// Why a bearer token was refused. [`Denied::into_response`] is what to send: a 401 or 403
/// with its `WWW-Authenticate` challenge (RFC 6750 §3, RFC 9728 §5.1), or a 503 when the
/// grant could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// No `Authorization` header.
    Missing,
    /// An `Authorization` header that is not a bearer token.
    Malformed,
    /// Unknown, expired or revoked.
    Invalid,
    /// Valid, but for the other resource (`/mcp` vs `/v2`).
    WrongResource,
    /// Valid, without this scope.
    InsufficientScope(String),
    /// A token of the earlier format, past the per-address limit on lookups.
    RateLimited,
    /// The grant could not be read; nothing is known about the token. With the daily budget
    /// that ran out, when the platform said so ([`crate::platform::spent_budget`]).
    Unavailable(Option<&'static str>),
}

impl Denied {
    fn unavailable(e: &crate::platform::StoreError) -> Denied {
        Denied::Unavailable(crate::platform::spent_budget(e))
    }
}

impl Denied {
    /// The response for a request to `audience` at `origin`.
    pub fn into_response(self, origin: &str, audience: Audience) -> Response {
        let (status, error, description, needed) = match &self {
            Denied::Missing => (StatusCode::UNAUTHORIZED, None, "an access token is required", None),
            Denied::Malformed => {
                (StatusCode::UNAUTHORIZED, Some("invalid_token"), "malformed Authorization header", None)
            }
            Denied::Invalid => (
                StatusCode::UNAUTHORIZED,
                Some("invalid_token"),
                "the access token is invalid, expired or revoked",
                None,
            ),
            Denied::WrongResource => {
                (StatusCode::UNAUTHORIZED, Some("invalid_token"), "the access token is for another resource", None)
            }
            Denied::InsufficientScope(scope) => (
                StatusCode::FORBIDDEN,
                Some("insufficient_scope"),
                "the access token lacks a needed scope",
                Some(scope.as_str()),
            ),
            Denied::RateLimited => {
                return OAuthError::rate_limited("too many requests needing a lookup from this address; wait a minute")
                    .into_response();
            }
            Denied::Unavailable(spent) => {
                let why = spent.map_or("token storage is unavailable".to_string(), |b| {
                    format!(
                        "{b}: calls are \
                    refused rather than served without their audit record"
                    )
                });
                return OAuthError::temporarily_unavailable(why).into_response();
            }
        };
        let mut resp =
            json_response(status, &json!({"error": error.unwrap_or("unauthorized"), "error_description": description}));
        set_header(&mut resp, WWW_AUTHENTICATE, &bearer::challenge(origin, audience, error, needed));
        resp
    }
}

/// The bearer token of the request, if it has a well-formed one. Needs only the request head,
/// so it also runs before a body is read ([`crate::app::answer_from_head`]).
pub fn presented_token(req: &Request) -> Result<&str, Denied> {
    match bearer::token(req) {
        Ok(Some(t)) => Ok(t),
        Ok(None) => Err(Denied::Missing),
        Err(_) => Err(Denied::Malformed),
    }
}

/// An access token of the earlier, untagged format: only storage can tell whether it is ours,
/// so it passes the per-address `Lookups` limit first, and an access-token lifetime after the
/// first release issuing tagged tokens ran, none can be live any more (refused unread).
async fn earlier_format_allowed<P: Platform>(p: &P, req: &Request, token: &str) -> Result<(), Denied> {
    if !p.within_limit(Limit::Lookups, &rate_limit::by_address(req)).await {
        p.log("rate_limit.lookups", "address");
        return Err(Denied::RateLimited);
    }
    match store_sweep::outlived(p, p.now_ms(), grant::untagged_lifetime_ms(token)).await {
        true => Err(Denied::Invalid),
        false => Ok(()),
    }
}

/// Validates the bearer token for `audience` and `scope`. With `record` (a call's audit record,
/// see [`crate::store::audit`]), the record is stored by the same storage request that reads the
/// grant, only if the token is the grant's, and refusals decided after that are attached to it
/// as its outcome; the caller attaches the outcome of a call that goes on
/// ([`Principal::audit`]).
pub async fn authenticate<P: Platform>(
    p: &P,
    ctx: &Ctx<'_>,
    req: &Request,
    audience: Audience,
    scope: &str,
    record: Option<audit::Entry>,
) -> Result<Principal, Denied> {
    let token = presented_token(req)?;
    let Some((TokenKind::Access, grant_id)) = grant::parse_token(token) else { return Err(Denied::Invalid) };
    // A forged or altered token: refused before any storage is asked.
    if !grant::intact(ctx.keys(), token) {
        return Err(Denied::Invalid);
    }
    if grant::untagged(token) {
        earlier_format_allowed(p, req, token).await?;
    }
    // The token's hashes under every signing key, made once: the grant's object compares them
    // to store the call's record, and so does the check below.
    let hashes = ctx.keys().token_hashes(token);
    let record = record.map(|e| audit::Entry { grant_id: Some(grant_id.to_string()), ..e });
    let mut pending = match (&record, grant::home_of(grant_id)) {
        (Some(e), Some(GrantHome::Person { user, .. })) => Some(audit::Pending::new(p, &user, e.clone())),
        _ => None,
    };
    // The grant, the person's connection and the policy copy, and the call's record: one
    // request to the person's object (a grant from before grants moved there: its object and
    // the policy's, at once).
    let with_record = pending.as_ref().map(|pending| (pending, hashes.clone()));
    let read = person::for_access(p, grant_id, with_record).await.map_err(|e| Denied::unavailable(&e))?;
    if let Some(pending) = &mut pending {
        pending.stored_in(read.recorded.clone());
    }
    let grant: Grant = match read.grant {
        Some(current) => current.grant,
        None => return Err(Denied::Invalid),
    };
    let policy = match read.policy {
        Some(policy) => policy,
        None => store_policy::load(p).await.map_err(|e| Denied::unavailable(&e))?,
    }
    .capped(ctx.config.owner_grant_days());
    let mut scopes = match grant.check_access_hashed(&hashes, audience, p.now_ms()) {
        Ok(s) => s,
        Err(grant::AccessDenied::WrongAudience) => {
            refused(p, &pending, &grant, "refused: a token for the other resource");
            return Err(Denied::WrongResource);
        }
        Err(grant::AccessDenied::Invalid) => {
            // A grant someone holds, with a token that is not (or no longer) its own: counted.
            if let Some(e) = &record {
                audit::refused_token(p, &grant.user, grant_id, &grant.client_id, &e.kind, e.write);
            }
            return Err(Denied::Invalid);
        }
    };
    // The token is the grant's: its record is stored (a grant in its own object: now).
    let pending = match (pending, record) {
        (Some(pending), _) => Some(pending),
        (None, Some(e)) => {
            let mut pending = audit::Pending::new(p, &grant.user, e);
            match pending.store(p).await {
                Ok(()) => Some(pending),
                // No call reaches Attio without its record.
                Err(e) => return Err(Denied::unavailable(&e)),
            }
        }
        (None, None) => None,
    };
    if policy.grant_too_old(grant.created_at_ms, p.now_ms()) {
        refused(p, &pending, &grant, "refused: the grant is older than the deployer allows");
        return Err(Denied::Invalid);
    }
    if policy.blocks(&grant.client_id) {
        refused(p, &pending, &grant, "refused: the deployer blocked this app");
        return Err(Denied::Invalid);
    }
    if policy.writes_off {
        scopes.retain(|s| s != SCOPE_WRITE);
    }
    if !scopes.iter().any(|s| s == scope) {
        refused(p, &pending, &grant, &format!("refused: needs {scope}"));
        return Err(Denied::InsufficientScope(scope.to_string()));
    }
    // An exchanged token lives only while the token it was exchanged from does: revoking the
    // person's grant (at /revoke, /account, by refresh-reuse detection) reaches it too.
    if let Some(source) = &grant.source_grant {
        match grants::load(p, source).await {
            Ok(Some(s)) if !s.grant.revoked && s.grant.expires_at_ms > p.now_ms() => {}
            Ok(_) => {
                refused(p, &pending, &grant, "refused: the token it was exchanged from ended");
                return Err(Denied::Invalid);
            }
            Err(e) => return Err(Denied::unavailable(&e)),
        }
    }
    Ok(Principal {
        user: grant.user,
        client_id: grant.client_id,
        scope: scopes,
        grant_id: grant.grant_id,
        connection_epoch: grant.connection_epoch,
        policy,
        connection: read.connection,
        audit: pending,
    })
}

/// Attaches a refusal to the call's record, when one was stored.
fn refused<P: Platform>(p: &P, pending: &Option<audit::Pending>, grant: &Grant, why: &str) {
    if let Some(pending) = pending {
        audit::finish(p, pending, &grant.client_id, audit::Ended { outcome: why.into(), ..Default::default() });
    }
}
