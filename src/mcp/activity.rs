//! `record_activity`: what happened with one record, from the Attio endpoints that know a part
//! of it (notes, tasks, meetings and their call recordings, comment threads on the record and on
//! its list entries, list entries), asked at once and merged into one timeline, newest first,
//! each event one compact line with its most useful fields. A part the connection may not read
//! (a scope missing on the Attio app) is named in `skipped` instead of failing the whole answer;
//! items older than the window are counted in `older`, with how to see them.

use futures_util::future::join_all;
use http::Method;
use serde_json::{json, Map, Value};

use super::compact::compact;
use super::fetch::{Call, Failure, Fetcher};
use crate::oauth::grants::tool_groups::Group;
use crate::platform::Platform;

/// The arguments, checked (path segments already encoded).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub object: String,
    pub record_id: String,
    pub since: Option<String>,
    pub limit: u64,
    pub offset: u64,
}

/// How far back by default.
const DEFAULT_DAYS: u64 = 90;
/// Meetings whose call recordings are looked up (each is one more request).
const RECORDED_MEETINGS: usize = 5;
/// List entries whose comment threads are looked up (each is one more request).
const THREADED_ENTRIES: usize = 5;
/// A summary line's length in characters.
const SUMMARY: usize = 160;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Notes,
    Tasks,
    Meetings,
    Threads,
    Entries,
}

impl Source {
    /// The tool group a grant needs for this part of a record's activity.
    fn group(self) -> Group {
        match self {
            Source::Notes => Group::Notes,
            Source::Tasks => Group::Tasks,
            Source::Meetings => Group::Meetings,
            Source::Threads => Group::Comments,
            Source::Entries => Group::Lists,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Source::Notes => "notes",
            Source::Tasks => "tasks",
            Source::Meetings => "meetings",
            Source::Threads => "comment threads",
            Source::Entries => "list entries",
        }
    }
}

fn get(path: String, query: &[(&str, &str)]) -> Option<Call> {
    Call::new(Method::GET, &path, query, None).ok()
}

fn calls(r: &Request, since: &str) -> Vec<(Source, Call)> {
    let (o, id) = (r.object.as_str(), r.record_id.as_str());
    [
        (Source::Notes, get("/v2/notes".into(), &[("parent_object", o), ("parent_record_id", id), ("limit", "50")])),
        (Source::Tasks, get("/v2/tasks".into(), &[("linked_object", o), ("linked_record_id", id), ("limit", "100")])),
        (
            Source::Meetings,
            get(
                "/v2/meetings".into(),
                &[
                    ("linked_object", o),
                    ("linked_record_id", id),
                    ("ends_from", since),
                    ("sort", "start_desc"),
                    ("limit", "50"),
                ],
            ),
        ),
        (Source::Threads, get("/v2/threads".into(), &[("object", o), ("record_id", id), ("limit", "50")])),
        (Source::Entries, get(format!("/v2/objects/{o}/records/{id}/entries"), &[("limit", "100")])),
    ]
    .into_iter()
    .filter_map(|(s, c)| Some((s, c?)))
    .collect()
}

/// Runs the requests and merges the answers. Fails only when every part failed (then with the
/// first part's failure, which says what to do).
pub async fn run<P: Platform>(
    f: &Fetcher<'_, P>,
    r: &Request,
    groups: &[Group],
    now_ms: u64,
) -> Result<Value, Failure> {
    let since =
        r.since.clone().unwrap_or_else(|| crate::base::time::iso8601(now_ms.saturating_sub(DEFAULT_DAYS * 86_400_000)));
    let now = crate::base::time::iso8601(now_ms);
    // Only the parts the grant's tool groups allow are asked; the others are named as skipped.
    let (parts, withheld): (Vec<_>, Vec<_>) =
        calls(r, &since).into_iter().partition(|(s, _)| groups.contains(&s.group()));
    let answers = join_all(parts.iter().map(|(_, c)| f.get(c))).await;
    let mut events = Vec::new();
    let mut skipped: Vec<String> =
        withheld.iter().map(|(s, _)| format!("{}: not granted to this app", s.name())).collect();
    let withheld = withheld.len();
    let mut first_failure = None;
    let mut older = 0u64;
    let mut entries: Vec<Value> = Vec::new();
    for ((source, _), answer) in parts.iter().zip(answers) {
        match answer {
            Ok(v) => {
                let items = compact(&v).get("data").and_then(Value::as_array).cloned().unwrap_or_default();
                for item in &items {
                    match event(*source, item, &since) {
                        Some(e) => events.push(e),
                        None => older += 1,
                    }
                }
                if *source == Source::Entries {
                    entries = items;
                }
            }
            Err(failure) => {
                skipped.push(format!("{}: {}", source.name(), why(&failure)));
                first_failure.get_or_insert(failure);
            }
        }
    }
    if skipped.len() - withheld == parts.len() && !parts.is_empty() {
        return Err(first_failure.unwrap_or(Failure::NotJson));
    }
    if groups.contains(&Group::Meetings) {
        add_recordings(f, &mut events, &now).await;
    }
    if groups.contains(&Group::Comments) {
        older += add_entry_threads(f, &entries, &mut events, &mut skipped, &since).await;
    }
    events.sort_by(|a, b| b["at"].as_str().cmp(&a["at"].as_str()));
    let total = events.len() as u64;
    let page: Vec<Value> = events.into_iter().skip(r.offset as usize).take(r.limit as usize).collect();
    let next = r.offset + page.len() as u64;
    let mut out = json!({"data": page, "has_more": next < total, "since": since});
    if next < total {
        out["next_offset"] = json!(next);
    }
    if !skipped.is_empty() {
        out["skipped"] = json!(skipped);
    }
    if older > 0 {
        out["older"] =
            json!(format!("{older} item(s) before {since} are not shown: pass an earlier `since` to include them"));
    }
    Ok(out)
}

