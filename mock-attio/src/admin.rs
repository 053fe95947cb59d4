//! Test knobs under `/__mock/*` (not part of Attio): token style, PKCE enforcement,
//! auto-approval, injected failures and delays, token revocation, the clock, the request log,
//! the app's redirect URIs and scopes, and a reset to the seeded data.
//!
//! | Route | Body | Effect |
//! |---|---|---|
//! | `GET/POST /__mock/settings` | [`Settings`](crate::Settings) (partial allowed) | read / change switches |
//! | `POST /__mock/fail-next` | `{"status":429,"count":N,"retry_after":"http-date"\|"seconds","path_prefix"?,"body"?,"location"?}` | next N requests fail (with `body` or `location`: any status) |
//! | `POST /__mock/delay` | `{"ms":N}` | every request waits N ms |
//! | `POST /__mock/drip` | `{"ms_per_byte":N}` | every response body is sent one byte each N ms |
//! | `POST /__mock/clear-faults` | – | no failures, no delay, no drip |
//! | `POST /__mock/revoke` | `{"token":…}` or `{"workspace_id":…}` | revoke one token / every token of a workspace |
//! | `POST /__mock/clock` | `{"advance_secs":N}` | move the mock's clock forward |
//! | `GET/DELETE /__mock/requests` | – | read / clear the request log |
//! | `POST /__mock/app` | `{"redirect_uris"?:[…],"scopes"?:[…]}` | reconfigure the demo app |
//! | `POST /__mock/tokens` | `{"member_id":…}` | mint a long-lived token without OAuth |
//! | `POST /__mock/reset` | – | restore the seeded data (future meetings placed by the mock's current clock) and drop all credentials |

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::model::{AccessGrant, FailNext, World};
use crate::seed;
use crate::state::{lock, Shared};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/__mock/settings", get(get_settings).post(set_settings))
        .route("/__mock/fail-next", post(fail_next))
        .route("/__mock/delay", post(delay))
        .route("/__mock/drip", post(drip))
        .route("/__mock/clear-faults", post(clear_faults))
        .route("/__mock/revoke", post(revoke))
        .route("/__mock/clock", post(clock))
        .route("/__mock/requests", get(requests).delete(clear_requests))
        .route("/__mock/app", post(app))
        .route("/__mock/tokens", post(tokens))
        .route("/__mock/reset", post(reset))
}

fn bad(msg: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": msg}))).into_response()
}

async fn get_settings(State(s): State<Shared>) -> Response {
    Json(lock(&s).settings.clone()).into_response()
}

/// Merges the given fields into the current settings.
async fn set_settings(State(s): State<Shared>, Json(patch): Json<Value>) -> Response {
    let mut world = lock(&s);
    let mut current = serde_json::to_value(&world.settings).unwrap_or_default();
    if let (Some(cur), Some(p)) = (current.as_object_mut(), patch.as_object()) {
        cur.extend(p.clone());
    }
    match serde_json::from_value(current) {
        Ok(settings) => {
            world.settings = settings;
            Json(world.settings.clone()).into_response()
        }
        Err(e) => bad(&e.to_string()),
    }
}

async fn fail_next(State(s): State<Shared>, Json(f): Json<FailNext>) -> Response {
    let valid = (400..=599).contains(&f.status)
        || ((f.body.is_some() || f.location.is_some()) && (200..=599).contains(&f.status));
    if !valid {
        return bad("status must be 4xx or 5xx (or any, with a body)");
    }
    lock(&s).faults.fail_next = Some(f);
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct Delay {
    ms: u64,
}

async fn delay(State(s): State<Shared>, Json(d): Json<Delay>) -> Response {
    lock(&s).faults.delay_ms = d.ms;
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct Drip {
    ms_per_byte: u64,
}

async fn drip(State(s): State<Shared>, Json(d): Json<Drip>) -> Response {
    lock(&s).faults.drip_ms_per_byte = d.ms_per_byte;
    StatusCode::NO_CONTENT.into_response()
}

async fn clear_faults(State(s): State<Shared>) -> Response {
    lock(&s).faults = Default::default();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct Revoke {
    token: Option<String>,
    workspace_id: Option<Uuid>,
}

async fn revoke(State(s): State<Shared>, Json(r): Json<Revoke>) -> Response {
    let mut world = lock(&s);
    let mut n = 0;
    for (token, grant) in world.access_tokens.iter_mut() {
        if r.token.as_deref() == Some(token.as_str()) || r.workspace_id == Some(grant.workspace_id) {
            grant.revoked = true;
            n += 1;
        }
    }
    for (token, grant) in world.refresh_tokens.iter_mut() {
        if r.token.as_deref() == Some(token.as_str()) || r.workspace_id == Some(grant.workspace_id) {
            grant.revoked = true;
            n += 1;
        }
    }
    Json(json!({"revoked": n})).into_response()
}

#[derive(Deserialize)]
struct Advance {
    advance_secs: i64,
}

async fn clock(State(s): State<Shared>, Json(a): Json<Advance>) -> Response {
    let mut world = lock(&s);
    world.clock.advance(a.advance_secs);
    Json(json!({"now": world.clock.now()})).into_response()
}

async fn requests(State(s): State<Shared>) -> Response {
    Json(lock(&s).log.clone()).into_response()
}

async fn clear_requests(State(s): State<Shared>) -> Response {
    lock(&s).log.clear();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct AppPatch {
    redirect_uris: Option<Vec<String>>,
    scopes: Option<Vec<String>>,
}

async fn app(State(s): State<Shared>, Json(p): Json<AppPatch>) -> Response {
    let mut world = lock(&s);
    let Some(app) = world.apps.first_mut() else {
        return bad("no app");
    };
    if let Some(r) = p.redirect_uris {
        app.redirect_uris = r;
    }
    if let Some(sc) = p.scopes {
        app.scopes = sc;
    }
    Json(json!({"client_id": app.client_id, "redirect_uris": app.redirect_uris, "scopes": app.scopes})).into_response()
}

#[derive(Deserialize)]
struct Mint {
    member_id: Uuid,
}

/// Mints a long-lived access token for `member` with the demo app's scopes.
pub fn mint_token(world: &mut World, member: Uuid) -> Option<String> {
    let workspace_id = world.workspace_of_member(member)?.id;
    let app = world.apps.first()?;
    let (client_id, scopes) = (app.client_id.clone(), app.scopes.clone());
    let token = crate::model::random_token("attio_at_");
    let issued_at = world.clock.now();
    world.access_tokens.insert(
        token.clone(),
        AccessGrant { workspace_id, member_id: member, client_id, scopes, issued_at, expires_at: None, revoked: false },
    );
    Some(token)
}

async fn tokens(State(s): State<Shared>, Json(m): Json<Mint>) -> Response {
    match mint_token(&mut lock(&s), m.member_id) {
        Some(t) => Json(json!({"access_token": t, "token_type": "Bearer"})).into_response(),
        None => bad("unknown member"),
    }
}

async fn reset(State(s): State<Shared>) -> Response {
    let mut world = lock(&s);
    world.workspaces = seed::workspaces(&world.clock);
    world.access_tokens.clear();
    world.refresh_tokens.clear();
    world.codes.clear();
    world.faults = Default::default();
    world.log.clear();
    StatusCode::NO_CONTENT.into_response()
}
