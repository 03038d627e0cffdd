//! Pure text helpers shared by analyses and views.

/// A number and the noun it counts, singular for one: `1 tool call`, `2 tool calls`,
/// `1,024 tool calls`.
pub fn count(n: u64, noun: &str) -> String {
    count_as(n, noun, &format!("{noun}s"))
}

/// A number and the noun it counts, for a noun whose plural is not its singular and an `s`:
/// `1 retry`, `2 retries`, `12,345 retries` (thousands separated as every table separates them).
pub fn count_as(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// A count with thousands separated: `1,234,567`.
pub fn thousands(n: u64) -> String {
    grouped(&n.to_string())
}

/// Digits with a comma before each group of three from the right.
fn grouped(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A float as Rust writes it, the shortest text that reads back the same (as a rules file or
/// SQL reads it); in exponent form when that is long (`1e-300`, never three hundred zeros).
pub fn real(x: f64) -> String {
    let plain = x.to_string();
    if plain.len() > 20 {
        format!("{x:e}")
    } else {
        plain
    }
}

/// A number as a sentence says it: with the digits it has, fifteen significant ones at most
/// (`1.5`, `0.25`, `0.333333333333333`; a computed `1.5000000000000001e302` is `1.5e302`),
/// thousands separated (`12,000`), and in exponent form past fifteen digits (`1e308`,
/// `1e-300`), where Rust writes a float out in full, 309 digits for `1e308`.
pub fn figure(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    // Rounded to fifteen significant digits, unless that rounds past the largest float.
    let x = format!("{x:.14e}")
        .parse::<f64>()
        .ok()
        .filter(|rounded| rounded.is_finite())
        .unwrap_or(x);
    let plain = x.to_string();
    let unsigned = plain.trim_start_matches('-');
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if whole.len() > 15 || fraction.len() > 15 {
        return format!("{x:e}");
    }
    separated(&plain)
}

/// A number written out in decimal (`-1234.50`) with the thousands of its whole part
/// separated (`-1,234.50`).
pub fn separated(decimal: &str) -> String {
    let (sign, unsigned) = match decimal.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", decimal),
    };
    match unsigned.split_once('.') {
        Some((whole, fraction)) => format!("{sign}{}.{fraction}", grouped(whole)),
        None => format!("{sign}{}", grouped(unsigned)),
    }
}

/// The first `max` characters of `text`, with a mark saying how many more there were; `text`
/// whole when it is no longer than that. What a user or a client gave, quoted back in an
/// error, is cut so: an argument of megabytes made an answer of megabytes.
pub fn cut(text: &str, max: usize) -> String {
    cut_at(text, max).unwrap_or_else(|| text.to_owned())
}

/// `text` cut as [`cut`] says, if that makes it shorter: the mark is some twenty characters,
/// and a short string given a mark in place of its last few grew (`f1234.rs` became
/// `f… [7 more characters]`).
pub fn cut_at(text: &str, max: usize) -> Option<String> {
    let (at, _) = text.char_indices().nth(max)?;
    let more = text[at..].chars().count();
    let mark = format!("… [{more} more characters]");
    (mark.chars().count() < more).then(|| format!("{}{mark}", &text[..at]))
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
    // Puts one piece (a character, or a flag whole) of `n` columns in `out`; when it does not
    // fit, ends `out` with the ellipsis instead.
    let mut place = |out: &mut String, piece: &str, n: usize| {
        if used + n > max {
            out.truncate(cut);
            out.push('…');
            return false;
        }
        out.push_str(piece);
        used += n;
        if used < max {
            cut = out.len();
        }
        true
    };
    // A hostile character is cut like the characters of its escape; others go straight in.
    let mut escaped = String::new();
    let mut one = [0u8; 4];
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 && !place(&mut out, " ", size(' ')) {
            return out;
        }
        let mut rest = word;
        // The character before, as the text has it (a word starts after whitespace).
        let mut prev = None;
        while let Some(ch) = rest.chars().next() {
            let fits = if let Some(len) = flag_len(rest) {
                let (flag, after) = rest.split_at(len);
                rest = after;
                prev = flag.chars().next_back();
                let n = flag.chars().map(&mut size).sum();
                place(&mut out, flag, n)
            } else {
                rest = &rest[ch.len_utf8()..];
                let hidden = is_hidden_after(prev, ch);
                prev = Some(ch);
                if hidden {
                    escaped.clear();
                    push_escaped(&mut escaped, ch);
                    escaped
                        .chars()
                        .all(|c| place(&mut out, c.encode_utf8(&mut one), size(c)))
                } else {
                    place(&mut out, ch.encode_utf8(&mut one), size(ch))
                }
            };
            if !fits {
                return out;
            }
        }
    }
    out
}

/// Whether `c` can change what a terminal shows beyond its own glyph, or hides in it: the
/// controls (Unicode's Cc: C0 but newline and tab, DEL, C1), the format characters (Cf: the
/// marks that reorder or isolate bidirectional text, the zero-width space, the word joiner and
/// invisible operators, the byte order mark, the soft hyphen, the tag characters that hide a
/// whole text from whoever reads it, "ASCII smuggling" …), the line and paragraph separators
/// (Zl, Zp), and the other characters Unicode says draw nothing (the combining grapheme joiner,
/// the Hangul fillers, the variation selectors of U+E0100 on and the rest of U+E0000 to
/// U+E0FFF): `rm\u{200b} -rf` looks like `rm -rf`, two ids that differ by one look the same.
///
/// Four kinds of format character draw something with their neighbours and pass in a text
/// where they have one to draw with (see [`is_hidden_after`]): the zero-width joiners (U+200C,
/// U+200D), with which emoji (👩‍💻) and scripts such as Persian are drawn; the variation
/// selectors U+FE00 to U+FE0F (❤️); the Mongolian free variation selectors; and the tag
/// characters of a subdivision flag (🏴󠁧󠁢󠁳󠁣󠁴󠁿, see [`flag`]), which carry six letters at most.
pub fn is_hostile(c: char) -> bool {
    matches!(c,
        '\0'..='\x08' | '\x0b'..='\x1f' | '\x7f'..='\u{9f}'
        | '\u{ad}' | '\u{34f}' | '\u{600}'..='\u{605}' | '\u{61c}' | '\u{6dd}' | '\u{70f}'
        | '\u{890}' | '\u{891}' | '\u{8e2}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}'
        | '\u{180e}' | '\u{200b}' | '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}' | '\u{3164}' | '\u{feff}' | '\u{ffa0}' | '\u{fff0}'..='\u{fffb}'
        | '\u{110bd}' | '\u{110cd}' | '\u{13430}'..='\u{1343f}' | '\u{1bca0}'..='\u{1bca3}'
        | '\u{1d173}'..='\u{1d17a}' | '\u{e0000}'..='\u{e0fff}')
}

/// Whether `c`, coming right after `prev` (`None` at the start of a text), hides in a text:
/// it is hostile (see [`is_hostile`]), or it is one of the characters that draw with their
/// neighbours with no neighbour to draw with, where it can only hide something:
/// - a zero-width joiner or non-joiner (U+200D, U+200C) after an ASCII character or at the
///   start: no ASCII character joins, so `r\u{200d}m` is `rm` to the eye and not to a shell;
/// - a variation selector U+FE00 to U+FE0F after another variation selector, after an ASCII
///   character but a digit, `#` or `*` (which make keycaps, 1️⃣), or at the start: a glyph
///   takes one, and a run of them carries hidden data ("emoji smuggling", four bits each);
/// - a Mongolian free variation selector (U+180B to U+180D, U+180F) after anything but a
///   Mongolian letter.
pub fn is_hidden_after(prev: Option<char>, c: char) -> bool {
    match c {
        '\u{200c}' | '\u{200d}' => prev.is_none_or(|p| p.is_ascii()),
        '\u{fe00}'..='\u{fe0f}' => prev.is_none_or(|p| {
            is_variation_selector(p) || (p.is_ascii() && !matches!(p, '0'..='9' | '#' | '*'))
        }),
        '\u{180b}'..='\u{180d}' | '\u{180f}' => {
            !prev.is_some_and(|p| matches!(p, '\u{1820}'..='\u{18aa}'))
        }
        c => is_hostile(c),
    }
}

/// Whether `c` is a variation selector: U+FE00 to U+FE0F, or U+E0100 to U+E01EF.
fn is_variation_selector(c: char) -> bool {
    matches!(c, '\u{fe00}'..='\u{fe0f}' | '\u{e0100}'..='\u{e01ef}')
}

/// What a text hides from whoever reads it on a screen, while an agent reads it whole: the
/// ways text is smuggled into a prompt, a page or a tool's result (see [`hidden_in`]).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Hidden {
    /// Text written in tag characters outside a subdivision flag ("ASCII smuggling"),
    /// decoded: U+E0041 is `A`.
    pub tag_text: String,
    /// The bytes carried by variation selectors beyond the one a glyph takes ("emoji
    /// smuggling": U+FE00 to U+FE0F are bytes 0 to 15, U+E0100 to U+E01EF bytes 16 to 255).
    pub selector_bytes: Vec<u8>,
    /// Characters that reorder the line as shown (the bidirectional overrides, embeddings and
    /// isolates, U+202A to U+202E and U+2066 to U+2069: "Trojan Source").
    pub reorderings: usize,
}

