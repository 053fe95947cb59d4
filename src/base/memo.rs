//! What one isolate remembers between requests: small maps whose entries end at a time, kept in
//! memory and never written anywhere. Used for what anonymous requests could otherwise make the
//! gateway store (fetched client metadata documents, key sets, failed fetches): an isolate that
//! forgets only fetches again, under the per-address limit (`rate_limit::Limit::Lookups`).
//!
//! An isolate serves many requests in turn (never two at once on one thread), so a
//! `thread_local` map is safe; a Worker has a few isolates per location, each with its own.

use std::cell::RefCell;
use std::thread::LocalKey;

/// A map of at most `cap` entries, each kept until its own time; the oldest goes first when full.
#[derive(Debug)]
pub struct Memo<V> {
    entries: Vec<(String, u64, V)>,
    cap: usize,
}

impl<V: Clone> Memo<V> {
    pub const fn new(cap: usize) -> Self {
        Self { entries: Vec::new(), cap }
    }

    /// The value under `key`, while `now_ms` is before its end.
    pub fn get(&self, key: &str, now_ms: u64) -> Option<V> {
        self.entries.iter().find(|(k, until, _)| k == key && now_ms < *until).map(|(_, _, v)| v.clone())
    }

    /// Keeps `value` under `key` until `until_ms`, replacing what was there.
    pub fn put(&mut self, key: &str, until_ms: u64, value: V, now_ms: u64) {
        self.entries.retain(|(k, until, _)| k != key && now_ms < *until);
        if self.entries.len() >= self.cap.max(1) {
            self.entries.remove(0);
        }
        self.entries.push((key.to_string(), until_ms, value));
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

/// [`Memo::get`] on a thread-local memo.
pub fn get<V: Clone + 'static>(memo: &'static LocalKey<RefCell<Memo<V>>>, key: &str, now_ms: u64) -> Option<V> {
    memo.with_borrow(|m| m.get(key, now_ms))
}

/// [`Memo::put`] on a thread-local memo.
pub fn put<V: Clone + 'static>(
    memo: &'static LocalKey<RefCell<Memo<V>>>,
    key: &str,
    until_ms: u64,
    value: V,
    now_ms: u64,
) {
    memo.with_borrow_mut(|m| m.put(key, until_ms, value, now_ms));
}

#[cfg(test)]
mod tests {
    use super::Memo;

    #[test]
    fn entries_end_at_their_time_and_the_oldest_goes_when_full() {
        let mut m = Memo::new(2);
        m.put("a", 100, 1, 0);
        m.put("b", 50, 2, 0);
        assert_eq!((m.get("a", 99), m.get("a", 100)), (Some(1), None));
        assert_eq!(m.get("b", 49), Some(2));
        m.put("c", 100, 3, 10);
        assert_eq!((m.get("a", 10), m.get("b", 10), m.get("c", 10)), (None, Some(2), Some(3)));
        // An ended entry makes room before a live one is pushed out.
        m.put("d", 100, 4, 60);
        assert_eq!((m.get("c", 60), m.get("d", 60)), (Some(3), Some(4)));
        m.put("d", 100, 5, 60);
        assert_eq!(m.get("d", 60), Some(5));
        m.clear();
        assert_eq!(m.get("d", 60), None);
    }
}
