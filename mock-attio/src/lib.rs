//! # mock-attio
//!
//! A local, faithful stand-in for Attio, used by the gateway's end-to-end tests and by the
//! offline demo. It serves both of Attio's hosts from one origin: the app host's OAuth
//! endpoints (`/authorize`, `/oauth/token`, `/oauth/introspect`, `/oauth/revoke`) and the API
//! host's REST v2 (`/v2/...`). Point the gateway's `ATTIO_APP_BASE_URL` and
//! `ATTIO_API_BASE_URL` at it.
//!
//! Behaviour follows `shared/reference/attio-api.md` §7 and Attio's OpenAPI spec; where Attio's
//! behaviour is undocumented (401/403 bodies, token-endpoint errors) the assumption is marked
//! in the code.
//!
//! ## Layout
//! - [`model`]: the data (apps, credentials, workspaces, records, meetings, comment threads) in
//!   one [`model::World`].
//! - [`seed`]: demo data with stable ids ([`ids`]).
//! - [`oauth`]: the OAuth endpoints; [`rest`]: the REST API, one file a resource
//!   ([`rest::objects`], [`rest::records`], [`rest::lists`], [`rest::notes`], [`rest::tasks`],
//!   [`rest::members`], [`rest::meetings`], [`rest::comments`]); [`values`]: value typing,
//!   filters and sorts.
//! - [`state`]: the shared state ([`Shared`], [`lock`]) and request helpers; the handler modules
//!   import them from there, never from this root, which only uses its modules (and re-exports).
//! - [`admin`]: `/__mock/*` knobs for tests (faults, delays, token style, PKCE, clock, log).
//! - [`MockAttio`]: run it in-process on a free port (tests) — or use the `mock-attio` binary.
//! - [`client`]: a small blocking HTTP client for tests.

pub mod admin;
pub mod client;
pub mod clock;
pub mod error;
pub mod ids;
pub mod model;
pub mod oauth;
pub mod rest;
pub mod seed;
pub mod state;
pub mod values;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

pub use model::{Settings, TokenStyle};
pub use state::{bearer_or_basic_token, html_escape, lock, Shared};

