//! Test doubles for the core's traits (host tests only): a [`FakePlatform`] with settings from a
//! map, scripted outbound HTTP, in-memory KV, an in-memory `Transitions` object that runs the
//! real [`crate::transitions::apply`], a settable clock and a captured log; plus a minimal
//! executor for futures that never wait on real I/O.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use crate::base::http::{HttpClient, Request, Response, TransportError};
use crate::base::random::{OsRandom, Random, RandomError};
use crate::config::{SettingsSource, ATTIO_CLIENT_ID, ATTIO_CLIENT_SECRET, SIGNING_KEY, VAULT_KEYS};
use crate::platform::{Clock, KvPage, KvStore, Log, Sleep, StoreError, TransitionStore};
use crate::transitions::{Command, Entry, Outcome};

mod durable;
pub use durable::RowCounts;

#[path = "../../tests/support/jwt_signer.rs"]
pub mod jwt_signer;

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
        Self { values, missing_bindings: Vec::new() }
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

/// Records every request and answers from a queue of scripted replies (a transport error
/// once the queue is empty).
#[derive(Debug, Default)]
pub struct FakeHttp {
    pub sent: RefCell<Vec<Request>>,
    pub replies: RefCell<VecDeque<Result<Response, TransportError>>>,
}

pub fn reply(status: u16, body: &str) -> Response {
    let mut resp = http::Response::new(body.as_bytes().to_vec());
    *resp.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    resp
}

impl FakeHttp {
    pub fn push(&self, status: u16, body: &str) {
        self.replies.borrow_mut().push_back(Ok(reply(status, body)));
    }
}

impl HttpClient for FakeHttp {
    async fn send(&self, request: Request) -> Result<Response, TransportError> {
        let scripted = self.replies.borrow_mut().pop_front();
        let limit = crate::base::http::limits_of(&request).max_bytes;
        // Like the edge: a body over the request's cap is refused, never handed on.
        let result = match scripted {
            Some(Ok(r)) if r.body().len() > limit => Err(TransportError::TooLarge(limit)),
            Some(r) => r,
            None => Err(TransportError::Network("no scripted reply".into())),
        };
        self.sent.borrow_mut().push(request);
        result
    }
}

/// An effect [`FakePlatform::before`] runs once.
struct Hook(Box<dyn FnOnce(&FakePlatform)>);

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hook")
    }
}

/// Every effect, in memory.
#[derive(Debug)]
pub struct FakePlatform {
    pub settings: MapSource,
    pub http: FakeHttp,
    kv: RefCell<BTreeMap<String, String>>,
    kv_ttls: RefCell<HashMap<String, Option<u64>>>,
    kv_metadata: RefCell<HashMap<String, String>>,
    objects: RefCell<HashMap<(String, String), Entry>>,
    now: Cell<u64>,
    logs: RefCell<Vec<(String, String)>>,
    /// Every storage call and outbound request, in order ("do <object> <op>", "kv get <key>",
    /// "http <method> <url>"): what a test counts to show how many round trips a request makes.
    calls: RefCell<Vec<String>>,
    pub kv_fails: Cell<bool>,
    /// The day's KV writes (puts and deletes) are spent: they fail as the platform fails them;
    /// reads and lists still work.
    pub kv_writes_spent: Cell<bool>,
    /// The day's Durable Object budget is spent: every object request fails.
    pub objects_spent: Cell<bool>,
    /// What [`FakePlatform::before`] arranged to happen before a call.
    hooks: RefCell<Vec<(String, Hook)>>,
    /// Counts per (limit, key, minute): the platform's limiters at the shipped limits.
    rate_counts: RefCell<HashMap<(crate::auth::rate_limit::Limit, String, u64), u32>>,
    /// Keys per KV listing page: two by default (so callers' cursor handling is exercised),
    /// KV's own 1,000 for the budget model.
    pub kv_page: Cell<usize>,
    /// Durable Object storage as the `Transitions` class uses it (src/edge/durable.rs): rows
    /// read and written, alarms set, and each object's latest expiry (`__latest_expiry_ms`).
    pub rows: Cell<RowCounts>,
    latest_expiry: RefCell<HashMap<String, u64>>,
    /// What each object keeps in memory between requests, as the class does.
    memories: RefCell<HashMap<String, std::rc::Rc<RefCell<crate::transitions::object::Memory>>>>,
}

impl Default for FakePlatform {
    fn default() -> Self {
        Self::with_settings(complete_settings())
    }
}

