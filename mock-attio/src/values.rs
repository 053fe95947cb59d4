//! Attribute values: turning the plain values clients write into Attio's typed value objects,
//! and the value a filter or a sort compares ([`primary`]); the filter and sort language
//! itself is in [`filter`], which may use this module (never the other way round).
//!
//! A select value's `option.id.option_id` and a status value's `status.id.status_id` are
//! [`crate::ids::option_id`], the ids the options and statuses endpoints list.

use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::error::ApiError;
use crate::model::Attribute;

pub mod filter;

/// Who made a change, as Attio's `created_by_actor`.
pub fn actor(member: Uuid) -> Value {
    json!({"type": "workspace-member", "id": member})
}

/// Builds the typed value objects for one attribute from what a client wrote.
///
/// A client may write a single value or an array; arrays with more than one item need a
/// multiselect attribute, as in Attio.
pub fn typed_values(attr: &Attribute, input: &Value, created_by: &Value, now: &str) -> Result<Vec<Value>, ApiError> {
    let items: Vec<&Value> = match input {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        single => vec![single],
    };
    if items.len() > 1 && !attr.is_multiselect {
        return Err(ApiError::validation(format!(
            "Attribute \"{}\" is not multiselect and accepts a single value.",
            attr.api_slug
        )));
    }
    items
        .into_iter()
        .map(|item| {
            let mut v = typed_fields(attr, item)?;
            v.insert("active_from".into(), json!(now));
            v.insert("active_until".into(), Value::Null);
            v.insert("created_by_actor".into(), created_by.clone());
            v.insert("attribute_type".into(), json!(attr.kind));
            Ok(Value::Object(v))
        })
        .collect()
}

fn typed_fields(attr: &Attribute, item: &Value) -> Result<Map<String, Value>, ApiError> {
    let bad = || {
        ApiError::validation(format!(
            "Invalid value for attribute \"{}\" of type \"{}\": {}",
            attr.api_slug, attr.kind, item
        ))
    };
    let mut m = Map::new();
    match attr.kind.as_str() {
        "text" | "date" | "timestamp" => {
            m.insert("value".into(), json!(item.as_str().ok_or_else(bad)?));
        }
        "number" | "rating" => {
            m.insert("value".into(), json!(item.as_f64().ok_or_else(bad)?));
        }
        "checkbox" => {
            m.insert("value".into(), json!(item.as_bool().ok_or_else(bad)?));
        }
        "currency" => {
            let amount = item.as_f64().or_else(|| item.get("currency_value")?.as_f64());
            m.insert("currency_value".into(), json!(amount.ok_or_else(bad)?));
            let code = item.get("currency_code").and_then(Value::as_str).unwrap_or("USD");
            m.insert("currency_code".into(), json!(code));
        }
        "domain" => {
            let domain = item.as_str().or_else(|| item.get("domain")?.as_str()).ok_or_else(bad)?;
            m.insert("domain".into(), json!(domain));
            m.insert("root_domain".into(), json!(root_domain(domain)));
        }
        "email-address" => {
            let email = item.as_str().or_else(|| item.get("email_address")?.as_str()).ok_or_else(bad)?;
            let (local, domain) = email.split_once('@').ok_or_else(bad)?;
            m.insert("original_email_address".into(), json!(email));
            m.insert("email_address".into(), json!(email.to_lowercase()));
            m.insert("email_domain".into(), json!(domain));
            m.insert("email_root_domain".into(), json!(root_domain(domain)));
            m.insert("email_local_specifier".into(), json!(local));
        }
        "personal-name" => {
            let (first, last) = match item {
                Value::String(full) => match full.split_once(' ') {
                    Some((f, l)) => (f.to_string(), l.to_string()),
                    None => (full.clone(), String::new()),
                },
                Value::Object(o) => (
                    o.get("first_name").and_then(Value::as_str).unwrap_or("").to_string(),
                    o.get("last_name").and_then(Value::as_str).unwrap_or("").to_string(),
                ),
                _ => return Err(bad()),
            };
            let full = format!("{first} {last}").trim().to_string();
            m.insert("first_name".into(), json!(first));
            m.insert("last_name".into(), json!(last));
            m.insert("full_name".into(), json!(full));
        }
        "phone-number" => {
            let number = item.as_str().or_else(|| item.get("original_phone_number")?.as_str()).ok_or_else(bad)?;
            m.insert("original_phone_number".into(), json!(number));
            m.insert("phone_number".into(), json!(number.replace([' ', '-'], "")));
            m.insert("country_code".into(), json!(item.get("country_code").cloned()));
        }
        "select" | "status" => {
            let title = item
                .as_str()
                .or_else(|| item.get("title")?.as_str())
                .or_else(|| item.get("option")?.as_str())
                .or_else(|| item.get("status")?.as_str())
                .ok_or_else(bad)?;
            let Some(found) = attr.options.iter().find(|o| o.as_str() == title) else {
                return Err(ApiError::value_not_found(format!(
                    "Cannot find {} \"{}\" for attribute \"{}\". Valid values: {}.",
                    if attr.kind == "status" { "status" } else { "select option" },
                    title,
                    attr.api_slug,
                    attr.options.join(", ")
                )));
            };
            let id = crate::ids::option_id(attr.id, found);
            if attr.kind == "status" {
                m.insert(
                    "status".into(),
                    json!({"id": {"attribute_id": attr.id, "status_id": id}, "title": found, "is_archived": false,
                        "celebration_enabled": celebrates(found), "target_time_in_status": null}),
                );
            } else {
                m.insert(
                    "option".into(),
                    json!({"id": {"attribute_id": attr.id, "option_id": id}, "title": found, "is_archived": false}),
                );
            }
        }
        "record-reference" => {
            let target_object = item.get("target_object").and_then(Value::as_str);
            let target_id = item
                .get("target_record_id")
                .and_then(Value::as_str)
                .and_then(|s| Uuid::parse_str(s).ok())
                .ok_or_else(bad)?;
            let target_object =
                target_object.map(str::to_string).or_else(|| attr.targets.first().cloned()).ok_or_else(bad)?;
            m.insert("target_object".into(), json!(target_object));
            m.insert("target_record_id".into(), json!(target_id));
        }
        "actor-reference" => {
            let id = item
                .get("referenced_actor_id")
                .and_then(Value::as_str)
                .or_else(|| item.as_str())
                .and_then(|s| Uuid::parse_str(s).ok())
                .ok_or_else(bad)?;
            m.insert("referenced_actor_type".into(), json!("workspace-member"));
            m.insert("referenced_actor_id".into(), json!(id));
        }
        _ => match item {
            Value::Object(o) => m.extend(o.clone()),
            other => {
                m.insert("value".into(), other.clone());
            }
        },
    }
    Ok(m)
}

