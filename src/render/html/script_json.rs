//! The page's model as it goes into its `<script type="application/json">` block, escaped on
//! its way to the file: JSON is written through [`ScriptJson`] a piece at a time, so that a
//! page of a 200 MB session is never held whole as text, let alone as several copies of it.
//!
//! Each character is written as [`escaped`] says, which is what the page always held: the
//! characters a terminal acts on or that hide in a line ([`crate::render::escape::escape`]),
//! and those HTML could read as markup or old parsers as a line end (`<`, `>`, `&`, U+2028,
//! U+2029), as `\u` escapes, which only stand inside JSON strings, where they decode to the
//! same character.

use std::io::{self, Write};

use crate::model::text::{is_hidden_in_a_line, push_escaped};

/// How `c` is written in the page's JSON: `None` when it is written as it is, else its escape.
fn escaped(c: char) -> Option<String> {
    let mut text = String::new();
    if is_hidden_in_a_line(c) {
        push_escaped(&mut text, c);
        return Some(text);
    }
    match c {
        '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
            push_escaped(&mut text, c);
            Some(text)
        }
        _ => None,
    }
}

/// Whether an ASCII byte may need an escape (`<`, `>`, `&` and the controls); every other
/// ASCII byte is written as it is.
fn ascii_may_escape(b: u8) -> bool {
    matches!(b, b'<' | b'>' | b'&' | 0x00..=0x1f | 0x7f)
}

/// How many bytes the UTF-8 character starting with `lead` takes; 1 for a byte that starts
/// none (written as it is).
fn utf8_len(lead: u8) -> usize {
    match lead {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => 1,
    }
}

/// A writer that escapes the page's JSON as [`escaped`] says on its way to `inner`. A
/// character cut by the end of a write is held until the next one; [`ScriptJson::finish`]
/// writes what is still held (a cut character no JSON writer leaves) as it is.
pub(super) struct ScriptJson<W: Write> {
    inner: W,
    /// The first bytes of a character the last write ended inside.
    held: Vec<u8>,
}

impl<W: Write> ScriptJson<W> {
    pub(super) fn new(inner: W) -> Self {
        ScriptJson {
            inner,
            held: Vec::new(),
        }
    }

    /// Writes what is held and returns the writer it wrote to.
    pub(super) fn finish(mut self) -> io::Result<W> {
        let held = std::mem::take(&mut self.held);
        self.inner.write_all(&held)?;
        Ok(self.inner)
    }

    /// Writes `bytes` escaped, holding back a character cut at their end.
    fn filter(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut start = 0;
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b < 0x80 {
                if ascii_may_escape(b)
                    && let Some(text) = escaped(char::from(b))
                {
                    self.inner.write_all(&bytes[start..i])?;
                    self.inner.write_all(text.as_bytes())?;
                    start = i + 1;
                }
                i += 1;
                continue;
            }
            let len = utf8_len(b);
            let Some(encoded) = bytes.get(i..i + len) else {
                // The character goes on in the next write; a byte that can end no character
                // here is written as it is.
                if std::str::from_utf8(&bytes[i..]).is_err_and(|e| e.error_len().is_none()) {
                    self.inner.write_all(&bytes[start..i])?;
                    self.held.extend_from_slice(&bytes[i..]);
                    return Ok(());
                }
                i += 1;
                continue;
            };
            match std::str::from_utf8(encoded)
                .ok()
                .and_then(|s| s.chars().next())
            {
                Some(c) => {
                    if let Some(text) = escaped(c) {
                        self.inner.write_all(&bytes[start..i])?;
                        self.inner.write_all(text.as_bytes())?;
                        start = i + len;
                    }
                    i += len;
                }
                None => i += 1,
            }
        }
        self.inner.write_all(&bytes[start..])
    }
}

impl<W: Write> Write for ScriptJson<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.held.is_empty() {
            self.filter(buf)?;
        } else {
            let mut joined = std::mem::take(&mut self.held);
            joined.extend_from_slice(buf);
            self.filter(&joined)?;
        }
        Ok(buf.len())
    }

    /// Flushes what is written; a character cut in two stays held, so that it is judged whole.
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The escaping the page was made with when it was built as one string: the terminal's
    /// escape of the whole text, then `<`, `>`, `&` and the line separators.
    fn whole(text: &str) -> String {
        let mut out = String::new();
        for c in crate::render::escape::escape(text).chars() {
            match c {
                '<' => out.push_str("\\u003c"),
                '>' => out.push_str("\\u003e"),
                '&' => out.push_str("\\u0026"),
                '\u{2028}' => out.push_str("\\u2028"),
                '\u{2029}' => out.push_str("\\u2029"),
                c => out.push(c),
            }
        }
        out
    }

    fn through(chunks: &[&[u8]]) -> Vec<u8> {
        let mut out = ScriptJson::new(Vec::new());
        for chunk in chunks {
            out.write_all(chunk).unwrap();
        }
        out.finish().unwrap()
    }

    const SAMPLE: &str = "{\"a\":\"</script><!-- x & y > z\",\"b\":\"\u{1b}[31m\u{7f}\u{9b}\r\n\t\
        \u{2028}\u{2029}\u{202e}\u{200b}\u{feff}\u{ad}\",\"c\":\"é 日本 👩\u{200d}💻 ❤\u{fe0f}\u{fe01} \
        \u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F} \u{E0041}x\u{180b} \u{10ffff}\",\
        \"d\":\"\\u003c\\\\u2028\\\"\"}";

    #[test]
    fn escaping_byte_by_byte_is_escaping_the_whole_text() {
        let expected = whole(SAMPLE);
        assert_eq!(
            String::from_utf8(through(&[SAMPLE.as_bytes()])).unwrap(),
            expected
        );
        let singles: Vec<&[u8]> = SAMPLE.as_bytes().chunks(1).collect();
        assert_eq!(String::from_utf8(through(&singles)).unwrap(), expected);
        for cut in 0..SAMPLE.len() {
            let (a, b) = SAMPLE.as_bytes().split_at(cut);
            assert_eq!(
                String::from_utf8(through(&[a, b])).unwrap(),
                expected,
                "cut at {cut}"
            );
        }
        assert!(!expected.contains('<') && !expected.contains('\u{2028}'));
    }

    #[test]
    fn every_character_is_escaped_as_the_whole_text_escapes_it() {
        let text: String = (0..=0x10_ffff)
            .filter_map(char::from_u32)
            .step_by(7)
            .chain([
                '<', '>', '&', '\u{2028}', '\u{2029}', '\u{200d}', '\u{fe0f}',
            ])
            .collect();
        let expected = whole(&text);
        let bytes = text.as_bytes();
        let odd: Vec<&[u8]> = bytes.chunks(5).collect();
        assert_eq!(String::from_utf8(through(&odd)).unwrap(), expected);
    }

    #[test]
    fn serde_writing_through_it_reads_back_as_the_same_value() {
        let value = serde_json::json!({"text": SAMPLE, "n": [1, 2.5, null]});
        let mut out = ScriptJson::new(Vec::new());
        serde_json::to_writer(&mut out, &value).unwrap();
        let text = String::from_utf8(out.finish().unwrap()).unwrap();
        assert_eq!(text, whole(&serde_json::to_string(&value).unwrap()));
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn bytes_that_are_no_utf8_pass_as_they_are() {
        assert_eq!(
            through(&[b"a\xff<\xe2\x80", b"b"]),
            b"a\xff\\u003c\xe2\x80b"
        );
        assert_eq!(through(&[b"end\xf0\x9f"]), b"end\xf0\x9f");
    }
}
