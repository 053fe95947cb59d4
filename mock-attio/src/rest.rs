//! Attio's REST API v2 (`shared/reference/attio-api.md` §2, §7.2), enough of it for the
//! gateway's tools and proxy: identify, objects and attributes (with their select options and
//! statuses), records (query, create, assert, get, update, delete, search, list entries), lists
//! and entries, notes, tasks, workspace members; meetings, call recordings and transcripts in
//! [`meetings`]; comment threads and comments in [`comments`].
//!
//! Every request is authenticated (Bearer, or Basic with the token as user name), checked
//! against the endpoint's scopes exactly as the OpenAPI spec lists them, and confined to the
//! token's workspace. Query strings of the newer endpoints are read by hand ([`Params`]) so a
//! bad `limit`, half a filter pair or a garbage `cursor` gets Attio's 400 envelope.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::error::ApiError;
use crate::model::{Attribute, Entry, List, Note, Object, Record, Task, Workspace, World};

pub mod comments;
pub mod meetings;
use crate::values::{actor, primary, typed_values, Filter, Sort};
use crate::{bearer_or_basic_token, Shared};

type ApiResult = Result<Response, ApiError>;

const OBJ_READ: &str = "object_configuration:read";
const REC_READ: &str = "record_permission:read";
const REC_WRITE: &str = "record_permission:read-write";
const LIST_CONF_READ: &str = "list_configuration:read";
const ENTRY_READ: &str = "list_entry:read";
const ENTRY_WRITE: &str = "list_entry:read-write";
const USERS_READ: &str = "user_management:read";
const NOTE_READ: &str = "note:read";
const NOTE_WRITE: &str = "note:read-write";
const TASK_READ: &str = "task:read";
const TASK_WRITE: &str = "task:read-write";
const MEETING_READ: &str = "meeting:read";
const CALL_RECORDING_READ: &str = "call_recording:read";
const COMMENT_READ: &str = "comment:read";
const COMMENT_WRITE: &str = "comment:read-write";

/// The authenticated caller: whose workspace, which member authorised the token.
struct Caller {
    workspace: Uuid,
    member: Uuid,
}

/// A granted `x:read-write` also satisfies a required `x:read`.
fn has_scope(granted: &[String], required: &str) -> bool {
    granted.iter().any(|g| {
        g == required || required.strip_suffix(":read").is_some_and(|base| g.strip_suffix(":read-write") == Some(base))
    })
}

fn authenticate(world: &World, headers: &HeaderMap, scopes: &[&str]) -> Result<Caller, ApiError> {
    let token = bearer_or_basic_token(headers)
        .ok_or_else(|| ApiError::unauthorized("Missing access token. Send it as a Bearer token."))?;
    let grant = world
        .live_grant(&token)
        .ok_or_else(|| ApiError::unauthorized("The access token is invalid, expired or revoked."))?;
    let missing: Vec<&str> = scopes.iter().copied().filter(|s| !has_scope(&grant.scopes, s)).collect();
    if !missing.is_empty() {
        return Err(ApiError::missing_scopes(scopes));
    }
    Ok(Caller { workspace: grant.workspace_id, member: grant.member_id })
}

fn data(v: Value) -> ApiResult {
    Ok(Json(json!({ "data": v })).into_response())
}

fn empty() -> ApiResult {
    Ok(Json(json!({})).into_response())
}

fn parse_body(body: &Bytes) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| ApiError::validation(format!("Body is not valid JSON: {e}")))
}

/// `body.data` as an object, as every write endpoint expects.
fn body_data(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    match parse_body(body)?.get("data") {
        Some(Value::Object(m)) => Ok(m.clone()),
        _ => Err(ApiError::validation("Body must be {\"data\": {...}}.".into())),
    }
}

fn uuid_param(s: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(s).map_err(|_| ApiError::not_found(format!("{what} with ID \"{s}\" not found.")))
}

/// A query string as plain strings. The typed readers below answer a bad value with Attio's
/// 400 `validation_type` envelope (axum's typed `Query` would answer plain text).
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    fn str(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Like [`Self::str`], but an empty value counts as absent.
    fn non_empty(&self, name: &str) -> Option<&str> {
        self.str(name).filter(|v| !v.is_empty())
    }

    /// An integer in `min..=max`; `default` when absent.
    fn int(&self, name: &str, default: usize, min: usize, max: usize) -> Result<usize, ApiError> {
        let Some(raw) = self.str(name) else {
            return Ok(default);
        };
        raw.parse::<usize>().ok().filter(|n| (min..=max).contains(n)).ok_or_else(|| {
            ApiError::validation(format!("\"{name}\" must be an integer between {min} and {max}, got \"{raw}\"."))
        })
    }

    fn limit(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        self.int("limit", default, 1, max)
    }

    fn offset(&self) -> Result<usize, ApiError> {
        self.int("offset", 0, 0, usize::MAX)
    }

    fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.str(name) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => {
                Err(ApiError::validation(format!("\"{name}\" must be a boolean (true or false), got \"{other}\".")))
            }
        }
    }

    /// Two parameters that only work together: both (their values) or neither.
    fn pair(&self, a: &str, b: &str) -> Result<Option<(&str, &str)>, ApiError> {
        match (self.non_empty(a), self.non_empty(b)) {
            (Some(x), Some(y)) => Ok(Some((x, y))),
            (None, None) => Ok(None),
            (Some(_), None) => Err(ApiError::validation(format!("\"{a}\" must be passed together with \"{b}\"."))),
            (None, Some(_)) => Err(ApiError::validation(format!("\"{b}\" must be passed together with \"{a}\"."))),
        }
    }
}

/// A UUID where the spec says `format: uuid` outside the path (a query or body field): 400.
fn uuid_field(s: &str, name: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(s).map_err(|_| ApiError::validation(format!("\"{name}\" must be a UUID, got \"{s}\".")))
}

/// The opaque cursor of the cursor-paginated endpoints: base64url of `<kind>:<offset>`, so a
/// cursor from one endpoint is refused by another.
fn encode_cursor(kind: &str, offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{offset}"))
}

/// Where a page starts: 0 without a cursor; a cursor this mock did not issue for `kind` is a 400.
fn decode_cursor(cursor: Option<&str>, kind: &str) -> Result<usize, ApiError> {
    let Some(cursor) = cursor else {
        return Ok(0);
    };
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix(kind)?.strip_prefix(':')?.parse::<usize>().ok())
        .ok_or_else(|| ApiError::validation(format!("Invalid cursor \"{cursor}\".")))
}

/// One page of `items` from `start`, and the cursor of the next page (`None` on the last page).
fn cursor_page<T>(items: Vec<T>, start: usize, size: usize, kind: &str) -> (Vec<T>, Option<String>) {
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(size).collect();
    let next = (start.saturating_add(size) < total).then(|| encode_cursor(kind, start + size));
    (page, next)
}

