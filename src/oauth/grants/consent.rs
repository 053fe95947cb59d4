//! Finishing an authorization the person approved (RFC 6749 §4.1.2): the single-use code and
//! the redirect back to the client (with `state` and RFC 9207 `iss`), and the signed cookie
//! that remembers, per browser, which clients the person approved, so a direct navigation from
//! the same client need not ask again while that approval's grant lives (security checklist
//! F.36).

use http::StatusCode;

use crate::attio::vault::Connection;
use crate::auth::session;
use crate::base::http::Request;
use crate::base::secret::AuthorizationCode;
use crate::base::user::UserId;
use crate::context::Ctx;
use crate::crypto::keys::SigningKeys;
use crate::oauth::grants::approval::Approved;
use crate::oauth::grants::grant::{self, CodeGrant, Grant};
use crate::oauth::grants::tool_groups;
use crate::oauth::metadata::{Audience, SCOPE_WRITE};
use crate::pages::{ErrorPage, NOTHING};
use crate::platform::Platform;
use crate::store::grants as store_grants;
use crate::store::policy as store_policy;
use crate::store::{audit, keys, one_time};

/// Clients this browser's person approved before (see [`remembered`]).
const APPROVED_COOKIE: &str = "__Host-agw-approved";
const APPROVED_TTL_SECS: u64 = 30 * 24 * 3600;
const APPROVED_MAX: usize = 20;

/// `redirect_uri` plus parameters, whatever query it already has.
pub fn redirect_url(redirect_uri: &str, extra: &[(&str, &str)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(extra).finish();
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    format!("{redirect_uri}{sep}{query}")
}

/// One remembered approval: a keyed hash of (client, redirect URI, person, resource), and
/// whether write access was granted. Entries are opaque, so the cookie reveals nothing about the
/// clients. An approval of the MCP endpoint never stands for the REST proxy (the whole API):
/// the proxy's resource is part of the hash (the MCP form is unchanged, so approvals remembered
/// by earlier releases still count for `/mcp` only).
/// Under every signing key, newest first: an approval remembered before a rotation still counts.
fn approval_keys(keys: &SigningKeys, approved: &Approved, user: &UserId) -> Vec<String> {
    let resource = match approved.audience {
        Audience::Mcp => "",
        Audience::Api => "|rest",
    };
    let input = format!(
        "approved|{}|{}|{}{resource}",
        approved.client_id,
        approved.redirect_uri,
        keys::connection_record(user)
    );
    keys.token_hashes(&input).into_iter().map(|h| h[..32].to_string()).collect()
}

/// The remembered approvals in this request's cookie, if its signature is ours.
fn approvals(keys: &SigningKeys, req: &Request) -> Vec<(String, bool)> {
    let Some((payload, sig)) = session::cookie(req, APPROVED_COOKIE).and_then(|c| c.split_once('.')) else {
        return Vec::new();
    };
    if !keys.verify(&format!("approved|{payload}"), sig) {
        return Vec::new();
    }
    payload
        .split('~')
        .filter_map(|e| {
            let (key, write) = e.split_once('-')?;
            (key.len() == 32).then(|| (key.to_string(), write == "w"))
        })
        .collect()
}

/// A `Set-Cookie` remembering this approval (newest first, at most `APPROVED_MAX` of them);
/// `None` for an approval limited to some tool groups, which is asked again next time (the
/// cookie remembers read or write, not a choice of groups).
pub fn remember(keys: &SigningKeys, req: &Request, approved: &Approved, user: &UserId) -> Option<String> {
    if approved.scope.iter().any(|s| tool_groups::Group::from_scope(s).is_some()) {
        return None;
    }
    let all = approval_keys(keys, approved, user);
    let write = approved.scope.iter().any(|s| s == SCOPE_WRITE);
    let mut entries = vec![(all[0].clone(), write)];
    entries.extend(approvals(keys, req).into_iter().filter(|(k, _)| !all.contains(k)).take(APPROVED_MAX - 1));
    Some(approved_cookie(keys, &entries))
}

/// Whether this browser remembers approving this client (same redirect URI) for this person,
/// with at least the access it asks for now, and the navigation did not come from another site
/// (`Sec-Fetch-Site` must be `none` or `same-origin`; a missing header fails closed — security
/// checklist F.36).
fn remembered_here(keys: &SigningKeys, req: &Request, approved: &Approved, user: &UserId) -> bool {
    let direct = req
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "none" || v == "same-origin");
    if !direct {
        return false;
    }
    let all = approval_keys(keys, approved, user);
    let wants_write = approved.scope.iter().any(|s| s == SCOPE_WRITE);
    approvals(keys, req).iter().any(|(k, write)| all.contains(k) && (*write || !wants_write))
}