impl FakePlatform {
    pub fn with_settings(values: HashMap<&'static str, String>) -> Self {
        crate::routes::health::forget_cached();
        crate::auth::clients::forget_fetched();
        crate::store::sweep::forget_cached();
        crate::store::policy::forget_recent();
        Self {
            settings: MapSource::new(values),
            http: FakeHttp::default(),
            kv: RefCell::default(),
            kv_ttls: RefCell::default(),
            kv_metadata: RefCell::default(),
            objects: RefCell::default(),
            now: Cell::new(1_700_000_000_000),
            logs: RefCell::default(),
            calls: RefCell::default(),
            kv_fails: Cell::new(false),
            kv_writes_spent: Cell::new(false),
            objects_spent: Cell::new(false),
            hooks: RefCell::default(),
            rate_counts: RefCell::default(),
            kv_page: Cell::new(2),
            rows: Cell::default(),
            latest_expiry: RefCell::default(),
            memories: RefCell::default(),
        }
    }

    /// Runs `effect` once, just before the first call whose record (see `calls`) starts with
    /// `call`: another request's work landing between two steps of this one.
    pub fn before(&self, call: &str, effect: impl FnOnce(&FakePlatform) + 'static) {
        self.hooks.borrow_mut().push((call.to_string(), Hook(Box::new(effect))));
    }

    pub fn advance_ms(&self, ms: u64) {
        self.now.set(self.now.get() + ms);
    }

    pub fn kv_value(&self, key: &str) -> Option<String> {
        self.kv.borrow().get(key).cloned()
    }

    pub fn kv_insert_raw(&self, key: &str, value: &str) {
        self.kv.borrow_mut().insert(key.into(), value.into());
    }

    /// The TTL the last write of `key` asked for (`None` inside: kept forever).
    pub fn kv_ttl(&self, key: &str) -> Option<Option<u64>> {
        self.kv_ttls.borrow().get(key).copied()
    }

    /// The KV metadata the last write of `key` kept.
    pub fn kv_metadata_of(&self, key: &str) -> Option<String> {
        self.kv_metadata.borrow().get(key).cloned()
    }

    pub fn kv_keys(&self) -> Vec<String> {
        self.kv.borrow().keys().cloned().collect()
    }

    fn note(&self, call: String) {
        let due = {
            let mut hooks = self.hooks.borrow_mut();
            hooks.iter().position(|(prefix, _)| call.starts_with(prefix.as_str())).map(|i| hooks.remove(i).1)
        };
        self.calls.borrow_mut().push(call);
        if let Some(Hook(effect)) = due {
            effect(self);
        }
    }

    /// The keys stored in the object `name`, live or expired.
    pub fn keys_in(&self, name: &str) -> Vec<String> {
        let mut keys: Vec<String> =
            self.objects.borrow().keys().filter(|(o, _)| o == name).map(|(_, k)| k.clone()).collect();
        keys.sort();
        keys
    }

    /// Whether any record is stored in the object `name`.
    pub fn objects_named(&self, name: &str) -> bool {
        self.objects.borrow().keys().any(|(o, _)| o == name)
    }

    /// The storage calls and outbound requests made since the last call of this function.
    pub fn take_calls(&self) -> Vec<String> {
        std::mem::take(&mut *self.calls.borrow_mut())
    }

    pub fn logged(&self, event: &str) -> bool {
        self.logs.borrow().iter().any(|(e, _)| e == event)
    }

    pub fn log_text(&self) -> String {
        self.logs.borrow().iter().map(|(e, d)| format!("{e} {d}\n")).collect()
    }
}

impl SettingsSource for FakePlatform {
    fn get(&self, name: &str) -> Option<String> {
        self.settings.get(name)
    }

    fn binding_present(&self, name: &str) -> bool {
        self.settings.binding_present(name)
    }
}

impl HttpClient for FakePlatform {
    async fn send(&self, request: Request) -> Result<Response, TransportError> {
        self.note(format!("http {} {}", request.method(), request.uri()));
        self.http.send(request).await
    }
}

impl FakePlatform {
    fn kv_check(&self) -> Result<(), StoreError> {
        if self.kv_fails.get() {
            Err(StoreError("injected KV failure".into()))
        } else {
            Ok(())
        }
    }

    fn kv_write_check(&self) -> Result<(), StoreError> {
        self.kv_check()?;
        if self.kv_writes_spent.get() {
            return Err(StoreError("KV put() limit exceeded for the day.".into()));
        }
        Ok(())
    }
}