impl Hidden {
    /// How many characters hide something.
    pub fn count(&self) -> usize {
        self.tag_text.chars().count() + self.selector_bytes.len() + self.reorderings
    }

    fn add(&mut self, other: Hidden) {
        self.tag_text.push_str(&other.tag_text);
        self.selector_bytes.extend(other.selector_bytes);
        self.reorderings += other.reorderings;
    }
}

/// What `text` hides (see [`Hidden`]). A run of variation selectors hides data when it holds
/// two or more, or one of U+E0100 on after anything but a CJK ideograph (which takes one).
pub fn hidden_in(text: &str) -> Hidden {
    let mut hidden = Hidden::default();
    // The lead bytes of every character looked for (U+202A on, U+FE00 on, U+E0000 on): most
    // text has none and is passed over at the speed of a byte search.
    if !text.bytes().any(|b| matches!(b, 0xe2 | 0xef | 0xf3)) {
        return hidden;
    }
    let mut rest = text;
    let mut prev: Option<char> = None;
    let mut run: Vec<u8> = Vec::new();
    let mut run_after: Option<char> = None;
    let end_run = |run: &mut Vec<u8>, after: Option<char>, hidden: &mut Hidden| {
        let ideograph = after.is_some_and(|c| {
            matches!(c, '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{20000}'..='\u{3ffff}')
        });
        if run.len() >= 2 || run.first().is_some_and(|&b| b >= 16 && !ideograph) {
            hidden.selector_bytes.append(run);
        }
        run.clear();
    };
    while let Some(c) = rest.chars().next() {
        if let Some(len) = flag_len(rest) {
            end_run(&mut run, run_after, &mut hidden);
            prev = rest[..len].chars().next_back();
            rest = &rest[len..];
            continue;
        }
        rest = &rest[c.len_utf8()..];
        match c {
            '\u{fe00}'..='\u{fe0f}' | '\u{e0100}'..='\u{e01ef}' => {
                if run.is_empty() {
                    run_after = prev;
                }
                let byte = match c {
                    '\u{fe00}'..='\u{fe0f}' => u32::from(c) - 0xfe00,
                    _ => u32::from(c) - 0xe0100 + 16,
                };
                run.push(u8::try_from(byte).unwrap_or(u8::MAX));
            }
            _ => {
                end_run(&mut run, run_after, &mut hidden);
                match c {
                    '\u{e0020}'..='\u{e007e}' => hidden
                        .tag_text
                        .push(char::from_u32(u32::from(c) - 0xe0000).unwrap_or('?')),
                    '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => hidden.reorderings += 1,
                    _ => {}
                }
            }
        }
        prev = Some(c);
    }
    end_run(&mut run, run_after, &mut hidden);
    hidden
}

