//! The Attio tools: a small, general set that works on any object or list, standard or custom,
//! the way Attio's own API does. Each tool is a row: name, description, JSON-Schema input,
//! annotations (`readOnlyHint`, `destructiveHint`, `idempotentHint`) and a function that turns
//! arguments into one Attio request ([`Call`]). Executing and rendering live in
//! [`super::call`]; this file is pure.

use http::Method;
use serde_json::{json, Map, Value};

use super::arguments::*;
use crate::proxy_policy;

/// The argument every tool takes: Attio's own JSON instead of the compact result.
pub const RAW: &str = "raw";

/// One Attio request a tool makes.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub method: Method,
    /// The Attio path as Attio documents it (`/v2/...?query`), already checked by
    /// [`proxy_policy::upstream_path`]; [`crate::attio::AttioApi`] puts it under the API base.
    pub path: String,
    pub body: Option<Value>,
}

pub struct Tool {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub write: bool,
    pub destructive: bool,
    pub idempotent: bool,
    schema: fn() -> Value,
    build: fn(&Map<String, Value>) -> Result<Call, String>,
}

impl std::fmt::Debug for Tool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl Tool {
    /// Whether the tool pages with `limit` and `offset`.
    pub fn pages(&self) -> bool {
        let schema = (self.schema)();
        let props = schema.get("properties");
        props.and_then(|p| p.get("offset")).is_some() && props.and_then(|p| p.get("limit")).is_some()
    }

    /// The tool's input schema, with the `raw` switch every tool has.
    pub fn input_schema(&self) -> Value {
        let mut schema = (self.schema)();
        if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
            props.insert(
                RAW.into(),
                json!({"type": "boolean", "description": "true returns Attio's own JSON (every value with its history) \
                        instead of the compact result. Rarely needed; costs many more tokens."}),
            );
        }
        schema
    }

    /// The `tools/list` entry.
    pub fn describe(&self) -> Value {
        json!({
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "inputSchema": self.input_schema(),
            "annotations": {
                "title": self.title,
                "readOnlyHint": !self.write,
                "destructiveHint": self.destructive,
                "idempotentHint": self.idempotent,
                "openWorldHint": true,
            },
        })
    }

    /// `(parameter, header suffix)` for each parameter a 2026-07-28 client mirrors into an
    /// `Mcp-Param-<suffix>` header.
    pub fn mirrored(&self) -> Vec<(String, String)> {
        let schema = (self.schema)();
        let Some(props) = schema.get("properties").and_then(Value::as_object) else { return Vec::new() };
        props
            .iter()
            .filter_map(|(k, v)| v.get("x-mcp-header").and_then(Value::as_str).map(|h| (k.clone(), h.to_string())))
            .collect()
    }

    pub fn build(&self, args: &Value) -> Result<Call, String> {
        let empty = Map::new();
        let args = match args {
            Value::Object(m) => m,
            Value::Null => &empty,
            _ => return Err("arguments must be an object".into()),
        };
        // An argument the tool does not know would be silently ignored (and, say, a note filter
        // misspelled would list every note of the workspace): refused, by name.
        let schema = (self.schema)();
        let known = schema.get("properties").and_then(Value::as_object);
        let is_known = |k: &str| k == RAW || known.is_some_and(|p| p.contains_key(k));
        let unknown: Vec<&str> = args.keys().map(String::as_str).filter(|k| !is_known(k)).collect();
        if !unknown.is_empty() {
            let mut allowed: Vec<&str> = known.map(|p| p.keys().map(String::as_str).collect()).unwrap_or_default();
            allowed.push(RAW);
            return Err(format!(
                "unknown argument(s) {}; {} takes: {}",
                unknown.join(", "),
                self.name,
                allowed.join(", ")
            ));
        }
        (self.build)(args)
    }
}

pub fn find(name: &str) -> Option<&'static Tool> {
    TOOLS.iter().find(|t| t.name == name)
}

