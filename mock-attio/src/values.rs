//! Attribute values: turning the plain values clients write into Attio's typed value objects,
//! and evaluating the filter and sort language of the query endpoints against them.
//!
//! Attio docs: "Filtering and sorting" (shorthand `{"slug": value}` and verbose
//! `{"slug": {"$op": value}}` / `{"slug": {"field": {"$op": value}}}` with `$and`, `$or`, `$not`).
//!
//! A select value's `option.id.option_id` and a status value's `status.id.status_id` are
//! [`crate::seed::option_id`], the ids the options and statuses endpoints list.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::error::ApiError;
use crate::model::Attribute;

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
            let id = crate::seed::option_id(attr.id, found);
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

/// A parsed filter, checked against the attributes before any record is looked at, so a bad
/// filter fails with `filter_error` even on an empty object.
#[derive(Debug)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Cond { slug: String, field: Option<String>, op: Op, operand: Value },
}

#[derive(Debug, Clone, Copy)]
pub enum Op {
    Eq,
    Contains,
    StartsWith,
    EndsWith,
    Gt,
    Gte,
    Lt,
    Lte,
    In,
    NotEmpty,
}

impl Op {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "$eq" => Op::Eq,
            "$contains" => Op::Contains,
            "$starts_with" => Op::StartsWith,
            "$ends_with" => Op::EndsWith,
            "$gt" => Op::Gt,
            "$gte" => Op::Gte,
            "$lt" => Op::Lt,
            "$lte" => Op::Lte,
            "$in" => Op::In,
            "$not_empty" => Op::NotEmpty,
            _ => return None,
        })
    }
}

fn filter_error(msg: impl Into<String>) -> ApiError {
    ApiError::filter(msg.into())
}

impl Filter {
    pub fn parse(filter: &Value, attributes: &[Attribute]) -> Result<Filter, ApiError> {
        let obj = filter.as_object().ok_or_else(|| filter_error("Error in filter: a filter must be a JSON object."))?;
        let mut parts = Vec::new();
        for (key, val) in obj {
            parts.push(match key.as_str() {
                "$and" | "$or" => {
                    let items = val.as_array().ok_or_else(|| {
                        filter_error(format!("Error in filter: \"{key}\" takes an array of filters."))
                    })?;
                    let subs = items.iter().map(|f| Filter::parse(f, attributes)).collect::<Result<Vec<_>, _>>()?;
                    if key == "$and" {
                        Filter::And(subs)
                    } else {
                        Filter::Or(subs)
                    }
                }
                "$not" => Filter::Not(Box::new(Filter::parse(val, attributes)?)),
                slug => Self::parse_condition(slug, val, attributes)?,
            });
        }
        Ok(Filter::And(parts))
    }

    fn parse_condition(slug: &str, val: &Value, attributes: &[Attribute]) -> Result<Filter, ApiError> {
        if !attributes.iter().any(|a| a.api_slug == slug) {
            let known: Vec<&str> = attributes.iter().map(|a| a.api_slug.as_str()).collect();
            return Err(filter_error(format!(
                "Error in filter: unknown attribute slug \"{slug}\". Attributes on this object: {}.",
                known.join(", ")
            )));
        }
        let Some(obj) = val.as_object() else {
            // Shorthand: `{"slug": value}` means equality on the attribute's primary value.
            return Ok(Filter::Cond { slug: slug.into(), field: None, op: Op::Eq, operand: val.clone() });
        };
        let mut conds = Vec::new();
        for (key, operand) in obj {
            if let Some(op) = Op::parse(key) {
                conds.push(Filter::Cond { slug: slug.into(), field: None, op, operand: operand.clone() });
            } else if key.starts_with('$') {
                return Err(filter_error(format!("Error in filter: unknown operator \"{key}\".")));
            } else {
                // `{"slug": {"field": {"$op": value}}}` or `{"slug": {"field": value}}`.
                let field = Some(key.clone());
                match operand.as_object() {
                    Some(ops) => {
                        for (k, v) in ops {
                            let op = Op::parse(k)
                                .ok_or_else(|| filter_error(format!("Error in filter: unknown operator \"{k}\".")))?;
                            conds.push(Filter::Cond {
                                slug: slug.into(),
                                field: field.clone(),
                                op,
                                operand: v.clone(),
                            });
                        }
                    }
                    None => conds.push(Filter::Cond { slug: slug.into(), field, op: Op::Eq, operand: operand.clone() }),
                }
            }
        }
        Ok(Filter::And(conds))
    }

    pub fn matches(&self, values: &BTreeMap<String, Vec<Value>>) -> bool {
        match self {
            Filter::And(fs) => fs.iter().all(|f| f.matches(values)),
            Filter::Or(fs) => fs.iter().any(|f| f.matches(values)),
            Filter::Not(f) => !f.matches(values),
            Filter::Cond { slug, field, op, operand } => {
                let current = values.get(slug).map(Vec::as_slice).unwrap_or(&[]);
                if let Op::NotEmpty = op {
                    return current.is_empty() != operand.as_bool().unwrap_or(true);
                }
                current.iter().any(|v| {
                    let actual = match field {
                        Some(f) => v.get(f).cloned().unwrap_or(Value::Null),
                        None => primary(v),
                    };
                    compare(*op, &actual, operand)
                })
            }
        }
    }
}

