//! Tools on objects, attributes and records (Attio REST v2 "Objects", "Attributes", "Records"),
//! plus `whoami` and a record's activity.

use http::Method;
use serde_json::{json, Map, Value};

use super::super::activity;
use super::super::arguments::*;
use super::super::output::{Item, Output};
use super::{call, one, paging, tool, AsMember, Plan, Tool};
use super::{COMMENTS, ENTRIES, LISTS, MEETINGS, MEMBERS, NOTES, OBJECTS, RECORDINGS, RECORDS, RECORDS_WRITE, TASKS};

pub(super) static TOOLS: &[Tool] = &[
    tool!("whoami", "Who am I", "The connected workspace, your member id, name and email (for tasks assigned to \"me\"), the Attio scopes and whether you may write.",
        write: false, destructive: false, idempotent: true, scopes: &[MEMBERS], output: Output::WhoAmI,
        || schema(json!({}), &[]),
        |_| Ok(Plan::WhoAmI)),
    tool!("list_objects", "List objects", "All objects in the workspace (standard and custom), with their slugs.",
        write: false, destructive: false, idempotent: true, scopes: &[OBJECTS], output: Output::List(Item::Object),
        || schema(json!({}), &[]),
        |_| one(Method::GET, "/v2/objects".into(), &[], None)),
    tool!("list_attributes", "List attributes", "An object's or list's attributes: slugs, types, unique, required, multiselect. Use before filtering or writing.",
    write: false, destructive: false, idempotent: true, scopes: &[OBJECTS], output: Output::List(Item::Attribute),
    || schema_one_of(json!({"object": {"type": "string", "description": OBJECT_DESC}, "list": {"type": "string", "description": "List slug or id (instead of object)."}}), &[], &[&["object"], &["list"]]),
    |a| match exactly_one(a, &[&["object"], &["list"]])? {
        0 => one(Method::GET, format!("/v2/objects/{}/attributes", seg(a, "object")?), &[], None),
        _ => one(Method::GET, format!("/v2/lists/{}/attributes", seg(a, "list")?), &[], None),
    }),
    tool!("list_attribute_options", "List select options or statuses", "The titles a select or status attribute accepts (e.g. a deal's stages), for filters and values.",
    write: false, destructive: false, idempotent: true, scopes: &[OBJECTS], output: Output::List(Item::Option),
    || schema_one_of(json!({"object": {"type": "string", "description": OBJECT_DESC}, "list": {"type": "string", "description": "List slug or id (instead of object), for a list's own attribute."},
        "attribute": {"type": "string"}, "show_archived": {"type": "boolean"}}), &["attribute"], &[&["object"], &["list"]]),
    |a| {
        let (target, id) = match exactly_one(a, &[&["object"], &["list"]])? {
            0 => ("objects", seg(a, "object")?),
            _ => ("lists", seg(a, "list")?),
        };
        let q = [("show_archived", opt_bool(a, "show_archived")?.unwrap_or(false).to_string())];
        let base = format!("/v2/{target}/{id}/attributes/{}", seg(a, "attribute")?);
        Ok(Plan::Options {
            options: call(Method::GET, format!("{base}/options"), &q, None)?,
            statuses: call(Method::GET, format!("{base}/statuses"), &q, None)?,
        })
    }),
    tool!("search_records", "Search records", "Full-text search by name, domain, email and the like across objects: finds a record's id from a name.",
    write: false, destructive: false, idempotent: true, scopes: &[RECORDS, OBJECTS], output: Output::List(Item::SearchHit),
    || schema(json!({"query": {"type": "string", "maxLength": 256}, "objects": {"type": "array", "minItems": 1, "items": {"type": "string"}, "description": "Object slugs to search, e.g. [\"people\", \"companies\"]."}, "limit": {"type": "integer", "minimum": 1, "maximum": 25, "description": "At most this many, best first (default 25; no paging)."}}), &["query", "objects"]),
    |a| {
        let objects = strings(a, "objects")?.filter(|o| !o.is_empty()).ok_or("\"objects\" must list at least one object slug")?;
        let body = json!({"query": text(a, "query", 256)?, "objects": objects, "limit": count(a, "limit", 25)?.unwrap_or(25), "request_as": {"type": "workspace"}});
        let mut c = call(Method::POST, "/v2/objects/records/search".into(), &[], Some(body))?;
        c.as_member = Some(AsMember::RequestAs);
        Ok(Plan::One(c))
    }),
    tool!("query_records", "Query records", "Records of any object matching a filter, sorted and paged.",
        write: false, destructive: false, idempotent: true, scopes: &[RECORDS, OBJECTS], output: Output::List(Item::Record),
        || schema(query_props(json!({"object": {"type": "string", "description": OBJECT_DESC}})), &["object"]),
        |a| one(Method::POST, format!("/v2/objects/{}/records/query", seg(a, "object")?), &[], Some(query_body(a)?))),
    tool!("get_record", "Get a record", "One record with its current attribute values.",
        write: false, destructive: false, idempotent: true, scopes: &[RECORDS, OBJECTS], output: Output::One(Item::Record),
        || schema(json!({"object": {"type": "string", "description": OBJECT_DESC}, "record_id": {"type": "string"}, "attributes": {"type": "array", "items": {"type": "string"}}}), &["object", "record_id"]),
        |a| one(Method::GET, format!("/v2/objects/{}/records/{}", seg(a, "object")?, seg(a, "record_id")?), &[], None)),
    tool!("list_record_entries", "List a record's list entries", "Which lists (pipelines) a record is in: each entry's id with its list's id and slug.",
        write: false, destructive: false, idempotent: true, scopes: &[RECORDS, OBJECTS, ENTRIES], output: Output::List(Item::Membership),
        || schema(json!({"object": {"type": "string", "description": OBJECT_DESC}, "record_id": {"type": "string"}, "limit": {"type": "integer", "minimum": 1, "maximum": 1000}, "offset": {"type": "integer", "minimum": 0}}), &["object", "record_id"]),
        |a| one(Method::GET, format!("/v2/objects/{}/records/{}/entries", seg(a, "object")?, seg(a, "record_id")?), &paging(a, 1000)?, None)),
    tool!("record_activity", "Record activity", "What happened with a record, newest first: notes, tasks (open ones always), meetings with recordings, comment threads, list entries. For \"what's the latest with Acme?\". Last 90 days unless since; older counts what that hides.",
    write: false, destructive: false, idempotent: true, scopes: &[RECORDS, OBJECTS, NOTES, TASKS, MEMBERS, MEETINGS, RECORDINGS, COMMENTS, ENTRIES, LISTS], output: Output::Activity,
    || schema(json!({"object": {"type": "string", "description": OBJECT_DESC}, "record_id": {"type": "string"},
        "since": {"type": "string", "description": "Only what happened from this time on (default 90 days ago); open tasks always."},
        "limit": {"type": "integer", "minimum": 1, "maximum": 100, "description": "How many events at most (default 25)."},
        "offset": {"type": "integer", "minimum": 0, "maximum": 500}}), &["object", "record_id"]),
    |a| Ok(Plan::Activity(activity::Request {
        object: seg(a, "object")?,
        record_id: seg(a, "record_id")?,
        since: opt_time(a, "since")?.map(str::to_string),
        limit: count(a, "limit", 100)?.unwrap_or(super::DEFAULT_LIMIT),
        offset: count(a, "offset", 500)?.unwrap_or(0),
    }))),
    tool!("create_record", "Create a record", "Create a record. Fails if a unique value (e.g. a domain) exists: use upsert_record for that.",
        write: true, destructive: false, idempotent: false, scopes: &[RECORDS_WRITE, OBJECTS], output: Output::One(Item::Record),
        || schema(json!({"object": {"type": "string", "description": OBJECT_DESC}, "values": {"type": "object", "description": VALUES_DESC}}), &["object", "values"]),
        |a| one(Method::POST, format!("/v2/objects/{}/records", seg(a, "object")?), &[], Some(json!({"data": {"values": object(a, "values")?}})))),
    tool!("upsert_record", "Create or update a record", "Create a record, or update the one whose unique matching_attribute (e.g. domains) has the given value; multiselect values replace the stored ones.",
        write: true, destructive: true, idempotent: true, scopes: &[RECORDS_WRITE, OBJECTS], output: Output::One(Item::Record),
        || schema(json!({"object": {"type": "string", "description": OBJECT_DESC}, "matching_attribute": {"type": "string", "description": "Slug of a unique attribute."}, "values": {"type": "object", "description": VALUES_DESC}}), &["object", "matching_attribute", "values"]),
        |a| one(Method::PUT, format!("/v2/objects/{}/records", seg(a, "object")?), &[("matching_attribute", string(a, "matching_attribute")?.to_string())], Some(json!({"data": {"values": object(a, "values")?}})))),
    tool!("update_record", "Update a record", "Change a record's attribute values (mode: append to or overwrite multiselect values).",
        write: true, destructive: true, idempotent: false, scopes: &[RECORDS_WRITE, OBJECTS], output: Output::One(Item::Record),
        || schema(json!({"object": {"type": "string", "description": OBJECT_DESC}, "record_id": {"type": "string"}, "values": {"type": "object", "description": VALUES_DESC}, "mode": {"type": "string", "enum": ["append", "overwrite"]}}), &["object", "record_id", "values"]),
        |a| one(write_method(a)?, format!("/v2/objects/{}/records/{}", seg(a, "object")?, seg(a, "record_id")?), &[], Some(json!({"data": {"values": object(a, "values")?}})))),
    tool!("delete_record", "Delete a record", "Delete a record permanently.",
        write: true, destructive: true, idempotent: true, scopes: &[RECORDS_WRITE, OBJECTS], output: Output::Deleted,
        || schema(json!({"object": {"type": "string", "description": OBJECT_DESC}, "record_id": {"type": "string"}}), &["object", "record_id"]),
        |a| one(Method::DELETE, format!("/v2/objects/{}/records/{}", seg(a, "object")?, seg(a, "record_id")?), &[], None)),
];