fn call(method: Method, path: String, query: &[(&str, String)], body: Option<Value>) -> Result<Call, String> {
    let q =
        (!query.is_empty()).then(|| url::form_urlencoded::Serializer::new(String::new()).extend_pairs(query).finish());
    let path = proxy_policy::upstream_path(&path, q.as_deref()).map_err(|e| e.to_string())?;
    Ok(Call { method, path, body })
}

/// `filter`, `sorts`, `limit`, `offset` for the query endpoints.
fn query_body(args: &Map<String, Value>) -> Result<Value, String> {
    let mut body = Map::new();
    if let Some(f) = args.get("filter").filter(|v| !v.is_null()) {
        if !f.is_object() {
            return Err("\"filter\" must be an object, e.g. {\"name\": {\"$eq\": \"Acme\"}}".into());
        }
        body.insert("filter".into(), f.clone());
    }
    if let Some(s) = args.get("sorts").filter(|v| !v.is_null()) {
        if !s.is_array() {
            return Err("\"sorts\" must be an array of {attribute, direction}".into());
        }
        body.insert("sorts".into(), s.clone());
    }
    body.insert("limit".into(), json!(count(args, "limit", 500)?.unwrap_or(DEFAULT_LIMIT)));
    if let Some(o) = count(args, "offset", 1_000_000)? {
        body.insert("offset".into(), json!(o));
    }
    Ok(Value::Object(body))
}

/// The page size when the agent names none: enough to act on, cheap to read.
pub const DEFAULT_LIMIT: u64 = 25;

fn paging(args: &Map<String, Value>, max: u64) -> Result<Vec<(&'static str, String)>, String> {
    // Always a limit: Attio's own default is 500, oldest first.
    let mut q = vec![("limit", count(args, "limit", max)?.unwrap_or(DEFAULT_LIMIT.min(max)).to_string())];
    if let Some(o) = count(args, "offset", 1_000_000)? {
        q.push(("offset", o.to_string()));
    }
    Ok(q)
}

// ---------------------------------------------------------------------------------------------
// The tools

macro_rules! tool {
    ($name:literal, $title:literal, $desc:expr, write: $w:literal, destructive: $d:literal, idempotent: $i:literal, $schema:expr, $build:expr) => {
        Tool {
            name: $name,
            title: $title,
            description: $desc,
            write: $w,
            destructive: $d,
            idempotent: $i,
            schema: $schema,
            build: $build,
        }
    };
}

