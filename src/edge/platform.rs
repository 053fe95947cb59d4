//! [`Platform`](crate::platform::Platform) over the Workers runtime: vars and secrets from `Env`,
//! outbound `fetch`, Workers KV, the `Transitions` Durable Object, `Date.now`, `Delay`, and
//! `console.log` (which only ever receives fixed event names and non-secret details).

use std::time::Duration;

use worker::{Date, Delay, Env, RequestInit};

use super::fetch::FetchClient;
use crate::config::{SettingsSource, KV_BINDING, TRANSITIONS_BINDING};
use crate::http::{HttpClient, Request, Response, TransportError};
use crate::platform::{Clock, KvPage, KvStore, Log, Sleep, StoreError, TransitionStore};
use crate::random::{OsRandom, Random, RandomError};
use crate::transitions::{Command, Outcome};

pub struct EdgePlatform<'a> {
    env: &'a Env,
    http: FetchClient,
}

impl<'a> EdgePlatform<'a> {
    pub fn new(env: &'a Env, http: FetchClient) -> Self {
        Self { env, http }
    }

    fn kv(&self) -> Result<worker::KvStore, StoreError> {
        self.env.kv(KV_BINDING).map_err(|e| StoreError(format!("KV binding: {e}")))
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
            _ => false,
        }
    }
}

impl HttpClient for EdgePlatform<'_> {
    async fn send(&self, request: Request) -> Result<Response, TransportError> {
        self.http.send(request).await
    }
}

impl KvStore for EdgePlatform<'_> {
    async fn kv_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.kv()?.get(key).text().await.map_err(store_error)
    }

    async fn kv_put(&self, key: &str, value: &str, ttl_secs: Option<u64>) -> Result<(), StoreError> {
        let mut put = self.kv()?.put(key, value).map_err(store_error)?;
        if let Some(ttl) = ttl_secs {
            // KV rejects TTLs under 60 s.
            put = put.expiration_ttl(ttl.max(60));
        }
        put.execute().await.map_err(store_error)
    }

    async fn kv_delete(&self, key: &str) -> Result<(), StoreError> {
        self.kv()?.delete(key).await.map_err(store_error)
    }

    async fn kv_list(&self, prefix: &str, cursor: Option<&str>) -> Result<KvPage, StoreError> {
        let mut list = self.kv()?.list().prefix(prefix.to_string());
        if let Some(c) = cursor {
            list = list.cursor(c.to_string());
        }
        let page = list.execute().await.map_err(store_error)?;
        let cursor = if page.list_complete { None } else { page.cursor };
        Ok(KvPage { keys: page.keys.into_iter().map(|k| k.name).collect(), cursor })
    }
}

impl TransitionStore for EdgePlatform<'_> {
    async fn transition(&self, object: &str, command: Command) -> Result<Outcome, StoreError> {
        let namespace = self.env.durable_object(TRANSITIONS_BINDING).map_err(store_error)?;
        let stub = namespace.id_from_name(object).map_err(store_error)?.get_stub().map_err(store_error)?;
        let body = serde_json::to_string(&command).map_err(store_error)?;
        let mut init = RequestInit::new();
        init.with_method(worker::Method::Post).with_body(Some(body.into()));
        let request = worker::Request::new_with_init("https://transitions.internal/", &init).map_err(store_error)?;
        let mut response = stub.fetch_with_request(request).await.map_err(store_error)?;
        if response.status_code() != 200 {
            return Err(StoreError(format!("Transitions answered {}", response.status_code())));
        }
        response.json::<Outcome>().await.map_err(store_error)
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

impl Log for EdgePlatform<'_> {
    fn log(&self, event: &str, detail: &str) {
        worker::console_log!("{event} {detail}");
    }
}
