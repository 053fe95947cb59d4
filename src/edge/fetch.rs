//! [`HttpClient`] over the Workers `fetch`: redirects are never followed (a bearer token must
//! not be replayed to another origin), every call has a timeout, and response bodies are capped.

use std::time::Duration;

use futures_util::future::{select, Either};
use worker::js_sys::Uint8Array;
use worker::{AbortController, Delay, Fetch, RequestInit, RequestRedirect};

use crate::http::{HttpClient, Request, Response, TransportError};

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

fn network(e: worker::Error) -> TransportError {
    TransportError::Network(e.to_string())
}

impl HttpClient for FetchClient {
    async fn send(&self, request: Request) -> Result<Response, TransportError> {
        let (parts, body) = request.into_parts();
        let headers = worker::Headers::new();
        for (name, value) in parts.headers.iter() {
            if let Ok(v) = value.to_str() {
                headers.append(name.as_str(), v).map_err(network)?;
            }
        }
        let mut init = RequestInit::new();
        init.with_method(worker::Method::from(parts.method.to_string()))
            .with_headers(headers)
            .with_redirect(RequestRedirect::Manual);
        if !body.is_empty() {
            init.with_body(Some(Uint8Array::from(body.as_slice()).into()));
        }
        let req = worker::Request::new_with_init(&parts.uri.to_string(), &init).map_err(network)?;

        let controller = AbortController::default();
        let signal = controller.signal();
        let fetch = Fetch::Request(req);
        let send = std::pin::pin!(fetch.send_with_signal(&signal));
        let timeout = std::pin::pin!(Delay::from(Duration::from_millis(u64::from(self.timeout_ms))));
        let mut resp = match select(send, timeout).await {
            Either::Left((result, _)) => result.map_err(network)?,
            Either::Right(_) => {
                controller.abort();
                return Err(TransportError::Timeout(self.timeout_ms));
            }
        };

        let mut builder = http::Response::builder().status(resp.status_code());
        for (name, value) in resp.headers().entries() {
            builder = builder.header(name, value);
        }
        let bytes = resp.bytes().await.map_err(network)?;
        if bytes.len() > MAX_RESPONSE_BYTES {
            return Err(TransportError::TooLarge(MAX_RESPONSE_BYTES));
        }
        builder.body(bytes).map_err(|e| TransportError::Network(e.to_string()))
    }
}
