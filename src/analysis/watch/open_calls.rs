//! The shell calls a watch waits for the results of: what it needs of each (the command's
//! purpose, to count test runs that fail in a row), for a bounded number of calls.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, RandomState};

use crate::model::command::Purpose;

/// At most this many calls wait for their results: more are calls whose results never came
/// (an agent killed mid-call, a recorder that lost them), and the oldest is let go. Agents run
/// a few calls at once, not thousands.
pub(super) const MOST_OPEN: usize = 4096;

/// Calls waiting for their results, by a hash of their tool-use id (an id is as long as its
/// recorder made it), oldest first.
#[derive(Debug)]
pub(super) struct OpenCalls {
    purposes: HashMap<u64, Purpose>,
    /// The ids in the order their calls came; some may have had their results since.
    order: VecDeque<u64>,
    hashing: RandomState,
}

impl OpenCalls {
    pub(super) fn new() -> OpenCalls {
        OpenCalls {
            purposes: HashMap::new(),
            order: VecDeque::new(),
            hashing: RandomState::new(),
        }
    }

    /// A call of tool-use id `id` now waits for its result.
    pub(super) fn open(&mut self, id: &str, purpose: Purpose) {
        let key = self.hashing.hash_one(id);
        if self.purposes.insert(key, purpose).is_none() {
            self.order.push_back(key);
        }
        while self.purposes.len() > MOST_OPEN {
            match self.order.pop_front() {
                Some(oldest) => self.purposes.remove(&oldest),
                None => break,
            };
        }
        // Calls whose results came are left in `order`: dropped once they are most of it.
        if self.order.len() > 2 * MOST_OPEN {
            self.order.retain(|key| self.purposes.contains_key(key));
        }
    }

    /// The purpose of the call of tool-use id `id`, which waits no more.
    pub(super) fn close(&mut self, id: &str) -> Option<Purpose> {
        self.purposes.remove(&self.hashing.hash_one(id))
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> (usize, usize) {
        (self.purposes.len(), self.order.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_call_is_let_go_past_the_bound() {
        let mut open = OpenCalls::new();
        for n in 0..=MOST_OPEN {
            open.open(&format!("t{n}"), Purpose::Test);
        }
        assert_eq!(open.close("t0"), None, "the oldest was let go");
        assert_eq!(open.close("t1"), Some(Purpose::Test));
        assert_eq!(open.close(&format!("t{MOST_OPEN}")), Some(Purpose::Test));
    }

    #[test]
    fn calls_whose_results_came_are_not_kept() {
        let mut open = OpenCalls::new();
        for n in 0..10 * MOST_OPEN {
            let id = format!("t{n}");
            open.open(&id, Purpose::Other);
            assert_eq!(open.close(&id), Some(Purpose::Other));
        }
        let (waiting, ordered) = open.len();
        assert_eq!(waiting, 0);
        assert!(ordered <= 2 * MOST_OPEN + 1, "{ordered}");
    }
}
