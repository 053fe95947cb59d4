//! Properties over random command sequences on a few keys, with a fake clock that only moves
//! forward: a value is taken at most once and never after it expired, a live entry is never
//! overwritten by `Insert`, and two holders never hold live leases on one key at once.

use std::collections::HashMap;

use proptest::prelude::*;
use serde_json::json;

use super::*;

#[derive(Debug, Clone)]
enum Step {
    Advance(u64),
    Insert { key: u8, ttl: u64 },
    Take { key: u8 },
    Get { key: u8 },
    Acquire { key: u8, holder: u8, ttl: u64 },
    Release { key: u8, holder: u8 },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..200u64).prop_map(Step::Advance),
        (0..3u8, 0..150u64).prop_map(|(key, ttl)| Step::Insert { key, ttl }),
        (0..3u8).prop_map(|key| Step::Take { key }),
        (0..3u8).prop_map(|key| Step::Get { key }),
        (0..3u8, 0..3u8, 0..150u64).prop_map(|(key, holder, ttl)| Step::Acquire { key, holder, ttl }),
        (0..3u8, 0..3u8).prop_map(|(key, holder)| Step::Release { key, holder }),
    ]
}

/// The object, as the Durable Object runs it: load, apply, store.
#[derive(Default)]
struct Object {
    entries: HashMap<String, Entry>,
}

impl Object {
    fn run(&mut self, command: Command, now: u64) -> Outcome {
        let key = command.key().unwrap_or_default().to_string();
        let (outcome, effect) = apply(command, self.entries.get(&key).cloned(), now);
        match effect {
            Effect::Put(e) => {
                self.entries.insert(key, e);
            }
            Effect::Delete => {
                self.entries.remove(&key);
            }
            Effect::None => {}
        }
        outcome
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn one_time_values_and_leases_hold_their_promises(steps in prop::collection::vec(step(), 1..80)) {
        let mut object = Object::default();
        let mut now = 1_000u64;
        let mut serial = 0u64;
        // value -> (expires_at, taken)
        let mut inserted: HashMap<u64, (u64, bool)> = HashMap::new();
        // key -> (holder, expires_at) of the lease the model believes is live
        let mut leases: HashMap<u8, (u8, u64)> = HashMap::new();
        for s in steps {
            match s {
                Step::Advance(ms) => now += ms,
                Step::Insert { key, ttl } => {
                    serial += 1;
                    let live_before = object.entries.get(&format!("v{key}")).is_some_and(|e| e.is_live(now));
                    let cmd = Command::Insert { key: format!("v{key}"), value: json!(serial), expires_at_ms: now + ttl };
                    let outcome = object.run(cmd, now);
                    if live_before {
                        prop_assert_eq!(outcome, Outcome::AlreadyExists);
                    } else {
                        prop_assert_eq!(outcome, Outcome::Inserted);
                        inserted.insert(serial, (now + ttl, false));
                    }
                }
                Step::Take { key } => {
                    if let Outcome::Taken { value } = object.run(Command::Take { key: format!("v{key}") }, now) {
                        let id = value.as_u64().unwrap_or_default();
                        let (expires, taken) = inserted.get_mut(&id).expect("only inserted values come back");
                        prop_assert!(!*taken, "value {} taken twice", id);
                        prop_assert!(now < *expires, "value {} taken after it expired", id);
                        *taken = true;
                    }
                }
                Step::Get { key } => {
                    if let Outcome::Found { value } = object.run(Command::Get { key: format!("v{key}") }, now) {
                        let (expires, taken) = inserted[&value.as_u64().unwrap_or_default()];
                        prop_assert!(!taken && now < expires, "a taken or expired value was still found");
                    }
                }
                Step::Acquire { key, holder, ttl } => {
                    let cmd = Command::Acquire { key: format!("l{key}"), holder: holder.to_string(), expires_at_ms: now + ttl };
                    let other_live = leases.get(&key).is_some_and(|&(h, exp)| h != holder && now < exp);
                    match object.run(cmd, now) {
                        Outcome::Acquired => {
                            prop_assert!(!other_live, "two holders on lease {}", key);
                            leases.insert(key, (holder, now + ttl));
                        }
                        Outcome::Busy => prop_assert!(other_live, "busy with no other live holder"),
                        other => prop_assert!(false, "unexpected {:?}", other),
                    }
                }
                Step::Release { key, holder } => {
                    let mine = leases.get(&key).is_some_and(|&(h, exp)| h == holder && now < exp);
                    let outcome = object.run(Command::Release { key: format!("l{key}"), holder: holder.to_string() }, now);
                    prop_assert_eq!(outcome == Outcome::Released, mine);
                    if mine {
                        leases.remove(&key);
                    }
                }
            }
        }
    }
}
