//! Keeping what a session recorded from acting on the terminal or hiding in it: every
//! character [`is_hostile`] names (ESC and the rest of C0 but newline and tab, DEL, C1, the
//! format characters that reorder a line or draw nothing, such as the bidirectional marks, the
//! zero-width space, the word joiner and the tag characters that hide a whole text, and the
//! line and paragraph separators) is shown as a `\u001b`-style escape instead, and so is a
//! zero-width joiner or variation selector where the character before it cannot draw with it
//! ([`is_hidden_after`]). A line of our own on stderr (an error, a warning) escapes every
//! joiner and variation selector ([`escape`]).
//!
//! The escape is the one JSON uses (a character beyond U+FFFF as its two UTF-16 halves,
//! `\udb40\udc41`), so the same filter serves text and `--format json`: in JSON, serde already
//! escapes C0, and any other hostile character (legal raw in a JSON string) becomes an escape
//! that decodes to the same string.
//!
//! Colour of our own never travels as ESC: [`super::terminal::Painter`] writes [`mark`], a
//! run of private-use characters drawn at random for this process, where the ESC of its SGR
//! sequence goes. The filter turns the mark, followed by one of the sequences the Painter
//! writes, into that ESC sequence when colour is on (and drops both when it is off); every
//! ESC written as it is, whether a session's or anyone's, is escaped. A session cannot hold
//! the mark (it is new each run), so it can neither colour the terminal nor fake our colour.

pub use crate::model::text::is_hostile;
use crate::model::text::{Flag, flag, is_hidden_after, is_hidden_in_a_line, push_escaped};
use std::borrow::Cow;
use std::io::{self, Write};

/// The SGR sequences [`super::terminal::Painter`] writes (without the leading ESC or [`mark`]).
const OUR_SGR: [&[u8]; 10] = [
    b"[0m", b"[1m", b"[2m", b"[31m", b"[32m", b"[33m", b"[34m", b"[35m", b"[36m", b"[39m",
];

/// Where our own colour sequences have their ESC: four characters of the Supplementary
/// Private Use Area-A (U+F0000 to U+FFFFD, which a font leaves blank), drawn at random once a
/// process, so a session recorded before cannot hold them. Every one is encoded in UTF-8 as
/// four bytes starting with 0xF3, a lead byte only unassigned planes, private use and the tag
/// characters and variation selectors of U+E0000 to U+E0FFF share: text pays nothing for it on
/// the filter's fast path.
pub fn mark() -> &'static str {
    static MARK: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    MARK.get_or_init(|| {
        // The bytes of a version 4 UUID but its version (byte 6) and variant (byte 8): random.
        let random = uuid::Uuid::new_v4().into_bytes();
        [0, 2, 10, 12]
            .iter()
            .map(|&i| {
                let n = u32::from(u16::from_le_bytes([random[i], random[i + 1]]));
                char::from_u32(0xF_0000 + n % 0xFFFE).unwrap_or('\u{F0000}')
            })
            .collect()
    })
}

/// The lead byte of every character of [`mark`].
const MARK_LEAD: u8 = 0xf3;

