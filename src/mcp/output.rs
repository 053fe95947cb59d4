//! What each tool returns, declared as its `outputSchema` (MCP 2025-06-18 §tools "Output
//! schema": a server that declares one returns `structuredContent` conforming to it). The
//! schemas describe the compact results of [`super::compact`]; with `raw: true` the same
//! envelope carries Attio's own items, which the item schemas admit (ids may then be Attio's
//! composite id objects). Every property says what it is; a test validates real results.
//!
//! Also the order of list items within a page where Attio's own order is not the useful one
//! (newest notes first, open tasks by deadline).

use serde_json::{json, Map, Value};

/// The kinds of items tools return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Record,
    SearchHit,
    Entry,
    /// One of a record's list entries (`list_record_entries`).
    Membership,
    Note,
    Task,
    Meeting,
    Recording,
    Thread,
    Comment,
    Option,
    List,
    Object,
    Attribute,
    Member,
}

/// The shape of a tool's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// `{data: [item], has_more, next_offset | next_cursor, note}`.
    List(Item),
    /// `{data: item}`.
    One(Item),
    /// `{deleted: true}`.
    Deleted,
    WhoAmI,
    Activity,
    Transcript,
}

fn d(kind: Value, description: &str) -> Value {
    let mut v = kind;
    v["description"] = json!(description);
    v
}

/// A text field. Compact results leave out what is empty; Attio's own (`raw: true`) may say null.
fn string(description: &str) -> Value {
    d(json!({"type": ["string", "null"]}), description)
}

/// An actor: `"<type>:<id>"` compact, Attio's `{type, id}` object raw.
fn actor(description: &str) -> Value {
    d(json!({"type": ["string", "object", "null"]}), description)
}

fn id(description: &str) -> Value {
    d(json!({"type": ["string", "object"]}), description)
}

/// An item schema: the properties a compact item may have, `id` required.
fn item(props: Value) -> Value {
    json!({"type": "object", "required": ["id"], "properties": props})
}

