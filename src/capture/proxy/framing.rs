//! Finding JSON-RPC messages in a byte stream: newline-delimited JSON, and `Content-Length`
//! framed messages as some servers send them. Used only to record: the relay itself passes the
//! bytes on untouched, whatever this makes of them.
//!
//! The framer reads each byte once as it arrives (a message kept whole is read once more by the
//! recorder), however the stream is cut into chunks, and holds at most [`MAX_WHOLE`] bytes of a
//! message: a larger one is handed on as a cut copy ([`super::cut`]) with its real size. Headers
//! that never end (a `Content-Length:` line with no blank line after it) are given up after
//! [`MAX_HEADERS`] bytes or at the first line that is not a header, and read as lines.
//!
//! Bytes the recorder was not given (its queue was full, [`super::queue`]) are a [`Gap`]: what
//! the relay saw of them, enough for the framer to count the messages lost in them and to find
//! where recording resumes (after the next newline), so that no message is recorded from
//! pieces of two. A `Content-Length` framed stream is counted as best it can be: a body cut by
//! a gap is counted once, and what follows it as lines.

use super::gather::Gathered;

/// The largest message handed on whole; past it the recorder gets a cut copy.
pub const MAX_WHOLE: usize = 1024 * 1024;
/// The most header bytes read before a `Content-Length:` start is taken for a line.
pub const MAX_HEADERS: usize = 8 * 1024;
/// How much of a cut message's start is kept as it came, for a message that does not parse:
/// the 2 KiB recorded of it, and past them what a secret they would cut in half needs to be
/// scrubbed whole before they are cut.
pub(crate) const HEAD: usize = 2048 + super::cut::SCRUB_MARGIN;
/// A message buffer grown larger than this is let go once its message is done.
const KEEP_CAPACITY: usize = 64 * 1024;

const PREFIX: &[u8] = b"content-length:";

/// One message found in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A message of at most [`MAX_WHOLE`] bytes, as it came.
    Whole(&'a [u8]),
    /// A larger message.
    Cut {
        /// A copy with long strings and large members cut ([`super::cut::CutCopy`]); `None` when even
        /// that grew too large.
        copy: Option<&'a [u8]>,
        /// The message's first bytes, as they came.
        head: &'a [u8],
        /// The message's size in bytes.
        size: u64,
    },
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum State {
    /// Between messages: whitespace is skipped.
    #[default]
    Between,
    /// The message so far (in `headers`) could be the start of `Content-Length:`.
    Prefix,
    /// In the headers of a Content-Length message.
    Headers,
    /// In a Content-Length message's body, with so many bytes to go.
    Body(u64),
    /// In a newline-delimited message.
    Line,
    /// In a message that lost bytes to a gap, counted already: skipped to its newline.
    SkipLine,
    /// In a `Content-Length` body that lost bytes to a gap, counted already, with so many bytes
    /// to go.
    SkipBody(u64),
}

/// Bytes of a newline-delimited stream the recorder was not given, as the relay saw them as
/// they passed: where newlines were, not what was between them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Gap {
    /// How many bytes.
    pub len: u64,
    /// It holds a newline.
    newline: bool,
    /// Where its first newline is, when it holds one.
    first_newline: u64,
    /// Where the last byte other than whitespace before its first newline is (in all of it,
    /// without one), if any: whether a message goes on after a body that ends in the gap.
    head_last: Option<u64>,
    /// The lines not blank that start after its first newline and end at a later one.
    lines: u64,
    /// Something other than whitespace after its last newline.
    tail: bool,
    /// Read from inside a JSON string, whether it stays inside (no quote ends the string), and
    /// then whether it ends right after a backslash.
    text: Option<bool>,
    /// The same, read from right after a backslash inside a string.
    text_escaped: Option<bool>,
}

/// Whether `bytes`, read from inside a JSON string (right after a backslash when `escaped`),
/// stay inside it, and then whether they end right after a backslash.
fn stays_in_text(bytes: &[u8], escaped: bool) -> Option<bool> {
    // Where reading goes on: past the byte a backslash escapes.
    let mut at = usize::from(escaped);
    while at <= bytes.len() {
        match memchr::memchr2(b'"', b'\\', &bytes[at..]) {
            None => return Some(false),
            Some(i) if bytes[at + i] == b'"' => return None,
            Some(i) => at += i + 2,
        }
    }
    Some(true)
}

impl Gap {
    /// What `bytes` are as a gap (a newline search, and a look at each line's first bytes).
    pub fn of(bytes: &[u8]) -> Gap {
        let blank = |line: &[u8]| line.iter().all(u8::is_ascii_whitespace);
        let last_not_blank = |part: &[u8]| {
            part.iter()
                .rposition(|b| !b.is_ascii_whitespace())
                .map(|at| at as u64)
        };
        let len = bytes.len() as u64;
        let mut newlines = memchr::memchr_iter(b'\n', bytes);
        let Some(first) = newlines.next() else {
            return Gap {
                len,
                head_last: last_not_blank(bytes),
                text: stays_in_text(bytes, false),
                text_escaped: stays_in_text(bytes, true),
                ..Gap::default()
            };
        };
        let (mut start, mut lines) = (first + 1, 0);
        for newline in newlines {
            lines += u64::from(!blank(&bytes[start..newline]));
            start = newline + 1;
        }
        // A newline ends a newline-delimited message, in a string or not; a body's gap that
        // holds one is passed over only when it stays in a string.
        Gap {
            len,
            newline: true,
            first_newline: first as u64,
            head_last: last_not_blank(&bytes[..first]),
            lines,
            tail: !blank(&bytes[start..]),
            text: stays_in_text(bytes, false),
            text_escaped: stays_in_text(bytes, true),
        }
    }

