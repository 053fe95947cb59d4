//! The fake platform's `Transitions` object: commands carried out by the same code as the real
//! class (`transitions::object::execute`, see `src/edge/durable.rs`), on storage in memory,
//! with every SQLite row it reads or writes counted for the budget model
//! (`src/tests/budgets/budget.rs`).

use std::rc::Rc;

use super::*;
use crate::transitions::object::{execute, Failed, Memory, ObjectStorage};

/// SQLite rows the `Transitions` class reads and writes through its storage calls, and alarms
/// it sets, as the budget model counts them (see `src/tests/budgets/budget.rs`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RowCounts {
    pub read: u64,
    pub written: u64,
    pub alarms_set: u64,
}

impl FakePlatform {
    fn count_rows(&self, read: u64, written: u64, alarms_set: u64) {
        let r = self.rows.get();
        self.rows.set(RowCounts {
            read: r.read + read,
            written: r.written + written,
            alarms_set: r.alarms_set + alarms_set,
        });
    }

    /// Puts `entry` under `key` in the object `name` directly, as if written long ago: for tests
    /// that need a large log quickly (nothing is counted).
    pub fn seed_object(&self, name: &str, key: String, entry: Entry) {
        self.objects.borrow_mut().insert((name.to_string(), key), entry);
    }

    /// The object `name`'s memory, as its instance keeps it (the fake's instances never
    /// restart).
    fn memory_of(&self, name: &str) -> Rc<RefCell<Memory>> {
        Rc::clone(self.memories.borrow_mut().entry(name.to_string()).or_default())
    }
}

/// One object's storage in the fake platform.
struct FakeObject<'a> {
    p: &'a FakePlatform,
    name: &'a str,
}

impl FakeObject<'_> {
    fn slot(&self, key: &str) -> (String, String) {
        (self.name.to_string(), key.to_string())
    }
}

impl ObjectStorage for FakeObject<'_> {
    async fn get(&self, keys: &[String]) -> Result<Vec<Option<Entry>>, Failed> {
        self.p.count_rows(keys.len() as u64, 0, 0);
        let objects = self.p.objects.borrow();
        Ok(keys.iter().map(|k| objects.get(&self.slot(k)).cloned()).collect())
    }

    async fn put(&self, key: &str, entry: &Entry) -> Result<(), Failed> {
        self.p.count_rows(0, 1, 0);
        self.p.objects.borrow_mut().insert(self.slot(key), entry.clone());
        Ok(())
    }

    async fn delete(&self, keys: Vec<String>) -> Result<(), Failed> {
        for key in keys {
            if self.p.objects.borrow_mut().remove(&self.slot(&key)).is_some() {
                self.p.count_rows(0, 1, 0);
            }
        }
        Ok(())
    }

    async fn list(
        &self,
        prefix: &str,
        start: Option<&str>,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<(String, Entry)>, Failed> {
        let under: BTreeMap<String, Entry> = self
            .p
            .objects
            .borrow()
            .iter()
            .filter(|((o, k), _)| o == self.name && k.starts_with(prefix) && start.is_none_or(|s| k.as_str() >= s))
            .map(|((_, k), e)| (k.clone(), e.clone()))
            .collect();
        let listed: Vec<(String, Entry)> = if reverse {
            under.into_iter().rev().take(limit).collect()
        } else {
            under.into_iter().take(limit).collect()
        };
        self.p.count_rows(listed.len() as u64, 0, 0);
        Ok(listed)
    }

    async fn latest_expiry(&self) -> Result<Option<u64>, Failed> {
        self.p.count_rows(1, 0, 0);
        Ok(self.p.latest_expiry.borrow().get(self.name).copied())
    }

    async fn set_latest_expiry(&self, at_ms: u64, _now_ms: u64) -> Result<(), Failed> {
        self.p.count_rows(0, 1, 1);
        self.p.latest_expiry.borrow_mut().insert(self.name.to_string(), at_ms);
        Ok(())
    }
}

impl TransitionStore for FakePlatform {
    fn transition_detached(&self, object: &str, command: Command) {
        // Done at once: a test reading it back sees what production sees a moment later.
        if let Err(e) = block_on(self.transition(object, command)) {
            self.log("do.detached_failed", &e.to_string());
        }
    }

    async fn transition(&self, object: &str, command: Command) -> Result<Outcome, StoreError> {
        self.note(format!("do {object} {}", command_name(&command)));
        if self.objects_spent.get() {
            return Err(StoreError("Exceeded allowed rows written in Durable Objects free tier.".into()));
        }
        let memory = self.memory_of(object);
        let storage = FakeObject { p: self, name: object };
        execute(&storage, &memory, command, self.now.get()).await.map_err(|Failed(e)| StoreError(e))
    }
}

/// A command's operation name, for the record of storage calls.
fn command_name(command: &Command) -> String {
    serde_json::to_value(command).ok().and_then(|v| v["op"].as_str().map(str::to_string)).unwrap_or_default()
}
