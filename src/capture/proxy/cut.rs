//! A bounded copy of a JSON message too large to keep whole, made as its bytes pass: each long
//! string keeps its start and ends in the marker that says its real size (the marker
//! [`crate::capture::limit`] ends a cut field with), and a top-level member whose copy still
//! grows past a field's limit becomes such a string of its JSON text, as `limit` turns a large
//! object into one. The copy parses when the message did and still says what the message was:
//! its id, its method, the tool it calls, the start of what it carried.
//!
//! Each byte is looked at once, and the copy never holds more than [`MAX_COPY`] bytes.
//!
//! What is cut is cut before it is scrubbed (scrubbing a string of megabytes as it passes would
//! slow the relay), so a cut could end inside a secret and keep a start of it the redaction
//! rules no longer know. The copy therefore keeps [`SCRUB_MARGIN`] bytes more of each text it
//! cuts, and the recorder, once it has read the copy, scrubs each cut text with them and then
//! lets them go ([`scrub_cut_texts`]): a secret the cut halved is found whole, or, longer than
//! the margin, by the part kept, and no part of it is written.

use std::borrow::Cow;

use serde_json::Value;

use crate::capture::limit::FIELD_LIMIT;
use crate::model::view::{CUT_MARK, cut_marker};

/// The most of one string's JSON text kept. A field holding one cut string (a tool's text
/// result, a file's content in the arguments) stays within [`FIELD_LIMIT`], so it is recorded
/// as it is, not cut a second time with a marker that would give the copy's size.
const STRING_KEEP: usize = FIELD_LIMIT - 4 * 1024;
/// What a cut text keeps past what is recorded of it, to be scrubbed with and then let go:
/// longer than any secret a redaction rule must see whole to know it (a JWT, a private key's
/// block, the 4 KiB window a base64 blob is decoded by).
pub(super) const SCRUB_MARGIN: usize = 4 * 1024;
/// The most of one string's JSON text copied.
const STRING_COPY: usize = STRING_KEEP + SCRUB_MARGIN;
/// The most of one top-level member's copy; past it the member becomes a string.
const MEMBER_KEEP: usize = FIELD_LIMIT + SCRUB_MARGIN;
/// The most of the whole copy. Past it (a message of very many large members) there is none.
const MAX_COPY: usize = 2 * 1024 * 1024;
/// Room kept for the marker and the quotes when a member becomes a string.
const MARKER_ROOM: usize = 128;

/// Whether the copy is still being made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Progress {
    #[default]
    Going,
    /// It grew past [`MAX_COPY`]: there is no copy.
    TooLarge,
    /// The message is not JSON: its first byte is all the copy holds, enough to say so.
    NotJson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Lex {
    /// Between tokens, or in a number or a literal.
    #[default]
    Plain,
    /// In a string.
    Text,
    /// Right after a backslash in a string.
    Escape,
    /// In the four hex digits of a `\u` escape: how many are left, and the value so far.
    Unicode { left: u8, unit: u16 },
}

/// Where the reader stands among the members of the top-level object or array.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Slot {
    /// Before the top-level value, or after a top-level value that is not a container.
    #[default]
    Outside,
    /// Waiting for a member's name.
    Key,
    /// After a member's name, waiting for its colon.
    Colon,
    /// Waiting for a member's value (or an array's item).
    Value,
    /// In a member's value.
    InValue,
}

/// The top-level member (or array item) being read.
#[derive(Debug)]
struct Member {
    /// Where its copy starts in the output.
    out_start: usize,
    /// Where it starts and ends in the message, for its real size.
    raw_start: u64,
    raw_end: u64,
    /// Set when its copy grew too large: the start of its JSON text, and nothing more is copied
    /// until it ends.
    head: Option<String>,
}

/// The cut copy of one message, fed in chunks of any size.
#[derive(Debug, Default)]
pub struct CutCopy {
    out: Vec<u8>,
    progress: Progress,
    /// Bytes of the message read so far.
    pos: u64,
    depth: u32,
    lex: Lex,
    top_array: bool,
    slot: Slot,
    member: Option<Member>,
    /// Where the current string's opening quote is in the message.
    text_start: u64,
    /// Where its content starts in the output.
    text_out: usize,
    /// How many bytes of its JSON text were copied.
    text_kept: usize,
    /// The rest of it is not copied.
    text_cut: bool,
    /// The last thing copied was a high surrogate escape, which must not be cut from its pair.
    after_high: bool,
}

impl CutCopy {
    pub fn new() -> CutCopy {
        CutCopy::default()
    }

