//! The `Transitions` Durable Object: executes [`crate::transitions`] commands atomically.
//!
//! A Durable Object handles one request at a time, so "read entry → decide → write" cannot
//! interleave with another caller's. Callers choose the object by name (one per one-time value
//! or per grant family), so no single object becomes a hot spot. An alarm at the latest expiry
//! deletes everything once all entries are dead.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::future_to_promise;
use worker::js_sys::{self, Promise};
use worker::worker_sys::{web_sys, DurableObjectState};
use worker::{Date, ListOptions, State, Storage};

use super::js;
use crate::transitions::{
    alarm_at, apply, expired_keys, list, read, read_and_record, tally, Command, Effect, Entry, Tallies, LIST_LIMIT,
};

/// Storage key holding the latest expiry of any entry (for the clean-up alarm).
const LATEST_EXPIRY: &str = "__latest_expiry_ms";

/// The class the runtime instantiates per object (`constructor(state, env)`, `fetch`,
/// `alarm`), written out rather than made by workers-rs's `#[durable_object]`: that one
/// converts each request and response through `worker::Request`/`Response` (and exports
/// WebSocket and socket handlers this object has no use for), which cost more CPU than the
/// object's own work on the hot path of every authenticated call.
#[wasm_bindgen]
pub struct Transitions {
    state: State,
    /// `__latest_expiry_ms` as last read or written by this instance: a cache of the stored
    /// value (read again after a restart), so a put reads storage once, not twice.
    latest: Rc<Cell<Option<u64>>>,
    /// The refusal tallies counted since the instance started ([`crate::transitions::tally`]).
    tallies: Rc<RefCell<Tallies>>,
}

#[wasm_bindgen]
impl Transitions {
    #[wasm_bindgen(constructor)]
    #[allow(unreachable_pub)] // exported to JS: the runtime calls it
    pub fn new(state: DurableObjectState, _env: JsValue) -> Transitions {
        Transitions { state: State::from(state), latest: Rc::default(), tallies: Rc::default() }
    }

    #[allow(unreachable_pub)]
    pub fn fetch(&self, req: web_sys::Request) -> Promise {
        let storage = self.state.storage();
        let memory = Memory { latest: Rc::clone(&self.latest), tallies: Rc::clone(&self.tallies) };
        future_to_promise(async move { Ok(answer(&storage, &memory, &req).await.into()) })
    }

    /// One command by RPC (`stub.run(command)`, see `scripts/lean-entry.mjs`): the command's
    /// JSON in, the outcome's JSON out; a malformed command or failed storage rejects.
    #[allow(unreachable_pub)]
    pub fn run(&self, command: String) -> Promise {
        let storage = self.state.storage();
        let memory = Memory { latest: Rc::clone(&self.latest), tallies: Rc::clone(&self.tallies) };
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
        let latest = Rc::clone(&self.latest);
        future_to_promise(async move {
            latest.set(None);
            clean_up(&storage).await.map_err(JsValue::from)?;
            Ok(JsValue::UNDEFINED)
        })
    }
}

/// The answer to one command: 200 with the outcome, 400 for a malformed command, 500 when
/// storage failed.
/// What the instance keeps between requests: caches and counts, never anything a decision
/// relies on.
struct Memory {
    latest: Rc<Cell<Option<u64>>>,
    tallies: Rc<RefCell<Tallies>>,
}

async fn answer(storage: &Storage, memory: &Memory, req: &web_sys::Request) -> web_sys::Response {
    let Ok(body) = js::body(req.array_buffer()).await else { return plain(400, "unreadable command") };
    match decide(storage, memory, &body).await {
        Ok(json) => plain(200, &json),
        Err((status, why)) => plain(status, why),
    }
}

/// A command's outcome as JSON, or the status and reason it failed with.
async fn decide(storage: &Storage, memory: &Memory, body: &[u8]) -> Result<String, (u16, &'static str)> {
    let Ok(command) = serde_json::from_slice::<Command>(body) else { return Err((400, "malformed command")) };
    if command.named_keys().iter().any(|k| k.is_empty() || *k == LATEST_EXPIRY) {
        return Err((400, "invalid key"));
    }
    match run(storage, memory, command).await {
        Ok(outcome) => serde_json::to_string(&outcome).map_err(|_| (500, "unencodable outcome")),
        Err(_) => Err((500, "storage failed")),
    }
}

