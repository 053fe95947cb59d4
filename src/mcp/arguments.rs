//! Reading a tool's arguments (typed, bounded, with errors an agent can act on) and describing
//! them (the JSON Schema helpers every tool row uses, and the descriptions of the arguments
//! several tools share). Split from [`super::tools`], which holds the rows.

use serde_json::{json, Map, Value};

// ---------------------------------------------------------------------------------------------
// Argument helpers

pub(super) fn string<'a>(args: &'a Map<String, Value>, key: &str) -> Result<&'a str, String> {
    match args.get(key) {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 500 => Ok(s),
        Some(_) => Err(format!("\"{key}\" must be a non-empty string")),
        None => Err(format!("\"{key}\" is required")),
    }
}

pub(super) fn opt_string<'a>(args: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, String> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => string(args, key).map(Some),
    }
}

pub(super) fn object(args: &Map<String, Value>, key: &str) -> Result<Value, String> {
    match args.get(key) {
        Some(v @ Value::Object(_)) => Ok(v.clone()),
        Some(_) => Err(format!("\"{key}\" must be an object")),
        None => Err(format!("\"{key}\" is required")),
    }
}

/// A non-negative integer argument; `limit` starts at 1 (a page of nothing is never useful).
pub(super) fn count(args: &Map<String, Value>, key: &str, max: u64) -> Result<Option<u64>, String> {
    let min = u64::from(key == "limit");
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(format!("\"{key}\" must be an integer from {min} to {max}")),
        },
    }
}

/// A path segment from an argument: percent-encoded, never `.`/`..`.
pub(super) fn seg(args: &Map<String, Value>, key: &str) -> Result<String, String> {
    let raw = string(args, key)?;
    Ok(raw
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Schemas

/// Parameters mirrored into `Mcp-Param-<Name>` request headers (MCP 2026-07-28, SEP-2243), so
/// a load balancer or WAF in front of the gateway can route or limit by object without parsing
/// bodies. Only the object slug: it names no person and no record.
pub(super) const MIRRORED: &[(&str, &str)] = &[("object", "Object")];

/// What a property means when a tool's row does not say it more precisely: the arguments
/// several tools share. Every property of every tool has a description (a test checks it), so an
/// agent never has to guess.
pub(super) fn common_description(name: &str) -> Option<&'static str> {
    Some(match name {
        "record_id" => "The record's id (a UUID), as returned by search_records or query_records.",
        "entry_id" => "The list entry's id (a UUID), as returned by query_list_entries.",
        "note_id" => "The note's id (a UUID), as returned by list_notes.",
        "task_id" => "The task's id (a UUID), as returned by list_tasks.",
        "list" => "List slug or id (see list_lists).",
        "mode" => "\"append\" adds values to multiselect attributes; \"overwrite\" replaces what is stored (default append).",
        "limit" => "How many items to return at most (default 25).",
        "offset" => "How many items to skip: the next_offset of the previous page.",
        "query" => "Text to search for in names, domains, emails and other searchable attributes.",
        "parent_object" => "Object slug of the record the note belongs to, e.g. companies.",
        "parent_record_id" => "Id (a UUID) of the record it belongs to.",
        "title" => "The note's title, as plain text.",
        "content" => "The text: plain text, or Markdown when format is \"markdown\".",
        "format" => "\"plaintext\" (default) or \"markdown\".",
        "entry_values" => "The entry's attribute values keyed by the list's attribute slugs, as plain values.",
        "assignee" => "Only tasks assigned to this workspace member (a member id from list_workspace_members).",
        "is_completed" => "true for completed tasks, false for open ones.",
        "linked_object" => "With linked_record_id: only tasks linked to this record's object (e.g. companies).",
        "linked_record_id" => "With linked_object: only tasks linked to this record (a UUID).",
        "assignee_ids" => "Workspace member ids (UUIDs, from list_workspace_members) to assign; replaces the current assignees.",
        "deadline_at" => "When the task is due, an ISO 8601 timestamp such as 2026-12-01T17:00:00Z; null for none.",
        "linked_records" => "Records the task is about, each {\"target_object\": slug, \"target_record_id\": UUID}; replaces the current links.",
        _ => return None,
    })
}

pub(super) fn schema(mut properties: Value, required: &[&str]) -> Value {
    for (param, header) in MIRRORED {
        if let Some(p) = properties.get_mut(*param) {
            p["x-mcp-header"] = json!(header);
        }
    }
    if let Some(props) = properties.as_object_mut() {
        for (name, prop) in props.iter_mut() {
            if prop.get("description").is_none() {
                if let Some(d) = common_description(name) {
                    prop["description"] = json!(d);
                }
            }
            if name.ends_with("_id") && prop.get("type") == Some(&json!("string")) && prop.get("format").is_none() {
                prop["format"] = json!("uuid");
            }
            if name == "deadline_at" && prop.get("format").is_none() {
                prop["format"] = json!("date-time");
            }
        }
    }
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

pub(super) const OBJECT_DESC: &str =
    "Object slug or id: people, companies, deals, users, workspaces, or a custom object's slug (see list_objects).";
pub(super) const FILTER_DESC: &str = "Attio filter. Shorthand {\"name\": \"Acme\"} or verbose {\"name\": {\"$eq\": \"Acme\"}}; operators $eq, $contains, $starts_with, $ends_with, $gt, $gte, $lt, $lte, $in, $not_empty; combine with $and, $or, $not. Use attribute slugs from list_attributes.";
pub(super) const VALUES_DESC: &str = "Attribute values keyed by attribute slug, as plain values, e.g. {\"name\": \"Acme\", \"domains\": [\"acme.com\"]}. Use list_attributes for slugs and types.";

pub(super) fn query_props(extra: Value) -> Value {
    let mut p = json!({
        "filter": {"type": "object", "description": FILTER_DESC},
        "sorts": {"type": "array", "description": "e.g. [{\"attribute\": \"name\", \"direction\": \"asc\"}]", "items": {"type": "object"}},
        "limit": {"type": "integer", "minimum": 1, "maximum": 500, "description": "At most this many (default 25)."},
        "offset": {"type": "integer", "minimum": 0, "description": "Skip this many, for paging."},
    });
    if let (Some(p), Some(e)) = (p.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    p
}
