//! The audit log as `/admin` shows it: a filter form (person, app, tool, outcome, range), the
//! rows newest first naming people, apps and tools (ids in tooltips, and in the exports), each
//! opening to what the log keeps of the call, and a stable link to older entries.

use crate::base::html;
use crate::base::html::Html;
use crate::base::user::UserId;
use crate::control::admin::Filter;
use crate::pages::paths::{ADMIN as PATH, ADMIN_AUDIT_CSV as AUDIT_CSV, ADMIN_AUDIT_JSONL as AUDIT_JSONL};
use crate::pages::{avatar, format_time, Names, NOTHING};
use crate::store::audit::Entry;

/// An entry's outcome, opening (no script) to what the log keeps of it: the tool or request,
/// read or write, the ids it touched, Attio's status (recorded for proxied requests) and the
/// duration. Never argument values.
fn entry_details(e: &Entry) -> Html {
    let ids = if e.ids.is_empty() { "none".to_string() } else { e.ids.join(", ") };
    html!(
        "<details><summary>{}</summary><dl class=muted><dt>Call</dt><dd><code>{}</code> ({}, {})</dd>\
         <dt>Ids</dt><dd><code>{}</code></dd><dt>Attio</dt><dd>{}</dd><dt>Took</dt><dd>{}</dd></dl></details>",
        e.outcome_text(),
        e.action,
        e.kind,
        if e.write { "write" } else { "read" },
        ids,
        e.status.map_or_else(|| "—".to_string(), |s| format!("status {s}")),
        e.duration_ms.map_or_else(|| "—".to_string(), |d| format!("{d} ms")),
    )
}

pub fn section(rows: &[(UserId, Entry)], names: &dyn Names, filter: &Filter, older: Option<&str>) -> Html {
    let value = |f: &Option<String>| f.clone().unwrap_or_default();
    let range: Html = [("30d", "30 days"), ("7d", "7 days"), ("24h", "24 hours")]
        .iter()
        .map(|(v, label)| {
            let selected = if filter.range.as_deref() == Some(v) { " selected" } else { "" };
            html!("<option value={}{}>{}</option>", v, selected, label)
        })
        .collect();
    let form = html!(
        "<form method=get action=\"{PATH}\"><label>Person <input name=person value=\"{}\"></label> \
         <label>App <input name=app value=\"{}\"></label> <label>Tool <input name=tool value=\"{}\"></label> \
         <label>Outcome <input name=outcome value=\"{}\" placeholder=\"ok or error\"></label> \
         <label>Last <select name=range>{}</select></label> <button type=submit>Filter</button></form>",
        value(&filter.person),
        value(&filter.app),
        value(&filter.tool),
        value(&filter.outcome),
        range,
    );
    let query = serde_urlencoded::to_string(filter).unwrap_or_default();
    let suffix = if query.is_empty() { String::new() } else { format!("?{query}") };
    let more = match older {
        Some(q) => html!("<p><a href=\"{PATH}?{}\">Older entries</a></p>", q),
        None => NOTHING,
    };
    let rows: Html = rows
        .iter()
        .map(|(u, e)| {
            let (app, app_page) = names.app(&e.client_id);
            let (person, person_page) = names.person(u);
            html!(
                "<tr><td>{}</td><td title=\"{}\"><a href=\"{}\">{}</a></td><td title=\"{}\">{}<a href=\"{}\">{}</a></td>\
                 <td title=\"{}\">{}</td><td>{}</td><td class={}>{}</td></tr>",
                format_time(e.at_ms),
                format!("{}:{}", u.workspace_id, u.member_id),
                person_page,
                person,
                e.client_id,
                avatar(&app),
                app_page,
                app,
                e.action,
                names.tool(&e.action),
                e.by.as_deref().unwrap_or(""),
                if e.outcome == "ok" { "yes" } else { "no" },
                entry_details(e),
            )
        })
        .collect();
    html!(
        "<h2 id=log>Audit log</h2>{}<p><a href=\"{}\">Export CSV</a> · <a href=\"{}\">Export JSON Lines</a></p>\
         <div class=table><table><thead><tr><th>When</th><th>Person</th><th>App</th><th>Action</th><th>By</th>\
         <th>Outcome</th></tr></thead><tbody>{}</tbody></table></div>{}",
        form,
        format!("{AUDIT_CSV}{suffix}"),
        format!("{AUDIT_JSONL}{suffix}"),
        rows,
        more,
    )
}