    /// Something other than whitespace before its first newline (in all of it, without one).
    fn head(&self) -> bool {
        self.head_last.is_some()
    }

    /// Something other than whitespace after the first `body` bytes (the end of a body) and
    /// before the first newline, where the body ends before it: a message the gap holds the
    /// start of, or all of.
    fn after_body(&self, body: u64) -> bool {
        (!self.newline || self.first_newline >= body) && self.head_last.is_some_and(|at| at >= body)
    }

    /// Whether the gap, read from inside a string (right after a backslash when `escaped`),
    /// stays inside it, and then whether it ends right after a backslash.
    fn text_from(&self, escaped: bool) -> Option<bool> {
        if escaped {
            self.text_escaped
        } else {
            self.text
        }
    }

    /// The gap of `self`'s bytes followed by `next`'s.
    #[must_use]
    pub fn then(self, next: Gap) -> Gap {
        let len = self.len + next.len;
        let text = self.text.and_then(|escaped| next.text_from(escaped));
        let text_escaped = self
            .text_escaped
            .and_then(|escaped| next.text_from(escaped));
        let joined = match (self.newline, next.newline) {
            (false, _) => Gap {
                len,
                first_newline: self.len + next.first_newline,
                head_last: next.head_last.map(|at| self.len + at).or(self.head_last),
                ..next
            },
            (true, false) => Gap {
                len,
                tail: self.tail || next.head(),
                ..self
            },
            (true, true) => Gap {
                len,
                lines: self.lines + u64::from(self.tail || next.head()) + next.lines,
                tail: next.tail,
                ..self
            },
        };
        Gap {
            text,
            text_escaped,
            ..joined
        }
    }
}

/// Splits a stream, fed in chunks of any size, into messages.
#[derive(Debug, Default)]
pub struct Framer {
    state: State,
    /// The headers read so far (or the start of a message that may turn out to be headers).
    headers: Vec<u8>,
    /// Where the current header line starts in `headers`.
    line_start: usize,
    /// The current header line has had its colon.
    colon: bool,
    /// Where in the stream `headers` starts.
    headers_at: u64,
    /// The bytes of the stream read so far.
    at: u64,
    message: Message,
    /// Where the JSON value of the `Content-Length` body being read ends.
    value: ValueEnd,
    /// A body is taken at its length whatever it holds: for a relay that judges or places
    /// messages as a `Content-Length` peer reads them ([`Framer::at_length`]).
    at_length: bool,
}

impl Framer {
    pub fn new() -> Framer {
        Framer::default()
    }

    /// A framer that only finds where messages end: it keeps none of their bytes (each is
    /// handed on as an empty [`Frame::Whole`]), for a relay that must not write in the middle
    /// of one.
    pub fn boundaries() -> Framer {
        let mut framer = Framer::at_length();
        framer.message.uncounted = true;
        framer
    }

    /// A framer that takes a `Content-Length` body at its length, as a peer that reads that
    /// framing does, even when its JSON value ends before it: the recorder's framer ends the
    /// message there, so that a length that says too much hides nothing from the record.
    pub fn at_length() -> Framer {
        Framer {
            at_length: true,
            ..Framer::default()
        }
    }

    /// Every message read so far has ended.
    pub fn between(&self) -> bool {
        self.state == State::Between
    }