impl Item {
    pub fn schema(self) -> Value {
        let created_at = string("When it was created (ISO 8601).");
        let created_by = actor("Who created it, as \"<actor type>:<id>\" (a workspace-member id for people).");
        let values = d(
            json!({"type": "object"}),
            "Current attribute values by attribute slug, as plain values: text, numbers and dates as themselves; \
             select and status by title; currency as \"5000 USD\"; a record reference as {object, record_id}; \
             several values as an array. Empty attributes are left out.",
        );
        let linked = d(
            json!({"type": "array", "items": {"type": "object"}}),
            "Linked records, each {object (slug) or object_id, record_id}.",
        );
        match self {
            Item::Record => item(json!({
                "id": id("The record's id (a UUID)."), "object_id": string("The id of the record's object."),
                "web_url": string("The record in Attio's web app."), "values": values})),
            Item::SearchHit => item(json!({
                "id": id("The record's id (a UUID)."), "object_id": string("The id of the record's object."),
                "object_slug": string("The record's object, e.g. companies."), "record_text": string("The record's name."),
                "domains": d(json!({"type": "array"}), "The record's domains, for companies."),
                "email_addresses": d(json!({"type": "array"}), "The record's email addresses, for people."),
                "record_image": string("A picture of the record.")})),
            Item::Entry => item(json!({
                "id": id("The entry's id (a UUID)."), "list_id": string("The id of the list the entry is in."),
                "parent_object": string("The object of the record the entry holds."),
                "parent_record_id": string("The id of the record the entry holds."), "values": values})),
            Item::Membership => json!({"type": "object", "required": ["entry_id", "list_id"], "properties": {
                "entry_id": string("The list entry's id (a UUID)."), "list_id": string("The list's id."),
                "list_api_slug": string("The list's slug."), "created_at": string("When the record was added to the list.")}}),
            Item::Note => item(json!({
                "id": id("The note's id (a UUID)."), "title": string("The note's title."),
                "content": string("The note's text (Markdown when Attio has it)."),
                "parent_object": string("The object of the record the note is on."),
                "parent_record_id": string("The record the note is on."), "meeting_id": string("The meeting the note belongs to, if any."),
                "tags": d(json!({"type": "array"}), "Members and records tagged in the note."),
                "created_by": created_by, "created_at": created_at})),
            Item::Task => item(json!({
                "id": id("The task's id (a UUID)."), "content": string("What is to be done."),
                "deadline_at": string("When it is due (ISO 8601); absent when it has no deadline."),
                "is_completed": d(json!({"type": "boolean"}), "Whether it is done."),
                "assignees": d(json!({"type": "array"}), "Who it is assigned to, as \"workspace-member:<id>\"."),
                "linked_records": linked, "created_by": created_by, "created_at": created_at})),
            Item::Meeting => item(json!({
                "id": id("The meeting's id (a UUID)."), "title": string("The meeting's title."),
                "description": string("The meeting's description."),
                "start": id("When it starts: an ISO 8601 time, or a date for all-day meetings."),
                "end": id("When it ends: an ISO 8601 time, or a date for all-day meetings."),
                "is_all_day": d(json!({"type": "boolean"}), "Whether it is an all-day meeting."),
                "participants": d(json!({"type": "array"}), "Participants as \"email (organizer, response)\"."),
                "linked_records": linked, "created_by": created_by, "created_at": created_at})),
            Item::Recording => item(json!({
                "id": id("The call recording's id (a UUID)."), "meeting_id": string("The meeting it recorded."),
                "status": string("processing, completed (a transcript exists) or failed."),
                "web_url": string("The recording in Attio's web app."), "created_by": created_by, "created_at": created_at})),
            Item::Thread => item(json!({
                "id": id("The thread's id (a UUID)."), "created_at": created_at,
                "comments": d(json!({"type": "array", "items": Item::Comment.schema()}), "The thread's comments, oldest first.")})),
            Item::Comment => item(json!({
                "id": id("The comment's id (a UUID)."), "thread_id": string("The thread it belongs to."),
                "content": string("The comment's text."), "author": actor("Who wrote it, as \"workspace-member:<id>\"."),
                "record": d(json!({"type": ["object", "null"]}), "The record it is on: {object_id, record_id}."),
                "entry": d(json!({"type": ["object", "null"]}), "The list entry it is on: {list_id, entry_id}."),
                "resolved_at": string("When the thread was resolved, if it was."),
                "resolved_by": actor("Who resolved it."), "created_at": created_at})),
            Item::Option => item(json!({
                "id": id("The option's or status's id."), "title": string("The title to use in filters and values."),
                "is_archived": d(json!({"type": "boolean"}), "Archived options can no longer be chosen."),
                "target_time_in_status": string("For statuses: how long an entry should stay in it."),
                "celebration_enabled": d(json!({"type": "boolean"}), "For statuses: whether reaching it is celebrated.")})),
            Item::List => item(json!({
                "id": id("The list's id."), "api_slug": string("The list's slug, for the list arguments."),
                "name": string("The list's name."), "parent_object": d(json!({"type": ["array", "string"]}), "The object(s) whose records the list holds."),
                "workspace_access": string("Access for the whole workspace."), "created_by": created_by, "created_at": created_at})),
            Item::Object => item(json!({
                "id": id("The object's id."), "api_slug": string("The object's slug, for the object arguments."),
                "singular_noun": string("What one record is called."), "plural_noun": string("What records are called."),
                "created_at": created_at})),
            Item::Attribute => item(json!({
                "id": id("The attribute's id."), "api_slug": string("The attribute's slug: the key in values and filters."),
                "title": string("The attribute's name."), "type": string("Its type: text, number, select, status, record-reference, …"),
                "is_multiselect": d(json!({"type": "boolean"}), "Whether it holds several values."),
                "is_unique": d(json!({"type": "boolean"}), "Whether its values are unique (usable as upsert_record's matching_attribute)."),
                "is_required": d(json!({"type": "boolean"}), "Whether a record must have it."),
                "is_writable": d(json!({"type": "boolean"}), "Whether it can be written.")})),
            Item::Member => item(json!({
                "id": id("The member's id (a UUID): use it to assign tasks."), "first_name": string("First name."),
                "last_name": string("Last name."), "email_address": string("Email address (also usable to assign tasks)."),
                "access_level": string("admin, member or suspended."), "avatar_url": string("Picture."), "created_at": created_at})),
        }
    }

    /// Puts a page's items in the order an agent wants when Attio's is not it.
    pub fn order(self, items: &mut [Value]) {
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        match self {
            // Newest first (ISO 8601 strings sort as times).
            Item::Note => items.sort_by_key(|n| std::cmp::Reverse(text(n, "created_at"))),
            // Open before done; by deadline, soonest first, none last.
            Item::Task => items.sort_by_key(|t| {
                let done = t.get("is_completed").and_then(Value::as_bool) == Some(true);
                let deadline = text(t, "deadline_at");
                (done, deadline.is_empty(), deadline)
            }),
            _ => {}
        }
    }
}