/// PATCH appends to multiselect values, PUT overwrites them (Attio's two update forms).
pub(super) fn write_method(a: &Map<String, Value>) -> Result<Method, String> {
    match opt_string(a, "mode")? {
        None | Some("append") => Ok(Method::PATCH),
        Some("overwrite") => Ok(Method::PUT),
        Some(other) => Err(format!("\"mode\" must be \"append\" or \"overwrite\", not {other:?}")),
    }
}

/// `filter`, `sorts`, `limit`, `offset` for the query endpoints.
pub(super) fn query_body(args: &Map<String, Value>) -> Result<Value, String> {
    let mut body = Map::new();
    if let Some(f) = args.get("filter").filter(|v| !v.is_null()) {
        if !f.is_object() {
            return Err("\"filter\" must be an object, e.g. {\"name\": {\"$eq\": \"Acme\"}}".into());
        }
        body.insert("filter".into(), f.clone());
    }
    if let Some(s) = typed_items(args, "sorts", &sorts_schema())? {
        body.insert("sorts".into(), s);
    }
    body.insert("limit".into(), json!(count(args, "limit", 500)?.unwrap_or(super::DEFAULT_LIMIT)));
    if let Some(o) = count(args, "offset", 1_000_000)? {
        body.insert("offset".into(), json!(o));
    }
    Ok(Value::Object(body))
}