/// All routes, wrapped in the request log and the fault layer.
///
/// | REST v2 route | Methods |
/// |---|---|
/// | `/v2/self` | GET |
/// | `/v2/objects`, `/v2/objects/{object}`, `/v2/objects/{object}/attributes` | GET |
/// | `/v2/{objects\|lists}/{identifier}/attributes/{attribute}/options`, `…/statuses` | GET |
/// | `/v2/objects/records/search`, `/v2/objects/{object}/records/query` | POST |
/// | `/v2/objects/{object}/records` | POST, PUT (assert) |
/// | `/v2/objects/{object}/records/{record_id}` | GET, PATCH, PUT, DELETE |
/// | `/v2/objects/{object}/records/{record_id}/entries` | GET |
/// | `/v2/lists`, `/v2/lists/{list}`, `/v2/lists/{list}/attributes` | GET |
/// | `/v2/lists/{list}/entries/query` | POST |
/// | `/v2/lists/{list}/entries` | POST, PUT (assert) |
/// | `/v2/lists/{list}/entries/{entry_id}` | GET, PATCH, PUT, DELETE |
/// | `/v2/workspace_members`, `/v2/workspace_members/{id}` | GET |
/// | `/v2/notes` | GET, POST; `/v2/notes/{id}`: GET, DELETE |
/// | `/v2/tasks` | GET, POST; `/v2/tasks/{id}`: GET, PATCH, DELETE |
/// | `/v2/meetings`, `/v2/meetings/{meeting_id}` | GET |
/// | `/v2/meetings/{meeting_id}/call_recordings`, `…/{call_recording_id}`, `…/{call_recording_id}/transcript` | GET |
/// | `/v2/threads`, `/v2/threads/{thread_id}` | GET |
/// | `/v2/comments` | POST; `/v2/comments/{comment_id}`: GET, DELETE |
///
/// Anything else (another method included) is Attio's 404 envelope.
pub fn router(shared: Shared) -> Router {
    use rest::{comments, lists::*, meetings, members::*, not_found, notes::*, objects::*, records::*, tasks::*};
    let api = Router::new()
        .route("/v2/self", get(identify))
        .route("/v2/objects", get(list_objects))
        .route("/v2/objects/records/search", post(search_records))
        .route("/v2/objects/{object}", get(get_object))
        .route("/v2/objects/{object}/attributes", get(object_attributes))
        .route("/v2/objects/{object}/attributes/{attribute}/options", get(object_attribute_options))
        .route("/v2/objects/{object}/attributes/{attribute}/statuses", get(object_attribute_statuses))
        .route("/v2/objects/{object}/records/query", post(query_records))
        .route("/v2/objects/{object}/records", post(create_record).put(assert_record))
        .route(
            "/v2/objects/{object}/records/{record_id}",
            get(get_record).patch(patch_record).put(put_record).delete(delete_record),
        )
        .route("/v2/objects/{object}/records/{record_id}/entries", get(record_entries))
        .route("/v2/lists", get(list_lists))
        .route("/v2/lists/{list}", get(get_list))
        .route("/v2/lists/{list}/attributes", get(list_attributes))
        .route("/v2/lists/{list}/attributes/{attribute}/options", get(list_attribute_options))
        .route("/v2/lists/{list}/attributes/{attribute}/statuses", get(list_attribute_statuses))
        .route("/v2/lists/{list}/entries/query", post(query_entries))
        .route("/v2/lists/{list}/entries", post(create_entry).put(assert_entry))
        .route(
            "/v2/lists/{list}/entries/{entry_id}",
            get(get_entry).patch(patch_entry).put(put_entry).delete(delete_entry),
        )
        .route("/v2/workspace_members", get(list_members))
        .route("/v2/workspace_members/{id}", get(get_member))
        .route("/v2/notes", get(list_notes).post(create_note))
        .route("/v2/notes/{id}", get(get_note).delete(delete_note))
        .route("/v2/tasks", get(list_tasks).post(create_task))
        .route("/v2/tasks/{id}", get(get_task).patch(patch_task).delete(delete_task))
        .route("/v2/meetings", get(meetings::list_meetings))
        .route("/v2/meetings/{meeting_id}", get(meetings::get_meeting))
        .route("/v2/meetings/{meeting_id}/call_recordings", get(meetings::list_call_recordings))
        .route("/v2/meetings/{meeting_id}/call_recordings/{call_recording_id}", get(meetings::get_call_recording))
        .route(
            "/v2/meetings/{meeting_id}/call_recordings/{call_recording_id}/transcript",
            get(meetings::get_transcript),
        )
        .route("/v2/threads", get(comments::list_threads))
        .route("/v2/threads/{thread_id}", get(comments::get_thread))
        .route("/v2/comments", post(comments::create_comment))
        .route("/v2/comments/{comment_id}", get(comments::get_comment).delete(comments::delete_comment))
        .route("/authorize", get(oauth::authorize_page).post(oauth::authorize_decision))
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/introspect", post(oauth::introspect))
        .route("/oauth/revoke", post(oauth::revoke))
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .layer(middleware::from_fn_with_state(shared.clone(), faults_and_log));
    api.merge(admin::routes()).route("/", get(index)).with_state(shared)
}

async fn index(State(shared): State<Shared>) -> Response {
    let world = lock(&shared);
    let body = format!(
        "mock-attio at {}\n\nOAuth: GET /authorize, POST /oauth/token, /oauth/introspect, /oauth/revoke\n\
         REST: /v2/...\nKnobs: /__mock/...\n\nDemo app client_id: {}\nclient_secret: {}\n",
        world.base_url,
        seed::DEFAULT_CLIENT_ID,
        seed::DEFAULT_CLIENT_SECRET
    );
    body.into_response()
}

/// Most body bytes the request log keeps per request.
const LOGGED_BODY_MAX: usize = 64 * 1024;

