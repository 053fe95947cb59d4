//! Test doubles for the core's traits (host tests only): settings from a map, an HTTP client
//! that records requests and answers from a script, and a minimal executor for futures that
//! never wait on real I/O.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use crate::config::{
    SettingsSource, ATTIO_CLIENT_ID, ATTIO_CLIENT_SECRET, SIGNING_KEY, VAULT_KEYS,
};
use crate::http::{HttpClient, Request, Response, TransportError};

/// 32 bytes (0..=31), base64url.
pub const KEY_A: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

/// Settings from a map; every binding present unless listed in `missing_bindings`.
#[derive(Debug, Default)]
pub struct MapSource {
    pub values: HashMap<&'static str, String>,
    pub missing_bindings: Vec<&'static str>,
}

impl MapSource {
    pub fn new(values: HashMap<&'static str, String>) -> Self {
        Self {
            values,
            missing_bindings: Vec::new(),
        }
    }
}

impl SettingsSource for MapSource {
    fn get(&self, name: &str) -> Option<String> {
        self.values.get(name).cloned()
    }

    fn binding_present(&self, name: &str) -> bool {
        !self.missing_bindings.contains(&name)
    }
}

/// Every required setting, valid.
pub fn complete_settings() -> HashMap<&'static str, String> {
    HashMap::from([
        (ATTIO_CLIENT_ID, "client-123".to_string()),
        (ATTIO_CLIENT_SECRET, "s3cr3t-value".to_string()),
        (VAULT_KEYS, format!("k2:{KEY_A},k1:{KEY_A}=")),
        (SIGNING_KEY, KEY_A.to_string()),
    ])
}

/// Records every request and answers from a queue of scripted replies.
#[derive(Debug, Default)]
pub struct FakeHttp {
    pub sent: RefCell<Vec<Request>>,
    pub replies: RefCell<VecDeque<Result<Response, TransportError>>>,
}

impl FakeHttp {
    pub fn replying(status: u16, body: &str) -> Self {
        let fake = Self::default();
        fake.push(status, body);
        fake
    }

    pub fn push(&self, status: u16, body: &str) {
        let mut resp = http::Response::new(body.as_bytes().to_vec());
        *resp.status_mut() =
            http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        self.replies.borrow_mut().push_back(Ok(resp));
    }
}

impl HttpClient for FakeHttp {
    async fn send(&self, request: Request) -> Result<Response, TransportError> {
        self.sent.borrow_mut().push(request);
        self.replies
            .borrow_mut()
            .pop_front()
            .unwrap_or_else(|| Err(TransportError::Network("no scripted reply".into())))
    }
}

/// Runs a future to completion; fakes never return `Pending`, so a no-op waker suffices.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// A GET request for `path`.
pub fn get(path: &str) -> Request {
    http::Request::builder()
        .uri(format!("https://gateway.test{path}"))
        .body(Vec::new())
        .unwrap_or_default()
}
