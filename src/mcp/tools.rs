//! The Attio tools: a general set that works on any object or list, standard or custom, the
//! way Attio's own API does, plus meetings, call recordings, comments and a record's activity.
//! Each tool is a row: name, description, JSON-Schema input, the shape of its result
//! ([`super::output::Output`]), the Attio scopes it needs (from Attio's OpenAPI `security`
//! lists), annotations (`readOnlyHint`, `destructiveHint`, `idempotentHint`) and a function that
//! turns arguments into a [`Plan`]: usually one Attio request ([`Call`]). The rows live in one
//! file per area under `tools/`; executing and rendering live in [`super::call`]. Pure.

mod comments;
mod lists;
mod meetings;
mod notes_tasks;
mod records;

use std::sync::OnceLock;

use http::Method;
use serde_json::{json, Map, Value};

use super::arguments::*;
use super::output::{Item, Output};
use crate::oauth::tool_groups::Group;

/// The argument every tool takes: Attio's own JSON instead of the compact result.
pub const RAW: &str = "raw";
/// The argument of record and entry tools that keeps only some attribute values.
pub const ATTRIBUTES: &str = "attributes";

pub use super::fetch::{AsMember, Call};

/// What running a tool takes.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// One Attio request; its answer, compacted, is the result.
    One(Call),
    /// The select options of an attribute, or its statuses when it is a status attribute
    /// (Attio has one endpoint for each; the agent need not know which applies).
    Options { options: Call, statuses: Call },
    /// The workspace and the connected member (`/v2/self`, then the member's name and email).
    WhoAmI,
    /// A record's recent activity, from several Attio requests ([`super::activity`]).
    Activity(super::activity::Request),
    /// A page of a call transcript in whole speaker turns ([`super::transcript`]).
    Transcript(super::transcript::Request),
}

impl Plan {
    fn one(call: Call) -> Self {
        Plan::One(call)
    }
}

pub struct Tool {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub write: bool,
    pub destructive: bool,
    pub idempotent: bool,
    /// Attio scopes the tool's requests need, as Attio's OpenAPI lists them.
    pub scopes: &'static [&'static str],
    pub output: Output,
    schema: fn() -> Value,
    build: fn(&Map<String, Value>) -> Result<Plan, String>,
}

impl std::fmt::Debug for Tool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl Tool {
    /// The tool's own input schema, built once per isolate: the rows are static, and a tool call
    /// reads it (unknown arguments, paging, mirrored headers) on the hot path.
    fn schema(&self) -> &'static Value {
        static SCHEMAS: OnceLock<Vec<(&'static str, Value)>> = OnceLock::new();
        static NONE: Value = Value::Null;
        let schemas = SCHEMAS.get_or_init(|| all().map(|t| (t.name, (t.schema)())).collect());
        schemas.iter().find(|(name, _)| *name == self.name).map_or(&NONE, |(_, schema)| schema)
    }

    /// The tool group a grant must include to use the tool (`None`: every grant may), by the
    /// Attio area of its first scope.
    pub fn group(&self) -> Option<Group> {
        let base = self.scopes.first()?.split(':').next()?;
        match base {
            "record_permission" | "object_configuration" => Some(Group::Records),
            "list_configuration" | "list_entry" => Some(Group::Lists),
            "note" => Some(Group::Notes),
            "task" => Some(Group::Tasks),
            "meeting" | "call_recording" => Some(Group::Meetings),
            "comment" => Some(Group::Comments),
            _ => None,
        }
    }

    /// Whether a grant with these groups may use the tool.
    pub fn allowed_for(&self, groups: &[Group]) -> bool {
        self.group().is_none_or(|g| groups.contains(&g))
    }

    /// Whether the tool pages with `limit` and `offset`.
    pub fn pages(&self) -> bool {
        let schema = self.schema();
        let props = schema.get("properties");
        props.and_then(|p| p.get("offset")).is_some() && props.and_then(|p| p.get("limit")).is_some()
    }