    /// Reads the next bytes of the message.
    pub fn push(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.progress != Progress::Going {
                return;
            }
            let used = match self.lex {
                Lex::Text => self.text_run(bytes),
                Lex::Escape => {
                    self.escape(bytes[0]);
                    1
                }
                Lex::Unicode { left, unit } => {
                    self.unicode(bytes[0], left, unit);
                    1
                }
                Lex::Plain => {
                    self.plain(bytes[0]);
                    1
                }
            };
            self.pos += used as u64;
            bytes = &bytes[used..];
        }
    }

    /// The copy, or `None` when it grew past [`MAX_COPY`].
    pub fn finish(mut self) -> Option<Vec<u8>> {
        if self.progress == Progress::TooLarge {
            return None;
        }
        // A message that ended inside a member (it was cut short) still shows what it held.
        self.end_member();
        Some(self.out)
    }

    /// Whether the reader is inside a string: `Some(true)` right after a backslash in it.
    pub fn in_text(&self) -> Option<bool> {
        match (self.progress, self.lex) {
            (Progress::Going, Lex::Text) => Some(false),
            (Progress::Going, Lex::Escape) => Some(true),
            _ => None,
        }
    }

    /// Passes over `len` bytes of the message that were not read, all of them inside the
    /// current string (which they leave right after a backslash when `escaped`): the string's
    /// size counts them, and its copy keeps nothing more, so that what it keeps is its start
    /// as it came.
    pub fn skip_text(&mut self, len: u64, escaped: bool) {
        if self.lex == Lex::Escape && !self.text_cut && self.copying() {
            // The backslash copied is let go with the escape it began.
            self.out.pop();
        }
        if !self.text_cut {
            self.cut_text();
        }
        self.pos += len;
        self.touch(self.pos);
        self.lex = if escaped { Lex::Escape } else { Lex::Text };
    }

    fn copying(&self) -> bool {
        self.progress == Progress::Going && self.member.as_ref().is_none_or(|m| m.head.is_none())
    }

    /// Adds to the copy, and turns the current member into a string when it grows too large.
    fn put(&mut self, bytes: &[u8]) {
        if !self.copying() {
            return;
        }
        self.out.extend_from_slice(bytes);
        if let Some(member) = &mut self.member
            && self.out.len() - member.out_start > MEMBER_KEEP
        {
            member.head = Some(member_head(&self.out[member.out_start..]));
            self.out.truncate(member.out_start);
        }
        if self.out.len() > MAX_COPY {
            self.progress = Progress::TooLarge;
            self.out = Vec::new();
        }
    }

    /// The current member reaches to `end` in the message.
    fn touch(&mut self, end: u64) {
        if let Some(member) = &mut self.member {
            member.raw_end = end;
        }
    }

    fn plain(&mut self, b: u8) {
        if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            return;
        }
        if self.depth == 0 && self.out.is_empty() && !b"{[\"-0123456789tfn".contains(&b) {
            self.out.push(b);
            self.progress = Progress::NotJson;
            return;
        }
        if self.depth == 1 {
            self.top_level(b);
        }
        self.touch(self.pos + 1);
        match b {
            b'"' => {
                self.text_start = self.pos;
                self.put(b"\"");
                self.text_out = self.out.len();
                self.text_kept = 0;
                self.text_cut = false;
                self.after_high = false;
                self.lex = Lex::Text;
            }
            b'{' | b'[' => {
                if self.depth == 0 {
                    self.top_array = b == b'[';
                    self.slot = if self.top_array {
                        Slot::Value
                    } else {
                        Slot::Key
                    };
                }
                self.depth += 1;
                self.put(&[b]);
            }
            b'}' | b']' => {
                self.depth = self.depth.saturating_sub(1);
                if self.depth == 0 {
                    self.slot = Slot::Outside;
                }
                self.put(&[b]);
            }
            _ => self.put(&[b]),
        }
    }

    /// Follows the members of the top-level container as byte `b` (not whitespace) arrives.
    fn top_level(&mut self, b: u8) {
        match (self.slot, b) {
            (Slot::Colon, b':') => self.slot = Slot::Value,
            (Slot::Value, b']') | (Slot::Key, b'}') | (_, b':') => {}
            (Slot::Value, _) => {
                self.member = Some(Member {
                    out_start: self.out.len(),
                    raw_start: self.pos,
                    raw_end: self.pos + 1,
                    head: None,
                });
                self.slot = Slot::InValue;
            }
            (Slot::InValue, b',' | b'}' | b']') => {
                self.end_member();
                self.slot = if self.top_array {
                    Slot::Value
                } else {
                    Slot::Key
                };
            }
            _ => {}
        }
    }

    /// Ends the current member; one that grew too large becomes a string of its start.
    fn end_member(&mut self) {
        let Some(member) = self.member.take() else {
            return;
        };
        if let Some(head) = member.head {
            let text = head + &cut_marker(member.raw_end - member.raw_start);
            let json = serde_json::to_vec(&text).unwrap_or_default();
            self.put(&json);
        }
    }

    /// Reads string content up to and including the next quote or backslash; returns how much.
    fn text_run(&mut self, bytes: &[u8]) -> usize {
        let end = memchr::memchr2(b'"', b'\\', bytes).unwrap_or(bytes.len());
        let run = &bytes[..end];
        let at = self.pos + end as u64;
        self.touch(at);
        if !run.is_empty() && self.copying() && !self.text_cut {
            let room = STRING_COPY - self.text_kept;
            if run.len() <= room {
                self.put(run);
                self.text_kept += run.len();
                self.after_high = false;
            } else {
                // Cut before a character's first byte, never inside one.
                let mut take = room;
                while take > 0 && is_continuation(run[take]) {
                    take -= 1;
                }
                if take > 0 {
                    self.put(&run[..take]);
                    self.after_high = false;
                }
                self.cut_text();
            }
        }
        if end == bytes.len() {
            return end;
        }
        self.touch(at + 1);
        if bytes[end] == b'"' {
            self.close_text(at + 1);
        } else {
            if self.copying() && !self.text_cut {
                // An escape is copied whole or not at all.
                if STRING_COPY - self.text_kept < 6 {
                    self.cut_text();
                } else {
                    self.put(b"\\");
                    self.text_kept += 1;
                }
            }
            self.lex = Lex::Escape;
        }
        end + 1
    }

    fn escape(&mut self, b: u8) {
        self.touch(self.pos + 1);
        self.lex = if b == b'u' {
            Lex::Unicode { left: 4, unit: 0 }
        } else {
            Lex::Text
        };
        if self.copying() && !self.text_cut {
            self.put(&[b]);
            self.text_kept += 1;
            if b != b'u' {
                self.after_high = false;
            }
        }
    }

    fn unicode(&mut self, b: u8, left: u8, unit: u16) {
        self.touch(self.pos + 1);
        let digit = char::from(b).to_digit(16).unwrap_or(0);
        #[expect(clippy::cast_possible_truncation, reason = "a hex digit is below 16")]
        let unit = unit.wrapping_mul(16).wrapping_add(digit as u16);
        self.lex = if left > 1 {
            Lex::Unicode {
                left: left - 1,
                unit,
            }
        } else {
            Lex::Text
        };
        if self.copying() && !self.text_cut {
            self.put(&[b]);
            self.text_kept += 1;
            if left == 1 {
                self.after_high = (0xD800..=0xDBFF).contains(&unit);
            }
        }
    }

    /// Stops copying the current string, leaving no unfinished character or lone half of a
    /// surrogate pair at the end of what was kept.
    fn cut_text(&mut self) {
        self.text_cut = true;
        if !self.copying() {
            return;
        }
        let content = &self.out[self.text_out..];
        let keep = if self.after_high {
            content.len().saturating_sub(6)
        } else {
            complete_utf8(content)
        };
        self.out.truncate(self.text_out + keep);
    }

    /// The string's closing quote, at `end` (just past it) in the message.
    fn close_text(&mut self, end: u64) {
        if self.text_cut {
            let marker = cut_marker(end - self.text_start);
            self.put(marker.as_bytes());
        }
        self.put(b"\"");
        self.lex = Lex::Plain;
        self.after_high = false;
        if self.depth == 1 && self.slot == Slot::Key {
            self.slot = Slot::Colon;
        }
    }
}

