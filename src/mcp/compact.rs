//! Compact tool results: what an agent needs from Attio's answer, without what it pays for and
//! cannot use. Attio returns every attribute of a record as an array of value objects with their
//! history (`active_from`, `active_until`, `created_by_actor`, `attribute_type`), empty ones
//! included, under composite ids (`shared/reference/attio-api.md` §2.1).
//!
//! A record becomes `{"id", "object_id", "web_url", "values": {slug: plain value}}` and a list
//! entry `{"id", "list_id", "parent_object", "parent_record_id", "values"}`: current values only,
//! empty attributes dropped, one value as a scalar and several as an array. Plain values:
//! text, numbers, dates, checkboxes and ratings as themselves; select and status by title;
//! currency as `"5000 USD"`; names, emails, domains and phone numbers as their string; a
//! location as one line; an interaction as `"<type> <time>"`; an actor as `"<type>:<id>"`; a
//! record reference as `{"object", "record_id"}`. Other items (notes, tasks, lists, objects,
//! attributes, members) keep their fields with the composite id reduced to the item's own id.
//! `raw: true` on any tool returns Attio's JSON instead. Cutting a list to size is
//! [`super::paging`].

use serde_json::{json, Map, Value};

/// The fields every Attio value object carries besides its own.
const VALUE_METADATA: &[&str] = &["active_from", "active_until", "created_by_actor", "attribute_type"];

