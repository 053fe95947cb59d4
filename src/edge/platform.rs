//! [`Platform`](crate::platform::Platform) over the Workers runtime: vars and secrets from `Env`,
//! outbound `fetch`, Workers KV, the `Transitions` Durable Object, `Date.now`, `Delay`, and
//! `console.log` (which only ever receives fixed event names and non-secret details).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use worker::{Date, Delay, Env};

use super::fetch::FetchClient;
use super::js;
use super::kv::Kv;
use crate::auth::rate_limit::Limit;
use crate::base::http::{HttpClient, Request, Response, TransportError};
use crate::base::random::{OsRandom, Random, RandomError};
use crate::config::{attio_timeout_ms, Config, ConfigError, SettingsSource, KV_BINDING, TRANSITIONS_BINDING};
use crate::oauth::clients::jwk::PublicJwk;
use crate::platform::{Clock, KvPage, KvStore, Log, RateLimiter, Sleep, StoreError, TransitionStore, VerifySignature};
use crate::transitions::{Command, Outcome};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use worker::js_sys::Promise;
use worker::worker_sys;

pub(crate) struct EdgePlatform<'a> {
    env: &'a Env,
    /// The request's context, for `waitUntil`; `None` on the cron trigger, which awaits all
    /// its work anyway.
    ctx: Option<&'a worker_sys::Context>,
    /// Durable Object stubs this request already made, by object name: a tool call asks the
    /// person's object twice (the read with its audit record, then the outcome), and making a
    /// stub (`idFromName`, `get`) costs more than the call itself.
    stubs: JsValue,
}

// Per isolate (wasm is single-threaded): settings cannot change while an isolate lives, so the
// validated configuration (with its derived keys) is read once.
thread_local! {
    static CONFIG: RefCell<Option<Rc<Config>>> = const { RefCell::new(None) };
}

impl<'a> EdgePlatform<'a> {
    pub(crate) fn new(env: &'a Env, ctx: Option<&'a worker_sys::Context>) -> Self {
        Self { env, ctx, stubs: worker::js_sys::Map::new().into() }
    }

    fn kv(&self) -> Result<Kv, StoreError> {
        Kv::bound(self.env, KV_BINDING).map_err(|_| StoreError("KV binding missing".into()))
    }

    /// Keeps `work` running after the response is sent (`waitUntil`: without it the runtime may
    /// cancel it); a failure is logged as `event`.
    fn detach(&self, work: Promise, event: &'static str) {
        if let Some(ctx) = self.ctx {
            js::wait_until(ctx, &work, event);
        }
    }

    /// From the cached configuration; a misconfigured deploy (whose `/setup` page still probes
    /// Attio) reads just this one setting.
    fn timeout_ms(&self) -> u32 {
        self.config().map_or_else(|_| attio_timeout_ms(self), |c| c.attio_timeout_ms)
    }
}

fn store_error(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

impl SettingsSource for EdgePlatform<'_> {
    fn get(&self, name: &str) -> Option<String> {
        // Vars and secrets are both plain strings on `env`.
        self.env.var(name).map(|v| v.to_string()).or_else(|_| self.env.secret(name).map(|s| s.to_string())).ok()
    }

    fn binding_present(&self, name: &str) -> bool {
        match name {
            KV_BINDING => self.env.kv(name).is_ok(),
            TRANSITIONS_BINDING => self.env.durable_object(name).is_ok(),
            _ if name.starts_with("LIMIT_") => {
                worker::js_sys::Reflect::get(self.env, &JsValue::from_str(name)).is_ok_and(|b| b.is_object())
            }
            _ => false,
        }
    }

    /// Cached once valid; a misconfigured deploy is re-read on every request, so fixing a
    /// setting needs no restart and the error stays accurate.
    fn config(&self) -> Result<Rc<Config>, ConfigError> {
        if let Some(config) = CONFIG.with(|c| c.borrow().clone()) {
            return Ok(config);
        }
        let config = Rc::new(Config::load(self)?);
        CONFIG.with(|c| *c.borrow_mut() = Some(config.clone()));
        Ok(config)
    }
}

impl HttpClient for EdgePlatform<'_> {
    async fn send(&self, request: Request) -> Result<Response, TransportError> {
        FetchClient::new(self.timeout_ms()).send(request).await
    }
}

fn js_error(e: JsValue) -> StoreError {
    StoreError(js::error_message(&e))
}

