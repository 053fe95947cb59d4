//! Comment threads and comments, on records and on list entries:
//!
//! | Route | Scopes (`security`) | Notes |
//! |---|---|---|
//! | `GET /v2/threads` | `comment:read` | `record_id` + `object` or `entry_id` + `list` (each pair together); `limit` 1–50 (10), `offset` |
//! | `GET /v2/threads/{thread_id}` | `comment:read` | the thread with all its comments |
//! | `POST /v2/comments` | `comment:read-write` | on a `thread_id`, a `record` or an `entry`; a new thread unless `thread_id` |
//! | `GET /v2/comments/{comment_id}` | `comment:read` | |
//! | `DELETE /v2/comments/{comment_id}` | `comment:read-write` | `{}`; deleting a thread's head comment deletes the thread |
//!
//! The operations' descriptions add scopes by target, and the mock enforces them too: a
//! thread or comment on a record also needs `object_configuration:read` and
//! `record_permission:read`; on a list entry, `list_configuration:read` and `list_entry:read`
//! (deleting needs only `comment:read-write`, as documented). Listing threads without a filter
//! shows only the threads whose target the token may see.
//!
//! A comment's 400s use the usual `status_code` key: the spec's `statusCode` on this one
//! endpoint is taken for a typo in the spec.

use super::*;
use crate::model::{Comment, Thread, ThreadTarget};

const ON_RECORDS: &[&str] = &[OBJ_READ, REC_READ];
const ON_ENTRIES: &[&str] = &[LIST_CONF_READ, ENTRY_READ];

/// The extra scopes a thread's target needs.
fn target_scopes(t: &ThreadTarget) -> &'static [&'static str] {
    if t.entry.is_some() {
        ON_ENTRIES
    } else {
        ON_RECORDS
    }
}

fn with(base: &'static str, extra: &[&'static str]) -> Vec<&'static str> {
    std::iter::once(base).chain(extra.iter().copied()).collect()
}

fn comment_json(w: &Workspace, c: &Comment, t: &Thread, world: &World) -> Value {
    json!({
        "id": {"workspace_id": w.id, "comment_id": c.id},
        "thread_id": c.thread_id,
        "content_plaintext": c.content,
        "entry": t.target.entry.map(|(list_id, entry_id)| json!({"entry_id": entry_id, "list_id": list_id})),
        "record": {"record_id": t.target.record_id, "object_id": t.target.object_id},
        "resolved_at": c.resolved_at.map(|at| world.clock.format(at)),
        "resolved_by": c.resolved_by.map_or_else(|| json!({"type": null, "id": null}), actor),
        "created_at": world.clock.format(c.created_at),
        "author": actor(c.author),
    })
}

fn thread_json(w: &Workspace, t: &Thread, world: &World) -> Value {
    json!({
        "id": {"workspace_id": w.id, "thread_id": t.id},
        "comments": w.thread_comments(t.id).into_iter().map(|c| comment_json(w, c, t, world)).collect::<Vec<_>>(),
        "created_at": world.clock.format(t.created_at),
    })
}

fn find_thread<'a>(w: &'a Workspace, id: &str) -> Result<&'a Thread, ApiError> {
    let missing = || ApiError::not_found(format!("Thread with ID \"{id}\" not found."));
    let tid = Uuid::parse_str(id).map_err(|_| missing())?;
    w.threads.iter().find(|t| t.id == tid).ok_or_else(missing)
}

/// A comment and its thread.
fn find_comment<'a>(w: &'a Workspace, id: &str) -> Result<(&'a Comment, &'a Thread), ApiError> {
    let missing = || ApiError::not_found(format!("Comment with ID \"{id}\" not found."));
    let cid = Uuid::parse_str(id).map_err(|_| missing())?;
    let c = w.comments.iter().find(|c| c.id == cid).ok_or_else(missing)?;
    let t = w.threads.iter().find(|t| t.id == c.thread_id).ok_or_else(missing)?;
    Ok((c, t))
}

