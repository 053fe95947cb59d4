//! The `Transitions` Durable Object: executes [`crate::transitions`] commands atomically.
//!
//! A Durable Object handles one request at a time, so "read entry → decide → write" cannot
//! interleave with another caller's. Callers choose the object by name (one per one-time value
//! or per grant family), so no single object becomes a hot spot. An alarm at the latest expiry
//! deletes everything once all entries are dead.

use std::time::Duration;

use wasm_bindgen::JsCast;
use worker::{durable_object, js_sys, Date, DurableObject, Env, ListOptions, Request, Response, State, Storage};

use crate::transitions::{apply, list, read, Command, Effect, Entry, LIST_LIMIT};

/// Storage key holding the latest expiry of any entry (for the clean-up alarm).
const LATEST_EXPIRY: &str = "__latest_expiry_ms";

#[durable_object]
pub struct Transitions {
    state: State,
}

impl DurableObject for Transitions {
    fn new(state: State, _env: Env) -> Self {
        Self { state }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let Ok(command) = req.json::<Command>().await else {
            return Response::error("malformed command", 400);
        };
        let storage = self.state.storage();
        if command.named_keys().iter().any(|k| k.is_empty() || *k == LATEST_EXPIRY) {
            return Response::error("invalid key", 400);
        }
        let now = Date::now().as_millis();
        let outcome = match command {
            Command::Read { keys } => read(read_entries(&storage, &keys).await?, now),
            Command::List { prefix, after } => list(list_entries(&storage, &prefix, after.as_deref()).await?, now),
            single => {
                let key = single.key().unwrap_or_default().to_string();
                let current: Option<Entry> = storage.get(&key).await?;
                let (outcome, effect) = apply(single, current, now);
                store_effect(&storage, &key, effect, now).await?;
                outcome
            }
        };
        Response::from_json(&outcome)
    }

    async fn alarm(&self) -> worker::Result<Response> {
        let storage = self.state.storage();
        let latest: Option<u64> = storage.get(LATEST_EXPIRY).await?;
        let now = Date::now().as_millis();
        match latest {
            Some(l) if l > now => storage.set_alarm(Duration::from_millis(l - now)).await?,
            _ => storage.delete_all().await?,
        }
        Response::ok("")
    }
}

/// Carries out what [`apply`] decided for `key`.
async fn store_effect(storage: &Storage, key: &str, effect: Effect, now: u64) -> worker::Result<()> {
    match effect {
        Effect::Put(entry) => {
            let latest: Option<u64> = storage.get(LATEST_EXPIRY).await?;
            let expires = entry.expires_at_ms;
            storage.put(key, &entry).await?;
            if latest.is_none_or(|l| l < expires) {
                storage.put(LATEST_EXPIRY, expires).await?;
                storage.set_alarm(Duration::from_millis(expires.saturating_sub(now))).await?;
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
        .map(|k| serde_wasm_bindgen::from_value(found.get(&wasm_bindgen::JsValue::from_str(k))).ok())
        .collect())
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
    let mut entries = Vec::new();
    for pair in map.entries() {
        let Ok(pair) = pair.and_then(|p| p.dyn_into::<js_sys::Array>()) else { continue };
        let (Some(key), Ok(entry)) = (pair.get(0).as_string(), serde_wasm_bindgen::from_value::<Entry>(pair.get(1)))
        else {
            continue;
        };
        entries.push((key, entry));
    }
    Ok(entries)
}

impl std::fmt::Debug for Transitions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Transitions")
    }
}
