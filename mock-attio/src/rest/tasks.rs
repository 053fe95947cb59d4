//! Tasks: list (filtered by linked record, assignee, completion; sorted by creation), create,
//! get, update and delete; linked records and assignees are checked against the workspace.

use super::*;
use crate::model::Task;

fn task_json(w: &Workspace, t: &Task, world: &World) -> Value {
    json!({
        "id": {"workspace_id": w.id, "task_id": t.id},
        "content_plaintext": t.content,
        "deadline_at": t.deadline_at,
        "is_completed": t.is_completed,
        "linked_records": t.linked_records.iter().map(|(o, r)| json!({"target_object_id": o, "target_record_id": r})).collect::<Vec<_>>(),
        "assignees": t.assignees.iter().map(|a| json!({"referenced_actor_type": "workspace-member", "referenced_actor_id": a})).collect::<Vec<_>>(),
        "created_by_actor": t.created_by,
        "created_at": world.clock.format(t.created_at),
    })
}

#[derive(Debug, Deserialize)]
pub struct TasksQuery {
    limit: Option<usize>,
    offset: Option<usize>,
    sort: Option<String>,
    linked_object: Option<String>,
    linked_record_id: Option<String>,
    assignee: Option<String>,
    is_completed: Option<bool>,
}

const TASK_SCOPES_READ: &[&str] = &[TASK_READ, OBJ_READ, REC_READ, USERS_READ];
const TASK_SCOPES_WRITE: &[&str] = &[TASK_WRITE, OBJ_READ, REC_READ, USERS_READ];

pub async fn list_tasks(State(shared): State<Shared>, headers: HeaderMap, Query(q): Query<TasksQuery>) -> ApiResult {
    read(&shared, &headers, TASK_SCOPES_READ, |world, w| {
        let linked_object = match &q.linked_object {
            Some(o) => Some(find_object(w, o)?.id),
            None => None,
        };
        let assignee = q.assignee.as_ref().map(|a| {
            w.members.iter().find(|m| m.id.to_string() == *a || m.email.eq_ignore_ascii_case(a)).map(|m| m.id)
        });
        let mut tasks: Vec<&Task> = w
            .tasks
            .iter()
            .filter(|t| linked_object.is_none_or(|o| t.linked_records.iter().any(|(lo, _)| *lo == o)))
            .filter(|t| {
                q.linked_record_id.as_ref().is_none_or(|r| t.linked_records.iter().any(|(_, lr)| lr.to_string() == *r))
            })
            .filter(|t| assignee.is_none_or(|a| a.is_some_and(|a| t.assignees.contains(&a))))
            .filter(|t| q.is_completed.is_none_or(|c| t.is_completed == c))
            .collect();
        match q.sort.as_deref() {
            None | Some("created_at:asc") => tasks.sort_by_key(|t| t.created_at),
            Some("created_at:desc") => tasks.sort_by_key(|t| std::cmp::Reverse(t.created_at)),
            Some(other) => {
                return Err(ApiError::validation(format!(
                    "Unsupported sort \"{other}\"; use created_at:asc or created_at:desc."
                )))
            }
        }
        let rendered: Vec<Value> = tasks.into_iter().map(|t| task_json(w, t, world)).collect();
        Ok(Value::Array(page(rendered, q.limit, q.offset, 500)))
    })
}

fn parse_linked(w: &Workspace, v: &Value) -> Result<Vec<(Uuid, Uuid)>, ApiError> {
    let items = v.as_array().ok_or_else(|| ApiError::validation("\"linked_records\" must be an array.".into()))?;
    items
        .iter()
        .map(|l| {
            let obj = l
                .get("target_object")
                .and_then(Value::as_str)
                .ok_or_else(|| ApiError::validation("Each linked record needs \"target_object\".".into()))?;
            let o = w.object(obj).ok_or_else(|| ApiError::not_found(format!("Object \"{obj}\" not found.")))?;
            let rid =
                l.get("target_record_id").and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok()).ok_or_else(
                    || ApiError::validation("Each linked record needs a \"target_record_id\" UUID.".into()),
                )?;
            find_record(w, o.id, rid)?;
            Ok((o.id, rid))
        })
        .collect()
}

