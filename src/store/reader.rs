//! Streaming events from `events.ndjson`, one line at a time, so memory stays flat.
//!
//! A line that does not parse is reported (as a [`BadLine`]) and skipped; it never stops the
//! read. Lines the Python tool wrote for invalid UTF-8 carry lone-surrogate escapes (`\udcff`),
//! which strict JSON parsers refuse; such a line is read again with each lone surrogate taken
//! as U+FFFD, so the event is kept.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use super::layout::EVENTS;
use super::{Result, Store, StoreError};
use crate::model::Event;

/// A line that could not be read as an event.
#[derive(Debug, Clone)]
pub struct BadLine {
    pub path: PathBuf,
    pub line: u64,
    pub message: String,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: skipped a malformed line ({})",
            self.path.display(),
            self.line,
            self.message
        )
    }
}

/// An iterator over a session's events, in file order.
pub struct EventReader {
    path: PathBuf,
    reader: Option<BufReader<File>>,
    buf: Vec<u8>,
    line: u64,
    bad: Vec<BadLine>,
    bad_count: u64,
}

/// At most this many bad lines are kept for reporting; the rest are only counted.
const BAD_LINES_KEPT: usize = 20;

impl Store {
    /// Streams a session's events. A session with no events file yields nothing.
    pub fn events(&self, session_id: &str) -> Result<EventReader> {
        let path = self.session_dir(session_id).join(EVENTS);
        EventReader::open(&path)
    }
}

impl EventReader {
    pub fn open(path: &Path) -> Result<Self> {
        let reader = match File::open(path) {
            Ok(file) => Some(BufReader::with_capacity(256 * 1024, file)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(StoreError::io(path, e)),
        };
        Ok(EventReader {
            path: path.to_path_buf(),
            reader,
            buf: Vec::with_capacity(4096),
            line: 0,
            bad: Vec::new(),
            bad_count: 0,
        })
    }

    /// Lines skipped so far (the first few; see [`EventReader::bad_count`] for all).
    pub fn bad_lines(&self) -> &[BadLine] {
        &self.bad
    }

    pub fn bad_count(&self) -> u64 {
        self.bad_count
    }

    fn report(&mut self, message: String) {
        self.bad_count += 1;
        if self.bad.len() < BAD_LINES_KEPT {
            self.bad.push(BadLine {
                path: self.path.clone(),
                line: self.line,
                message,
            });
        }
    }
}

impl Iterator for EventReader {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        loop {
            let reader = self.reader.as_mut()?;
            self.buf.clear();
            match reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    self.report(format!("read failed: {e}"));
                    self.reader = None;
                    return None;
                }
            }
            self.line += 1;
            let text = self.buf.trim_ascii();
            if text.is_empty() {
                continue;
            }
            match parse_line(text) {
                Ok(event) => return Some(event),
                Err(message) => self.report(message),
            }
        }
    }
}

/// Parses one line of `events.ndjson`.
pub(crate) fn parse_line(text: &[u8]) -> Result<Event, String> {
    match serde_json::from_slice::<Event>(text) {
        Ok(event) => Ok(event),
        Err(first) => {
            let fixed = replace_lone_surrogates(text).ok_or_else(|| first.to_string())?;
            serde_json::from_slice::<Event>(&fixed).map_err(|_| first.to_string())
        }
    }
}

/// Rewrites `\uXXXX` escapes of lone surrogates as `\ufffd`; `None` when there were none.
fn replace_lone_surrogates(text: &[u8]) -> Option<Vec<u8>> {
    let hex =
        |b: &[u8]| -> Option<u16> { u16::from_str_radix(std::str::from_utf8(b).ok()?, 16).ok() };
    let mut out = Vec::with_capacity(text.len());
    let mut changed = false;
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'\\' && i + 1 < text.len() {
            if text[i + 1] == b'u'
                && i + 6 <= text.len()
                && let Some(unit) = hex(&text[i + 2..i + 6])
            {
                let is_high = (0xD800..0xDC00).contains(&unit);
                let is_low = (0xDC00..0xE000).contains(&unit);
                let next_is_low = text.get(i + 6..i + 8) == Some(b"\\u")
                    && text
                        .get(i + 8..i + 12)
                        .and_then(hex)
                        .is_some_and(|n| (0xDC00..0xE000).contains(&n));
                if is_high && next_is_low {
                    out.extend_from_slice(&text[i..i + 12]);
                    i += 12;
                    continue;
                }
                if is_high || is_low {
                    out.extend_from_slice(b"\\ufffd");
                    changed = true;
                    i += 6;
                    continue;
                }
            }
            // Any other escape: copy both bytes so an escaped backslash is not misread.
            out.extend_from_slice(&text[i..i + 2]);
            i += 2;
            continue;
        }
        out.push(text[i]);
        i += 1;
    }
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_surrogates_from_python_are_kept_as_replacement_characters() {
        let line = br#"{"event_type":"tool_result","timestamp":1,"event_id":"e","session_id":"s","data":{"result":"bad \udcff byte, pair \ud83d\ude00, escaped \\udcff"}}"#;
        let event = parse_line(line).unwrap();
        assert_eq!(
            event.data["result"],
            "bad \u{fffd} byte, pair \u{1F600}, escaped \\udcff"
        );
    }

    #[test]
    fn malformed_lines_are_skipped_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.ndjson");
        std::fs::write(
            &path,
            "{\"event_type\":\"tool_call\",\"timestamp\":1,\"event_id\":\"a\",\"session_id\":\"s\",\"data\":{}}\nnot json\n\n{\"event_type\":\"error\",\"timestamp\":2,\"event_id\":\"b\",\"session_id\":\"s\",\"data\":{}}\n{\"event_ty",
        )
        .unwrap();
        let mut reader = EventReader::open(&path).unwrap();
        let ids: Vec<String> = reader.by_ref().map(|e| e.event_id).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(reader.bad_count(), 2);
        assert_eq!(reader.bad_lines()[0].line, 2);
    }
}
