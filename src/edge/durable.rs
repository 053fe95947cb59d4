//! The `Transitions` Durable Object: executes [`crate::transitions`] commands atomically, by
//! [`crate::transitions::object::execute`] over the runtime's storage.
//!
//! A Durable Object handles one request at a time, so "read entry → decide → write" cannot
//! interleave with another caller's. Callers choose the object by name (one per one-time value
//! or per person), so no single object becomes a hot spot. An alarm at the latest expiry
//! deletes everything once all entries are dead.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::future_to_promise;
use worker::js_sys::{self, Promise};
use worker::worker_sys::{web_sys, DurableObjectState};
use worker::{Date, ListOptions, State, Storage};

use super::js;
use crate::transitions::object::{execute, Failed, Memory, ObjectStorage, LATEST_EXPIRY};
use crate::transitions::{Command, Entry};

/// The class the runtime instantiates per object (`constructor(state, env)`, `fetch`,
/// `alarm`), written out rather than made by workers-rs's `#[durable_object]`: that one
/// converts each request and response through `worker::Request`/`Response` (and exports
/// WebSocket and socket handlers this object has no use for), which cost more CPU than the
/// object's own work on the hot path of every authenticated call.
#[wasm_bindgen]
pub struct Transitions {
    state: State,
    /// What the instance keeps between requests ([`Memory`]): caches of its storage and counts.
    memory: Rc<RefCell<Memory>>,
}

#[wasm_bindgen]
impl Transitions {
    #[wasm_bindgen(constructor)]
    #[allow(unreachable_pub)] // exported to JS: the runtime calls it
    pub fn new(state: DurableObjectState, _env: JsValue) -> Transitions {
        Transitions { state: State::from(state), memory: Rc::default() }
    }

    #[allow(unreachable_pub)]
    pub fn fetch(&self, req: web_sys::Request) -> Promise {
        let storage = Store(self.state.storage());
        let memory = Rc::clone(&self.memory);
        future_to_promise(async move { Ok(answer(&storage, &memory, &req).await.into()) })
    }

    /// One command by RPC (`stub.run(command)`, see `scripts/lean-entry.mjs`): the command's
    /// JSON in, the outcome's JSON out; a malformed command or failed storage rejects.
    #[allow(unreachable_pub)]
    pub fn run(&self, command: String) -> Promise {
        let storage = Store(self.state.storage());
        let memory = Rc::clone(&self.memory);
        future_to_promise(async move {
            decide(&storage, &memory, command.as_bytes())
                .await
                .map(|o| JsValue::from_str(&o))
                .map_err(|(_, why)| JsValue::from_str(why))
        })
    }

    #[allow(unreachable_pub)]
    pub fn alarm(&self) -> Promise {
        let storage = self.state.storage();
        let memory = Rc::clone(&self.memory);
        future_to_promise(async move {
            // The caches go: the clean-up may delete everything they describe.
            let tallies = std::mem::take(&mut memory.borrow_mut().tallies);
            *memory.borrow_mut() = Memory { tallies, ..Memory::default() };
            clean_up(&storage).await.map_err(JsValue::from)?;
            Ok(JsValue::UNDEFINED)
        })
    }
}

/// The answer to one command: 200 with the outcome, 400 for a malformed command, 500 when
/// storage failed.
async fn answer(storage: &Store, memory: &RefCell<Memory>, req: &web_sys::Request) -> web_sys::Response {
    let Ok(body) = js::body(req.array_buffer()).await else { return plain(400, "unreadable command") };
    match decide(storage, memory, &body).await {
        Ok(json) => plain(200, &json),
        Err((status, why)) => plain(status, why),
    }
}

/// A command's outcome as JSON, or the status and reason it failed with.
async fn decide(storage: &Store, memory: &RefCell<Memory>, body: &[u8]) -> Result<String, (u16, &'static str)> {
    let Ok(command) = serde_json::from_slice::<Command>(body) else { return Err((400, "malformed command")) };
    if command.named_keys().iter().any(|k| k.is_empty() || *k == LATEST_EXPIRY) {
        return Err((400, "invalid key"));
    }
    match execute(storage, memory, command, Date::now().as_millis()).await {
        Ok(outcome) => serde_json::to_string(&outcome).map_err(|_| (500, "unencodable outcome")),
        Err(_) => Err((500, "storage failed")),
    }
}

/// The alarm: set again while an entry lives, else everything is deleted.
async fn clean_up(storage: &Storage) -> worker::Result<()> {
    let latest: Option<u64> = storage.get(LATEST_EXPIRY).await?;
    let now = Date::now().as_millis();
    match latest {
        Some(l) if l > now => storage.set_alarm(Duration::from_millis(l - now)).await,
        _ => storage.delete_all().await,
    }
}

fn plain(status: u16, body: &str) -> web_sys::Response {
    let init = web_sys::ResponseInit::new();
    init.set_status(status);
    web_sys::Response::new_with_opt_str_and_init(Some(body), &init).unwrap_or_else(|_| web_sys::Response::error())
}

/// The runtime's storage of one object, as the commands use it.
struct Store(Storage);

fn failed(e: worker::Error) -> Failed {
    Failed(e.to_string())
}

impl ObjectStorage for Store {
    async fn get(&self, keys: &[String]) -> Result<Vec<Option<Entry>>, Failed> {
        let found = self.0.get_multiple(keys.iter().map(String::as_str).collect()).await.map_err(failed)?;
        Ok(keys
            .iter()
            // A missing key reads as `undefined`: decoded as `None` without making an error (a
            // JS `Error`, with its stack trace, is costly).
            .map(|k| serde_wasm_bindgen::from_value::<Option<Entry>>(found.get(&JsValue::from_str(k))).ok().flatten())
            .collect())
    }

    async fn put(&self, key: &str, entry: &Entry) -> Result<(), Failed> {
        self.0.put(key, entry).await.map_err(failed)
    }

    async fn delete(&self, keys: Vec<String>) -> Result<(), Failed> {
        self.0.delete_multiple(keys).await.map(drop).map_err(failed)
    }

    async fn list(
        &self,
        prefix: &str,
        start: Option<&str>,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<(String, Entry)>, Failed> {
        let mut options = ListOptions::new().prefix(prefix).reverse(reverse).limit(limit);
        if let Some(start) = start {
            options = options.start(start);
        }
        let map = self.0.list_with_options(options).await.map_err(failed)?;
        Ok(pairs(&map))
    }

    async fn latest_expiry(&self) -> Result<Option<u64>, Failed> {
        self.0.get(LATEST_EXPIRY).await.map_err(failed)
    }

    async fn set_latest_expiry(&self, at_ms: u64, now_ms: u64) -> Result<(), Failed> {
        self.0.put(LATEST_EXPIRY, at_ms).await.map_err(failed)?;
        self.0.set_alarm(Duration::from_millis(at_ms.saturating_sub(now_ms))).await.map_err(failed)
    }
}

/// A listing's entries, in order.
fn pairs(map: &js_sys::Map) -> Vec<(String, Entry)> {
    let mut entries = Vec::new();
    for pair in map.entries() {
        let Ok(pair) = pair.and_then(|p| p.dyn_into::<js_sys::Array>()) else { continue };
        let (Some(key), Ok(entry)) = (pair.get(0).as_string(), serde_wasm_bindgen::from_value::<Entry>(pair.get(1)))
        else {
            continue;
        };
        entries.push((key, entry));
    }
    entries
}

impl std::fmt::Debug for Transitions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Transitions")
    }
}
