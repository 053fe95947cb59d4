//! Tools on notes, tasks and workspace members (Attio REST v2 "Notes", "Tasks",
//! "Workspace members").

use http::Method;
use serde_json::{json, Map, Value};

use super::super::arguments::*;
use super::super::output::{Item, Output};
use super::{one, paging, tool, Tool};
use super::{MEMBERS, NOTES, NOTES_WRITE, OBJECTS, RECORDS, TASKS, TASKS_WRITE};

/// Attio's limit on a task's text.
const TASK_CONTENT_MAX: usize = 2_000;
/// A note's title and body: Attio documents no limit; these keep one call's body bounded.
const NOTE_TITLE_MAX: usize = 1_000;
const NOTE_CONTENT_MAX: usize = 100_000;

const TASK_SCOPES: &[&str] = &[TASKS, OBJECTS, RECORDS, MEMBERS];
const TASK_WRITE_SCOPES: &[&str] = &[TASKS_WRITE, OBJECTS, RECORDS, MEMBERS];

pub(super) static TOOLS: &[Tool] = &[
    tool!("list_notes", "List notes", "Notes, optionally only those on one record; each page newest first.",
    write: false, destructive: false, idempotent: true, scopes: &[NOTES, OBJECTS, RECORDS], output: Output::List(Item::Note),
    || schema(json!({"parent_object": {"type": "string", "description": "With parent_record_id: only notes on this record's object, e.g. companies."},
        "parent_record_id": {"type": "string", "description": "With parent_object: only notes on this record."},
        "limit": {"type": "integer", "minimum": 1, "maximum": 50}, "offset": {"type": "integer", "minimum": 0}}), &[]),
    |a| {
        let mut q = paging(a, 50)?;
        if let Some(o) = opt_string(a, "parent_object")? { q.push(("parent_object", o.to_string())); }
        if let Some(r) = opt_string(a, "parent_record_id")? { q.push(("parent_record_id", r.to_string())); }
        one(Method::GET, "/v2/notes".into(), &q, None)
    }),
    tool!("get_note", "Get a note", "One note with its full text.",
        write: false, destructive: false, idempotent: true, scopes: &[NOTES, OBJECTS, RECORDS], output: Output::One(Item::Note),
        || schema(json!({"note_id": {"type": "string"}}), &["note_id"]),
        |a| one(Method::GET, format!("/v2/notes/{}", seg(a, "note_id")?), &[], None)),
    tool!("create_note", "Create a note", "Add a note to a record.",
    write: true, destructive: false, idempotent: false, scopes: &[NOTES_WRITE, OBJECTS, RECORDS], output: Output::One(Item::Note),
    || schema(json!({"parent_object": {"type": "string"}, "parent_record_id": {"type": "string"}, "title": {"type": "string", "maxLength": NOTE_TITLE_MAX},
        "content": {"type": "string", "maxLength": NOTE_CONTENT_MAX}, "format": {"type": "string", "enum": ["plaintext", "markdown"]}}), &["parent_object", "parent_record_id", "title", "content"]),
    |a| {
        let format = match opt_string(a, "format")? {
            None => "plaintext",
            Some(f @ ("plaintext" | "markdown")) => f,
            Some(other) => return Err(format!("\"format\" must be \"plaintext\" or \"markdown\", not {other:?}")),
        };
        let body = json!({"data": {"parent_object": string(a, "parent_object")?, "parent_record_id": string(a, "parent_record_id")?,
            "title": text(a, "title", NOTE_TITLE_MAX)?, "content": text(a, "content", NOTE_CONTENT_MAX)?, "format": format}});
        one(Method::POST, "/v2/notes".into(), &[], Some(body))
    }),
    tool!("delete_note", "Delete a note", "Delete a note permanently.",
        write: true, destructive: true, idempotent: true, scopes: &[NOTES_WRITE], output: Output::Deleted,
        || schema(json!({"note_id": {"type": "string"}}), &["note_id"]),
        |a| one(Method::DELETE, format!("/v2/notes/{}", seg(a, "note_id")?), &[], None)),
    tool!("list_tasks", "List tasks", "Tasks, optionally linked to a record, assigned to a member (id or email) or (not) completed; open first, then by deadline.",
    write: false, destructive: false, idempotent: true, scopes: TASK_SCOPES, output: Output::List(Item::Task),
    || schema(json!({"linked_object": {"type": "string"}, "linked_record_id": {"type": "string"}, "assignee": {"type": "string"}, "is_completed": {"type": "boolean"},
        "limit": {"type": "integer", "minimum": 1, "maximum": 500}, "offset": {"type": "integer", "minimum": 0}}), &[]),
    |a| {
        let mut q = paging(a, 500)?;
        if opt_string(a, "linked_object")?.is_some() != opt_string(a, "linked_record_id")?.is_some() {
            return Err("give linked_object and linked_record_id together".into());
        }
        for k in ["linked_object", "linked_record_id", "assignee"] {
            if let Some(v) = opt_string(a, k)? { q.push((k, v.to_string())); }
        }
        if let Some(c) = opt_bool(a, "is_completed")? { q.push(("is_completed", c.to_string())); }
        one(Method::GET, "/v2/tasks".into(), &q, None)
    }),
    tool!("get_task", "Get a task", "One task: text, deadline, completion, assignees and linked records.",
        write: false, destructive: false, idempotent: true, scopes: TASK_SCOPES, output: Output::One(Item::Task),
        || schema(json!({"task_id": {"type": "string"}}), &["task_id"]),
        |a| one(Method::GET, format!("/v2/tasks/{}", seg(a, "task_id")?), &[], None)),
    tool!("create_task", "Create a task", "Create a task, optionally with a deadline, assignees (member ids or emails) and linked records.",
    write: true, destructive: false, idempotent: false, scopes: TASK_WRITE_SCOPES, output: Output::One(Item::Task),
    || schema(json!({"content": {"type": "string", "maxLength": TASK_CONTENT_MAX, "description": "What is to be done, plain text."},
        "deadline_at": {"type": ["string", "null"]}, "assignees": {"type": "array", "maxItems": 50, "items": {"type": "string"}}, "linked_records": linked_records_schema()}), &["content"]),
    |a| {
        let body = json!({"data": {"content": text(a, "content", TASK_CONTENT_MAX)?, "format": "plaintext", "deadline_at": opt_time(a, "deadline_at")?, "is_completed": false,
            "linked_records": typed_items(a, "linked_records", &linked_records_schema())?.unwrap_or(json!([])), "assignees": assignees(a)?}});
        one(Method::POST, "/v2/tasks".into(), &[], Some(body))
    }),
    tool!("update_task", "Update a task", "Complete or reopen, reschedule (null deadline_at clears it), reassign or relink a task; assignees and linked_records replace the current ones.",
    write: true, destructive: true, idempotent: true, scopes: TASK_WRITE_SCOPES, output: Output::One(Item::Task),
    || schema(json!({"task_id": {"type": "string"}, "is_completed": {"type": "boolean"}, "deadline_at": {"type": ["string", "null"]},
        "assignees": {"type": "array", "maxItems": 50, "items": {"type": "string"}}, "linked_records": linked_records_schema()}), &["task_id"]),
    |a| {
        let mut data = Map::new();
        if let Some(c) = opt_bool(a, "is_completed")? { data.insert("is_completed".into(), json!(c)); }
        if a.contains_key("deadline_at") { data.insert("deadline_at".into(), json!(opt_time(a, "deadline_at")?)); }
        if a.contains_key("assignees") { data.insert("assignees".into(), assignees(a)?); }
        if let Some(l) = typed_items(a, "linked_records", &linked_records_schema())? { data.insert("linked_records".into(), l); }
        if data.is_empty() { return Err("give at least one of is_completed, deadline_at, assignees, linked_records".into()); }
        one(Method::PATCH, format!("/v2/tasks/{}", seg(a, "task_id")?), &[], Some(json!({"data": data})))
    }),
    tool!("delete_task", "Delete a task", "Delete a task permanently.",
        write: true, destructive: true, idempotent: true, scopes: &[TASKS_WRITE], output: Output::Deleted,
        || schema(json!({"task_id": {"type": "string"}}), &["task_id"]),
        |a| one(Method::DELETE, format!("/v2/tasks/{}", seg(a, "task_id")?), &[], None)),
    tool!("list_workspace_members", "List workspace members", "People in the workspace: ids, names and emails, to \
        assign tasks to.",
        write: false, destructive: false, idempotent: true, scopes: &[MEMBERS], output: Output::List(Item::Member),
        || schema(json!({}), &[]),
        |_| one(Method::GET, "/v2/workspace_members".into(), &[], None)),
];

/// Assignees as Attio takes them: a member id, or (Attio's other form) a member's email.
fn assignees(a: &Map<String, Value>) -> Result<Value, String> {
    let items = strings(a, "assignees")?.unwrap_or_default();
    Ok(items
        .into_iter()
        .map(|s| {
            if s.contains('@') {
                json!({"workspace_member_email_address": s})
            } else {
                json!({"referenced_actor_type": "workspace-member", "referenced_actor_id": s})
            }
        })
        .collect())
}
