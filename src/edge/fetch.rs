//! [`HttpClient`] over the Workers `fetch`: redirects are never followed (a bearer token must
//! not be replayed to another origin), and every call honours its [`ReadLimits`]: one deadline
//! for the response head and the whole body, and a byte cap checked against a declared
//! `Content-Length` before reading and against the bytes as they arrive.
//!
//! From the configured upstream (Attio), a body whose length is declared (and not compressed,
//! which the runtime would inflate) is read with one `arrayBuffer()`: HTTP framing bounds it.
//! Any other body (chunked, content-encoded, or from a server a client named) is read chunk by
//! chunk and abandoned the moment it passes the cap, so an endless body costs at most the cap
//! in memory; the deadline ends one that drips.

use std::time::Duration;

use futures_util::future::{select, Either};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::js_sys::{self, Uint8Array};
use worker::worker_sys::web_sys::{
    AbortController, Request as WebRequest, RequestInit, RequestRedirect, Response as WebResponse, WorkerGlobalScope,
};
use worker::Delay;

use super::js::{self, headers_to_js};
use crate::base::http::{limits_of, HttpClient, Request, Response, TransportError, UPSTREAM_RESPONSE_HEADERS};

pub(crate) struct FetchClient {
    timeout_ms: u32,
}

impl FetchClient {
    pub(crate) fn new(timeout_ms: u32) -> Self {
        Self { timeout_ms }
    }
}

fn network(e: JsValue) -> TransportError {
    // A JS error's message names the failure (DNS, refused, aborted); never a header or body.
    let message =
        e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_else(|| "fetch failed".into());
    TransportError::Network(message)
}

impl HttpClient for FetchClient {
    async fn send(&self, request: Request) -> Result<Response, TransportError> {
        let limits = limits_of(&request);
        let timeout_ms = limits.timeout_ms.unwrap_or(self.timeout_ms);
        let (parts, body) = request.into_parts();
        let controller = AbortController::new().map_err(network)?;
        let init = RequestInit::new();
        init.set_method(parts.method.as_str());
        init.set_headers(&headers_to_js(&parts.headers).map_err(network)?);
        init.set_redirect(RequestRedirect::Manual);
        init.set_signal(Some(&controller.signal()));
        if !body.is_empty() {
            // Copied into JS-owned memory: a view into wasm memory could be detached by growth.
            init.set_body(&Uint8Array::from(body.as_slice()).into());
        }
        let global: WorkerGlobalScope = js_sys::global().unchecked_into();
        // Built first so a URL the runtime rejects is an error here, not a thrown exception.
        let request = WebRequest::new_with_str_and_init(&parts.uri.to_string(), &init).map_err(network)?;
        let promise = global.fetch_with_request(&request);

        let exchange = std::pin::pin!(async {
            let response: WebResponse = JsFuture::from(promise).await.map_err(network)?.unchecked_into();
            read_response(&response, limits.max_bytes, limits.trusted_upstream).await
        });
        let timeout = std::pin::pin!(Delay::from(Duration::from_millis(u64::from(timeout_ms))));
        let result = match select(exchange, timeout).await {
            Either::Left((result, _)) => result,
            Either::Right(_) => Err(TransportError::Timeout(timeout_ms)),
        };
        if result.is_err() {
            // Stops the connection: a refused or late body is not read any further.
            controller.abort();
        }
        result
    }
}

/// Status, the headers the core reads, and the body within `max_bytes`.
async fn read_response(response: &WebResponse, max_bytes: usize, trusted: bool) -> Result<Response, TransportError> {
    let mut builder = http::Response::builder().status(response.status());
    let headers = response.headers();
    for name in UPSTREAM_RESPONSE_HEADERS {
        if let Some(value) = headers.get(name.as_str()).map_err(network)? {
            builder = builder.header(name, value);
        }
    }
    let declared = headers.get("content-length").ok().flatten().and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > max_bytes as u64) {
        return Err(TransportError::TooLarge(max_bytes));
    }
    let encoded = headers.get("content-encoding").ok().flatten().is_some_and(|e| !e.eq_ignore_ascii_case("identity"));
    let bytes = if trusted && declared.is_some() && !encoded {
        js::body(response.array_buffer()).await.map_err(network)?
    } else {
        read_capped(response, max_bytes).await?
    };
    if bytes.len() > max_bytes {
        return Err(TransportError::TooLarge(max_bytes));
    }
    builder.body(bytes).map_err(|e| TransportError::Network(e.to_string()))
}

/// Reads a body chunk by chunk, giving up (and cancelling the stream) past `max_bytes`.
async fn read_capped(response: &WebResponse, max_bytes: usize) -> Result<Vec<u8>, TransportError> {
    js::read_capped(response.body(), max_bytes).await.map_err(|e| match e {
        js::CappedReadError::TooLarge => TransportError::TooLarge(max_bytes),
        js::CappedReadError::Failed(e) => network(e),
    })
}