/// `{"data": ..., "pagination": {"next_cursor": ...}}`.
fn data_with_cursor(v: Value, next_cursor: Option<String>) -> ApiResult {
    Ok(Json(json!({ "data": v, "pagination": {"next_cursor": next_cursor} })).into_response())
}

fn ws<'a>(world: &'a World, caller: &Caller) -> Result<&'a Workspace, ApiError> {
    world.workspace(caller.workspace).ok_or_else(|| ApiError::not_found("Workspace not found."))
}

fn ws_mut<'a>(world: &'a mut World, caller: &Caller) -> Result<&'a mut Workspace, ApiError> {
    world.workspace_mut(caller.workspace).ok_or_else(|| ApiError::not_found("Workspace not found."))
}

fn find_object<'a>(w: &'a Workspace, slug: &str) -> Result<&'a Object, ApiError> {
    w.object(slug).ok_or_else(|| ApiError::not_found(format!("Object with slug/ID \"{slug}\" not found.")))
}

fn find_list<'a>(w: &'a Workspace, slug: &str) -> Result<&'a List, ApiError> {
    w.list(slug).ok_or_else(|| ApiError::not_found(format!("List with slug/ID \"{slug}\" not found.")))
}

// ---------------------------------------------------------------------------------------------
// JSON renderings (shapes from the OpenAPI spec)

fn object_json(w: &Workspace, o: &Object, world: &World) -> Value {
    json!({
        "id": {"workspace_id": w.id, "object_id": o.id},
        "api_slug": o.api_slug,
        "singular_noun": o.singular_noun,
        "plural_noun": o.plural_noun,
        "created_at": world.clock.format(o.created_at),
    })
}

fn attribute_json(id: Value, a: &Attribute) -> Value {
    let config = if a.kind == "record-reference" {
        json!({"record_reference": {"allowed_object_ids": a.targets}})
    } else {
        json!({})
    };
    json!({
        "id": id,
        "title": a.title,
        "description": null,
        "api_slug": a.api_slug,
        "type": a.kind,
        "is_system_attribute": a.is_system,
        "is_writable": true,
        "is_required": a.is_required,
        "is_unique": a.is_unique,
        "is_multiselect": a.is_multiselect,
        "is_default_value_enabled": false,
        "is_archived": false,
        "default_value": null,
        "relationship": null,
        "created_at": "2024-01-15T09:00:00.000000000Z",
        "config": config,
    })
}

fn record_json(w: &Workspace, r: &Record, world: &World) -> Value {
    let slug = w.object_by_id(r.object_id).map_or("record", |o| o.api_slug.as_str());
    json!({
        "id": {"workspace_id": w.id, "object_id": r.object_id, "record_id": r.id},
        "created_at": world.clock.format(r.created_at),
        "web_url": format!("{}/{}/{}/{}", world.base_url, w.slug, slug, r.id),
        "values": r.values,
    })
}

fn list_json(w: &Workspace, l: &List, world: &World) -> Value {
    json!({
        "id": {"workspace_id": w.id, "list_id": l.id},
        "api_slug": l.api_slug,
        "name": l.name,
        "parent_object": [l.parent_object],
        "workspace_access": "full-access",
        "workspace_member_access": [],
        "created_by_actor": {"type": "system", "id": null},
        "created_at": world.clock.format(l.created_at),
    })
}

fn entry_json(w: &Workspace, e: &Entry, world: &World) -> Value {
    json!({
        "id": {"workspace_id": w.id, "list_id": e.list_id, "entry_id": e.id},
        "parent_record_id": e.parent_record_id,
        "parent_object": e.parent_object,
        "created_at": world.clock.format(e.created_at),
        "entry_values": e.values,
    })
}

fn note_json(w: &Workspace, n: &Note, world: &World) -> Value {
    json!({
        "id": {"workspace_id": w.id, "note_id": n.id},
        "parent_object": n.parent_object,
        "parent_record_id": n.parent_record_id,
        "title": n.title,
        "meeting_id": null,
        "content_plaintext": n.content,
        "content_markdown": n.content,
        "tags": [],
        "created_by_actor": n.created_by,
        "created_at": world.clock.format(n.created_at),
    })
}

fn task_json(w: &Workspace, t: &Task, world: &World) -> Value {
    json!({
        "id": {"workspace_id": w.id, "task_id": t.id},
        "content_plaintext": t.content,
        "deadline_at": t.deadline_at,
        "is_completed": t.is_completed,
        "linked_records": t.linked_records.iter().map(|(o, r)| json!({"target_object_id": o, "target_record_id": r})).collect::<Vec<_>>(),
        "assignees": t.assignees.iter().map(|a| json!({"referenced_actor_type": "workspace-member", "referenced_actor_id": a})).collect::<Vec<_>>(),
        "created_by_actor": t.created_by,
        "created_at": world.clock.format(t.created_at),
    })
}

// ---------------------------------------------------------------------------------------------
// Meta, objects, attributes, members

/// `GET /v2/self`: the bare introspection object, not wrapped in `data`.
pub async fn identify(State(shared): State<Shared>, headers: HeaderMap) -> ApiResult {
    let world = crate::lock(&shared);
    let token = bearer_or_basic_token(&headers)
        .ok_or_else(|| ApiError::unauthorized("Missing access token. Send it as a Bearer token."))?;
    // Observed: a malformed token gets 400, an unknown or revoked one `{"active":false}`.
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::validation("Malformed access token.".into()));
    }
    Ok(Json(crate::oauth::introspection(&world, &token)).into_response())
}

pub async fn list_objects(State(shared): State<Shared>, headers: HeaderMap) -> ApiResult {
    let world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, &[OBJ_READ])?;
    let w = ws(&world, &caller)?;
    data(Value::Array(w.objects.iter().map(|o| object_json(w, o, &world)).collect()))
}

pub async fn get_object(State(shared): State<Shared>, headers: HeaderMap, Path(object): Path<String>) -> ApiResult {
    let world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, &[OBJ_READ])?;
    let w = ws(&world, &caller)?;
    data(object_json(w, find_object(w, &object)?, &world))
}

#[derive(Debug, Deserialize)]
pub struct Paging {
    limit: Option<usize>,
    offset: Option<usize>,
}

fn page<T>(items: Vec<T>, limit: Option<usize>, offset: Option<usize>, default_limit: usize) -> Vec<T> {
    items.into_iter().skip(offset.unwrap_or(0)).take(limit.unwrap_or(default_limit)).collect()
}