/// Whether this request may skip the consent page: the browser remembers the approval
/// (`remembered_here`) *and* the app still holds a live grant from this person for this
/// resource, under their current Attio connection, reaching at least what it asks for now.
/// Revoking the app anywhere (`/account`, `/admin`, RFC 7009, a replayed code, a disconnect),
/// the deployer's maximum grant age, or a new Attio connection therefore ends the remembered
/// approval too: the person is asked again. The grants are read from the person's object
/// (strongly consistent), one request, only when the browser remembers an approval.
pub async fn remembered<P: Platform>(
    p: &P,
    ctx: &Ctx<'_>,
    req: &Request,
    approved: &Approved,
    connection: &Connection,
) -> bool {
    if !remembered_here(ctx.keys(), req, approved, &connection.user) {
        return false;
    }
    let Ok(grants) = store_grants::of_person(p, &connection.user).await else { return false };
    let now = p.now_ms();
    let live: Vec<&Grant> = grants.iter().filter(|g| reaches(g, approved, connection.epoch, now)).collect();
    if live.is_empty() {
        return false;
    }
    match store_policy::load(p).await {
        Ok(policy) => {
            let policy = policy.capped(ctx.config.owner_grant_days());
            live.iter().any(|g| !policy.grant_too_old(g.created_at_ms, now))
        }
        Err(_) => false,
    }
}

/// Whether `grant` is a live approval of `approved`'s client and resource under the connection
/// `epoch`, with at least the access and tool groups asked for.
fn reaches(grant: &Grant, approved: &Approved, epoch: u64, now_ms: u64) -> bool {
    let wants_write = approved.scope.iter().any(|s| s == SCOPE_WRITE);
    let has_write = grant.scope.iter().any(|s| s == SCOPE_WRITE);
    let has_groups = tool_groups::granted(&grant.scope);
    grant.client_id == approved.client_id
        && grant.audience == approved.audience
        && !grant.revoked
        && grant.expires_at_ms > now_ms
        && grant.source_grant.is_none()
        && grant.connection_epoch == epoch
        && (has_write || !wants_write)
        && tool_groups::granted(&approved.scope).iter().all(|g| has_groups.contains(g))
}

/// A `Set-Cookie` that drops this approval from the browser's remembered ones, when it is
/// there: asked again because the app's grant ended, the person should not be skipped past
/// consent by an entry that no longer stands for anything.
pub fn forget(keys: &SigningKeys, req: &Request, approved: &Approved, user: &UserId) -> Option<String> {
    let all = approval_keys(keys, approved, user);
    let entries = approvals(keys, req);
    if !entries.iter().any(|(k, _)| all.contains(k)) {
        return None;
    }
    let kept: Vec<(String, bool)> = entries.into_iter().filter(|(k, _)| !all.contains(k)).collect();
    if kept.is_empty() {
        return Some(session::clear_cookie(APPROVED_COOKIE));
    }
    Some(approved_cookie(keys, &kept))
}

/// The signed cookie holding `entries`.
fn approved_cookie(keys: &SigningKeys, entries: &[(String, bool)]) -> String {
    let payload: Vec<String> = entries.iter().map(|(k, w)| format!("{k}-{}", if *w { "w" } else { "r" })).collect();
    let payload = payload.join("~");
    let value = format!("{payload}.{}", keys.sign(&format!("approved|{payload}")));
    session::set_cookie(APPROVED_COOKIE, &value, APPROVED_TTL_SECS)
}

/// Issues the code for an approved request and returns where to send the browser: the
/// client's redirect URI with `code`, `state` and `iss` (RFC 9207). The code is bound to the
/// person's current Attio `connection` (its epoch), and so is the grant it becomes.
pub async fn complete<P: Platform>(
    p: &P,
    ctx: &Ctx<'_>,
    approved: &Approved,
    connection: &Connection,
) -> Result<String, ErrorPage> {
    let user = &connection.user;
    let config = ctx.config;
    let origin = ctx.origin.clone();
    let keys = config.keys();
    let unavailable = || {
        ErrorPage::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Temporarily unavailable",
            "The gateway could not finish the authorization. Please try again.",
            NOTHING,
        )
    };
    let mut random = [0u8; 16];
    p.fill(&mut random).map_err(|_| unavailable())?;
    let code = AuthorizationCode::new(grant::new_code(keys, &random));
    let record = CodeGrant {
        client_id: approved.client_id.clone(),
        redirect_uri: approved.redirect_uri.clone(),
        code_challenge: approved.code_challenge.clone(),
        audience: approved.audience,
        scope: approved.scope.clone(),
        user: user.clone(),
        connection_epoch: connection.epoch,
    };
    match one_time::put_code(p, keys, &code, &record, p.now_ms() + grant::CODE_TTL_MS).await {
        Ok(true) => {}
        _ => return Err(unavailable()),
    }
    // Approving an app is itself audited, with the approver as Cloudflare Access knows them.
    let action = format!("approved {}", approved.scope.join(" "));
    let write = approved.scope.iter().any(|s| s == SCOPE_WRITE);
    let entry = audit::Entry {
        client_id: approved.client_id.clone(),
        outcome: "ok".into(),
        by: ctx.person.clone(),
        ..audit::Entry::call("consent", &action, write, Vec::new())
    };
    audit::record(p, user, entry).await;
    let mut extra = vec![("code", code.expose_secret().as_str()), ("iss", origin.as_str())];
    if let Some(s) = &approved.state {
        extra.push(("state", s));
    }
    Ok(redirect_url(&approved.redirect_uri, &extra))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_keep_an_existing_query() {
        assert_eq!(redirect_url("https://a.test/cb", &[("code", "x y")]), "https://a.test/cb?code=x+y");
        assert_eq!(redirect_url("https://a.test/cb?k=v", &[("code", "c")]), "https://a.test/cb?k=v&code=c");
    }
}