fn compare(op: Op, actual: &Value, operand: &Value) -> bool {
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.to_lowercase()),
        Value::Null => None,
        other => Some(other.to_string()),
    };
    match op {
        Op::Eq => loose_eq(actual, operand),
        Op::In => operand.as_array().is_some_and(|xs| xs.iter().any(|x| loose_eq(actual, x))),
        Op::Contains | Op::StartsWith | Op::EndsWith => match (text(actual), text(operand)) {
            (Some(a), Some(b)) => match op {
                Op::Contains => a.contains(&b),
                Op::StartsWith => a.starts_with(&b),
                _ => a.ends_with(&b),
            },
            _ => false,
        },
        Op::Gt | Op::Gte | Op::Lt | Op::Lte => match order(actual, operand) {
            Some(o) => match op {
                Op::Gt => o == Ordering::Greater,
                Op::Gte => o != Ordering::Less,
                Op::Lt => o == Ordering::Less,
                _ => o != Ordering::Greater,
            },
            None => false,
        },
        Op::NotEmpty => !actual.is_null(),
    }
}

/// Equality as Attio's shorthand treats it: strings case-insensitively, numbers numerically.
fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.eq_ignore_ascii_case(y),
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

pub fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.to_lowercase().cmp(&y.to_lowercase())),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// One entry of a `sorts` array: `{"attribute": slug, "direction": "asc"|"desc", "field"?}`.
#[derive(Debug)]
pub struct Sort {
    slug: String,
    field: Option<String>,
    descending: bool,
}

impl Sort {
    pub fn parse_all(sorts: Option<&Value>, attributes: &[Attribute]) -> Result<Vec<Sort>, ApiError> {
        let Some(sorts) = sorts else {
            return Ok(Vec::new());
        };
        let items = sorts.as_array().ok_or_else(|| ApiError::validation("\"sorts\" must be an array.".into()))?;
        items
            .iter()
            .map(|s| {
                let slug = s
                    .get("attribute")
                    .and_then(Value::as_str)
                    .ok_or_else(|| ApiError::validation("Each sort needs an \"attribute\" slug.".into()))?;
                if !attributes.iter().any(|a| a.api_slug == slug) {
                    return Err(ApiError::validation(format!("Cannot sort by unknown attribute \"{slug}\".")));
                }
                let descending = match s.get("direction").and_then(Value::as_str) {
                    Some("asc") => false,
                    Some("desc") => true,
                    _ => return Err(ApiError::validation("Sort direction must be \"asc\" or \"desc\".".into())),
                };
                let field = s.get("field").and_then(Value::as_str).map(str::to_string);
                Ok(Sort { slug: slug.into(), field, descending })
            })
            .collect()
    }

    pub fn compare(sorts: &[Sort], a: &BTreeMap<String, Vec<Value>>, b: &BTreeMap<String, Vec<Value>>) -> Ordering {
        for s in sorts {
            let key = |vals: &BTreeMap<String, Vec<Value>>| {
                vals.get(&s.slug).and_then(|v| v.first()).map(|v| match &s.field {
                    Some(f) => v.get(f).cloned().unwrap_or(Value::Null),
                    None => primary(v),
                })
            };
            let o = match (key(a), key(b)) {
                (Some(x), Some(y)) => order(&x, &y).unwrap_or(Ordering::Equal),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            };
            let o = if s.descending { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(slug: &str, kind: &str, multi: bool) -> Attribute {
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

    fn record(attrs: &[Attribute], values: Value) -> BTreeMap<String, Vec<Value>> {
        let by = actor(Uuid::nil());
        values
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                let a = attrs.iter().find(|a| &a.api_slug == k).unwrap();
                (k.clone(), typed_values(a, v, &by, "t").unwrap())
            })
            .collect()
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

    #[test]
    fn shorthand_and_verbose_filters() {
        let attrs = vec![attr("name", "personal-name", false), attr("stage", "status", false)];
        let r = record(&attrs, json!({"name": "Ada Lovelace", "stage": "Won"}));
        let f = |v: Value| Filter::parse(&v, &attrs).unwrap().matches(&r);
        assert!(f(json!({"name": "ada lovelace"})));
        assert!(f(json!({"name": {"full_name": {"$eq": "Ada Lovelace"}}})));
        assert!(f(json!({"name": {"first_name": {"$contains": "ad"}}})));
        assert!(f(json!({"$or": [{"stage": "Lead"}, {"stage": {"$eq": "Won"}}]})));
        assert!(!f(json!({"$and": [{"stage": "Lead"}, {"name": "Ada Lovelace"}]})));
        assert!(f(json!({"$not": {"stage": "Lead"}})));
    }

    #[test]
    fn bad_filters_are_filter_errors() {
        let attrs = vec![attr("name", "text", false)];
        for bad in [json!({"nope": 1}), json!({"name": {"$regex": "x"}}), json!([1]), json!({"$and": 3})] {
            let err = Filter::parse(&bad, &attrs).unwrap_err();
            assert_eq!(err.code, "filter_error", "{bad}");
        }
    }
}