/// What the strings of `value`, and the keys of its objects, hide (see [`hidden_in`]).
pub fn hidden_in_value(value: &serde_json::Value) -> Hidden {
    use serde_json::Value;
    let mut hidden = Hidden::default();
    // A stack of our own: a value may be nested as deep as the store keeps.
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::String(text) => hidden.add(hidden_in(text)),
            Value::Array(items) => stack.extend(items.iter().rev()),
            Value::Object(map) => {
                for (key, item) in map.iter().rev() {
                    hidden.add(hidden_in(key));
                    stack.push(item);
                }
            }
            _ => {}
        }
    }
    hidden
}

/// Whether `c` is hostile (see [`is_hostile`]), a zero-width joiner or a variation selector:
/// what a line of our own that quotes a name (an error, a warning) shows escaped, since in an
/// id or a path they only hide a difference. A flag's tags are escaped there too.
pub fn is_hidden_in_a_line(c: char) -> bool {
    is_hostile(c) || matches!(c, '\u{200c}' | '\u{200d}' | '\u{fe00}'..='\u{fe0f}')
}

/// What the bytes at the start of a text are, as far as a subdivision flag goes.
#[derive(Debug, PartialEq, Eq)]
pub enum Flag {
    /// No flag starts here.
    Not,
    /// A flag of this many bytes: the black flag (U+1F3F4), two to six tag letters or digits
    /// (U+E0030 to U+E0039, U+E0061 to U+E007A) and the cancel tag (U+E007F), as England's,
    /// Scotland's and Wales's are written.
    Is(usize),
    /// The bytes end inside what could still be a flag.
    Cut,
}

