//! Attio's REST API v2, one file a resource under `rest/`; this module holds only what those
//! files share (authentication and scopes, lookups and 404s, paging, cursors, rendering). Each
//! file uses this module (`use super::*`) and the crate's data modules, never a sibling.
//!
//! The files, routed to by path from `lib.rs`: [`objects`] (objects, attributes, select options
//! and statuses), [`records`] (query, create, assert, get, update, delete, search, a record's
//! entries), [`lists`] (lists and entries), [`notes`], [`tasks`], [`members`] (workspace members
//! and `/v2/self`), [`meetings`] (meetings, call recordings, transcripts) and [`comments`]
//! (comment threads and comments). Enough of the API (`shared/reference/attio-api.md` §2,
//! §7.2) for the gateway's tools and proxy.
//!
//! Every request is authenticated (Bearer, or Basic with the token as user name), checked
//! against the endpoint's scopes exactly as the OpenAPI spec lists them, and confined to the
//! token's workspace (`locked`, `with_workspace`, `read`). Query strings of the newer endpoints
//! are read by hand ([`Params`]) so a bad `limit`, half a filter pair or a garbage `cursor` gets
//! Attio's 400 envelope.

use std::collections::BTreeMap;
use std::sync::MutexGuard;

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
use crate::model::{Attribute, List, Object, Record, Workspace, World};
use crate::state::{bearer_or_basic_token, Shared};
use crate::values::filter::{Filter, Sort};
use crate::values::{actor, typed_values};

pub mod comments;
pub mod lists;
pub mod meetings;
pub mod members;
pub mod notes;
pub mod objects;
pub mod records;
pub mod tasks;

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

// ---------------------------------------------------------------------------------------------
// The shape every handler shares: lock and authenticate, find, render

/// Takes the world lock and authenticates the caller for `scopes`: how every endpoint but
/// `/v2/self` starts.
fn locked<'a>(
    shared: &'a Shared,
    headers: &HeaderMap,
    scopes: &[&str],
) -> Result<(MutexGuard<'a, World>, Caller), ApiError> {
    let world = crate::state::lock(shared);
    let caller = authenticate(&world, headers, scopes)?;
    Ok((world, caller))
}

/// [`locked`], then `answer` with the caller's workspace: a read endpoint that answers its own
/// way (a cursor page).
fn with_workspace(
    shared: &Shared,
    headers: &HeaderMap,
    scopes: &[&str],
    answer: impl FnOnce(&World, &Workspace) -> ApiResult,
) -> ApiResult {
    let (world, caller) = locked(shared, headers, scopes)?;
    let w = ws(&world, &caller)?;
    answer(&world, w)
}

/// A read endpoint: [`with_workspace`], answering `{"data": ...}` with what `render` finds.
fn read(
    shared: &Shared,
    headers: &HeaderMap,
    scopes: &[&str],
    render: impl FnOnce(&World, &Workspace) -> Result<Value, ApiError>,
) -> ApiResult {
    with_workspace(shared, headers, scopes, |world, w| data(render(world, w)?))
}

/// After a write: `{"data": ...}` with `item` as `to_json` renders it in the caller's workspace.
fn render<T>(world: &World, caller: &Caller, item: &T, to_json: fn(&Workspace, &T, &World) -> Value) -> ApiResult {
    data(to_json(ws(world, caller)?, item, world))
}

/// Attio's 404 envelope for a missing `what` (`"Record"`, `"Note"`, ...) with the ID `id`.
fn not_found_id(what: &str, id: impl std::fmt::Display) -> ApiError {
    ApiError::not_found(format!("{what} with ID \"{id}\" not found."))
}

/// The first of `items` that `is` picks, or [`not_found_id`] for `what` and `id`.
fn find_or_404<'a, T>(items: &'a [T], what: &str, id: Uuid, is: impl Fn(&T) -> bool) -> Result<&'a T, ApiError> {
    items.iter().find(|item| is(item)).ok_or_else(|| not_found_id(what, id))
}

/// The record `record_id` of the object `object_id`, or the record's 404.
fn find_record(w: &Workspace, object_id: Uuid, record_id: Uuid) -> Result<&Record, ApiError> {
    find_or_404(&w.records, "Record", record_id, |r| r.id == record_id && r.object_id == object_id)
}

/// Removes the `items` that `is` picks; when none did, [`not_found_id`] for `what` and `id`.
fn remove_or_404<T>(items: &mut Vec<T>, what: &str, id: Uuid, is: impl Fn(&T) -> bool) -> Result<(), ApiError> {
    let before = items.len();
    items.retain(|item| !is(item));
    if items.len() == before {
        return Err(not_found_id(what, id));
    }
    Ok(())
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
    Uuid::parse_str(s).map_err(|_| not_found_id(what, s))
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

fn page<T>(items: Vec<T>, limit: Option<usize>, offset: Option<usize>, default_limit: usize) -> Vec<T> {
    items.into_iter().skip(offset.unwrap_or(0)).take(limit.unwrap_or(default_limit)).collect()
}

// ---------------------------------------------------------------------------------------------
// Values on records and entries

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