/// Whether reaching a status sets off the UI's celebration: the mock's rule is a 🎉 in the
/// title (Attio's default "Won 🎉" deal stage celebrates).
pub fn celebrates(status_title: &str) -> bool {
    status_title.contains('🎉')
}

fn root_domain(domain: &str) -> String {
    let parts: Vec<&str> = domain.split('.').collect();
    if parts.len() <= 2 {
        domain.to_string()
    } else {
        parts[parts.len() - 2..].join(".")
    }
}

/// The value a shorthand filter or a sort compares for a typed value object.
pub fn primary(value: &Value) -> Value {
    let field = match value.get("attribute_type").and_then(Value::as_str) {
        Some("currency") => "currency_value",
        Some("domain") => "domain",
        Some("email-address") => "email_address",
        Some("personal-name") => "full_name",
        Some("phone-number") => "phone_number",
        Some("record-reference") => "target_record_id",
        Some("actor-reference") => "referenced_actor_id",
        Some("select") => return value.pointer("/option/title").cloned().unwrap_or(Value::Null),
        Some("status") => return value.pointer("/status/title").cloned().unwrap_or(Value::Null),
        _ => "value",
    };
    value.get(field).cloned().unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn attr(slug: &str, kind: &str, multi: bool) -> Attribute {
        Attribute {
            id: Uuid::new_v5(&Uuid::NAMESPACE_OID, slug.as_bytes()),
            title: slug.into(),
            api_slug: slug.into(),
            kind: kind.into(),
            is_multiselect: multi,
            is_unique: false,
            is_required: false,
            is_system: false,
            options: vec!["Lead".into(), "Won".into()],
            targets: vec!["companies".into()],
        }
    }

    #[test]
    fn writes_become_typed_values() {
        let a = attr("email_addresses", "email-address", true);
        let v = typed_values(&a, &json!(["Ada@Example.com"]), &actor(Uuid::nil()), "t").unwrap();
        assert_eq!(v[0]["email_address"], "ada@example.com");
        assert_eq!(v[0]["email_domain"], "Example.com");
        assert_eq!(v[0]["attribute_type"], "email-address");
        assert!(v[0]["active_until"].is_null());
    }

    #[test]
    fn single_value_attributes_refuse_arrays() {
        let a = attr("description", "text", false);
        let err = typed_values(&a, &json!(["a", "b"]), &actor(Uuid::nil()), "t").unwrap_err();
        assert_eq!(err.code, "validation_type");
    }

    #[test]
    fn unknown_status_names_the_valid_ones() {
        let a = attr("stage", "status", false);
        let err = typed_values(&a, &json!("Nope"), &actor(Uuid::nil()), "t").unwrap_err();
        assert_eq!(err.code, "value_not_found");
        assert!(err.message.contains("Lead, Won"), "{}", err.message);
    }
}
