//! Who is asking: `GET /v2/self` (token introspection) and the workspace members
//! (`/v2/workspace_members`, `/v2/workspace_members/{id}`).

use super::*;

/// `GET /v2/self`: the bare introspection object, not wrapped in `data`.
pub async fn identify(State(shared): State<Shared>, headers: HeaderMap) -> ApiResult {
    let world = crate::state::lock(&shared);
    let token = bearer_or_basic_token(&headers)
        .ok_or_else(|| ApiError::unauthorized("Missing access token. Send it as a Bearer token."))?;
    // Observed: a malformed token gets 400, an unknown or revoked one `{"active":false}`.
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::validation("Malformed access token.".into()));
    }
    Ok(Json(crate::oauth::introspection(&world, &token)).into_response())
}

pub async fn list_members(State(shared): State<Shared>, headers: HeaderMap) -> ApiResult {
    read(&shared, &headers, &[USERS_READ], |world, w| {
        Ok(Value::Array(w.members.iter().map(|m| crate::model::member_json(w.id, m, &world.clock)).collect()))
    })
}

pub async fn get_member(State(shared): State<Shared>, headers: HeaderMap, Path(id): Path<String>) -> ApiResult {
    read(&shared, &headers, &[USERS_READ], |world, w| {
        let id = uuid_param(&id, "Workspace member")?;
        let m = w.member(id).ok_or_else(|| not_found_id("Workspace member", id))?;
        Ok(crate::model::member_json(w.id, m, &world.clock))
    })
}