pub async fn object_attributes(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(object): Path<String>,
    Query(p): Query<Paging>,
) -> ApiResult {
    let world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, &[OBJ_READ])?;
    let w = ws(&world, &caller)?;
    let o = find_object(w, &object)?;
    let items: Vec<Value> = o
        .attributes
        .iter()
        .map(|a| attribute_json(json!({"workspace_id": w.id, "object_id": o.id, "attribute_id": a.id}), a))
        .collect();
    data(Value::Array(page(items, p.limit, p.offset, usize::MAX)))
}

pub async fn list_attributes(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(list): Path<String>,
    Query(p): Query<Paging>,
) -> ApiResult {
    let world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, &[OBJ_READ])?;
    let w = ws(&world, &caller)?;
    let l = find_list(w, &list)?;
    let items: Vec<Value> = l
        .attributes
        .iter()
        .map(|a| attribute_json(json!({"workspace_id": w.id, "list_id": l.id, "attribute_id": a.id}), a))
        .collect();
    data(Value::Array(page(items, p.limit, p.offset, usize::MAX)))
}

/// Whether a choice endpoint serves `select` options or `status` statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Choice {
    Options,
    Statuses,
}

/// `GET /v2/{objects|lists}/{identifier}/attributes/{attribute}/{options|statuses}`.
fn attribute_choices(
    shared: &Shared,
    headers: &HeaderMap,
    on_list: bool,
    identifier: &str,
    attribute: &str,
    p: &Params,
    choice: Choice,
) -> ApiResult {
    let world = crate::lock(shared);
    let caller = authenticate(&world, headers, &[OBJ_READ])?;
    let w = ws(&world, &caller)?;
    // No archived options exist in the mock, so `show_archived` is only validated.
    p.bool("show_archived")?;
    let (parent_id, attributes) = if on_list {
        let l = find_list(w, identifier)?;
        (l.id, &l.attributes)
    } else {
        let o = find_object(w, identifier)?;
        (o.id, &o.attributes)
    };
    let a = attributes
        .iter()
        .find(|a| a.api_slug == attribute || a.id.to_string() == attribute)
        .ok_or_else(|| ApiError::not_found(format!("Attribute with slug/ID \"{attribute}\" not found.")))?;
    let (wanted, what, other) = match choice {
        Choice::Options => ("select", "Select options", "statuses"),
        Choice::Statuses => ("status", "Statuses", "options"),
    };
    if a.kind != wanted {
        let hint = if a.kind == "select" || a.kind == "status" {
            format!(" Use the {other} endpoint for \"{}\" attributes.", a.kind)
        } else {
            String::new()
        };
        return Err(ApiError::validation(format!(
            "{what} only exist on \"{wanted}\" attributes; attribute \"{}\" is of type \"{}\".{hint}",
            a.api_slug, a.kind
        )));
    }
    let items = a
        .options
        .iter()
        .map(|title| {
            let id = crate::seed::option_id(a.id, title);
            let base = json!({"workspace_id": w.id, "object_id": parent_id, "attribute_id": a.id});
            match choice {
                Choice::Options => {
                    let mut ids = base;
                    ids["option_id"] = json!(id);
                    json!({"id": ids, "title": title, "is_archived": false})
                }
                Choice::Statuses => {
                    let mut ids = base;
                    ids["status_id"] = json!(id);
                    json!({
                        "id": ids,
                        "title": title,
                        "is_archived": false,
                        "celebration_enabled": crate::values::celebrates(title),
                        "target_time_in_status": null,
                    })
                }
            }
        })
        .collect();
    data(Value::Array(items))
}

pub async fn object_attribute_options(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((object, attribute)): Path<(String, String)>,
    Query(p): Query<Params>,
) -> ApiResult {
    attribute_choices(&shared, &headers, false, &object, &attribute, &p, Choice::Options)
}

pub async fn list_attribute_options(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((list, attribute)): Path<(String, String)>,
    Query(p): Query<Params>,
) -> ApiResult {
    attribute_choices(&shared, &headers, true, &list, &attribute, &p, Choice::Options)
}

pub async fn object_attribute_statuses(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((object, attribute)): Path<(String, String)>,
    Query(p): Query<Params>,
) -> ApiResult {
    attribute_choices(&shared, &headers, false, &object, &attribute, &p, Choice::Statuses)
}

pub async fn list_attribute_statuses(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((list, attribute)): Path<(String, String)>,
    Query(p): Query<Params>,
) -> ApiResult {
    attribute_choices(&shared, &headers, true, &list, &attribute, &p, Choice::Statuses)
}

pub async fn list_members(State(shared): State<Shared>, headers: HeaderMap) -> ApiResult {
    let world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, &[USERS_READ])?;
    let w = ws(&world, &caller)?;
    data(Value::Array(w.members.iter().map(|m| crate::model::member_json(w.id, m, &world.clock)).collect()))
}

pub async fn get_member(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, &[USERS_READ])?;
    let w = ws(&world, &caller)?;
    let id = uuid_param(&id, "Workspace member")?;
    let m = w.member(id).ok_or_else(|| ApiError::not_found(format!("Workspace member with ID \"{id}\" not found.")))?;
    data(crate::model::member_json(w.id, m, &world.clock))
}

// ---------------------------------------------------------------------------------------------
// Records

/// Validates `values` against the attributes and types them.
fn typed_map(
    attributes: &[Attribute],
    values: &Map<String, Value>,
    by: &Value,
    now: &str,
) -> Result<BTreeMap<String, Vec<Value>>, ApiError> {
    values
        .iter()
        .map(|(slug, v)| {
            let a = attributes.iter().find(|a| &a.api_slug == slug || a.id.to_string() == *slug).ok_or_else(|| {
                let known: Vec<&str> = attributes.iter().map(|a| a.api_slug.as_str()).collect();
                ApiError::value_not_found(format!(
                    "Cannot find attribute with slug/ID \"{slug}\". Valid attributes: {}.",
                    known.join(", ")
                ))
            })?;
            Ok((a.api_slug.clone(), typed_values(a, v, by, now)?))
        })
        .collect()
}

fn values_of(data: &Map<String, Value>, key: &str) -> Result<Map<String, Value>, ApiError> {
    match data.get(key) {
        Some(Value::Object(m)) => Ok(m.clone()),
        None => Ok(Map::new()),
        _ => Err(ApiError::validation(format!("\"{key}\" must be an object."))),
    }
}

/// Applies typed values to a record: `append` adds to multiselect attributes (PATCH), otherwise
/// they are replaced (PUT).
fn apply_values(
    target: &mut BTreeMap<String, Vec<Value>>,
    attributes: &[Attribute],
    new: BTreeMap<String, Vec<Value>>,
    append: bool,
) {
    for (slug, vals) in new {
        let multi = attributes.iter().any(|a| a.api_slug == slug && a.is_multiselect);
        if append && multi {
            target.entry(slug).or_default().extend(vals);
        } else {
            target.insert(slug, vals);
        }
    }
}

