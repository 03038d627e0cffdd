//! Which events the collector has stored, so that a batch sent again (after a 5xx, a timeout, a
//! collector restart) stores none of its events twice: an event whose session and `event_id`
//! are known is skipped.
//!
//! What is known, in bounded memory: a set of 64-bit hashes of (session, event id) for the last
//! [`MAX_IDS`] events the collector took, and for each session touched since the collector
//! started (loaded), the ids of the events in the last [`TAIL_BYTES`] of its `events.ndjson`,
//! read once when first touched: a client whose answer was lost as the collector stopped sends
//! again to the collector that started next. With them come the ids of the batch being looked
//! up found among as many lines before that tail (the caller's read, see the collector's
//! `ingest`): a batch over [`TAIL_BYTES`] is known whole.
//!
//! Each id in the set carries how many bytes the collector had written to its session's file
//! since the session was loaded, once the id's event was written; each loaded session, how many
//! it has written since. When the set forgets an id, the difference is at least how far its
//! event's line ends before the end of the file (other writers only add to it). While that is
//! less than [`TAIL_BYTES`], the event may still be in the tail a reader of the file would read,
//! so its session is no longer loaded and its file's tail is read again on its next batch; once
//! it is more, a read of the tail would not find the event either, and nothing is read. So an
//! event sent again is always recognised while it is within the last [`TAIL_BYTES`] of its
//! session's file, and for longer while the set still holds it; and a stream past [`MAX_IDS`]
//! events reads its tail again only when it holds fewer than [`TAIL_BYTES`] of its own since.
//! A count stays true across a reload: an id stored before the session was loaded again ends
//! before all it has written since, which is more than the difference says.
//!
//! Concurrency: one request at a time writes a session's events (a lock per stripe of
//! sessions, held from the look-up to the write's end), so two requests with the same batch at
//! once store it once; the second sees what the first wrote. The set has a lock of its own, held
//! for a look-up or an insertion of a batch, never across a write.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The events whose ids the set holds, at most: 24 bytes each in the order of arrival and
/// about 18 in the set, some 11 MiB in all.
pub const MAX_IDS: usize = 1 << 18;

/// Sessions marked loaded, at most (16 bytes each and the map's room, some 2 MiB); past this
/// every mark is dropped (their tails are read again as they come back).
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

/// A session as the set knows it: the hash its events' keys are made from, made once a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session(u64);

struct Known {
    /// Hashes of (session, event id).
    ids: HashSet<u64>,
    /// What `ids` holds, oldest first.
    order: VecDeque<Stored>,
    /// The sessions whose file's tail is in `ids`, each with the bytes the collector has
    /// written to its file since.
    loaded: HashMap<u64, u64>,
    /// `ids` holds this many, at most ([`MAX_IDS`] but in tests).
    max_ids: usize,
}

/// One id the set holds.
struct Stored {
    session: u64,
    key: u64,
    /// The bytes its session had been written since it was loaded, once its event was: its
    /// event's line ends no later.
    written: u64,
}

impl Default for Recent {
    fn default() -> Self {
        Recent::new(MAX_IDS)
    }
}

/// A batch looked up: for each event, whether it is to be written (neither stored before nor
/// earlier in the batch).
pub type Fresh = Vec<bool>;

