//! `/admin`: the deployer's page (administrators only, see [`crate::control::admin`]). Every connected
//! person with their workspace, email when known, approved apps (access, scopes, approval, last
//! use); revoke any app or disconnect any person; everyone's audit log, filtered by person, app,
//! tool and outcome, exported as CSV (`/admin/audit.csv`) or JSON Lines (`/admin/audit.jsonl`);
//! and the administrators' own log, where each of these actions is recorded first.
//!
//! Forms carry a CSRF token bound to the administrator and are refused from another origin.

use http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use http::StatusCode;
use serde::Deserialize;

use crate::attio::connection;
use crate::auth::session;
use crate::base::html;
use crate::base::http::{redirect, set_header, Request, Response};
use crate::base::user::UserId;
use crate::context::Ctx;
use crate::control::admin::{self, Admin, Filter, Refusal};
use crate::control::policy::Policy;
use crate::error::AppError;
use crate::oauth::params;
use crate::pages::admin::{
    actions_section, app_section, heading, people_section, policy_section, range_links, shown_people,
};
use crate::pages::paths::CONNECT;
use crate::pages::usage::{self, Range};
use crate::pages::{access_identity, audit_log, error_page, page, NOTHING};
use crate::platform::Platform;
use crate::store::audit;
use crate::store::audit::admin_log::{self, AdminAction};
use crate::store::grant_index;
use crate::store::grants;
use crate::store::owner_gate;
use crate::store::policy as store_policy;

pub const PATH: &str = crate::pages::paths::ADMIN;
pub const REVOKE: &str = crate::pages::paths::ADMIN_REVOKE;
pub const DISCONNECT: &str = crate::pages::paths::ADMIN_DISCONNECT;
pub const AUDIT_CSV: &str = crate::pages::paths::ADMIN_AUDIT_CSV;
pub const AUDIT_JSONL: &str = crate::pages::paths::ADMIN_AUDIT_JSONL;
pub const POLICY: &str = crate::pages::paths::ADMIN_POLICY;
pub const SIGN_IN: &str = crate::pages::paths::ADMIN_SIGN_IN;

/// How long the owner's `/admin` sign-in lasts.
const OWNER_SIGN_IN_SECS: u64 = 3600;

/// The most people the page lists, and audit rows it shows or exports.
const PEOPLE_MAX: usize = 2_000;
const AUDIT_ROWS: usize = 50;
/// The most entries one export request returns; the `Link` header names the next.
const EXPORT_ROWS: usize = 1_000;

fn refused(why: Refusal) -> Response {
    match why {
        Refusal::NotAdmin => error_page(
            StatusCode::FORBIDDEN,
            "Administrators only",
            "This page is for the gateway's administrators.",
            &NOTHING,
        ),
        Refusal::SignIn => error_page(
            StatusCode::UNAUTHORIZED,
            "Sign in",
            "Sign in with Attio first; Attio workspace admins administer their workspace here.",
            &html!("<p><a class=button href=\"{CONNECT}\">Sign in with Attio</a></p>"),
        ),
        Refusal::OwnerSignIn => page(
            StatusCode::UNAUTHORIZED,
            "Owner sign-in",
            &html!(
                "<h1>Owner sign-in</h1><div class=card><form method=post action=\"{SIGN_IN}\"><p><label>Owner password \
                 <input type=password name=owner_password autocomplete=current-password required></label></p>\
                 <p><button class=primary type=submit>Sign in</button></p></form></div>"
            ),
        ),
        Refusal::Unknown => error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Could not check",
            "Attio did not say whether you are a workspace admin (the Attio app needs the \
             user_management:read scope). Try again shortly.",
            &NOTHING,
        ),
    }
}

