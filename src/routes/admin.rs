//! `/admin`: the deployer's page (administrators only, see [`crate::admin`]). Every connected
//! person with their workspace, email when known, approved apps (access, scopes, approval, last
//! use); revoke any app or disconnect any person; everyone's audit log, filtered by person, app,
//! tool and outcome, exported as CSV (`/admin/audit.csv`) or JSON Lines (`/admin/audit.jsonl`);
//! and the administrators' own log, where each of these actions is recorded first.
//!
//! Forms carry a CSRF token bound to the administrator and are refused from another origin.

use std::collections::HashMap;

use http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use http::StatusCode;
use serde::Deserialize;

use crate::admin::{self, Admin, Filter, Person, Refusal};
use crate::connection;
use crate::context::Ctx;
use crate::error::AppError;
use crate::html;
use crate::html::Html;
use crate::http::{redirect, set_header, Request, Response};
use crate::oauth::params;
use crate::oauth::tool_groups::GROUPS;
use crate::pages::usage::{self, Range};
use crate::pages::{access_identity, audit_log, avatar, error_page, format_time, page, Names, NOTHING};
use crate::paths::CONNECT;
use crate::platform::Platform;
use crate::policy::Policy;
use crate::session;
use crate::store::admin_log::{self, AdminAction};
use crate::store::audit;
use crate::store::grant_index;
use crate::store::grant_index::client_key;
use crate::store::grants;
use crate::store::owner_gate;
use crate::store::policy as store_policy;
use crate::user::UserId;

pub const PATH: &str = crate::paths::ADMIN;
pub const REVOKE: &str = "/admin/revoke";
pub const DISCONNECT: &str = "/admin/disconnect";
pub const AUDIT_CSV: &str = crate::paths::ADMIN_AUDIT_CSV;
pub const AUDIT_JSONL: &str = crate::paths::ADMIN_AUDIT_JSONL;
pub const POLICY: &str = "/admin/policy";
pub const SIGN_IN: &str = "/admin/sign-in";

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

/// The page's heading: the person or app it is narrowed to, else the administration's.
fn heading(filter: &Filter, people: &[Person], names: &admin::Labels<'_>) -> Html {
    if let Some(app) = filter.app.as_deref().filter(|a| !a.trim().is_empty()) {
        let (name, _) = names.app(app);
        return html!(
            "<p><a href=\"{PATH}\">Administration</a></p><h1 title=\"{}\">{}{}</h1>",
            app,
            avatar(&name),
            name
        );
    }
    match shown_people(people, filter).as_slice() {
        [one] if filter.person.is_some() => {
            html!("<p><a href=\"{PATH}\">Administration</a></p><h1>{}</h1>", one.label())
        }
        _ => html!("<h1>Administration</h1>"),
    }
}