impl Recent {
    /// A set that holds `max_ids` ids at most ([`MAX_IDS`] but in tests).
    pub fn new(max_ids: usize) -> Self {
        Recent {
            // Keys chosen at random for each collector: ids a client picks cannot be made to
            // collide with another client's, which would drop that client's event.
            hasher: RandomState::new(),
            known: Mutex::new(Known {
                ids: HashSet::new(),
                order: VecDeque::new(),
                loaded: HashMap::new(),
                max_ids: max_ids.max(1),
            }),
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }

    /// `session` as the other calls take it.
    pub fn session(&self, session: &str) -> Session {
        Session(self.hasher.hash_one(session))
    }

    /// Holds `session` for writing: the look-up ([`Recent::fresh`]), the write and
    /// [`Recent::remember`] of one request go before any other request's for it.
    pub fn lock(&self, session: Session) -> MutexGuard<'_, ()> {
        let stripe = session.0 as usize % STRIPES;
        self.stripes[stripe]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The hash of one event of `session`, as [`Recent::fresh`] takes the ids `tail` holds.
    pub fn key(&self, session: Session, id: &str) -> u64 {
        self.hasher.hash_one((session.0, id))
    }

    /// Which of `keys` (the [`Recent::key`]s of the batch's event ids, in order, each hashed
    /// once by the caller and kept for [`Recent::remember`]) are to be written; `None` when the
    /// session is not loaded and `tail` is `None`: the caller reads the keys of the ids in its
    /// file's tail and asks again with them. Looked up under one lock with the loading, so that
    /// no other request's insertion can make the set forget the session in between.
    pub fn fresh(&self, session: Session, keys: &[u64], tail: Option<Vec<u64>>) -> Option<Fresh> {
        let mut known = self.lock_known();
        if let Some(tail) = tail {
            // Their lines end before anything the collector writes from now on.
            for key in tail {
                known.insert(session.0, key, 0);
            }
            known.mark_loaded(session.0);
        }
        if !known.loaded.contains_key(&session.0) {
            return None;
        }
        let mut in_batch = HashSet::with_capacity(keys.len());
        Some(
            keys.iter()
                .map(|&key| !known.ids.contains(&key) && in_batch.insert(key))
                .collect(),
        )
    }

    /// Adds the keys ([`Recent::key`]) of events of `session` now written, `bytes` in all.
    pub fn remember(&self, session: Session, keys: impl Iterator<Item = u64>, bytes: u64) {
        let mut known = self.lock_known();
        // A session not loaded (the set forgot it since the look-up) is read again before its
        // next look-up: its ids from now are before all it is written then.
        let written = known.loaded.get_mut(&session.0).map_or(0, |written| {
            *written += bytes;
            *written
        });
        for key in keys {
            known.insert(session.0, key, written);
        }
    }

    /// A write of `session` failed part way: what it left in the file is not known here, so the
    /// file's tail is read again before the session is looked up next.
    pub fn forget_session(&self, session: Session) {
        self.lock_known().loaded.remove(&session.0);
    }

    fn lock_known(&self) -> MutexGuard<'_, Known> {
        self.known.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Known {
    fn insert(&mut self, session: u64, key: u64, written: u64) {
        if !self.ids.insert(key) {
            return;
        }
        // Room made before the push, so that the queue never grows past `max_ids`.
        while self.order.len() >= self.max_ids {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            self.ids.remove(&old.key);
            self.forgot(&old);
        }
        self.order.push_back(Stored {
            session,
            key,
            written,
        });
    }

    /// `old` is no longer in the set: a session whose file may still hold it in its tail no
    /// longer has every id of its tail here, and is read again.
    fn forgot(&mut self, old: &Stored) {
        if let Some(written) = self.loaded.get(&old.session)
            && written.saturating_sub(old.written) < TAIL_BYTES
        {
            self.loaded.remove(&old.session);
        }
    }

    fn mark_loaded(&mut self, session: u64) {
        if self.loaded.len() >= MAX_SESSIONS {
            self.loaded.clear();
        }
        self.loaded.insert(session, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys of `ids` in `session`.
    fn keys(recent: &Recent, session: Session, ids: &[&str]) -> Vec<u64> {
        ids.iter().map(|id| recent.key(session, id)).collect()
    }

    #[test]
    fn a_session_is_looked_up_once_its_tail_is_known() {
        let recent = Recent::default();
        let (s, t) = (recent.session("s"), recent.session("t"));
        assert_eq!(recent.fresh(s, &keys(&recent, s, &["a"]), None), None);
        let tail = vec![recent.key(s, "a")];
        assert_eq!(
            recent.fresh(s, &keys(&recent, s, &["a", "b", "b", "c"]), Some(tail)),
            Some(vec![false, true, false, true])
        );
        recent.remember(s, keys(&recent, s, &["b"]).into_iter(), 100);
        assert_eq!(
            recent.fresh(s, &keys(&recent, s, &["b", "c"]), None),
            Some(vec![false, true])
        );
        // The same id in another session is another event.
        assert_eq!(
            recent.fresh(t, &keys(&recent, t, &["b"]), Some(Vec::new())),
            Some(vec![true])
        );
        recent.forget_session(s);
        assert_eq!(recent.fresh(s, &keys(&recent, s, &["c"]), None), None);
    }

    /// `session` loaded with nothing in its tail.
    fn loaded(recent: &Recent, session: &str) -> Session {
        let session = recent.session(session);
        assert!(recent.fresh(session, &[], Some(Vec::new())).is_some());
        session
    }

    #[test]
    fn a_session_whose_forgotten_id_may_be_in_its_tail_is_read_again() {
        let recent = Recent::new(4);
        let old = loaded(&recent, "old");
        recent.remember(old, keys(&recent, old, &["x"]).into_iter(), 200);
        // Less than the tail's bytes written since: `x` may still be in it.
        recent.remember(old, keys(&recent, old, &["y"]).into_iter(), TAIL_BYTES - 1);
        let new = loaded(&recent, "new");
        recent.remember(new, keys(&recent, new, &["0", "1", "2"]).into_iter(), 300);
        assert_eq!(recent.fresh(old, &keys(&recent, old, &["x"]), None), None);
        assert_eq!(
            recent.fresh(new, &keys(&recent, new, &["0", "1", "2", "3"]), None),
            Some(vec![false, false, false, true])
        );
    }

    #[test]
    fn an_id_forgotten_far_back_in_its_file_reads_nothing_again() {
        let recent = Recent::new(4);
        let old = loaded(&recent, "old");
        recent.remember(old, keys(&recent, old, &["x"]).into_iter(), 200);
        // A whole tail written since: a read of the tail would not find `x` either.
        recent.remember(old, keys(&recent, old, &["y"]).into_iter(), TAIL_BYTES);
        let new = loaded(&recent, "new");
        recent.remember(new, keys(&recent, new, &["0", "1", "2"]).into_iter(), 300);
        assert_eq!(
            recent.fresh(old, &keys(&recent, old, &["x", "y", "z"]), None),
            Some(vec![true, false, true])
        );
        // Its own stream forgets its ids as it goes, its tail never read again.
        let many: Vec<String> = (0..100).map(|n| format!("e{n}")).collect();
        for id in &many {
            recent.remember(new, std::iter::once(recent.key(new, id)), TAIL_BYTES / 2);
            assert!(recent.fresh(new, &[], None).is_some());
        }
    }

    #[test]
    fn the_ids_of_a_tail_count_from_when_it_was_read() {
        let recent = Recent::new(2);
        let s = recent.session("s");
        let tail = vec![recent.key(s, "a"), recent.key(s, "b")];
        assert!(recent.fresh(s, &[], Some(tail)).is_some());
        recent.remember(s, keys(&recent, s, &["c"]).into_iter(), 10);
        // `a` is forgotten with 10 bytes written since: maybe still in the tail.
        assert_eq!(recent.fresh(s, &[], None), None);
        let tail = vec![recent.key(s, "b"), recent.key(s, "c")];
        assert!(recent.fresh(s, &[], Some(tail)).is_some());
        recent.remember(s, keys(&recent, s, &["d"]).into_iter(), TAIL_BYTES);
        // `b` is forgotten with a whole tail written since: far back.
        assert_eq!(
            recent.fresh(s, &keys(&recent, s, &["b", "c", "d"]), None),
            Some(vec![true, false, false])
        );
    }
}
