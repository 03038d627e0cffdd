//! Which model requests and responses are one model call: a response names its request.
//!
//! Every writer that records both sides names the request in its response: the proxies, our
//! import, agents' logs and Gemini CLI's hooks by the response's `parent_id` (the request's
//! event id); OpenTelemetry by the `request_id` both carry (a log may bring the response before
//! the span brings the request, and the response's `parent_id` is then its prompt). A writer of
//! one side alone (OpenTelemetry logs, an agent's log with no request in it, a call cut off
//! before its response) leaves it unpaired. The Python tool's SDK integrations name neither:
//! their response answers the request just before it. So a session's model calls are its pairs and the
//! unpaired of each side: its requests and the responses no request of it answers
//! ([`super::Counters::model_calls`]).
//!
//! A request is answered soon, before many others are made: the sides not paired yet are
//! remembered [`KEPT`] at most, the oldest forgotten first, so that folding a session costs the
//! same memory however long it is, and a hook's fold stays small.

use serde::{Deserialize, Serialize};

/// Requests (and responses that came before their request) waiting to be paired, at most.
const KEPT: usize = 16;

/// The sides of model calls seen lately that no other side has paired yet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallPairs {
    open: [Side; KEPT],
    /// The slot the next side not paired goes in (the oldest).
    next: u8,
}

/// One side of a model call, by the hashes ([`super::hash::fnv1a`]) of its ids; 0 for none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Side {
    /// A request's event id, which its response names as its `parent_id`; 0 for a response.
    event: u64,
    /// The `request_id` the writer gave it.
    request: u64,
    /// A response that came before its request (OpenTelemetry's log before its span).
    response: bool,
}

/// The hash an id is remembered by: 0 is kept for none (no id, or an empty one).
pub fn key(text: Option<&str>) -> u64 {
    text.filter(|t| !t.is_empty())
        .map_or(0, |t| super::hash::fnv1a(t.as_bytes()).max(1))
}

impl CallPairs {
    /// Whether nothing waits to be paired.
    pub fn is_empty(&self) -> bool {
        self.open.iter().all(|side| *side == Side::default())
    }

    /// A request of event id `event`, with the writer's `request_id` `request` (each by its
    /// [`key`]): whether it answers a response seen before (then the two are one call).
    pub fn request(&mut self, event: u64, request: u64) -> bool {
        if request != 0 && self.take(|side| side.response && side.request == request) {
            return true;
        }
        self.keep(Side {
            event,
            request,
            response: false,
        });
        false
    }

    /// A response that names `parent` and carries the `request_id` `request` (each by its
    /// [`key`]): whether it answers a request seen before (then the two are one call).
    pub fn response(&mut self, parent: u64, request: u64) -> bool {
        let answers = |side: &Side| {
            !side.response
                && ((parent != 0 && side.event == parent)
                    || (request != 0 && side.request == request))
        };
        if self.take(answers) {
            return true;
        }
        // A response that names no request (the Python tool's SDK integrations write both
        // sides with no id to join them) answers the request just before it: the side kept
        // last, when that is a request no `request_id` could pair otherwise and nothing
        // answered it since.
        if parent == 0 && request == 0 {
            let last = usize::from(self.next).wrapping_add(KEPT - 1) % KEPT;
            let side = self.open[last];
            if !side.response && side.request == 0 && side.event != 0 {
                self.open[last] = Side::default();
                return true;
            }
        }
        // Only an id a request may carry later pairs it: the parent is an event already there.
        self.keep(Side {
            event: 0,
            request,
            response: true,
        });
        false
    }

    /// Forgets the first side `pairs` takes; whether there was one.
    fn take(&mut self, pairs: impl Fn(&Side) -> bool) -> bool {
        let Some(side) = self.open.iter_mut().find(|side| pairs(side)) else {
            return false;
        };
        *side = Side::default();
        true
    }

    /// Remembers a side nothing paired, in place of the oldest; one with no id is never paired.
    fn keep(&mut self, side: Side) {
        if side.event == 0 && side.request == 0 {
            return;
        }
        let slot = usize::from(self.next) % KEPT;
        self.open[slot] = side;
        self.next = u8::try_from((slot + 1) % KEPT).unwrap_or(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(pairs: &mut CallPairs, event: Option<&str>, request: Option<&str>) -> bool {
        pairs.request(key(event), key(request))
    }

    fn response(pairs: &mut CallPairs, parent: Option<&str>, request: Option<&str>) -> bool {
        pairs.response(key(parent), key(request))
    }

    #[test]
    fn a_response_pairs_with_the_request_it_names_by_parent_or_request_id() {
        let mut pairs = CallPairs::default();
        assert!(!request(&mut pairs, Some("q1"), None));
        assert!(!request(&mut pairs, Some("q2"), Some("req_2")));
        // Its parent is a prompt, but its request id is the request's.
        assert!(response(&mut pairs, Some("prompt"), Some("req_2")));
        assert!(response(&mut pairs, Some("q1"), None));
        // Answered once: a second response of q1 is a call of its own.
        assert!(!response(&mut pairs, Some("q1"), None));
        // A response before its request (a log before its span).
        assert!(!response(&mut pairs, None, Some("req_3")));
        assert!(request(&mut pairs, Some("q3"), Some("req_3")));
        // No id at all, or an empty one: nothing to pair by.
        assert!(!response(&mut pairs, None, Some("")));
        assert!(!request(&mut pairs, None, None));
        assert!(pairs.is_empty());
    }

    #[test]
    fn the_oldest_unanswered_request_is_forgotten_first() {
        let mut pairs = CallPairs::default();
        for n in 0..=KEPT {
            request(&mut pairs, Some(&format!("q{n}")), None);
        }
        assert!(!response(&mut pairs, Some("q0"), None), "forgotten");
        assert!(response(&mut pairs, Some("q1"), None));
        assert!(response(&mut pairs, Some(&format!("q{KEPT}")), None));
    }
}