/// Rejects a write that would give a unique attribute a value another record already has.
fn check_unique(
    w: &Workspace,
    o: &Object,
    vals: &BTreeMap<String, Vec<Value>>,
    except: Option<Uuid>,
) -> Result<(), ApiError> {
    for a in o.attributes.iter().filter(|a| a.is_unique) {
        let Some(new) = vals.get(&a.api_slug) else {
            continue;
        };
        for r in w.records.iter().filter(|r| r.object_id == o.id && Some(r.id) != except) {
            let clash = r
                .values
                .get(&a.api_slug)
                .into_iter()
                .flatten()
                .any(|existing| new.iter().any(|n| primary(n) == primary(existing)));
            if clash {
                return Err(ApiError::uniqueness(format!(
                    "A record with the same value for the unique attribute \"{}\" already exists.",
                    a.api_slug
                )));
            }
        }
    }
    Ok(())
}

pub async fn query_records(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(object): Path<String>,
    body: Bytes,
) -> ApiResult {
    let world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, &[REC_READ, OBJ_READ])?;
    let w = ws(&world, &caller)?;
    let o = find_object(w, &object)?;
    let q = parse_body(&body)?;
    let records: Vec<&Record> = w.records.iter().filter(|r| r.object_id == o.id).collect();
    let rendered =
        query(&q, &o.attributes, records, |r| &r.values)?.into_iter().map(|r| record_json(w, r, &world)).collect();
    data(Value::Array(rendered))
}

/// The shared body of `records/query` and `entries/query`: filter, sort, limit (default 500), offset.
fn query<'a, T>(
    q: &Value,
    attributes: &[Attribute],
    mut items: Vec<&'a T>,
    values: impl Fn(&T) -> &BTreeMap<String, Vec<Value>>,
) -> Result<Vec<&'a T>, ApiError> {
    if !q.is_object() {
        return Err(ApiError::validation("Body must be a JSON object.".into()));
    }
    let usize_field = |k: &str| -> Result<Option<usize>, ApiError> {
        match q.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .map(|n| Some(n as usize))
                .ok_or_else(|| ApiError::validation(format!("\"{k}\" must be a non-negative integer."))),
        }
    };
    let (limit, offset) = (usize_field("limit")?, usize_field("offset")?);
    if let Some(f) = q.get("filter").filter(|f| !f.is_null()) {
        let filter = Filter::parse(f, attributes)?;
        items.retain(|i| filter.matches(values(i)));
    }
    let sorts = Sort::parse_all(q.get("sorts").filter(|s| !s.is_null()), attributes)?;
    if !sorts.is_empty() {
        items.sort_by(|a, b| Sort::compare(&sorts, values(a), values(b)));
    }
    Ok(page(items, limit, offset, 500))
}

pub async fn create_record(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(object): Path<String>,
    body: Bytes,
) -> ApiResult {
    let mut world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, &[REC_WRITE, OBJ_READ])?;
    let d = body_data(&body)?;
    let now = world.clock.now();
    let stamp = world.clock.format(now);
    let w = ws(&world, &caller)?;
    let o = find_object(w, &object)?.clone();
    let vals = typed_map(&o.attributes, &values_of(&d, "values")?, &actor(caller.member), &stamp)?;
    check_unique(w, &o, &vals, None)?;
    let record = Record { id: Uuid::new_v4(), object_id: o.id, created_at: now, values: vals };
    ws_mut(&mut world, &caller)?.records.push(record.clone());
    let w = ws(&world, &caller)?;
    data(record_json(w, &record, &world))
}

#[derive(Debug, Deserialize)]
pub struct AssertQuery {
    matching_attribute: Option<String>,
}

/// `PUT /v2/objects/{object}/records?matching_attribute=slug`: create or update by a unique
/// attribute.
pub async fn assert_record(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(object): Path<String>,
    Query(aq): Query<AssertQuery>,
    body: Bytes,
) -> ApiResult {
    let mut world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, &[REC_WRITE, OBJ_READ])?;
    let matching = aq
        .matching_attribute
        .ok_or_else(|| ApiError::validation("The matching_attribute query parameter is required.".into()))?;
    let d = body_data(&body)?;
    let now = world.clock.now();
    let stamp = world.clock.format(now);
    let w = ws(&world, &caller)?;
    let o = find_object(w, &object)?.clone();
    let attr = o
        .attributes
        .iter()
        .find(|a| a.api_slug == matching || a.id.to_string() == matching)
        .ok_or_else(|| ApiError::value_not_found(format!("Cannot find attribute with slug/ID \"{matching}\".")))?;
    if !attr.is_unique {
        return Err(ApiError::validation(format!("The matching attribute \"{}\" must be unique.", attr.api_slug)));
    }
    let vals = typed_map(&o.attributes, &values_of(&d, "values")?, &actor(caller.member), &stamp)?;
    let wanted = vals
        .get(&attr.api_slug)
        .ok_or_else(|| {
            ApiError::missing_value(format!("A value for the matching attribute \"{}\" is required.", attr.api_slug))
        })?
        .clone();
    let matches: Vec<Uuid> = w
        .records
        .iter()
        .filter(|r| r.object_id == o.id)
        .filter(|r| {
            r.values.get(&attr.api_slug).into_iter().flatten().any(|v| wanted.iter().any(|n| primary(n) == primary(v)))
        })
        .map(|r| r.id)
        .collect();
    let record = match matches.as_slice() {
        [] => {
            check_unique(w, &o, &vals, None)?;
            let record = Record { id: Uuid::new_v4(), object_id: o.id, created_at: now, values: vals };
            ws_mut(&mut world, &caller)?.records.push(record.clone());
            record
        }
        [id] => {
            check_unique(w, &o, &vals, Some(*id))?;
            let id = *id;
            let wm = ws_mut(&mut world, &caller)?;
            let r =
                wm.records.iter_mut().find(|r| r.id == id).ok_or_else(|| ApiError::not_found("Record not found."))?;
            // The matching attribute is additive; other multiselects are overwritten (spec).
            let (matching_vals, rest): (BTreeMap<_, _>, BTreeMap<_, _>) =
                vals.into_iter().partition(|(slug, _)| *slug == attr.api_slug);
            apply_values(&mut r.values, &o.attributes, rest, false);
            for (slug, new) in matching_vals {
                let current = r.values.entry(slug).or_default();
                for n in new {
                    if !current.iter().any(|c| primary(c) == primary(&n)) {
                        current.push(n);
                    }
                }
            }
            r.clone()
        }
        _ => {
            return Err(ApiError::multiple_match(format!("Multiple records match the value of \"{}\".", attr.api_slug)))
        }
    };
    let w = ws(&world, &caller)?;
    data(record_json(w, &record, &world))
}

