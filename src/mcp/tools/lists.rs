//! Tools on lists and their entries (Attio REST v2 "Lists", "Entries").

use http::Method;
use serde_json::json;

use super::super::arguments::*;
use super::super::output::{Item, Output};
use super::records::{query_body, write_method};
use super::{one, tool, Tool};
use super::{ENTRIES, ENTRIES_WRITE, LISTS};

pub(super) static TOOLS: &[Tool] = &[
    tool!("list_lists", "List lists", "All lists (pipelines) in the workspace, with their slugs and the object they hold.",
        write: false, destructive: false, idempotent: true, scopes: &[LISTS], output: Output::List(Item::List),
        || schema(json!({}), &[]),
        |_| one(Method::GET, "/v2/lists".into(), &[], None)),
    tool!("get_list", "Get a list", "One list: its name, slug, the object it holds and its access settings.",
        write: false, destructive: false, idempotent: true, scopes: &[LISTS], output: Output::One(Item::List),
        || schema(json!({"list": {"type": "string"}}), &["list"]),
        |a| one(Method::GET, format!("/v2/lists/{}", seg(a, "list")?), &[], None)),
    tool!("query_list_entries", "Query list entries", "Entries of a list matching a filter on the list's own attributes, sorted and paged.",
        write: false, destructive: false, idempotent: true, scopes: &[ENTRIES, LISTS], output: Output::List(Item::Entry),
        || schema(query_props(json!({"list": {"type": "string", "description": "List slug or id."}})), &["list"]),
        |a| one(Method::POST, format!("/v2/lists/{}/entries/query", seg(a, "list")?), &[], Some(query_body(a)?))),
    tool!("get_list_entry", "Get a list entry", "One list entry with its current values and the record it holds.",
        write: false, destructive: false, idempotent: true, scopes: &[ENTRIES, LISTS], output: Output::One(Item::Entry),
        || schema(json!({"list": {"type": "string"}, "entry_id": {"type": "string"}, "attributes": {"type": "array", "items": {"type": "string"}}}), &["list", "entry_id"]),
        |a| one(Method::GET, format!("/v2/lists/{}/entries/{}", seg(a, "list")?, seg(a, "entry_id")?), &[], None)),
    tool!("add_list_entry", "Add to a list", "Add a record to a list, optionally with entry values.",
    write: true, destructive: false, idempotent: false, scopes: &[ENTRIES_WRITE, LISTS], output: Output::One(Item::Entry),
    || schema(json!({"list": {"type": "string"}, "parent_object": {"type": "string", "description": "Object slug of the record to add, e.g. companies."}, "parent_record_id": {"type": "string", "description": "Id of the record to add."}, "entry_values": {"type": "object"}}), &["list", "parent_object", "parent_record_id"]),
    |a| {
        let values = if a.contains_key("entry_values") { object(a, "entry_values")? } else { json!({}) };
        let body = json!({"data": {"parent_object": string(a, "parent_object")?, "parent_record_id": string(a, "parent_record_id")?, "entry_values": values}});
        one(Method::POST, format!("/v2/lists/{}/entries", seg(a, "list")?), &[], Some(body))
    }),
    tool!("update_list_entry", "Update a list entry", "Change an entry's values (mode: append to or overwrite multiselect values), e.g. move a deal to another stage.",
        write: true, destructive: true, idempotent: false, scopes: &[ENTRIES_WRITE, LISTS], output: Output::One(Item::Entry),
        || schema(json!({"list": {"type": "string"}, "entry_id": {"type": "string"}, "entry_values": {"type": "object"}, "mode": {"type": "string", "enum": ["append", "overwrite"]}}), &["list", "entry_id", "entry_values"]),
        |a| one(write_method(a)?, format!("/v2/lists/{}/entries/{}", seg(a, "list")?, seg(a, "entry_id")?), &[], Some(json!({"data": {"entry_values": object(a, "entry_values")?}})))),
    tool!("remove_list_entry", "Remove from a list", "Remove an entry from a list (the record itself stays).",
        write: true, destructive: true, idempotent: true, scopes: &[ENTRIES_WRITE, LISTS], output: Output::Deleted,
        || schema(json!({"list": {"type": "string"}, "entry_id": {"type": "string"}}), &["list", "entry_id"]),
        |a| one(Method::DELETE, format!("/v2/lists/{}/entries/{}", seg(a, "list")?, seg(a, "entry_id")?), &[], None)),
];