pub static TOOLS: &[Tool] = &[
    tool!("whoami", "Who am I", "The connected Attio workspace, the member who connected it, and the granted scopes. No arguments.",
        write: false, destructive: false, idempotent: true,
        || schema(json!({}), &[]),
        |_| call(Method::GET, "/v2/self".into(), &[], None)),
    tool!("list_objects", "List objects", "All objects in the workspace (standard and custom), with their slugs.",
        write: false, destructive: false, idempotent: true,
        || schema(json!({}), &[]),
        |_| call(Method::GET, "/v2/objects".into(), &[], None)),
    tool!("list_attributes", "List attributes", "The attributes of an object or list: slugs, types, which are unique or multiselect, select options. Use before filtering or writing.",
    write: false, destructive: false, idempotent: true,
    || schema(json!({"object": {"type": "string", "description": OBJECT_DESC}, "list": {"type": "string", "description": "List slug or id (instead of object)."}}), &[]),
    |a| match (opt_string(a, "object")?, opt_string(a, "list")?) {
        (Some(_), None) => call(Method::GET, format!("/v2/objects/{}/attributes", seg(a, "object")?), &[], None),
        (None, Some(_)) => call(Method::GET, format!("/v2/lists/{}/attributes", seg(a, "list")?), &[], None),
        _ => Err("give exactly one of \"object\" or \"list\"".into()),
    }),
    tool!("search_records", "Search records", "Full-text search for records by name, domain, email and similar across one or more objects.",
    write: false, destructive: false, idempotent: true,
    || schema(json!({"query": {"type": "string", "maxLength": 256}, "objects": {"type": "array", "items": {"type": "string"}, "description": "Object slugs to search, e.g. [\"people\", \"companies\"]."}, "limit": {"type": "integer", "minimum": 1, "maximum": 25}}), &["query", "objects"]),
    |a| {
        let objects = a.get("objects").and_then(Value::as_array).filter(|o| !o.is_empty()).ok_or("\"objects\" must list at least one object slug")?;
        let body = json!({"query": string(a, "query")?, "objects": objects, "limit": count(a, "limit", 25)?.unwrap_or(25), "request_as": {"type": "workspace"}});
        // Narrowed to the connected member in `call`: the tool does not know who that is.
        call(Method::POST, "/v2/objects/records/search".into(), &[], Some(body))
    }),
    tool!("query_records", "Query records", "Records of any object matching a filter, sorted and paged.",
        write: false, destructive: false, idempotent: true,
        || schema(query_props(json!({"object": {"type": "string", "description": OBJECT_DESC}})), &["object"]),
        |a| call(Method::POST, format!("/v2/objects/{}/records/query", seg(a, "object")?), &[], Some(query_body(a)?))),
    tool!("get_record", "Get a record", "One record with all its attribute values.",
        write: false, destructive: false, idempotent: true,
        || schema(json!({"object": {"type": "string", "description": OBJECT_DESC}, "record_id": {"type": "string"}}), &["object", "record_id"]),
        |a| call(Method::GET, format!("/v2/objects/{}/records/{}", seg(a, "object")?, seg(a, "record_id")?), &[], None)),
    tool!("create_record", "Create a record", "Create a record in any object. Fails if a unique attribute (e.g. a domain) already exists: use upsert_record for that.",
        write: true, destructive: false, idempotent: false,
        || schema(json!({"object": {"type": "string", "description": OBJECT_DESC}, "values": {"type": "object", "description": VALUES_DESC}}), &["object", "values"]),
        |a| call(Method::POST, format!("/v2/objects/{}/records", seg(a, "object")?), &[], Some(json!({"data": {"values": object(a, "values")?}})))),
    tool!("upsert_record", "Create or update a record", "Create a record, or update the one whose unique matching attribute (e.g. domains, email_addresses) has the given value; on update, multiselect values given replace the stored ones.",
        write: true, destructive: true, idempotent: true,
        || schema(json!({"object": {"type": "string", "description": OBJECT_DESC}, "matching_attribute": {"type": "string", "description": "Slug of a unique attribute."}, "values": {"type": "object", "description": VALUES_DESC}}), &["object", "matching_attribute", "values"]),
        |a| call(Method::PUT, format!("/v2/objects/{}/records", seg(a, "object")?), &[("matching_attribute", string(a, "matching_attribute")?.to_string())], Some(json!({"data": {"values": object(a, "values")?}})))),
    tool!("update_record", "Update a record", "Change attribute values of a record. mode \"append\" adds to multiselect attributes; \"overwrite\" replaces them.",
    write: true, destructive: true, idempotent: false,
    || schema(json!({"object": {"type": "string", "description": OBJECT_DESC}, "record_id": {"type": "string"}, "values": {"type": "object", "description": VALUES_DESC}, "mode": {"type": "string", "enum": ["append", "overwrite"]}}), &["object", "record_id", "values"]),
    |a| {
        let method = if opt_string(a, "mode")? == Some("overwrite") { Method::PUT } else { Method::PATCH };
        call(method, format!("/v2/objects/{}/records/{}", seg(a, "object")?, seg(a, "record_id")?), &[], Some(json!({"data": {"values": object(a, "values")?}})))
    }),
    tool!("delete_record", "Delete a record", "Delete a record permanently.",
        write: true, destructive: true, idempotent: true,
        || schema(json!({"object": {"type": "string", "description": OBJECT_DESC}, "record_id": {"type": "string"}}), &["object", "record_id"]),
        |a| call(Method::DELETE, format!("/v2/objects/{}/records/{}", seg(a, "object")?, seg(a, "record_id")?), &[], None)),
    tool!("list_lists", "List lists", "All lists (pipelines) in the workspace, with their slugs and the object they hold.",
        write: false, destructive: false, idempotent: true,
        || schema(json!({}), &[]),
        |_| call(Method::GET, "/v2/lists".into(), &[], None)),
    tool!("query_list_entries", "Query list entries", "Entries of a list matching a filter on the list's own attributes, sorted and paged.",
        write: false, destructive: false, idempotent: true,
        || schema(query_props(json!({"list": {"type": "string", "description": "List slug or id."}})), &["list"]),
        |a| call(Method::POST, format!("/v2/lists/{}/entries/query", seg(a, "list")?), &[], Some(query_body(a)?))),
    tool!("add_list_entry", "Add to a list", "Add a record to a list, optionally with entry values.",
    write: true, destructive: false, idempotent: false,
    || schema(json!({"list": {"type": "string"}, "parent_object": {"type": "string", "description": OBJECT_DESC}, "parent_record_id": {"type": "string"}, "entry_values": {"type": "object"}}), &["list", "parent_object", "parent_record_id"]),
    |a| {
        let values = if a.contains_key("entry_values") { object(a, "entry_values")? } else { json!({}) };
        let body = json!({"data": {"parent_object": string(a, "parent_object")?, "parent_record_id": string(a, "parent_record_id")?, "entry_values": values}});
        call(Method::POST, format!("/v2/lists/{}/entries", seg(a, "list")?), &[], Some(body))
    }),
    tool!("update_list_entry", "Update a list entry", "Change an entry's values (mode \"append\" or \"overwrite\" for multiselects).",
    write: true, destructive: true, idempotent: false,
    || schema(json!({"list": {"type": "string"}, "entry_id": {"type": "string"}, "entry_values": {"type": "object"}, "mode": {"type": "string", "enum": ["append", "overwrite"]}}), &["list", "entry_id", "entry_values"]),
    |a| {
        let method = if opt_string(a, "mode")? == Some("overwrite") { Method::PUT } else { Method::PATCH };
        call(method, format!("/v2/lists/{}/entries/{}", seg(a, "list")?, seg(a, "entry_id")?), &[], Some(json!({"data": {"entry_values": object(a, "entry_values")?}})))
    }),
    tool!("remove_list_entry", "Remove from a list", "Remove an entry from a list (the record itself stays).",
        write: true, destructive: true, idempotent: true,
        || schema(json!({"list": {"type": "string"}, "entry_id": {"type": "string"}}), &["list", "entry_id"]),
        |a| call(Method::DELETE, format!("/v2/lists/{}/entries/{}", seg(a, "list")?, seg(a, "entry_id")?), &[], None)),
    tool!("list_notes", "List notes", "Notes, optionally only those on one record.",
    write: false, destructive: false, idempotent: true,
    || schema(json!({"parent_object": {"type": "string"}, "parent_record_id": {"type": "string"}, "limit": {"type": "integer", "minimum": 1, "maximum": 50}, "offset": {"type": "integer", "minimum": 0}}), &[]),
    |a| {
        let mut q = paging(a, 50)?;
        if let Some(o) = opt_string(a, "parent_object")? { q.push(("parent_object", o.to_string())); }
        if let Some(r) = opt_string(a, "parent_record_id")? { q.push(("parent_record_id", r.to_string())); }
        call(Method::GET, "/v2/notes".into(), &q, None)
    }),
    tool!("create_note", "Create a note", "Add a note to a record.",
    write: true, destructive: false, idempotent: false,
    || schema(json!({"parent_object": {"type": "string"}, "parent_record_id": {"type": "string"}, "title": {"type": "string"}, "content": {"type": "string"}, "format": {"type": "string", "enum": ["plaintext", "markdown"]}}), &["parent_object", "parent_record_id", "title", "content"]),
    |a| {
        let body = json!({"data": {"parent_object": string(a, "parent_object")?, "parent_record_id": string(a, "parent_record_id")?, "title": string(a, "title")?,
            "content": a.get("content").and_then(Value::as_str).ok_or("\"content\" is required")?, "format": opt_string(a, "format")?.unwrap_or("plaintext")}});
        call(Method::POST, "/v2/notes".into(), &[], Some(body))
    }),
    tool!("delete_note", "Delete a note", "Delete a note permanently.",
        write: true, destructive: true, idempotent: true,
        || schema(json!({"note_id": {"type": "string"}}), &["note_id"]),
        |a| call(Method::DELETE, format!("/v2/notes/{}", seg(a, "note_id")?), &[], None)),
    tool!("list_tasks", "List tasks", "Tasks, optionally filtered by linked record, assignee (member id or email) or completion.",
    write: false, destructive: false, idempotent: true,
    || schema(json!({"linked_object": {"type": "string"}, "linked_record_id": {"type": "string"}, "assignee": {"type": "string"}, "is_completed": {"type": "boolean"}, "limit": {"type": "integer", "minimum": 1, "maximum": 500}, "offset": {"type": "integer", "minimum": 0}}), &[]),
    |a| {
        let mut q = paging(a, 500)?;
        for k in ["linked_object", "linked_record_id", "assignee"] {
            if let Some(v) = opt_string(a, k)? { q.push((k, v.to_string())); }
        }
        if let Some(c) = a.get("is_completed").and_then(Value::as_bool) { q.push(("is_completed", c.to_string())); }
        call(Method::GET, "/v2/tasks".into(), &q, None)
    }),
    tool!("create_task", "Create a task", "Create a task, optionally with a deadline (ISO 8601), assignees (workspace member ids) and linked records.",
    write: true, destructive: false, idempotent: false,
    || schema(json!({"content": {"type": "string"}, "deadline_at": {"type": ["string", "null"]}, "assignee_ids": {"type": "array", "items": {"type": "string"}},
        "linked_records": {"type": "array", "items": {"type": "object", "properties": {"target_object": {"type": "string"}, "target_record_id": {"type": "string"}}}}}), &["content"]),
    |a| {
        let body = json!({"data": {"content": string(a, "content")?, "format": "plaintext", "deadline_at": opt_string(a, "deadline_at")?, "is_completed": false,
            "linked_records": a.get("linked_records").cloned().unwrap_or(json!([])), "assignees": assignees(a)?}});
        call(Method::POST, "/v2/tasks".into(), &[], Some(body))
    }),
    tool!("update_task", "Update a task", "Complete or reopen, reschedule (deadline_at, null clears it), reassign (assignee_ids) or relink a task. assignee_ids and linked_records replace the task's current ones.",
    write: true, destructive: true, idempotent: true,
    || schema(json!({"task_id": {"type": "string"}, "is_completed": {"type": "boolean"}, "deadline_at": {"type": ["string", "null"]}, "assignee_ids": {"type": "array", "items": {"type": "string"}}, "linked_records": {"type": "array", "items": {"type": "object"}}}), &["task_id"]),
    |a| {
        let mut data = Map::new();
        if let Some(c) = a.get("is_completed") { data.insert("is_completed".into(), c.clone()); }
        if let Some(d) = a.get("deadline_at") { data.insert("deadline_at".into(), d.clone()); }
        if a.contains_key("assignee_ids") { data.insert("assignees".into(), assignees(a)?); }
        if let Some(l) = a.get("linked_records") { data.insert("linked_records".into(), l.clone()); }
        if data.is_empty() { return Err("give at least one of is_completed, deadline_at, assignee_ids, linked_records".into()); }
        call(Method::PATCH, format!("/v2/tasks/{}", seg(a, "task_id")?), &[], Some(json!({"data": data})))
    }),
    tool!("delete_task", "Delete a task", "Delete a task permanently.",
        write: true, destructive: true, idempotent: true,
        || schema(json!({"task_id": {"type": "string"}}), &["task_id"]),
        |a| call(Method::DELETE, format!("/v2/tasks/{}", seg(a, "task_id")?), &[], None)),
    tool!("list_workspace_members", "List workspace members", "People in the workspace, with ids to assign tasks to.",
        write: false, destructive: false, idempotent: true,
        || schema(json!({}), &[]),
        |_| call(Method::GET, "/v2/workspace_members".into(), &[], None)),
];

