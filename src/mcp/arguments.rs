//! Reading a tool's arguments (typed, bounded, with errors an agent can act on) and describing
//! them (the JSON Schema helpers every tool row uses, and the descriptions of the arguments
//! several tools share). Split from [`super::tools`], which holds the rows.

use serde_json::{json, Map, Value};

// ---------------------------------------------------------------------------------------------
// Argument helpers

/// Ids, slugs and short names: Attio's slugs and ids are far shorter than this.
const SHORT: usize = 500;

pub(super) fn string<'a>(args: &'a Map<String, Value>, key: &str) -> Result<&'a str, String> {
    text(args, key, SHORT)
}

/// A string argument of at most `max` characters (Attio's own limit where it has one).
pub(super) fn text<'a>(args: &'a Map<String, Value>, key: &str, max: usize) -> Result<&'a str, String> {
    match args.get(key) {
        Some(Value::String(s)) if s.trim().is_empty() => Err(format!("\"{key}\" must not be empty")),
        Some(Value::String(s)) if s.chars().count() > max => {
            Err(format!("\"{key}\" is {} characters long; Attio takes at most {max}", s.chars().count()))
        }
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(format!("\"{key}\" must be a string, not {}", kind(other))),
        None => Err(format!("\"{key}\" is required")),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(super) fn opt_string<'a>(args: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, String> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => string(args, key).map(Some),
    }
}

pub(super) fn opt_bool(args: &Map<String, Value>, key: &str) -> Result<Option<bool>, String> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(format!("\"{key}\" must be true or false, not {}", kind(other))),
    }
}

/// An optional ISO 8601 timestamp argument, checked enough that Attio will not choke on it.
pub(super) fn opt_time<'a>(args: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, String> {
    let Some(t) = opt_string(args, key)? else { return Ok(None) };
    let b = t.as_bytes();
    let shaped = b.len() >= 10
        && b[..10].iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() })
        && (b.len() == 10 || b[10] == b'T');
    if shaped {
        Ok(Some(t))
    } else {
        Err(format!("\"{key}\" must be an ISO 8601 date or timestamp such as 2026-12-01T17:00:00Z, not {t:?}"))
    }
}

/// Exactly one of several argument groups: which one was given (its index).
pub(super) fn exactly_one(args: &Map<String, Value>, groups: &[&[&str]]) -> Result<usize, String> {
    let given = |g: &[&str]| g.iter().any(|k| args.get(*k).is_some_and(|v| !v.is_null()));
    let chosen: Vec<usize> = (0..groups.len()).filter(|i| given(groups[*i])).collect();
    let names = || groups.iter().map(|g| g.join(" + ")).collect::<Vec<_>>().join(", or ");
    match chosen.as_slice() {
        [one] => Ok(*one),
        [] => Err(format!("give exactly one of: {}", names())),
        _ => Err(format!("give only one of: {}", names())),
    }
}

/// An array of non-empty strings (slugs, ids, emails).
pub(super) fn strings<'a>(args: &'a Map<String, Value>, key: &str) -> Result<Option<Vec<&'a str>>, String> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().filter(|s| !s.is_empty() && s.len() <= SHORT))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| format!("\"{key}\" must be an array of non-empty strings")),
        Some(other) => Err(format!("\"{key}\" must be an array, not {}", kind(other))),
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
        "record_id" => "The record's id (from search_records or query_records).",
        "entry_id" => "The list entry's id (from query_list_entries).",
        "note_id" => "The note's id (from list_notes).",
        "task_id" => "The task's id (from list_tasks).",
        "list" => "List slug or id (see list_lists).",
        "mode" => "append (default) adds to multiselect values; overwrite replaces them.",
        "limit" => "At most this many (default 25).",
        "offset" => "The previous page's next_offset.",
        "query" => "Text to find in names, domains, emails and the like.",
        "parent_object" => "Object slug of the record the note belongs to, e.g. companies.",
        "parent_record_id" => "Id of the record it belongs to.",
        "title" => "The note's title, as plain text.",
        "content" => "The text: plain text, or Markdown when format is \"markdown\".",
        "format" => "\"plaintext\" (default) or \"markdown\".",
        "entry_values" => "The entry's own values by the list's attribute slugs, plain.",
        "assignee" => "Only tasks of this member (an id from list_workspace_members, or an email).",
        "is_completed" => "true for completed tasks, false for open ones.",
        "linked_object" => "With linked_record_id: only tasks linked to this record's object (e.g. companies).",
        "linked_record_id" => "With linked_object: only tasks linked to this record.",
        "assignees" => "Member ids or emails; replaces the current assignees.",
        "meeting_id" => "The meeting's id (from list_meetings or record_activity).",
        "call_recording_id" => "The call recording's id (from list_call_recordings).",
        "thread_id" => "The comment thread's id (from list_comment_threads).",
        "comment_id" => "The comment's id (from get_comment_thread or create_comment).",
        "cursor" => "The previous page's next_cursor.",
        "attribute" => "The attribute's slug or id (see list_attributes), e.g. stage.",
        "show_archived" => "true also returns archived options (default false).",
        "attributes" => "Only these attribute slugs in values (default: all with a value).",
        "object" => OBJECT_DESC,
        "deadline_at" => "When it is due, ISO 8601 (e.g. 2026-12-01T17:00:00Z); null for none.",
        "linked_records" => "Records the task is about; replaces the current links.",
        _ => return None,
    })
}

