//! Copies of one session in several stores (its folder copied, its transcript imported in two
//! projects): which copy a command reading every store counts, so that each session counts once.

use std::collections::{HashMap, HashSet};

/// What the rule reads of one copy of a session in a store.
#[derive(Debug, Clone)]
pub struct Copy {
    pub session_id: String,
    pub parent_session_id: Option<String>,
    /// Events stored ([`crate::model::counters::Counters::events`]).
    pub events: u64,
    /// When its last event was, when known.
    pub last: Option<f64>,
}

/// How far a copy of a session went, compared in this order: the events of it and of its
/// subagents in the same store, its own events, the time of its last event.
#[derive(Debug, Clone, Copy, Default, PartialEq, PartialOrd)]
struct Reach {
    with_subagents: u64,
    own: u64,
    last: f64,
}

/// The store whose copy of each session counts.
#[derive(Debug, Default)]
pub struct Kept {
    store_of: HashMap<String, usize>,
}

impl Kept {
    /// Of the sessions of `stores` (each store's, in the order the stores are read), the copy
    /// that went furthest (see [`Reach`]) counts, with its subagents in the same store (whose
    /// replay and judging come from that store); on a tie, the first store's.
    pub fn of(stores: &[Vec<Copy>]) -> Kept {
        let mut kept: HashMap<String, (usize, Reach)> = HashMap::new();
        for (store, copies) in stores.iter().enumerate() {
            for (copy, here) in copies.iter().zip(reaches(copies)) {
                match kept.get_mut(&copy.session_id) {
                    None => {
                        kept.insert(copy.session_id.clone(), (store, here));
                    }
                    Some(held) if here > held.1 => *held = (store, here),
                    Some(_) => {}
                }
            }
        }
        Kept {
            store_of: kept
                .into_iter()
                .map(|(id, (store, _))| (id, store))
                .collect(),
        }
    }

    /// Where the counted copy of `session` is, when a store read holds it.
    pub fn store_of(&self, session: &str) -> Option<usize> {
        self.store_of.get(session).copied()
    }

    /// Whether the copy of `session` in `store` is the one that counts (one no store read
    /// holds counts wherever it is).
    pub fn counts(&self, store: usize, session: &str) -> bool {
        self.store_of(session).is_none_or(|kept| kept == store)
    }
}

/// How far each copy of one store's `copies` went (see [`Reach`]), in the same order.
fn reaches(copies: &[Copy]) -> Vec<Reach> {
    let mut children: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, copy) in copies.iter().enumerate() {
        if let Some(parent) = copy.parent_session_id.as_deref() {
            children.entry(parent).or_default().push(i);
        }
    }
    // Subagents below subagents: a session's tree, each session counted once (a parent link
    // that loops must not count for ever).
    let tree_events = |root: usize| {
        let mut seen = HashSet::from([root]);
        let mut todo = vec![root];
        let mut events = 0u64;
        while let Some(i) = todo.pop() {
            events = events.saturating_add(copies[i].events);
            for &child in children
                .get(copies[i].session_id.as_str())
                .into_iter()
                .flatten()
            {
                if seen.insert(child) {
                    todo.push(child);
                }
            }
        }
        events
    };
    copies
        .iter()
        .enumerate()
        .map(|(i, copy)| Reach {
            with_subagents: tree_events(i),
            own: copy.events,
            last: copy.last.unwrap_or(f64::MIN),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(id: &str, parent: Option<&str>, events: u64, last: f64) -> Copy {
        Copy {
            session_id: id.to_owned(),
            parent_session_id: parent.map(str::to_owned),
            events,
            last: Some(last),
        }
    }

    #[test]
    fn a_tie_keeps_the_first_store_and_more_events_win() {
        let stores = vec![
            vec![copy("a", None, 5, 10.0), copy("b", None, 3, 10.0)],
            vec![copy("a", None, 5, 10.0), copy("b", None, 4, 9.0)],
        ];
        let kept = Kept::of(&stores);
        assert_eq!(kept.store_of("a"), Some(0));
        assert_eq!(kept.store_of("b"), Some(1));
        assert!(kept.counts(0, "a") && !kept.counts(1, "a"));
        assert!(kept.counts(1, "unheld"));
    }

    #[test]
    fn subagents_in_the_same_store_count_before_own_events() {
        // Store 0's root has fewer events of its own (2 against 3) but a subagent of 4: 6
        // events with its subagents, against 3.
        let stores = vec![
            vec![copy("r", None, 2, 1.0), copy("s", Some("r"), 4, 1.0)],
            vec![copy("r", None, 3, 1.0)],
        ];
        assert_eq!(Kept::of(&stores).store_of("r"), Some(0));
    }

    #[test]
    fn a_later_last_event_breaks_a_tie_of_events() {
        let stores = vec![
            vec![copy("a", None, 5, 10.0)],
            vec![copy("a", None, 5, 11.0)],
        ];
        assert_eq!(Kept::of(&stores).store_of("a"), Some(1));
    }

    #[test]
    fn a_parent_link_that_loops_counts_each_session_once() {
        let copies = vec![copy("a", Some("b"), 1, 1.0), copy("b", Some("a"), 1, 1.0)];
        assert_eq!(reaches(&copies)[0].with_subagents, 2);
    }
}
