//! The recorder thread both proxies share: it takes what crossed the proxy from a bounded queue,
//! finds the messages in the stdio proxy's bytes (and counts those lost in bytes the queue had
//! no room for), and writes events in batches. It never reaches
//! back into the traffic: when writing fails (a full disk), it says so once, stops writing and
//! goes on draining the queue so the relay never waits on it, and ends the session in the store
//! as soon as the store takes it, so that it does not show as running for ever: with the error
//! that says recording stopped, a gap in the recording, when the events file takes it.

use serde_json::{Map, Value};

use super::framing::{Framer, Gap};
use super::gather::{Cut, Message};
use super::mcp::{Direction, McpRecorder};
use crate::model::EventType;
use crate::model::head::{LAUNCH_FAILURE, RECORDING_STOPPED};
use crate::store::StoreError;

/// What the relay tells the recorder.
pub enum Note {
    /// One framed message as it crossed. `channel` tells apart the MCP sessions that share one
    /// HTTP proxy (0: none known, as on stdio).
    Message {
        channel: u32,
        direction: Direction,
        body: Vec<u8>,
        at: f64,
    },
    /// A message of the HTTP proxy too large to keep whole: its cut copy and its real size.
    Cut {
        channel: u32,
        direction: Direction,
        cut: Cut,
        at: f64,
    },
    /// Bytes as they crossed the stdio proxy, in order: the recorder finds the messages in
    /// them, off the relay's path.
    Bytes {
        direction: Direction,
        bytes: Vec<u8>,
        at: f64,
    },
    /// The pipe the stdio proxy tees one direction's bytes into, for [`Note::Piped`].
    Tap {
        direction: Direction,
        pipe: std::fs::File,
        at: f64,
    },
    /// The next `len` bytes of one direction of the stdio proxy are in its [`Note::Tap`] pipe,
    /// in order with the other notes.
    Piped {
        direction: Direction,
        len: usize,
        at: f64,
    },
    /// Bytes of one direction of the stdio proxy's stream the queue had no room for, in order
    /// with the other notes: relayed, not recorded.
    Skipped {
        direction: Direction,
        gap: Gap,
        at: f64,
    },
    /// One direction of the stdio proxy's stream has ended.
    Closed { direction: Direction, at: f64 },
    /// Something the transport saw that is not a message (an HTTP error, a session deleted).
    Event {
        kind: EventType,
        data: Map<String, Value>,
        at: f64,
    },
    /// Requests of the HTTP proxy that failed with no JSON-RPC answer of their own (an HTTP
    /// error status, a server out of reach): `data` says how, and answers each request `ids`
    /// names (JSON text; none for a notification or a stream).
    Failed {
        channel: u32,
        ids: Vec<String>,
        data: Map<String, Value>,
        at: f64,
    },
    /// The session is over.
    End { exit_code: Option<i32>, at: f64 },
}

/// What a queue gives when asked without waiting.
pub enum Taken {
    Note(Note),
    Empty,
    Closed,
}

/// The receiving end of the queue: the proxies' bounded queue ([`super::queue`]), or a std
/// channel for a session that ends before its proxy starts.
pub trait Inbox {
    fn try_take(&mut self) -> Taken;
    /// Waits for the next note; `None` once every sender is gone.
    fn take(&mut self) -> Option<Note>;
}

impl Inbox for std::sync::mpsc::Receiver<Note> {
    fn try_take(&mut self) -> Taken {
        match self.try_recv() {
            Ok(note) => Taken::Note(note),
            Err(std::sync::mpsc::TryRecvError::Empty) => Taken::Empty,
            Err(std::sync::mpsc::TryRecvError::Disconnected) => Taken::Closed,
        }
    }
    fn take(&mut self) -> Option<Note> {
        self.recv().ok()
    }
}

impl Note {
    pub(super) fn at(&self) -> f64 {
        match self {
            Note::Message { at, .. }
            | Note::Cut { at, .. }
            | Note::Bytes { at, .. }
            | Note::Tap { at, .. }
            | Note::Piped { at, .. }
            | Note::Skipped { at, .. }
            | Note::Closed { at, .. }
            | Note::Event { at, .. }
            | Note::Failed { at, .. }
            | Note::End { at, .. } => *at,
        }
    }
}

/// How often (seconds of traffic) a stopped recording tries again to end its session.
const RETRY_END_EVERY: f64 = 1.0;

/// A recording that could not write: why, what it said of it, since when, and whether its
/// session's end, with the gap, is in its events, or its end in meta only.
struct Stopped {
    why: String,
    said: String,
    at: f64,
    written: bool,
    in_meta: bool,
    last_try: f64,
}