/// An Attio answer, compacted.
pub fn compact(answer: &Value) -> Value {
    match answer {
        Value::Object(top) => {
            let mut out = Map::new();
            for (k, v) in top {
                match k.as_str() {
                    "data" => {
                        out.insert(k.clone(), data(v));
                    }
                    // Attio's cursor: said once, beside has_more, and only when there is more.
                    "pagination" => {
                        let next = v.get("next_cursor").and_then(Value::as_str).filter(|c| !c.is_empty());
                        out.insert("has_more".into(), json!(next.is_some()));
                        if let Some(next) = next {
                            out.insert("next_cursor".into(), json!(next));
                        }
                    }
                    _ => {
                        out.insert(k.clone(), v.clone());
                    }
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn data(v: &Value) -> Value {
    match v {
        Value::Array(items) => Value::Array(items.iter().map(item).collect()),
        Value::Object(_) => item(v),
        other => other.clone(),
    }
}

fn item(v: &Value) -> Value {
    let Value::Object(fields) = v else { return v.clone() };
    let values = fields.get("values").or_else(|| fields.get("entry_values")).and_then(Value::as_object);
    let mut out = Map::new();
    if let Some(id) = fields.get("id") {
        own_id(id, &mut out);
    }
    match values {
        // A record or list entry: its id, where it lives, and its plain current values.
        Some(values) => {
            for key in ["web_url", "parent_object", "parent_record_id"] {
                if let Some(v) = fields.get(key) {
                    out.insert(key.into(), v.clone());
                }
            }
            out.insert("values".into(), plain_values(values));
        }
        None => {
            for (k, v) in fields.iter().filter(|(k, _)| *k != "id") {
                other_field(k, v, &mut out);
            }
        }
    }
    Value::Object(out)
}

/// A composite id (`{"workspace_id", "note_id"}`) as the item's own id: a record's or entry's id
/// with its object or list beside it, otherwise the one id besides the workspace's.
fn own_id(id: &Value, out: &mut Map<String, Value>) {
    let Value::Object(parts) = id else {
        out.insert("id".into(), id.clone());
        return;
    };
    // The most specific id names the item; its container (object, list, meeting) goes beside it.
    for (own, container) in OWN_IDS {
        if let Some(v) = parts.get(*own) {
            out.insert("id".into(), v.clone());
            if let Some(c) = container.and_then(|c| Some((c, parts.get(c)?))) {
                out.insert(c.0.into(), c.1.clone());
            }
            return;
        }
    }
    let own: Vec<&Value> = parts.iter().filter(|(k, _)| *k != "workspace_id").map(|(_, v)| v).collect();
    out.insert("id".into(), if let [one] = own.as_slice() { (*one).clone() } else { id.clone() });
}

/// Parts of Attio's composite ids, most specific first, with the container kept beside the id.
const OWN_IDS: &[(&str, Option<&str>)] = &[
    ("record_id", Some("object_id")),
    ("entry_id", Some("list_id")),
    ("call_recording_id", Some("meeting_id")),
    ("option_id", None),
    ("status_id", None),
    ("attribute_id", None),
    ("comment_id", None),
    ("thread_id", None),
    ("note_id", None),
    ("task_id", None),
    ("meeting_id", None),
    ("workspace_member_id", None),
    ("list_id", None),
    ("object_id", None),
];

/// One field of a note, task, meeting, recording, transcript, thread, comment or other item:
/// actors as `"<type>:<id>"`, text once (Markdown when Attio gives both), times as one string,
/// participants and transcript segments as one line each; nothing empty.
fn other_field(key: &str, v: &Value, out: &mut Map<String, Value>) {
    let (key, value) = match key {
        "created_by_actor" => ("created_by", actor(v)),
        "author" | "resolved_by" => (key, actor(v)),
        "content_markdown" => ("content", v.clone()),
        "content_plaintext" if !out.contains_key("content") => ("content", v.clone()),
        "content_plaintext" | "raw_transcript" => return,
        "start" | "end" => (key, moment(v)),
        "assignees" => (key, map_items(v, |a| Some(actor(a)).filter(|a| !a.is_null()))),
        "linked_records" => (key, map_items(v, linked_record)),
        "participants" => (key, map_items(v, participant)),
        "transcript" => (key, turns(v)),
        "comments" => (key, map_items(v, |c| Some(item(c)))),
        _ => (key, v.clone()),
    };
    let empty = match &value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty() || o.values().all(Value::is_null),
        _ => false,
    };
    if !empty {
        out.insert(key.into(), value);
    }
}

fn map_items(v: &Value, f: impl Fn(&Value) -> Option<Value>) -> Value {
    match v {
        Value::Array(items) => Value::Array(items.iter().filter_map(f).collect()),
        other => other.clone(),
    }
}

/// `{"type", "id"}` or `{"referenced_actor_type", "referenced_actor_id"}` as `"<type>:<id>"`.
fn actor(v: &Value) -> Value {
    let kind = str_field(v, "type").or_else(|| str_field(v, "referenced_actor_type"));
    let id = str_field(v, "id").or_else(|| str_field(v, "referenced_actor_id"));
    match (kind, id) {
        (Some(t), Some(id)) => json!(format!("{t}:{id}")),
        (Some(t), None) => json!(t),
        (None, Some(id)) => json!(id),
        (None, None) => Value::Null,
    }
}

/// A meeting's start or end: `{"datetime", "timezone"}` or `{"date"}` as one string.
fn moment(v: &Value) -> Value {
    str_field(v, "datetime").or_else(|| str_field(v, "date")).map_or_else(|| v.clone(), Value::from)
}

/// A link to a record: `{"object", "record_id"}` (or `object_id` when Attio gives only that).
fn linked_record(v: &Value) -> Option<Value> {
    let record = v.get("record_id").or_else(|| v.get("target_record_id"))?;
    match str_field(v, "object_slug").or_else(|| str_field(v, "target_object")) {
        Some(slug) => Some(json!({"object": slug, "record_id": record})),
        None => {
            let object = v.get("object_id").or_else(|| v.get("target_object_id"))?;
            Some(json!({"object_id": object, "record_id": record}))
        }
    }
}

/// `"ada@example.com (organizer, accepted)"`.
fn participant(v: &Value) -> Option<Value> {
    let email = str_field(v, "email_address")?;
    let mut notes = Vec::new();
    if v.get("is_organizer").and_then(Value::as_bool) == Some(true) {
        notes.push("organizer");
    }
    if let Some(status) = str_field(v, "status") {
        notes.push(status);
    }
    Some(json!(if notes.is_empty() { email.to_string() } else { format!("{email} ({})", notes.join(", ")) }))
}

/// Transcript segments as speaker turns, like Attio's own `raw_transcript`: consecutive segments
/// of one speaker (Attio sends short phrases, several a turn) become one line,
/// `"[mm:ss] Speaker: words"`, timed at the turn's start, so a phrase can be searched for and
/// a label is paid once a turn.
fn turns(v: &Value) -> Value {
    let Value::Array(segments) = v else { return v.clone() };
    let mut lines: Vec<Value> = Vec::new();
    let mut turn: Option<(u64, &str, String)> = None;
    for segment in segments {
        let Some(words) = str_field(segment, "speech").map(str::trim).filter(|w| !w.is_empty()) else { continue };
        let speaker = segment.get("speaker").and_then(|s| str_field(s, "name")).unwrap_or("Unknown speaker");
        match &mut turn {
            Some((_, current, text)) if *current == speaker => {
                text.push(' ');
                text.push_str(words);
            }
            _ => {
                lines.extend(turn.take().map(|t| turn_line(&t)));
                let secs = segment.get("start_time").and_then(Value::as_f64).unwrap_or(0.0).max(0.0) as u64;
                turn = Some((secs, speaker, words.to_string()));
            }
        }
    }
    lines.extend(turn.map(|t| turn_line(&t)));
    Value::Array(lines)
}

fn turn_line((secs, speaker, words): &(u64, &str, String)) -> Value {
    json!(format!("[{:02}:{:02}] {speaker}: {words}", secs / 60, secs % 60))
}

/// `{slug: [value objects]}` → `{slug: plain}`: current values only, empty attributes dropped.
pub fn plain_values(values: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    for (slug, list) in values {
        let current: Vec<Value> = match list {
            Value::Array(items) => {
                items.iter().filter(|v| v.get("active_until").is_none_or(Value::is_null)).filter_map(plain).collect()
            }
            other => plain(other).into_iter().collect(),
        };
        match current.len() {
            0 => {}
            1 => {
                out.insert(slug.clone(), current.into_iter().next().unwrap_or(Value::Null));
            }
            _ => {
                out.insert(slug.clone(), Value::Array(current));
            }
        }
    }
    Value::Object(out)
}

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// One Attio value object as a plain value; `None` when it holds nothing.
fn plain(v: &Value) -> Option<Value> {
    let Value::Object(fields) = v else { return Some(v.clone()).filter(|v| !v.is_null()) };
    let kind = fields.get("attribute_type").and_then(Value::as_str).unwrap_or("");
    let out = match kind {
        "text" | "number" | "checkbox" | "date" | "timestamp" | "rating" => fields.get("value").cloned(),
        "select" => v.get("option").and_then(|o| o.get("title")).cloned(),
        "status" => v.get("status").and_then(|s| s.get("title")).cloned(),
        "currency" => {
            v.get("currency_value").filter(|n| !n.is_null()).map(|amount| match str_field(v, "currency_code") {
                Some(code) => json!(format!("{amount} {code}")),
                None => amount.clone(),
            })
        }
        "personal-name" => str_field(v, "full_name")
            .map(str::to_string)
            .or_else(|| {
                let parts: Vec<&str> = ["first_name", "last_name"].iter().filter_map(|k| str_field(v, k)).collect();
                (!parts.is_empty()).then(|| parts.join(" "))
            })
            .map(Value::from),
        "email-address" => {
            str_field(v, "email_address").or_else(|| str_field(v, "original_email_address")).map(Value::from)
        }
        "domain" => str_field(v, "domain").map(Value::from),
        "phone-number" => {
            str_field(v, "original_phone_number").or_else(|| str_field(v, "phone_number")).map(Value::from)
        }
        "location" => {
            let keys = ["line_1", "line_2", "line_3", "line_4", "locality", "region", "postcode", "country_code"];
            let parts: Vec<&str> = keys.iter().filter_map(|k| str_field(v, k)).collect();
            (!parts.is_empty()).then(|| Value::from(parts.join(", ")))
        }
        "record-reference" => match (v.get("target_object"), v.get("target_record_id")) {
            (Some(object), Some(id)) if !id.is_null() => Some(json!({"object": object, "record_id": id})),
            _ => None,
        },
        "actor-reference" => match (str_field(v, "referenced_actor_type"), str_field(v, "referenced_actor_id")) {
            (Some(t), Some(id)) => Some(json!(format!("{t}:{id}"))),
            (Some(t), None) => Some(json!(t)),
            _ => None,
        },
        "interaction" => match (str_field(v, "interaction_type"), str_field(v, "interacted_at")) {
            (Some(t), Some(at)) => Some(json!(format!("{t} {at}"))),
            _ => None,
        },
        // A type this gateway does not know yet: its own fields, without the history.
        _ => {
            let own: Map<String, Value> = fields
                .iter()
                .filter(|(k, v)| !VALUE_METADATA.contains(&k.as_str()) && !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            match own.len() {
                0 => None,
                1 => own.into_iter().next().map(|(_, v)| v),
                _ => Some(Value::Object(own)),
            }
        }
    };
    out.filter(|v| !v.is_null() && v != &json!(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(kind: &str, mut v: Value) -> Value {
        v["attribute_type"] = json!(kind);
        v["active_from"] = json!("2024-01-01T00:00:00.000000000Z");
        v["active_until"] = Value::Null;
        v["created_by_actor"] = json!({"type": "workspace-member", "id": "m1"});
        v
    }

    #[test]
    fn a_record_keeps_current_plain_values_only() {
        let mut old = meta("text", json!({"value": "Old name"}));
        old["active_until"] = json!("2024-02-01T00:00:00.000000000Z");
        let record = json!({"data": [{
            "id": {"workspace_id": "w", "object_id": "o", "record_id": "r1"},
            "created_at": "2024-01-01T00:00:00.000000000Z",
            "web_url": "https://app.attio.com/acme/company/r1",
            "values": {
                "name": [old, meta("text", json!({"value": "Acme"}))],
                "domains": [meta("domain", json!({"domain": "acme.com", "root_domain": "acme.com"})),
                            meta("domain", json!({"domain": "acme.io", "root_domain": "acme.io"}))],
                "stage": [meta("status", json!({"status": {"title": "Won", "id": {}}}))],
                "industry": [meta("select", json!({"option": {"title": "Software"}}))],
                "value": [meta("currency", json!({"currency_value": 5000, "currency_code": "USD"}))],
                "hq": [meta("location", json!({"line_1": "1 Main St", "locality": "Springfield", "line_2": null, "country_code": "US"}))],
                "owner": [meta("actor-reference", json!({"referenced_actor_type": "workspace-member", "referenced_actor_id": "m1"}))],
                "team": [meta("record-reference", json!({"target_object": "people", "target_record_id": "p1"}))],
                "last_contact": [meta("interaction", json!({"interaction_type": "email", "interacted_at": "2024-03-01T00:00:00Z"}))],
                "description": [],
                "employees": [meta("number", json!({"value": null}))]
            }
        }]});
        let c = compact(&record);
        assert_eq!(
            c["data"][0],
            json!({
                "id": "r1", "object_id": "o", "web_url": "https://app.attio.com/acme/company/r1",
                "values": {
                    "name": "Acme", "domains": ["acme.com", "acme.io"], "stage": "Won", "industry": "Software",
                    "value": "5000 USD", "hq": "1 Main St, Springfield, US", "owner": "workspace-member:m1",
                    "team": {"object": "people", "record_id": "p1"}, "last_contact": "email 2024-03-01T00:00:00Z"
                }
            })
        );
        let text = serde_json::to_string(&c).unwrap();
        for noise in ["active_from", "active_until", "created_by_actor", "attribute_type", "Old name"] {
            assert!(!text.contains(noise), "{noise} in {text}");
        }
    }

    #[test]
    fn entries_and_other_items_get_their_own_ids() {
        let answer = json!({"data": [
            {"id": {"workspace_id": "w", "list_id": "l", "entry_id": "e1"}, "parent_object": "companies",
             "parent_record_id": "r1", "entry_values": {"stage": [meta("status", json!({"status": {"title": "Lead"}}))]}},
            {"id": {"workspace_id": "w", "note_id": "n1"}, "title": "Call"}
        ], "pagination": {"next_cursor": null}});
        let c = compact(&answer);
        assert_eq!(
            c["data"][0],
            json!({"id": "e1", "list_id": "l", "parent_object": "companies", "parent_record_id": "r1", "values": {"stage": "Lead"}})
        );
        assert_eq!(c["data"][1], json!({"id": "n1", "title": "Call"}));
        // A search result: no values, but its record id with its object beside it.
        let found = compact(
            &json!({"data": [{"id": {"workspace_id": "w", "object_id": "o", "record_id": "r7"}, "record_text": "Hooli"}]}),
        );
        assert_eq!(found["data"][0], json!({"id": "r7", "object_id": "o", "record_text": "Hooli"}));
        assert_eq!((c["has_more"].clone(), c.get("pagination")), (json!(false), None), "cursor said once");
        assert_eq!(compact(&json!({"active": true})), json!({"active": true}), "not a data envelope: unchanged");
    }

    #[test]
    fn notes_tasks_meetings_and_comments_say_things_once() {
        let actor = json!({"type": "workspace-member", "id": "m1"});
        let answer = json!({"data": [
            {"id": {"workspace_id": "w", "note_id": "n1"}, "title": "Call", "content_plaintext": "Hi", "content_markdown": "**Hi**",
             "meeting_id": null, "tags": [], "created_by_actor": actor, "created_at": "2026-11-01T00:00:00Z"},
            {"id": {"workspace_id": "w", "task_id": "t1"}, "content_plaintext": "Send", "deadline_at": null, "is_completed": false,
             "assignees": [{"referenced_actor_type": "workspace-member", "referenced_actor_id": "m1"}],
             "linked_records": [{"target_object_id": "o1", "target_record_id": "r1"}], "created_by_actor": actor},
            {"id": {"workspace_id": "w", "meeting_id": "mt"}, "title": "Kickoff", "description": "", "is_all_day": false,
             "start": {"datetime": "2026-11-02T10:00:00Z", "timezone": "UTC"}, "end": {"date": "2026-11-02"},
             "participants": [{"email_address": "a@x.example", "is_organizer": true, "status": "accepted"}, {"email_address": null, "status": "pending", "is_organizer": false}],
             "linked_records": [{"object_slug": "companies", "object_id": "o1", "record_id": "r1"}], "created_by_actor": actor},
            {"id": {"workspace_id": "w", "meeting_id": "mt", "call_recording_id": "cr"}, "status": "completed", "web_url": "u", "created_by_actor": {"type": null, "id": null}},
            {"id": {"workspace_id": "w", "thread_id": "th"}, "created_at": "t", "comments": [
                {"id": {"workspace_id": "w", "comment_id": "c1"}, "thread_id": "th", "content_plaintext": "Nice", "entry": null,
                 "record": {"object_id": "o1", "record_id": "r1"}, "resolved_at": null, "resolved_by": {"id": null, "type": null}, "author": actor, "created_at": "t"}]}
        ]});
        let c = compact(&answer);
        assert_eq!(
            c["data"][0],
            json!({"id": "n1", "title": "Call", "content": "**Hi**", "created_by": "workspace-member:m1", "created_at": "2026-11-01T00:00:00Z"})
        );
        assert_eq!(
            c["data"][1],
            json!({"id": "t1", "content": "Send", "is_completed": false, "assignees": ["workspace-member:m1"],
            "linked_records": [{"object_id": "o1", "record_id": "r1"}], "created_by": "workspace-member:m1"})
        );
        assert_eq!(
            c["data"][2],
            json!({"id": "mt", "title": "Kickoff", "is_all_day": false, "start": "2026-11-02T10:00:00Z", "end": "2026-11-02",
            "participants": ["a@x.example (organizer, accepted)"], "linked_records": [{"object": "companies", "record_id": "r1"}], "created_by": "workspace-member:m1"})
        );
        assert_eq!(c["data"][3], json!({"id": "cr", "meeting_id": "mt", "status": "completed", "web_url": "u"}));
        assert_eq!(
            c["data"][4]["comments"][0],
            json!({"id": "c1", "thread_id": "th", "content": "Nice", "record": {"object_id": "o1", "record_id": "r1"}, "author": "workspace-member:m1", "created_at": "t"})
        );
        let text = serde_json::to_string(&c).unwrap();
        assert!(!text.contains("created_by_actor") && !text.contains("null"), "{text}");
    }

    #[test]
    fn a_transcript_is_one_line_per_speaker_turn_as_attio_sends_short_segments() {
        // Attio's documented shape: a phrase per segment, several per turn.
        let seg = |speech: &str, start: f64, who: &str| json!({"speech": speech, "start_time": start, "end_time": start + 0.3, "speaker": {"name": who}});
        let answer = json!({"data": {"transcript": [
            seg("Hello,", 0.51, "Alex Bell"), seg("Mr Watson,", 0.82, "Alex Bell"), seg("come here.", 1.2, "Alex Bell"),
            seg("I want to see you.", 1.9, "Alex Bell"), seg("Coming!", 63.0, "Thomas Watson"), seg("Good.", 64.5, "Alex Bell"),
        ]}});
        let lines = compact(&answer)["data"]["transcript"].clone();
        assert_eq!(
            lines,
            json!([
                "[00:00] Alex Bell: Hello, Mr Watson, come here. I want to see you.",
                "[01:03] Thomas Watson: Coming!",
                "[01:04] Alex Bell: Good."
            ])
        );
        // Within 1.15× the words plus one label a turn.
        let words: usize =
            ["Hello, Mr Watson, come here. I want to see you.", "Coming!", "Good."].iter().map(|w| w.len()).sum();
        let labels: usize =
            ["[00:00] Alex Bell: ", "[01:03] Thomas Watson: ", "[01:04] Alex Bell: "].iter().map(|l| l.len()).sum();
        let text: usize = lines.as_array().unwrap().iter().map(|l| l.as_str().unwrap().len()).sum();
        assert!(text as f64 <= 1.15 * (words + labels) as f64);
    }

    #[test]
    fn a_transcript_is_one_line_per_segment_and_says_how_to_continue() {
        let answer = json!({"data": {"id": {"workspace_id": "w", "meeting_id": "m", "call_recording_id": "r"},
            "transcript": [{"speech": "Hello there", "start_time": 65.4, "end_time": 67.0, "speaker": {"name": "Peter"}}],
            "raw_transcript": "Hello there", "web_url": "u"}, "pagination": {"next_cursor": "p2"}});
        let c = compact(&answer);
        assert_eq!(
            c["data"],
            json!({"id": "r", "meeting_id": "m", "transcript": ["[01:05] Peter: Hello there"], "web_url": "u"})
        );
        assert_eq!((c["has_more"].clone(), c["next_cursor"].clone()), (json!(true), json!("p2")));
    }
}