impl KvStore for FakePlatform {
    async fn kv_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.note(format!("kv get {key}"));
        self.kv_check()?;
        Ok(self.kv.borrow().get(key).cloned())
    }

    async fn kv_put_with_metadata(
        &self,
        key: &str,
        value: &str,
        ttl_secs: Option<u64>,
        metadata: Option<&str>,
    ) -> Result<(), StoreError> {
        self.note(format!("kv put {key}"));
        self.kv_write_check()?;
        assert!(ttl_secs.is_none_or(|t| t >= 60), "KV rejects TTLs under 60 s");
        assert!(metadata.is_none_or(|m| m.len() <= 1024), "KV metadata is at most 1,024 bytes");
        self.kv.borrow_mut().insert(key.into(), value.into());
        self.kv_ttls.borrow_mut().insert(key.into(), ttl_secs);
        let mut all = self.kv_metadata.borrow_mut();
        match metadata {
            Some(m) => all.insert(key.into(), m.into()),
            None => all.remove(key),
        };
        Ok(())
    }

    fn kv_put_detached(&self, key: &str, value: &str, ttl_secs: Option<u64>, metadata: Option<&str>) {
        // Done at once: a test reading it back sees what production sees a moment later.
        if let Err(e) = block_on(self.kv_put_with_metadata(key, value, ttl_secs, metadata)) {
            self.log("kv.detached_write_failed", &e.to_string());
        }
    }

    async fn kv_delete(&self, key: &str) -> Result<(), StoreError> {
        self.note(format!("kv delete {key}"));
        self.kv_write_check()?;
        self.kv.borrow_mut().remove(key);
        Ok(())
    }

    async fn kv_list(&self, prefix: &str, cursor: Option<&str>) -> Result<KvPage, StoreError> {
        self.note(format!("kv list {prefix}"));
        self.kv_check()?;
        // Pages of two, so callers' cursor handling is exercised.
        let keys: Vec<String> = self
            .kv
            .borrow()
            .keys()
            .filter(|k| k.starts_with(prefix) && cursor.is_none_or(|c| k.as_str() > c))
            .take(self.kv_page.get())
            .cloned()
            .collect();
        let cursor = (keys.len() == self.kv_page.get()).then(|| keys[keys.len() - 1].clone());
        let metadata = keys.iter().map(|k| self.kv_metadata.borrow().get(k).cloned()).collect();
        Ok(KvPage { keys, metadata, cursor })
    }
}

impl Random for FakePlatform {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError> {
        OsRandom.fill(buf)
    }
}

impl Clock for FakePlatform {
    fn now_ms(&self) -> u64 {
        self.now.get()
    }
}

impl Sleep for FakePlatform {
    async fn sleep_ms(&self, ms: u32) {
        self.advance_ms(u64::from(ms));
    }
}

impl Log for FakePlatform {
    fn log(&self, event: &str, detail: &str) {
        self.logs.borrow_mut().push((event.into(), detail.into()));
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
    http::Request::builder().uri(format!("https://gateway.test{path}")).body(Vec::new()).unwrap_or_default()
}

/// Signatures checked with RustCrypto, as the edge checks them with WebCrypto: the key's own
/// algorithm, RS256 (PKCS#1 v1.5, SHA-256) or ES256 (`r || s`).
/// Fixed one-minute windows at the shipped limits; a binding listed as missing allows
/// everything, as the edge does.
impl crate::platform::RateLimiter for FakePlatform {
    async fn within_limit(&self, limit: crate::auth::rate_limit::Limit, key: &str) -> bool {
        if !self.settings.binding_present(limit.binding()) {
            return true;
        }
        let window = self.now.get() / 60_000;
        let mut counts = self.rate_counts.borrow_mut();
        let count = counts.entry((limit, key.to_string(), window)).or_default();
        *count += 1;
        *count <= limit.default_per_minute()
    }
}

impl crate::platform::VerifySignature for FakePlatform {
    async fn verify_signature(
        &self,
        key: &crate::oauth::clients::jwk::PublicJwk,
        message: &[u8],
        signature: &[u8],
    ) -> bool {
        verify_with_rustcrypto(key, message, signature)
    }
}

pub fn verify_with_rustcrypto(key: &crate::oauth::clients::jwk::PublicJwk, message: &[u8], signature: &[u8]) -> bool {
    use crate::oauth::clients::jwk::PublicJwk;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let b64 = |s: &str| URL_SAFE_NO_PAD.decode(s).unwrap_or_default();
    match key {
        PublicJwk::Rsa { n, e } => {
            use rsa::signature::Verifier;
            let (n, e) = (rsa::BigUint::from_bytes_be(&b64(n)), rsa::BigUint::from_bytes_be(&b64(e)));
            let Ok(public) = rsa::RsaPublicKey::new(n, e) else { return false };
            let Ok(sig) = rsa::pkcs1v15::Signature::try_from(signature) else { return false };
            rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(public).verify(message, &sig).is_ok()
        }
        PublicJwk::P256 { x, y } => {
            use p256::ecdsa::signature::Verifier;
            let (x, y) = (b64(x), b64(y));
            if x.len() != 32 || y.len() != 32 {
                return false;
            }
            let point = p256::EncodedPoint::from_affine_coordinates(x.as_slice().into(), y.as_slice().into(), false);
            let Ok(key) = p256::ecdsa::VerifyingKey::from_encoded_point(&point) else { return false };
            let Ok(sig) = p256::ecdsa::Signature::from_slice(signature) else { return false };
            key.verify(message, &sig).is_ok()
        }
    }
}
