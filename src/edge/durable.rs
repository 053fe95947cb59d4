//! The `Transitions` Durable Object: executes [`crate::transitions`] commands atomically.
//!
//! A Durable Object handles one request at a time, so "read entry → decide → write" cannot
//! interleave with another caller's. Callers choose the object by name (one per one-time value
//! or per grant family), so no single object becomes a hot spot. An alarm at the latest expiry
//! deletes everything once all entries are dead.

use std::time::Duration;

use worker::{durable_object, Date, DurableObject, Env, Request, Response, State};

use crate::transitions::{apply, Command, Effect, Entry};

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
        let key = command.key().to_string();
        if key.is_empty() || key == LATEST_EXPIRY {
            return Response::error("invalid key", 400);
        }
        let current: Option<Entry> = storage.get(&key).await?;
        let now = Date::now().as_millis();
        let (outcome, effect) = apply(command, current, now);
        match effect {
            Effect::Put(entry) => {
                let latest: Option<u64> = storage.get(LATEST_EXPIRY).await?;
                let expires = entry.expires_at_ms;
                storage.put(&key, &entry).await?;
                if latest.is_none_or(|l| l < expires) {
                    storage.put(LATEST_EXPIRY, expires).await?;
                    storage.set_alarm(Duration::from_millis(expires.saturating_sub(now))).await?;
                }
            }
            Effect::Delete => {
                storage.delete(&key).await?;
            }
            Effect::None => {}
        }
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

impl std::fmt::Debug for Transitions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Transitions")
    }
}
