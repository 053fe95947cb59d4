//! Records of an object: query, create, assert (by a unique attribute), get, update (PATCH
//! appends to multiselects, PUT replaces), delete, search, and a record's list entries.

use super::*;
use crate::values::primary;

fn record_json(w: &Workspace, r: &Record, world: &World) -> Value {
    let slug = w.object_by_id(r.object_id).map_or("record", |o| o.api_slug.as_str());
    json!({
        "id": {"workspace_id": w.id, "object_id": r.object_id, "record_id": r.id},
        "created_at": world.clock.format(r.created_at),
        "web_url": format!("{}/{}/{}/{}", world.base_url, w.slug, slug, r.id),
        "values": r.values,
    })
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
    read(&shared, &headers, &[REC_READ, OBJ_READ], |world, w| {
        let o = find_object(w, &object)?;
        let q = parse_body(&body)?;
        let records: Vec<&Record> = w.records.iter().filter(|r| r.object_id == o.id).collect();
        let rendered =
            query(&q, &o.attributes, records, |r| &r.values)?.into_iter().map(|r| record_json(w, r, world)).collect();
        Ok(Value::Array(rendered))
    })
}

pub async fn create_record(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(object): Path<String>,
    body: Bytes,
) -> ApiResult {
    let (mut world, caller) = locked(&shared, &headers, &[REC_WRITE, OBJ_READ])?;
    let d = body_data(&body)?;
    let now = world.clock.now();
    let stamp = world.clock.format(now);
    let w = ws(&world, &caller)?;
    let o = find_object(w, &object)?.clone();
    let vals = typed_map(&o.attributes, &values_of(&d, "values")?, &actor(caller.member), &stamp)?;
    check_unique(w, &o, &vals, None)?;
    let record = Record { id: Uuid::new_v4(), object_id: o.id, created_at: now, values: vals };
    ws_mut(&mut world, &caller)?.records.push(record.clone());
    render(&world, &caller, &record, record_json)
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
    let (mut world, caller) = locked(&shared, &headers, &[REC_WRITE, OBJ_READ])?;
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
    render(&world, &caller, &record, record_json)
}

pub async fn get_record(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((object, record_id)): Path<(String, String)>,
) -> ApiResult {
    read(&shared, &headers, &[REC_READ, OBJ_READ], |world, w| {
        let o = find_object(w, &object)?;
        let rid = uuid_param(&record_id, "Record")?;
        Ok(record_json(w, find_record(w, o.id, rid)?, world))
    })
}

/// `GET /v2/objects/{object}/records/{record_id}/entries`: the record's entries across all lists.
pub async fn record_entries(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((object, record_id)): Path<(String, String)>,
    Query(p): Query<Params>,
) -> ApiResult {
    read(&shared, &headers, &[REC_READ, OBJ_READ, ENTRY_READ], |world, w| {
        let (limit, offset) = (p.limit(100, 1000)?, p.offset()?);
        let o = find_object(w, &object)?;
        let rid = uuid_param(&record_id, "Record")?;
        find_record(w, o.id, rid)?;
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
        Ok(Value::Array(page(items, Some(limit), Some(offset), limit)))
    })
}

async fn update_record(
    shared: Shared,
    headers: HeaderMap,
    object: String,
    record_id: String,
    body: Bytes,
    append: bool,
) -> ApiResult {
    let (mut world, caller) = locked(&shared, &headers, &[REC_WRITE, OBJ_READ])?;
    let d = body_data(&body)?;
    let stamp = world.clock.format(world.clock.now());
    let w = ws(&world, &caller)?;
    let o = find_object(w, &object)?.clone();
    let rid = uuid_param(&record_id, "Record")?;
    find_record(w, o.id, rid)?;
    let vals = typed_map(&o.attributes, &values_of(&d, "values")?, &actor(caller.member), &stamp)?;
    check_unique(w, &o, &vals, Some(rid))?;
    let wm = ws_mut(&mut world, &caller)?;
    let r = wm.records.iter_mut().find(|r| r.id == rid).ok_or_else(|| ApiError::not_found("Record not found."))?;
    apply_values(&mut r.values, &o.attributes, vals, append);
    let r = r.clone();
    render(&world, &caller, &r, record_json)
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
    let (mut world, caller) = locked(&shared, &headers, &[OBJ_READ, REC_WRITE])?;
    let oid = find_object(ws(&world, &caller)?, &object)?.id;
    let rid = uuid_param(&record_id, "Record")?;
    let wm = ws_mut(&mut world, &caller)?;
    remove_or_404(&mut wm.records, "Record", rid, |r| r.id == rid && r.object_id == oid)?;
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
    read(&shared, &headers, &[REC_READ, OBJ_READ], |_, w| {
        let q = parse_body(&body)?;
        let text = q
            .get("query")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::validation("\"query\" is required.".into()))?;
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
                let texts: Vec<String> = r
                    .values
                    .values()
                    .flatten()
                    .map(primary)
                    .filter_map(|v| v.as_str().map(str::to_lowercase))
                    .collect();
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
        Ok(Value::Array(hits))
    })
}
