//! Notes on records: list them (by parent object or parent record, paged), create one on an
//! existing record, get one, delete one.

use super::*;
use crate::model::Note;

fn note_json(w: &Workspace, n: &Note, world: &World) -> Value {
    json!({
        "id": {"workspace_id": w.id, "note_id": n.id},
        "parent_object": n.parent_object,
        "parent_record_id": n.parent_record_id,
        "title": n.title,
        "meeting_id": null,
        "content_plaintext": n.content,
        "content_markdown": n.content,
        "tags": [],
        "created_by_actor": n.created_by,
        "created_at": world.clock.format(n.created_at),
    })
}

#[derive(Debug, Deserialize)]
pub struct NotesQuery {
    limit: Option<usize>,
    offset: Option<usize>,
    parent_object: Option<String>,
    parent_record_id: Option<String>,
}

pub async fn list_notes(State(shared): State<Shared>, headers: HeaderMap, Query(q): Query<NotesQuery>) -> ApiResult {
    read(&shared, &headers, &[NOTE_READ, OBJ_READ, REC_READ], |world, w| {
        if q.limit.is_some_and(|l| l > 50) {
            return Err(ApiError::validation("\"limit\" must be at most 50.".into()));
        }
        let parent_object = match &q.parent_object {
            Some(p) => Some(find_object(w, p)?.api_slug.clone()),
            None => None,
        };
        let notes: Vec<Value> = w
            .notes
            .iter()
            .filter(|n| parent_object.as_ref().is_none_or(|p| *p == n.parent_object))
            .filter(|n| q.parent_record_id.as_ref().is_none_or(|r| *r == n.parent_record_id.to_string()))
            .map(|n| note_json(w, n, world))
            .collect();
        Ok(Value::Array(page(notes, q.limit, q.offset, 10)))
    })
}

pub async fn create_note(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let (mut world, caller) = locked(&shared, &headers, &[NOTE_WRITE, OBJ_READ, REC_READ])?;
    let d = body_data(&body)?;
    let field = |k: &str| {
        d.get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| ApiError::validation(format!("\"{k}\" is required.")))
    };
    let (parent_object, title, content, format) =
        (field("parent_object")?, field("title")?, field("content")?, field("format")?);
    if format != "plaintext" && format != "markdown" {
        return Err(ApiError::validation("\"format\" must be \"plaintext\" or \"markdown\".".into()));
    }
    let parent = uuid_param(&field("parent_record_id")?, "Record")?;
    let now = world.clock.now();
    let w = ws(&world, &caller)?;
    let o = find_object(w, &parent_object)?;
    find_record(w, o.id, parent)?;
    let note = Note {
        id: Uuid::new_v4(),
        parent_object: o.api_slug.clone(),
        parent_record_id: parent,
        title,
        content,
        created_by: actor(caller.member),
        created_at: now,
    };
    ws_mut(&mut world, &caller)?.notes.push(note.clone());
    render(&world, &caller, &note, note_json)
}

pub async fn get_note(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    read(&shared, &headers, &[NOTE_READ, OBJ_READ, REC_READ], |world, w| {
        let nid = uuid_param(&id, "Note")?;
        Ok(note_json(w, find_or_404(&w.notes, "Note", nid, |n| n.id == nid)?, world))
    })
}

pub async fn delete_note(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let (mut world, caller) = locked(&shared, &headers, &[NOTE_WRITE])?;
    let nid = uuid_param(&id, "Note")?;
    remove_or_404(&mut ws_mut(&mut world, &caller)?.notes, "Note", nid, |n| n.id == nid)?;
    empty()
}
