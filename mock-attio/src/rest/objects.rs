//! Objects and attributes: `GET /v2/objects`, `/v2/objects/{object}`, the attributes of an
//! object or a list, and the select options and statuses of an attribute (on either).

use super::*;

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

pub async fn list_objects(State(shared): State<Shared>, headers: HeaderMap) -> ApiResult {
    read(&shared, &headers, &[OBJ_READ], |world, w| {
        Ok(Value::Array(w.objects.iter().map(|o| object_json(w, o, world)).collect()))
    })
}

pub async fn get_object(State(shared): State<Shared>, headers: HeaderMap, Path(object): Path<String>) -> ApiResult {
    read(&shared, &headers, &[OBJ_READ], |world, w| Ok(object_json(w, find_object(w, &object)?, world)))
}

#[derive(Debug, Deserialize)]
pub struct Paging {
    limit: Option<usize>,
    offset: Option<usize>,
}

pub async fn object_attributes(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(object): Path<String>,
    Query(p): Query<Paging>,
) -> ApiResult {
    read(&shared, &headers, &[OBJ_READ], |_, w| {
        let o = find_object(w, &object)?;
        let items: Vec<Value> = o
            .attributes
            .iter()
            .map(|a| attribute_json(json!({"workspace_id": w.id, "object_id": o.id, "attribute_id": a.id}), a))
            .collect();
        Ok(Value::Array(page(items, p.limit, p.offset, usize::MAX)))
    })
}

pub async fn list_attributes(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(list): Path<String>,
    Query(p): Query<Paging>,
) -> ApiResult {
    read(&shared, &headers, &[OBJ_READ], |_, w| {
        let l = find_list(w, &list)?;
        let items: Vec<Value> = l
            .attributes
            .iter()
            .map(|a| attribute_json(json!({"workspace_id": w.id, "list_id": l.id, "attribute_id": a.id}), a))
            .collect();
        Ok(Value::Array(page(items, p.limit, p.offset, usize::MAX)))
    })
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
    read(shared, headers, &[OBJ_READ], |_, w| {
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
                let id = crate::ids::option_id(a.id, title);
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
        Ok(Value::Array(items))
    })
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
