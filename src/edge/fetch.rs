//! [`HttpClient`] over the Workers `fetch`: redirects are never followed (a bearer token must
//! not be replayed to another origin), every call has a timeout, and response bodies are capped.

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
use crate::http::{HttpClient, Request, Response, TransportError, UPSTREAM_RESPONSE_HEADERS};

/// Largest upstream body we read (Attio list responses are well below this).
const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

pub struct FetchClient {
    timeout_ms: u32,
}

impl FetchClient {
    pub fn new(timeout_ms: u32) -> Self {
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

        let send = std::pin::pin!(JsFuture::from(promise));
        let timeout = std::pin::pin!(Delay::from(Duration::from_millis(u64::from(self.timeout_ms))));
        let response: WebResponse = match select(send, timeout).await {
            Either::Left((result, _)) => result.map_err(network)?.unchecked_into(),
            Either::Right(_) => {
                controller.abort();
                return Err(TransportError::Timeout(self.timeout_ms));
            }
        };

        let mut builder = http::Response::builder().status(response.status());
        let headers = response.headers();
        for name in UPSTREAM_RESPONSE_HEADERS {
            if let Some(value) = headers.get(name.as_str()).map_err(network)? {
                builder = builder.header(name, value);
            }
        }
        let bytes = js::body(response.array_buffer()).await.map_err(network)?;
        if bytes.len() > MAX_RESPONSE_BYTES {
            return Err(TransportError::TooLarge(MAX_RESPONSE_BYTES));
        }
        builder.body(bytes).map_err(|e| TransportError::Network(e.to_string()))
    }
}
