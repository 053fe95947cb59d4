//! `get_transcript` a page of speaker turns at a time: Attio pages a transcript by speech
//! segment (short phrases, several a turn), so one of its pages can end in the middle of a
//! turn. The gateway reads the first segments of the next page too and keeps a turn whole,
//! then hands the agent a cursor of its own, `t1.<segments to skip>.<Attio's cursor>`, so the
//! next page starts with the next turn; compaction ([`super::compact`]) writes each turn as one
//! line. A turn longer than [`LOOKAHEAD_PAGES`] pages is split there, and the result says so.

use serde_json::{json, Value};

use super::fetch::{Call, Failure, Fetcher};
use crate::platform::Platform;

/// Attio pages read past the first to finish its last turn.
pub const LOOKAHEAD_PAGES: usize = 2;

/// A transcript request: the recording's transcript path, and where to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub path: String,
    /// Attio's cursor, and how many segments of that page an earlier page already showed.
    pub cursor: Option<String>,
    pub skip: usize,
}

impl Request {
    /// From the tool's arguments: our cursor (`t1.<skip>.<attio>`) or Attio's own.
    pub fn new(path: String, cursor: Option<&str>) -> Request {
        let ours = cursor.and_then(|c| c.strip_prefix("t1.")).and_then(|rest| {
            let (skip, attio) = rest.split_once('.')?;
            Some((skip.parse::<usize>().ok()?, attio.to_string()))
        });
        match ours {
            Some((skip, attio)) => Request { path, cursor: Some(attio), skip },
            None => Request { path, cursor: cursor.map(str::to_string), skip: 0 },
        }
    }
}

fn page_call(path: &str, cursor: Option<&str>) -> Result<Call, Failure> {
    let query: Vec<(&str, &str)> = cursor.map(|c| ("cursor", c)).into_iter().collect();
    Call::new(http::Method::GET, path, &query, None).map_err(|e| Failure::Status {
        status: 400,
        code: None,
        message: Some(e),
    })
}

fn segments(page: &Value) -> Vec<Value> {
    page["data"]["transcript"].as_array().cloned().unwrap_or_default()
}

fn next_cursor(page: &Value) -> Option<String> {
    page["pagination"]["next_cursor"].as_str().map(str::to_string)
}

fn speaker(segment: &Value) -> Option<&str> {
    segment["speaker"]["name"].as_str()
}

/// A page of whole turns, in Attio's shape with our cursor in `pagination.next_cursor`.
pub async fn run<P: Platform>(fetcher: &Fetcher<'_, P>, request: &Request) -> Result<Value, Failure> {
    let mut page = fetcher.get(&page_call(&request.path, request.cursor.as_deref())?).await?;
    let mut kept: Vec<Value> = segments(&page).into_iter().skip(request.skip).collect();
    let mut next = next_cursor(&page);
    let mut skip = 0;
    let mut split = false;
    for read in 0..=LOOKAHEAD_PAGES {
        let (Some(cursor), Some(last)) = (next.clone(), kept.last().and_then(speaker).map(str::to_string)) else {
            break;
        };
        if read == LOOKAHEAD_PAGES {
            split = true;
            break;
        }
        let following = fetcher.get(&page_call(&request.path, Some(&cursor))?).await?;
        let more = segments(&following);
        let continuing = more.iter().take_while(|s| speaker(s) == Some(last.as_str())).count();
        kept.extend(more.iter().take(continuing).cloned());
        if continuing < more.len() {
            skip = continuing;
            break;
        }
        // The whole page was the same turn: on to the page after it.
        next = next_cursor(&following);
    }
    page["data"]["transcript"] = Value::Array(kept);
    page["pagination"] = json!({ "next_cursor": next.map(|c| format!("t1.{skip}.{c}")) });
    if split {
        page["data"]["note"] = json!("The last turn goes on in the next page.");
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_cursor_carries_attios_and_how_many_segments_to_skip() {
        let r = Request::new("/p".into(), Some("t1.3.abc.def"));
        assert_eq!((r.cursor.as_deref(), r.skip), (Some("abc.def"), 3));
        let r = Request::new("/p".into(), Some("attio-cursor"));
        assert_eq!((r.cursor.as_deref(), r.skip), (Some("attio-cursor"), 0));
        assert_eq!(Request::new("/p".into(), None).cursor, None);
    }
}
