//! The edge: the only module that names `worker`. It converts between workers-rs types and the
//! core's plain `http` types, and implements the core's traits over the Workers runtime
//! (Env, Fetch, KV, Durable Objects, cron). Compiled for wasm32 only.

mod durable;
mod fetch;
mod platform;

use std::collections::BTreeMap;

use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use worker::js_sys::{Object, Uint8Array, JSON};
use worker::worker_sys::web_sys;
use worker::{event, Context, Env, ScheduleContext, ScheduledEvent};

use crate::app::{self, MAX_BODY_BYTES};
use crate::config::SettingsSource;
use crate::error::AppError;
use crate::platform::Log;

fn platform(env: &Env) -> platform::EdgePlatform<'_> {
    platform::EdgePlatform::new(env)
}

/// The fetch handler works on the raw `web_sys` request and response rather than
/// `worker::Request`/`worker::Response`: the latter materialise `request.cf`, parse the URL a
/// second time and cross the JS boundary once per header, which together cost more CPU than
/// everything the metadata route does itself (see `scripts/bench --profile`).
#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, _ctx: Context) -> worker::Result<web_sys::Response> {
    let response = match into_core_request(&req).await {
        Ok(request) => app::handle(request, &platform(&env)).await,
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
    let p = platform(&env);
    match p.config() {
        Ok(config) => {
            let report = crate::vault::reseal_all(&p, config.vault()).await;
            p.log("vault.reseal_all", &serde_json::to_string(&report).unwrap_or_default());
        }
        Err(e) => p.log("vault.reseal_all_skipped", &e.to_string()),
    }
}

/// Reads the request into the core's type with as few JS calls as possible: all headers come
/// over as one JSON string, and a request without a body (GET, HEAD) never awaits one.
/// Oversized or unreadable bodies are answered here, before the body is buffered.
async fn into_core_request(req: &web_sys::Request) -> Result<crate::http::Request, crate::http::Response> {
    let bad_request = || AppError::BadRequest("the request could not be read").into_response();
    let headers = req.headers();
    let declared = headers.get("content-length").ok().flatten().and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(AppError::PayloadTooLarge { limit: MAX_BODY_BYTES }.into_response());
    }
    let method = http::Method::from_bytes(req.method().as_bytes()).map_err(|_| bad_request())?;
    let mut builder = http::Request::builder().method(method.clone()).uri(req.url());
    // Headers iterate as [name, value] pairs, names lower-cased and repeats already joined.
    let pairs: BTreeMap<String, String> = Object::from_entries(&headers)
        .and_then(|o| JSON::stringify(&o))
        .ok()
        .and_then(|s| s.as_string())
        .and_then(|s| serde_json::from_str(&s).ok())
        .ok_or_else(bad_request)?;
    for (name, value) in &pairs {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let body = if matches!(method, http::Method::GET | http::Method::HEAD) || req.body().is_none() {
        Vec::new()
    } else {
        let buffer = req.array_buffer().map_err(|_| bad_request())?;
        let buffer = JsFuture::from(buffer).await.map_err(|_| bad_request())?;
        Uint8Array::new(&buffer).to_vec()
    };
    builder.body(body).map_err(|_| bad_request())
}

/// Builds the JS response: headers go over as one JSON array of pairs (repeated names, such as
/// two `Set-Cookie`, survive), the body as one copy.
fn into_web_response(resp: crate::http::Response) -> Result<web_sys::Response, JsValue> {
    let (parts, mut body) = resp.into_parts();
    let pairs: Vec<(&str, &str)> =
        parts.headers.iter().filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v))).collect();
    let json = serde_json::to_string(&pairs).map_err(|_| JsValue::NULL)?;
    let init = web_sys::ResponseInit::new();
    init.set_status(parts.status.as_u16());
    init.set_headers(&JSON::parse(&json)?);
    // A null-body status (204, 304) must not be given even an empty body.
    let body = if body.is_empty() { None } else { Some(body.as_mut_slice()) };
    web_sys::Response::new_with_opt_u8_array_and_init(body, &init)
}