/// Links to the same view over each range.
fn range_links(filter: &Filter, range: Range) -> Html {
    let links: Html = Range::ALL
        .iter()
        .map(|r| {
            let query = Filter { range: Some(r.key().into()), before: None, ..filter.clone() };
            let href = format!("{PATH}?{}", serde_urlencoded::to_string(&query).unwrap_or_default());
            let current = if *r == range { " aria-current=page" } else { "" };
            html!("<a href=\"{}\"{}>{}</a>", href, Html::from_template(current.to_string()), r.label())
        })
        .collect();
    html!("<nav class=ranges aria-label=\"Usage range\">Last {}</nav>", links)
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

/// An app's page: where it sends people back, and everyone who approved it, with their access,
/// when they did, when it last worked for them and a button revoking it.
fn app_section(
    app: &str,
    people: &[Person],
    rows: &[(UserId, audit::Entry)],
    names: &admin::Labels<'_>,
    csrf: &str,
) -> Html {
    let key = client_key(app);
    let approvals: Vec<(&Person, &grant_index::Entry)> = people
        .iter()
        .flat_map(|person| person.apps.iter().filter(|g| client_key(&g.client_id) == key).map(move |g| (person, g)))
        .collect();
    if approvals.is_empty() {
        return html!("<h2>People</h2><p class=muted>Nobody has this app approved now.</p>");
    }
    let hosts: Vec<&str> = approvals.iter().map(|(_, g)| g.redirect_host.as_str()).collect();
    let rows: Html = approvals
        .iter()
        .map(|(person, g)| {
            let (name, href) = names.person(&person.user);
            let used = rows
                .iter()
                .filter(|(u, e)| *u == person.user && client_key(&e.client_id) == key)
                .map(|(_, e)| e.at_ms)
                .max()
                .map_or_else(|| "—".to_string(), format_time);
            html!(
                "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>\
                 <form class=inline method=post action=\"{REVOKE}\"><input type=hidden name=csrf value=\"{}\">\
                 {}<input type=hidden name=grant_id value=\"{}\">\
                 <button class=danger type=submit aria-label=\"Revoke for {}\">Revoke</button></form></td></tr>",
                href,
                name,
                if g.write { "read-write" } else { "read-only" },
                format_time(g.created_at_ms),
                used,
                csrf,
                hidden_person(&person.user),
                g.grant_id,
                name,
            )
        })
        .collect();
    html!(
        "<h2>People</h2><div class=card><p>Sends people back to <code>{}</code>.</p><div class=table><table><thead>\
         <tr><th>Person</th><th>Access</th><th>Approved</th><th>Last used</th><th></th></tr></thead>\
         <tbody>{}</tbody></table></div></div>",
        hosts.first().copied().unwrap_or_default(),
        rows
    )
}

fn policy_section(policy: &Policy, csrf: &str) -> Html {
    let checked = |on: bool| if on { " checked" } else { "" };
    let groups: Html = GROUPS
        .iter()
        .map(|g| {
            html!(
                "<label><input type=checkbox name=\"off_{}\" value=on{}> Turn off {}</label><br>",
                g.name(),
                checked(policy.groups_off.iter().any(|o| o == g.name())),
                g.label()
            )
        })
        .collect();
    html!(
        "<h2>Policy</h2><div class=card><form method=post action=\"{POLICY}\"><input type=hidden name=csrf value=\"{}\">\
         <label><input type=checkbox name=writes_off value=on{}> Writes off: no app may change Attio data</label><br>\
         <label><input type=checkbox name=proxy_off value=on{}> REST proxy off (<code>/v2/*</code>)</label><br>{}\
         <label>Maximum grant lifetime <input name=max_grant_days inputmode=numeric size=5 value=\"{}\"> days \
         (empty: 30 days, the default)</label><br>\
         <label>Blocked apps: client ids, one per line (each app's id is in the log and its export)<br>\
         <textarea name=blocked_apps rows=3 cols=60>{}</textarea></label>\
         <p><button class=primary type=submit>Apply to every app now</button></p></form>\
         <p class=muted>Applies on each app's next call.{}</p></div>",
        csrf,
        checked(policy.writes_off),
        checked(policy.proxy_off),
        groups,
        policy.max_grant_days.map(|d| d.to_string()).unwrap_or_default(),
        policy.blocked_apps.join("\n"),
        if policy.updated_by.is_empty() {
            String::new()
        } else {
            format!(" Last changed {} by {}.", format_time(policy.updated_at_ms), policy.updated_by)
        },
    )
}

/// The people the page shows: the one the log is filtered to (a person's page: their apps,
/// their log), or everyone.
fn shown_people(people: &[Person], filter: &Filter) -> Vec<Person> {
    let wanted = filter.person.as_deref().map(str::trim).unwrap_or("");
    let one: Vec<Person> =
        people.iter().filter(|p| format!("{}:{}", p.user.workspace_id, p.user.member_id) == wanted).cloned().collect();
    if one.is_empty() {
        people.to_vec()
    } else {
        one
    }
}

fn hidden_person(user: &UserId) -> Html {
    html!(
        "<input type=hidden name=workspace_id value=\"{}\"><input type=hidden name=member_id value=\"{}\">",
        user.workspace_id,
        user.member_id
    )
}

fn people_section(people: &[Person], rows: &[(UserId, audit::Entry)], csrf: &str) -> Html {
    if people.is_empty() {
        return Html::trusted("<h2>People</h2><p class=muted>Nobody has connected Attio yet.</p>");
    }
    // Listed grants name long client ids by their hash (`client_key`): compared in that form.
    let mut last_used: HashMap<(&str, String), u64> = HashMap::new();
    for (u, e) in rows {
        let t = last_used.entry((u.member_id.as_str(), client_key(&e.client_id))).or_default();
        *t = (*t).max(e.at_ms);
    }
    let cards: Html = people
        .iter()
        .map(|person| {
            let apps: Html = person
                .apps
                .iter()
                .map(|g| {
                    let used = last_used
                        .get(&(person.user.member_id.as_str(), client_key(&g.client_id)))
                        .map_or_else(|| "—".to_string(), |t| format_time(*t));
                    html!(
                        "<tr><td>{}<div class=muted>{}</div></td><td>{}</td><td>{}</td><td>{}</td><td>\
                         <form class=inline method=post action=\"{REVOKE}\"><input type=hidden name=csrf value=\"{}\">\
                         {}<input type=hidden name=grant_id value=\"{}\">\
                         <button class=danger type=submit aria-label=\"Revoke {}\">Revoke</button></form></td></tr>",
                        g.client_name,
                        if g.audience == "rest" { "REST proxy" } else { "MCP" },
                        if g.write { "read-write" } else { "read-only" },
                        format_time(g.created_at_ms),
                        used,
                        csrf,
                        hidden_person(&person.user),
                        g.grant_id,
                        g.client_name,
                    )
                })
                .collect();
            html!(
                "<div class=card><dl><dt>Person</dt><dd>{} <span class=muted title=\"{}\">member id</span></dd>\
                 <dt>Workspace</dt><dd>{}</dd><dt>Attio</dt><dd>{}</dd></dl>\
                 <div class=table><table><thead><tr><th>App</th><th>Access</th><th>Approved</th><th>Last used</th>\
                 <th></th></tr></thead><tbody>{}</tbody></table></div>\
                 <form method=post action=\"{DISCONNECT}\"><input type=hidden name=csrf value=\"{}\">{}\
                 <button class=danger type=submit>Disconnect this person and revoke their apps</button></form></div>",
                person.label(),
                person.user.member_id,
                person.workspace,
                if person.active {
                    format!("connected {}", format_time(person.connected_at_ms))
                } else {
                    "revoked: their apps cannot reach Attio until they connect again".to_string()
                },
                apps,
                csrf,
                hidden_person(&person.user),
            )
        })
        .collect();
    html!("<h2>People</h2>{}", cards)
}

fn actions_section(actions: &[AdminAction]) -> Html {
    let rows: Html = actions
        .iter()
        .map(|a| {
            html!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                format_time(a.at_ms),
                a.admin,
                a.action,
                a.target
            )
        })
        .collect();
    html!(
        "<h2>Administrators' actions</h2><div class=table><table><thead><tr><th>When</th><th>Administrator</th>\
         <th>Action</th><th>On</th></tr></thead><tbody>{}</tbody></table></div>",
        rows
    )
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
    let by = crate::rate_limit::by_address(req);
    if !p.within_limit(crate::rate_limit::Limit::TokenFailures, &format!("owner-password|{by}")).await {
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
    crate::http::add_cookie(&mut resp, &session::set_cookie(session::OWNER_ADMIN_COOKIE, &value, OWNER_SIGN_IN_SECS));
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