pub async fn get_record(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((object, record_id)): Path<(String, String)>,
) -> ApiResult {
    let world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, &[REC_READ, OBJ_READ])?;
    let w = ws(&world, &caller)?;
    let o = find_object(w, &object)?;
    let rid = uuid_param(&record_id, "Record")?;
    let r = w
        .records
        .iter()
        .find(|r| r.id == rid && r.object_id == o.id)
        .ok_or_else(|| ApiError::not_found(format!("Record with ID \"{rid}\" not found.")))?;
    data(record_json(w, r, &world))
}

/// `GET /v2/objects/{object}/records/{record_id}/entries`: the record's entries across all lists.
pub async fn record_entries(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((object, record_id)): Path<(String, String)>,
    Query(p): Query<Params>,
) -> ApiResult {
    let world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, &[REC_READ, OBJ_READ, ENTRY_READ])?;
    let w = ws(&world, &caller)?;
    let (limit, offset) = (p.limit(100, 1000)?, p.offset()?);
    let o = find_object(w, &object)?;
    let rid = uuid_param(&record_id, "Record")?;
    if !w.records.iter().any(|r| r.id == rid && r.object_id == o.id) {
        return Err(ApiError::not_found(format!("Record with ID \"{rid}\" not found.")));
    }
    let items: Vec<Value> = w
        .entries
        .iter()
        .filter(|e| e.parent_record_id == rid && e.parent_object == o.api_slug)
        .map(|e| {
            json!({
                "list_id": e.list_id,
                "list_api_slug": w.lists.iter().find(|l| l.id == e.list_id).map(|l| l.api_slug.as_str()),
                "entry_id": e.id,
                "created_at": world.clock.format(e.created_at),
            })
        })
        .collect();
    data(Value::Array(page(items, Some(limit), Some(offset), limit)))
}

async fn update_record(
    shared: Shared,
    headers: HeaderMap,
    object: String,
    record_id: String,
    body: Bytes,
    append: bool,
) -> ApiResult {
    let mut world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, &[REC_WRITE, OBJ_READ])?;
    let d = body_data(&body)?;
    let stamp = world.clock.format(world.clock.now());
    let w = ws(&world, &caller)?;
    let o = find_object(w, &object)?.clone();
    let rid = uuid_param(&record_id, "Record")?;
    if !w.records.iter().any(|r| r.id == rid && r.object_id == o.id) {
        return Err(ApiError::not_found(format!("Record with ID \"{rid}\" not found.")));
    }
    let vals = typed_map(&o.attributes, &values_of(&d, "values")?, &actor(caller.member), &stamp)?;
    check_unique(w, &o, &vals, Some(rid))?;
    let wm = ws_mut(&mut world, &caller)?;
    let r = wm.records.iter_mut().find(|r| r.id == rid).ok_or_else(|| ApiError::not_found("Record not found."))?;
    apply_values(&mut r.values, &o.attributes, vals, append);
    let r = r.clone();
    let w = ws(&world, &caller)?;
    data(record_json(w, &r, &world))
}

pub async fn patch_record(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((object, record_id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    update_record(shared, headers, object, record_id, body, true).await
}

pub async fn put_record(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((object, record_id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    update_record(shared, headers, object, record_id, body, false).await
}

pub async fn delete_record(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((object, record_id)): Path<(String, String)>,
) -> ApiResult {
    let mut world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, &[OBJ_READ, REC_WRITE])?;
    let oid = find_object(ws(&world, &caller)?, &object)?.id;
    let rid = uuid_param(&record_id, "Record")?;
    let wm = ws_mut(&mut world, &caller)?;
    let before = wm.records.len();
    wm.records.retain(|r| !(r.id == rid && r.object_id == oid));
    if wm.records.len() == before {
        return Err(ApiError::not_found(format!("Record with ID \"{rid}\" not found.")));
    }
    wm.entries.retain(|e| e.parent_record_id != rid);
    wm.drop_threads(|t| t.record_id == rid);
    empty()
}

/// A search's `request_as`, in one of the three forms the spec allows: the workspace, or a
/// member by id or by email (who must exist).
fn check_request_as(w: &Workspace, request_as: Option<&Value>) -> Result<(), ApiError> {
    let request_as = request_as.ok_or_else(|| ApiError::validation("\"request_as\" is required.".into()))?;
    let field = |k: &str| request_as.get(k).and_then(Value::as_str);
    match (field("type"), field("workspace_member_id"), field("email_address")) {
        (Some("workspace"), None, None) => Ok(()),
        (Some("workspace-member"), Some(id), None) => {
            let id = uuid_field(id, "request_as.workspace_member_id")?;
            w.member(id).map(|_| ()).ok_or_else(|| {
                ApiError::value_not_found(format!("Workspace member with ID \"{id}\" not found."))
            })
        }
        (Some("workspace-member"), None, Some(email)) => {
            w.members.iter().find(|m| m.email.eq_ignore_ascii_case(email)).map(|_| ()).ok_or_else(|| {
                ApiError::value_not_found(format!("Workspace member with email \"{email}\" not found."))
            })
        }
        _ => Err(ApiError::validation(
            "\"request_as\" must be {\"type\":\"workspace\"} or a workspace member by \"workspace_member_id\" or \"email_address\".".into(),
        )),
    }
}

/// `POST /v2/objects/records/search` (beta in Attio): substring match over record text.
pub async fn search_records(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, &[REC_READ, OBJ_READ])?;
    let w = ws(&world, &caller)?;
    let q = parse_body(&body)?;
    let text =
        q.get("query").and_then(Value::as_str).ok_or_else(|| ApiError::validation("\"query\" is required.".into()))?;
    if text.chars().count() > 256 {
        return Err(ApiError::validation("\"query\" must be at most 256 characters.".into()));
    }
    check_request_as(w, q.get("request_as"))?;
    let objects: Vec<&str> = q
        .get("objects")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if objects.is_empty() {
        return Err(ApiError::validation("\"objects\" must list at least one object.".into()));
    }
    let limit = q.get("limit").and_then(Value::as_u64).unwrap_or(25);
    if !(1..=25).contains(&limit) {
        return Err(ApiError::validation("\"limit\" must be between 1 and 25.".into()));
    }
    let targets = objects
        .iter()
        .map(|s| w.object(s).ok_or_else(|| ApiError::value_not_found(format!("Cannot find object \"{s}\"."))))
        .collect::<Result<Vec<_>, _>>()?;
    let needle = text.to_lowercase();
    let mut hits = Vec::new();
    for o in targets {
        for r in w.records.iter().filter(|r| r.object_id == o.id) {
            let texts: Vec<String> =
                r.values.values().flatten().map(primary).filter_map(|v| v.as_str().map(str::to_lowercase)).collect();
            if texts.iter().any(|t| t.contains(&needle)) {
                let label = r
                    .values
                    .get("name")
                    .and_then(|v| v.first())
                    .map(primary)
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                hits.push(json!({
                    "id": {"workspace_id": w.id, "object_id": o.id, "record_id": r.id},
                    "record_text": label,
                    "record_image": null,
                    "object_slug": o.api_slug,
                }));
            }
        }
    }
    hits.truncate(limit as usize);
    data(Value::Array(hits))
}

// ---------------------------------------------------------------------------------------------
// Lists and entries

pub async fn list_lists(State(shared): State<Shared>, headers: HeaderMap) -> ApiResult {
    let world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, &[LIST_CONF_READ])?;
    let w = ws(&world, &caller)?;
    data(Value::Array(w.lists.iter().map(|l| list_json(w, l, &world)).collect()))
}

pub async fn get_list(State(shared): State<Shared>, headers: HeaderMap, Path(list): Path<String>) -> ApiResult {
    let world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, &[LIST_CONF_READ])?;
    let w = ws(&world, &caller)?;
    data(list_json(w, find_list(w, &list)?, &world))
}

