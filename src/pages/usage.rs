//! Usage at a glance, as `/admin` and `/account` show it: the daily totals people's objects
//! keep (see [`crate::transitions::usage`]) added up over a range (24 hours by the hour, 7 or 30
//! days by the day), for everyone, one person or one app; drawn by [`super::charts`].

use std::borrow::Cow;

use crate::base::html;
use crate::base::html::Html;
use crate::base::user::UserId;
use crate::pages::charts::{number, ranking, stacked_bars, summary};
use crate::pages::{format_time, Names};
use crate::store::grant_index::client_key;
use crate::transitions::usage::{busiest_first, Outcomes, Totals, Usage, DAY_MS, HOUR_MS};

/// The range a view covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    Day,
    Week,
    Month,
}

impl Range {
    pub const ALL: [Range; 3] = [Range::Day, Range::Week, Range::Month];

    /// `24h`, `7d` or `30d`; anything else is the whole 30 days.
    pub fn parse(value: Option<&str>) -> Range {
        match value {
            Some("24h") => Range::Day,
            Some("7d") => Range::Week,
            _ => Range::Month,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Range::Day => "24h",
            Range::Week => "7d",
            Range::Month => "30d",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Range::Day => "24 hours",
            Range::Week => "7 days",
            Range::Month => "30 days",
        }
    }

    /// The first day the range needs totals for (24 hours come by the hour with any ask).
    pub fn from_day(self, now_ms: u64) -> u64 {
        let today = now_ms / DAY_MS;
        match self {
            Range::Day => today,
            Range::Week => today.saturating_sub(6),
            Range::Month => today.saturating_sub(29),
        }
    }
}

/// How many of the busiest apps, people and tools a view names.
const BUSIEST: usize = 5;

/// What a range adds up to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Glance {
    /// `(short label, long label, calls)` per hour or day, oldest first.
    pub bars: Vec<(String, String, Outcomes)>,
    /// Everything in the range (for one app: its calls by outcome and destructive calls only).
    pub totals: Totals,
    /// Each person's calls, busiest first.
    pub people: Vec<(UserId, u64)>,
    /// The latest destructive calls, newest first, with whose they were.
    pub destructive: Vec<(UserId, serde_json::Value)>,
}

/// `usage` of several people added up over `range`, only the app `app` when given.
pub fn glance(usage: &[(UserId, Usage)], range: Range, app: Option<&str>, now_ms: u64) -> Glance {
    let app = app.map(client_key);
    let mut g = Glance::default();
    let mut per_day: std::collections::BTreeMap<u64, Outcomes> = Default::default();
    let mut hours = vec![Outcomes::default(); 24];
    let hours_from = usage.first().map_or(now_ms / HOUR_MS * HOUR_MS, |(_, u)| u.hours_from_ms);
    for (user, u) in usage {
        let mut mine = Totals::default();
        match range {
            Range::Day => mine.add(&of_app(&u.last_day, app.as_deref())),
            _ => {
                for (day, t) in u.days.iter().filter(|(d, _)| *d >= range.from_day(now_ms)) {
                    let t = of_app(t, app.as_deref());
                    per_day.entry(*day).or_default().add(&t.outcomes);
                    mine.add(&t);
                }
            }
        }
        let my_hours = match &app {
            None => u.hours.clone(),
            Some(app) => {
                u.app_hours.iter().filter(|(id, _)| client_key(id) == *app).fold(Vec::new(), |mut all, (_, h)| {
                    all.resize(h.len().max(all.len()), Outcomes::default());
                    all.iter_mut().zip(h).for_each(|(a, o)| a.add(o));
                    all
                })
            }
        };
        for (sum, hour) in hours.iter_mut().zip(&my_hours) {
            sum.add(hour);
        }
        g.destructive.extend(mine.destructive.iter().map(|r| (user.clone(), r.clone())));
        if mine.outcomes.total() > 0 {
            g.people.push((user.clone(), mine.outcomes.total()));
        }
        g.totals.add(&mine);
    }
    g.people = busiest_first(std::mem::take(&mut g.people));
    let timed = std::mem::take(&mut g.destructive).into_iter().map(|(u, r)| {
        let at = crate::transitions::log::at_ms(&r);
        ((u, r), at)
    });
    g.destructive = busiest_first(timed.collect())
        .into_iter()
        .take(crate::transitions::usage::DESTRUCTIVE_MAX)
        .map(|(ur, _)| ur)
        .collect();
    g.bars = match range {
        Range::Day => hours
            .into_iter()
            .enumerate()
            .map(|(i, o)| {
                let start = hours_from + i as u64 * HOUR_MS;
                let (_, _, _, hour, _, _) = crate::base::time::civil(start);
                (format!("{hour:02}h"), format!("{} hour", format_time(start)), o)
            })
            .collect(),
        _ => (range.from_day(now_ms)..=now_ms / DAY_MS)
            .map(|day| {
                let (_, month, d, _, _, _) = crate::base::time::civil(day * DAY_MS);
                let long = format_time(day * DAY_MS).chars().take(10).collect::<String>();
                (format!("{}/{d}", month), long, per_day.get(&day).copied().unwrap_or_default())
            })
            .collect(),
    };
    g
}

