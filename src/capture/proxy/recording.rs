//! The recorder thread both proxies share: it takes what crossed the proxy from a bounded queue
//! and writes it in batches. It never reaches back into the traffic: when writing fails, it
//! logs once, stops writing and goes on draining the queue so the relay never waits on it.

use serde_json::{Map, Value};

use super::mcp::{Direction, McpRecorder};
use crate::model::EventType;

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
    /// Something the transport saw that is not a message (an HTTP error, a session deleted).
    Event {
        kind: EventType,
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

/// The receiving end of the queue: a std channel for the stdio proxy's threads, a tokio one for
/// the HTTP proxy's tasks.
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

impl Inbox for tokio::sync::mpsc::Receiver<Note> {
    fn try_take(&mut self) -> Taken {
        match self.try_recv() {
            Ok(note) => Taken::Note(note),
            Err(tokio::sync::mpsc::error::TryRecvError::Empty) => Taken::Empty,
            Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => Taken::Closed,
        }
    }
    fn take(&mut self) -> Option<Note> {
        self.blocking_recv()
    }
}

/// Writes what arrives until the session ends or every sender is gone.
pub fn run(mut recorder: McpRecorder, mut inbox: impl Inbox) {
    let mut failed = false;
    loop {
        // Events are written in batches: when no note is waiting, what was gathered goes to
        // disk before the recorder sleeps.
        let note = match inbox.try_take() {
            Taken::Note(note) => note,
            Taken::Empty => {
                if !failed && let Err(e) = recorder.flush() {
                    recorder.log(&format!("recording stopped: {e}"));
                    failed = true;
                }
                match inbox.take() {
                    Some(note) => note,
                    None => break,
                }
            }
            Taken::Closed => break,
        };
        if failed {
            if matches!(note, Note::End { .. }) {
                break;
            }
            continue;
        }
        let result = match note {
            Note::Message {
                channel,
                direction,
                body,
                at,
            } => recorder.message_on(channel, direction, &body, at),
            Note::Event { kind, data, at } => recorder.note(kind, data, at),
            Note::End { exit_code, at } => {
                if let Err(e) = recorder.end(exit_code, at) {
                    recorder.log(&e.to_string());
                }
                return;
            }
        };
        if let Err(e) = result {
            // Stop recording, never the traffic.
            recorder.log(&format!("recording stopped: {e}"));
            failed = true;
        }
    }
    if !failed {
        let _ = recorder.flush();
    }
}