async fn run(storage: &Storage, memory: &Memory, command: Command) -> worker::Result<crate::transitions::Outcome> {
    let latest = &*memory.latest;
    let now = Date::now().as_millis();
    Ok(match command {
        Command::Read { keys } => read(read_entries(storage, &keys).await?, now),
        Command::ReadAndRecord { keys, token_hashes, record_key, record, expires_at_ms } => {
            let (outcome, stored) =
                read_and_record(read_entries(storage, &keys).await?, &token_hashes, record, expires_at_ms, now);
            if let Some(entry) = stored {
                store_effect(storage, latest, &record_key, Effect::Put(entry), now).await?;
            }
            outcome
        }
        Command::List { prefix, after } => list(list_entries(storage, &prefix, after.as_deref()).await?, now),
        Command::Tally { series, key, record, expires_at_ms, drop } => {
            let writes = tally(&mut memory.tallies.borrow_mut(), series, key, record, expires_at_ms);
            for (key, entry) in writes {
                store_effect(storage, latest, &key, Effect::Put(entry), now).await?;
            }
            if let Some(dropped) = drop {
                store_effect(storage, latest, &dropped, Effect::Delete, now).await?;
            }
            crate::transitions::Outcome::Stored
        }
        single => {
            let key = single.key().unwrap_or_default().to_string();
            let prune = match &single {
                Command::PutAndPrune { prune_prefix, prune_max, .. } => Some((prune_prefix.clone(), *prune_max)),
                _ => None,
            };
            // A put replaces whatever is there: nothing to read first.
            let current: Option<Entry> = if matches!(single, Command::Put { .. } | Command::PutAndPrune { .. }) {
                None
            } else {
                storage.get(&key).await?
            };
            let (outcome, effect) = apply(single, current, now);
            store_effect(storage, latest, &key, effect, now).await?;
            if let Some((prefix, max)) = prune {
                let expired = expired_keys(oldest_entries(storage, &prefix, max).await?, now);
                if !expired.is_empty() {
                    storage.delete_multiple(expired).await?;
                }
            }
            outcome
        }
    })
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

/// Carries out what [`apply`] decided for `key`.
async fn store_effect(
    storage: &Storage,
    latest: &Cell<Option<u64>>,
    key: &str,
    effect: Effect,
    now: u64,
) -> worker::Result<()> {
    match effect {
        Effect::Put(entry) => {
            let known = match latest.get() {
                Some(l) => Some(l),
                None => storage.get(LATEST_EXPIRY).await?,
            };
            let expires = alarm_at(entry.expires_at_ms, now);
            storage.put(key, &entry).await?;
            if known.is_none_or(|l| l < expires) {
                storage.put(LATEST_EXPIRY, expires).await?;
                storage.set_alarm(Duration::from_millis(expires.saturating_sub(now))).await?;
                latest.set(Some(expires));
            } else {
                latest.set(known);
            }
        }
        Effect::Delete => {
            storage.delete(key).await?;
        }
        Effect::None => {}
    }
    Ok(())
}

/// The stored entries of `keys`, in order, with one storage read.
async fn read_entries(storage: &Storage, keys: &[String]) -> worker::Result<Vec<Option<Entry>>> {
    let found = storage.get_multiple(keys.iter().map(String::as_str).collect()).await?;
    Ok(keys
        .iter()
        // A missing key reads as `undefined`: decoded as `None` without making an error (a JS
        // `Error`, with its stack trace, is costly).
        .map(|k| serde_wasm_bindgen::from_value::<Option<Entry>>(found.get(&JsValue::from_str(k))).ok().flatten())
        .collect())
}

/// The last `max` stored entries under `prefix` (the oldest, for keys that sort newest first).
async fn oldest_entries(storage: &Storage, prefix: &str, max: usize) -> worker::Result<Vec<(String, Entry)>> {
    let map = storage.list_with_options(ListOptions::new().prefix(prefix).reverse(true).limit(max)).await?;
    Ok(pairs(&map))
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

/// Up to [`LIST_LIMIT`] + 1 stored entries under `prefix`, after `after`, in key order.
async fn list_entries(storage: &Storage, prefix: &str, after: Option<&str>) -> worker::Result<Vec<(String, Entry)>> {
    // `start` is inclusive: the smallest key after `after` is `after` + NUL.
    let start = after.map(|a| format!("{a}\0"));
    let mut options = ListOptions::new().prefix(prefix).limit(LIST_LIMIT + 1);
    if let Some(start) = start.as_deref() {
        options = options.start(start);
    }
    let map = storage.list_with_options(options).await?;
    Ok(pairs(&map))
}

impl std::fmt::Debug for Transitions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Transitions")
    }
}
