//! Which events the collector has stored, so that a batch sent again (after a 5xx, a timeout, a
//! collector restart) stores none of its events twice: an event whose session and `event_id`
//! are known is skipped.
//!
//! What is known, in bounded memory: a set of 64-bit hashes of (session, event id) for the last
//! [`MAX_IDS`] events the collector took, and for each session touched since the collector
//! started (loaded), the ids of the events in the last [`TAIL_BYTES`] of its `events.ndjson`,
//! read once when first touched: a client whose answer was lost as the collector stopped sends
//! again to the collector that started next. When the set forgets an id, its session is no
//! longer loaded, and its file's tail is read again on its next batch; so an event sent again is
//! always recognised while it is within the last [`TAIL_BYTES`] of its session's file, and for
//! longer while the set still holds it.
//!
//! Concurrency: one request at a time writes a session's events (a lock per stripe of
//! sessions, held from the look-up to the write's end), so two requests with the same batch at
//! once store it once; the second sees what the first wrote. The set has a lock of its own, held
//! for a look-up or an insertion of a batch, never across a write.

use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The events whose ids the set holds, at most: 16 bytes each in the order of arrival and
/// about 18 in the set, some 9 MiB in all.
const MAX_IDS: usize = 1 << 18;

/// Sessions marked loaded, at most; past this every mark is dropped (their tails are read
/// again as they come back).
const MAX_SESSIONS: usize = 1 << 16;

/// How much of the end of a session's file is read for the ids it holds: a few milliseconds,
/// once per session touched, for some thousands of events.
pub const TAIL_BYTES: u64 = 1024 * 1024;

/// Locks that one session's writes wait on; sessions sharing a stripe wait on each other.
const STRIPES: usize = 64;

/// What the collector knows it stored (see the module's text).
pub struct Recent {
    hasher: RandomState,
    known: Mutex<Known>,
    stripes: Vec<Mutex<()>>,
}

#[derive(Default)]
struct Known {
    /// Hashes of (session, event id).
    ids: HashSet<u64>,
    /// (session hash, id hash), oldest first.
    order: VecDeque<(u64, u64)>,
    /// Hashes of the sessions whose file's tail is in `ids`.
    loaded: HashSet<u64>,
}

impl Default for Recent {
    fn default() -> Self {
        Recent {
            // Keys chosen at random for each collector: ids a client picks cannot be made to
            // collide with another client's, which would drop that client's event.
            hasher: RandomState::new(),
            known: Mutex::new(Known::default()),
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }
}

/// A batch looked up: for each event, whether it is to be written (neither stored before nor
/// earlier in the batch).
pub type Fresh = Vec<bool>;

impl Recent {
    /// Holds `session` for writing: the look-up ([`Recent::fresh`]), the write and
    /// [`Recent::remember`] of one request go before any other request's for it.
    pub fn lock(&self, session: &str) -> MutexGuard<'_, ()> {
        let stripe = self.session_key(session) as usize % STRIPES;
        self.stripes[stripe]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn session_key(&self, session: &str) -> u64 {
        self.hasher.hash_one(session)
    }

    /// The hash of one event of `session`, as [`Recent::fresh`] takes the ids `tail` holds.
    pub fn key(&self, session: &str, id: &str) -> u64 {
        self.hasher.hash_one((session, id))
    }

    /// Which of `ids` (the batch's event ids, in order) are to be written; `None` when the
    /// session is not loaded and `tail` is `None`: the caller reads the keys of the ids in its
    /// file's tail ([`Recent::key`]) and asks again with them. Looked up under one lock with
    /// the loading, so that no other request's insertion can make the set forget the session
    /// in between.
    pub fn fresh<'a>(
        &self,
        session: &str,
        ids: impl Iterator<Item = &'a str>,
        tail: Option<Vec<u64>>,
    ) -> Option<Fresh> {
        let session_key = self.session_key(session);
        let mut known = self.lock_known();
        if let Some(keys) = tail {
            for key in keys {
                known.insert(session_key, key);
            }
            known.mark_loaded(session_key);
        }
        if !known.loaded.contains(&session_key) {
            return None;
        }
        let mut in_batch = HashSet::new();
        Some(
            ids.map(|id| {
                let key = self.key(session, id);
                !known.ids.contains(&key) && in_batch.insert(key)
            })
            .collect(),
        )
    }

    /// Adds the ids of events of `session` now written.
    pub fn remember<'a>(&self, session: &str, ids: impl Iterator<Item = &'a str>) {
        let session_key = self.session_key(session);
        let keys: Vec<u64> = ids.map(|id| self.key(session, id)).collect();
        let mut known = self.lock_known();
        for key in keys {
            known.insert(session_key, key);
        }
    }

    /// A write of `session` failed part way: what it left in the file is not known here, so the
    /// file's tail is read again before the session is looked up next.
    pub fn forget_session(&self, session: &str) {
        let session_key = self.session_key(session);
        self.lock_known().loaded.remove(&session_key);
    }

    fn lock_known(&self) -> MutexGuard<'_, Known> {
        self.known.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Known {
    fn insert(&mut self, session: u64, key: u64) {
        if !self.ids.insert(key) {
            return;
        }
        self.order.push_back((session, key));
        while self.order.len() > MAX_IDS {
            let Some((old_session, old)) = self.order.pop_front() else {
                break;
            };
            self.ids.remove(&old);
            // Its session no longer has every id of its tail here: read it again.
            self.loaded.remove(&old_session);
        }
    }

    fn mark_loaded(&mut self, session: u64) {
        if self.loaded.len() >= MAX_SESSIONS {
            self.loaded.clear();
        }
        self.loaded.insert(session);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_looked_up_once_its_tail_is_known() {
        let recent = Recent::default();
        assert_eq!(recent.fresh("s", ["a"].into_iter(), None), None);
        let tail = vec![recent.key("s", "a")];
        assert_eq!(
            recent.fresh("s", ["a", "b", "b", "c"].into_iter(), Some(tail)),
            Some(vec![false, true, false, true])
        );
        recent.remember("s", ["b"].into_iter());
        assert_eq!(
            recent.fresh("s", ["b", "c"].into_iter(), None),
            Some(vec![false, true])
        );
        // The same id in another session is another event.
        assert_eq!(
            recent.fresh("t", ["b"].into_iter(), Some(Vec::new())),
            Some(vec![true])
        );
        recent.forget_session("s");
        assert_eq!(recent.fresh("s", ["c"].into_iter(), None), None);
    }

    #[test]
    fn a_session_whose_ids_are_forgotten_is_read_again() {
        let recent = Recent::default();
        assert!(
            recent
                .fresh("old", std::iter::empty(), Some(Vec::new()))
                .is_some()
        );
        recent.remember("old", ["x"].into_iter());
        let many: Vec<String> = (0..MAX_IDS).map(|n| n.to_string()).collect();
        assert!(
            recent
                .fresh("new", std::iter::empty(), Some(Vec::new()))
                .is_some()
        );
        recent.remember("new", many.iter().map(String::as_str));
        assert_eq!(recent.fresh("old", ["x"].into_iter(), None), None);
        assert_eq!(
            recent.fresh("new", ["0", "1"].into_iter(), None),
            Some(vec![false, false])
        );
    }
}
