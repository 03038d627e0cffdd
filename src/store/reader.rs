//! Streaming events from `events.ndjson`, one line at a time, so memory stays flat.
//!
//! A line that does not parse is reported (as a [`BadLine`]) and skipped; it never stops the
//! read. Lines the Python tool wrote for invalid UTF-8 carry lone-surrogate escapes (`\udcff`),
//! which strict JSON parsers refuse; such a line is read again with each lone surrogate taken
//! as U+FFFD, so the event is kept.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use super::files::{LINE_LIMIT, read_line};
use super::holes::SkipHoles;
use super::layout::EVENTS;
use super::{Result, Store, StoreError};
use crate::model::deep_json;
use crate::model::json_mend::{replace_lone_surrogates, replace_non_json_numbers};
use crate::model::{Event, EventHead, EventType};

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
    reader: Option<BufReader<SkipHoles>>,
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
        let file = self.open_events(session_id)?;
        Ok(EventReader::new(&path, file))
    }

    /// The time to put session `meta` in order by, newest first, and to pick the latest by
    /// ([`SessionMeta::start_to_order_by`]): its events are read only when its start is one no
    /// session can have.
    pub fn start_to_order_by(&self, meta: &crate::model::SessionMeta) -> f64 {
        meta.start_to_order_by(super::system_time(), || {
            self.events(&meta.session_id)
                .ok()?
                .map(|e| e.timestamp)
                .min_by(f64::total_cmp)
        })
    }

    /// A session's events file, opened for reading; `None` when there is none (or no session).
    fn open_events(&self, session_id: &str) -> Result<Option<File>> {
        match self.session_folder(session_id) {
            Ok(dir) => dir.read(EVENTS),
            Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

/// Where the `count`th line before `start` in `file` starts (the lines that start before it,
/// counted back): the start of a line, or `floor` when fewer lines are there after it (then
/// maybe inside a line, which its reader skips as no event). Reads back a block at a time,
/// counting line ends, never before `floor`.
fn lines_back(file: &File, start: u64, count: usize, floor: u64) -> std::io::Result<u64> {
    use std::os::unix::fs::FileExt;
    const BLOCK: u64 = 64 * 1024;
    if start == 0 || count == 0 {
        return Ok(start);
    }
    // A line starts before `start` after a line end at `start - 2` or earlier (one at
    // `start - 1` starts the line at `start`, which is not before it).
    let (mut end, mut found) = (start.saturating_sub(1), 0usize);
    let mut block = vec![0u8; BLOCK as usize];
    while end > floor {
        let begin = end.saturating_sub(BLOCK).max(floor);
        let part = &mut block[..usize::try_from(end - begin).unwrap_or(0)];
        file.read_exact_at(part, begin)?;
        for (i, byte) in part.iter().enumerate().rev() {
            if *byte == b'\n' {
                found += 1;
                if found == count {
                    return Ok(begin + i as u64 + 1);
                }
            }
        }
        end = begin;
    }
    Ok(floor)
}

impl EventReader {
    fn new(path: &Path, file: Option<File>) -> Self {
        EventReader {
            path: path.to_path_buf(),
            reader: file.map(|file| SkipHoles::buffered(file, 256 * 1024)),
            buf: Vec::with_capacity(4096),
            line: 0,
            bad: Vec::new(),
            bad_count: 0,
        }
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

impl EventReader {
    /// The next line that holds an event, as the file holds it, without its line end; `None`
    /// at the end. The lines are those [`Iterator::next`] reads as events (a line that is none
    /// is skipped and reported the same way), unparsed: a copy of them is the store's bytes,
    /// with a Python `NaN`, a `1e999` or a number's spelling (`-1e300`) as they were written.
    pub fn next_line(&mut self) -> Option<&[u8]> {
        self.next_event()?;
        Some(self.buf.strip_suffix(b"\n").unwrap_or(&self.buf))
    }

    /// The next event, its line left in `buf`.
    fn next_event(&mut self) -> Option<Event> {
        loop {
            let reader = self.reader.as_mut()?;
            match read_line(reader, &mut self.buf, LINE_LIMIT) {
                Ok(read) if read.consumed == 0 => return None,
                Ok(read) if read.too_long => {
                    self.line += 1;
                    self.report(too_long());
                    continue;
                }
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

impl Iterator for EventReader {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        self.next_event()
    }
}

/// What a [`Store::scan`] skipped.
#[derive(Debug, Default)]
pub struct ScanReport {
    pub bad: Vec<BadLine>,
    pub bad_count: u64,
}

impl Store {
    /// Calls `f` with the head of every event of a session, in file order. Much cheaper than
    /// [`Store::events`] for summaries: only the fields a head holds are parsed.
    pub fn scan(&self, session_id: &str, mut f: impl FnMut(&EventHead<'_>)) -> Result<ScanReport> {
        let path = self.session_dir(session_id).join(EVENTS);
        let Some(file) = self.open_events(session_id)? else {
            return Ok(ScanReport::default());
        };
        let (_, report) = scan_range(&path, file, 0, u64::MAX, &mut f)?;
        Ok(report)
    }

    /// The time of the last event of `kind` whose line lies whole in the last `limit` bytes of
    /// a session's `events.ndjson` (read as [`Store::event_ids_back`] reads its tail); `None`
    /// when there is none there.
    pub fn last_time_of(
        &self,
        session_id: &str,
        kind: &EventType,
        limit: u64,
    ) -> Result<Option<f64>> {
        let mut last = None;
        self.recent_heads(session_id, limit, |head| {
            if head.kind() == *kind {
                last = Some(head.timestamp);
            }
        })?;
        Ok(last)
    }

    /// Calls `f` with the `event_id` of every event whose line lies whole in the last `limit`
    /// bytes of a session's `events.ndjson`, in file order, and before them with those of the
    /// `before` lines that start before those bytes; `f` takes each id and whether its line
    /// lies whole in them. A last line not ended by its newline (a torn write) and lines that
    /// do not parse are skipped: an id is handed over only for an event a reader reads. What
    /// the collector knows it stored of a session it had not touched since it started. For a collector started again, which is sent again the batch whose answer
    /// was lost: its events were written together, so with its last one in the tail the rest
    /// are among the batch's count of lines before it, however large they are (the tail alone
    /// missed the first events of a batch over its size). Streamed: one line (at most
    /// [`LINE_LIMIT`]) and one block are held at a time; lines further back are found by
    /// counting line ends, not read, and no further back than `back_bytes` before the tail
    /// (a batch's own size bounds where its lines can be).
    pub fn event_ids_back(
        &self,
        session_id: &str,
        limit: u64,
        before: usize,
        back_bytes: u64,
        mut f: impl FnMut(&str, bool),
    ) -> Result<()> {
        use std::io::{Seek, SeekFrom};
        let path = self.session_dir(session_id).join(EVENTS);
        let Some(mut file) = self.open_events(session_id)? else {
            return Ok(());
        };
        let io = |e| StoreError::io(&path, e);
        let len = file.metadata().map_err(io)?.len();
        let start = len.saturating_sub(limit);
        // From a line's start even with none before wanted: `start` may cut a line.
        let floor = start.saturating_sub(back_bytes.max(1));
        let from = lines_back(&file, start, before.max(1), floor).map_err(io)?;
        file.seek(SeekFrom::Start(from)).map_err(io)?;
        let mut reader = BufReader::with_capacity(64 * 1024, file);
        let (mut buf, mut at) = (Vec::new(), from);
        loop {
            // Lines written after the look began are no part of what it was asked.
            if at >= len {
                return Ok(());
            }
            let read = read_line(&mut reader, &mut buf, LINE_LIMIT).map_err(io)?;
            // A last line not ended (a torn write) is no event a reader reads.
            if !read.ended {
                return Ok(());
            }
            let in_tail = at >= start;
            at += read.consumed as u64;
            let line = buf.trim_ascii();
            if line.is_empty() || (!in_tail && before == 0) {
                continue;
            }
            let _ = with_head(line, &mut |head| {
                if let Some(id) = &head.event_id {
                    f(id, in_tail);
                }
            });
        }
    }

    /// Calls `f` with the head of every event whose line lies whole in the last `limit` bytes
    /// of a session's `events.ndjson`, in file order (see [`Store::event_ids_back`]).
    fn recent_heads(
        &self,
        session_id: &str,
        limit: u64,
        mut f: impl FnMut(&EventHead<'_>),
    ) -> Result<()> {
        use std::io::{Read, Seek, SeekFrom};
        let path = self.session_dir(session_id).join(EVENTS);
        let Some(mut file) = self.open_events(session_id)? else {
            return Ok(());
        };
        let io = |e| StoreError::io(&path, e);
        let len = file.metadata().map_err(io)?.len();
        let start = len.saturating_sub(limit);
        // One byte before the window too: whether its first line starts there.
        let from = start.saturating_sub(1);
        file.seek(SeekFrom::Start(from)).map_err(io)?;
        let mut buf = Vec::new();
        file.take(len - from).read_to_end(&mut buf).map_err(io)?;
        let whole = if start == 0 {
            &buf[..]
        } else {
            buf.iter()
                .position(|&b| b == b'\n')
                .map_or(&[][..], |i| &buf[i + 1..])
        };
        let ended = whole
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(&[][..], |i| &whole[..i]);
        for line in ended.split(|&b| b == b'\n') {
            let line = line.trim_ascii();
            if line.is_empty() {
                continue;
            }
            let _ = with_head(line, &mut f);
        }
        Ok(())
    }

    /// Like [`Store::scan`], but a large file is cut into `parts` ranges at line boundaries and
    /// scanned on that many threads, each folding into its own accumulator from `init`. The
    /// accumulators come back in file order; events within one are in file order too.
    pub fn scan_parallel<A: Send>(
        &self,
        session_id: &str,
        parts: usize,
        init: impl Fn() -> A + Sync,
        f: impl Fn(&mut A, &EventHead<'_>) + Sync,
    ) -> Result<(Vec<A>, ScanReport)> {
        let path = self.session_dir(session_id).join(EVENTS);
        let Some(file) = self.open_events(session_id)? else {
            return Ok((vec![init()], ScanReport::default()));
        };
        let len = file.metadata().map_err(|e| StoreError::io(&path, e))?.len();
        let parts = if len < PARALLEL_MIN_BYTES {
            1
        } else {
            parts.max(1)
        };
        let mut bounds = vec![0u64];
        for i in 1..parts {
            bounds.push(
                next_line_start(&file, len * i as u64 / parts as u64)
                    .map_err(|e| StoreError::io(&path, e))?,
            );
        }
        bounds.push(u64::MAX);
        let results: Vec<Result<(A, u64, ScanReport)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = bounds
                .windows(2)
                .map(|w| {
                    let (start, end) = (w[0], w[1]);
                    let (path, init, f) = (&path, &init, &f);
                    crate::threads::spawn_scoped(scope, move || {
                        // Each part reads with its own offset: the file opened again, the same
                        // way.
                        let file = self.open_events(session_id)?.ok_or_else(|| {
                            StoreError::io(path, std::io::ErrorKind::NotFound.into())
                        })?;
                        let mut acc = init();
                        let (lines, report) =
                            scan_range(path, file, start, end, &mut |h| f(&mut acc, h))?;
                        Ok((acc, lines, report))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(StoreError::Corrupt {
                            path: path.clone(),
                            message: "a scanning thread failed".to_owned(),
                        })
                    })
                })
                .collect()
        });
        let mut accs = Vec::with_capacity(results.len());
        let mut report = ScanReport::default();
        let mut lines_before = 0;
        for result in results {
            let (acc, lines, part) = result?;
            accs.push(acc);
            report.bad_count += part.bad_count;
            for mut bad in part.bad {
                if report.bad.len() < BAD_LINES_KEPT {
                    bad.line += lines_before;
                    report.bad.push(bad);
                }
            }
            lines_before += lines;
        }
        Ok((accs, report))
    }
}

/// Files smaller than this are scanned on one thread: starting threads would cost more.
const PARALLEL_MIN_BYTES: u64 = 4 * 1024 * 1024;

/// The offset of the first line that starts at or after `offset`.
fn next_line_start(file: &File, offset: u64) -> std::io::Result<u64> {
    use std::os::unix::fs::FileExt;
    if offset == 0 {
        return Ok(0);
    }
    let mut buf = [0u8; 4096];
    let mut at = offset - 1;
    loop {
        let n = file.read_at(&mut buf, at)?;
        if n == 0 {
            return Ok(at);
        }
        if let Some(i) = buf[..n].iter().position(|&b| b == b'\n') {
            return Ok(at + i as u64 + 1);
        }
        at += n as u64;
    }
}

/// Scans the lines that start in `start..end`; returns how many lines it read.
fn scan_range(
    path: &Path,
    mut file: File,
    start: u64,
    end: u64,
    f: &mut impl FnMut(&EventHead<'_>),
) -> Result<(u64, ScanReport)> {
    use std::io::{Seek, SeekFrom};
    file.seek(SeekFrom::Start(start))
        .map_err(|e| StoreError::io(path, e))?;
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let mut report = ScanReport::default();
    let mut buf = Vec::with_capacity(4096);
    let mut line = 0u64;
    let mut position = start;
    while position < end {
        let read =
            read_line(&mut reader, &mut buf, LINE_LIMIT).map_err(|e| StoreError::io(path, e))?;
        if read.consumed == 0 {
            break;
        }
        position += read.consumed as u64;
        line += 1;
        let text = buf.trim_ascii();
        if text.is_empty() && !read.too_long {
            continue;
        }
        let parsed = if read.too_long {
            Err(too_long())
        } else {
            with_head(text, f)
        };
        if let Err(message) = parsed {
            report.bad_count += 1;
            if report.bad.len() < BAD_LINES_KEPT {
                report.bad.push(BadLine {
                    path: path.to_path_buf(),
                    line,
                    message,
                });
            }
        }
    }
    Ok((line, report))
}

/// What a line past [`LINE_LIMIT`] is reported as.
fn too_long() -> String {
    format!(
        "longer than {} MiB, more than any event holds",
        LINE_LIMIT >> 20
    )
}

/// Calls `f` with the head of one line: parsed lightly when the line allows, else through the
/// full parser (which also mends lone surrogates), so both paths accept the same lines.
pub(crate) fn with_head(text: &[u8], f: &mut impl FnMut(&EventHead<'_>)) -> Result<(), String> {
    if let Ok(head) = deep_json::from_slice::<EventHead<'_>>(text)
        && std::str::from_utf8(text).is_ok()
    {
        // The light parser skips the fields it does not keep without checking that their
        // text is UTF-8, which the full parser refuses (and mends): both must take a line alike.
        f(&head);
        return Ok(());
    }
    let event = parse_line(text)?;
    f(&EventHead::of(&event));
    Ok(())
}

/// Parses one line of `events.ndjson`.
pub(crate) fn parse_line(text: &[u8]) -> Result<Event, String> {
    match deep_json::from_slice::<Event>(text) {
        Ok(event) => Ok(event),
        Err(first) => {
            let mended = replace_lone_surrogates(text);
            let numbers = replace_non_json_numbers(mended.as_deref().unwrap_or(text));
            let fixed = numbers.or(mended).ok_or_else(|| first.to_string())?;
            deep_json::from_slice::<Event>(&fixed).map_err(|_| first.to_string())
        }
    }
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
    fn pythons_nan_and_infinity_are_read_as_null() {
        let line = br#"{"event_type":"tool_call","timestamp":NaN,"event_id":"e","session_id":"s","duration_ms":-Infinity,"data":{"x":Infinity,"text":"NaN \" Infinity"}}"#;
        let event = parse_line(line).unwrap();
        assert!(event.time_unknown());
        assert_eq!(event.duration_ms, None);
        assert_eq!(event.data["x"], serde_json::Value::Null);
        assert_eq!(event.data["text"], "NaN \" Infinity");
        assert!(parse_line(br#"{"event_type":"tool_call","timestamp":Nope}"#).is_err());
        // A token count that is no number stays one no count can be: unknown usage, not 0.
        let line = br#"{"event_type":"llm_response","timestamp":1,"event_id":"e","session_id":"s","data":{"usage":{"input_tokens": NaN,"output_tokens":5,"cost":NaN}}}"#;
        let event = parse_line(line).unwrap();
        assert_eq!(event.data["usage"]["input_tokens"], "NaN");
        assert_eq!(event.data["usage"]["cost"], serde_json::Value::Null);
        assert_eq!(crate::model::Tokens::read_usage(&event.data["usage"]), None);
    }

    #[test]
    fn numbers_too_large_for_a_float_are_read_as_infinity_is() {
        let line = br#"{"event_type":"tool_result","timestamp":1e999,"event_id":"e","session_id":"s","duration_ms":-1E+999,"data":{"x":[1e308,2.5e-999,-0,12],"y":1000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000,"text":"1e999","usage":{"output_tokens":1e999}}}"#;
        let event = parse_line(line).unwrap();
        assert!(event.time_unknown());
        assert_eq!(event.duration_ms, None);
        // Numbers within range are left as they were written.
        let kept: serde_json::Value = serde_json::from_str("[1e308,2.5e-999,-0,12]").unwrap();
        assert_eq!(event.data["x"], kept);
        assert_eq!(event.data["y"], serde_json::Value::Null);
        assert_eq!(event.data["text"], "1e999");
        assert_eq!(event.data["usage"]["output_tokens"], "1e999");
        assert_eq!(crate::model::Tokens::read_usage(&event.data["usage"]), None);
    }

    /// An event's line in session `s`, with id `id`.
    fn event_line(id: &str) -> String {
        format!(
            "{{\"event_type\":\"tool_call\",\"timestamp\":1,\"event_id\":\"{id}\",\"session_id\":\"s\",\"data\":{{}}}}\n"
        )
    }

    /// A store whose session `s` holds the events `a`, `b`, a line that is no event, `c`, and
    /// the first bytes of `d` (a torn write): the store, its whole lines, and the torn one.
    fn events_a_b_c() -> (tempfile::TempDir, Store, String, String) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        std::fs::create_dir_all(dir.path().join("s")).unwrap();
        let text = format!(
            "{}{}not json\n{}",
            event_line("a"),
            event_line("b"),
            event_line("c")
        );
        let torn = event_line("d")[..20].to_owned();
        std::fs::write(dir.path().join("s").join(EVENTS), format!("{text}{torn}")).unwrap();
        (dir, store, text, torn)
    }

    #[test]
    fn recent_ids_are_those_of_whole_lines_in_the_tail() {
        let (_dir, store, text, torn) = events_a_b_c();
        let torn = torn.as_str();
        let ids = |limit| {
            let mut ids = Vec::new();
            store
                .event_ids_back("s", limit, 0, u64::MAX, |id, _| ids.push(id.to_owned()))
                .unwrap();
            ids
        };
        assert_eq!(ids(u64::MAX), ["a", "b", "c"]);
        // The window starts inside `b`'s line, then exactly at its start.
        let b_ends = 2 * event_line("a").len() as u64;
        let len = (text.len() + torn.len()) as u64;
        assert_eq!(ids(len - b_ends + 1), ["c"]);
        assert_eq!(ids(len - event_line("a").len() as u64), ["b", "c"]);
        let mut none = Vec::new();
        store
            .event_ids_back("nope", 1024, 1, u64::MAX, |id, _| none.push(id.to_owned()))
            .unwrap();
        assert!(none.is_empty());
    }

    #[test]
    fn ids_back_are_those_of_the_tail_and_of_as_many_lines_before_it() {
        let (_dir, store, text, torn) = events_a_b_c();
        let torn = torn.as_str();
        let len = (text.len() + torn.len()) as u64;
        let ids = |limit, before| {
            let mut ids = Vec::new();
            store
                .event_ids_back("s", limit, before, u64::MAX, |id, tail| {
                    ids.push((id.to_owned(), tail));
                })
                .unwrap();
            ids
        };
        let id = |id: &str, tail| (id.to_owned(), tail);
        // The tail holds `c` whole; the line before it does not parse.
        let c_starts = len - (event_line("c").len() + torn.len()) as u64;
        let tail = len - c_starts;
        assert_eq!(ids(tail, 0), [id("c", true)]);
        assert_eq!(ids(tail, 1), [id("c", true)]);
        assert_eq!(ids(tail, 2), [id("b", false), id("c", true)]);
        assert_eq!(
            ids(tail, 9),
            [id("a", false), id("b", false), id("c", true)]
        );
        // The window starts inside `b`'s line: `b` is the first line before it.
        let b_ends = 2 * event_line("a").len() as u64;
        assert_eq!(ids(len - b_ends + 1, 0), [id("c", true)]);
        assert_eq!(ids(len - b_ends + 1, 1), [id("b", false), id("c", true)]);
        assert_eq!(
            ids(u64::MAX, 1),
            [id("a", true), id("b", true), id("c", true)]
        );
        // No further back than asked: `a`'s line lies past it, and the cut part of it before
        // `b` is no event.
        let mut near = Vec::new();
        let back = (event_line("b").len() + "not json\n".len() + 5) as u64;
        store
            .event_ids_back("s", tail, 9, back, |id, _| near.push(id.to_owned()))
            .unwrap();
        assert_eq!(near, ["b", "c"]);
    }

    #[test]
    fn a_parallel_scan_sees_what_a_serial_scan_sees() {
        use std::fmt::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        std::fs::create_dir_all(dir.path().join("s")).unwrap();
        let mut text = String::new();
        let pad = "p".repeat(300);
        for i in 0..20_000 {
            if i == 15_000 {
                text.push_str("torn {\n");
            }
            let _ = writeln!(
                text,
                "{{\"event_type\":\"tool_call\",\"timestamp\":{i},\"event_id\":\"e{i}\",\"session_id\":\"s\",\"data\":{{\"tool_name\":\"T{}\",\"pad\":\"{pad}\"}}}}",
                i % 7
            );
        }
        assert!(text.len() as u64 > PARALLEL_MIN_BYTES);
        std::fs::write(dir.path().join("s").join(EVENTS), text).unwrap();

        let mut serial = Vec::new();
        let report = store.scan("s", |h| serial.push(h.timestamp)).unwrap();
        let (parts, parallel_report) = store
            .scan_parallel("s", 3, Vec::new, |acc: &mut Vec<f64>, h| {
                acc.push(h.timestamp);
            })
            .unwrap();
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| !p.is_empty()));
        assert_eq!(parts.concat(), serial);
        assert_eq!(serial.len(), 20_000);
        assert_eq!((report.bad_count, parallel_report.bad_count), (1, 1));
        assert_eq!(report.bad[0].line, 15_001);
        assert_eq!(parallel_report.bad[0].line, 15_001);
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
        let mut reader = EventReader::new(&path, Some(File::open(&path).unwrap()));
        let ids: Vec<String> = reader.by_ref().map(|e| e.event_id).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(reader.bad_count(), 2);
        assert_eq!(reader.bad_lines()[0].line, 2);
    }
}
