//! The edge: the only module that names `worker`. It converts between the runtime's types and the
//! core's plain `http` types, and implements the core's traits over the Workers runtime
//! (Env, Fetch, KV, Durable Objects, cron). Compiled for wasm32 only.

mod durable;
mod fetch;
mod js;
mod platform;

use wasm_bindgen::JsValue;
use worker::worker_sys::web_sys;
use worker::{event, Context, Env, ScheduleContext, ScheduledEvent};

use self::platform::EdgePlatform;
use crate::app::{self, MAX_BODY_BYTES};
use crate::config::SettingsSource;
use crate::error::AppError;
use crate::platform::Log;

/// The fetch handler works on the raw `web_sys` request and response rather than
/// `worker::Request`/`worker::Response`: the latter materialise `request.cf`, parse the URL a
/// second time and cross the JS boundary once per header (see [`js`]).
#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, _ctx: Context) -> worker::Result<web_sys::Response> {
    let response = match into_core_request(&req).await {
        Ok(request) => app::handle(request, &EdgePlatform::new(&env)).await,
        Err(response) => response,
    };
    // A conversion failure must still answer something well-formed, never a runtime error.
    into_web_response(response).or_else(|_| {
        let init = web_sys::ResponseInit::new();
        init.set_status(500);
        Ok(web_sys::Response::new_with_opt_str_and_init(Some("internal error"), &init)?)
    })
}

/// The cron trigger: re-seals every vaulted token sealed under an older `VAULT_KEYS` key, so
/// an old key can be removed once a run reports nothing left under it.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let p = EdgePlatform::new(&env);
    match p.config() {
        Ok(config) => {
            let report = crate::vault::reseal_all(&p, config.vault()).await;
            p.log("vault.reseal_all", &serde_json::to_string(&report).unwrap_or_default());
        }
        Err(e) => p.log("vault.reseal_all_skipped", &e.to_string()),
    }
}

/// Reads the request into the core's type; a request without a body (GET, HEAD) never awaits
/// one. Oversized or unreadable bodies are answered here, before the body is buffered.
async fn into_core_request(req: &web_sys::Request) -> Result<crate::http::Request, crate::http::Response> {
    let bad_request = || AppError::BadRequest("the request could not be read").into_response();
    let headers = req.headers();
    let declared = headers.get("content-length").ok().flatten().and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(AppError::PayloadTooLarge { limit: MAX_BODY_BYTES }.into_response());
    }
    let method = http::Method::from_bytes(req.method().as_bytes()).map_err(|_| bad_request())?;
    let mut builder = http::Request::builder().method(method.clone()).uri(req.url());
    for (name, value) in &js::headers_from_js(&headers).ok_or_else(bad_request)? {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let body = if matches!(method, http::Method::GET | http::Method::HEAD) || req.body().is_none() {
        Vec::new()
    } else {
        js::body(req.array_buffer()).await.map_err(|_| bad_request())?
    };
    builder.body(body).map_err(|_| bad_request())
}

/// Builds the JS response; the body is copied once.
fn into_web_response(resp: crate::http::Response) -> Result<web_sys::Response, JsValue> {
    let (parts, mut body) = resp.into_parts();
    let init = web_sys::ResponseInit::new();
    init.set_status(parts.status.as_u16());
    init.set_headers(&js::headers_to_js(&parts.headers)?);
    // A null-body status (204, 304) must not be given even an empty body.
    let body = if body.is_empty() { None } else { Some(body.as_mut_slice()) };
    web_sys::Response::new_with_opt_u8_array_and_init(body, &init)
}
