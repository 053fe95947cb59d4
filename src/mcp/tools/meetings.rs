//! Tools on meetings, their call recordings and transcripts (Attio REST v2 "Meetings",
//! "Call recordings"). These endpoints page by Attio's cursor, which results pass on as
//! `next_cursor`.

use http::Method;
use serde_json::json;

use super::super::arguments::*;
use super::super::output::{Item, Output};
use super::{cursor_paging, one, tool, Plan, Tool};
use super::{MEETINGS, RECORDINGS, RECORDS};

pub(super) static TOOLS: &[Tool] = &[
    tool!("list_meetings", "List meetings", "Meetings, optionally linked to a record, with some participants or in a time window. Newest first; with ends_from earliest first (upcoming: ends_from now).",
    write: false, destructive: false, idempotent: true, scopes: &[MEETINGS, RECORDS], output: Output::List(Item::Meeting),
    || schema(json!({
        "linked_object": {"type": "string", "description": "With linked_record_id: the record's object, e.g. companies."},
        "linked_record_id": {"type": "string", "description": "With linked_object: only meetings linked to this record."},
        "participants": {"type": "array", "maxItems": 20, "items": {"type": "string", "format": "email"}, "description": "Only meetings with one of these emails taking part."},
        "ends_from": {"type": "string", "description": "Only meetings ending at or after this time."},
        "starts_before": {"type": "string", "description": "Only meetings starting before this time."},
        "sort": {"type": "string", "enum": ["start_asc", "start_desc"], "description": "By start: start_asc or start_desc (default start_asc with ends_from, else start_desc)."},
        "limit": {"type": "integer", "minimum": 1, "maximum": 200}, "cursor": {"type": "string"}}), &[]),
    |a| {
        let mut q = cursor_paging(a, 200)?;
        if opt_string(a, "linked_object")?.is_some() != opt_string(a, "linked_record_id")?.is_some() {
            return Err("give linked_object and linked_record_id together".into());
        }
        for k in ["linked_object", "linked_record_id"] {
            if let Some(v) = opt_string(a, k)? { q.push((k, v.to_string())); }
        }
        if let Some(p) = strings(a, "participants")? {
            if let Some(bad) = p.iter().find(|e| !e.contains('@')) {
                return Err(format!("\"participants\" are email addresses; {bad:?} is not one"));
            }
            q.push(("participants", p.join(",")));
        }
        let ends_from = opt_time(a, "ends_from")?;
        if let Some(t) = ends_from { q.push(("ends_from", t.to_string())); }
        if let Some(t) = opt_time(a, "starts_before")? { q.push(("starts_before", t.to_string())); }
        let sort = match opt_string(a, "sort")? {
            Some(s @ ("start_asc" | "start_desc")) => s,
            Some(other) => return Err(format!("\"sort\" must be start_asc or start_desc, not {other:?}")),
            None if ends_from.is_some() => "start_asc",
            None => "start_desc",
        };
        q.push(("sort", sort.to_string()));
        one(Method::GET, "/v2/meetings".into(), &q, None)
    }),
    tool!("get_meeting", "Get a meeting", "One meeting: title, description, start and end, participants and linked records.",
        write: false, destructive: false, idempotent: true, scopes: &[MEETINGS, RECORDS], output: Output::One(Item::Meeting),
        || schema(json!({"meeting_id": {"type": "string"}}), &["meeting_id"]),
        |a| one(Method::GET, format!("/v2/meetings/{}", seg(a, "meeting_id")?), &[], None)),
    tool!("list_call_recordings", "List call recordings", "The call recordings of a meeting, with their status \
        (a transcript exists once completed).",
        write: false, destructive: false, idempotent: true, scopes: &[MEETINGS, RECORDINGS], output: Output::List(Item::Recording),
        || schema(json!({"meeting_id": {"type": "string"}, "limit": {"type": "integer", "minimum": 1, "maximum": 200}, "cursor": {"type": "string"}}), &["meeting_id"]),
        |a| one(Method::GET, format!("/v2/meetings/{}/call_recordings", seg(a, "meeting_id")?), &cursor_paging(a, 200)?, None)),
    tool!("get_call_recording", "Get a call recording", "One call recording of a meeting: status and link.",
        write: false, destructive: false, idempotent: true, scopes: &[MEETINGS, RECORDINGS], output: Output::One(Item::Recording),
        || schema(json!({"meeting_id": {"type": "string"}, "call_recording_id": {"type": "string"}}), &["meeting_id", "call_recording_id"]),
        |a| one(Method::GET, format!("/v2/meetings/{}/call_recordings/{}", seg(a, "meeting_id")?, seg(a, "call_recording_id")?), &[], None)),
    tool!("get_transcript", "Get a call transcript", "A call recording's transcript, one \"[mm:ss] Speaker: words\" line per turn, a page of whole turns at a time.",
    write: false, destructive: false, idempotent: true, scopes: &[MEETINGS, RECORDINGS], output: Output::Transcript,
    || schema(json!({"meeting_id": {"type": "string"}, "call_recording_id": {"type": "string"}, "cursor": {"type": "string"}}), &["meeting_id", "call_recording_id"]),
    |a| {
        let path = format!("/v2/meetings/{}/call_recordings/{}/transcript", seg(a, "meeting_id")?, seg(a, "call_recording_id")?);
        Ok(Plan::Transcript(super::super::transcript::Request::new(path, opt_string(a, "cursor")?)))
    }),
];