/// The comment threads on the record's list entries (the first [`THREADED_ENTRIES`]), as
/// `comment_thread` events naming their list; returns how many were older than `since`.
async fn add_entry_threads<P: Platform>(
    f: &Fetcher<'_, P>,
    entries: &[Value],
    events: &mut Vec<Value>,
    skipped: &mut Vec<String>,
    since: &str,
) -> u64 {
    let lookups: Vec<(String, Call)> = entries
        .iter()
        .filter_map(|e| {
            let (list, entry) = (s(e, "list_api_slug"), s(e, "entry_id"));
            let call = get("/v2/threads".into(), &[("list", list), ("entry_id", entry), ("limit", "50")])?;
            (!list.is_empty() && !entry.is_empty()).then(|| (list.to_string(), call))
        })
        .take(THREADED_ENTRIES)
        .collect();
    let answers = join_all(lookups.iter().map(|(_, c)| f.get(c))).await;
    let mut older = 0;
    for ((list, _), answer) in lookups.iter().zip(answers) {
        let items = match answer {
            Ok(v) => compact(&v).get("data").and_then(Value::as_array).cloned().unwrap_or_default(),
            Err(failure) => {
                skipped.push(format!("comment threads on the {list} entry: {}", why(&failure)));
                continue;
            }
        };
        for item in &items {
            match event(Source::Threads, item, since) {
                Some(mut e) => {
                    e["detail"]["list"] = json!(list);
                    events.push(e);
                }
                None => older += 1,
            }
        }
    }
    older
}

