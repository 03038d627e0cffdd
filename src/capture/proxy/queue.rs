//! The queue between both proxies and their recorder, bounded by the bytes it holds (and, for
//! the HTTP proxy, by a count of notes too), so that memory stays flat whatever the size of the
//! chunks and messages. No relay waits on it for long: a tracer must not slow what it traces.
//! The HTTP proxy hands on whole messages ([`Sender::offer`]) and never waits: past the bound
//! it records no message until the recorder has caught up with half the queue, and then first
//! a note that says how many it did not record (`unrecorded_messages`), in their place. The
//! stdio relay hands on bytes ([`Sender::bytes`]): past the bound it waits for room at most
//! [`RECORDER_PATIENCE`] (a recorder that writes its events frees room far sooner, so a flood
//! of small messages is recorded whole, at the recorder's pace); past that, and until the
//! recorder has caught up with half the queue, it waits no more and keeps only where the
//! newlines were in what it passes on (a [`Gap`]), which the recorder's framer reads to count
//! the messages lost and to find where the next one starts. The few other notes (a
//! direction's end, an error) are always taken. A note sent after the recorder has gone is
//! dropped.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::framing::Gap;
use super::mcp::Direction;
use super::recording::{Inbox, Note, Taken};
use crate::model::head::UNRECORDED_MESSAGES;

/// What a note weighs besides its bytes, so that many small ones also fill the queue.
const NOTE_WEIGHT: usize = 256;

/// How long the stdio relay waits for room in a full queue before it passes bytes on
/// unrecorded: a recorder that is writing frees room for a chunk in milliseconds (it writes a
/// small message's event in about 7 µs), one that is stuck (a disk that stalls) must not hold
/// up the traffic for longer.
pub const RECORDER_PATIENCE: Duration = Duration::from_millis(200);

struct State {
    notes: VecDeque<(Note, usize)>,
    bytes: usize,
    /// Offered messages not queued since the queue was last full.
    unrecorded: Unrecorded,
    /// The stdio relay's bytes not queued since the queue was last full, a direction each, with
    /// when the first of them came.
    gaps: [Option<(Gap, f64)>; 2],
    senders: usize,
    receiver: bool,
    /// The recorder waits on the condition, so a change must wake it (a wake-up costs a system
    /// call, which the relay should not pay on every chunk).
    receiver_waiting: bool,
    /// The stdio relays waiting for room.
    senders_waiting: usize,
    /// A wait for room timed out, and bytes have found none since: the recorder is stuck or
    /// far behind, so the relay waits no more until it has caught up.
    gave_up: bool,
}

/// The messages [`Sender::offer`] did not queue, to be said in the session.
#[derive(Default)]
struct Unrecorded {
    messages: usize,
    /// When the first of them came.
    since: f64,
}

impl Unrecorded {
    fn any(&self) -> bool {
        self.messages > 0
    }

    /// The error event that says what was not recorded.
    fn note(&self) -> Note {
        Note::Event {
            kind: crate::model::EventType::Error,
            data: unrecorded(self.messages as u64),
            at: self.since,
        }
    }
}

/// The data of the error event that says `n` messages were not recorded.
pub fn unrecorded(n: u64) -> serde_json::Map<String, serde_json::Value> {
    let mut data = serde_json::Map::new();
    let what = if n == 1 { "message" } else { "messages" };
    data.insert(
        "error".into(),
        format!(
            "the recorder fell behind: {n} {what} that crossed the proxy were not recorded \
             (all were relayed as they came)"
        )
        .into(),
    );
    data.insert(UNRECORDED_MESSAGES.into(), n.into());
    data
}

/// Where a direction's gap is kept.
fn side(direction: Direction) -> usize {
    match direction {
        Direction::ClientToServer => 0,
        Direction::ServerToClient => 1,
    }
}

/// The note that hands a direction's gap to the recorder.
fn skipped(direction: Direction, (gap, at): (Gap, f64)) -> Note {
    Note::Skipped { direction, gap, at }
}

struct Shared {
    limit: usize,
    /// The most notes held.
    most: usize,
    state: Mutex<State>,
    not_empty: Condvar,
    not_full: Condvar,
    /// How long bytes wait for room ([`RECORDER_PATIENCE`]).
    patience: Duration,
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
    bounded_to(limit, usize::MAX)
}

/// A queue that holds at most about `limit` bytes and at most `most` notes.
pub fn bounded_to(limit: usize, most: usize) -> (Sender, Receiver) {
    patient(limit, most, RECORDER_PATIENCE)
}

