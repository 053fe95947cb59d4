//! Meetings, call recordings and transcripts (beta in Attio), read-only:
//!
//! | Route | Scopes | Paging |
//! |---|---|---|
//! | `GET /v2/meetings` | `meeting:read`, `record_permission:read` | `limit` 1–200 (50), `cursor` |
//! | `GET /v2/meetings/{meeting_id}` | `meeting:read`, `record_permission:read` | – |
//! | `GET /v2/meetings/{meeting_id}/call_recordings` | `meeting:read`, `call_recording:read` | `limit` 1–200 (50), `cursor` |
//! | `GET /v2/meetings/{meeting_id}/call_recordings/{call_recording_id}` | `meeting:read`, `call_recording:read` | – |
//! | `GET …/{call_recording_id}/transcript` | `meeting:read`, `call_recording:read` | `cursor`, [`TRANSCRIPT_PAGE`] segments a page |
//!
//! Cursor pages answer `{"data", "pagination": {"next_cursor"}}`, `next_cursor` null on the last
//! page. The meeting list filters by linked record (`linked_object` + `linked_record_id`),
//! `participants` (comma-separated emails, any of them), `ends_from` (inclusive) and
//! `starts_before` (exclusive), sorted `start_asc` (default) or `start_desc`. `timezone` is
//! accepted; the mock has no time-zone database, so all-day meetings are filtered as UTC days.

use super::*;
use crate::clock::{format_date, parse_timestamp};
use crate::model::{CallRecording, Meeting, Segment};

/// Speech segments per transcript page.
pub const TRANSCRIPT_PAGE: usize = 50;

fn meeting_json(w: &Workspace, m: &Meeting, world: &World) -> Value {
    let when = |t: i64| {
        if m.is_all_day {
            json!({"date": format_date(t)})
        } else {
            json!({"datetime": world.clock.format(t), "timezone": m.timezone})
        }
    };
    json!({
        "id": {"workspace_id": w.id, "meeting_id": m.id},
        "title": m.title,
        "description": m.description,
        "is_all_day": m.is_all_day,
        "start": when(m.start),
        "end": when(m.end),
        "participants": m.participants.iter().map(|p| json!({
            "status": p.status,
            "is_organizer": p.is_organizer,
            "email_address": p.email,
        })).collect::<Vec<_>>(),
        "linked_records": m.linked_records.iter().map(|(o, r)| json!({
            "object_slug": w.object_by_id(*o).map(|o| o.api_slug.as_str()),
            "object_id": o,
            "record_id": r,
        })).collect::<Vec<_>>(),
        "created_at": world.clock.format(m.created_at),
        "created_by_actor": m.created_by,
    })
}

fn recording_url(w: &Workspace, r: &CallRecording, world: &World) -> String {
    format!("{}/{}/calls/{}/{}", world.base_url, w.slug, r.meeting_id, r.id)
}

fn recording_json(w: &Workspace, r: &CallRecording, world: &World) -> Value {
    json!({
        "id": {"workspace_id": w.id, "meeting_id": r.meeting_id, "call_recording_id": r.id},
        "status": r.status,
        "web_url": recording_url(w, r, world),
        "created_by_actor": r.created_by,
        "created_at": world.clock.format(r.created_at),
    })
}

fn find_meeting<'a>(w: &'a Workspace, id: &str) -> Result<&'a Meeting, ApiError> {
    let missing = || ApiError::not_found(format!("Meeting with ID \"{id}\" was not found."));
    let mid = Uuid::parse_str(id).map_err(|_| missing())?;
    w.meetings.iter().find(|m| m.id == mid).ok_or_else(missing)
}

fn find_recording<'a>(w: &'a Workspace, meeting: &str, recording: &str) -> Result<&'a CallRecording, ApiError> {
    let m = find_meeting(w, meeting)?;
    let missing = || ApiError::not_found(format!("Call recording with ID \"{recording}\" was not found."));
    let rid = Uuid::parse_str(recording).map_err(|_| missing())?;
    w.call_recordings.iter().find(|r| r.id == rid && r.meeting_id == m.id).ok_or_else(missing)
}

/// An optional timestamp filter; unparsable is a 400.
fn instant(p: &Params, name: &str) -> Result<Option<(i64, u32)>, ApiError> {
    p.non_empty(name)
        .map(|raw| {
            parse_timestamp(raw).ok_or_else(|| {
                ApiError::validation(format!("\"{name}\" must be an ISO 8601 timestamp, got \"{raw}\"."))
            })
        })
        .transpose()
}