impl KvStore for EdgePlatform<'_> {
    async fn kv_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.kv()?.get(key).await.map_err(js_error)
    }

    async fn kv_put_with_metadata(
        &self,
        key: &str,
        value: &str,
        ttl_secs: Option<u64>,
        metadata: Option<&str>,
    ) -> Result<(), StoreError> {
        let write = self.kv()?.put(key, value, ttl_secs, metadata).map_err(js_error)?;
        JsFuture::from(write).await.map(|_| ()).map_err(js_error)
    }

    fn kv_put_detached(&self, key: &str, value: &str, ttl_secs: Option<u64>, metadata: Option<&str>) {
        let write = match self.kv().and_then(|kv| kv.put(key, value, ttl_secs, metadata).map_err(js_error)) {
            Ok(write) => write,
            Err(e) => return worker::console_log!("kv.detached_write_failed {e}"),
        };
        self.detach(write, "kv.detached_write_failed");
    }

    async fn kv_delete(&self, key: &str) -> Result<(), StoreError> {
        self.kv()?.delete(key).await.map_err(js_error)
    }

    async fn kv_list(&self, prefix: &str, cursor: Option<&str>) -> Result<KvPage, StoreError> {
        self.kv()?.list(prefix, cursor).await.map_err(js_error)
    }
}

impl TransitionStore for EdgePlatform<'_> {
    /// One request to the object named `object`, made on the raw JS objects (the namespace's
    /// `idFromName`/`get`, the stub's `fetch`): workers-rs's wrappers add conversions per call
    /// that cost more than the object's own work.
    async fn transition(&self, object: &str, command: Command) -> Result<Outcome, StoreError> {
        let body = serde_json::to_string(&command).map_err(store_error)?;
        let answer = js::durable_object_call(self.env, &self.stubs, TRANSITIONS_BINDING, object, &body)
            .await
            .map_err(|e| StoreError(format!("Transitions: {}", js::error_message(&e))))?;
        serde_json::from_str(&answer).map_err(store_error)
    }

    fn transition_detached(&self, object: &str, command: Command) {
        let call = serde_json::to_string(&command)
            .map_err(|e| JsValue::from_str(&e.to_string()))
            .and_then(|body| js::durable_object_promise(self.env, &self.stubs, TRANSITIONS_BINDING, object, &body));
        let call = match call {
            Ok(call) => call,
            Err(e) => return worker::console_log!("do.detached_failed {}", js::error_message(&e)),
        };
        self.detach(call, "do.detached_failed");
    }
}

impl Random for EdgePlatform<'_> {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError> {
        OsRandom.fill(buf)
    }
}

impl Clock for EdgePlatform<'_> {
    fn now_ms(&self) -> u64 {
        Date::now().as_millis()
    }
}

impl Sleep for EdgePlatform<'_> {
    async fn sleep_ms(&self, ms: u32) {
        Delay::from(Duration::from_millis(u64::from(ms))).await;
    }
}

/// The Rate Limiting binding's `limit({key})`, called directly: workers-rs's wrapper goes through
/// `serde_wasm_bindgen`, whose generic code costs bundle size for one string and one boolean.
async fn call_limiter(binding: &JsValue, key: &str) -> Result<bool, JsValue> {
    use worker::js_sys::{Function, Object, Promise, Reflect};
    use worker::wasm_bindgen::JsCast;
    let limit: Function = Reflect::get(binding, &JsValue::from_str("limit"))?.dyn_into()?;
    let options = Object::new();
    Reflect::set(&options, &JsValue::from_str("key"), &JsValue::from_str(key))?;
    let promise: Promise = limit.call1(binding, &options)?.dyn_into()?;
    let outcome = JsFuture::from(promise).await?;
    Ok(Reflect::get(&outcome, &JsValue::from_str("success"))?.as_bool().unwrap_or(true))
}

impl RateLimiter for EdgePlatform<'_> {
    async fn within_limit(&self, limit: Limit, key: &str) -> bool {
        let binding = worker::js_sys::Reflect::get(self.env, &JsValue::from_str(limit.binding()));
        let Some(binding) = binding.ok().filter(|b| b.is_object()) else { return true };
        match call_limiter(&binding, key).await {
            Ok(within) => within,
            Err(_) => {
                worker::console_log!("rate_limit.failed {}", limit.binding());
                true
            }
        }
    }
}

impl VerifySignature for EdgePlatform<'_> {
    async fn verify_signature(&self, key: &PublicJwk, message: &[u8], signature: &[u8]) -> bool {
        match super::webcrypto::verify(key, message, signature).await {
            Ok(valid) => valid,
            Err(_) => {
                // A key or signature WebCrypto cannot use (e.g. an off-curve point): not valid.
                worker::console_log!("client_auth.verify_error");
                false
            }
        }
    }
}

impl Log for EdgePlatform<'_> {
    fn log(&self, event: &str, detail: &str) {
        worker::console_log!("{event} {detail}");
    }
}
