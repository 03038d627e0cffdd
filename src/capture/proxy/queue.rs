//! The queue between the stdio proxy's relay threads and its recorder, bounded by the bytes it
//! holds rather than by a count of notes, so that memory stays flat whatever the size of the
//! chunks and messages. A relay that finds it full waits for the recorder, which reads bytes far
//! faster than pipes carry them and falls behind only on a flood of small messages, each an
//! event to write; a note sent after the recorder has gone is dropped.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use super::recording::{Inbox, Note, Taken};

/// What a note weighs besides its bytes, so that many small ones also fill the queue.
const NOTE_WEIGHT: usize = 256;

struct State {
    notes: VecDeque<(Note, usize)>,
    bytes: usize,
    senders: usize,
    receiver: bool,
    /// Someone waits on the condition, so a change must wake them (a wake-up costs a system
    /// call, which the relay should not pay on every chunk).
    receiver_waiting: bool,
    senders_waiting: usize,
}

struct Shared {
    limit: usize,
    state: Mutex<State>,
    not_empty: Condvar,
    not_full: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A relay's end of the queue.
pub struct Sender {
    shared: Arc<Shared>,
}

/// The recorder's end of the queue.
pub struct Receiver {
    shared: Arc<Shared>,
}

/// A queue that holds at most about `limit` bytes (a single larger note always fits alone).
pub fn bounded(limit: usize) -> (Sender, Receiver) {
    let shared = Arc::new(Shared {
        limit,
        state: Mutex::new(State {
            notes: VecDeque::new(),
            bytes: 0,
            senders: 1,
            receiver: true,
            receiver_waiting: false,
            senders_waiting: 0,
        }),
        not_empty: Condvar::new(),
        not_full: Condvar::new(),
    });
    (
        Sender {
            shared: Arc::clone(&shared),
        },
        Receiver { shared },
    )
}

fn weight(note: &Note) -> usize {
    NOTE_WEIGHT
        + match note {
            Note::Bytes { bytes, .. } => bytes.len(),
            Note::Message { body, .. } => body.len(),
            Note::Cut { cut, .. } => cut.head.len() + cut.copy.as_ref().map_or(0, Vec::len),
            // Bytes waiting in the recorder's pipe count as if they were here: the recorder is
            // never more than about the limit behind the relay, however the bytes reach it.
            Note::Piped { len, .. } => *len,
            _ => 0,
        }
}

impl Sender {
    /// Queues a note, waiting while the queue is full.
    pub fn send(&self, note: Note) {
        let weight = weight(&note);
        let shared = &*self.shared;
        let mut state = shared.lock();
        while state.receiver && state.bytes > 0 && state.bytes + weight > shared.limit {
            state.senders_waiting += 1;
            state = shared
                .not_full
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            state.senders_waiting -= 1;
        }
        if !state.receiver {
            return;
        }
        state.bytes += weight;
        state.notes.push_back((note, weight));
        if state.receiver_waiting {
            shared.not_empty.notify_one();
        }
    }
}

impl Clone for Sender {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        Sender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.senders -= 1;
        if state.senders == 0 {
            self.shared.not_empty.notify_all();
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.receiver = false;
        state.notes.clear();
        self.shared.not_full.notify_all();
    }
}

impl Receiver {
    fn pop(&self, state: &mut State) -> Option<Note> {
        let (note, weight) = state.notes.pop_front()?;
        state.bytes -= weight;
        if state.senders_waiting > 0 {
            self.shared.not_full.notify_all();
        }
        Some(note)
    }
}

impl Inbox for Receiver {
    fn try_take(&mut self) -> Taken {
        let mut state = self.shared.lock();
        match self.pop(&mut state) {
            Some(note) => Taken::Note(note),
            None if state.senders == 0 => Taken::Closed,
            None => Taken::Empty,
        }
    }

    fn take(&mut self) -> Option<Note> {
        let mut state = self.shared.lock();
        loop {
            if let Some(note) = self.pop(&mut state) {
                return Some(note);
            }
            if state.senders == 0 {
                return None;
            }
            state.receiver_waiting = true;
            state = self
                .shared
                .not_empty
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            state.receiver_waiting = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::proxy::mcp::Direction;

    fn bytes(n: usize) -> Note {
        Note::Bytes {
            direction: Direction::ClientToServer,
            bytes: vec![b'x'; n],
            at: 0.0,
        }
    }

    #[test]
    fn a_full_queue_holds_its_sender_until_the_recorder_takes_and_ends_when_senders_go() {
        let (tx, mut rx) = bounded(10_000);
        tx.send(bytes(9_000));
        let second = tx.clone();
        let waiting = std::thread::spawn(move || second.send(bytes(9_000)));
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(!waiting.is_finished(), "the second note waits for room");
        assert!(matches!(rx.take(), Some(Note::Bytes { .. })));
        waiting.join().unwrap();
        assert!(matches!(rx.try_take(), Taken::Note(_)));
        assert!(matches!(rx.try_take(), Taken::Empty));
        drop(tx);
        assert!(matches!(rx.try_take(), Taken::Closed));
        assert!(rx.take().is_none());
    }

    #[test]
    fn a_note_sent_after_the_recorder_has_gone_is_dropped_without_waiting() {
        let (tx, rx) = bounded(1_000);
        tx.send(bytes(900));
        drop(rx);
        tx.send(bytes(900));
    }
}