/// Logs each request, then applies the injected delay and failures (Attio's 429 shape exactly).
async fn faults_and_log(State(shared): State<Shared>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 10 * 1024 * 1024).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "body too large").into_response();
    };
    let header_str =
        |name: header::HeaderName| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (delay, failure) = {
        let mut world = lock(&shared);
        world.record_request(model::LoggedRequest {
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
            query: parts.uri.query().map(str::to_string),
            authorization: header_str(header::AUTHORIZATION),
            content_type: header_str(header::CONTENT_TYPE),
            body: String::from_utf8_lossy(&bytes[..bytes.len().min(LOGGED_BODY_MAX)]).into_owned(),
        });
        let path = parts.uri.path();
        let failure = match &mut world.faults.fail_next {
            Some(f) if f.count > 0 && f.path_prefix.as_deref().is_none_or(|p| path.starts_with(p)) => {
                f.count -= 1;
                Some((f.status, f.retry_after, f.body.clone(), f.location.clone()))
            }
            _ => None,
        };
        if world.faults.fail_next.as_ref().is_some_and(|f| f.count == 0) {
            world.faults.fail_next = None;
        }
        let retry_at = failure.map(|(status, style, body, location)| {
            let value = match style {
                model::RetryAfterStyle::HttpDate => world.clock.http_date_in(1),
                model::RetryAfterStyle::Seconds => "1".to_string(),
            };
            (status, value, body, location)
        });
        (world.faults.delay_ms, retry_at)
    };
    let drip = lock(&shared).faults.drip_ms_per_byte;
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if let Some((status, retry_after, body, location)) = failure {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = match body {
            Some(b) => (status, [(header::CONTENT_TYPE, "text/html")], b).into_response(),
            None => rest::status_error(status).into_response(),
        };
        if let Some(l) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            resp.headers_mut().insert(header::LOCATION, l);
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            if let Ok(v) = HeaderValue::from_str(&retry_after) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        return resp;
    }
    let resp = next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await;
    if drip > 0 {
        return dripping(resp, drip).await;
    }
    resp
}

/// The same response with its body sent one byte every `ms` (chunked: no length declared).
async fn dripping(resp: Response, ms: u64) -> Response {
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 10 * 1024 * 1024).await.unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    let stream = futures_util::stream::unfold((bytes, 0usize), move |(bytes, at)| async move {
        if at >= bytes.len() {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(ms)).await;
        let byte = bytes.slice(at..at + 1);
        Some((Ok::<_, std::convert::Infallible>(byte), (bytes, at + 1)))
    });
    Response::from_parts(parts, axum::body::Body::from_stream(stream))
}

/// A mock Attio running in-process on a free loopback port, for tests. Dropping it stops it.
#[derive(Debug)]
pub struct MockAttio {
    addr: SocketAddr,
    shared: Shared,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MockAttio {
    /// Starts the mock with the given redirect URIs registered for the demo app.
    pub fn start(redirect_uris: Vec<String>, settings: Settings) -> std::io::Result<Self> {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let mut world = seed::world(redirect_uris, settings);
        world.base_url = format!("http://{addr}");
        let shared: Shared = Arc::new(Mutex::new(world));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = router(shared.clone());
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(std_listener) else {
                    return;
                };
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await;
            });
        });
        Ok(Self { addr, shared, shutdown: Some(tx), thread: Some(thread) })
    }

    /// `http://127.0.0.1:PORT`: both the app and the API base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn state(&self) -> &Shared {
        &self.shared
    }

    /// Runs `f` with the world locked (tests use it to flip knobs or inspect state).
    pub fn with<R>(&self, f: impl FnOnce(&mut model::World) -> R) -> R {
        f(&mut lock(&self.shared))
    }

    /// Mints a long-lived token for a member directly, as if they had completed OAuth.
    pub fn issue_token(&self, member_id: &str) -> Option<String> {
        let member = uuid::Uuid::parse_str(member_id).ok()?;
        self.with(|w| admin::mint_token(w, member))
    }
}

impl Drop for MockAttio {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