pub async fn query_entries(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(list): Path<String>,
    body: Bytes,
) -> ApiResult {
    let world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, &[ENTRY_READ, LIST_CONF_READ])?;
    let w = ws(&world, &caller)?;
    let l = find_list(w, &list)?;
    let q = parse_body(&body)?;
    let entries: Vec<&Entry> = w.entries.iter().filter(|e| e.list_id == l.id).collect();
    let rendered =
        query(&q, &l.attributes, entries, |e| &e.values)?.into_iter().map(|e| entry_json(w, e, &world)).collect();
    data(Value::Array(rendered))
}

/// `POST` (create) and `PUT` (assert by parent) `/v2/lists/{list}/entries`.
async fn write_entry(shared: Shared, headers: HeaderMap, list: String, body: Bytes, assert: bool) -> ApiResult {
    let mut world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, &[ENTRY_WRITE, LIST_CONF_READ])?;
    let d = body_data(&body)?;
    let now = world.clock.now();
    let stamp = world.clock.format(now);
    let w = ws(&world, &caller)?;
    let l = find_list(w, &list)?.clone();
    let parent = d
        .get("parent_record_id")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| ApiError::validation("\"parent_record_id\" must be a record UUID.".into()))?;
    let parent_object = d
        .get("parent_object")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::validation("\"parent_object\" is required.".into()))?;
    let po = w.object(parent_object).filter(|o| o.api_slug == l.parent_object).ok_or_else(|| {
        ApiError::value_not_found(format!(
            "List \"{}\" holds records of \"{}\", not \"{parent_object}\".",
            l.api_slug, l.parent_object
        ))
    })?;
    if !w.records.iter().any(|r| r.id == parent && r.object_id == po.id) {
        return Err(ApiError::value_not_found(format!("Cannot find record with ID \"{parent}\".")));
    }
    let vals = typed_map(&l.attributes, &values_of(&d, "entry_values")?, &actor(caller.member), &stamp)?;
    let existing: Vec<Uuid> =
        w.entries.iter().filter(|e| e.list_id == l.id && e.parent_record_id == parent).map(|e| e.id).collect();
    let wm = ws_mut(&mut world, &caller)?;
    let entry = match (assert, existing.as_slice()) {
        (true, [id]) => {
            let e =
                wm.entries.iter_mut().find(|e| e.id == *id).ok_or_else(|| ApiError::not_found("Entry not found."))?;
            apply_values(&mut e.values, &l.attributes, vals, false);
            e.clone()
        }
        (true, [_, _, ..]) => {
            return Err(ApiError::multiple_match("The record is in this list more than once.".into()))
        }
        _ => {
            let e = Entry {
                id: Uuid::new_v4(),
                list_id: l.id,
                parent_record_id: parent,
                parent_object: l.parent_object.clone(),
                created_at: now,
                values: vals,
            };
            wm.entries.push(e.clone());
            e
        }
    };
    let w = ws(&world, &caller)?;
    data(entry_json(w, &entry, &world))
}

pub async fn create_entry(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(list): Path<String>,
    body: Bytes,
) -> ApiResult {
    write_entry(shared, headers, list, body, false).await
}

pub async fn assert_entry(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(list): Path<String>,
    body: Bytes,
) -> ApiResult {
    write_entry(shared, headers, list, body, true).await
}

fn find_entry<'a>(w: &'a Workspace, list: &str, entry_id: &str) -> Result<&'a Entry, ApiError> {
    let l = find_list(w, list)?;
    let eid = uuid_param(entry_id, "Entry")?;
    w.entries
        .iter()
        .find(|e| e.id == eid && e.list_id == l.id)
        .ok_or_else(|| ApiError::not_found(format!("Entry with ID \"{eid}\" not found.")))
}

pub async fn get_entry(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((list, entry)): Path<(String, String)>,
) -> ApiResult {
    let world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, &[ENTRY_READ, LIST_CONF_READ])?;
    let w = ws(&world, &caller)?;
    data(entry_json(w, find_entry(w, &list, &entry)?, &world))
}

async fn update_entry(
    shared: Shared,
    headers: HeaderMap,
    list: String,
    entry: String,
    body: Bytes,
    append: bool,
) -> ApiResult {
    let mut world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, &[ENTRY_WRITE, LIST_CONF_READ])?;
    let d = body_data(&body)?;
    let stamp = world.clock.format(world.clock.now());
    let w = ws(&world, &caller)?;
    let l = find_list(w, &list)?.clone();
    let eid = find_entry(w, &list, &entry)?.id;
    let vals = typed_map(&l.attributes, &values_of(&d, "entry_values")?, &actor(caller.member), &stamp)?;
    let wm = ws_mut(&mut world, &caller)?;
    let e = wm.entries.iter_mut().find(|e| e.id == eid).ok_or_else(|| ApiError::not_found("Entry not found."))?;
    apply_values(&mut e.values, &l.attributes, vals, append);
    let e = e.clone();
    let w = ws(&world, &caller)?;
    data(entry_json(w, &e, &world))
}