fn is_continuation(b: u8) -> bool {
    b & 0xC0 == 0x80
}

/// How much of `bytes` is left once an unfinished UTF-8 character at its end is dropped.
fn complete_utf8(bytes: &[u8]) -> usize {
    let tail = bytes.len().saturating_sub(4);
    let Some(lead) = (tail..bytes.len())
        .rev()
        .find(|&i| !is_continuation(bytes[i]))
    else {
        return bytes.len();
    };
    let need = match bytes[lead] {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    };
    if bytes.len() - lead < need {
        lead
    } else {
        bytes.len()
    }
}

/// The start of a member's JSON text, short enough that as a JSON string with its marker it
/// stays within [`FIELD_LIMIT`] once its [`SCRUB_MARGIN`] is let go.
fn member_head(text: &[u8]) -> String {
    let text = String::from_utf8_lossy(&text[..complete_utf8(text)]);
    let budget = FIELD_LIMIT - MARKER_ROOM + SCRUB_MARGIN;
    let mut size = 0;
    let mut end = 0;
    for (i, c) in text.char_indices() {
        size += json_size(c);
        if size > budget {
            break;
        }
        end = i + c.len_utf8();
    }
    text[..end].to_owned()
}

/// What `c` takes in a JSON string.
fn json_size(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
        c if c < ' ' => 6,
        c => c.len_utf8(),
    }
}