/// `GET /v2/threads`.
pub async fn list_threads(State(shared): State<Shared>, headers: HeaderMap, Query(p): Query<Params>) -> ApiResult {
    read(&shared, &headers, &[COMMENT_READ], |world, w| {
        let (limit, offset) = (p.limit(10, 50)?, p.offset()?);
        let on_record = p.pair("record_id", "object")?;
        let on_entry = p.pair("entry_id", "list")?;
        let keep: Box<dyn Fn(&ThreadTarget) -> bool> = match (on_record, on_entry) {
            (Some(_), Some(_)) => {
                return Err(ApiError::validation(
                    "Filter threads by a record (record_id, object) or by an entry (entry_id, list), not both.".into(),
                ))
            }
            (Some((record, object)), None) => {
                authenticate(world, &headers, &with(COMMENT_READ, ON_RECORDS))?;
                let rid = uuid_field(record, "record_id")?;
                let oid = find_object(w, object)?.id;
                Box::new(move |t| t.entry.is_none() && t.object_id == oid && t.record_id == rid)
            }
            (None, Some((entry, list))) => {
                authenticate(world, &headers, &with(COMMENT_READ, ON_ENTRIES))?;
                let eid = uuid_field(entry, "entry_id")?;
                let lid = find_list(w, list)?.id;
                Box::new(move |t| t.entry == Some((lid, eid)))
            }
            (None, None) => {
                let records = authenticate(world, &headers, &with(COMMENT_READ, ON_RECORDS)).is_ok();
                let entries = authenticate(world, &headers, &with(COMMENT_READ, ON_ENTRIES)).is_ok();
                Box::new(move |t| if t.entry.is_some() { entries } else { records })
            }
        };
        let mut threads: Vec<&Thread> = w.threads.iter().filter(|t| keep(&t.target)).collect();
        threads.sort_by_key(|t| t.created_at);
        let rendered: Vec<Value> = threads.into_iter().map(|t| thread_json(w, t, world)).collect();
        Ok(Value::Array(page(rendered, Some(limit), Some(offset), limit)))
    })
}

/// `GET /v2/threads/{thread_id}`.
pub async fn get_thread(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    read(&shared, &headers, &[COMMENT_READ], |world, w| {
        let t = find_thread(w, &id)?;
        authenticate(world, &headers, &with(COMMENT_READ, target_scopes(&t.target)))?;
        Ok(thread_json(w, t, world))
    })
}

/// `GET /v2/comments/{comment_id}`.
pub async fn get_comment(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    read(&shared, &headers, &[COMMENT_READ], |world, w| {
        let (c, t) = find_comment(w, &id)?;
        authenticate(world, &headers, &with(COMMENT_READ, target_scopes(&t.target)))?;
        Ok(comment_json(w, c, t, world))
    })
}

/// `DELETE /v2/comments/{comment_id}`: `{}`. The head of a thread takes the thread with it.
pub async fn delete_comment(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let (mut world, caller) = locked(&shared, &headers, &[COMMENT_WRITE])?;
    let w = ws(&world, &caller)?;
    let (c, t) = find_comment(w, &id)?;
    let (cid, tid) = (c.id, t.id);
    let is_head = w.thread_head(tid).is_some_and(|head| head.id == cid);
    let wm = ws_mut(&mut world, &caller)?;
    if is_head {
        wm.threads.retain(|t| t.id != tid);
        wm.comments.retain(|c| c.thread_id != tid);
    } else {
        wm.comments.retain(|c| c.id != cid);
    }
    empty()
}

/// The keys each body form of `POST /v2/comments` may carry (`additionalProperties: false`).
const COMMENT_FIELDS: &[&str] = &["format", "content", "author", "created_at", "thread_id", "record", "entry"];
const COMMENT_TARGETS: [&str; 3] = ["thread_id", "record", "entry"];

fn str_in<'a>(m: &'a Map<String, Value>, key: &str, what: &str) -> Result<&'a str, ApiError> {
    m.get(key).and_then(Value::as_str).ok_or_else(|| ApiError::validation(format!("\"{what}\" must be a string.")))
}

fn object_in<'a>(m: &'a Map<String, Value>, key: &str) -> Result<&'a Map<String, Value>, ApiError> {
    m.get(key).and_then(Value::as_object).ok_or_else(|| ApiError::validation(format!("\"{key}\" must be an object.")))
}