pub async fn patch_entry(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((list, entry)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    update_entry(shared, headers, list, entry, body, true).await
}

pub async fn put_entry(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((list, entry)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    update_entry(shared, headers, list, entry, body, false).await
}

pub async fn delete_entry(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((list, entry)): Path<(String, String)>,
) -> ApiResult {
    let mut world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, &[ENTRY_WRITE, LIST_CONF_READ])?;
    let eid = find_entry(ws(&world, &caller)?, &list, &entry)?.id;
    let wm = ws_mut(&mut world, &caller)?;
    wm.entries.retain(|e| e.id != eid);
    wm.drop_threads(|t| t.entry.is_some_and(|(_, e)| e == eid));
    empty()
}

// ---------------------------------------------------------------------------------------------
// Notes

#[derive(Debug, Deserialize)]
pub struct NotesQuery {
    limit: Option<usize>,
    offset: Option<usize>,
    parent_object: Option<String>,
    parent_record_id: Option<String>,
}

pub async fn list_notes(State(shared): State<Shared>, headers: HeaderMap, Query(q): Query<NotesQuery>) -> ApiResult {
    let world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, &[NOTE_READ, OBJ_READ, REC_READ])?;
    let w = ws(&world, &caller)?;
    if q.limit.is_some_and(|l| l > 50) {
        return Err(ApiError::validation("\"limit\" must be at most 50.".into()));
    }
    let parent_object = match &q.parent_object {
        Some(p) => Some(find_object(w, p)?.api_slug.clone()),
        None => None,
    };
    let notes: Vec<Value> = w
        .notes
        .iter()
        .filter(|n| parent_object.as_ref().is_none_or(|p| *p == n.parent_object))
        .filter(|n| q.parent_record_id.as_ref().is_none_or(|r| *r == n.parent_record_id.to_string()))
        .map(|n| note_json(w, n, &world))
        .collect();
    data(Value::Array(page(notes, q.limit, q.offset, 10)))
}

pub async fn create_note(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let mut world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, &[NOTE_WRITE, OBJ_READ, REC_READ])?;
    let d = body_data(&body)?;
    let field = |k: &str| {
        d.get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| ApiError::validation(format!("\"{k}\" is required.")))
    };
    let (parent_object, title, content, format) =
        (field("parent_object")?, field("title")?, field("content")?, field("format")?);
    if format != "plaintext" && format != "markdown" {
        return Err(ApiError::validation("\"format\" must be \"plaintext\" or \"markdown\".".into()));
    }
    let parent = uuid_param(&field("parent_record_id")?, "Record")?;
    let now = world.clock.now();
    let w = ws(&world, &caller)?;
    let o = find_object(w, &parent_object)?;
    if !w.records.iter().any(|r| r.id == parent && r.object_id == o.id) {
        return Err(ApiError::not_found(format!("Record with ID \"{parent}\" not found.")));
    }
    let note = Note {
        id: Uuid::new_v4(),
        parent_object: o.api_slug.clone(),
        parent_record_id: parent,
        title,
        content,
        created_by: actor(caller.member),
        created_at: now,
    };
    ws_mut(&mut world, &caller)?.notes.push(note.clone());
    let w = ws(&world, &caller)?;
    data(note_json(w, &note, &world))
}

pub async fn get_note(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, &[NOTE_READ, OBJ_READ, REC_READ])?;
    let w = ws(&world, &caller)?;
    let nid = uuid_param(&id, "Note")?;
    let n = w
        .notes
        .iter()
        .find(|n| n.id == nid)
        .ok_or_else(|| ApiError::not_found(format!("Note with ID \"{nid}\" not found.")))?;
    data(note_json(w, n, &world))
}

pub async fn delete_note(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let mut world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, &[NOTE_WRITE])?;
    let nid = uuid_param(&id, "Note")?;
    let wm = ws_mut(&mut world, &caller)?;
    let before = wm.notes.len();
    wm.notes.retain(|n| n.id != nid);
    if wm.notes.len() == before {
        return Err(ApiError::not_found(format!("Note with ID \"{nid}\" not found.")));
    }
    empty()
}

// ---------------------------------------------------------------------------------------------
// Tasks

#[derive(Debug, Deserialize)]
pub struct TasksQuery {
    limit: Option<usize>,
    offset: Option<usize>,
    sort: Option<String>,
    linked_object: Option<String>,
    linked_record_id: Option<String>,
    assignee: Option<String>,
    is_completed: Option<bool>,
}

const TASK_SCOPES_READ: &[&str] = &[TASK_READ, OBJ_READ, REC_READ, USERS_READ];
const TASK_SCOPES_WRITE: &[&str] = &[TASK_WRITE, OBJ_READ, REC_READ, USERS_READ];

pub async fn list_tasks(State(shared): State<Shared>, headers: HeaderMap, Query(q): Query<TasksQuery>) -> ApiResult {
    let world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, TASK_SCOPES_READ)?;
    let w = ws(&world, &caller)?;
    let linked_object = match &q.linked_object {
        Some(o) => Some(find_object(w, o)?.id),
        None => None,
    };
    let assignee = q
        .assignee
        .as_ref()
        .map(|a| w.members.iter().find(|m| m.id.to_string() == *a || m.email.eq_ignore_ascii_case(a)).map(|m| m.id));
    let mut tasks: Vec<&Task> = w
        .tasks
        .iter()
        .filter(|t| linked_object.is_none_or(|o| t.linked_records.iter().any(|(lo, _)| *lo == o)))
        .filter(|t| {
            q.linked_record_id.as_ref().is_none_or(|r| t.linked_records.iter().any(|(_, lr)| lr.to_string() == *r))
        })
        .filter(|t| assignee.is_none_or(|a| a.is_some_and(|a| t.assignees.contains(&a))))
        .filter(|t| q.is_completed.is_none_or(|c| t.is_completed == c))
        .collect();
    match q.sort.as_deref() {
        None | Some("created_at:asc") => tasks.sort_by_key(|t| t.created_at),
        Some("created_at:desc") => tasks.sort_by_key(|t| std::cmp::Reverse(t.created_at)),
        Some(other) => {
            return Err(ApiError::validation(format!(
                "Unsupported sort \"{other}\"; use created_at:asc or created_at:desc."
            )))
        }
    }
    let rendered: Vec<Value> = tasks.into_iter().map(|t| task_json(w, t, &world)).collect();
    data(Value::Array(page(rendered, q.limit, q.offset, 500)))
}

fn parse_linked(w: &Workspace, v: &Value) -> Result<Vec<(Uuid, Uuid)>, ApiError> {
    let items = v.as_array().ok_or_else(|| ApiError::validation("\"linked_records\" must be an array.".into()))?;
    items
        .iter()
        .map(|l| {
            let obj = l
                .get("target_object")
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::validation("Each linked record needs \"target_object\".".into()))?;
            let o = w.object(obj).ok_or_else(|| ApiError::not_found(format!("Object \"{obj}\" not found.")))?;
            let rid =
                l.get("target_record_id").and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok()).ok_or_else(
                    || ApiError::validation("Each linked record needs a \"target_record_id\" UUID.".into()),
                )?;
            if !w.records.iter().any(|r| r.id == rid && r.object_id == o.id) {
                return Err(ApiError::not_found(format!("Record with ID \"{rid}\" not found.")));
            }
            Ok((o.id, rid))
        })
        .collect()
}