/// `GET /admin`: usage at a glance over the chosen range, the policy, the people (everyone, or
/// the one person or app the page is narrowed to), the log and the administrators' actions.
pub async fn show<P: Platform>(p: &P, ctx: &Ctx<'_>, req: &Request) -> Result<Response, AppError> {
    let admin = match admin::identify(p, ctx, req).await {
        Ok(a) => a,
        Err(why) => return Ok(refused(why)),
    };
    let unavailable = |e| AppError::unavailable_because("storage", e);
    let filter: Filter = serde_urlencoded::from_str(req.uri().query().unwrap_or("")).unwrap_or_default();
    let people = admin::people(p, &admin, PEOPLE_MAX).await.map_err(unavailable)?;
    let users: Vec<UserId> = people.iter().map(|person| person.user.clone()).collect();
    let range = Range::parse(filter.range.as_deref());
    let ask = audit::UsageAsk { from_day: range.from_day(p.now_ms()), destructive: admin::destructive_calls() };
    let rows = audit_rows(p, &admin, &filter, &users, (AUDIT_ROWS, Some(ask))).await.map_err(unavailable)?;
    let older = rows.next_before_ms.map(|b| filter.older(b));
    let mut actions = admin_log::recent(p, 50).await.map_err(unavailable)?;
    if let Admin::WorkspaceAdmin { .. } = admin {
        actions.retain(|a| a.admin == admin.name());
    }
    let csrf = admin.csrf(ctx.keys());
    let policy = if admin.may_set_policy(ctx.config) && filter.app.is_none() && filter.person.is_none() {
        policy_section(&store_policy::load(p).await.map_err(unavailable)?, &csrf)
    } else {
        NOTHING
    };
    // Owner mode behind a password: how many wrong ones were tried this hour.
    let gate = if ctx.config.owner.as_ref().is_some_and(|o| o.password.is_some()) {
        let failed = owner_gate::failures(p).await.map_err(unavailable)?;
        html!(
            "<p class=muted>Wrong owner passwords this hour: {} (owner sign-in locks at {} until the hour ends).</p>",
            failed,
            owner_gate::LOCKOUT_AFTER
        )
    } else {
        NOTHING
    };
    let names = admin::Labels::of(ctx.keys(), &people);
    let glance = usage::glance(&rows.usage, range, filter.app.as_deref(), p.now_ms());
    let one_app = filter.app.as_deref().filter(|a| !a.trim().is_empty());
    let body = html!(
        "{}{}<p class=muted>{}</p>{}{}{}{}{}{}",
        heading(&filter, &people, &names),
        access_identity(ctx.person.as_deref()),
        match &admin {
            Admin::Deployer { .. } => "You administer everyone connected to this gateway.".to_string(),
            Admin::WorkspaceAdmin { user } => format!(
                "You administer the Attio workspace {}.",
                people
                    .iter()
                    .find(|p| p.user.workspace_id == user.workspace_id)
                    .map_or(user.workspace_id.as_str(), |p| p.workspace.as_str())
            ),
        },
        gate,
        usage::section(&glance, range, one_app.is_some(), &names, &range_links(&filter, range)),
        policy,
        match one_app {
            Some(app) => app_section(app, &people, &rows.rows, &names, &csrf),
            None => people_section(&shown_people(&people, &filter), &rows.rows, &csrf),
        },
        audit_log::section(&rows.rows, &names, &filter, older.as_deref()),
        actions_section(&actions),
    );
    Ok(page(StatusCode::OK, "Administration", &body))
}

/// A page of the entries of `users` (the people `admin` manages) that `filter` keeps, newest
/// first, answered by their objects (see [`audit::page`]), with each one's usage when asked.
async fn audit_rows<P: Platform>(
    p: &P,
    admin: &Admin,
    filter: &Filter,
    users: &[UserId],
    (limit, usage): (usize, Option<audit::UsageAsk>),
) -> Result<audit::Page, crate::platform::StoreError> {
    let query = audit::Query { usage, ..filter.query(p.now_ms()) };
    let mut page = audit::page(p, users, &query, limit).await?;
    page.rows.retain(|(u, _)| admin.may_manage(u));
    page.usage.retain(|(u, _)| admin.may_manage(u));
    Ok(page)
}

