//! Lists and their entries: list the lists, get one, query, create, assert (by parent
//! record), get, update (PATCH appends to multiselects, PUT replaces) and delete entries.

use super::*;
use crate::model::Entry;

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

pub async fn list_lists(State(shared): State<Shared>, headers: HeaderMap) -> ApiResult {
    read(&shared, &headers, &[LIST_CONF_READ], |world, w| {
        Ok(Value::Array(w.lists.iter().map(|l| list_json(w, l, world)).collect()))
    })
}

pub async fn get_list(State(shared): State<Shared>, headers: HeaderMap, Path(list): Path<String>) -> ApiResult {
    read(&shared, &headers, &[LIST_CONF_READ], |world, w| Ok(list_json(w, find_list(w, &list)?, world)))
}

pub async fn query_entries(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(list): Path<String>,
    body: Bytes,
) -> ApiResult {
    read(&shared, &headers, &[ENTRY_READ, LIST_CONF_READ], |world, w| {
        let l = find_list(w, &list)?;
        let q = parse_body(&body)?;
        let entries: Vec<&Entry> = w.entries.iter().filter(|e| e.list_id == l.id).collect();
        let rendered =
            query(&q, &l.attributes, entries, |e| &e.values)?.into_iter().map(|e| entry_json(w, e, world)).collect();
        Ok(Value::Array(rendered))
    })
}

/// `POST` (create) and `PUT` (assert by parent) `/v2/lists/{list}/entries`.
async fn write_entry(shared: Shared, headers: HeaderMap, list: String, body: Bytes, assert: bool) -> ApiResult {
    let (mut world, caller) = locked(&shared, &headers, &[ENTRY_WRITE, LIST_CONF_READ])?;
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
    render(&world, &caller, &entry, entry_json)
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
    find_or_404(&w.entries, "Entry", eid, |e| e.id == eid && e.list_id == l.id)
}

pub async fn get_entry(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((list, entry)): Path<(String, String)>,
) -> ApiResult {
    read(&shared, &headers, &[ENTRY_READ, LIST_CONF_READ], |world, w| {
        Ok(entry_json(w, find_entry(w, &list, &entry)?, world))
    })
}

async fn update_entry(
    shared: Shared,
    headers: HeaderMap,
    list: String,
    entry: String,
    body: Bytes,
    append: bool,
) -> ApiResult {
    let (mut world, caller) = locked(&shared, &headers, &[ENTRY_WRITE, LIST_CONF_READ])?;
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
    render(&world, &caller, &e, entry_json)
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
    let (mut world, caller) = locked(&shared, &headers, &[ENTRY_WRITE, LIST_CONF_READ])?;
    let eid = find_entry(ws(&world, &caller)?, &list, &entry)?.id;
    let wm = ws_mut(&mut world, &caller)?;
    wm.entries.retain(|e| e.id != eid);
    wm.drop_threads(|t| t.entry.is_some_and(|(_, e)| e == eid));
    empty()
}
