//! `/account`: the connected-apps page. A person signed in through the Attio connection flow
//! (the `__Host-agw-session` cookie, an hour long and accepted by no API route) sees their
//! workspace, every app they approved with its access and when it was last used, and their
//! recent activity; they can revoke one app (its tokens and refresh family die at once) or
//! disconnect Attio (which revokes every app too).
//!
//! Forms are protected twice against cross-site requests: a foreign `Origin` is refused, and
//! each form carries a CSRF token bound to the session (HMAC of the session id).

use std::collections::HashMap;

use http::StatusCode;
use serde::Deserialize;

use crate::attio::vault::{ConnectionStatus, SealedConnection};
use crate::auth::session::{self, Session};
use crate::base::html;
use crate::base::html::Html;
use crate::base::http::{redirect, Request, Response};
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::paths::{ACCOUNT, ACCOUNT_REVOKE, CONNECT, DISCONNECT};
use crate::pages::usage::{self, Range};
use crate::pages::{access_identity, avatar, error_page, format_time, page, Names, NOTHING, TRY_AGAIN};
use crate::platform::Platform;
use crate::store::audit;
use crate::store::grant_index::client_key;
use crate::store::grant_index::{self, Entry};
use crate::store::grants;
use crate::store::vault as store_vault;

/// How many audit entries the page shows.
const ACTIVITY_ROWS: usize = 25;

fn signed_out() -> Response {
    page(
        StatusCode::UNAUTHORIZED,
        "Sign in",
        &html!(
            "<h1>Your connected apps</h1><div class=card><p>Sign in with Attio to see and manage the apps \
             that work on your Attio data through this gateway.</p>\
             <p><a class=button href=\"{CONNECT}\">Sign in with Attio</a></p></div>"
        ),
    )
}

/// `GET /account`.
pub async fn show<P: Platform>(p: &P, ctx: &Ctx<'_>, req: &Request) -> Result<Response, AppError> {
    let config = ctx.config;
    let keys = config.keys();
    let now = p.now_ms();
    let Some(session) = Session::from_request(keys, req, now) else { return Ok(signed_out()) };
    let unavailable = |e| AppError::unavailable_because("storage", e);
    let connection =
        store_vault::load(p, &session.user).await.map_err(|e| AppError::unavailable_because("storage", e))?;
    let grants = grant_index::list(p, &session.user, now).await.map_err(unavailable)?;
    let activity = audit::recent(p, &session.user, ACTIVITY_ROWS).await.map_err(unavailable)?;
    let ask = audit::UsageAsk {
        from_day: Range::Week.from_day(now),
        destructive: crate::control::admin::destructive_calls(),
    };
    let week = audit::usage(p, &session.user, &ask).await.map_err(unavailable)?;
    let csrf = session.csrf_token(keys);
    let named = grants.iter().map(|g| (client_key(&g.client_id), g.client_name.clone())).collect();
    let names = AppNames { keys, named };
    let body = html!(
        "<h1>Your connected apps</h1>{}{}{}{}{}",
        access_identity(ctx.person.as_deref()),
        workspace_card(connection.as_ref(), &csrf),
        apps_section(&grants, &activity, &csrf),
        usage::small(&session.user, &week, now, &names),
        activity_section(&activity, &names.named),
    );
    Ok(page(StatusCode::OK, "Connected apps", &body))
}

/// How the page names apps: by the name each registered with (`named`: by
/// [`client_key`], as listings name apps).
struct AppNames<'a> {
    keys: &'a crate::crypto::keys::SigningKeys,
    named: HashMap<String, String>,
}

impl Names for AppNames<'_> {
    fn person(&self, _: &crate::base::user::UserId) -> (String, String) {
        ("you".into(), ACCOUNT.into())
    }

    fn app(&self, client_id: &str) -> (String, String) {
        (crate::control::admin::app_label(self.keys, &self.named, client_id), ACCOUNT.into())
    }

    fn tool(&self, action: &str) -> String {
        action.to_string()
    }
}

fn workspace_card(connection: Option<&SealedConnection>, csrf: &str) -> Html {
    let Some(c) = connection.filter(|c| c.status == ConnectionStatus::Active) else {
        return html!(
            "<div class=\"card error\" role=alert><p>Attio is not connected: the apps below cannot reach your \
             workspace until you connect again.</p><p><a class=button href=\"{CONNECT}\">Connect Attio</a></p></div>"
        );
    };
    html!(
        "<div class=card><dl><dt>Attio workspace</dt><dd>{} <span class=muted>({})</span></dd>\
         <dt>Connected</dt><dd>{}</dd><dt>Scopes Attio granted</dt><dd><code>{}</code></dd></dl>\
         <form method=post action=\"{DISCONNECT}\"><input type=hidden name=csrf value=\"{}\">\
         <button class=danger type=submit>Disconnect Attio and revoke every app</button></form></div>",
        c.workspace_name,
        c.workspace_slug,
        format_time(c.connected_at_ms),
        c.scope,
        csrf,
    )
}

