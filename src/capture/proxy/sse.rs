//! Server-sent events, as the HTTP transports of MCP carry them: a parser that reads the
//! events out of a stream however it is cut (for recording), and a rewriter that changes the
//! one `endpoint` event the older HTTP+SSE transport sends and passes every other byte through.

use bytes::Bytes;

/// One event as a client would dispatch it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field; "message" when the event has none.
    pub event: String,
    /// The `data:` lines joined with newlines.
    pub data: String,
    /// The `id:` field, when the event has one.
    pub id: Option<String>,
    /// The event was larger than [`MAX_EVENT`]: `data` holds only its start.
    pub truncated: bool,
}

/// Most of one event (or one line) the parser keeps; the client always gets all of it.
pub const MAX_EVENT: usize = 64 * 1024 * 1024;
/// A buffer grown past this by a large event is let go once the event is done.
const KEEP_CAPACITY: usize = 1024 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads events out of a stream of byte chunks, whatever their sizes.
// Four independent facts about where the parser stands in the stream, not a state machine.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    /// The last byte seen was a CR: a LF right after it ends the same line.
    after_cr: bool,
    /// The stream's first bytes were seen (a byte-order mark there is skipped).
    started: bool,
    event: String,
    data: Vec<u8>,
    has_data: bool,
    id: Option<String>,
    /// Some of the current event did not fit in [`MAX_EVENT`].
    truncated: bool,
}

impl SseParser {
    pub fn new() -> SseParser {
        SseParser::default()
    }

    /// Feeds the next chunk; `emit` gets every event the chunk completes.
    pub fn push(&mut self, bytes: &[u8], mut emit: impl FnMut(SseEvent)) {
        if self.started {
            self.feed(bytes, &mut emit);
            return;
        }
        self.line.extend_from_slice(bytes);
        if self.line.len() < BOM.len() && BOM.starts_with(&self.line) {
            // Too short to tell whether the stream opens with a byte-order mark.
            return;
        }
        self.started = true;
        let head = std::mem::take(&mut self.line);
        let skip = if head.starts_with(BOM) { BOM.len() } else { 0 };
        self.feed(&head[skip..], &mut emit);
    }

    fn feed(&mut self, mut bytes: &[u8], emit: &mut impl FnMut(SseEvent)) {
        while !bytes.is_empty() {
            let n = self.feed_some(bytes, emit);
            bytes = &bytes[n..];
        }
    }

    /// Consumes bytes up to and including the next line end; returns how many.
    fn feed_some(&mut self, bytes: &[u8], emit: &mut impl FnMut(SseEvent)) -> usize {
        let mut start = 0;
        if self.after_cr {
            self.after_cr = false;
            if bytes[0] == b'\n' {
                start = 1;
            }
        }
        let rest = &bytes[start..];
        let Some(end) = rest.iter().position(|&b| b == b'\n' || b == b'\r') else {
            self.keep(rest);
            return bytes.len();
        };
        self.keep(&rest[..end]);
        self.after_cr = rest[end] == b'\r';
        let line = std::mem::take(&mut self.line);
        self.line_done(&line, emit);
        // The buffer is kept for the next line, unless a large line grew it.
        if line.capacity() <= KEEP_CAPACITY {
            self.line = line;
            self.line.clear();
        }
        start + end + 1
    }

