//! The sections of `/admin` (its handlers are `routes/admin.rs`): the heading of a person's or
//! an app's page, the range links, the policy form, the people with their apps (revoke,
//! disconnect), an app's people, and the administrators' own log.

use std::collections::HashMap;

use crate::base::html;
use crate::base::html::Html;
use crate::base::user::UserId;
use crate::control::admin::{self, Filter, Person};
use crate::control::policy::Policy;
use crate::oauth::grants::tool_groups::GROUPS;
use crate::pages::paths::{
    ADMIN as PATH, ADMIN_DISCONNECT as DISCONNECT, ADMIN_POLICY as POLICY, ADMIN_REVOKE as REVOKE,
};
use crate::pages::usage::Range;
use crate::pages::{avatar, format_time, Names};
use crate::store::audit;
use crate::store::audit::admin_log::AdminAction;
use crate::store::grant_index;
use crate::store::grant_index::client_key;

/// The page's heading: the person or app it is narrowed to, else the administration's.
pub fn heading(filter: &Filter, people: &[Person], names: &admin::Labels<'_>) -> Html {
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
pub fn range_links(filter: &Filter, range: Range) -> Html {
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

/// An app's page: where it sends people back, and everyone who approved it, with their access,
/// when they did, when it last worked for them and a button revoking it.
pub fn app_section(
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
    let host = approvals.first().map_or("", |(_, g)| g.redirect_host.as_str());
    let last_used = last_used(rows);
    let rows: Html = approvals
        .iter()
        .map(|(person, g)| {
            let (name, href) = names.person(&person.user);
            let used = used_text(&last_used, &person.user, &g.client_id);
            html!(
                "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                href,
                name,
                if g.write { "read-write" } else { "read-only" },
                format_time(g.created_at_ms),
                used,
                revoke_button(csrf, &person.user, &g.grant_id, &format!("for {name}")),
            )
        })
        .collect();
    html!(
        "<h2>People</h2><div class=card><p>Sends people back to <code>{}</code>.</p><div class=table><table><thead>\
         <tr><th>Person</th><th>Access</th><th>Approved</th><th>Last used</th><th></th></tr></thead>\
         <tbody>{}</tbody></table></div></div>",
        host,
        rows
    )
}

pub fn policy_section(policy: &Policy, csrf: &str) -> Html {
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
pub fn shown_people(people: &[Person], filter: &Filter) -> Vec<Person> {
    let wanted = filter.person.as_deref().map(str::trim).unwrap_or("");
    let one: Vec<Person> =
        people.iter().filter(|p| format!("{}:{}", p.user.workspace_id, p.user.member_id) == wanted).cloned().collect();
    if one.is_empty() {
        people.to_vec()
    } else {
        one
    }
}

/// When each person last used each app, among the log rows in view. Listed grants name long
/// client ids by their hash ([`client_key`]): keyed in that form.
fn last_used(rows: &[(UserId, audit::Entry)]) -> HashMap<(&str, String), u64> {
    let mut last: HashMap<(&str, String), u64> = HashMap::new();
    for (u, e) in rows {
        let t = last.entry((u.member_id.as_str(), client_key(&e.client_id))).or_default();
        *t = (*t).max(e.at_ms);
    }
    last
}

/// `user`'s last use of `client_id` for the page, "—" when none is in view.
fn used_text(last: &HashMap<(&str, String), u64>, user: &UserId, client_id: &str) -> String {
    last.get(&(user.member_id.as_str(), client_key(client_id))).map_or_else(|| "—".to_string(), |t| format_time(*t))
}

/// The button revoking one grant of `user`, named "Revoke <what>" for screen readers.
fn revoke_button(csrf: &str, user: &UserId, grant_id: &str, what: &str) -> Html {
    html!(
        "<form class=inline method=post action=\"{REVOKE}\"><input type=hidden name=csrf value=\"{}\">{}\
         <input type=hidden name=grant_id value=\"{}\"><button class=danger type=submit aria-label=\"Revoke {}\">\
         Revoke</button></form>",
        csrf,
        hidden_person(user),
        grant_id,
        what
    )
}

fn hidden_person(user: &UserId) -> Html {
    html!(
        "<input type=hidden name=workspace_id value=\"{}\"><input type=hidden name=member_id value=\"{}\">",
        user.workspace_id,
        user.member_id
    )
}

pub fn people_section(people: &[Person], rows: &[(UserId, audit::Entry)], csrf: &str) -> Html {
    if people.is_empty() {
        return Html::trusted("<h2>People</h2><p class=muted>Nobody has connected Attio yet.</p>");
    }
    let last_used = last_used(rows);
    let cards: Html = people
        .iter()
        .map(|person| {
            let apps: Html = person
                .apps
                .iter()
                .map(|g| {
                    let used = used_text(&last_used, &person.user, &g.client_id);
                    html!(
                        "<tr><td>{}<div class=muted>{}</div></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        g.client_name,
                        if g.audience == "rest" { "REST proxy" } else { "MCP" },
                        if g.write { "read-write" } else { "read-only" },
                        format_time(g.created_at_ms),
                        used,
                        revoke_button(csrf, &person.user, &g.grant_id, &g.client_name),
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

pub fn actions_section(actions: &[AdminAction]) -> Html {
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