fn apps_section(grants: &[Entry], activity: &[audit::Entry], csrf: &str) -> Html {
    if grants.is_empty() {
        return Html::trusted(
            "<h2>Apps</h2><p class=muted>No app is authorized. Add this gateway's <code>/mcp</code> URL to \
             Claude, ChatGPT or Cursor to authorize one.</p>",
        );
    }
    // Listed grants name long client ids by their hash (`client_key`): compared in that form.
    let mut last_used: HashMap<String, u64> = HashMap::new();
    for e in activity {
        let t = last_used.entry(client_key(&e.client_id)).or_default();
        *t = (*t).max(e.at_ms);
    }
    let rows: Html = grants
        .iter()
        .map(|g| {
            let used = last_used.get(&client_key(&g.client_id)).map_or_else(|| "—".to_string(), |t| format_time(*t));
            html!(
                "<tr><td>{}{}<div class=muted>{}</div></td><td>{}</td><td><span class=badge>{}</span></td>\
                 <td>{}</td><td>{}</td><td><form class=inline method=post action=\"{ACCOUNT_REVOKE}\">\
                 <input type=hidden name=csrf value=\"{}\"><input type=hidden name=grant_id value=\"{}\">\
                 <button class=danger type=submit aria-label=\"Revoke {}\">Revoke</button></form></td></tr>",
                avatar(&g.client_name),
                g.client_name,
                if g.audience == "rest" { "REST proxy" } else { "MCP" },
                g.redirect_host,
                if g.write { "read-write" } else { "read-only" },
                format_time(g.created_at_ms),
                used,
                csrf,
                g.grant_id,
                g.client_name,
            )
        })
        .collect();
    html!(
        "<h2>Apps</h2><div class=table><table><thead><tr><th>App</th><th>Sends you back to</th><th>Access</th>\
         <th>Approved</th><th>Last used</th><th></th></tr></thead><tbody>{rows}</tbody></table></div>",
        rows = rows,
    )
}

fn activity_section(activity: &[audit::Entry], named: &HashMap<String, String>) -> Html {
    if activity.is_empty() {
        return Html::trusted("<h2>Recent activity</h2><p class=muted>Nothing yet.</p>");
    }
    let name_of = |client_id: &str| named.get(&client_key(client_id)).cloned().unwrap_or_else(|| client_id.to_string());
    let rows: Html = activity
        .iter()
        .map(|e| {
            html!(
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td class={}>{}</td></tr>",
                format_time(e.at_ms),
                name_of(&e.client_id),
                e.action,
                if e.write { "write" } else { "read" },
                if e.outcome == "ok" { "yes" } else { "no" },
                e.outcome_text(),
            )
        })
        .collect();
    html!(
        "<h2>Recent activity</h2><p class=muted>Kept {} days. Records what was called, never what was read or \
         written.</p><div class=table><table><thead><tr><th>When</th><th>App</th><th>Action</th><th>Kind</th>\
         <th>Outcome</th></tr></thead><tbody>{}</tbody></table></div>",
        audit::RETENTION_SECS / 86_400,
        rows,
    )
}

#[derive(Debug, Deserialize)]
struct RevokeForm {
    csrf: Option<String>,
    grant_id: Option<String>,
}

/// `POST /account/revoke`.
pub async fn revoke<P: Platform>(p: &P, ctx: &Ctx<'_>, req: &Request) -> Result<Response, AppError> {
    let config = ctx.config;
    let Some(session) = Session::from_request(config.keys(), req, p.now_ms()) else {
        return Ok(error_page(StatusCode::UNAUTHORIZED, "Not signed in", "Your session has expired.", &TRY_AGAIN));
    };
    let form: RevokeForm =
        serde_urlencoded::from_bytes(req.body()).unwrap_or(RevokeForm { csrf: None, grant_id: None });
    if let Some(why) = session::form_refusal(ctx, req, &session, form.csrf.as_deref()) {
        return Ok(error_page(StatusCode::FORBIDDEN, "Request refused", why, &NOTHING));
    }
    let grant_id = form.grant_id.unwrap_or_default();
    // Only a grant listed under this person can be revoked from here.
    let found = grant_index::find(p, &session.user, &grant_id)
        .await
        .map_err(|e| AppError::unavailable_because("storage", e))?;
    let Some(entry) = found else {
        return Ok(error_page(
            StatusCode::NOT_FOUND,
            "No such app",
            "That app is not among yours, or it was already revoked.",
            &Html::trusted("<p><a class=button href=\"/account\">Back to your apps</a></p>"),
        ));
    };
    grants::revoke(p, &entry.grant_id).await;
    // The DO revoked it; drop the row even if the grant had already expired.
    let _ = grant_index::remove(p, &session.user, &entry.grant_id).await;
    p.log("account.revoked", &format!("client {}", entry.client_id));
    Ok(redirect(StatusCode::SEE_OTHER, ACCOUNT))
}