impl Stopped {
    /// Says once that recording stopped, and tries to end the session at once.
    fn new(
        recorder: &mut McpRecorder,
        error: &StoreError,
        at: f64,
        exit_code: Option<i32>,
    ) -> Stopped {
        let why = error.to_string();
        let said = format!("recording stopped ({why}); the traffic goes on, unrecorded");
        recorder.report(&said);
        recorder.log(&said);
        let mut stopped = Stopped {
            why,
            said,
            at,
            written: false,
            in_meta: false,
            last_try: at,
        };
        stopped.end(recorder, exit_code);
        stopped
    }

    /// Tries again to write the gap and the session's end, at most once every
    /// [`RETRY_END_EVERY`] seconds, until the events file takes them (a disk that has room
    /// again), even once the session is ended in meta.
    fn retry(&mut self, recorder: &mut McpRecorder, now: f64) {
        if !self.written && now - self.last_try >= RETRY_END_EVERY {
            self.last_try = now;
            self.end(recorder, None);
        }
    }

    /// Writes the gap and the session's end into its events, or, while they cannot be, ends
    /// the session in meta, so that it does not show as running for ever.
    fn end(&mut self, recorder: &mut McpRecorder, exit_code: Option<i32>) {
        if self.written {
            return;
        }
        self.written = recorder.end_stopped(self.at, exit_code, &self.why, &self.said);
        if !self.written && !self.in_meta {
            self.in_meta = recorder.end_stopped_in_meta(self.at);
        }
    }
}

/// The stdio stream's framers, one a direction, and the pipes its bytes may come in.
#[derive(Default)]
struct Framers {
    client: Framer,
    server: Framer,
    client_tap: Option<std::fs::File>,
    server_tap: Option<std::fs::File>,
    buf: Vec<u8>,
}

/// The most read from a tap at once.
const TAP_CHUNK: usize = 256 * 1024;

impl Framers {
    fn of(&mut self, direction: Direction) -> &mut Framer {
        match direction {
            Direction::ClientToServer => &mut self.client,
            Direction::ServerToClient => &mut self.server,
        }
    }

    fn tap(&mut self, direction: Direction) -> &mut Option<std::fs::File> {
        match direction {
            Direction::ClientToServer => &mut self.client_tap,
            Direction::ServerToClient => &mut self.server_tap,
        }
    }

    /// Reads the next `len` bytes of a direction from its tap and records the messages they
    /// complete (or, with `record` false, only takes them out of the pipe, so the relay never
    /// finds it full because recording stopped).
    fn piped(
        &mut self,
        recorder: &mut McpRecorder,
        direction: Direction,
        mut len: usize,
        at: f64,
        record: bool,
    ) -> Result<(), StoreError> {
        use std::io::Read;
        let mut buf = std::mem::take(&mut self.buf);
        buf.resize(TAP_CHUNK, 0);
        let mut result = Ok(());
        while len > 0 {
            let Some(tap) = self.tap(direction) else {
                break;
            };
            let n = match tap.read(&mut buf[..len.min(TAP_CHUNK)]) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            len -= n;
            if record && result.is_ok() {
                result = self.push(recorder, direction, &buf[..n], at);
            }
        }
        self.buf = buf;
        result
    }

    /// Records the messages `bytes` completes.
    fn push(
        &mut self,
        recorder: &mut McpRecorder,
        direction: Direction,
        bytes: &[u8],
        at: f64,
    ) -> Result<(), StoreError> {
        let mut result = Ok(());
        self.of(direction).push(bytes, |frame| {
            if result.is_ok() {
                result = recorder.frame(direction, frame, at);
            }
        });
        result
    }

    /// Passes over bytes of a direction the recorder was not given, and says how many messages
    /// were lost in them, in their place.
    fn skip(
        &mut self,
        recorder: &mut McpRecorder,
        direction: Direction,
        gap: &Gap,
        at: f64,
    ) -> Result<(), StoreError> {
        match self.of(direction).skip(gap) {
            0 => Ok(()),
            lost => {
                let mut data = super::queue::unrecorded(lost);
                data.insert("direction".into(), direction.as_str().into());
                recorder.note(EventType::Error, data, at)
            }
        }
    }

    /// Records what is left of one direction's stream.
    fn finish(
        &mut self,
        recorder: &mut McpRecorder,
        direction: Direction,
        at: f64,
    ) -> Result<(), StoreError> {
        let mut result = Ok(());
        self.of(direction).finish(|frame| {
            if result.is_ok() {
                result = recorder.frame(direction, frame, at);
            }
        });
        result
    }
}

