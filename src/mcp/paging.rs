//! Lists cut to a byte budget by whole items, never mid-item, saying whether there is more and
//! how to get it: `has_more` always, `next_offset` where the tool pages by offset, Attio's
//! `next_cursor` passed on where it pages by cursor, and a `note` when the budget (not the page
//! size) cut the list.

use serde_json::{json, Value};

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
    // Attio's cursor said whether more follows (compact answers) or its raw pagination does.
    let cursor =
        answer.get("next_cursor").or_else(|| answer.pointer("/pagination/next_cursor")).and_then(Value::as_str);
    let cursor_more = cursor.is_some_and(|c| !c.is_empty());
    if answer.get("pagination").is_some() {
        answer["has_more"] = json!(cursor_more);
    }
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
    let has_more = cut || full_page || cursor_more;
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
                None if cursor_more => "call again with a smaller limit to see the rest of this page".into(),
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
}