/// Task assignees in either of the spec's forms: `{referenced_actor_type: "workspace-member",
/// referenced_actor_id}` or `{workspace_member_email_address}`.
fn parse_assignees(w: &Workspace, v: &Value) -> Result<Vec<Uuid>, ApiError> {
    let items = v.as_array().ok_or_else(|| ApiError::validation("\"assignees\" must be an array.".into()))?;
    items
        .iter()
        .map(|a| {
            let a = a.as_object().ok_or_else(|| ApiError::validation("Each assignee must be an object.".into()))?;
            if let Some(email) = a.get("workspace_member_email_address") {
                let email = email.as_str().ok_or_else(|| {
                    ApiError::validation("\"workspace_member_email_address\" must be a string.".into())
                })?;
                if a.len() > 1 {
                    return Err(ApiError::validation(
                        "An assignee given by \"workspace_member_email_address\" takes no other fields.".into(),
                    ));
                }
                return w.members.iter().find(|m| m.email.eq_ignore_ascii_case(email)).map(|m| m.id).ok_or_else(|| {
                    ApiError::validation(format!("No workspace member has the email address \"{email}\"."))
                });
            }
            if a.get("referenced_actor_type").and_then(Value::as_str) != Some("workspace-member") {
                return Err(ApiError::validation(
                    "Each assignee needs \"referenced_actor_type\": \"workspace-member\" and a \"referenced_actor_id\", \
                     or a \"workspace_member_email_address\"."
                        .into(),
                ));
            }
            let raw = a.get("referenced_actor_id").and_then(Value::as_str).unwrap_or_default();
            let id = uuid_field(raw, "referenced_actor_id")?;
            w.member(id).map(|m| m.id).ok_or_else(|| not_found_id("Workspace member", id))
        })
        .collect()
}

fn deadline(v: &Value) -> Result<Option<String>, ApiError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(ApiError::validation("\"deadline_at\" must be a timestamp string or null.".into())),
    }
}

pub async fn create_task(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> ApiResult {
    let (mut world, caller) = locked(&shared, &headers, TASK_SCOPES_WRITE)?;
    let d = body_data(&body)?;
    let required = ["content", "format", "deadline_at", "is_completed", "linked_records", "assignees"];
    let missing: Vec<&str> = required.iter().copied().filter(|k| !d.contains_key(*k)).collect();
    if !missing.is_empty() {
        return Err(ApiError::validation(format!("Missing required fields: {}.", missing.join(", "))));
    }
    if d.get("format").and_then(Value::as_str) != Some("plaintext") {
        return Err(ApiError::validation("\"format\" must be \"plaintext\".".into()));
    }
    let content = d
        .get("content")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::validation("\"content\" must be a string.".into()))?
        .to_string();
    let is_completed = d
        .get("is_completed")
        .and_then(Value::as_bool)
        .ok_or_else(|| ApiError::validation("\"is_completed\" must be a boolean.".into()))?;
    let now = world.clock.now();
    let w = ws(&world, &caller)?;
    let task = Task {
        id: Uuid::new_v4(),
        content,
        deadline_at: deadline(&d["deadline_at"])?,
        is_completed,
        linked_records: parse_linked(w, &d["linked_records"])?,
        assignees: parse_assignees(w, &d["assignees"])?,
        created_by: actor(caller.member),
        created_at: now,
    };
    ws_mut(&mut world, &caller)?.tasks.push(task.clone());
    render(&world, &caller, &task, task_json)
}

pub async fn get_task(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    read(&shared, &headers, TASK_SCOPES_READ, |world, w| {
        let tid = uuid_param(&id, "Task")?;
        Ok(task_json(w, find_or_404(&w.tasks, "Task", tid, |t| t.id == tid)?, world))
    })
}

pub async fn patch_task(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let (mut world, caller) = locked(&shared, &headers, TASK_SCOPES_WRITE)?;
    let d = body_data(&body)?;
    if d.contains_key("content") {
        return Err(ApiError::validation("A task's content cannot be updated.".into()));
    }
    let tid = uuid_param(&id, "Task")?;
    let w = ws(&world, &caller)?;
    let mut t = find_or_404(&w.tasks, "Task", tid, |t| t.id == tid)?.clone();
    if let Some(v) = d.get("deadline_at") {
        t.deadline_at = deadline(v)?;
    }
    if let Some(v) = d.get("is_completed") {
        t.is_completed =
            v.as_bool().ok_or_else(|| ApiError::validation("\"is_completed\" must be a boolean.".into()))?;
    }
    if let Some(v) = d.get("linked_records") {
        t.linked_records = parse_linked(w, v)?;
    }
    if let Some(v) = d.get("assignees") {
        t.assignees = parse_assignees(w, v)?;
    }
    let wm = ws_mut(&mut world, &caller)?;
    if let Some(slot) = wm.tasks.iter_mut().find(|x| x.id == tid) {
        *slot = t.clone();
    }
    render(&world, &caller, &t, task_json)
}

pub async fn delete_task(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    let (mut world, caller) = locked(&shared, &headers, &[TASK_WRITE])?;
    let tid = uuid_param(&id, "Task")?;
    remove_or_404(&mut ws_mut(&mut world, &caller)?.tasks, "Task", tid, |t| t.id == tid)?;
    empty()
}