/// Records, on this thread, why the proxy records nothing more (`why`), and ends the session:
/// an error marked `recording_stopped`, a gap in our own recording and no error of the agent's,
/// the server's or the protocol ([`crate::model::EventHead::recording_stopped`]).
pub fn end_with_error(recorder: McpRecorder, why: &str, at: f64) {
    let mut data = Map::new();
    data.insert("error".into(), why.into());
    data.insert(RECORDING_STOPPED.into(), true.into());
    end_with(recorder, data, at);
}

/// Records, on this thread, that the server was never started (`why`: its command could not be
/// run, or the proxy could not guard it or was stopped first), and ends the session: an error marked `launch_failure`, which no turn of the agent's and no tool call had
/// ([`crate::model::EventHead::launch_failure`]).
pub fn end_unlaunched(recorder: McpRecorder, why: &str, at: f64) {
    let mut data = Map::new();
    data.insert("error".into(), why.into());
    data.insert(LAUNCH_FAILURE.into(), true.into());
    end_with(recorder, data, at);
}

fn end_with(recorder: McpRecorder, data: Map<String, Value>, at: f64) {
    let (tx, rx) = std::sync::mpsc::channel();
    let _ = tx.send(Note::Event {
        kind: EventType::Error,
        data,
        at,
    });
    let _ = tx.send(Note::End {
        exit_code: None,
        at,
    });
    drop(tx);
    run(recorder, rx);
}

/// Writes what arrives until the session ends or every sender is gone.
pub fn run(mut recorder: McpRecorder, mut inbox: impl Inbox) {
    let mut framers = Framers::default();
    let mut stopped: Option<Stopped> = None;
    let mut last_at = recorder.started_at();
    loop {
        // Events are written in batches: when no note is waiting, what was gathered goes to
        // disk before the recorder sleeps.
        let note = match inbox.try_take() {
            Taken::Note(note) => note,
            Taken::Empty => {
                if stopped.is_none()
                    && let Err(e) = recorder.flush()
                {
                    stopped = Some(Stopped::new(&mut recorder, &e, last_at, None));
                }
                match inbox.take() {
                    Some(note) => note,
                    None => break,
                }
            }
            Taken::Closed => break,
        };
        let at = note.at();
        last_at = at;
        if let Some(stop) = &mut stopped {
            match note {
                Note::End { exit_code, .. } => {
                    stop.end(&mut recorder, exit_code);
                    return;
                }
                Note::Tap {
                    direction, pipe, ..
                } => *framers.tap(direction) = Some(pipe),
                Note::Piped { direction, len, .. } => {
                    let _ = framers.piped(&mut recorder, direction, len, at, false);
                }
                _ => {}
            }
            stop.retry(&mut recorder, at);
            continue;
        }
        let result = match note {
            Note::Message {
                channel,
                direction,
                body,
                at,
            } => recorder.message_on(channel, direction, &body, at),
            Note::Cut {
                channel,
                direction,
                cut,
                at,
            } => recorder.frame_on(channel, direction, Message::Cut(cut).frame(), at),
            Note::Bytes {
                direction,
                bytes,
                at,
            } => framers.push(&mut recorder, direction, &bytes, at),
            Note::Tap {
                direction, pipe, ..
            } => {
                *framers.tap(direction) = Some(pipe);
                Ok(())
            }
            Note::Piped { direction, len, at } => {
                framers.piped(&mut recorder, direction, len, at, true)
            }
            Note::Skipped { direction, gap, at } => {
                framers.skip(&mut recorder, direction, &gap, at)
            }
            Note::Closed { direction, at } => framers.finish(&mut recorder, direction, at),
            Note::Event { kind, data, at } => recorder.note(kind, data, at),
            Note::Failed {
                channel,
                ids,
                data,
                at,
            } => recorder.failed(channel, &ids, data, at),
            Note::End { exit_code, at } => {
                // A last message without its newline is recorded before the end.
                let result = framers
                    .finish(&mut recorder, Direction::ClientToServer, at)
                    .and_then(|()| framers.finish(&mut recorder, Direction::ServerToClient, at))
                    .and_then(|()| recorder.end(exit_code, at));
                if let Err(e) = result {
                    Stopped::new(&mut recorder, &e, at, exit_code);
                }
                return;
            }
        };
        if let Err(e) = result {
            // Stop recording, never the traffic.
            stopped = Some(Stopped::new(&mut recorder, &e, at, None));
        }
    }
    if stopped.is_none() {
        let _ = recorder.flush();
    }
}