/// Why a part is missing, in a few words an agent can pass on.
fn why(f: &Failure) -> String {
    match f {
        Failure::Status { status: 403, .. } => "the Attio app lacks a scope for it".into(),
        Failure::Status { status, message, .. } => {
            format!("Attio answered {status}: {}", message.as_deref().unwrap_or(""))
        }
        Failure::RateLimited(_) => "Attio's rate limit; retry shortly".into(),
        Failure::Unauthorized => "Attio refused the connection".into(),
        Failure::Unreachable(_) | Failure::NotJson => "Attio did not answer; retry shortly".into(),
        Failure::NoAuthor(_) => "no Attio member to act as".into(),
    }
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn line(text: &str) -> String {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one.char_indices().nth(SUMMARY) {
        Some((cut, _)) => format!("{}…", &one[..cut]),
        None => one,
    }
}

fn keep(detail: &Value, keys: &[&str]) -> Value {
    let mut out = Map::new();
    for k in keys {
        if let Some(v) = detail.get(*k).filter(|v| !v.is_null()) {
            out.insert((*k).into(), v.clone());
        }
    }
    Value::Object(out)
}

/// One compact item as a timeline event, or `None` when it is older than `since` (open tasks
/// are always kept: they are what is still to do).
fn event(source: Source, item: &Value, since: &str) -> Option<Value> {
    let recent = |at: &str| at >= since;
    let (at, kind, id, summary, detail) = match source {
        Source::Notes => {
            let title = s(item, "title");
            let summary = format!("{title}: {}", s(item, "content"));
            (s(item, "created_at").to_string(), "note", s(item, "id"), line(&summary), keep(item, &["created_by"]))
        }
        Source::Tasks => {
            let open = item.get("is_completed").and_then(Value::as_bool) != Some(true);
            let at = s(item, "created_at");
            if !open && !recent(at) {
                return None;
            }
            let detail = keep(item, &["deadline_at", "is_completed", "assignees"]);
            return Some(
                json!({"at": at, "kind": "task", "id": s(item, "id"), "summary": line(s(item, "content")), "detail": detail}),
            );
        }
        Source::Meetings => {
            let detail = keep(item, &["start", "end", "participants"]);
            (s(item, "start").to_string(), "meeting", s(item, "id"), line(s(item, "title")), detail)
        }
        Source::Threads => {
            let comments = item.get("comments").and_then(Value::as_array).cloned().unwrap_or_default();
            let last = comments.last().cloned().unwrap_or(Value::Null);
            let at = if last.is_null() { s(item, "created_at") } else { s(&last, "created_at") };
            let summary = format!(
                "{} ({} comment{})",
                s(&last, "content"),
                comments.len(),
                if comments.len() == 1 { "" } else { "s" }
            );
            (at.to_string(), "comment_thread", s(item, "id"), line(&summary), keep(&last, &["author"]))
        }
        Source::Entries => {
            let list = s(item, "list_api_slug");
            let detail = json!({"list": list, "list_id": item.get("list_id")});
            (
                s(item, "created_at").to_string(),
                "list_entry",
                s(item, "entry_id"),
                format!("added to list {list}"),
                detail,
            )
        }
    };
    recent(&at).then(|| json!({"at": at, "kind": kind, "id": id, "summary": summary, "detail": detail}))
}

/// The call recordings of the most recent meetings that have started, as each meeting's
/// `detail.recordings` (`[{id, status}]`); a lookup that fails leaves the meeting without.
async fn add_recordings<P: Platform>(f: &Fetcher<'_, P>, events: &mut [Value], now: &str) {
    let mut meetings: Vec<usize> =
        (0..events.len()).filter(|i| events[*i]["kind"] == "meeting" && s(&events[*i], "at") <= now).collect();
    meetings.sort_by(|a, b| s(&events[*b], "at").cmp(s(&events[*a], "at")));
    meetings.truncate(RECORDED_MEETINGS);
    let lookups: Vec<(usize, Call)> = meetings
        .into_iter()
        .filter_map(|i| {
            let id = s(&events[i], "id");
            let safe = !id.is_empty() && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
            safe.then(|| get(format!("/v2/meetings/{id}/call_recordings"), &[("limit", "5")]).map(|c| (i, c)))?
        })
        .collect();
    let answers = join_all(lookups.iter().map(|(_, c)| f.get(c))).await;
    for ((i, _), answer) in lookups.iter().zip(answers) {
        let Ok(v) = answer else { continue };
        let recordings: Vec<Value> = compact(&v)
            .get("data")
            .and_then(Value::as_array)
            .map(|items| items.iter().map(|r| keep(r, &["id", "status"])).collect())
            .unwrap_or_default();
        if !recordings.is_empty() {
            events[*i]["detail"]["recordings"] = json!(recordings);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_one_line_and_respect_since() {
        let since = "2026-11-01T00:00:00Z";
        let note = json!({"id": "n1", "title": "Call", "content": "Talked\nabout   renewal", "created_at": "2026-11-20T10:00:00Z"});
        assert_eq!(event(Source::Notes, &note, since).unwrap()["summary"], "Call: Talked about renewal");
        let old = json!({"id": "n0", "title": "Old", "created_at": "2025-01-01T00:00:00Z"});
        assert!(event(Source::Notes, &old, since).is_none());
        let open_old_task = json!({"id": "t1", "content": "Send contract", "is_completed": false, "created_at": "2025-01-01T00:00:00Z"});
        assert_eq!(event(Source::Tasks, &open_old_task, since).unwrap()["kind"], "task");
        let done_old_task =
            json!({"id": "t2", "content": "x", "is_completed": true, "created_at": "2025-01-01T00:00:00Z"});
        assert!(event(Source::Tasks, &done_old_task, since).is_none());
        let thread = json!({"id": "th", "created_at": "2026-11-02T00:00:00Z", "comments": [
            {"content": "first", "created_at": "2026-11-02T00:00:00Z"}, {"content": "second", "author": "workspace-member:m", "created_at": "2026-11-03T00:00:00Z"}]});
        let e = event(Source::Threads, &thread, since).unwrap();
        assert_eq!(
            (e["at"].as_str(), e["summary"].as_str()),
            (Some("2026-11-03T00:00:00Z"), Some("second (2 comments)"))
        );
        assert_eq!(line(&"x".repeat(500)).chars().count(), SUMMARY + 1);
    }
}
