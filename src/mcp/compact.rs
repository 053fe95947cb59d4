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
//! `raw: true` on any tool returns Attio's JSON instead.

use serde_json::{json, Map, Value};

/// The fields every Attio value object carries besides its own.
const VALUE_METADATA: &[&str] = &["active_from", "active_until", "created_by_actor", "attribute_type"];

/// An Attio answer, compacted.
pub fn compact(answer: &Value) -> Value {
    match answer {
        Value::Object(top) => {
            let mut out = Map::new();
            for (k, v) in top {
                let v = if k == "data" { data(v) } else { v.clone() };
                out.insert(k.clone(), v);
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
                out.insert(k.clone(), v.clone());
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
    for (own, container) in [("record_id", "object_id"), ("entry_id", "list_id")] {
        if let Some(v) = parts.get(own) {
            out.insert("id".into(), v.clone());
            if let Some(c) = parts.get(container) {
                out.insert(container.into(), c.clone());
            }
            return;
        }
    }
    let own: Vec<&Value> = parts.iter().filter(|(k, _)| *k != "workspace_id").map(|(_, v)| v).collect();
    out.insert("id".into(), if let [one] = own.as_slice() { (*one).clone() } else { id.clone() });
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

/// How a list result was asked for: where it started and how many were asked for (tools that
/// page by `limit` and `offset`), or `None` for lists Attio returns whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: u64,
    pub limit: u64,
}

/// Cuts a list result to `budget` bytes by whole items and says whether there is more and how to
/// get it: `has_more` always, `next_offset` where the tool pages, and a `note` when the budget
/// (not the page size) cut it. Never cuts an item in half.
pub fn fit(mut answer: Value, page: Option<Page>, budget: usize) -> Value {
    let Some(items) = answer.get_mut("data").and_then(Value::as_array_mut) else { return answer };
    let total = items.len();
    let mut used = 0;
    let mut kept = 0;
    for item in items.iter() {
        let size = serde_json::to_string(item).map_or(0, |s| s.len()) + 1;
        if kept > 0 && used + size > budget {
            break;
        }
        used += size;
        kept += 1;
    }
    let cut = kept < total;
    items.truncate(kept);
    let full_page = page.is_some_and(|p| total as u64 >= p.limit);
    let has_more = cut || full_page;
    if let Value::Object(top) = &mut answer {
        top.insert("has_more".into(), json!(has_more));
        match page {
            Some(p) if has_more => {
                top.insert("next_offset".into(), json!(p.offset + kept as u64));
            }
            _ => {}
        }
        if cut {
            let next = match page {
                Some(p) => format!("call again with offset {} for the rest", p.offset + kept as u64),
                None => "narrow the request to see the rest".into(),
            };
            top.insert("note".into(), json!(format!("{kept} of {total} items fit in this answer; {next}.")));
        }
    }
    answer
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
    fn lists_are_cut_by_whole_items_and_say_how_to_continue() {
        let items: Vec<Value> = (0..10).map(|i| json!({"id": format!("r{i}"), "text": "x".repeat(100)})).collect();
        let answer = json!({"data": items});
        // A full page: more may follow.
        let full = fit(answer.clone(), Some(Page { offset: 20, limit: 10 }), 100_000);
        assert_eq!((full["has_more"].clone(), full["next_offset"].clone()), (json!(true), json!(30)));
        assert!(full.get("note").is_none());
        // A short page: the end.
        let last = fit(answer.clone(), Some(Page { offset: 20, limit: 25 }), 100_000);
        assert_eq!(last["has_more"], false);
        assert!(last.get("next_offset").is_none());
        // Over the budget: whole items only, and the way on.
        let cut = fit(answer.clone(), Some(Page { offset: 0, limit: 25 }), 400);
        assert_eq!(cut["data"].as_array().unwrap().len(), 3);
        assert_eq!((cut["has_more"].clone(), cut["next_offset"].clone()), (json!(true), json!(3)));
        assert!(cut["note"].as_str().unwrap().contains("offset 3"));
        let whole = fit(answer, None, 400);
        assert!(whole["note"].as_str().unwrap().contains("narrow the request"));
        assert!(whole.get("next_offset").is_none());
        // One item bigger than the budget is still returned whole.
        let big = fit(json!({"data": [{"t": "y".repeat(1000)}]}), None, 10);
        assert_eq!(big["data"].as_array().unwrap().len(), 1);
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
        assert_eq!(c["pagination"], json!({"next_cursor": null}));
        assert_eq!(compact(&json!({"active": true})), json!({"active": true}), "not a data envelope: unchanged");
    }
}
