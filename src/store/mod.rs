//! Storage, typed: the only modules that name a Durable Object command
//! ([`crate::transitions::Command`]) or turn a stored record into JSON and back. Callers ask
//! for what they need ("this grant", "spend this code", "the person's newest connection") and
//! never learn where it lives; every key and object name is built in [`keys`], and
//! `docs/storage-schema.md` describes each record.
//!
//! A record that is present but does not parse is treated as absent (and logged): it cannot
//! be used, and nothing here deletes it.
//!
//! | File | Records |
//! |---|---|
//! | [`keys`] | every KV key and `Transitions` object name |
//! | [`grants`] | grants (in their person's object): load, create, replace by compare-and-swap, revoke |
//! | [`person`] | what authenticating a token reads from the person's object, in one request |
//! | [`policy`] | the deployer's policy and its copies in each person's object |
//! | [`one_time`] | authorization requests, codes, connect state, spent assertion ids, fetch slots |
//! | [`connections`] | the newest Attio connection and the refresh lease (the person's object) |
//! | [`vault`] | sealed Attio connections in KV (`attio-conn:v1:`) |
//! | [`clients`] | registered clients, cached metadata documents and key sets (KV) |
//! | [`grant_index`] | a person's approved apps, for the account page (KV) |
//! | [`audit`] | the audit log (each person's Durable Object; KV for earlier releases' entries), its views and usage, and the administrators' log ([`audit::admin_log`]) |
//!
//! May use `base`, `config`, `crypto`, `platform`, `transitions` and the domain types it stores
//! (`oauth`'s grants and clients, `control`'s policy); nothing above (`tests/architecture.rs`).

pub mod audit;
pub mod clients;
pub mod connections;
pub mod grant_index;
pub mod grants;
pub mod keys;
pub mod one_time;
pub mod owner_gate;
pub mod person;
pub mod policy;
pub mod sweep;
pub mod vault;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::platform::{KvStore, Platform, StoreError};
use crate::transitions::{Command, Outcome};

fn encode<T: Serialize>(record: &T) -> Result<Value, StoreError> {
    serde_json::to_value(record).map_err(|e| StoreError(format!("encoding: {e}")))
}

fn decode<T: DeserializeOwned, P: Platform>(p: &P, object: &str, value: Value) -> Option<T> {
    match serde_json::from_value(value) {
        Ok(record) => Some(record),
        Err(_) => {
            // The object name is a keyed hash or an id, never a secret.
            p.log("store.unreadable", object);
            None
        }
    }
}

/// Stores `record` under `key` unless a live entry holds it; `false` when one does.
async fn insert<T: Serialize, P: Platform>(
    p: &P,
    object: &str,
    key: &str,
    record: &T,
    expires_at_ms: u64,
) -> Result<bool, StoreError> {
    let command = Command::Insert { key: key.into(), value: encode(record)?, expires_at_ms };
    Ok(p.transition(object, command).await? == Outcome::Inserted)
}

/// Stores `record` under `key`, replacing any entry.
async fn put<T: Serialize, P: Platform>(
    p: &P,
    object: &str,
    key: &str,
    record: &T,
    expires_at_ms: u64,
) -> Result<(), StoreError> {
    let command = Command::Put { key: key.into(), value: encode(record)?, expires_at_ms };
    match p.transition(object, command).await? {
        Outcome::Stored => Ok(()),
        other => Err(StoreError(format!("unexpected answer to put: {other:?}"))),
    }
}

/// The live entry under `key`, left in place.
async fn get<T: DeserializeOwned, P: Platform>(p: &P, object: &str, key: &str) -> Result<Option<T>, StoreError> {
    match p.transition(object, Command::Get { key: key.into() }).await? {
        Outcome::Found { value } => Ok(decode(p, object, value)),
        _ => Ok(None),
    }
}

/// The live entry under `key`, removed: no second caller can have it.
async fn take<T: DeserializeOwned, P: Platform>(p: &P, object: &str, key: &str) -> Result<Option<T>, StoreError> {
    match p.transition(object, Command::Take { key: key.into() }).await? {
        Outcome::Taken { value } => Ok(decode(p, object, value)),
        _ => Ok(None),
    }
}

/// KV's limit on a key's metadata.
const METADATA_MAX: usize = 1024;

/// `record` (a small record's JSON) as its key's metadata too, when it fits: readers of many
/// such records then list them ([`listed`]) instead of reading each key.
fn as_metadata(record: &str) -> Option<&str> {
    (record.len() <= METADATA_MAX).then_some(record)
}

/// The records under `prefix`, in key order, from at most `max_keys` keys, each as its JSON
/// text: from the listing's metadata, or (records without it: written before it was kept, or
/// too long for it) by reading the key, at most `reads_max` times; `None` past that.
async fn listed<P: KvStore>(
    p: &P,
    prefix: &str,
    max_keys: usize,
    reads_max: usize,
) -> Result<Vec<(String, Option<String>)>, StoreError> {
    let mut out = Vec::new();
    let mut reads = 0;
    let mut cursor: Option<String> = None;
    while out.len() < max_keys {
        let page = p.kv_list(prefix, cursor.as_deref()).await?;
        for (key, listed) in page.keys.into_iter().zip(page.metadata.into_iter().chain(std::iter::repeat(None))) {
            if out.len() == max_keys {
                break;
            }
            let text = match listed {
                Some(text) => Some(text),
                None if reads < reads_max => {
                    reads += 1;
                    p.kv_get(&key).await?
                }
                None => None,
            };
            out.push((key, text));
        }
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    Ok(out)
}