fn envelope(props: Value, required: &[&str]) -> Value {
    json!({"type": "object", "properties": props, "required": required})
}

fn list_of(items: Value, what: &str) -> Value {
    envelope(
        json!({
            "data": d(json!({"type": "array", "items": items}), what),
            "has_more": d(json!({"type": "boolean"}), "Whether more items follow this page."),
            "next_offset": d(json!({"type": "integer"}), "When has_more: the offset argument for the next page."),
            "next_cursor": string("When has_more: the cursor argument for the next page."),
            "note": string("Present when the answer was cut to fit: how to get the rest."),
        }),
        &["data", "has_more"],
    )
}

impl Output {
    pub fn schema(self) -> Value {
        match self {
            Output::List(i) => list_of(i.schema(), "The items of this page."),
            Output::One(i) => envelope(json!({"data": d(i.schema(), "The item.")}), &["data"]),
            Output::Deleted => {
                envelope(json!({"deleted": d(json!({"type": "boolean"}), "true: it is gone.")}), &["deleted"])
            }
            Output::WhoAmI => envelope(
                json!({"data": d(json!({"type": "object", "required": ["workspace_id"], "properties": {
                    "workspace_id": string("The connected workspace's id."),
                    "workspace_name": string("The workspace's name."),
                    "workspace_slug": string("The workspace's slug (as in app.attio.com/<slug>)."),
                    "member": d(json!({"type": "object", "properties": {
                        "id": string("Your workspace member id: use it (or the email) to assign tasks to yourself."),
                        "name": string("Your name."), "email": string("Your email address."),
                        "access_level": string("admin, member or suspended.")}}), "The member who connected Attio."),
                    "attio_scopes": d(json!({"type": "array", "items": {"type": "string"}}), "The Attio scopes the connection has."),
                    "tool_access": string("read-write, or read-only when this grant may not change data."),
                    "acting_as": string("Whom Attio sees calling: the member, or the whole workspace in owner mode.")}}),
                    "Who and where you are in Attio.")}),
                &["data"],
            ),
            Output::Activity => {
                let mut schema = list_of(
                    json!({"type": "object", "required": ["at", "kind", "id"], "properties": {
                        "at": string("When it happened (ISO 8601): created, started or last commented."),
                        "kind": string("note, task, meeting, comment_thread or list_entry."),
                        "id": string("The item's id, for get_note, get_task, get_meeting, get_comment_thread or get_list_entry."),
                        "summary": string("One line: title, text or what changed."),
                        "detail": d(json!({"type": "object"}), "The item's most useful fields (deadline, participants, recordings, list, …).")}}),
                    "Events, newest first.",
                );
                schema["properties"]["since"] =
                    string("The window's start: older items are left out (open tasks never are).");
                schema["properties"]["older"] =
                    string("Present when the window hides older items: how many, and how to see them.");
                schema["properties"]["skipped"] =
                    d(json!({"type": "array", "items": {"type": "string"}}), "Parts that could not be read, and why.");
                schema
            }
            Output::Transcript => envelope(
                json!({
                    "data": d(json!({"type": "object", "required": ["id"], "properties": {
                        "id": id("The call recording's id."), "meeting_id": string("The meeting."),
                        "web_url": string("The recording in Attio's web app."),
                        "note": string("Present when a turn longer than the page goes on in the next."),
                        "transcript": d(json!({"type": "array", "items": {"type": ["string", "object"]}}), "Speaker turns of this page, one line each: \"[mm:ss] Speaker: words\".")}}),
                        "A page of the transcript."),
                    "has_more": d(json!({"type": "boolean"}), "Whether more of the transcript follows."),
                    "next_cursor": string("When has_more: the cursor argument for the next page."),
                }),
                &["data", "has_more"],
            ),
        }
    }
}

/// The structured result for an answer: Attio's `{data}` envelope as is, an empty answer to a
/// delete as `{deleted: true}`, anything else under `data`.
pub fn envelope_for(output: Output, answer: Value) -> Value {
    match (output, answer) {
        (Output::Deleted, _) => json!({"deleted": true}),
        (_, Value::Object(m)) if m.contains_key("data") => Value::Object(m),
        (_, other) => {
            let mut m = Map::new();
            m.insert("data".into(), other);
            Value::Object(m)
        }
    }
}