fn assignees(a: &Map<String, Value>) -> Result<Value, String> {
    let ids = match a.get("assignee_ids") {
        None | Some(Value::Null) => return Ok(json!([])),
        Some(Value::Array(ids)) => ids,
        Some(_) => return Err("\"assignee_ids\" must be an array of member ids".into()),
    };
    ids.iter()
        .map(|id| {
            id.as_str()
                .map(|s| json!({"referenced_actor_type": "workspace-member", "referenced_actor_id": s}))
                .ok_or_else(|| "assignee ids must be strings".to_string())
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(name: &str, args: Value) -> Result<Call, String> {
        find(name).unwrap().build(&args)
    }

    #[test]
    fn every_tool_is_described_with_a_schema_and_annotations() {
        let mut names: Vec<&str> = TOOLS.iter().map(|t| t.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TOOLS.len(), "unique names");
        for t in TOOLS {
            let d = t.describe();
            assert_eq!(d["inputSchema"]["type"], "object", "{}", t.name);
            assert_eq!(d["annotations"]["readOnlyHint"], !t.write, "{}", t.name);
            assert!(t.description.len() > 20, "{}", t.name);
            assert!(!t.destructive || t.write, "{}: destructive implies write", t.name);
        }
    }

    #[test]
    fn requests_are_built_for_any_object() {
        let c = build(
            "query_records",
            json!({"object": "projects", "filter": {"phase": {"$eq": "Build"}}, "limit": 5, "offset": 10}),
        )
        .unwrap();
        assert_eq!(c.method, Method::POST);
        assert_eq!(c.path, "/v2/objects/projects/records/query");
        assert_eq!(c.body.unwrap(), json!({"filter": {"phase": {"$eq": "Build"}}, "limit": 5, "offset": 10}));
        let c = build(
            "upsert_record",
            json!({"object": "companies", "matching_attribute": "domains", "values": {"domains": ["a.com"]}}),
        )
        .unwrap();
        assert_eq!(
            (c.method, c.path.as_str()),
            (Method::PUT, "/v2/objects/companies/records?matching_attribute=domains")
        );
        let c =
            build("update_record", json!({"object": "deals", "record_id": "r1", "values": {}, "mode": "overwrite"}))
                .unwrap();
        assert_eq!(c.method, Method::PUT);
        let c = build("list_notes", json!({"parent_object": "people", "parent_record_id": "p1", "limit": 5})).unwrap();
        assert_eq!(c.path, "/v2/notes?limit=5&parent_object=people&parent_record_id=p1");
        let c = build("create_task", json!({"content": "Call", "assignee_ids": ["m1"]})).unwrap();
        assert_eq!(c.body.unwrap()["data"]["assignees"][0]["referenced_actor_id"], "m1");
    }

    #[test]
    fn arguments_cannot_escape_the_api_prefix() {
        for id in ["../../admin", "..", ".", "a/b", "a%2fb", "x?y=1", "x#y", "http://evil.test"] {
            match build("get_record", json!({"object": "people", "record_id": id})) {
                Ok(c) => {
                    let tail = c.path.strip_prefix("/v2/objects/people/records/").expect("prefix kept");
                    assert!(!tail.contains(['/', '?', '#']), "{id} -> {}", c.path);
                }
                Err(e) => assert!(e.contains("not allowed"), "{id}: {e}"),
            }
        }
        assert!(build("get_record", json!({"object": "..", "record_id": "x"})).is_err());
    }

    #[test]
    fn bad_arguments_say_what_is_wrong() {
        assert_eq!(build("get_record", json!({"object": "people"})).unwrap_err(), "\"record_id\" is required");
        assert!(build("query_records", json!({"object": "people", "filter": "name=x"}))
            .unwrap_err()
            .contains("filter"));
        assert!(build("query_records", json!({"object": "people", "limit": 9999})).unwrap_err().contains("limit"));
        assert!(build("list_attributes", json!({})).unwrap_err().contains("exactly one"));
        assert!(build("update_task", json!({"task_id": "t"})).unwrap_err().contains("at least one"));
        assert!(build("whoami", json!([1])).is_err());
    }
}
