//! The edge: the only module that names `worker`. It converts between workers-rs types and the
//! core's plain `http` types, and implements the core's traits over the Workers runtime
//! (Env, Fetch, KV, Durable Objects, cron). Compiled for wasm32 only.

mod durable;
mod fetch;
mod platform;

use http::header::CONTENT_LENGTH;
use worker::{event, Context, Env, ScheduleContext, ScheduledEvent};

use crate::app::{self, MAX_BODY_BYTES};
use crate::config::{attio_timeout_ms, Config};
use crate::error::AppError;
use crate::platform::Log;

fn platform(env: &Env) -> platform::EdgePlatform<'_> {
    let timeout = attio_timeout_ms(&platform::EdgePlatform::new(env, fetch::FetchClient::new(0)));
    platform::EdgePlatform::new(env, fetch::FetchClient::new(timeout))
}

#[event(fetch)]
async fn fetch(req: worker::Request, env: Env, _ctx: Context) -> worker::Result<worker::Response> {
    let response = match into_core_request(req).await {
        Ok(request) => app::handle(request, &platform(&env)).await,
        Err(response) => response,
    };
    // A conversion failure must still answer something well-formed, never a runtime error.
    into_worker_response(response).or_else(|_| worker::Response::error("internal error", 500))
}

/// The cron trigger: re-seals every vaulted token sealed under an older `VAULT_KEYS` key, so
/// an old key can be removed once a run reports nothing left under it.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let p = platform(&env);
    match Config::load(&p) {
        Ok(config) => {
            let report = crate::vault::reseal_all(&p, config.vault()).await;
            p.log("vault.reseal_all", &serde_json::to_string(&report).unwrap_or_default());
        }
        Err(e) => p.log("vault.reseal_all_skipped", &e.to_string()),
    }
}

/// Reads a workers-rs request into the core's type; oversized or unreadable bodies are answered
/// here, before the body is buffered.
async fn into_core_request(mut req: worker::Request) -> Result<crate::http::Request, crate::http::Response> {
    let bad_request = || AppError::BadRequest("the request could not be read").into_response();
    let declared = req.headers().get(CONTENT_LENGTH.as_str()).ok().flatten().and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(AppError::PayloadTooLarge { limit: MAX_BODY_BYTES }.into_response());
    }
    let method = http::Method::from_bytes(req.method().as_ref().as_bytes()).map_err(|_| bad_request())?;
    let url = req.url().map_err(|_| bad_request())?;
    let mut builder = http::Request::builder().method(method).uri(url.as_str());
    for (name, value) in req.headers().entries() {
        builder = builder.header(name, value);
    }
    let body = req.bytes().await.unwrap_or_default();
    builder.body(body).map_err(|_| bad_request())
}

fn into_worker_response(resp: crate::http::Response) -> worker::Result<worker::Response> {
    let (parts, body) = resp.into_parts();
    let headers = worker::Headers::new();
    for (name, value) in parts.headers.iter() {
        if let Ok(v) = value.to_str() {
            headers.append(name.as_str(), v)?;
        }
    }
    // A null-body status (204, 304) must not be given even an empty body.
    let response = if body.is_empty() { worker::Response::empty()? } else { worker::Response::from_bytes(body)? };
    Ok(response.with_status(parts.status.as_u16()).with_headers(headers))
}