/// What a byte starting at some position is, as far as the bytes at hand tell.
enum Seen {
    /// Plain text: one byte to copy.
    Plain,
    /// Text to copy whole, this many bytes long: a subdivision flag, whose tag characters
    /// would be escaped anywhere else.
    Pass(usize),
    /// One of our colour sequences ([`mark`] and the sequence without its ESC), this many bytes
    /// long in all.
    Colour(&'static [u8], usize),
    /// A character to escape, encoded in this many bytes.
    Escape(char, usize),
    /// A joiner or selector, encoded in this many bytes, to escape or not as the character
    /// before it says (see [`is_hidden_after`]).
    Contextual(char, usize),
    /// Cannot tell yet: the bytes at hand end inside a sequence.
    Incomplete,
}

fn classify(bytes: &[u8]) -> Seen {
    let b = bytes[0];
    match b {
        b'\n' | b'\t' => Seen::Plain,
        // A line end as CSV and Windows write it moves the cursor nowhere a newline would not.
        b'\r' if bytes.get(1) == Some(&b'\n') => Seen::Plain,
        b'\r' if bytes.len() == 1 => Seen::Incomplete,
        0x00..=0x1f | 0x7f => Seen::Escape(char::from(b), 1),
        MARK_LEAD => {
            let mark = mark().as_bytes();
            let Some(rest) = bytes.strip_prefix(mark) else {
                return if mark.starts_with(bytes) {
                    Seen::Incomplete
                } else {
                    character(bytes)
                };
            };
            if let Some(sgr) = OUR_SGR.iter().find(|s| rest.starts_with(s)) {
                Seen::Colour(sgr, mark.len() + sgr.len())
            } else if OUR_SGR.iter().any(|s| s.starts_with(rest)) {
                Seen::Incomplete
            } else {
                Seen::Plain
            }
        }
        FLAG_LEAD => match flag(bytes) {
            Flag::Is(len) => Seen::Pass(len),
            Flag::Cut => Seen::Incomplete,
            Flag::Not => character(bytes),
        },
        _ => character(bytes),
    }
}

/// The character that starts `bytes`: one to escape when it is hostile (see [`is_hostile`]).
fn character(bytes: &[u8]) -> Seen {
    if !may_be_hidden(bytes[0]) {
        return Seen::Plain;
    }
    let len = match bytes[0] {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => return Seen::Plain,
    };
    if bytes.len() < len {
        return Seen::Incomplete;
    }
    match std::str::from_utf8(&bytes[..len])
        .ok()
        .and_then(|s| s.chars().next())
    {
        Some(c) if is_hostile(c) => Seen::Escape(c, len),
        Some(c) if is_hidden_after(None, c) => Seen::Contextual(c, len),
        _ => Seen::Plain,
    }
}

/// The character `bytes` end with, read from their last four bytes; `None` when they are
/// empty or end in no whole character.
fn last_char(bytes: &[u8]) -> Option<char> {
    let tail = &bytes[bytes.len().saturating_sub(4)..];
    // The last byte that is no continuation byte starts the character.
    let start = tail.iter().rposition(|&b| !(0x80..0xc0).contains(&b))?;
    std::str::from_utf8(&tail[start..]).ok()?.chars().next()
}

/// The lead byte of the black flag (U+1F3F4) that starts a subdivision flag, and of the
/// hostile characters of U+10000 to U+3FFFF.
const FLAG_LEAD: u8 = 0xf0;

/// Whether `b` can start a character [`is_hostile`] finds hostile, our [`mark`] or a flag: the
/// UTF-8 lead bytes of U+0080 to U+00BF, U+0340 to U+037F, U+0600 to U+073F, U+0800 to U+3FFF,
/// U+F000 to U+FFFF, U+10000 to U+3FFFF and U+C0000 to U+FFFFF.
fn may_be_hidden(b: u8) -> bool {
    matches!(
        b,
        0xc2 | 0xcd | 0xd8 | 0xdb | 0xdc | 0xe0..=0xe3 | 0xef | FLAG_LEAD | MARK_LEAD
    )
}

/// Printable ASCII, newline and tab, and the bytes of characters other than the ones
/// [`classify`] looks at: the bytes [`classify`] always finds plain. Newline and tab are here
/// so that indented JSON and tables stay on the sixteen-bytes-at-a-time path.
fn is_plain(b: u8) -> bool {
    (0x20..0x7f).contains(&b) || b == b'\n' || b == b'\t' || (b >= 0x80 && !may_be_hidden(b))
}

/// How many of the first bytes of `bytes`, in whole words of eight, are printable ASCII,
/// newline or tab: the usual run of JSON or a table, looked at a word at a time.
fn plain_ascii_prefix(bytes: &[u8]) -> usize {
    let mut plain = 0;
    for chunk in bytes.chunks_exact(8) {
        let word = chunk.try_into().map_or(0, u64::from_le_bytes);
        if !is_plain_ascii_word(word) {
            break;
        }
        plain += 8;
    }
    plain
}

/// Whether each byte of `word` is printable ASCII (0x20 to 0x7e), newline or tab.
///
/// Once every byte is known to be below 0x80, adding a constant to the word cannot carry from
/// one byte into the next, so the top bit of each byte of a sum says what the byte was.
fn is_plain_ascii_word(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const TOP: u64 = 0x8080_8080_8080_8080;
    if word & TOP != 0 {
        return false;
    }
    // The top bit set where a byte is at least 0x20 (0x20 + 0x60 = 0x80) ...
    let printable_or_del = (word + ONES * 0x60) & TOP;
    // ... or is a newline or a tab (a zero byte after the XOR leaves it clear).
    let newline = !((word ^ (ONES * 0x0a)) + ONES * 0x7f) & TOP;
    let tab = !((word ^ (ONES * 0x09)) + ONES * 0x7f) & TOP;
    // DEL is the one byte below 0x80 that reaches 0x80 when one is added.
    let del = (word + ONES) & TOP;
    (printable_or_del | newline | tab) == TOP && del == 0
}

/// `text` with every hostile character (see [`is_hostile`]) and zero-width joiner escaped: for
/// one line of ours that reaches the terminal outside [`Escaping`], such as an error or a
/// warning, which quotes ids and paths, where a joiner only hides a difference.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hidden_in_a_line) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_hidden_in_a_line(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A writer that escapes hostile characters in everything written through it, and turns our
/// own colour ([`mark`] and a sequence) into SGR when `colour` is on, into nothing when it is
/// off. A sequence cut by a write's end is held until the next write or the flush.
pub struct Escaping<W: Write> {
    inner: W,
    colour: bool,
    held: Vec<u8>,
    /// The last bytes (four at most) of what was written before, which tell the character a
    /// joiner or selector at the start of the next write follows.
    before: Vec<u8>,
}

impl<W: Write> Escaping<W> {
    pub fn new(inner: W, colour: bool) -> Self {
        Escaping {
            inner,
            colour,
            held: Vec::new(),
            before: Vec::new(),
        }
    }

