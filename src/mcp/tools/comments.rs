//! Tools on comment threads and comments (Attio REST v2 "Threads", "Comments"). Comments are
//! written as the connected member: Attio takes no other author.

use http::Method;
use serde_json::{json, Map, Value};

use super::super::arguments::*;
use super::super::output::{Item, Output};
use super::{call, one, paging, tool, AsMember, Plan, Tool};
use super::{COMMENTS, COMMENTS_WRITE, ENTRIES, LISTS, OBJECTS, RECORDS};

/// A comment's text: Attio documents no limit; this keeps one call's body bounded.
const COMMENT_MAX: usize = 10_000;

/// Threads on records need the record scopes, threads on entries the list ones (Attio's notes).
const READ_SCOPES: &[&str] = &[COMMENTS, OBJECTS, RECORDS, LISTS, ENTRIES];
const WRITE_SCOPES: &[&str] = &[COMMENTS_WRITE, OBJECTS, RECORDS, LISTS, ENTRIES];

const ON_RECORD: &[&str] = &["object", "record_id"];
const ON_ENTRY: &[&str] = &["list", "entry_id"];

fn place_props(mut extra: Map<String, Value>) -> Value {
    extra.insert(
        "object".into(),
        json!({"type": "string", "description": "With record_id: the record's object slug, e.g. companies."}),
    );
    extra.insert("record_id".into(), json!({"type": "string", "description": "With object: the record."}));
    extra.insert(
        "list".into(),
        json!({"type": "string", "description": "With entry_id: the list slug or id of the entry."}),
    );
    extra.insert("entry_id".into(), json!({"type": "string", "description": "With list: the list entry."}));
    Value::Object(extra)
}

/// Both arguments of a pair, or neither: a record is `object` + `record_id`.
fn pair<'a>(a: &'a Map<String, Value>, keys: &[&str]) -> Result<Option<(&'a str, &'a str)>, String> {
    match (opt_string(a, keys[0])?, opt_string(a, keys[1])?) {
        (Some(x), Some(y)) => Ok(Some((x, y))),
        (None, None) => Ok(None),
        _ => Err(format!("give {} and {} together", keys[0], keys[1])),
    }
}

pub(super) static TOOLS: &[Tool] = &[
    tool!("list_comment_threads", "List comment threads", "The comment threads on a record or on a list entry, each \
    with its comments.",
    write: false, destructive: false, idempotent: true, scopes: READ_SCOPES, output: Output::List(Item::Thread),
    || {
        let mut extra = Map::new();
        extra.insert("limit".into(), json!({"type": "integer", "minimum": 1, "maximum": 50}));
        extra.insert("offset".into(), json!({"type": "integer", "minimum": 0}));
        schema_one_of(place_props(extra), &[], &[ON_RECORD, ON_ENTRY])
    },
    |a| {
        let mut q = paging(a, 50)?;
        match exactly_one(a, &[ON_RECORD, ON_ENTRY])? {
            0 => { let (o, r) = pair(a, ON_RECORD)?.ok_or("give object and record_id together")?; q.push(("object", o.into())); q.push(("record_id", r.into())); }
            _ => { let (l, e) = pair(a, ON_ENTRY)?.ok_or("give list and entry_id together")?; q.push(("list", l.into())); q.push(("entry_id", e.into())); }
        }
        one(Method::GET, "/v2/threads".into(), &q, None)
    }),
    tool!("get_comment_thread", "Get a comment thread", "One comment thread with all its comments, oldest first.",
        write: false, destructive: false, idempotent: true, scopes: READ_SCOPES, output: Output::One(Item::Thread),
        || schema(json!({"thread_id": {"type": "string"}}), &["thread_id"]),
        |a| one(Method::GET, format!("/v2/threads/{}", seg(a, "thread_id")?), &[], None)),
    tool!("create_comment", "Comment", "Comment on a record or list entry (a new thread) or reply in a thread. Mention a member by writing their email.",
    write: true, destructive: false, idempotent: false, scopes: WRITE_SCOPES, output: Output::One(Item::Comment),
    || {
        let mut extra = Map::new();
        extra.insert("content".into(), json!({"type": "string", "maxLength": COMMENT_MAX, "description": "The comment, plain text."}));
        extra.insert("thread_id".into(), json!({"type": "string", "description": "Reply in this thread (instead of object or list)."}));
        schema_one_of(place_props(extra), &["content"], &[&["thread_id"], ON_RECORD, ON_ENTRY])
    },
    |a| {
        let mut data = json!({"format": "plaintext", "content": text(a, "content", COMMENT_MAX)?, "author": {"type": "workspace-member", "id": ""}});
        match exactly_one(a, &[&["thread_id"], ON_RECORD, ON_ENTRY])? {
            0 => data["thread_id"] = json!(string(a, "thread_id")?),
            1 => { let (o, r) = pair(a, ON_RECORD)?.ok_or("give object and record_id together")?; data["record"] = json!({"object": o, "record_id": r}); }
            _ => { let (l, e) = pair(a, ON_ENTRY)?.ok_or("give list and entry_id together")?; data["entry"] = json!({"list": l, "entry_id": e}); }
        }
        let mut c = call(Method::POST, "/v2/comments".into(), &[], Some(json!({"data": data})))?;
        c.as_member = Some(AsMember::Author);
        Ok(Plan::One(c))
    }),
    tool!("delete_comment", "Delete a comment", "Delete a comment permanently (deleting a thread's first comment \
        deletes the whole thread).",
        write: true, destructive: true, idempotent: true, scopes: &[COMMENTS_WRITE], output: Output::Deleted,
        || schema(json!({"comment_id": {"type": "string"}}), &["comment_id"]),
        |a| one(Method::DELETE, format!("/v2/comments/{}", seg(a, "comment_id")?), &[], None)),
];