/// Task assignees in either of the spec's forms: `{referenced_actor_type: "workspace-member",
/// referenced_actor_id}` or `{workspace_member_email_address}`.
fn parse_assignees(w: &Workspace, v: &Value) -> Result<Vec<Uuid>, ApiError> {
    let items = v.as_array().ok_or_else(|| ApiError::validation("\"assignees\" must be an array.".into()))?;
    items
        .iter()
        .map(|a| {
            let a = a.as_object().ok_or_else(|| ApiError::validation("Each assignee must be an object.".into()))?;
            if let Some(email) = a.get("workspace_member_email_address") {
                let email = email.as_str().ok_or_else(|| {
                    ApiError::validation("\"workspace_member_email_address\" must be a string.".into())
                })?;
                if a.len() > 1 {
                    return Err(ApiError::validation(
                        "An assignee given by \"workspace_member_email_address\" takes no other fields.".into(),
                    ));
                }
                return w.members.iter().find(|m| m.email.eq_ignore_ascii_case(email)).map(|m| m.id).ok_or_else(|| {
                    ApiError::validation(format!("No workspace member has the email address \"{email}\"."))
                });
            }
            if a.get("referenced_actor_type").and_then(Value::as_str) != Some("workspace-member") {
                return Err(ApiError::validation(
                    "Each assignee needs \"referenced_actor_type\": \"workspace-member\" and a \"referenced_actor_id\", \
                     or a \"workspace_member_email_address\"."
                        .into(),
                ));
            }
            let raw = a.get("referenced_actor_id").and_then(Value::as_str).unwrap_or_default();
            let id = uuid_field(raw, "referenced_actor_id")?;
            w.member(id)
                .map(|m| m.id)
                .ok_or_else(|| ApiError::not_found(format!("Workspace member with ID \"{id}\" not found.")))
        })
        .collect()
}

fn deadline(v: &Value) -> Result<Option<String>, ApiError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(ApiError::validation("\"deadline_at\" must be a timestamp string or null.".into())),
    }
}

pub async fn create_task(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let mut world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, TASK_SCOPES_WRITE)?;
    let d = body_data(&body)?;
    let required = ["content", "format", "deadline_at", "is_completed", "linked_records", "assignees"];
    let missing: Vec<&str> = required.iter().copied().filter(|k| !d.contains_key(*k)).collect();
    if !missing.is_empty() {
        return Err(ApiError::validation(format!("Missing required fields: {}.", missing.join(", "))));
    }
    if d.get("format").and_then(Value::as_str) != Some("plaintext") {
        return Err(ApiError::validation("\"format\" must be \"plaintext\".".into()));
    }
    let content = d
        .get("content")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::validation("\"content\" must be a string.".into()))?
        .to_string();
    let is_completed = d
        .get("is_completed")
        .and_then(Value::as_bool)
        .ok_or_else(|| ApiError::validation("\"is_completed\" must be a boolean.".into()))?;
    let now = world.clock.now();
    let w = ws(&world, &caller)?;
    let task = Task {
        id: Uuid::new_v4(),
        content,
        deadline_at: deadline(&d["deadline_at"])?,
        is_completed,
        linked_records: parse_linked(w, &d["linked_records"])?,
        assignees: parse_assignees(w, &d["assignees"])?,
        created_by: actor(caller.member),
        created_at: now,
    };
    ws_mut(&mut world, &caller)?.tasks.push(task.clone());
    let w = ws(&world, &caller)?;
    data(task_json(w, &task, &world))
}

pub async fn get_task(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, TASK_SCOPES_READ)?;
    let w = ws(&world, &caller)?;
    let tid = uuid_param(&id, "Task")?;
    let t = w
        .tasks
        .iter()
        .find(|t| t.id == tid)
        .ok_or_else(|| ApiError::not_found(format!("Task with ID \"{tid}\" not found.")))?;
    data(task_json(w, t, &world))
}

pub async fn patch_task(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let mut world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, TASK_SCOPES_WRITE)?;
    let d = body_data(&body)?;
    if d.contains_key("content") {
        return Err(ApiError::validation("A task's content cannot be updated.".into()));
    }
    let tid = uuid_param(&id, "Task")?;
    let w = ws(&world, &caller)?;
    let mut t = w
        .tasks
        .iter()
        .find(|t| t.id == tid)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("Task with ID \"{tid}\" not found.")))?;
    if let Some(v) = d.get("deadline_at") {
        t.deadline_at = deadline(v)?;
    }
    if let Some(v) = d.get("is_completed") {
        t.is_completed =
            v.as_bool().ok_or_else(|| ApiError::validation("\"is_completed\" must be a boolean.".into()))?;
    }
    if let Some(v) = d.get("linked_records") {
        t.linked_records = parse_linked(w, v)?;
    }
    if let Some(v) = d.get("assignees") {
        t.assignees = parse_assignees(w, v)?;
    }
    let wm = ws_mut(&mut world, &caller)?;
    if let Some(slot) = wm.tasks.iter_mut().find(|x| x.id == tid) {
        *slot = t.clone();
    }
    let w = ws(&world, &caller)?;
    data(task_json(w, &t, &world))
}

pub async fn delete_task(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let mut world = crate::lock(&shared);
    let caller = authenticate(&world, &headers, &[TASK_WRITE])?;
    let tid = uuid_param(&id, "Task")?;
    let wm = ws_mut(&mut world, &caller)?;
    let before = wm.tasks.len();
    wm.tasks.retain(|t| t.id != tid);
    if wm.tasks.len() == before {
        return Err(ApiError::not_found(format!("Task with ID \"{tid}\" not found.")));
    }
    empty()
}

/// Anything else under `/v2` (including GET on a query endpoint, as Attio does): 404 envelope.
pub async fn not_found() -> Response {
    ApiError::not_found("The requested endpoint does not exist.").into_response()
}

/// Used by the fault layer.
pub fn status_error(status: StatusCode) -> ApiError {
    if status == StatusCode::TOO_MANY_REQUESTS {
        ApiError::rate_limited()
    } else {
        ApiError::server_error(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_write_scope_covers_read() {
        let granted = vec!["note:read-write".to_string(), "task:read".to_string()];
        assert!(has_scope(&granted, "note:read"));
        assert!(has_scope(&granted, "note:read-write"));
        assert!(has_scope(&granted, "task:read"));
        assert!(!has_scope(&granted, "task:read-write"));
        assert!(!has_scope(&granted, "record_permission:read"));
    }
}