    /// The tool's input schema. Every tool accepts `raw`; it is declared where Attio's own JSON
    /// says more than the compact result (records and entries: every value with its history),
    /// so the other tools' schemas stay short in every conversation.
    pub fn input_schema(&self) -> Value {
        let mut schema = self.schema().clone();
        let raw_says_more =
            matches!(self.output, Output::List(Item::Record | Item::Entry) | Output::One(Item::Record | Item::Entry));
        if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut).filter(|_| raw_says_more) {
            props.insert(
                RAW.into(),
                json!({"type": "boolean", "description": "true: Attio's own JSON, with value history (far larger)."}),
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
            "outputSchema": self.output.schema(),
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
        let schema = self.schema();
        let Some(props) = schema.get("properties").and_then(Value::as_object) else { return Vec::new() };
        props
            .iter()
            .filter_map(|(k, v)| v.get("x-mcp-header").and_then(Value::as_str).map(|h| (k.clone(), h.to_string())))
            .collect()
    }

    pub fn build(&self, args: &Value) -> Result<Plan, String> {
        let empty = Map::new();
        let args = match args {
            Value::Object(m) => m,
            Value::Null => &empty,
            _ => return Err("arguments must be an object".into()),
        };
        // An argument the tool does not know would be silently ignored (and, say, a note filter
        // misspelled would list every note of the workspace): refused, by name.
        let schema = self.schema();
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
        if let Some(v) = args.get(RAW).filter(|v| !v.is_null() && !v.is_boolean()) {
            return Err(format!("\"raw\" must be true or false, not {v}"));
        }
        strings(args, ATTRIBUTES)?;
        (self.build)(args)
    }
}

/// Every tool, in the order `tools/list` shows them.
pub fn all() -> impl Iterator<Item = &'static Tool> {
    [records::TOOLS, lists::TOOLS, notes_tasks::TOOLS, meetings::TOOLS, comments::TOOLS].into_iter().flatten()
}

pub fn find(name: &str) -> Option<&'static Tool> {
    all().find(|t| t.name == name)
}

