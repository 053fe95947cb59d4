//! The fake platform's `Transitions` object: commands decided by the same pure rules as the
//! real class (`src/edge/durable.rs`), on storage in memory, with every SQLite row the class
//! would read or write counted for the budget model (`src/tests/budget.rs`).

use super::*;

/// SQLite rows the `Transitions` class reads and writes through its storage calls, and alarms
/// it sets, as the budget model counts them (see `src/tests/budget.rs`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RowCounts {
    pub read: u64,
    pub written: u64,
    pub alarms_set: u64,
}

impl FakePlatform {
    /// A put as the class makes it: the latest expiry read (once per object: the class keeps
    /// it), the entry written, and the latest expiry written (setting the alarm) when the
    /// entry's alarm time is later.
    fn store_put(&self, object: &str, key: String, e: Entry) {
        let at = crate::transitions::alarm_at(e.expires_at_ms, self.now.get());
        let (known, later) = {
            let mut latest = self.latest_expiry.borrow_mut();
            let known = latest.contains_key(object);
            let later = latest.get(object).is_none_or(|l| *l < at);
            if later {
                latest.insert(object.to_string(), at);
            }
            (known, later)
        };
        self.count_rows(u64::from(!known), 1 + u64::from(later), u64::from(later));
        self.objects.borrow_mut().insert((object.to_string(), key), e);
    }

    fn count_rows(&self, read: u64, written: u64, alarms_set: u64) {
        let r = self.rows.get();
        self.rows.set(RowCounts {
            read: r.read + read,
            written: r.written + written,
            alarms_set: r.alarms_set + alarms_set,
        });
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
        let now = self.now.get();
        let entry = |key: &str| self.objects.borrow().get(&(object.to_string(), key.to_string())).cloned();
        match command {
            Command::Read { keys } => {
                self.count_rows(keys.len() as u64, 0, 0);
                return Ok(crate::transitions::read(keys.iter().map(|k| entry(k)).collect(), now));
            }
            Command::Tally { series, key, record, expires_at_ms, drop } => {
                let writes = {
                    let mut all = self.tallies.borrow_mut();
                    crate::transitions::tally(
                        all.entry(object.to_string()).or_default(),
                        series,
                        key,
                        record,
                        expires_at_ms,
                    )
                };
                for (key, e) in writes {
                    self.store_put(object, key, e);
                }
                if let Some(dropped) = drop {
                    self.count_rows(0, 1, 0);
                    self.objects.borrow_mut().remove(&(object.to_string(), dropped));
                }
                return Ok(Outcome::Stored);
            }
            Command::ReadAndRecord { keys, token_hashes, record_key, record, expires_at_ms } => {
                self.count_rows(keys.len() as u64, 0, 0);
                let entries = keys.iter().map(|k| entry(k)).collect();
                let (outcome, stored) =
                    crate::transitions::read_and_record(entries, &token_hashes, record, expires_at_ms, now);
                if let Some(e) = stored {
                    self.store_put(object, record_key, e);
                }
                return Ok(outcome);
            }
            Command::List { prefix, after } => {
                let listed: Vec<(String, Entry)> = self
                    .objects
                    .borrow()
                    .iter()
                    .filter(|((o, k), _)| o == object && k.starts_with(&prefix) && after.as_ref().is_none_or(|a| k > a))
                    .map(|((_, k), e)| (k.clone(), e.clone()))
                    .collect::<BTreeMap<_, _>>()
                    .into_iter()
                    .take(crate::transitions::LIST_LIMIT + 1)
                    .collect();
                self.count_rows(listed.len() as u64, 0, 0);
                return Ok(crate::transitions::list(listed, now));
            }
            _ => {}
        }
        let slot = (object.to_string(), command.key().unwrap_or_default().to_string());
        let current = self.objects.borrow().get(&slot).cloned();
        // As the class does: one row read for the entry (not for a put, which replaces it).
        let put = matches!(command, Command::Put { .. } | Command::PutAndPrune { .. });
        self.count_rows(u64::from(!put), 0, 0);
        let prune = match &command {
            Command::PutAndPrune { prune_prefix, prune_max, .. } => Some((prune_prefix.clone(), *prune_max)),
            _ => None,
        };
        let (outcome, effect) = apply(command, current, now);
        match effect {
            Effect::Put(e) => self.store_put(object, slot.1, e),
            Effect::Delete => {
                self.count_rows(0, 1, 0);
                self.objects.borrow_mut().remove(&slot);
            }
            Effect::None => {}
        }
        if let Some((prefix, max)) = prune {
            let oldest: Vec<(String, Entry)> = {
                let objects = self.objects.borrow();
                let mut under: Vec<(String, Entry)> = objects
                    .iter()
                    .filter(|((o, k), _)| o == object && k.starts_with(&prefix))
                    .map(|((_, k), e)| (k.clone(), e.clone()))
                    .collect();
                under.sort_by(|a, b| b.0.cmp(&a.0));
                under.truncate(max);
                under
            };
            self.count_rows(oldest.len() as u64, 0, 0);
            for key in crate::transitions::expired_keys(oldest, now) {
                self.count_rows(0, 1, 0);
                self.objects.borrow_mut().remove(&(object.to_string(), key));
            }
        }
        Ok(outcome)
    }
}

/// A command's operation name, for the record of storage calls.
fn command_name(command: &Command) -> String {
    serde_json::to_value(command).ok().and_then(|v| v["op"].as_str().map(str::to_string)).unwrap_or_default()
}
