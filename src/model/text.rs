//! Pure text helpers shared by analyses and views.

/// A number and the noun it counts, singular for one: `1 tool call`, `2 tool calls`.
pub fn count(n: u64, noun: &str) -> String {
    count_as(n, noun, &format!("{noun}s"))
}

/// A number and the noun it counts, for a noun whose plural is not its singular and an `s`:
/// `1 retry`, `2 retries`.
pub fn count_as(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Text on one line, whitespace collapsed, cut to `max` characters with an ellipsis. A
/// character that would act on a terminal (see [`is_hostile`]) shows escaped, as `\u001b`, so
/// text from a session never drives the terminal that shows it and still says what it held.
pub fn one_line(text: &str, max: usize) -> String {
    one_line_within(text, max, |_| 1)
}

/// [`one_line`], cut where the characters' sizes, as `size` tells them, would pass `max`
/// (a terminal's columns, where a wide character takes two).
pub fn one_line_within(text: &str, max: usize, mut size: impl FnMut(char) -> usize) -> String {
    let mut out = String::with_capacity(text.len().min(max.saturating_mul(4)));
    let mut used = 0usize;
    // How much of `out` leaves room for the ellipsis.
    let mut cut = 0;
    let words = text.split_whitespace().enumerate();
    let chars = words.flat_map(|(i, word)| (i > 0).then_some(' ').into_iter().chain(word.chars()));
    // Puts one character in `out`; when it does not fit, ends `out` with the ellipsis instead.
    let mut place = |out: &mut String, ch: char| {
        let n = size(ch);
        if used + n > max {
            out.truncate(cut);
            out.push('…');
            return false;
        }
        out.push(ch);
        used += n;
        if used < max {
            cut = out.len();
        }
        true
    };
    // A hostile character is cut like the six characters of its escape; others go straight in.
    let mut escaped = String::new();
    for ch in chars {
        let fits = if is_hostile(ch) {
            escaped.clear();
            push_escaped(&mut escaped, ch);
            escaped.chars().all(|c| place(&mut out, c))
        } else {
            place(&mut out, ch)
        };
        if !fits {
            return out;
        }
    }
    out
}

/// Whether `c` can change what a terminal shows beyond its own glyph, or hides in it: C0 (but
/// newline and tab), DEL, C1, the marks that reorder or isolate bidirectional text, and the
/// zero-width space and byte order mark, which draw nothing (`rm\u{200b} -rf` looks like
/// `rm -rf`, two ids that differ by one look the same). The zero-width joiners (U+200C,
/// U+200D) are not among them: emoji (👩‍💻) and scripts such as Persian are drawn with them.
pub fn is_hostile(c: char) -> bool {
    matches!(c,
        '\0'..='\x08' | '\x0b'..='\x1f' | '\x7f'..='\u{9f}'
        | '\u{061c}' | '\u{200b}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// Whether `c` is hostile (see [`is_hostile`]) or a zero-width joiner: what a line of our own
/// that quotes a name (an error, a warning) shows escaped, since in an id or a path a joiner
/// only hides a difference.
pub fn is_hidden_in_a_line(c: char) -> bool {
    is_hostile(c) || matches!(c, '\u{200c}' | '\u{200d}')
}

/// Appends `c` as its escape, `\u001b`: what a hostile character (see [`is_hostile`]) shows as.
pub fn push_escaped(out: &mut String, c: char) {
    use std::fmt::Write as _;
    let _ = write!(out, "\\u{:04x}", u32::from(c));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapses_and_cuts() {
        assert_eq!(one_line("a\n  b\tc", 10), "a b c");
        assert_eq!(one_line("abcdefghij", 5), "abcd…");
        assert_eq!(one_line("abc", usize::MAX), "abc");
        assert_eq!(one_line("abcde", 5), "abcde");
        assert_eq!(one_line("  ", 5), "");
    }

    #[test]
    fn cuts_by_size_when_told() {
        let wide = |ch: char| if ch.is_ascii() { 1 } else { 2 };
        assert_eq!(one_line_within("日本語のテキスト", 7, wide), "日本語…");
        assert_eq!(one_line_within("日本語", 6, wide), "日本語");
        assert_eq!(one_line_within("a日本", 4, wide), "a日…");
    }

    #[test]
    fn escapes_never_pass() {
        assert_eq!(one_line("a\x1b[31mb\u{202E}c", 20), "a\\u001b[31mb\\u202ec");
    }
}