/// Makes a cut copy, once read, what may be recorded: in each string, the text before each cut
/// marker (a cut string's start, a member's JSON text turned into a string, or a string cut
/// inside one) is scrubbed with `scrub` as it is, and then loses its last [`SCRUB_MARGIN`]
/// bytes, which were kept only for that. Object keys are strings too, and are made so.
pub fn scrub_cut_texts(value: &mut Value, scrub: &impl Fn(&str) -> Cow<'_, str>) {
    match value {
        Value::String(text) => {
            if let Some(kept) = scrubbed_cut_text(text, scrub) {
                *text = kept;
            }
        }
        Value::Array(items) => {
            for item in items {
                scrub_cut_texts(item, scrub);
            }
        }
        Value::Object(map) => {
            if map.keys().any(|key| key.contains(CUT_MARK)) {
                *map = std::mem::take(map)
                    .into_iter()
                    .map(|(key, value)| (scrubbed_cut_text(&key, scrub).unwrap_or(key), value))
                    .collect();
            }
            for item in map.values_mut() {
                scrub_cut_texts(item, scrub);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// `text` made as [`scrub_cut_texts`] says; `None` when it holds no cut marker.
fn scrubbed_cut_text(text: &str, scrub: &impl Fn(&str) -> Cow<'_, str>) -> Option<String> {
    let opening = format!("… {CUT_MARK}");
    if !text.contains(&opening) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    let mut from = 0;
    while let Some(found) = text[from..].find(&opening) {
        let start = from + found;
        let Some(end) = marker_end(text, start + opening.len()) else {
            from = start + opening.len();
            continue;
        };
        let piece = scrub(&text[at..start]);
        out.push_str(&piece[..without_margin(&piece)]);
        out.push_str(&text[start..end]);
        at = end;
        from = end;
    }
    out.push_str(&text[at..]);
    Some(out)
}

/// Where a marker whose size starts at `digits` ends (past its `]`), if it is one.
fn marker_end(text: &str, digits: usize) -> Option<usize> {
    let rest = &text[digits..];
    let count = rest.bytes().take_while(u8::is_ascii_digit).count();
    let tail = " bytes in all]";
    (count > 0 && rest[count..].starts_with(tail)).then_some(digits + count + tail.len())
}

/// How much of `piece` is left once its last [`SCRUB_MARGIN`] bytes are let go, ending on a
/// character and never inside what scrubbing put in a secret's place (`[REDACTED]`, `[EMAIL]`).
fn without_margin(piece: &str) -> usize {
    /// The longest placeholder scrubbing writes, and more.
    const PLACEHOLDER: usize = 24;
    let mut end = piece.len().saturating_sub(SCRUB_MARGIN);
    while !piece.is_char_boundary(end) {
        end -= 1;
    }
    let before = &piece[..end];
    if let Some(open) = before.rfind('[').filter(|&at| end - at < PLACEHOLDER)
        && !before[open..].contains(']')
        && piece[end..]
            .find(']')
            .is_some_and(|close| end + close - open < PLACEHOLDER)
    {
        end = open;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            ".{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
                prop::collection::btree_map(".{0,6}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// What is small enough is copied exactly (but for whitespace), however it is fed.
        #[test]
        fn a_small_message_is_copied_exactly(value in json_value(), pretty in any::<bool>(), chunk in 1usize..40) {
            let text = if pretty {
                serde_json::to_vec_pretty(&value).unwrap()
            } else {
                serde_json::to_vec(&value).unwrap()
            };
            let mut cut = CutCopy::new();
            for part in text.chunks(chunk) {
                cut.push(part);
            }
            let copy: Value = serde_json::from_slice(&cut.finish().unwrap()).unwrap();
            prop_assert_eq!(copy, value);
        }
    }

    fn copy_of(message: &[u8], chunk: usize) -> Option<Value> {
        let mut cut = CutCopy::new();
        for part in message.chunks(chunk) {
            cut.push(part);
        }
        cut.finish().map(|bytes| {
            let mut copy = serde_json::from_slice(&bytes).expect("the copy parses");
            scrub_cut_texts(&mut copy, &|text| Cow::Borrowed(text));
            copy
        })
    }

    #[test]
    fn a_long_string_keeps_its_start_and_its_real_size_whatever_the_chunks() {
        let text = "é🎉\"\\\n".repeat(200_000);
        let message = json!({"jsonrpc": "2.0", "id": 7, "result": {"content": [{"type": "text", "text": text}]}});
        let bytes = serde_json::to_vec(&message).unwrap();
        let literal = serde_json::to_vec(&Value::String(text.clone()))
            .unwrap()
            .len();
        for chunk in [1, 3, 7, 4096, bytes.len()] {
            let copy = copy_of(&bytes, chunk).unwrap();
            assert_eq!(copy["id"], 7);
            assert_eq!(copy["jsonrpc"], "2.0");
            let kept = copy["result"]["content"][0]["text"].as_str().unwrap();
            let (start, marker) = kept.split_once('…').unwrap();
            assert!(text.starts_with(start), "chunk {chunk}");
            assert!(start.len() > STRING_KEEP / 2);
            assert_eq!(
                marker,
                format!(" [cut by agent-strace: {literal} bytes in all]")
            );
            // The field it sits in is not cut again.
            assert!(serde_json::to_vec(&copy["result"]).unwrap().len() <= FIELD_LIMIT);
        }
    }

    #[test]
    fn a_surrogate_pair_is_never_split() {
        let mut message = br#"{"id":1,"params":{"text":""#.to_vec();
        while message.len() < STRING_KEEP * 2 {
            message.extend_from_slice(br"a\ud83d\ude00");
        }
        message.extend_from_slice(br#""}}"#);
        for chunk in [1, 5, 65_536] {
            let copy = copy_of(&message, chunk).unwrap();
            let text = copy["params"]["text"].as_str().unwrap();
            assert!(text.contains('😀') && !text.contains('\u{fffd}'));
        }
    }

    #[test]
    fn a_large_member_of_many_small_values_becomes_a_string_and_the_id_after_it_survives() {
        // As the TypeScript SDK writes an answer: the result first, the id last.
        let items: Vec<u32> = (0..200_000).collect();
        let message =
            json!({"result": {"structuredContent": items}, "jsonrpc": "2.0", "id": "abc"});
        let bytes = serde_json::to_vec(&message).unwrap();
        let size = serde_json::to_vec(&message["result"]).unwrap().len();
        let copy = copy_of(&bytes, 1000).unwrap();
        assert_eq!(copy["id"], "abc");
        let result = copy["result"].as_str().unwrap();
        assert!(result.starts_with(r#"{"structuredContent":[0,1,2,"#));
        assert!(result.ends_with(&format!("… [cut by agent-strace: {size} bytes in all]")));
        assert!(serde_json::to_vec(&copy["result"]).unwrap().len() <= FIELD_LIMIT);
    }

    #[test]
    fn a_tool_call_keeps_its_tool_name_beside_huge_arguments() {
        let message = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "write_file", "arguments": {"path": "a", "content": "x".repeat(3_000_000)}}});
        let copy = copy_of(&serde_json::to_vec(&message).unwrap(), 65_536).unwrap();
        assert_eq!(copy["method"], "tools/call");
        assert_eq!(copy["params"]["name"], "write_file");
        assert_eq!(copy["params"]["arguments"]["path"], "a");
    }

    #[test]
    fn a_copy_that_would_grow_past_its_limit_is_none_and_any_bytes_are_safe() {
        // Each member's copy is within its limit, but together they are too many.
        let members: serde_json::Map<String, Value> = (0..20)
            .map(|i| (format!("m{i}"), Value::from("y".repeat(FIELD_LIMIT))))
            .collect();
        let bytes = serde_json::to_vec(&Value::Object(members)).unwrap();
        let mut cut = CutCopy::new();
        cut.push(&bytes);
        assert!(cut.finish().is_none());
        // A message that is not JSON is said to be so at once.
        let mut cut = CutCopy::new();
        cut.push(&vec![b'y'; MAX_COPY * 2]);
        assert_eq!(cut.finish().as_deref(), Some(&b"y"[..]));
        // Garbage never panics and never grows the copy past its limit.
        let mut cut = CutCopy::new();
        let alphabet = b"{[\"\\u]}:,x\xff\xc3 d";
        let noise: Vec<u8> = (0..3_000_000u32)
            .map(|i| alphabet[(i.wrapping_mul(2_654_435_761) >> 7) as usize % alphabet.len()])
            .collect();
        cut.push(&noise);
        assert!(cut.finish().is_none_or(|c| c.len() <= MAX_COPY));
    }
}