/// `GET /admin/audit.csv` and `GET /admin/audit.jsonl`: the filtered log, as a download.
pub async fn export<P: Platform>(p: &P, ctx: &Ctx<'_>, req: &Request, csv: bool) -> Result<Response, AppError> {
    let admin = match admin::identify(p, ctx, req).await {
        Ok(a) => a,
        Err(why) => return Ok(refused(why)),
    };
    let unavailable = |e| AppError::unavailable_because("storage", e);
    let filter: Filter = serde_urlencoded::from_str(req.uri().query().unwrap_or("")).unwrap_or_default();
    let users = admin::managed_users(p, &admin, PEOPLE_MAX).await.map_err(unavailable)?;
    let page = audit_rows(p, &admin, &filter, &users, (EXPORT_ROWS, None)).await.map_err(unavailable)?;
    let rows = page.rows;
    let action = AdminAction {
        at_ms: 0,
        admin: admin.name(),
        action: "export".into(),
        target: format!("{} audit rows as {}", rows.len(), if csv { "CSV" } else { "JSON Lines" }),
    };
    admin_log::record(p, action).await.map_err(unavailable)?;
    let (body, kind, name) = if csv {
        (admin::csv(&rows), "text/csv; charset=utf-8", "audit.csv")
    } else {
        (admin::json_lines(&rows), "application/x-ndjson", "audit.jsonl")
    };
    let mut resp = http::Response::new(body.into_bytes());
    set_header(&mut resp, CONTENT_TYPE, kind);
    set_header(&mut resp, CONTENT_DISPOSITION, &format!("attachment; filename=\"{name}\""));
    set_header(&mut resp, http::header::CACHE_CONTROL, "no-store");
    if let Some(before) = page.next_before_ms {
        // The rest of the log, a request at a time (RFC 8288).
        let path = if csv { AUDIT_CSV } else { AUDIT_JSONL };
        set_header(&mut resp, http::header::LINK, &format!("<{path}?{}>; rel=\"next\"", filter.older(before)));
    }
    Ok(resp)
}

#[derive(Debug, Default, Deserialize)]
struct PersonForm {
    csrf: Option<String>,
    workspace_id: Option<String>,
    member_id: Option<String>,
    grant_id: Option<String>,
}

