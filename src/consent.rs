//! Finishing an authorization the person approved (RFC 6749 §4.1.2): the single-use code and
//! the redirect back to the client (with `state` and RFC 9207 `iss`), and the signed cookie
//! that remembers, per browser, which clients the person approved, so a direct navigation from
//! the same client need not ask again (security checklist F.36).

use http::StatusCode;

use crate::context::Ctx;
use crate::crypto::keys::SigningKeys;
use crate::http::Request;
use crate::oauth::approval::Approved;
use crate::oauth::grant::{self, CodeGrant};
use crate::oauth::metadata::{Audience, SCOPE_WRITE};
use crate::pages::{ErrorPage, NOTHING};
use crate::platform::Platform;
use crate::secret::AuthorizationCode;
use crate::session;
use crate::store::{audit, keys, one_time};
use crate::user::UserId;
use crate::vault::Connection;

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
    if approved.scope.iter().any(|s| crate::oauth::tool_groups::Group::from_scope(s).is_some()) {
        return None;
    }
    let all = approval_keys(keys, approved, user);
    let write = approved.scope.iter().any(|s| s == SCOPE_WRITE);
    let mut entries = vec![(all[0].clone(), write)];
    entries.extend(approvals(keys, req).into_iter().filter(|(k, _)| !all.contains(k)).take(APPROVED_MAX - 1));
    let payload: Vec<String> = entries.iter().map(|(k, w)| format!("{k}-{}", if *w { "w" } else { "r" })).collect();
    let payload = payload.join("~");
    let value = format!("{payload}.{}", keys.sign(&format!("approved|{payload}")));
    Some(session::set_cookie(APPROVED_COOKIE, &value, APPROVED_TTL_SECS))
}

/// Whether this request may skip the consent page: the person approved this client (same
/// redirect URI) before in this browser, with at least the access it asks for now, and the
/// navigation did not come from another site (`Sec-Fetch-Site` must be `none` or
/// `same-origin`; a missing header fails closed — security checklist F.36).
pub fn remembered(keys: &SigningKeys, req: &Request, approved: &Approved, user: &UserId) -> bool {
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
    let code = p.token().map(|t| AuthorizationCode::new(format!("agwc.{t}"))).map_err(|_| unavailable())?;
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
    let entry = audit::Entry {
        at_ms: 0,
        client_id: approved.client_id.clone(),
        kind: "consent".into(),
        action: format!("approved {}", approved.scope.join(" ")),
        write: approved.scope.iter().any(|s| s == SCOPE_WRITE),
        outcome: "ok".into(),
        by: ctx.person.clone(),
    };
    audit::record(p, user, entry);
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