/// Whether `bytes` start with a subdivision flag (see [`Flag`]): its tag characters are the
/// only ones that pass [`is_hostile`]'s rule.
pub fn flag(bytes: &[u8]) -> Flag {
    // The black flag and at most six tags and the cancel tag, of four bytes each.
    const MOST: usize = 4 * 8;
    const BLACK_FLAG: &[u8] = "\u{1F3F4}".as_bytes();
    // Most text: no black flag here, as its first byte or the next ones tell.
    let head = bytes.len().min(BLACK_FLAG.len());
    if head == 0 || bytes[..head] != BLACK_FLAG[..head] {
        return Flag::Not;
    }
    if head < BLACK_FLAG.len() {
        return Flag::Cut;
    }
    let window = &bytes[..bytes.len().min(MOST)];
    // The characters at hand, and whether the bytes end inside one (more may come).
    let (text, ends_inside) = match std::str::from_utf8(window) {
        Ok(text) => (text, window.len() == bytes.len()),
        Err(e) => (
            std::str::from_utf8(&window[..e.valid_up_to()]).unwrap_or_default(),
            e.error_len().is_none() && window.len() == bytes.len(),
        ),
    };
    let mut tags = 0;
    for (at, c) in text.char_indices().skip(1) {
        match c {
            '\u{e007f}' if tags >= 2 => return Flag::Is(at + c.len_utf8()),
            '\u{e0030}'..='\u{e0039}' | '\u{e0061}'..='\u{e007a}' if tags < 6 => tags += 1,
            _ => return Flag::Not,
        }
    }
    // Every character at hand could be part of a flag: it is one only if the rest comes.
    if ends_inside { Flag::Cut } else { Flag::Not }
}

/// The length of the subdivision flag at the start of `text`, if one is (see [`Flag`]).
pub fn flag_len(text: &str) -> Option<usize> {
    match flag(text.as_bytes()) {
        Flag::Is(len) => Some(len),
        Flag::Not | Flag::Cut => None,
    }
}

/// Appends `c` as its escape, `\u001b`, the one JSON writes: what a hostile character (see
/// [`is_hostile`]) shows as. A character beyond U+FFFF is written as JSON writes it too, as its
/// two UTF-16 halves (U+E0041 as `\udb40\udc41`), so that an escape written into a JSON string
/// reads back as the same character.
pub fn push_escaped(out: &mut String, c: char) {
    use std::fmt::Write as _;
    let mut units = [0u16; 2];
    for unit in c.encode_utf16(&mut units) {
        let _ = write!(out, "\\u{unit:04x}");
    }
}

/// A number someone gave, to `digits` places at least and with every further digit it has:
/// `0.20`, `0.004` (which `{:.2}` read as `0.00`), `600.0`, `600.05`.
pub fn given(x: f64, digits: usize) -> String {
    let shown = fixed(x, digits);
    let exact = shown
        .replace(',', "")
        .parse::<f64>()
        .is_ok_and(|read| read.to_bits() == x.to_bits());
    if exact { shown } else { figure(x) }
}

/// A measure to `digits` places (`2.5`, `600.0`, `0.85`), thousands separated
/// (`426,853.9`), as [`figure`] says it past fifteen digits, where `{:.1}` writes all of them
/// (310 characters for `1e308`).
pub fn fixed(x: f64, digits: usize) -> String {
    if x.abs() >= 1e15 {
        figure(x)
    } else {
        separated(&format!("{x:.digits$}"))
    }
}