pub(super) fn schema(properties: Value, required: &[&str]) -> Value {
    schema_one_of(properties, required, &[])
}

/// A schema whose argument groups exclude each other: exactly one group must be given (each
/// group's arguments then all required), as `oneOf`.
pub(super) fn schema_one_of(mut properties: Value, required: &[&str], groups: &[&[&str]]) -> Value {
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
            if prop.get("format").is_none() && TIMES.contains(&name.as_str()) {
                prop["format"] = json!("date-time");
            }
        }
    }
    // Unknown arguments are refused by name when called (`Tool::build`); the schema need not
    // say so on every tool.
    let mut schema = json!({"type": "object", "properties": properties});
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    if !groups.is_empty() {
        schema["oneOf"] = groups.iter().map(|g| json!({"required": g})).collect();
    }
    schema
}

/// Arguments that are timestamps.
const TIMES: &[&str] = &["deadline_at", "since", "ends_from", "starts_before"];

pub(super) const OBJECT_DESC: &str = "Object slug: people, companies, deals, … (see list_objects).";
pub(super) const FILTER_DESC: &str = "Attio filter by attribute slug: {\"name\": \"Acme\"} is equals, else \
    {\"slug\": {\"$op\": v}}: $eq $contains $starts_with $gt $gte $lt $lte $in $not_empty; $and $or $not. Select \
    and status by title; reference {\"company\": {\"target_record_id\": id}}; email {\"email_addresses\": \
    {\"email_address\": {\"$eq\": e}}}; domain {\"domains\": {\"domain\": {\"$eq\": d}}}.";
pub(super) const VALUES_DESC: &str =
    "Plain values by attribute slug, e.g. {\"name\": \"Acme\"}; select and status by title.";

/// `{attribute, direction}` items of a query's `sorts`.
pub(super) fn sorts_schema() -> Value {
    json!({"type": "array", "maxItems": 10, "description": "Sort keys, first first, e.g. [{\"attribute\": \"name\", \"direction\": \"asc\"}].",
        "items": {"type": "object", "required": ["attribute", "direction"], "properties": {
            "attribute": {"type": "string", "description": "Attribute slug."},
            "direction": {"type": "string", "enum": ["asc", "desc"], "description": "asc (A→Z, oldest first) or desc."},
            "field": {"type": "string", "description": "A field of a multi-field attribute, e.g. last_name."}}}})
}

/// `[{target_object, target_record_id}]` of a task.
pub(super) fn linked_records_schema() -> Value {
    json!({"type": "array", "maxItems": 50, "items": {"type": "object",
        "required": ["target_object", "target_record_id"], "properties": {
            "target_object": {"type": "string", "description": "The record's object slug, e.g. companies."},
            "target_record_id": {"type": "string", "format": "uuid", "description": "The record's id."}}}})
}

/// Checks items against [`sorts_schema`] or [`linked_records_schema`]: objects with exactly the
/// declared string fields, the required ones present.
pub(super) fn typed_items(args: &Map<String, Value>, key: &str, schema: &Value) -> Result<Option<Value>, String> {
    let Some(v) = args.get(key).filter(|v| !v.is_null()) else { return Ok(None) };
    let item = &schema["items"];
    let props = item["properties"].as_object().cloned().unwrap_or_default();
    let required: Vec<&str> =
        item["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let example = schema["description"].as_str().and_then(|d| d.split("e.g. ").nth(1)).unwrap_or("");
    let bad = |why: String| {
        Err(format!(
            "\"{key}\": {why}{}",
            if example.is_empty() { String::new() } else { format!(" (e.g. {example})") }
        ))
    };
    let Some(items) = v.as_array() else { return bad("must be an array".into()) };
    for (i, it) in items.iter().enumerate() {
        let Some(fields) = it.as_object() else { return bad(format!("item {i} must be an object")) };
        if let Some(k) = fields.keys().find(|k| !props.contains_key(*k)) {
            return bad(format!(
                "item {i} has unknown field {k:?}; fields are {}",
                props.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        if let Some(k) = required.iter().find(|k| !fields.contains_key(**k)) {
            return bad(format!("item {i} needs {k:?}"));
        }
        for (k, val) in fields {
            let allowed = props[k]["enum"].as_array();
            match val.as_str() {
                Some(s) if allowed.is_none_or(|a| a.contains(val)) && !s.is_empty() => {}
                _ => {
                    return bad(format!(
                        "item {i}: {k:?} must be {}",
                        allowed.map_or("a non-empty string".into(), |a| format!("one of {}", Value::Array(a.clone())))
                    ))
                }
            }
        }
    }
    Ok(Some(v.clone()))
}

pub(super) fn query_props(extra: Value) -> Value {
    let mut p = json!({
        "filter": {"type": "object", "description": FILTER_DESC},
        "sorts": sorts_schema(),
        "limit": {"type": "integer", "minimum": 1, "maximum": 500},
        "offset": {"type": "integer", "minimum": 0},
        "attributes": {"type": "array", "items": {"type": "string"}},
    });
    if let (Some(p), Some(e)) = (p.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    p
}