    /// Adds to the current line what fits.
    fn keep(&mut self, bytes: &[u8]) {
        let room = MAX_EVENT.saturating_sub(self.line.len());
        if bytes.len() > room {
            self.truncated = true;
        }
        self.line.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn line_done(&mut self, line: &[u8], emit: &mut impl FnMut(SseEvent)) {
        if line.is_empty() {
            if self.has_data {
                let event = if self.event.is_empty() {
                    "message".to_owned()
                } else {
                    std::mem::take(&mut self.event)
                };
                emit(SseEvent {
                    event,
                    data: String::from_utf8_lossy(&self.data).into_owned(),
                    id: self.id.clone(),
                    truncated: self.truncated,
                });
            }
            self.event.clear();
            self.data.clear();
            if self.data.capacity() > KEEP_CAPACITY {
                self.data = Vec::new();
            }
            self.has_data = false;
            self.truncated = false;
            return;
        }
        if line[0] == b':' {
            return;
        }
        let (field, value) = split_field(line);
        match field {
            b"event" => self.event = String::from_utf8_lossy(value).into_owned(),
            b"data" => {
                let room = MAX_EVENT.saturating_sub(self.data.len() + 1);
                if value.len() > room {
                    self.truncated = true;
                }
                if self.has_data && room > 0 {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(&value[..value.len().min(room)]);
                self.has_data = true;
            }
            // The last event id outlives its event, as in a browser's EventSource.
            b"id" if !value.contains(&0) => {
                self.id = Some(String::from_utf8_lossy(value).into_owned());
            }
            _ => {}
        }
    }
}

/// A field line's name and value (one space after the colon is not part of the value).
fn split_field(line: &[u8]) -> (&[u8], &[u8]) {
    match line.iter().position(|&b| b == b':') {
        Some(colon) => {
            let value = &line[colon + 1..];
            (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
        }
        None => (line, &[]),
    }
}

/// Largest first event held back while looking for the `endpoint` event; past it the stream
/// passes as it is.
const MAX_HELD: usize = 64 * 1024;

/// Rewrites the data of the first event of a stream when it is an `endpoint` event, and passes
/// every other byte through as it came. `rewrite` gets the endpoint's data and returns the new
/// one, or `None` to keep it.
pub struct EndpointRewriter<F> {
    held: Vec<u8>,
    done: bool,
    rewrite: F,
}

impl<F: FnMut(&str) -> Option<String>> EndpointRewriter<F> {
    pub fn new(rewrite: F) -> EndpointRewriter<F> {
        EndpointRewriter {
            held: Vec::new(),
            done: false,
            rewrite,
        }
    }

    /// The bytes to send on now for `chunk` (empty while the first event is incomplete).
    pub fn push(&mut self, chunk: Bytes) -> Bytes {
        if self.done {
            return chunk;
        }
        self.held.extend_from_slice(&chunk);
        let mut out = Vec::new();
        // Blocks without data (comments, blank lines) go on as they are; the first event with
        // data is the endpoint event or the stream is not of the older transport.
        while let Some(end) = block_end(&self.held) {
            let block: Vec<u8> = self.held.drain(..end).collect();
            match rewrite_endpoint(&block, &mut self.rewrite) {
                Block::Rewritten(new) => {
                    out.extend_from_slice(&new);
                    self.done = true;
                }
                Block::Data => {
                    out.extend_from_slice(&block);
                    self.done = true;
                }
                Block::NoData => out.extend_from_slice(&block),
            }
            if self.done {
                break;
            }
        }
        if self.done || self.held.len() > MAX_HELD {
            self.done = true;
            out.append(&mut self.held);
        }
        Bytes::from(out)
    }

    /// What is still held when the stream ends.
    pub fn finish(&mut self) -> Bytes {
        self.done = true;
        Bytes::from(std::mem::take(&mut self.held))
    }
}

/// The lines of `bytes` with their line ends, as (start, end of text, end with terminator).
/// A CR at the very end ends its line, as it does for a client; should a LF follow in the next
/// chunk, it reads as an empty line there, which changes no byte that is sent on.
fn lines(bytes: &[u8]) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        let rest = &bytes[at..];
        let end = rest.iter().position(|&b| b == b'\n' || b == b'\r')?;
        let after = match rest.get(end..end + 2) {
            Some(b"\r\n") => end + 2,
            _ => end + 1,
        };
        let line = (at, at + end, at + after);
        at += after;
        Some(line)
    })
}

/// A line without the byte-order mark a stream may open with.
fn without_bom(line: &[u8]) -> &[u8] {
    line.strip_prefix(BOM).unwrap_or(line)
}

/// Where the first block of lines (its blank line included) ends, once it is complete.
fn block_end(bytes: &[u8]) -> Option<usize> {
    lines(bytes)
        .find(|&(start, text_end, _)| start == text_end)
        .map(|(_, _, end)| end)
}

enum Block {
    /// An endpoint event, with its data rewritten.
    Rewritten(Vec<u8>),
    /// An event with data, kept as it is.
    Data,
    /// Comments or nothing.
    NoData,
}

/// What to send for one block: an `endpoint` event gets its data rewritten.
fn rewrite_endpoint(block: &[u8], rewrite: &mut impl FnMut(&str) -> Option<String>) -> Block {
    let mut name: &[u8] = b"";
    let mut data: Vec<&[u8]> = Vec::new();
    for (start, text_end, _) in lines(block) {
        let line = without_bom(&block[start..text_end]);
        if line.first() == Some(&b':') {
            continue;
        }
        match split_field(line) {
            (b"event", value) => name = value,
            (b"data", value) => data.push(value),
            _ => {}
        }
    }
    if data.is_empty() {
        return Block::NoData;
    }
    if name != b"endpoint" {
        return Block::Data;
    }
    let old = String::from_utf8_lossy(&data.join(&b'\n')).into_owned();
    let Some(new) = rewrite(&old).filter(|new| *new != old) else {
        return Block::Data;
    };
    let mut out = Vec::with_capacity(block.len() + new.len());
    let mut written = false;
    for (start, text_end, end) in lines(block) {
        let line = without_bom(&block[start..text_end]);
        if line.first() != Some(&b':') && split_field(line).0 == b"data" {
            if !written {
                written = true;
                // A byte-order mark opening the stream stays where it was.
                out.extend_from_slice(&block[start..text_end - line.len()]);
                out.extend_from_slice(b"data: ");
                out.extend_from_slice(new.as_bytes());
                out.extend_from_slice(&block[text_end..end]);
            }
            continue;
        }
        out.extend_from_slice(&block[start..end]);
    }
    Block::Rewritten(out)
}