    /// Passes over bytes the recorder was not given; returns how many messages were lost in
    /// them (those that ended in them, and the one they leave unfinished, whose end is then
    /// skipped), the message in progress counted once however many gaps cut it.
    pub fn skip(&mut self, gap: &Gap) -> u64 {
        // Most of a large message is a string: a gap inside it costs the record only the
        // string's middle (its copy keeps its start and says its real size).
        let in_text = match self.state {
            State::Line => !gap.newline && self.message.skip_text(gap),
            State::Body(left) if gap.len < left => {
                let skipped = self.message.skip_text(gap);
                if skipped {
                    self.state = State::Body(left - gap.len);
                    self.value.skip_text(gap);
                }
                skipped
            }
            _ => false,
        };
        if in_text {
            self.at += gap.len;
            return 0;
        }
        let state = std::mem::take(&mut self.state);
        self.at += gap.len;
        // Header lines held until their headers end are each a message of its own once they
        // cannot (read as lines, [`Framer::give_up_headers`]): lost with the gap, and the
        // line in progress, if any, is the one the gap cuts.
        let (held_lines, held_partial) = if state == State::Headers {
            let (done, rest) = match self.headers.iter().rposition(|&b| b == b'\n') {
                Some(end) => self.headers.split_at(end + 1),
                None => self.headers.split_at(0),
            };
            let lines = done
                .split(|&b| b == b'\n')
                .filter(|line| !line.trim_ascii().is_empty())
                .count() as u64;
            (lines, !rest.trim_ascii().is_empty())
        } else {
            (0, true)
        };
        // What was read of the message in progress is let go: it is not recorded in pieces.
        self.headers.clear();
        self.message.abandon();
        let (cut, counted) = match state {
            State::Between => (false, false),
            State::Prefix | State::Line => (true, false),
            State::Headers => (held_partial, false),
            State::SkipLine => (true, true),
            State::Body(left) | State::SkipBody(left) => {
                let counted = matches!(state, State::SkipBody(_));
                if gap.len < left {
                    self.state = State::SkipBody(left - gap.len);
                    return u64::from(!counted);
                }
                // The body ended in the gap; what follows it is counted as lines: the message
                // right after it (a framed body is followed by no newline), those the gap holds
                // whole, and the one it leaves unfinished, whose end is skipped.
                let after = gap.after_body(left);
                let lost = u64::from(!counted)
                    + u64::from(after)
                    + gap.lines
                    + u64::from(gap.newline && gap.tail);
                if (gap.newline && gap.tail) || (!gap.newline && after) {
                    self.state = State::SkipLine;
                }
                return lost;
            }
        };
        // The message the gap's first bytes belong to, if any: lost unless counted already.
        let first = if gap.newline {
            (cut || gap.head()) && !counted
        } else {
            (cut && !counted) || (!cut && gap.head())
        };
        let unfinished = if gap.newline {
            gap.tail
        } else {
            cut || gap.head()
        };
        if unfinished {
            self.state = State::SkipLine;
        }
        held_lines + u64::from(first) + gap.lines + u64::from(gap.newline && gap.tail)
    }

