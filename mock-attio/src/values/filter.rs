//! The filter and sort language of the query endpoints (`records/query`, `entries/query`),
//! parsed against the attributes and evaluated on typed values. Uses only [`super::primary`]
//! of its parent, which in turn never uses this file.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::Value;

use super::primary;
use crate::error::ApiError;
use crate::model::Attribute;

/// A parsed filter, checked against the attributes before any record is looked at, so a bad
/// filter fails with `filter_error` even on an empty object.
///
/// Attio docs: "Filtering and sorting" (shorthand `{"slug": value}` and verbose
/// `{"slug": {"$op": value}}` / `{"slug": {"field": {"$op": value}}}` with `$and`, `$or`, `$not`).
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
    use serde_json::json;
    use uuid::Uuid;

    use super::super::tests::attr;
    use super::super::{actor, typed_values};
    use super::*;

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
