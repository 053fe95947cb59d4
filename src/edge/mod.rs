//! The edge: the only module that names `worker`. It converts between the runtime's types and the
//! core's plain `http` types, and implements the core's traits over the Workers runtime
//! (Env, Fetch, KV, Durable Objects, cron). Compiled for wasm32 only.

mod durable;
mod fetch;
mod js;
mod kv;
mod platform;
mod webcrypto;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Wake, Waker};

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::future_to_promise;
use worker::worker_sys::web_sys;
use worker::{event, Env, ScheduleContext, ScheduledEvent};

use self::platform::EdgePlatform;
use crate::app::{self, MAX_BODY_BYTES};
use crate::config::SettingsSource;
use crate::error::AppError;
use crate::platform::Log;

/// The fetch handler, exported to the runtime directly rather than through `#[event(fetch)]`.
///
/// It works on the raw `web_sys` request and response rather than
/// `worker::Request`/`worker::Response`: the latter materialise `request.cf`, parse the URL a
/// second time and cross the JS boundary once per header (see [`js`]). And it polls the
/// handler once before building any promise: a route that needs no I/O (metadata, refusals,
/// pages) is answered synchronously, with no `Promise`, task queue or microtask; only a route
/// that is still waiting on I/O after that first poll goes to `wasm-bindgen-futures`. The
/// runtime accepts either a `Response` or a promise of one from `fetch`.
#[wasm_bindgen]
#[allow(unreachable_pub)] // exported to JS: the runtime calls it
pub fn fetch(req: web_sys::Request, env: Env, ctx: worker::worker_sys::Context) -> JsValue {
    let mut answer = Box::pin(async move { respond(&req, &env, &ctx).await });
    let relay = Arc::new(Relay(Mutex::new(None)));
    let waker = Waker::from(relay.clone());
    match answer.as_mut().poll(&mut std::task::Context::from_waker(&waker)) {
        Poll::Ready(response) => response.into(),
        Poll::Pending => future_to_promise(async move {
            let response = std::future::poll_fn(|cx| {
                if let Ok(mut slot) = relay.0.lock() {
                    *slot = Some(cx.waker().clone());
                }
                answer.as_mut().poll(cx)
            })
            .await;
            Ok(response.into())
        })
        .into(),
    }
}

/// The waker of the first, synchronous poll. Whatever the handler registered it with during
/// that poll (`worker::Delay` keeps the first waker it is given, for one) reaches the
/// executor's current waker once the future has been handed to `wasm-bindgen-futures`, which
/// also polls it once straight away, so no wake-up is lost.
struct Relay(Mutex<Option<Waker>>);

impl Wake for Relay {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(waker) = self.0.lock().ok().and_then(|slot| slot.clone()) {
            waker.wake();
        }
    }
}

/// The whole request: read, route, and always a well-formed response.
async fn respond(req: &web_sys::Request, env: &Env, ctx: &worker::worker_sys::Context) -> web_sys::Response {
    let p = EdgePlatform::new(env, Some(ctx));
    let response = match into_core_request(req, &p).await {
        Ok(request) => app::handle(request, &p).await,
        Err(response) => response,
    };
    // A conversion failure must still answer something well-formed, never a runtime error.
    into_web_response(response).unwrap_or_else(|_| internal_error())
}

fn internal_error() -> web_sys::Response {
    let init = web_sys::ResponseInit::new();
    init.set_status(500);
    web_sys::Response::new_with_opt_str_and_init(Some("internal error"), &init)
        .unwrap_or_else(|_| web_sys::Response::error())
}

/// The cron trigger: the daily work in [`crate::control::cron::run`].
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let p = EdgePlatform::new(&env, None);
    match p.config() {
        Ok(config) => crate::control::cron::run(&p, &config).await,
        Err(e) => p.log("vault.reseal_all_skipped", &e.to_string()),
    }
}

/// Reads the request into the core's type; a request without a body (GET, HEAD) never awaits
/// one. Oversized or unreadable bodies are answered here, before the body is buffered, and so
/// is a request the core can refuse from its head alone ([`app::answer_from_head`]).
async fn into_core_request(
    req: &web_sys::Request,
    p: &EdgePlatform<'_>,
) -> Result<crate::base::http::Request, crate::base::http::Response> {
    let bad_request = || AppError::BadRequest("the request could not be read").into_response();
    let headers = js::headers_from_js(&req.headers()).ok_or_else(bad_request)?;
    let declared = headers.get("content-length").and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(AppError::PayloadTooLarge { limit: MAX_BODY_BYTES }.into_response());
    }
    let method = http::Method::from_bytes(req.method().as_bytes()).map_err(|_| bad_request())?;
    let mut builder = http::Request::builder().method(method.clone()).uri(req.url());
    for (name, value) in &headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let head = builder.body(Vec::new()).map_err(|_| bad_request())?;
    if matches!(method, http::Method::GET | http::Method::HEAD) || req.body().is_none() {
        return Ok(head);
    }
    if let Some(refusal) = app::answer_from_head(&head, p) {
        return Err(refusal);
    }
    let (parts, _) = head.into_parts();
    let body = if declared.is_some() {
        // Declared and within the limit: HTTP framing bounds what arrives.
        js::body(req.array_buffer()).await.map_err(|_| bad_request())?
    } else {
        // Chunked: count the bytes as they arrive instead of trusting a header.
        js::read_capped(req.body(), MAX_BODY_BYTES).await.map_err(|e| match e {
            js::CappedReadError::TooLarge => AppError::PayloadTooLarge { limit: MAX_BODY_BYTES }.into_response(),
            js::CappedReadError::Failed(_) => bad_request(),
        })?
    };
    Ok(crate::base::http::Request::from_parts(parts, body))
}

/// Builds the JS response; the body is copied once.
fn into_web_response(resp: crate::base::http::Response) -> Result<web_sys::Response, JsValue> {
    let (parts, mut body) = resp.into_parts();
    let init = web_sys::ResponseInit::new();
    init.set_status(parts.status.as_u16());
    init.set_headers(&js::headers_to_js(&parts.headers)?);
    // A null-body status (204, 304) must not be given even an empty body.
    let body = if body.is_empty() { None } else { Some(body.as_mut_slice()) };
    web_sys::Response::new_with_opt_u8_array_and_init(body, &init)
}
