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
use crate::oauth::grants::tool_groups::Group;

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
mod tests;