/// `GET /v2/meetings`.
pub async fn list_meetings(State(shared): State<Shared>, headers: HeaderMap, Query(p): Query<Params>) -> ApiResult {
    with_workspace(&shared, &headers, &[MEETING_READ, REC_READ], |world, w| {
        let limit = p.limit(50, 200)?;
        let start = decode_cursor(p.non_empty("cursor"), "meetings")?;
        let descending = match p.non_empty("sort") {
            None | Some("start_asc") => false,
            Some("start_desc") => true,
            Some(other) => {
                return Err(ApiError::validation(format!("\"sort\" must be start_asc or start_desc, got \"{other}\".")))
            }
        };
        let linked = match p.pair("linked_object", "linked_record_id")? {
            Some((object, record)) => Some((find_object(w, object)?.id, uuid_field(record, "linked_record_id")?)),
            None => None,
        };
        let participants: Vec<String> = p
            .str("participants")
            .unwrap_or_default()
            .split(',')
            .map(|e| e.trim().to_lowercase())
            .filter(|e| !e.is_empty())
            .collect();
        if let Some(bad) = participants.iter().find(|e| !e.contains('@')) {
            return Err(ApiError::validation(format!(
                "\"participants\" must be a comma-separated list of email addresses; \"{bad}\" is not one."
            )));
        }
        let ends_from = instant(&p, "ends_from")?;
        let starts_before = instant(&p, "starts_before")?;
        // Accepted as Attio does; without a time-zone database all-day meetings are UTC days.
        let _timezone = p.str("timezone");

        let mut meetings: Vec<&Meeting> = w
            .meetings
            .iter()
            .filter(|m| linked.is_none_or(|l| m.linked_records.contains(&l)))
            .filter(|m| participants.is_empty() || m.participants.iter().any(|x| participants.contains(&x.email)))
            .filter(|m| ends_from.is_none_or(|from| (m.end, 0) >= from))
            .filter(|m| starts_before.is_none_or(|before| (m.start, 0) < before))
            .collect();
        meetings.sort_by_key(|m| (m.start, m.id));
        if descending {
            meetings.reverse();
        }
        let (page, next) = cursor_page(meetings, start, limit, "meetings");
        data_with_cursor(Value::Array(page.into_iter().map(|m| meeting_json(w, m, world)).collect()), next)
    })
}

/// `GET /v2/meetings/{meeting_id}`.
pub async fn get_meeting(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    read(&shared, &headers, &[MEETING_READ, REC_READ], |world, w| Ok(meeting_json(w, find_meeting(w, &id)?, world)))
}

/// `GET /v2/meetings/{meeting_id}/call_recordings`.
pub async fn list_call_recordings(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(meeting): Path<String>,
    Query(p): Query<Params>,
) -> ApiResult {
    with_workspace(&shared, &headers, &[MEETING_READ, CALL_RECORDING_READ], |world, w| {
        let limit = p.limit(50, 200)?;
        // The spec gives this cursor `minLength: 1`: an empty one is refused like a garbage one.
        let start = decode_cursor(p.str("cursor"), "call_recordings")?;
        let m = find_meeting(w, &meeting)?;
        let mut recordings: Vec<&CallRecording> = w.call_recordings.iter().filter(|r| r.meeting_id == m.id).collect();
        recordings.sort_by_key(|r| (r.created_at, r.id));
        let (page, next) = cursor_page(recordings, start, limit, "call_recordings");
        data_with_cursor(Value::Array(page.into_iter().map(|r| recording_json(w, r, world)).collect()), next)
    })
}

/// `GET /v2/meetings/{meeting_id}/call_recordings/{call_recording_id}`.
pub async fn get_call_recording(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((meeting, recording)): Path<(String, String)>,
) -> ApiResult {
    read(&shared, &headers, &[MEETING_READ, CALL_RECORDING_READ], |world, w| {
        Ok(recording_json(w, find_recording(w, &meeting, &recording)?, world))
    })
}

/// `[mm:ss] Speaker: speech…`, one line per run of one speaker, as Attio's `raw_transcript`.
fn raw_transcript(segments: &[&Segment]) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut current: Option<&str> = None;
    for s in segments {
        match (current, lines.last_mut()) {
            (Some(speaker), Some(line)) if speaker == s.speaker => {
                line.push(' ');
                line.push_str(&s.speech);
            }
            _ => {
                let secs = s.start_time.max(0.0) as u64;
                lines.push(format!("[{:02}:{:02}] {}: {}", secs / 60, secs % 60, s.speaker, s.speech));
                current = Some(&s.speaker);
            }
        }
    }
    lines.join("\n")
}

/// `GET /v2/meetings/{meeting_id}/call_recordings/{call_recording_id}/transcript`: one page of
/// speech segments, and the raw text of that page.
pub async fn get_transcript(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path((meeting, recording)): Path<(String, String)>,
    Query(p): Query<Params>,
) -> ApiResult {
    with_workspace(&shared, &headers, &[MEETING_READ, CALL_RECORDING_READ], |world, w| {
        let start = decode_cursor(p.non_empty("cursor"), "transcript")?;
        let r = find_recording(w, &meeting, &recording)?;
        let (page, next) = cursor_page(r.transcript.iter().collect(), start, TRANSCRIPT_PAGE, "transcript");
        let segments: Vec<Value> = page
            .iter()
            .map(|s| {
                json!({
                    "speech": s.speech,
                    "start_time": s.start_time,
                    "end_time": s.end_time,
                    "speaker": {"name": s.speaker},
                })
            })
            .collect();
        data_with_cursor(
            json!({
                "id": {"workspace_id": w.id, "meeting_id": r.meeting_id, "call_recording_id": r.id},
                "transcript": segments,
                "raw_transcript": raw_transcript(&page),
                "web_url": format!("{}/transcript", recording_url(w, r, world)),
            }),
            next,
        )
    })
}