    /// Adds a chunk and calls `emit` with each message it completes.
    pub fn push(&mut self, chunk: &[u8], mut emit: impl FnMut(Frame<'_>)) {
        self.push_ends(chunk, |frame, _| emit(frame));
    }

    /// As [`Framer::push`], with where each message ends in the stream (the bytes read up to
    /// the end of its newline or body): what lies between two ends is one message as it came,
    /// for a relay that holds each message until it is judged.
    pub fn push_ends(&mut self, mut chunk: &[u8], mut emit: impl FnMut(Frame<'_>, u64)) {
        while !chunk.is_empty() {
            let at = self.at;
            let used = match self.state {
                State::Between => {
                    let skip = chunk
                        .iter()
                        .position(|b| !b.is_ascii_whitespace())
                        .unwrap_or(chunk.len());
                    if skip < chunk.len() {
                        self.headers_at = at + skip as u64;
                        self.state = if chunk[skip].eq_ignore_ascii_case(&PREFIX[0]) {
                            State::Prefix
                        } else {
                            State::Line
                        };
                    }
                    skip
                }
                State::Prefix => self.prefix(chunk),
                State::Headers => self.header_bytes(chunk, &mut emit),
                State::Body(left) => {
                    let n = usize::try_from(left).unwrap_or(usize::MAX).min(chunk.len());
                    let past_end = if self.at_length {
                        None
                    } else {
                        self.value.past_end(&chunk[..n])
                    };
                    if let Some(end) = past_end {
                        // A length that says more than its message: what follows the message
                        // is read as a newline-delimited peer reads it, so that no message is
                        // hidden from the record in a body that never ends.
                        self.message.push(&chunk[..end]);
                        self.message.finish(true, &mut |f| emit(f, at + end as u64));
                        self.state = State::Between;
                        end
                    } else {
                        self.message.push(&chunk[..n]);
                        if n as u64 == left {
                            self.message.finish(false, &mut |f| emit(f, at + n as u64));
                            self.state = State::Between;
                        } else {
                            self.state = State::Body(left - n as u64);
                        }
                        n
                    }
                }
                State::SkipLine => match memchr::memchr(b'\n', chunk) {
                    Some(end) => {
                        self.state = State::Between;
                        end + 1
                    }
                    None => chunk.len(),
                },
                State::SkipBody(left) => {
                    let n = usize::try_from(left).unwrap_or(usize::MAX).min(chunk.len());
                    self.state = if n as u64 == left {
                        State::Between
                    } else {
                        State::SkipBody(left - n as u64)
                    };
                    n
                }
                State::Line => {
                    if let Some(end) = memchr::memchr(b'\n', chunk) {
                        self.message.push(&chunk[..end]);
                        self.message
                            .finish(true, &mut |f| emit(f, at + end as u64 + 1));
                        self.state = State::Between;
                        end + 1
                    } else {
                        self.message.push(chunk);
                        chunk.len()
                    }
                }
            };
            self.at += used as u64;
            chunk = &chunk[used..];
        }
    }

    /// What is left when the stream ends: a last message without its newline, headers without
    /// their end, a body cut short.
    pub fn finish(&mut self, mut emit: impl FnMut(Frame<'_>)) {
        self.finish_ends(|frame, _| emit(frame));
    }

    /// As [`Framer::finish`], with where each message ends (the last at the stream's end).
    pub fn finish_ends(&mut self, mut emit: impl FnMut(Frame<'_>, u64)) {
        let end = self.at;
        match self.state {
            State::Between | State::SkipLine | State::SkipBody(_) => {}
            State::Prefix | State::Headers => {
                self.give_up_headers(&mut emit);
                if self.state == State::Line {
                    self.message.finish(true, &mut |f| emit(f, end));
                }
            }
            State::Body(_) | State::Line => self.message.finish(true, &mut |f| emit(f, end)),
        }
        self.state = State::Between;
    }

    /// Reads bytes that may spell `Content-Length:`; returns how many it took.
    fn prefix(&mut self, chunk: &[u8]) -> usize {
        for (i, &b) in chunk.iter().enumerate() {
            if !b.eq_ignore_ascii_case(&PREFIX[self.headers.len()]) {
                // Not headers after all: a line that starts the same way.
                self.message.push(&self.headers);
                self.headers.clear();
                self.state = State::Line;
                return i;
            }
            self.headers.push(b);
            if self.headers.len() == PREFIX.len() {
                self.state = State::Headers;
                self.line_start = 0;
                self.colon = true;
                return i + 1;
            }
        }
        chunk.len()
    }

    /// Reads header bytes up to the end of the current line; returns how many it took.
    fn header_bytes(&mut self, chunk: &[u8], emit: &mut impl FnMut(Frame<'_>, u64)) -> usize {
        let newline = memchr::memchr(b'\n', chunk);
        let take = newline.map_or(chunk.len(), |n| n + 1);
        let room = MAX_HEADERS.saturating_sub(self.headers.len());
        let fits = take <= room;
        let part = &chunk[..take.min(room)];
        let bad = part.iter().any(|&b| {
            if self.colon || b == b'\r' || b == b'\n' {
                false
            } else if b == b':' {
                self.colon = true;
                false
            } else {
                !is_token(b)
            }
        });
        self.headers.extend_from_slice(part);
        if bad || !fits {
            self.give_up_headers(emit);
            return part.len();
        }
        if newline.is_none() {
            return part.len();
        }
        let line = self.headers[self.line_start..].trim_ascii();
        if !line.is_empty() {
            if self.colon {
                self.line_start = self.headers.len();
                self.colon = false;
            } else {
                self.give_up_headers(emit);
            }
            return part.len();
        }
        // A blank line: the body follows.
        let end = self.at + part.len() as u64;
        match content_length(&self.headers[..self.line_start]) {
            Some(0) => {
                emit(Frame::Whole(b""), end);
                self.state = State::Between;
            }
            Some(length) => {
                self.state = State::Body(length);
                self.value = ValueEnd::default();
            }
            None => {
                emit(Frame::Whole(self.headers.trim_ascii()), end);
                self.state = State::Between;
            }
        }
        self.headers.clear();
        part.len()
    }

    /// Headers that are not headers: each whole line read so far becomes a message, and the
    /// unfinished one the start of the next.
    fn give_up_headers(&mut self, emit: &mut impl FnMut(Frame<'_>, u64)) {
        let headers = std::mem::take(&mut self.headers);
        let (done, rest) = match headers.iter().rposition(|&b| b == b'\n') {
            Some(end) => headers.split_at(end + 1),
            None => headers.split_at(0),
        };
        let mut start = 0;
        for newline in memchr::memchr_iter(b'\n', done) {
            let line = done[start..newline].trim_ascii();
            start = newline + 1;
            if !line.is_empty() {
                emit(Frame::Whole(line), self.headers_at + start as u64);
            }
        }
        self.headers_at += done.len() as u64;
        if rest.trim_ascii().is_empty() {
            self.state = State::Between;
        } else {
            self.message.push(rest.trim_ascii_start());
            self.state = State::Line;
        }
        self.headers = headers;
        self.headers.clear();
    }
}

/// Follows a `Content-Length` body as JSON, to find where its value ends: a length that says
/// more than the message (a hostile peer's, to hide what follows from the record) shows as
/// something other than whitespace after it. A body that does not open with an object or an
/// array is not followed.
#[derive(Debug, Default, Clone, Copy)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "a lexer's flags, each read on its own"
)]
struct ValueEnd {
    depth: u64,
    opened: bool,
    in_string: bool,
    escaped: bool,
    closed: bool,
    /// Not an object or an array: not followed.
    opaque: bool,
}

impl ValueEnd {
    /// Passes over a gap that lies inside the string being read.
    fn skip_text(&mut self, gap: &Gap) {
        match self
            .in_string
            .then(|| gap.text_from(self.escaped))
            .flatten()
        {
            Some(escaped) => self.escaped = escaped,
            None => self.opaque = true,
        }
    }

    /// Reads the next bytes of the body; returns where in them something other than
    /// whitespace follows the value's end.
    fn past_end(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut i = 0;
        while i < bytes.len() && !self.opaque {
            let b = bytes[i];
            if self.closed {
                if !b.is_ascii_whitespace() {
                    return Some(i);
                }
            } else if self.escaped {
                self.escaped = false;
            } else if self.in_string {
                // Most of a message is strings: their ends are found by a fast search.
                match memchr::memchr2(b'"', b'\\', &bytes[i..]) {
                    Some(at) => {
                        i += at;
                        if bytes[i] == b'"' {
                            self.in_string = false;
                        } else {
                            self.escaped = true;
                        }
                    }
                    None => return None,
                }
            } else {
                match b {
                    b'"' if self.opened => self.in_string = true,
                    b'{' | b'[' => {
                        self.depth += 1;
                        self.opened = true;
                    }
                    b'}' | b']' if self.depth > 0 => {
                        self.depth -= 1;
                        self.closed = self.depth == 0;
                    }
                    _ if !self.opened && !b.is_ascii_whitespace() => self.opaque = true,
                    _ => {}
                }
            }
            i += 1;
        }
        None
    }
}

/// A byte that may appear in a header's name.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn content_length(headers: &[u8]) -> Option<u64> {
    headers.split(|&b| b == b'\n').find_map(|line| {
        let colon = line.iter().position(|&b| b == b':')?;
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if !name.trim_ascii().eq_ignore_ascii_case(b"content-length") {
            return None;
        }
        std::str::from_utf8(value).ok()?.trim().parse().ok()
    })
}

/// The message being read: gathered as the HTTP proxy gathers one ([`Gathered`]: whole up to
/// [`MAX_WHOLE`] bytes, then as a cut copy), and handed on from the buffer it was gathered in,
/// which is kept for the next message.
#[derive(Debug, Default)]
struct Message {
    gathered: Gathered,
    /// The last byte read, for the carriage return before a line's newline.
    last: u8,
    /// Nothing is kept ([`Framer::boundaries`]).
    uncounted: bool,
}

impl Message {
    fn push(&mut self, bytes: &[u8]) {
        let Some(&last) = bytes.last() else {
            return;
        };
        if self.uncounted {
            return;
        }
        self.last = last;
        self.gathered.push(bytes);
    }

    /// Passes over a gap inside the string being read, if it is one; returns whether it was.
    fn skip_text(&mut self, gap: &Gap) -> bool {
        if self.uncounted {
            return false;
        }
        self.gathered
            .skip_text(gap.len, |escaped| gap.text_from(escaped))
    }

    /// Lets go of the message read so far, unrecorded.
    fn abandon(&mut self) {
        let gathered = std::mem::take(&mut self.gathered);
        let mut kept = gathered.kept;
        kept.clear();
        if kept.capacity() <= KEEP_CAPACITY {
            self.gathered.kept = kept;
        }
        self.last = 0;
    }

    /// Hands the message on and starts the next; `line` drops the whitespace at its end (a
    /// line's carriage return).
    fn finish(&mut self, line: bool, emit: &mut impl FnMut(Frame<'_>)) {
        let gathered = &mut self.gathered;
        match gathered.cut.take() {
            None => {
                let body = if line {
                    gathered.kept.trim_ascii_end()
                } else {
                    &gathered.kept
                };
                emit(Frame::Whole(body));
            }
            Some(cut) => {
                let copy = cut.finish();
                let size = gathered.size - u64::from(line && self.last == b'\r');
                emit(Frame::Cut {
                    copy: copy.as_deref(),
                    head: &gathered.kept,
                    size,
                });
            }
        }
        gathered.kept.clear();
        if gathered.kept.capacity() > KEEP_CAPACITY {
            gathered.kept = Vec::new();
        }
        gathered.size = 0;
        self.last = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(chunks: &[&[u8]]) -> Vec<String> {
        let mut framer = Framer::new();
        let mut out = Vec::new();
        let mut keep = |f: Frame<'_>| {
            out.push(match f {
                Frame::Whole(m) => String::from_utf8_lossy(m).into_owned(),
                Frame::Cut { size, .. } => format!("cut {size}"),
            });
        };
        for chunk in chunks {
            framer.push(chunk, &mut keep);
        }
        framer.finish(&mut keep);
        out
    }

    fn every_split(stream: &[u8]) -> Vec<String> {
        same_however_cut(stream, frames)
    }

    /// What `read` makes of `stream` whole, checked to be the same cut in two anywhere and cut
    /// into single bytes.
    fn same_however_cut<T: PartialEq + std::fmt::Debug>(
        stream: &[u8],
        read: impl Fn(&[&[u8]]) -> T,
    ) -> T {
        let whole = read(&[stream]);
        for cut in 0..stream.len() {
            assert_eq!(
                read(&[&stream[..cut], &stream[cut..]]),
                whole,
                "cut at {cut}"
            );
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(read(&bytes), whole);
        whole
    }

    #[test]
    fn both_framings_and_any_split() {
        let stream = b"{\"a\":1}\n\r\nContent-Length: 7\r\n\r\n{\"b\":2}{\"c\":3}\r\ncontent-length:2\n\n[]{\"d\":\"\xc3\xa9\"}";
        assert_eq!(
            every_split(stream),
            ["{\"a\":1}", "{\"b\":2}", "{\"c\":3}", "[]", "{\"d\":\"é\"}"]
        );
    }

    /// Each message ends where the stream's bytes for it end, in order, however it is cut.
    #[test]
    fn each_message_ends_after_its_own_bytes() {
        let stream: &[u8] = b"{\"a\":1}\n\r\nContent-Length: 7\r\n\r\n{\"b\":2}Content-Length: 5\n{\"c\":3}\nX-Y: z\n\n{\"d\":4}";
        let ends = |chunks: &[&[u8]]| {
            let mut framer = Framer::new();
            let mut ends = Vec::new();
            for chunk in chunks {
                framer.push_ends(chunk, |f, end| {
                    let Frame::Whole(m) = f else { panic!() };
                    ends.push((String::from_utf8_lossy(m).into_owned(), end));
                });
            }
            framer.finish_ends(|f, end| {
                let Frame::Whole(m) = f else { panic!() };
                ends.push((String::from_utf8_lossy(m).into_owned(), end));
            });
            ends
        };
        let whole = ends(&[stream]);
        let at = |needle: &str| {
            let i = stream
                .windows(needle.len())
                .position(|w| w == needle.as_bytes());
            (i.unwrap() + needle.len()) as u64
        };
        assert_eq!(
            whole,
            [
                ("{\"a\":1}".to_owned(), at("{\"a\":1}\n")),
                ("{\"b\":2}".to_owned(), at("{\"b\":2}")),
                ("Content-Length: 5".to_owned(), at("Content-Length: 5\n")),
                ("{\"c\":3}".to_owned(), at("{\"c\":3}\n")),
                ("X-Y: z".to_owned(), at("X-Y: z\n")),
                ("{\"d\":4}".to_owned(), stream.len() as u64),
            ]
        );
        assert_eq!(same_however_cut(stream, ends), whole);
    }

    #[test]
    fn a_length_that_says_more_than_its_message_hides_nothing_that_follows() {
        // A length of a terabyte, then newline-delimited calls: each is found, however cut.
        let stream =
            b"Content-Length: 1000000000000\r\n\r\n{\"a\":\"}\\\"{\"}\n{\"b\":[2]}\n[{\"c\":3}]\n";
        assert_eq!(
            every_split(stream),
            ["{\"a\":\"}\\\"{\"}", "{\"b\":[2]}", "[{\"c\":3}]"]
        );
        // A length that is right, braces and quotes in strings, whitespace after the value.
        let body = "{\"a\":\"}\\\"{\", \"b\": [1, {}]} \r\n";
        let stream = format!("Content-Length: {}\r\n\r\n{body}{{\"d\":4}}", body.len());
        assert_eq!(every_split(stream.as_bytes()), [body, "{\"d\":4}"]);
        // A body that is not an object or an array is taken at its length.
        assert_eq!(
            every_split(b"Content-Length: 4\r\n\r\n12 3{}"),
            ["12 3", "{}"]
        );
    }

    #[test]
    fn a_gap_inside_a_long_string_costs_the_record_only_the_strings_middle() {
        let text = "\u{e9}\\\"x\\\\".repeat(MAX_WHOLE / 2);
        let literal = text.len() + 2;
        let message = format!(r#"{{"jsonrpc":"2.0","result":{{"t":"{text}"}},"id":9}}"#);
        for framed in [false, true] {
            let mut stream = if framed {
                format!("Content-Length: {}\r\n\r\n{message}", message.len())
            } else {
                format!("{message}\r\n")
            }
            .into_bytes();
            stream.extend_from_slice(b"{\"after\":1}\n");
            // Gaps that start and end anywhere in the string: in an escape, after one.
            for (start, end) in [
                (100_000, 2_000_000),
                (300_001, 300_009),
                (500_003, 2_500_006),
            ] {
                let mut framer = Framer::new();
                let mut seen = Vec::new();
                let mut keep = |f: Frame<'_>| match f {
                    Frame::Whole(m) => seen.push((String::from_utf8_lossy(m).into_owned(), 0)),
                    Frame::Cut { copy, size, .. } => {
                        let copy: serde_json::Value =
                            serde_json::from_slice(copy.unwrap()).unwrap();
                        assert_eq!(copy["id"], 9);
                        let kept = copy["result"]["t"].as_str().unwrap();
                        let start = kept.split('…').next().unwrap();
                        assert!(start.len() > 50_000, "{}", start.len());
                        let unescaped: String =
                            serde_json::from_str(&format!("\"{text}\"")).unwrap();
                        assert!(unescaped.starts_with(start));
                        assert!(kept.ends_with(&crate::model::view::cut_marker(literal as u64)));
                        seen.push((String::new(), size));
                    }
                };
                let mid = usize::midpoint(start, end);
                framer.push(&stream[..start], &mut keep);
                let lost = framer.skip(&Gap::of(&stream[start..mid]))
                    + framer.skip(&Gap::of(&stream[mid..end]));
                framer.push(&stream[end..], &mut keep);
                framer.finish(&mut keep);
                assert_eq!(lost, 0);
                assert_eq!(
                    seen,
                    [
                        (String::new(), message.len() as u64),
                        ("{\"after\":1}".to_owned(), 0)
                    ],
                    "framed {framed}, gap {start}..{end}"
                );
            }
        }
    }

    /// A gap's summary is the same however its bytes are cut.
    #[test]
    fn a_gap_joined_from_pieces_is_the_gap_of_their_bytes() {
        let stream: &[u8] = b" {\"a\":1}\r\n\n  \n{\"b\":2}\n{\"c\"\n\t{}";
        for cut in 0..=stream.len() {
            let (a, b) = stream.split_at(cut);
            assert_eq!(Gap::of(a).then(Gap::of(b)), Gap::of(stream), "cut at {cut}");
        }
    }

    /// Whatever bytes a gap (or two gaps side by side) takes out of a newline-delimited
    /// stream, every message is recorded whole, as it came, or cut with its real size (a gap
    /// inside one of its strings), or counted once.
    #[test]
    fn messages_cut_by_a_gap_are_counted_once_and_the_rest_recorded_whole() {
        let messages = ["{\"a\":1}", "{\"b\":22}", "x", "{\"d\":\"\u{e9}\"}", "{}"];
        let stream = b"{\"a\":1}\n\n{\"b\":22}\r\n  x\n{\"d\":\"\xc3\xa9\"}\n \n{}";
        for start in 0..=stream.len() {
            for end in start..=stream.len() {
                for split in [None, Some(usize::midpoint(start, end))] {
                    let mut framer = Framer::new();
                    let mut seen = Vec::new();
                    let mut keep = |f: Frame<'_>| {
                        seen.push(match f {
                            Frame::Whole(m) => String::from_utf8_lossy(m).into_owned(),
                            Frame::Cut { size, .. } => format!("{size} bytes"),
                        });
                    };
                    framer.push(&stream[..start], &mut keep);
                    let lost = match split {
                        None => framer.skip(&Gap::of(&stream[start..end])),
                        Some(mid) => {
                            framer.skip(&Gap::of(&stream[start..mid]))
                                + framer.skip(&Gap::of(&stream[mid..end]))
                        }
                    };
                    framer.push(&stream[end..], &mut keep);
                    framer.finish(&mut keep);
                    let gap = format!("gap {start}..{end} ({split:?})");
                    assert_eq!(seen.len() as u64 + lost, 5, "{gap}: {seen:?} + {lost}");
                    let mut rest = messages.iter();
                    for message in &seen {
                        let size = |m: &&str| format!("{} bytes", m.len());
                        assert!(
                            rest.any(|m| m == message || size(m) == *message),
                            "{gap}: {message} not as it came"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn headers_that_never_end_are_read_as_lines() {
        // A Content-Length line, then newline-delimited messages with no blank line.
        let stream = b"Content-Length: 5\n{\"a\":1}\nContent-Type: x\n{\"b\":2}\ncontent\n";
        assert_eq!(
            every_split(stream),
            [
                "Content-Length: 5",
                "{\"a\":1}",
                "Content-Type: x",
                "{\"b\":2}",
                "content"
            ]
        );
        // Headers that look right but go on too long.
        let mut long = b"Content-Length: 5\r\nX-Pad: ".to_vec();
        long.extend(std::iter::repeat_n(b'p', MAX_HEADERS));
        long.extend_from_slice(b"\r\n{\"c\":3}\n");
        let got = frames(&[&long]);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], "Content-Length: 5");
        assert!(got[1].starts_with("X-Pad: ppp"));
        assert_eq!(got[2], "{\"c\":3}");
        // Headers without a length.
        assert_eq!(
            every_split(b"Content-Length: x\r\n\r\n{}\n"),
            ["Content-Length: x", "{}"]
        );
    }

    #[test]
    fn a_large_message_is_cut_with_its_real_size_in_either_framing() {
        let text = "x".repeat(MAX_WHOLE * 3);
        let message = format!("{{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":\"{text}\"}}");
        let mut stream =
            format!("{message}\r\nContent-Length: {}\r\n\r\n", message.len()).into_bytes();
        stream.extend_from_slice(message.as_bytes());
        stream.extend_from_slice(b"{\"after\":1}\n");
        let mut framer = Framer::new();
        let mut seen = Vec::new();
        for chunk in stream.chunks(65_536) {
            framer.push(chunk, |f| match f {
                Frame::Whole(m) => seen.push((String::from_utf8_lossy(m).into_owned(), None)),
                Frame::Cut { copy, head, size } => {
                    let copy: serde_json::Value = serde_json::from_slice(copy.unwrap()).unwrap();
                    assert_eq!(copy["id"], 9);
                    assert!(message.as_bytes().starts_with(head) && head.len() == HEAD);
                    seen.push((String::new(), Some(size)));
                }
            });
        }
        framer.finish(|_| panic!("nothing is left"));
        let size = Some(message.len() as u64);
        assert_eq!(
            seen,
            [
                (String::new(), size),
                (String::new(), size),
                ("{\"after\":1}".to_owned(), None)
            ]
        );
    }
}

/// Gaps anywhere in a stream of lines and `Content-Length` framed bodies of one line each:
/// each message is framed or counted lost, never both and never neither.
#[cfg(test)]
mod gap_counts {
    use super::*;

    /// A header line that never ends its headers, a 3 MB line that is not JSON, a small
    /// message, a 3 MB call (`framed`: `Content-Length` framed, no newline after it) and
    /// another small one; and where each message ends.
    fn lines(framed: bool) -> (Vec<u8>, Vec<usize>) {
        let mut stream = Vec::new();
        let mut ends = vec![];
        let mut add = |stream: &mut Vec<u8>, parts: &[&[u8]]| {
            for part in parts {
                stream.extend_from_slice(part);
            }
            ends.push(stream.len());
        };
        let (ys, zs) = (vec![b'y'; 3_000_000], vec![b'z'; 3_000_000]);
        add(&mut stream, &[b"Content-Length: 5\n"]);
        add(&mut stream, &[&ys, b"\n"]);
        add(
            &mut stream,
            &[b"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}\n"],
        );
        let call: &[&[u8]] = &[
            b"{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/call\",\"params\":{\"name\":\"big\",\"arguments\":{\"blob\":\"",
            &zs,
            b"\"}}}",
        ];
        if framed {
            let length: usize = call.iter().map(|part| part.len()).sum();
            let header = format!("Content-Length: {length}\r\n\r\n");
            add(&mut stream, &[&[header.as_bytes()], call].concat());
        } else {
            add(&mut stream, &[call, &[b"\n"]].concat());
        }
        add(
            &mut stream,
            &[b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/last\"}\n"],
        );
        (stream, ends)
    }

    /// The places `deltas` before and after the stream's start and each of `ends`, within `len`.
    fn near(ends: &[usize], len: usize, deltas: &[usize]) -> Vec<usize> {
        let mut points = vec![0, len];
        for &end in std::iter::once(&0).chain(ends) {
            for &d in deltas {
                points.extend((end + d <= len).then_some(end + d));
                points.extend(end.checked_sub(d));
            }
        }
        points.sort_unstable();
        points.dedup();
        points
    }

    /// How many messages the recorder's framer frames of `stream` when the bytes in `gaps`
    /// (in order, each given as the gaps of its two halves joined) are not given to it, and how
    /// many it counts lost.
    fn framed_and_lost(stream: &[u8], gaps: &[(usize, usize)]) -> (u64, u64) {
        let mut framer = Framer::new();
        let (mut framed, mut lost, mut at) = (0, 0, 0);
        for &(start, end) in gaps {
            framer.push(&stream[at..start], |_| framed += 1);
            let mid = start + (end - start) / 2;
            lost += framer.skip(&Gap::of(&stream[start..mid]).then(Gap::of(&stream[mid..end])));
            at = end;
        }
        framer.push(&stream[at..], |_| framed += 1);
        framer.finish(|_| framed += 1);
        (framed, lost)
    }

    /// Every gap between two of `points`, with what [`framed_and_lost`] made of it where
    /// `fits` says no.
    fn misfits(
        stream: &[u8],
        points: &[usize],
        fits: impl Fn(u64) -> bool,
    ) -> Vec<(usize, usize, u64, u64)> {
        let mut bad = Vec::new();
        for (i, &start) in points.iter().enumerate() {
            for &end in &points[i + 1..] {
                let (framed, lost) = framed_and_lost(stream, &[(start, end)]);
                if !fits(framed + lost) {
                    bad.push((start, end, framed, lost));
                }
            }
        }
        bad
    }

    /// Fails with the first of `bad`, the gaps that lost or counted a message too many.
    fn none(bad: &[impl std::fmt::Debug], framed: bool) {
        let first = &bad[..bad.len().min(30)];
        assert!(
            bad.is_empty(),
            "framed {framed}: {} bad: {first:?}",
            bad.len()
        );
    }

    #[test]
    fn every_message_is_framed_or_counted_whatever_the_gap() {
        for framed in [false, true] {
            let (stream, ends) = lines(framed);
            let points = near(&ends, stream.len(), &[0, 1, 2, 25, 26, 50, 100, 1_500_000]);
            let bad = misfits(&stream, &points, |n| n == 5);
            none(&bad, framed);
        }
    }

    #[test]
    fn every_message_is_framed_or_counted_whatever_two_gaps() {
        for framed in [false, true] {
            let (stream, ends) = lines(framed);
            let points = near(&ends, stream.len(), &[0, 1, 2, 17, 25, 26, 50, 1_500_000]);
            let mut seed = 12_345_u64;
            let mut pick = || {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                points[(seed >> 33) as usize % points.len()]
            };
            let mut bad = Vec::new();
            for _ in 0..3000 {
                let mut cuts = [pick(), pick(), pick(), pick()];
                cuts.sort_unstable();
                if cuts[0] == cuts[1] || cuts[2] == cuts[3] {
                    continue;
                }
                let gaps = [(cuts[0], cuts[1]), (cuts[2], cuts[3])];
                let (framed, lost) = framed_and_lost(&stream, &gaps);
                if framed + lost != 5 {
                    bad.push((cuts, framed, lost));
                }
            }
            none(&bad, framed);
        }
    }

    #[test]
    fn in_a_framed_stream_every_message_is_framed_or_counted() {
        // Six small messages, every other one `Content-Length` framed with nothing after it.
        let mut stream = Vec::new();
        let mut ends = Vec::new();
        for i in 0..6 {
            let body = format!(
                "{{\"jsonrpc\":\"2.0\",\"method\":\"n{i}\",\"params\":{{\"t\":\"{}\"}}}}",
                "t".repeat(40)
            );
            if i % 2 == 0 {
                stream.extend_from_slice(
                    format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes(),
                );
                ends.push(stream.len());
                stream.extend_from_slice(body.as_bytes());
            } else {
                stream.extend_from_slice(body.as_bytes());
                stream.push(b'\n');
            }
            ends.push(stream.len());
        }
        let points = near(&ends, stream.len(), &[0, 1, 2, 5]);
        let bad = misfits(&stream, &points, |n| n == 6);
        none(&bad, true);
    }
}
