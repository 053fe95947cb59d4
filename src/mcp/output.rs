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

fn id(description: &str) -> Value {
    d(json!({"type": ["string", "object"]}), description)
}

impl Item {
    /// The item's schema: an object with its id, its fields named in one description (a
    /// schema per field would triple `tools/list`, which every conversation pays for; the
    /// results are validated against these in the end-to-end tests).
    pub fn schema(self) -> Value {
        let (required, description): (&[&str], &str) = match self {
            Item::Record => (&["id"], "A record: id, object_id, web_url, values (current attribute values by slug, plain: \
                select and status by title, currency as \"5000 USD\", a reference as {object, record_id}, several \
                values as an array; empty ones left out)."),
            Item::SearchHit => (&["id"], "A match: id (the record's), object_id, object_slug, record_text (its name), \
                domains, email_addresses, record_image."),
            Item::Entry => (&["id"], "A list entry: id, list_id, parent_object and parent_record_id (the record it holds), \
                values (the entry's own attribute values, plain as in records)."),
            Item::Membership => (&["entry_id", "list_id"], "One of the record's list entries: entry_id, list_id, \
                list_api_slug, created_at."),
            Item::Note => (&["id"], "A note: id, title, content (Markdown when Attio has it), parent_object, \
                parent_record_id, meeting_id, tags, created_by (\"<actor type>:<id>\"), created_at."),
            Item::Task => (&["id"], "A task: id, content, deadline_at (absent: none), is_completed, assignees \
                (\"workspace-member:<id>\"), linked_records ({object, record_id}), created_by, created_at."),
            Item::Meeting => (&["id"], "A meeting: id, title, description, start and end (ISO 8601 times, or dates when \
                all day), is_all_day, participants (\"email (organizer, response)\"), linked_records, created_by, created_at."),
            Item::Recording => (&["id"], "A call recording: id, meeting_id, status (processing, completed: a transcript \
                exists, or failed), web_url, created_by, created_at."),
            Item::Thread => (&["id"], "A comment thread: id, created_at, comments (oldest first, each id, content, \
                author, resolved_at, created_at)."),
            Item::Comment => (&["id"], "A comment: id, thread_id, content, author (\"workspace-member:<id>\"), record \
                {object_id, record_id} or entry {list_id, entry_id}, resolved_at, resolved_by, created_at."),
            Item::Option => (&["id"], "A select option or status: id, title (use it in filters and values), is_archived; \
                statuses also target_time_in_status and celebration_enabled."),
            Item::List => (&["id"], "A list: id, api_slug (for the list arguments), name, parent_object, \
                workspace_access, created_by, created_at."),
            Item::Object => (&["id"], "An object: id, api_slug (for the object arguments), singular_noun, plural_noun, \
                created_at."),
            Item::Attribute => (&["id"], "An attribute: id, api_slug (the key in values and filters), title, type, \
                is_multiselect, is_unique (usable as upsert_record's matching_attribute), is_required, is_writable."),
            Item::Member => (&["id"], "A workspace member: id (use it to assign tasks), first_name, last_name, \
                email_address (also usable to assign tasks), access_level, avatar_url, created_at."),
        };
        json!({"type": "object", "required": required, "description": description})
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
            "has_more": d(json!({"type": "boolean"}), "More items follow."),
            "next_offset": d(json!({"type": "integer"}), "The offset of the next page."),
            "next_cursor": string("The cursor of the next page."),
            "note": string("Why the answer was cut, and how to get the rest."),
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