/// `POST /v2/comments`: a comment on an existing thread, or the first of a new thread on a
/// record or a list entry.
pub async fn create_comment(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let (mut world, caller) = locked(&shared, &headers, &[COMMENT_WRITE])?;
    let d = body_data(&body)?;
    if let Some(extra) = d.keys().find(|k| !COMMENT_FIELDS.contains(&k.as_str())) {
        return Err(ApiError::validation(format!(
            "Unknown field \"{extra}\"; a comment takes {}.",
            COMMENT_FIELDS.join(", ")
        )));
    }
    let targets: Vec<&str> = COMMENT_TARGETS.into_iter().filter(|k| d.contains_key(*k)).collect();
    if targets.len() != 1 {
        return Err(ApiError::validation(
            "A comment needs exactly one of \"thread_id\", \"record\" ({object, record_id}) or \"entry\" ({list, entry_id})."
                .into(),
        ));
    }
    let missing: Vec<&str> = ["format", "content", "author"].into_iter().filter(|k| !d.contains_key(*k)).collect();
    if !missing.is_empty() {
        return Err(ApiError::validation(format!("Missing required fields: {}.", missing.join(", "))));
    }
    if d.get("format").and_then(Value::as_str) != Some("plaintext") {
        return Err(ApiError::validation("\"format\" must be \"plaintext\".".into()));
    }
    let content = str_in(&d, "content", "content")?.to_string();
    let author = object_in(&d, "author")?;
    if author.get("type").and_then(Value::as_str) != Some("workspace-member") {
        return Err(ApiError::validation(
            "\"author.type\" must be \"workspace-member\" (other actors are not supported).".into(),
        ));
    }
    let author_id = uuid_field(str_in(author, "id", "author.id")?, "author.id")?;
    let now = world.clock.now();
    let created_at = match d.get("created_at") {
        None | Some(Value::Null) => now,
        Some(v) => {
            let raw = v.as_str().unwrap_or_default();
            let (secs, _) = crate::clock::parse_timestamp(raw).ok_or_else(|| {
                ApiError::validation(format!("\"created_at\" must be an ISO 8601 timestamp, got {v}."))
            })?;
            if !(0..=now).contains(&secs) {
                return Err(ApiError::validation("\"created_at\" may not be before 1970 or in the future.".into()));
            }
            secs
        }
    };
    let w = ws(&world, &caller)?;
    if w.member(author_id).is_none() {
        return Err(ApiError::value_not_found(format!("Workspace member with ID \"{author_id}\" not found.")));
    }
    // The existing thread, or a new one on the record or entry.
    let new_thread = |target| (Thread { id: Uuid::new_v4(), target, created_at }, true);
    let (thread, is_new) = match targets[0] {
        "thread_id" => {
            let tid = uuid_field(str_in(&d, "thread_id", "thread_id")?, "thread_id")?;
            let t = w
                .threads
                .iter()
                .find(|t| t.id == tid)
                .ok_or_else(|| ApiError::value_not_found(format!("Thread with ID \"{tid}\" not found.")))?;
            authenticate(&world, &headers, &with(COMMENT_WRITE, target_scopes(&t.target)))?;
            (t.clone(), false)
        }
        "record" => {
            authenticate(&world, &headers, &with(COMMENT_WRITE, ON_RECORDS))?;
            let r = object_in(&d, "record")?;
            let (object, record) = (str_in(r, "object", "record.object")?, str_in(r, "record_id", "record.record_id")?);
            let rid = uuid_field(record, "record.record_id")?;
            let o = w
                .object(object)
                .ok_or_else(|| ApiError::value_not_found(format!("Object with slug/ID \"{object}\" not found.")))?;
            if !w.records.iter().any(|r| r.id == rid && r.object_id == o.id) {
                return Err(ApiError::value_not_found(format!("Record with ID \"{rid}\" not found.")));
            }
            new_thread(ThreadTarget { object_id: o.id, record_id: rid, entry: None })
        }
        _ => {
            authenticate(&world, &headers, &with(COMMENT_WRITE, ON_ENTRIES))?;
            let e = object_in(&d, "entry")?;
            let (list, entry) = (str_in(e, "list", "entry.list")?, str_in(e, "entry_id", "entry.entry_id")?);
            let l = w
                .list(list)
                .ok_or_else(|| ApiError::value_not_found(format!("List with slug/ID \"{list}\" not found.")))?;
            let found =
                Uuid::parse_str(entry).ok().and_then(|eid| w.entries.iter().find(|e| e.id == eid && e.list_id == l.id));
            let e = found.ok_or_else(|| ApiError::value_not_found(format!("Entry with ID \"{entry}\" not found.")))?;
            let object_id = w.object(&e.parent_object).map(|o| o.id).unwrap_or_default();
            new_thread(ThreadTarget { object_id, record_id: e.parent_record_id, entry: Some((l.id, e.id)) })
        }
    };
    let comment = Comment {
        id: Uuid::new_v4(),
        thread_id: thread.id,
        content,
        author: author_id,
        created_at,
        resolved_at: None,
        resolved_by: None,
    };
    let wm = ws_mut(&mut world, &caller)?;
    if is_new {
        wm.threads.push(thread.clone());
    }
    wm.comments.push(comment.clone());
    let w = ws(&world, &caller)?;
    data(comment_json(w, &comment, &thread, &world))
}