/// `x` to `digits` places beside the `mark` it is judged against: to one place more, rounded
/// away from the mark, when rounding would carry it onto the mark or past it, so that the
/// figure never contradicts the verdict (56.99 below a threshold of 57 reads 56.9, not 57).
pub fn fixed_beside(x: f64, digits: usize, mark: f64) -> String {
    let places = |digits: usize| 10f64.powi(i32::try_from(digits).unwrap_or(i32::MAX));
    let rounded = (x * places(digits)).round() / places(digits);
    if !x.is_finite() || x.partial_cmp(&mark) == rounded.partial_cmp(&mark) {
        return fixed(x, digits);
    }
    let finer = places(digits + 1);
    let away = if x < mark {
        (x * finer).floor()
    } else {
        (x * finer).ceil()
    };
    fixed(away / finer, digits + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_beside_its_mark_stays_on_its_side() {
        assert_eq!(fixed_beside(56.6, 0, 80.0), "57");
        assert_eq!(fixed_beside(79.96, 0, 80.0), "79.9");
        assert_eq!(fixed_beside(57.36, 0, 57.35), "57.4");
        assert_eq!(fixed_beside(80.0, 0, 80.0), "80");
        assert_eq!(fixed_beside(57.3, 0, 57.3), "57.3");
        assert_eq!(fixed_beside(0.929, 2, 0.93), "0.929");
        assert_eq!(fixed_beside(0.931, 2, 0.93), "0.931");
        assert_eq!(fixed_beside(0.94, 2, 0.93), "0.94");
    }

    #[test]
    fn collapses_and_cuts() {
        assert_eq!(one_line("a\n  b\tc", 10), "a b c");
        assert_eq!(one_line("abcdefghij", 5), "abcd…");
        assert_eq!(one_line("abc", usize::MAX), "abc");
        assert_eq!(one_line("abcde", 5), "abcde");
        assert_eq!(one_line("  ", 5), "");
    }

    #[test]
    fn reals_read_back_the_same_and_stay_short() {
        for x in [
            0.1,
            1e-300,
            1.5e300,
            -2.5,
            3.0,
            1e21,
            123_456.789,
            f64::MIN_POSITIVE,
        ] {
            let text = real(x);
            assert!(text.len() <= 24, "{text}");
            assert_eq!(
                text.parse::<f64>().unwrap().to_bits(),
                x.to_bits(),
                "{text}"
            );
        }
        assert_eq!(real(1e-300), "1e-300");
        assert_eq!(real(0.1), "0.1");
    }

    #[test]
    fn figures_keep_their_digits_and_never_run_to_hundreds() {
        for (x, said) in [
            (1.0, "1"),
            (1.5, "1.5"),
            (0.25, "0.25"),
            (30.0, "30"),
            (12_000.0, "12,000"),
            (-1_234.5, "-1,234.5"),
            (999_999_999_999_999.0, "999,999,999,999,999"),
            (1e308, "1e308"),
            (1.5e300, "1.5e300"),
            (1e-300, "1e-300"),
            (0.000_000_01, "0.00000001"),
            (f64::INFINITY, "inf"),
            (1.0 / 3.0, "0.333333333333333"),
            (0.1 + 0.2, "0.3"),
            (1.5e300 * 1.000_000_000_000_000_1, "1.5e300"),
            (123_456.789_012_345_67, "123,456.789012346"),
        ] {
            assert_eq!(figure(x), said);
        }
        // Whatever the number, a few dozen characters at most, and near what it is.
        for x in [f64::MAX, f64::MIN_POSITIVE, -f64::MAX, 1.0 / 7.0] {
            let text = figure(x);
            assert!(text.len() <= 25, "{text}");
            let read = text.replace(',', "").parse::<f64>().unwrap();
            assert!(((read - x) / x).abs() < 1e-14, "{text}");
        }
        assert_eq!(fixed(600.0, 1), "600.0");
        assert_eq!(fixed(2.54, 1), "2.5");
        assert_eq!(fixed(0.855, 2), "0.85");
        assert_eq!(fixed(1e308, 2), "1e308");
        assert_eq!(fixed(426_853.94, 1), "426,853.9");
        assert_eq!(fixed(-1_234.0, 0), "-1,234");
        assert_eq!(given(0.2, 2), "0.20");
        assert_eq!(given(0.004, 2), "0.004");
        assert_eq!(given(600.05, 1), "600.05");
        assert_eq!(given(12_000.0, 1), "12,000.0");
        assert_eq!(given(1e308, 1), "1e308");
    }

    #[test]
    fn counts_are_singular_for_one_and_separate_their_thousands() {
        assert_eq!(count(0, "session"), "0 sessions");
        assert_eq!(count(1, "session"), "1 session");
        assert_eq!(count(999, "session"), "999 sessions");
        assert_eq!(count(1_000, "session"), "1,000 sessions");
        assert_eq!(count_as(12_345, "retry", "retries"), "12,345 retries");
        assert_eq!(
            count(u64::MAX, "event"),
            "18,446,744,073,709,551,615 events"
        );
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
        assert_eq!(
            one_line("a\u{2060}b\u{e0041}", 20),
            "a\\u2060b\\udb40\\udc41"
        );
    }

    #[test]
    fn joiners_and_selectors_pass_only_where_they_draw() {
        // Drawn: an emoji's joiner, Persian's non-joiner, a selector after a glyph, a
        // keycap, a Mongolian letter's selector.
        for text in [
            "👩\u{200d}💻",
            "می\u{200c}خواهم",
            "❤\u{fe0f}",
            "1\u{fe0f}\u{20e3}",
            "ᠠ\u{180b}",
        ] {
            assert_eq!(one_line(text, 20), text);
        }
        // Hidden: a joiner in ASCII or at the start, a run of selectors, a selector after a
        // letter, a Mongolian selector after anything else.
        assert_eq!(one_line("r\u{200d}m", 20), "r\\u200dm");
        assert_eq!(one_line("\u{200c}rm", 20), "\\u200crm");
        assert_eq!(
            one_line("😀\u{fe0f}\u{fe01}\u{e0100}\u{fe02}", 40),
            "😀\u{fe0f}\\ufe01\\udb40\\udd00\\ufe02"
        );
        assert_eq!(one_line("a\u{fe0f}", 20), "a\\ufe0f");
        assert_eq!(one_line("x\u{180b}", 20), "x\\u180b");
    }

    #[test]
    fn hidden_text_is_read_back() {
        let tags: String = "ignore previous"
            .chars()
            .map(|c| char::from_u32(0xe0000 + u32::from(c)).unwrap())
            .collect();
        let scotland = "\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}";
        let hidden = hidden_in(&format!("fine {scotland} text{tags} end"));
        assert_eq!(hidden.tag_text, "ignore previous");
        // "hi" after an emoji, one selector a byte: 0x68 0x69 are U+E0158 U+E0159.
        let smuggled = hidden_in("😀\u{e0158}\u{e0159}");
        assert_eq!(smuggled.selector_bytes, b"hi");
        assert_eq!(hidden_in("😀\u{fe01}\u{fe02}").selector_bytes, [1, 2]);
        assert_eq!(hidden_in("report\u{202e}fdp.exe").reorderings, 1);
        // What draws hides nothing: a glyph's selector, a keycap, an ideograph's variant,
        // a flag, an emoji's joiner.
        for text in [
            "❤\u{fe0f}",
            "1\u{fe0f}\u{20e3}",
            "\u{845b}\u{e0100}",
            scotland,
            "👩\u{200d}💻",
        ] {
            assert_eq!(hidden_in(text), Hidden::default(), "{text}");
        }
        let value = serde_json::json!({"a": [format!("x{tags}")], format!("k\u{202e}"): 1});
        let hidden = hidden_in_value(&value);
        assert_eq!(
            (hidden.tag_text.as_str(), hidden.reorderings),
            ("ignore previous", 1)
        );
        assert_eq!(hidden.count(), 16);
    }

    #[test]
    fn a_flag_passes_whole_and_is_cut_whole() {
        let scotland = "\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}";
        assert_eq!(
            one_line(&format!("a {scotland} b"), 20),
            format!("a {scotland} b")
        );
        assert_eq!(one_line(&format!("ab{scotland}c"), 3), "ab…");
        assert_eq!(flag_len(scotland), Some(scotland.len()));
        assert_eq!(flag(&scotland.as_bytes()[..9]), Flag::Cut);
        assert_eq!(flag(&scotland.as_bytes()[..2]), Flag::Cut);
        assert_eq!(flag(b"\xf0\x9f\x98\x80"), Flag::Not);
        // Tags that spell more than a flag can are escaped, the black flag kept.
        let long =
            "\u{1F3F4}\u{E0069}\u{E0067}\u{E006E}\u{E006F}\u{E0072}\u{E0065}\u{E0020}\u{E007F}";
        let shown = one_line(long, 200);
        assert!(shown.starts_with("\u{1F3F4}\\udb40\\udc69"), "{shown}");
        assert!(!shown.chars().any(is_hostile), "{shown}");
    }
}