/// `t`, or only what the app keyed `app` ([`client_key`]) did in it: its calls by outcome and its
/// destructive calls.
fn of_app<'t>(t: &'t Totals, app: Option<&str>) -> Cow<'t, Totals> {
    let Some(app) = app else { return Cow::Borrowed(t) };
    let mut only = Totals::default();
    for (id, o) in t.apps.iter().filter(|(id, _)| client_key(id) == app) {
        only.outcomes.add(o);
        only.apps.insert(id.clone(), *o);
    }
    let same_app =
        |r: &&serde_json::Value| r.get("client_id").and_then(|c| c.as_str()).map(client_key).as_deref() == Some(app);
    only.destructive = t.destructive.iter().filter(same_app).cloned().collect();
    Cow::Owned(only)
}

fn link(name: &str, href: &str) -> Html {
    html!("<a href=\"{}\">{}</a>", href, name)
}

/// The section: the range's chart, its totals in words, the busiest apps, people and tools,
/// reads against writes, and the latest destructive calls. `ranges` links each range.
pub fn section(g: &Glance, range: Range, one_app: bool, names: &dyn Names, ranges: &Html) -> Html {
    let chart = stacked_bars(
        "usage",
        &format!("Calls {} by outcome", if range == Range::Day { "per hour" } else { "per day" }),
        &g.bars,
        180,
    );
    let t = &g.totals;
    // The five busiest of each, named only once chosen.
    let apps: Vec<(Html, u64)> = busiest_first(t.apps.iter().map(|(id, o)| (id, o.total())).collect())
        .into_iter()
        .take(BUSIEST)
        .map(|(id, n)| {
            let (name, href) = names.app(id);
            (html!("{}{}", crate::pages::avatar(&name), link(&name, &href)), n)
        })
        .collect();
    let people: Vec<(Html, u64)> = g
        .people
        .iter()
        .take(BUSIEST)
        .map(|(u, n)| {
            let (name, href) = names.person(u);
            (link(&name, &href), *n)
        })
        .collect();
    let tools: Vec<(Html, u64)> = busiest_first(t.tools.iter().map(|(a, n)| (a, *n)).collect())
        .into_iter()
        .take(BUSIEST)
        .map(|(a, n)| (html!("<span title=\"{}\">{}</span>", a, names.tool(a)), n))
        .collect();
    let kinds = if one_app {
        html!("<p class=muted>Reads, writes and tools are counted for all apps together.</p>")
    } else {
        let share = (t.writes * 100).checked_div(t.reads + t.writes).unwrap_or(0);
        html!(
            "<p>{} reads, {} writes <span class=muted>({}% writes)</span></p>{}",
            number(t.reads),
            number(t.writes),
            share,
            ranking("Busiest tools", &tools)
        )
    };
    html!(
        "<section aria-labelledby=usage-h><h2 id=usage-h>Usage</h2>{}<p class=totals>{} in the last {}.</p>{}\
         <div class=ranks>{}{}</div>{}{}</section>",
        ranges.clone(),
        summary(&t.outcomes),
        range.label(),
        chart,
        ranking("Busiest apps", &apps),
        ranking("Busiest people", &people),
        kinds,
        destructive(&g.destructive, names),
    )
}

/// The latest calls that replaced or removed data.
fn destructive(calls: &[(UserId, serde_json::Value)], names: &dyn Names) -> Html {
    if calls.is_empty() {
        return html!("<h3>Latest destructive calls</h3><p class=muted>None in this range.</p>");
    }
    let rows: Html = calls
        .iter()
        .map(|(u, r)| {
            let text = |f: &str| r.get(f).and_then(|v| v.as_str()).unwrap_or_default().to_string();
            let (person, person_href) = names.person(u);
            let (app, app_href) = names.app(&text("client_id"));
            html!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td title=\"{}\">{}</td><td class={}>{}</td></tr>",
                format_time(crate::transitions::log::at_ms(r)),
                link(&person, &person_href),
                link(&app, &app_href),
                text("action"),
                names.tool(&text("action")),
                if text("outcome") == "ok" { "yes" } else { "no" },
                text("outcome"),
            )
        })
        .collect();
    html!(
        "<h3>Latest destructive calls</h3><div class=table><table><thead><tr><th>When</th><th>Person</th>\
         <th>App</th><th>Call</th><th>Outcome</th></tr></thead><tbody>{}</tbody></table></div>",
        rows
    )
}

/// `/account`'s small chart: the person's calls per day over a week, and per app.
pub fn small(user: &UserId, usage: &Usage, now_ms: u64, names: &dyn Names) -> Html {
    let g = glance(&[(user.clone(), usage.clone())], Range::Week, None, now_ms);
    let apps = busiest_first(g.totals.apps.iter().map(|(id, o)| (id, o.total())).collect());
    let apps: Vec<(Html, u64)> = apps
        .into_iter()
        .take(BUSIEST)
        .map(|(id, n)| {
            let (name, _) = names.app(id);
            (html!("{}{}", crate::pages::avatar(&name), name), n)
        })
        .collect();
    html!(
        "<section aria-labelledby=usage-h><h2 id=usage-h>Your apps' calls</h2><p class=totals>{} in the last 7 days.</p>{}{}</section>",
        summary(&g.totals.outcomes),
        stacked_bars("usage", "Your apps' calls per day by outcome", &g.bars, 140),
        ranking("By app", &apps),
    )
}
