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

/// Text on one line, whitespace collapsed, cut to `max` characters with an ellipsis. Control
/// characters (a terminal escape among them) become U+FFFD, so text from a session never
/// drives the terminal that shows it.
pub fn one_line(text: &str, max: usize) -> String {
    one_line_within(text, max, |_| 1)
}

/// [`one_line`], cut where the characters' sizes, as `size` tells them, would pass `max`
/// (a terminal's columns, where a wide character takes two).
pub fn one_line_within(text: &str, max: usize, size: impl Fn(char) -> usize) -> String {
    let mut out = String::with_capacity(text.len().min(max.saturating_mul(4)));
    let mut used = 0usize;
    // How much of `out` leaves room for the ellipsis.
    let mut cut = 0;
    let words = text.split_whitespace().enumerate();
    let chars = words.flat_map(|(i, word)| (i > 0).then_some(' ').into_iter().chain(word.chars()));
    for ch in chars {
        let ch = if is_unsafe(ch) { '\u{FFFD}' } else { ch };
        let n = size(ch);
        if used + n > max {
            out.truncate(cut);
            out.push('…');
            return out;
        }
        out.push(ch);
        used += n;
        if used < max {
            cut = out.len();
        }
    }
    out
}

/// Characters a terminal acts on rather than shows: controls, and the marks that reorder text.
fn is_unsafe(ch: char) -> bool {
    ch.is_control() || matches!(ch, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
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
        assert_eq!(
            one_line("a\x1b[31mb\u{202E}c", 20),
            "a\u{FFFD}[31mb\u{FFFD}c"
        );
    }
}
