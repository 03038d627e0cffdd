//! Server-sent events, as the HTTP transports of MCP carry them: a parser that reads the
//! events out of a stream however it is cut (for recording), in bounded memory, and a
//! rewriter that changes the one `endpoint` event the older HTTP+SSE transport sends and passes
//! every other byte through.

use bytes::Bytes;

use super::gather::{Cut, Gathered, Message};

/// One event as a client would dispatch it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field; "message" when the event has none.
    pub event: String,
    /// The `data:` lines joined with newlines; for an event too large to keep, its first bytes.
    pub data: String,
    /// The `id:` field, when the event has one.
    pub id: Option<String>,
    /// Set when the event's data was larger than [`super::framing::MAX_WHOLE`]: its cut copy
    /// and its real size, as the stdio proxy keeps a message that large.
    pub cut: Option<Cut>,
}

/// Most of a field name read: no longer one is a field the parser knows.
const MAX_NAME: usize = 8;
/// Most of an `event:` or `id:` value kept.
const MAX_VALUE: usize = 64 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The field a line's value belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Data,
    Event,
    Id,
    /// A comment, or a field the parser does not keep.
    Other,
}

/// Where the parser stands in the current line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Place {
    /// In the field's name (before any colon).
    #[default]
    Name,
    /// Right after the colon: a space here is not part of the value.
    ValueStart(Field),
    /// In the value.
    Value(Field),
}

/// Reads events out of a stream of byte chunks, whatever their sizes, each byte once: an
/// event's data goes as it comes into a [`Gathered`] message, so an event of any size holds at
/// most what the stdio proxy holds of one message.
#[derive(Debug, Default)]
pub struct SseParser {
    /// The stream's first bytes, while too few to tell whether a byte-order mark opens it.
    opening: Vec<u8>,
    /// The stream's first bytes were seen (a byte-order mark there is skipped).
    started: bool,
    /// The last byte seen was a CR: a LF right after it ends the same line.
    after_cr: bool,
    place: Place,
    /// The current line's field name, up to [`MAX_NAME`] + 1 bytes.
    name: Vec<u8>,
    /// The current line's value, for an `event:` or `id:` line.
    value: Vec<u8>,
    event: String,
    data: Gathered,
    has_data: bool,
    id: Option<String>,
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
        self.opening.extend_from_slice(bytes);
        if self.opening.len() < BOM.len() && BOM.starts_with(&self.opening) {
            // Too short to tell whether the stream opens with a byte-order mark.
            return;
        }
        self.started = true;
        let head = std::mem::take(&mut self.opening);
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
        let Some(end) = memchr::memchr2(b'\n', b'\r', rest) else {
            self.line_part(rest);
            return bytes.len();
        };
        self.line_part(&rest[..end]);
        self.after_cr = rest[end] == b'\r';
        self.line_done(emit);
        start + end + 1
    }

    /// Reads the next bytes of the current line (no line end among them).
    fn line_part(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            match self.place {
                Place::Name => {
                    let colon = memchr::memchr(b':', bytes);
                    let name = &bytes[..colon.unwrap_or(bytes.len())];
                    let room = (MAX_NAME + 1).saturating_sub(self.name.len());
                    self.name.extend_from_slice(&name[..name.len().min(room)]);
                    let Some(colon) = colon else {
                        return;
                    };
                    let field = self.field();
                    self.place = Place::ValueStart(field);
                    bytes = &bytes[colon + 1..];
                }
                Place::ValueStart(field) => {
                    if bytes[0] == b' ' {
                        bytes = &bytes[1..];
                    }
                    self.place = Place::Value(field);
                }
                Place::Value(field) => {
                    match field {
                        Field::Data => self.data.push(bytes),
                        Field::Event | Field::Id => {
                            let room = MAX_VALUE.saturating_sub(self.value.len());
                            self.value
                                .extend_from_slice(&bytes[..bytes.len().min(room)]);
                        }
                        Field::Other => {}
                    }
                    return;
                }
            }
        }
    }

    /// The field the name read names, known once its colon (or the line's end) came; a data
    /// line starts here, after a newline when the event has data already.
    fn field(&mut self) -> Field {
        let field = match self.name.as_slice() {
            b"data" => Field::Data,
            b"event" => Field::Event,
            b"id" => Field::Id,
            _ => Field::Other,
        };
        if field == Field::Data {
            if self.has_data {
                self.data.push(b"\n");
            }
            self.has_data = true;
        }
        field
    }

    fn line_done(&mut self, emit: &mut impl FnMut(SseEvent)) {
        let field = match self.place {
            Place::Name if self.name.is_empty() => {
                self.dispatch(emit);
                return;
            }
            // A line without a colon is a field with an empty value.
            Place::Name => self.field(),
            Place::ValueStart(field) | Place::Value(field) => field,
        };
        match field {
            Field::Event => self.event = String::from_utf8_lossy(&self.value).into_owned(),
            // The last event id outlives its event, as in a browser's EventSource.
            Field::Id if !self.value.contains(&0) => {
                self.id = Some(String::from_utf8_lossy(&self.value).into_owned());
            }
            _ => {}
        }
        self.place = Place::Name;
        self.name.clear();
        self.value.clear();
        if self.value.capacity() > MAX_VALUE {
            self.value = Vec::new();
        }
    }

    /// A blank line: the event read so far, if it has data, is complete.
    fn dispatch(&mut self, emit: &mut impl FnMut(SseEvent)) {
        let event = std::mem::take(&mut self.event);
        let data = self.data.take();
        if !std::mem::take(&mut self.has_data) {
            return;
        }
        let event = if event.is_empty() {
            "message".to_owned()
        } else {
            event
        };
        let (data, cut) = match data {
            Message::Whole(data) => (String::from_utf8_lossy(&data).into_owned(), None),
            Message::Cut(cut) => (String::from_utf8_lossy(&cut.head).into_owned(), Some(cut)),
        };
        emit(SseEvent {
            event,
            data,
            id: self.id.clone(),
            cut,
        });
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