/// Why an administrator's form is refused: posted from another site, or without their token.
fn form_refusal(ctx: &Ctx<'_>, req: &Request, admin: &Admin, csrf: Option<&str>) -> Option<&'static str> {
    if session::from_other_site(ctx, req) {
        return Some("This form was submitted from another site.");
    }
    if !csrf.is_some_and(|t| admin.check_csrf(ctx.keys(), t)) {
        return Some("This form has expired or was not issued by this gateway. Reload the page.");
    }
    None
}

/// The administrator and the person a form acts on, or the page refusing it.
async fn form_target<P: Platform>(
    p: &P,
    ctx: &Ctx<'_>,
    req: &Request,
) -> Result<(Admin, UserId, PersonForm), Response> {
    let admin = admin::identify(p, ctx, req).await.map_err(refused)?;
    let forbidden = |m: &str| error_page(StatusCode::FORBIDDEN, "Request refused", m, &NOTHING);
    let form: PersonForm = serde_urlencoded::from_bytes(req.body()).unwrap_or_default();
    if let Some(why) = form_refusal(ctx, req, &admin, form.csrf.as_deref()) {
        return Err(forbidden(why));
    }
    let user = UserId::new(form.workspace_id.as_deref().unwrap_or(""), form.member_id.as_deref().unwrap_or(""))
        .filter(|u| admin.may_manage(u))
        .ok_or_else(|| forbidden("That person is not one you administer."))?;
    Ok((admin, user, form))
}

/// `POST /admin/revoke`: one app of one person.
pub async fn revoke<P: Platform>(p: &P, ctx: &Ctx<'_>, req: &Request) -> Result<Response, AppError> {
    let (admin, user, form) = match form_target(p, ctx, req).await {
        Ok(t) => t,
        Err(page) => return Ok(page),
    };
    let unavailable = |e| AppError::unavailable_because("storage", e);
    let grant_id = form.grant_id.unwrap_or_default();
    let Some(entry) = grant_index::find(p, &user, &grant_id).await.map_err(unavailable)? else {
        return Ok(error_page(StatusCode::NOT_FOUND, "No such app", "That app was already revoked.", &NOTHING));
    };
    let target = format!("app {} of {}:{}", entry.client_id, user.workspace_id, user.member_id);
    admin_log::record(p, AdminAction { at_ms: 0, admin: admin.name(), action: "revoke".into(), target })
        .await
        .map_err(unavailable)?;
    grants::revoke(p, &entry.grant_id).await;
    let _ = grant_index::remove(p, &user, &entry.grant_id).await;
    Ok(redirect(StatusCode::SEE_OTHER, PATH))
}

/// `POST /admin/sign-in`: the owner's password (owner mode behind `OWNER_PASSWORD`), checked
/// against its hash; attempts count against the address's token-failure limit.
pub async fn sign_in<P: Platform>(p: &P, ctx: &Ctx<'_>, req: &Request) -> Result<Response, AppError> {
    let forbidden = |m: &str| Ok(error_page(StatusCode::FORBIDDEN, "Request refused", m, &NOTHING));
    let Some(hash) = ctx.config.owner.as_ref().and_then(|o| o.password.as_ref()) else {
        return forbidden("There is no owner password to sign in with.");
    };
    if session::from_other_site(ctx, req) {
        return forbidden("This form was submitted from another site.");
    }
    let by = crate::auth::rate_limit::by_address(req);
    if !p.within_limit(crate::auth::rate_limit::Limit::TokenFailures, &format!("owner-password|{by}")).await {
        return Ok(crate::pages::too_many_requests());
    }
    // Counted across every location: past the lock-out, not even the right password is tried.
    let failed = owner_gate::failures(p).await.map_err(|e| AppError::unavailable_because("storage", e))?;
    if failed >= owner_gate::LOCKOUT_AFTER {
        p.log("admin.owner_sign_in_locked", &failed.to_string());
        return Ok(error_page(
            StatusCode::TOO_MANY_REQUESTS,
            "Sign-in locked",
            &format!(
                "{failed} wrong owner passwords were tried this hour, so owner sign-in is locked until the hour \
                 ends (UTC). Sign in through Cloudflare Access meanwhile, if it is set up."
            ),
            &NOTHING,
        ));
    }
    let form = params::parse(std::str::from_utf8(req.body()).unwrap_or("")).unwrap_or_default();
    if !hash.verify(params::get(&form, "owner_password").unwrap_or("")) {
        if let Err(e) = owner_gate::record_failure(p, failed).await {
            p.log("admin.owner_failure_uncounted", &e.to_string());
        }
        return forbidden("That is not the owner's password.");
    }
    let expires = p.now_ms() + OWNER_SIGN_IN_SECS * 1000;
    let mut resp = redirect(StatusCode::SEE_OTHER, PATH);
    let value = session::owner_admin_value(ctx.keys(), expires);
    crate::base::http::add_cookie(
        &mut resp,
        &session::set_cookie(session::OWNER_ADMIN_COOKIE, &value, OWNER_SIGN_IN_SECS),
    );
    Ok(resp)
}

/// `POST /admin/policy`: the deployer-wide policy, applied on every app's next call.
pub async fn set_policy<P: Platform>(p: &P, ctx: &Ctx<'_>, req: &Request) -> Result<Response, AppError> {
    let admin = match admin::identify(p, ctx, req).await {
        Ok(a) => a,
        Err(why) => return Ok(refused(why)),
    };
    let forbidden = |m: &str| Ok(error_page(StatusCode::FORBIDDEN, "Request refused", m, &NOTHING));
    if !admin.may_set_policy(ctx.config) {
        return forbidden("Only the deployer's administrators set the policy for every workspace.");
    }
    let form = params::parse(std::str::from_utf8(req.body()).unwrap_or("")).unwrap_or_default();
    if let Some(why) = form_refusal(ctx, req, &admin, params::get(&form, "csrf")) {
        return forbidden(why);
    }
    let mut policy = match Policy::from_form(&form) {
        Ok(policy) => policy,
        Err(why) => return Ok(error_page(StatusCode::BAD_REQUEST, "Policy not changed", why, &NOTHING)),
    };
    policy.updated_at_ms = p.now_ms();
    policy.updated_by = admin.name();
    let unavailable = |e| AppError::unavailable_because("storage", e);
    let summary = format!(
        "writes {}, proxy {}, groups off [{}], max grant days {}, {} apps blocked",
        if policy.writes_off { "off" } else { "on" },
        if policy.proxy_off { "off" } else { "on" },
        policy.groups_off.join(" "),
        policy.max_grant_days.map_or("default".to_string(), |d| d.to_string()),
        policy.blocked_apps.len(),
    );
    admin_log::record(p, AdminAction { at_ms: 0, admin: admin.name(), action: "policy".into(), target: summary })
        .await
        .map_err(unavailable)?;
    let spread = store_policy::save(p, &policy).await.map_err(unavailable)?;
    if let Some(rest) = spread.rest.clone() {
        // More holders than one request may reach: the cron goes on within a minute. Said, not
        // assumed, if that cannot be noted.
        if let Err(e) = crate::store::sweep::spread_pending(p, rest).await {
            p.log("policy.spread_unscheduled", &e.to_string());
            return Ok(error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Policy saved, not yet everywhere",
                &format!(
                    "The policy is saved and applied to {} people's apps; the rest follow the previous policy \
                     until the daily check applies it. Save it again to retry now.",
                    spread.updated
                ),
                &NOTHING,
            ));
        }
        return Ok(page(
            StatusCode::OK,
            "Policy saved",
            &html!(
                "<h1>Policy saved</h1><div class=card><p>Applied to {} people's apps now; the rest follow within a \
                 few minutes (a batch a minute).</p><p><a href=\"{PATH}\">Back to administration</a></p></div>",
                spread.updated
            ),
        ));
    }
    if spread.failed > 0 {
        // Saved, but some people's objects still hold the previous policy.
        p.log("policy.spread_incomplete", &format!("{} updated, {} pending", spread.updated, spread.failed));
        return Ok(error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Policy saved, not yet everywhere",
            "The policy is saved, but it could not yet be applied to some people's apps, which follow the \
             previous policy until it is. Save it again to retry; the daily check also retries.",
            &NOTHING,
        ));
    }
    Ok(redirect(StatusCode::SEE_OTHER, PATH))
}

/// `POST /admin/disconnect`: a person's Attio connection and every app they approved.
pub async fn disconnect<P: Platform>(p: &P, ctx: &Ctx<'_>, req: &Request) -> Result<Response, AppError> {
    let (admin, user, _) = match form_target(p, ctx, req).await {
        Ok(t) => t,
        Err(page) => return Ok(page),
    };
    let unavailable = |e| AppError::unavailable_because("storage", e);
    let target = format!("{}:{}", user.workspace_id, user.member_id);
    admin_log::record(p, AdminAction { at_ms: 0, admin: admin.name(), action: "disconnect".into(), target })
        .await
        .map_err(unavailable)?;
    connection::disconnect(p, ctx.config, &user).await.map_err(unavailable)?;
    Ok(redirect(StatusCode::SEE_OTHER, PATH))
}