/// [`bounded_to`], whose bytes wait for room at most `patience`.
pub fn patient(limit: usize, most: usize, patience: Duration) -> (Sender, Receiver) {
    let shared = Arc::new(Shared {
        limit,
        most,
        patience,
        state: Mutex::new(State {
            notes: VecDeque::new(),
            bytes: 0,
            unrecorded: Unrecorded::default(),
            gaps: [None, None],
            senders: 1,
            receiver: true,
            receiver_waiting: false,
            senders_waiting: 0,
            gave_up: false,
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

/// What a note holds of memory: the capacity of its buffers, which a message gathered as it
/// came may have up to twice its length of.
fn weight(note: &Note) -> usize {
    NOTE_WEIGHT
        + match note {
            Note::Bytes { bytes, .. } => bytes.capacity(),
            Note::Message { body, .. } => body.capacity(),
            Note::Cut { cut, .. } => {
                cut.head.capacity() + cut.copy.as_ref().map_or(0, Vec::capacity)
            }
            // Bytes waiting in the recorder's pipe count as if they were here: the recorder is
            // never more than about the limit behind the relay, however the bytes reach it.
            Note::Piped { len, .. } => *len,
            Note::Failed { ids, .. } => ids.iter().map(String::capacity).sum(),
            _ => 0,
        }
}

impl State {
    /// Whether a note of `weight` is more than the queue has room for.
    fn full(&self, shared: &Shared, weight: usize) -> bool {
        self.bytes > 0 && (self.bytes + weight > shared.limit || self.notes.len() >= shared.most)
    }

    /// Whether the stdio relay's bytes of `weight` find no room: the queue is full, or has not
    /// yet been emptied to half its bound since bytes were last left out.
    fn no_room_for_bytes(&self, shared: &Shared, weight: usize) -> bool {
        let overflowing = self.gaps.iter().any(Option::is_some) && self.bytes > shared.limit / 2;
        overflowing || self.full(shared, weight)
    }

    /// Queues `note`; with `in_order`, after the notes that say what was not recorded before
    /// it, if any.
    fn push(&mut self, shared: &Shared, note: Note, weight: usize, in_order: bool) {
        // Bytes left out of a direction come before anything queued after them.
        for direction in [Direction::ClientToServer, Direction::ServerToClient] {
            if let Some(gap) = self.gaps[side(direction)].take() {
                self.bytes += NOTE_WEIGHT;
                self.notes.push_back((skipped(direction, gap), NOTE_WEIGHT));
            }
        }
        if in_order && self.unrecorded.any() {
            let said = std::mem::take(&mut self.unrecorded).note();
            let said_weight = self::weight(&said);
            self.bytes += said_weight;
            self.notes.push_back((said, said_weight));
        }
        self.bytes += weight;
        self.notes.push_back((note, weight));
        if self.receiver_waiting {
            shared.not_empty.notify_one();
        }
    }
}

impl Sender {
    /// Queues a note without ever waiting. A message finds no room when the queue is full, or
    /// has not yet been emptied to half its bound since it was: it is counted instead, and the
    /// count is queued in its place before the next message taken. Other notes (an error the
    /// transport saw, which is small and comes at most once an exchange) are always taken.
    /// Returns whether the note was queued.
    pub fn offer(&self, note: Note) -> bool {
        let weight = weight(&note);
        let shared = &*self.shared;
        let mut state = shared.lock();
        if !state.receiver {
            return false;
        }
        if !matches!(note, Note::Message { .. } | Note::Cut { .. }) {
            state.push(shared, note, weight, false);
            return true;
        }
        let overflowing = state.unrecorded.any()
            && (state.bytes > shared.limit / 2 || state.notes.len() > shared.most / 2);
        if overflowing || state.full(shared, weight) {
            if !state.unrecorded.any() {
                state.unrecorded.since = note.at();
            }
            state.unrecorded.messages += 1;
            return false;
        }
        state.push(shared, note, weight, true);
        true
    }

    /// Queues a note that is not bytes of the stream (a direction's pipe or end, an event,
    /// the session's end), whatever the queue holds: these are small and few.
    pub fn send(&self, note: Note) {
        let weight = weight(&note);
        let shared = &*self.shared;
        let mut state = shared.lock();
        if state.receiver {
            state.push(shared, note, weight, true);
        }
    }

    /// Waits, at most [`Shared::patience`], for room for the stdio relay's bytes of `weight`,
    /// unless a wait timed out since there was last room: the recorder is stuck, or far
    /// behind, and is not waited for again until it has caught up (with half the queue, once
    /// bytes were left out). Returns the state, and whether there is room.
    fn room_for_bytes(&self, weight: usize) -> (MutexGuard<'_, State>, bool) {
        let shared = &*self.shared;
        let mut state = shared.lock();
        if !state.gave_up {
            let until = Instant::now() + shared.patience;
            while state.receiver && state.no_room_for_bytes(shared, weight) {
                let Some(left) = until.checked_duration_since(Instant::now()) else {
                    state.gave_up = true;
                    break;
                };
                state.senders_waiting += 1;
                state = shared
                    .not_full
                    .wait_timeout(state, left)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
                state.senders_waiting -= 1;
            }
        }
        let room = state.receiver && !state.no_room_for_bytes(shared, weight);
        if room {
            state.gave_up = false;
        }
        (state, room)
    }

    /// Queues a copy of the stdio relay's `bytes`, waiting for room at most
    /// [`RECORDER_PATIENCE`]; when they find none only where their newlines are is kept, for
    /// the recorder to count the messages lost. Returns whether they were queued.
    pub fn bytes(&self, direction: Direction, bytes: &[u8], at: f64) -> bool {
        let weight = NOTE_WEIGHT + bytes.len();
        let shared = &*self.shared;
        let (mut state, room) = self.room_for_bytes(weight);
        if !state.receiver {
            return false;
        }
        if !room {
            let gap = Gap::of(bytes);
            let kept = &mut state.gaps[side(direction)];
            *kept = Some(match kept.take() {
                Some((before, since)) => (before.then(gap), since),
                None => (gap, at),
            });
            return false;
        }
        let note = Note::Bytes {
            direction,
            bytes: bytes.to_vec(),
            at,
        };
        state.push(shared, note, weight, true);
        true
    }

    /// Whether `len` bytes of the stdio relay would be queued now, waiting for room as
    /// [`Sender::bytes`] does (for bytes teed into the recorder's pipe before they are noted,
    /// which cannot be taken back).
    pub fn takes(&self, len: usize) -> bool {
        self.room_for_bytes(NOTE_WEIGHT + len).1
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
    fn pop(shared: &Shared, state: &mut State) -> Option<Note> {
        let Some((note, weight)) = state.notes.pop_front() else {
            // What the last offers and bytes did not queue is said before the end.
            for direction in [Direction::ClientToServer, Direction::ServerToClient] {
                if let Some(gap) = state.gaps[side(direction)].take() {
                    return Some(skipped(direction, gap));
                }
            }
            return state
                .unrecorded
                .any()
                .then(|| std::mem::take(&mut state.unrecorded).note());
        };
        state.bytes -= weight;
        if state.senders_waiting > 0 {
            shared.not_full.notify_all();
        }
        Some(note)
    }
}

impl Inbox for Receiver {
    fn try_take(&mut self) -> Taken {
        let mut state = self.shared.lock();
        match Self::pop(&self.shared, &mut state) {
            Some(note) => Taken::Note(note),
            None if state.senders == 0 => Taken::Closed,
            None => Taken::Empty,
        }
    }

    fn take(&mut self) -> Option<Note> {
        let mut state = self.shared.lock();
        loop {
            if let Some(note) = Self::pop(&self.shared, &mut state) {
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
    fn bytes_a_full_queue_did_not_take_in_time_are_a_gap_in_their_place() {
        let out = Direction::ServerToClient;
        // The first note always fits; the next finds no room (256 + 8,000 + 256 + 10 > 8,500),
        // and waits for none.
        let (tx, mut rx) = patient(8_500, usize::MAX, Duration::ZERO);
        assert!(tx.bytes(out, &b"{1}\n".repeat(2_000), 1.0));
        assert!(!tx.bytes(out, b"{2}\n{3}\n{4", 2.0));
        // Not half emptied: still left out, joined to the gap before.
        assert!(!tx.bytes(out, b"}\n", 3.0));
        // Other notes are always taken, after the gap they follow.
        tx.send(Note::Closed {
            direction: out,
            at: 4.0,
        });
        let Taken::Note(Note::Bytes { bytes, .. }) = rx.try_take() else {
            panic!("the bytes first");
        };
        assert_eq!(bytes.len(), 8_000);
        let Taken::Note(Note::Skipped { gap, at, .. }) = rx.try_take() else {
            panic!("then the gap");
        };
        assert_eq!((gap, at), (Gap::of(b"{2}\n{3}\n{4}\n"), 2.0));
        assert!(matches!(rx.try_take(), Taken::Note(Note::Closed { .. })));
        // Emptied, the queue takes bytes again; a gap still unsaid when the senders have gone
        // is said before the queue ends.
        assert!(tx.bytes(out, b"{5}\n", 5.0));
        assert!(!tx.bytes(out, &[b'x'; 9_000], 6.0));
        drop(tx);
        assert!(matches!(rx.try_take(), Taken::Note(Note::Bytes { .. })));
        assert!(matches!(rx.try_take(), Taken::Note(Note::Skipped { .. })));
        assert!(matches!(rx.try_take(), Taken::Closed));
    }

    #[test]
    fn bytes_wait_for_a_recorder_that_takes_and_no_longer_for_one_that_is_stuck() {
        let out = Direction::ServerToClient;
        let (tx, mut rx) = patient(8_500, usize::MAX, Duration::from_secs(600));
        assert!(tx.bytes(out, &[b'1'; 8_000], 1.0));
        // Room comes when the recorder takes a note: the bytes wait for it and are queued.
        let taker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            assert!(matches!(rx.take(), Some(Note::Bytes { .. })));
            rx
        });
        assert!(tx.bytes(out, &[b'2'; 8_000], 2.0));
        let mut rx = taker.join().unwrap();
        // A recorder that takes nothing: the relay waits its patience once, then no more
        // until the recorder has caught up.
        let (tx, mut stuck) = patient(8_500, usize::MAX, Duration::from_millis(300));
        assert!(tx.bytes(out, &[b'3'; 8_000], 3.0));
        let started = Instant::now();
        assert!(!tx.takes(8_000), "no room came");
        assert!(started.elapsed() >= Duration::from_millis(300));
        let again = Instant::now();
        assert!(!tx.bytes(out, &[b'4'; 8_000], 4.0));
        assert!(!tx.takes(8_000));
        assert!(again.elapsed() < Duration::from_millis(300), "waited again");
        // Caught up: bytes are taken again.
        assert!(matches!(stuck.try_take(), Taken::Note(Note::Bytes { .. })));
        assert!(matches!(
            stuck.try_take(),
            Taken::Note(Note::Skipped { .. })
        ));
        assert!(tx.bytes(out, b"{5}\n", 5.0));
        assert!(matches!(rx.try_take(), Taken::Note(Note::Bytes { .. })));
    }

    fn message(n: usize, at: f64) -> Note {
        Note::Message {
            channel: 0,
            direction: Direction::ServerToClient,
            body: vec![b'x'; n],
            at,
        }
    }

    /// The notes waiting, as what each is: a message's time, or the count an error says.
    fn drain(rx: &mut Receiver) -> Vec<String> {
        let mut seen = Vec::new();
        while let Taken::Note(note) = rx.try_take() {
            seen.push(match note {
                Note::Message { at, .. } => format!("m{at}"),
                Note::Event { data, at, .. } => {
                    let count = data.get("unrecorded_messages");
                    format!("u{}@{at}", count.unwrap_or(&serde_json::Value::Null))
                }
                _ => "other".to_owned(),
            });
        }
        seen
    }

    #[test]
    fn an_offer_never_waits_and_what_a_full_queue_did_not_take_is_said_in_its_place() {
        // Bounded by bytes: two messages of 400 fill 1,500 (a note weighs 256 more).
        let (tx, mut rx) = bounded_to(1_500, 100);
        assert!(tx.offer(message(400, 1.0)));
        assert!(tx.offer(message(400, 2.0)));
        assert!(!tx.offer(message(400, 3.0)), "full: counted, not queued");
        assert!(!tx.offer(message(10, 4.0)));
        // What is not a message is always taken, and does not say the count before its time.
        let error = Note::Event {
            kind: crate::model::EventType::Error,
            data: serde_json::Map::new(),
            at: 3.5,
        };
        assert!(tx.offer(error));
        // Emptied, the queue says the count, in the place of what it counts.
        assert_eq!(drain(&mut rx), ["m1", "m2", "unull@3.5", "u2@3"]);
        assert!(tx.offer(message(10, 5.0)));
        assert_eq!(drain(&mut rx), ["m5"]);
        // Bounded by count too; once full, nothing is queued until half of it is taken.
        let (tx, mut rx) = bounded_to(1 << 20, 4);
        for at in 0..4 {
            assert!(tx.offer(message(1, f64::from(at))));
        }
        assert!(!tx.offer(message(1, 4.0)));
        assert!(matches!(rx.try_take(), Taken::Note(_)));
        assert!(!tx.offer(message(1, 5.0)), "three left: more than half");
        assert!(matches!(rx.try_take(), Taken::Note(_)));
        // Taken again: the count goes first, in the place of what it counts.
        assert!(tx.offer(message(1, 6.0)));
        assert_eq!(drain(&mut rx), ["m2", "m3", "u2@4", "m6"]);
        // A count still unsaid when the senders have gone is said before the queue ends.
        for at in 0..5 {
            tx.offer(message(1, f64::from(at)));
        }
        drop(tx);
        assert_eq!(drain(&mut rx), ["m0", "m1", "m2", "m3", "u1@4"]);
        assert!(matches!(rx.try_take(), Taken::Closed));
    }

    #[test]
    fn a_note_sent_after_the_recorder_has_gone_is_dropped_without_waiting() {
        let (tx, rx) = bounded(1_000);
        tx.send(bytes(900));
        tx.send(bytes(900));
        drop(rx);
        tx.send(bytes(900));
        assert!(!tx.bytes(Direction::ClientToServer, b"{}\n", 0.0));
    }
}
