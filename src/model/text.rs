//! Pure text helpers shared by analyses and views.

/// Text on one line, whitespace collapsed, cut to `max` characters with an ellipsis. Control
/// characters (a terminal escape among them) become U+FFFD, so text from a session never
/// drives the terminal that shows it.
pub fn one_line(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max.saturating_mul(4)));
    let mut count = 0;
    for word in text.split_whitespace() {
        if count > 0 {
            out.push(' ');
            count += 1;
        }
        for ch in word.chars() {
            if count >= max {
                out.pop();
                out.push('…');
                return out;
            }
            out.push(if is_unsafe(ch) { '\u{FFFD}' } else { ch });
            count += 1;
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
    }

    #[test]
    fn escapes_never_pass() {
        assert_eq!(
            one_line("a\x1b[31mb\u{202E}c", 20),
            "a\u{FFFD}[31mb\u{FFFD}c"
        );
    }
}
