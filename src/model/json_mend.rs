//! Mending of JSON text that strict readers refuse but agents and the Python tool write: lone
//! surrogate escapes, `NaN` and `Infinity`, and numbers too large for a float. One mender for
//! every reader (the store's lines, meta.json, transcript usage), so each reads the same text
//! the same way.

/// Rewrites the `NaN`, `Infinity` and `-Infinity` that Python's json module writes for floats
/// that are no number (and reads back), and numbers too large for an f64 (`1e999`), as `null`,
/// what JSON writers give them; `None` when there were none outside strings. An event the
/// Python tool stamped `NaN` was skipped as malformed, and the call on it lost from every view;
/// its time is unknown, as a `null` one.
///
/// A token count (a key ending in `tokens`) that is no number is kept as the word, a string,
/// not `null`: usage reads `null` as no tokens (APIs write it for none), and a count of `NaN`
/// is unknown, which a string makes it, so its cost is not given as exact.
pub fn replace_non_json_numbers(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut changed = false;
    let mut in_string = false;
    // Where the last string began and ended in `text`, and whether a `:` came after it: the
    // key of the value that follows.
    let mut last_string = (0, 0);
    let mut string_start = 0;
    let mut keyed = false;
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if in_string {
            match b {
                b'\\' => {
                    out.extend_from_slice(&text[i..(i + 2).min(text.len())]);
                    i += 2;
                    continue;
                }
                b'"' => {
                    in_string = false;
                    last_string = (string_start, i);
                }
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
            string_start = i + 1;
            keyed = false;
        } else if b == b':' {
            keyed = true;
        } else if let Some(word) = [&b"-Infinity"[..], b"Infinity", b"NaN"]
            .into_iter()
            .find(|w| text[i..].starts_with(w))
        {
            let key = &text[last_string.0..last_string.1];
            if keyed && key.ends_with(b"tokens") {
                out.push(b'"');
                out.extend_from_slice(word);
                out.push(b'"');
            } else {
                out.extend_from_slice(b"null");
            }
            changed = true;
            i += word.len();
            continue;
        } else if b == b'-' || b.is_ascii_digit() {
            // A number: one too large for an f64 (`1e999`) is refused by JSON readers ("number
            // out of range"), and is no more a number than `Infinity`, which Python writes
            // for it; it goes as `Infinity` does, and the rest of the event is kept.
            let end = text[i..]
                .iter()
                .position(|c| !matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                .map_or(text.len(), |n| i + n);
            let number = &text[i..end];
            let too_large = std::str::from_utf8(number)
                .ok()
                .and_then(|n| n.parse::<f64>().ok())
                .is_some_and(f64::is_infinite);
            let key = &text[last_string.0..last_string.1];
            if !too_large {
                out.extend_from_slice(number);
            } else if keyed && key.ends_with(b"tokens") {
                out.push(b'"');
                out.extend_from_slice(number);
                out.push(b'"');
                changed = true;
            } else {
                out.extend_from_slice(b"null");
                changed = true;
            }
            keyed = false;
            i = end;
            continue;
        } else if !b.is_ascii_whitespace() {
            keyed = false;
        }
        out.push(b);
        i += 1;
    }
    changed.then_some(out)
}

/// Rewrites `\uXXXX` escapes of lone surrogates as `\ufffd`; `None` when there were none.
/// Node (Claude Code, every MCP server in JavaScript) writes them whenever it cuts a string
/// inside an emoji, and Python for bytes that are not UTF-8; strict JSON parsers refuse them.
/// Callers parse first and call this only on failure, so valid JSON costs nothing more.
pub fn replace_lone_surrogates(text: &[u8]) -> Option<Vec<u8>> {
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

    fn mended(text: &str) -> Option<String> {
        replace_non_json_numbers(text.as_bytes()).map(|t| String::from_utf8(t).unwrap())
    }

    #[test]
    fn a_count_past_floats_is_kept_as_its_text_and_other_numbers_past_floats_are_null() {
        assert_eq!(
            mended(r#"{"input_tokens":1e999,"ok":true,"no":false,"n":null}"#).as_deref(),
            Some(r#"{"input_tokens":"1e999","ok":true,"no":false,"n":null}"#)
        );
        assert_eq!(
            mended(r#"{"a":-1E+400,"b":"1e999 \" 2e999","c":[1.5e3,-2],"output_tokens":NaN}"#)
                .as_deref(),
            Some(r#"{"a":null,"b":"1e999 \" 2e999","c":[1.5e3,-2],"output_tokens":"NaN"}"#)
        );
        assert_eq!(mended(r#"{"a":1.5e3,"b":"NaN"}"#), None);
    }
}