/// The Attio scopes the deployer gives the Attio app, each with the tools that need it: the
/// strongest form any tool needs (`read-write` covers `read`).
pub fn scope_table() -> Vec<(String, Vec<&'static str>)> {
    let mut table: Vec<(String, Vec<&'static str>)> = Vec::new();
    for tool in all() {
        for scope in tool.scopes {
            let base = scope.rsplit_once(':').map_or(*scope, |(b, _)| b);
            let row = match table.iter().position(|(s, _)| s.rsplit_once(':').map_or(s.as_str(), |(b, _)| b) == base) {
                Some(i) => &mut table[i],
                None => {
                    table.push((scope.to_string(), Vec::new()));
                    let last = table.len() - 1;
                    &mut table[last]
                }
            };
            if scope.ends_with(":read-write") {
                row.0 = scope.to_string();
            }
            if !row.1.contains(&tool.name) {
                row.1.push(tool.name);
            }
        }
    }
    table
}

fn call(method: Method, path: String, query: &[(&str, String)], body: Option<Value>) -> Result<Call, String> {
    Call::new(method, &path, query, body)
}

/// One request as the whole plan: what most tools make.
fn one(method: Method, path: String, query: &[(&str, String)], body: Option<Value>) -> Result<Plan, String> {
    call(method, path, query, body).map(Plan::one)
}

// Attio scopes, as its OpenAPI spec names them per endpoint.
const OBJECTS: &str = "object_configuration:read";
const RECORDS: &str = "record_permission:read";
const RECORDS_WRITE: &str = "record_permission:read-write";
const LISTS: &str = "list_configuration:read";
const ENTRIES: &str = "list_entry:read";
const ENTRIES_WRITE: &str = "list_entry:read-write";
const MEMBERS: &str = "user_management:read";
const NOTES: &str = "note:read";
const NOTES_WRITE: &str = "note:read-write";
const TASKS: &str = "task:read";
const TASKS_WRITE: &str = "task:read-write";
const MEETINGS: &str = "meeting:read";
const RECORDINGS: &str = "call_recording:read";
const COMMENTS: &str = "comment:read";
const COMMENTS_WRITE: &str = "comment:read-write";

/// The page size when the agent names none: enough to act on, cheap to read.
pub const DEFAULT_LIMIT: u64 = 25;

/// `limit` (always: Attio's own defaults run to 500, oldest first) and `offset` as query pairs.
fn paging(args: &Map<String, Value>, max: u64) -> Result<Vec<(&'static str, String)>, String> {
    let mut q = vec![("limit", count(args, "limit", max)?.unwrap_or(DEFAULT_LIMIT.min(max)).to_string())];
    if let Some(o) = count(args, "offset", 1_000_000)? {
        q.push(("offset", o.to_string()));
    }
    Ok(q)
}

/// `limit` and Attio's `cursor` as query pairs, for the endpoints that page by cursor.
fn cursor_paging(args: &Map<String, Value>, max: u64) -> Result<Vec<(&'static str, String)>, String> {
    let mut q = vec![("limit", count(args, "limit", max)?.unwrap_or(DEFAULT_LIMIT.min(max)).to_string())];
    if let Some(c) = opt_string(args, "cursor")? {
        q.push(("cursor", c.to_string()));
    }
    Ok(q)
}

/// A tool row; fields named so a row reads as a sentence.
macro_rules! tool {
    ($name:literal, $title:literal, $desc:expr, write: $w:literal, destructive: $d:literal, idempotent: $i:literal,
     scopes: $scopes:expr, output: $output:expr, $schema:expr, $build:expr) => {
        $crate::mcp::tools::Tool {
            name: $name,
            title: $title,
            description: $desc,
            write: $w,
            destructive: $d,
            idempotent: $i,
            scopes: $scopes,
            output: $output,
            schema: $schema,
            build: $build,
        }
    };
}
use tool;

#[cfg(test)]
mod tests {
    use super::*;

    fn build(name: &str, args: Value) -> Result<Call, String> {
        match find(name).unwrap().build(&args)? {
            Plan::One(call) => Ok(call),
            other => panic!("{name}: not one call: {other:?}"),
        }
    }

    #[test]
    fn every_tool_is_described_with_schemas_scopes_and_annotations() {
        let mut names: Vec<&str> = all().map(|t| t.name).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "unique names");
        for t in all() {
            let d = t.describe();
            assert_eq!(d["inputSchema"]["type"], "object", "{}", t.name);
            assert_eq!(d["outputSchema"]["type"], "object", "{}", t.name);
            assert!(d["outputSchema"]["required"].as_array().is_some_and(|r| !r.is_empty()), "{}", t.name);
            assert_eq!(d["annotations"]["readOnlyHint"], !t.write, "{}", t.name);
            assert!(t.description.len() > 20, "{}", t.name);
            assert!(!t.destructive || t.write, "{}: destructive implies write", t.name);
            assert!(!t.scopes.is_empty(), "{}: scopes", t.name);
            assert!(t.scopes.iter().all(|s| s.ends_with(":read") || s.ends_with(":read-write")), "{}", t.name);
            // A write tool needs a read-write scope; a read tool none.
            assert_eq!(t.write, t.scopes.iter().any(|s| s.ends_with(":read-write")), "{}", t.name);
        }
    }

    #[test]
    fn the_scope_table_names_the_strongest_scope_once() {
        let table = scope_table();
        let notes: Vec<_> = table.iter().filter(|(s, _)| s.starts_with("note:")).collect();
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].0, "note:read-write");
        assert!(notes[0].1.contains(&"list_notes") && notes[0].1.contains(&"create_note"));
        for scope in ["meeting:read", "call_recording:read", "comment:read-write", "user_management:read"] {
            assert!(table.iter().any(|(s, _)| s == scope), "{scope}");
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
    }

    #[test]
    fn the_new_endpoints_are_asked_as_attio_documents_them() {
        let c = build(
            "list_meetings",
            json!({"linked_object": "companies", "linked_record_id": "r1", "ends_from": "2026-11-01"}),
        )
        .unwrap();
        assert_eq!(
            c.path,
            "/v2/meetings?limit=25&linked_object=companies&linked_record_id=r1&ends_from=2026-11-01&sort=start_asc"
        );
        let c =
            build("list_meetings", json!({"participants": ["a@b.example", "c@d.example"], "cursor": "abc"})).unwrap();
        assert_eq!(
            c.path,
            "/v2/meetings?limit=25&cursor=abc&participants=a%40b.example%2Cc%40d.example&sort=start_desc"
        );
        match find("get_transcript")
            .unwrap()
            .build(&json!({"meeting_id": "m", "call_recording_id": "r", "cursor": "t1.2.n2"}))
        {
            Ok(Plan::Transcript(r)) => assert_eq!(
                (r.path.as_str(), r.cursor.as_deref(), r.skip),
                ("/v2/meetings/m/call_recordings/r/transcript", Some("n2"), 2)
            ),
            other => panic!("{other:?}"),
        }
        let c = build("list_comment_threads", json!({"list": "deals", "entry_id": "e"})).unwrap();
        assert_eq!(c.path, "/v2/threads?limit=25&list=deals&entry_id=e");
        let c = build("create_comment", json!({"content": "Hi", "object": "companies", "record_id": "r"})).unwrap();
        assert_eq!(
            (c.as_member, c.body.unwrap()["data"]["record"].clone()),
            (Some(AsMember::Author), json!({"object": "companies", "record_id": "r"}))
        );
        let c = build("list_record_entries", json!({"object": "companies", "record_id": "r"})).unwrap();
        assert_eq!(c.path, "/v2/objects/companies/records/r/entries?limit=25");
        match find("list_attribute_options").unwrap().build(&json!({"list": "deals", "attribute": "stage"})).unwrap() {
            Plan::Options { options, statuses } => {
                assert_eq!(options.path, "/v2/lists/deals/attributes/stage/options?show_archived=false");
                assert_eq!(statuses.path, "/v2/lists/deals/attributes/stage/statuses?show_archived=false");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(find("whoami").unwrap().build(&json!({})), Ok(Plan::WhoAmI)));
        match find("record_activity")
            .unwrap()
            .build(&json!({"object": "companies", "record_id": "r", "since": "2026-11-01T00:00:00Z"}))
            .unwrap()
        {
            Plan::Activity(r) => {
                assert_eq!((r.limit, r.offset, r.since.as_deref()), (DEFAULT_LIMIT, 0, Some("2026-11-01T00:00:00Z")))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tasks_take_assignees_by_id_or_email_and_typed_links() {
        let c = build(
            "create_task",
            json!({"content": "Call", "assignees": ["m1", "ada@acme.example"],
            "linked_records": [{"target_object": "companies", "target_record_id": "r1"}]}),
        )
        .unwrap();
        let data = &c.body.unwrap()["data"];
        assert_eq!(
            data["assignees"],
            json!([{"referenced_actor_type": "workspace-member", "referenced_actor_id": "m1"}, {"workspace_member_email_address": "ada@acme.example"}])
        );
        assert_eq!(data["linked_records"][0]["target_record_id"], "r1");
        let e =
            build("create_task", json!({"content": "Call", "linked_records": [{"object": "companies"}]})).unwrap_err();
        assert!(e.contains("unknown field \"object\"") && e.contains("target_object"), "{e}");
        let e = build("create_task", json!({"content": "x".repeat(2001)})).unwrap_err();
        assert!(e.contains("2001 characters") && e.contains("2000"), "{e}");
        assert!(build("create_task", json!({"content": "x".repeat(2000)})).is_ok());
        let e = build("update_task", json!({"task_id": "t", "deadline_at": "next friday"})).unwrap_err();
        assert!(e.contains("ISO 8601"), "{e}");
        let c = build("update_task", json!({"task_id": "t", "deadline_at": null})).unwrap();
        assert_eq!(c.body.unwrap()["data"], json!({"deadline_at": null}));
    }

    #[test]
    fn sorts_are_typed() {
        let ok =
            build("query_records", json!({"object": "people", "sorts": [{"attribute": "name", "direction": "desc"}]}));
        assert!(ok.is_ok());
        let e =
            build("query_records", json!({"object": "people", "sorts": [{"attribute": "name", "direction": "down"}]}))
                .unwrap_err();
        assert!(e.contains("direction") && e.contains("asc"), "{e}");
        let e = build("query_records", json!({"object": "people", "sorts": [{"direction": "asc"}]})).unwrap_err();
        assert!(e.contains("needs \"attribute\""), "{e}");
    }

    #[test]
    fn arguments_that_exclude_each_other_are_one_of() {
        assert!(find("list_attributes")
            .unwrap()
            .build(&json!({"object": "people", "list": "deals"}))
            .unwrap_err()
            .contains("only one"));
        assert!(find("list_attributes").unwrap().build(&json!({})).unwrap_err().contains("exactly one"));
        let e =
            build("create_comment", json!({"content": "x", "thread_id": "t", "object": "people", "record_id": "r"}))
                .unwrap_err();
        assert!(e.contains("only one"), "{e}");
        let e = build("list_comment_threads", json!({"object": "people"})).unwrap_err();
        assert!(e.contains("together"), "{e}");
        let schema = find("create_comment").unwrap().input_schema();
        assert_eq!(
            schema["oneOf"],
            json!([{"required": ["thread_id"]}, {"required": ["object", "record_id"]}, {"required": ["list", "entry_id"]}])
        );
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
        assert!(build("query_records", json!({"object": "people", "limit": 0})).unwrap_err().contains("from 1"));
        assert!(build("update_task", json!({"task_id": "t"})).unwrap_err().contains("at least one"));
        assert!(build("get_record", json!({"object": "people", "record_id": 7})).unwrap_err().contains("not a number"));
        assert!(build("get_record", json!({"object": "people", "record_id": "r", "raw": "yes"}))
            .unwrap_err()
            .contains("raw"));
        assert!(build("get_record", json!({"object": "people", "record_id": "r", "attributes": "name"}))
            .unwrap_err()
            .contains("attributes"));
        assert!(find("whoami").unwrap().build(&json!([1])).is_err());
    }
}