    /// The character right before `bytes[..at]` ends, counting what was written before.
    fn char_before(&self, bytes: &[u8], at: usize) -> Option<char> {
        if at >= 4 {
            return last_char(&bytes[..at]);
        }
        let mut joined = self.before.clone();
        joined.extend_from_slice(&bytes[..at]);
        last_char(&joined)
    }

    /// Keeps the last bytes of `done`, written (or escaped) now, for [`Self::char_before`].
    fn remember(&mut self, done: &[u8]) {
        if done.len() >= 4 {
            self.before.clear();
            self.before.extend_from_slice(&done[done.len() - 4..]);
        } else {
            self.before.extend_from_slice(done);
            let extra = self.before.len().saturating_sub(4);
            self.before.drain(..extra);
        }
    }

    /// Writes `bytes`, holding back a sequence cut at their end unless `last`.
    fn filter(&mut self, bytes: &[u8], last: bool) -> io::Result<()> {
        let mut start = 0;
        let mut i = 0;
        while i < bytes.len() {
            // Plain text is most of what passes: eight ASCII bytes at a time, then sixteen of any
            // kind in a form the compiler turns into vector instructions, while all are plain.
            i += plain_ascii_prefix(&bytes[i..]);
            while let Some(block) = bytes.get(i..i + 16)
                && block.iter().fold(true, |all, &b| all & is_plain(b))
            {
                i += 16;
            }
            let Some(&b) = bytes.get(i) else { break };
            if is_plain(b) {
                i += 1;
                continue;
            }
            match classify(&bytes[i..]) {
                Seen::Plain => i += 1,
                Seen::Pass(len) => i += len,
                Seen::Colour(sgr, len) => {
                    self.inner.write_all(&bytes[start..i])?;
                    if self.colour {
                        self.inner.write_all(b"\x1b")?;
                        self.inner.write_all(sgr)?;
                    }
                    i += len;
                    start = i;
                }
                Seen::Contextual(c, len) if !is_hidden_after(self.char_before(bytes, i), c) => {
                    i += len;
                }
                Seen::Escape(c, len) | Seen::Contextual(c, len) => {
                    self.inner.write_all(&bytes[start..i])?;
                    let mut text = String::new();
                    push_escaped(&mut text, c);
                    self.inner.write_all(text.as_bytes())?;
                    i += len;
                    start = i;
                }
                Seen::Incomplete if last => {
                    // Nothing more comes: a carriage return is escaped; a cut character or
                    // mark is written as it is (it is no control character).
                    if b == b'\r' {
                        self.inner.write_all(&bytes[start..i])?;
                        self.inner.write_all(b"\\u000d")?;
                        i += 1;
                        start = i;
                    } else {
                        i += 1;
                    }
                }
                Seen::Incomplete => {
                    self.inner.write_all(&bytes[start..i])?;
                    self.remember(&bytes[..i]);
                    self.held.extend_from_slice(&bytes[i..]);
                    return Ok(());
                }
            }
        }
        self.remember(bytes);
        self.inner.write_all(&bytes[start..])
    }
}

impl<W: Write> Write for Escaping<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.held.is_empty() {
            self.filter(buf, false)?;
        } else {
            let mut joined = std::mem::take(&mut self.held);
            joined.extend_from_slice(buf);
            self.filter(&joined, false)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.held.is_empty() {
            let held = std::mem::take(&mut self.held);
            self.filter(&held, true)?;
        }
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word-at-a-time test agrees with [`is_plain`] on ASCII for every byte value in every
    /// position, among plain letters, newlines and tabs.
    #[test]
    fn a_word_is_plain_ascii_exactly_when_each_of_its_bytes_is() {
        for fill in [b'a', b'\n', b'\t', b' ', b'~'] {
            for position in 0..8 {
                for byte in 0..=255u8 {
                    let mut bytes = [fill; 8];
                    bytes[position] = byte;
                    let expected = bytes.iter().all(|&b| b < 0x80 && is_plain(b));
                    assert_eq!(
                        is_plain_ascii_word(u64::from_le_bytes(bytes)),
                        expected,
                        "{bytes:?}"
                    );
                }
            }
        }
        assert_eq!(plain_ascii_prefix(b"{\n  \"id\": 1,\t\x1b[31m"), 8);
    }

    fn through(chunks: &[&[u8]], colour: bool) -> String {
        let mut out = Escaping::new(Vec::new(), colour);
        for chunk in chunks {
            out.write_all(chunk).unwrap();
        }
        out.flush().unwrap();
        String::from_utf8(out.inner).unwrap()
    }

    /// A joiner or selector is escaped where the text around it cannot draw it, as
    /// [`crate::model::text::one_line`] escapes it, however the writes cut the text.
    #[test]
    fn joiners_and_selectors_are_judged_by_the_character_before_across_writes() {
        let text = "👩\u{200d}💻 r\u{200d}m ❤\u{fe0f}\u{fe01}\u{fe02} 1\u{fe0f}\u{20e3} ᠠ\u{180b} x\u{180b}";
        let expected =
            "👩\u{200d}💻 r\\u200dm ❤\u{fe0f}\\ufe01\\ufe02 1\u{fe0f}\u{20e3} ᠠ\u{180b} x\\u180b";
        assert_eq!(through(&[text.as_bytes()], false), expected);
        assert_eq!(
            crate::model::text::one_line(text, 100),
            expected,
            "one rule for both"
        );
        // Cut at every byte, and byte by byte.
        let bytes = text.as_bytes();
        for cut in 0..bytes.len() {
            let (a, b) = bytes.split_at(cut);
            assert_eq!(through(&[a, b], false), expected, "cut at {cut}");
        }
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(through(&singles, false), expected);
        // A joiner first of all is at the start of a text.
        assert_eq!(through(&["\u{200d}a".as_bytes()], false), "\\u200da");
    }

    #[test]
    fn a_byte_the_fast_path_skips_is_one_classify_finds_plain() {
        for b in 0..=u8::MAX {
            if !is_plain(b) {
                continue;
            }
            for next in [&b""[..], b"\n", b"[0m", b"\x80\x9b", b"x"] {
                let bytes = [&[b][..], next].concat();
                assert!(matches!(classify(&bytes), Seen::Plain), "{b:#x}");
            }
        }
        let json = "{\n  \"a\": [\n\t1\n  ]\n}\n".repeat(40);
        assert_eq!(through(&[json.as_bytes()], false), json);
    }

    #[test]
    fn controls_from_a_session_are_escaped() {
        let hostile = "title\x1b]0;pwned\x07 clear\x1b[2J\r bell\x07 del\x7f csi\u{9b}31m \
                       rlo\u{202e}txt zw\u{200b}sp \u{feff}bom";
        let shown = through(&[hostile.as_bytes()], false);
        assert!(!shown.chars().any(is_hostile), "{shown:?}");
        assert_eq!(
            shown,
            "title\\u001b]0;pwned\\u0007 clear\\u001b[2J\\u000d bell\\u0007 del\\u007f \
             csi\\u009b31m rlo\\u202etxt zw\\u200bsp \\ufeffbom"
        );
        assert_eq!(escape(hostile), shown);
    }

    #[test]
    fn newlines_tabs_and_ordinary_text_pass() {
        let text = "a\tb\nc é ü 日本 👩‍💻 – “quoted” ｆｕｌｌ\r\n";
        assert_eq!(through(&[text.as_bytes()], true), text);
        // A joiner with nothing to join (after a space) hides; see the test below.
        assert_eq!(through(&[" \u{200d} ".as_bytes()], true), " \\u200d ");
        // A single line (an error, a warning) has no line end to keep, and shows a joiner.
        assert!(matches!(
            escape("c é ü 日本 – “quoted” ｆｕｌｌ"),
            Cow::Borrowed(_)
        ));
        assert_eq!(escape("👩\u{200d}💻"), "👩\\u200d💻");
    }

    #[test]
    fn our_colour_passes_only_when_colour_is_on() {
        let ours = crate::render::terminal::Painter::new(true).red("red");
        assert_eq!(through(&[ours.as_bytes()], true), "\x1b[31mred\x1b[0m");
        assert_eq!(through(&[ours.as_bytes()], false), "red");
        // An ESC written as it is never passes, even one that reads like our colour.
        let theirs = "\x1b[31mred\x1b[0m";
        assert_eq!(
            through(&[theirs.as_bytes()], true),
            "\\u001b[31mred\\u001b[0m"
        );
        assert_eq!(through(&[b"\x1b[8mhidden"], true), "\\u001b[8mhidden");
        // Our mark before anything but one of our sequences is text (it cannot come from us).
        let odd = format!("{}[8m", mark());
        assert_eq!(through(&[odd.as_bytes()], true), odd);
    }

    #[test]
    fn the_mark_is_private_use_characters_that_no_text_shares() {
        let mark = mark();
        assert_eq!(mark.chars().count(), 4);
        assert!(
            mark.chars()
                .all(|c| ('\u{F0000}'..='\u{FFFFD}').contains(&c)),
            "{mark:?}"
        );
        assert!(mark.bytes().step_by(4).all(|b| b == MARK_LEAD));
        // Another mark's characters (a past run's, recorded into a session) are plain text.
        let other: String = mark
            .chars()
            .map(|c| char::from_u32(0xF_0000 + (u32::from(c) + 1) % 0xFFFE).unwrap())
            .collect();
        let text = format!("{other}[31mx");
        assert_eq!(through(&[text.as_bytes()], true), text);
        // Tag characters share the lead byte: they pass in a subdivision flag, and are escaped
        // anywhere else, where they hide text ("ASCII smuggling").
        let flag = "\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}";
        assert_eq!(through(&[flag.as_bytes()], true), flag);
        let smuggled = "ok\u{E0001}\u{E0068}\u{E0069}\u{E007F}";
        assert_eq!(
            through(&[smuggled.as_bytes()], true),
            "ok\\udb40\\udc01\\udb40\\udc68\\udb40\\udc69\\udb40\\udc7f"
        );
    }

    /// Every character the rule escapes starts with a byte the fast path stops at.
    #[test]
    fn every_hostile_character_leaves_the_fast_path() {
        let mut bytes = [0u8; 4];
        for c in (0..=0x10_ffff).filter_map(char::from_u32) {
            if is_hostile(c) {
                let first = c.encode_utf8(&mut bytes).as_bytes()[0];
                assert!(!is_plain(first) || c == '\r', "{c:?}");
            }
        }
    }

    #[test]
    fn invisible_characters_are_escaped_and_flags_and_emoji_pass() {
        let hidden = "a\u{2028}b\u{2029}c\u{2060}d\u{ad}e\u{180e}f\u{3164}g\u{e0100}h\u{34f}i";
        assert_eq!(
            through(&[hidden.as_bytes()], false),
            "a\\u2028b\\u2029c\\u2060d\\u00ade\\u180ef\\u3164g\\udb40\\udd00h\\u034fi"
        );
        assert_eq!(escape(hidden), through(&[hidden.as_bytes()], false));
        let text = "❤\u{fe0f} 👩\u{200d}💻 日本語 ｶﾀｶﾅ ひらがな Tiếng Việt हिन्दी ⌘ \u{1F3F4}\u{E0067}\u{E0062}\u{E0077}\u{E006C}\u{E0073}\u{E007F}";
        assert_eq!(through(&[text.as_bytes()], true), text);
        // A black flag with tags but no cancel tag, or too many, is no flag: its tags show.
        for not_a_flag in [
            "\u{1F3F4}\u{E0067}\u{E0062}x",
            "\u{1F3F4}\u{E0061}\u{E0061}\u{E0061}\u{E0061}\u{E0061}\u{E0061}\u{E0061}\u{E007F}",
            "\u{1F3F4}\u{E0041}\u{E0042}\u{E007F}",
            "\u{1F3F4}\u{E0067}\u{E0062}",
        ] {
            let shown = through(&[not_a_flag.as_bytes()], true);
            assert!(shown.starts_with('\u{1F3F4}'), "{shown:?}");
            assert!(!shown.chars().any(is_hostile), "{shown:?}");
        }
    }

    #[test]
    fn sequences_cut_between_writes_are_seen_whole() {
        let text = format!(
            "x{}y\u{9b}z\u{202e}w\u{e0041}v\u{1F3F4}\u{E0067}\u{E0062}\u{E007F}u\u{1F3F4}\u{E0067}t",
            crate::render::terminal::Painter::new(true).red("r")
        );
        let text = text.as_bytes();
        for cut in 1..text.len() {
            let (a, b) = text.split_at(cut);
            assert_eq!(
                through(&[a, b], true),
                "x\x1b[31mr\x1b[0my\\u009bz\\u202ew\\udb40\\udc41v\u{1F3F4}\u{E0067}\u{E0062}\u{E007F}u\u{1F3F4}\\udb40\\udc67t",
                "cut at {cut}"
            );
        }
        // An ESC at the very end, with nothing after it, is escaped.
        assert_eq!(through(&[b"end\x1b"], true), "end\\u001b");
        // A mark with no sequence after it, at the very end, is written as it is.
        let end = format!("end{}", mark());
        assert_eq!(through(&[end.as_bytes()], true), end);
        assert_eq!(through(&[b"a\r", b"\nb\r"], true), "a\r\nb\\u000d");
    }

    #[test]
    fn json_stays_json_and_decodes_to_the_same_string() {
        let value = serde_json::json!({"text": "a\u{9b}b\u{202e}c\x1bd\u{7f}"});
        let mut out = Escaping::new(Vec::new(), false);
        serde_json::to_writer(&mut out, &value).unwrap();
        out.flush().unwrap();
        let text = String::from_utf8(out.inner).unwrap();
        assert!(!text.chars().any(is_hostile), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }
}
