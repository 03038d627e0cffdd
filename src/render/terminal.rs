//! Terminal text: colour when wanted, durations, offsets and shortened text.

use std::fmt::Write as _;

/// Colours text when colour is on; returns it unchanged otherwise.
///
/// The colour is written with [`super::escape::mark`] where its ESC goes: only the writer of
/// [`super::escape`] (every command's stdout) turns it into an SGR sequence, so no ESC from a
/// session can pass for ours. Text painted here is for that writer, not for a file or stderr.
#[derive(Debug, Clone, Copy)]
pub struct Painter {
    colour: bool,
}

impl Painter {
    pub fn new(colour: bool) -> Self {
        Painter { colour }
    }

    /// Whether this painter colours.
    pub fn colours(self) -> bool {
        self.colour
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.colour {
            let mark = super::escape::mark();
            format!("{mark}[{code}m{text}{mark}[0m")
        } else {
            text.to_owned()
        }
    }

    pub fn red(self, text: &str) -> String {
        self.paint("31", text)
    }
    pub fn green(self, text: &str) -> String {
        self.paint("32", text)
    }
    pub fn yellow(self, text: &str) -> String {
        self.paint("33", text)
    }
    pub fn blue(self, text: &str) -> String {
        self.paint("34", text)
    }
    pub fn magenta(self, text: &str) -> String {
        self.paint("35", text)
    }
    pub fn cyan(self, text: &str) -> String {
        self.paint("36", text)
    }
    pub fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }
    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }

    /// An error count: red when some tool call failed, yellow when only API errors ended turns
    /// (the service failed, not the work, as a rejection is yellow), plain when there is none.
    pub fn errors(self, text: &str, tool_errors: u64, turn_errors: u64) -> String {
        if tool_errors > 0 {
            self.red(text)
        } else if turn_errors > 0 {
            self.yellow(text)
        } else {
            text.to_owned()
        }
    }
}

/// Moves to the start of the terminal's line and clears it: for a progress line on stderr,
/// written only when stderr is a terminal. Stderr has no escaping writer, so this and the
/// [`Painter`]'s colour are the only escape sequences agent-strace writes; the text after it
/// goes through [`super::escape::escape`].
pub const CLEAR_LINE: &str = "\r\x1b[2K";

/// An offset from the session's start: `+ 0.07s`, `+27.65s`, `+1m43.67s`, `+2h05m03s`; an
/// event stamped before the start is as far before it: `- 5.00s`, `-10m00.00s`. Clamped to
/// `+ 0.00s`, every event before the start was drawn at the start, out of its time order.
pub fn offset(secs: f64) -> String {
    // Negative zero (an empty float sum), or what rounds to zero, would print as "-0.00s".
    let (sign, secs) = if !secs.is_finite() {
        ('+', 0.0)
    } else if secs <= -0.005 {
        ('-', -secs)
    } else if secs > 0.0 {
        ('+', secs)
    } else {
        ('+', 0.0)
    };
    if secs < 60.0 {
        format!("{sign}{secs:>5.2}s")
    } else if secs < 3600.0 {
        let minutes = (secs / 60.0).floor();
        format!("{sign}{minutes:.0}m{:05.2}s", secs - minutes * 60.0)
    } else {
        let total = secs.round() as u64;
        format!(
            "{sign}{}h{:02}m{:02}s",
            total / 3600,
            total % 3600 / 60,
            total % 60
        )
    }
}

/// A duration in milliseconds, shown in the unit that reads best: `51ms`, `5.88s`, `1m 15s`.
pub fn duration_ms(ms: f64) -> String {
    let ms = if ms.is_finite() { ms.max(0.0) } else { 0.0 };
    if ms < 1000.0 {
        format!("{ms:.0}ms")
    } else if ms < 60_000.0 {
        format!("{:.2}s", ms / 1000.0)
    } else {
        duration_secs(ms / 1000.0)
    }
}

/// A duration in seconds: `4.20s`, `2m 05s`, `1h 02m`.
pub fn duration_secs(secs: f64) -> String {
    // Negative zero (an empty float sum) would print as "-0.00s".
    let secs = if secs.is_finite() && secs > 0.0 {
        secs
    } else {
        0.0
    };
    if secs < 60.0 {
        format!("{secs:.2}s")
    } else if secs < 3600.0 {
        let total = secs.round() as u64;
        format!("{}m {:02}s", total / 60, total % 60)
    } else {
        let total = secs.round() as u64;
        format!("{}h {:02}m", total / 3600, total % 3600 / 60)
    }
}

/// Dollars with enough digits for small sessions: `$0.0042`, `$12.35`.
pub use crate::model::usage::dollars;

/// A budget or ceiling someone gave, with the digits it needs: `$5.00`, `$0.0001`, `$0.00005`.
pub use crate::model::usage::dollars_given;

/// The mark after a cost that counts some model's usage at $0 for want of a price
/// (`$0.0000?`); [`unpriced_note`] says which.
pub const UNPRICED_MARK: char = '?';

/// What a view shows for a figure no session can have (see [`crate::model::meta::Believed`]):
/// its value would mislead and push the columns after it out of line.
pub const UNKNOWN: &str = "?";

/// `figure` as `show` draws it, or [`UNKNOWN`] when no session can have it.
pub fn believed<T>(
    figure: crate::model::meta::Believed<T>,
    show: impl FnOnce(T) -> String,
) -> String {
    figure.known().map_or_else(|| UNKNOWN.to_owned(), show)
}

/// [`dollars`], marked [`UNPRICED_MARK`] when the figure counts some model's usage at $0 for
/// want of a price: `$0.0000?`.
pub fn dollars_marked(usd: f64, unpriced: bool) -> String {
    if unpriced {
        format!("{}{UNPRICED_MARK}", dollars(usd))
    } else {
        dollars(usd)
    }
}

/// The mark before a cost estimated from payload sizes, where no usage was recorded
/// (`~$0.0001`).
pub const ESTIMATE_MARK: char = '~';

/// A session's cost as the views that set two side by side show it (`compare`, `diff`):
/// [`dollars_marked`], and marked [`ESTIMATE_MARK`] before it when it is an estimate, so that
/// an estimate never reads as a recorded cost.
pub fn cost_marked(usd: f64, unpriced: bool, estimated: bool) -> String {
    let usd = dollars_marked(usd, unpriced);
    if estimated {
        format!("{ESTIMATE_MARK}{usd}")
    } else {
        usd
    }
}

/// The footnote under figures marked [`UNPRICED_MARK`], naming the models; `None` for none.
pub fn unpriced_note<S: AsRef<str>>(models: &[S]) -> Option<String> {
    let names: Vec<&str> = models.iter().map(AsRef::as_ref).collect();
    match names.as_slice() {
        [] => None,
        [one] => Some(format!(
            "{UNPRICED_MARK} a model with no known price ({one}) is counted at $0"
        )),
        many => Some(format!(
            "{UNPRICED_MARK} models with no known price ({}) are counted at $0",
            many.join(", ")
        )),
    }
}

/// What makes a response's usage one no response can have, in the words every command says
/// it in (kept beside the rule, in `model::usage`).
pub use crate::model::usage::UNBELIEVED_USAGE;

/// The note under figures that leave out `n` responses whose usage could not be believed
/// ([`crate::model::view::unbelieved_usage`]); `None` for none.
pub fn unbelieved_usage_note(n: u64) -> Option<String> {
    (n > 0).then(|| {
        format!(
            "{} recorded usage no response can have ({UNBELIEVED_USAGE}): {} tokens are unknown, \
             and not among these.",
            count(n, "LLM response"),
            if n == 1 { "its" } else { "their" }
        )
    })
}

/// The footnote under a cost marked [`UNPRICED_MARK`] for `n` responses whose usage could not
/// be believed, which it counts at $0 (`list`, the share page); `None` for none.
pub fn unbelieved_cost_note(n: u64) -> Option<String> {
    (n > 0).then(|| {
        format!(
            "{UNPRICED_MARK} {} of unknown usage ({UNBELIEVED_USAGE}) counted at $0",
            count(n, "LLM response")
        )
    })
}

/// A count with thousands separated: `1,234,567`.
pub use crate::model::text::thousands;

/// A number and the noun it counts, singular for one: `1 tool call`, `2 tool calls`
/// ([`count_as`] for a noun whose plural is not an added `s`). In `model::text`, so that
/// analyses that word a sentence count alike.
pub use crate::model::text::{count, count_as};

/// The tail a count of files read and written takes for the files deleted and moved
/// (`, 2 deleted, 1 moved`): each named only when there were some, as most sessions make none.
pub fn removed_tail(deleted: u64, moved: u64) -> String {
    let mut tail = String::new();
    for (n, what) in [(deleted, "deleted"), (moved, "moved")] {
        if n > 0 {
            tail.push_str(", ");
            tail.push_str(&thousands(n));
            tail.push(' ');
            tail.push_str(what);
        }
    }
    tail
}

/// `m:ss`, or `h:mm:ss` past an hour.
pub fn clock(secs: f64) -> String {
    let total = if secs.is_finite() {
        secs.max(0.0).round() as u64
    } else {
        0
    };
    if total >= 3600 {
        format!(
            "{}:{:02}:{:02}",
            total / 3600,
            total % 3600 / 60,
            total % 60
        )
    } else {
        format!("{}:{:02}", total / 60, total % 60)
    }
}

/// A size in bytes, in kilobytes below a megabyte: `0.5 KB`, `3.4 KB`, `1.2 MB`, `2.0 GB`.
pub fn human_size(bytes: u64) -> String {
    const MB: f64 = 1024.0 * 1024.0;
    let b = bytes as f64;
    if b >= MB * 1024.0 {
        format!("{:.1} GB", b / MB / 1024.0)
    } else if b >= MB {
        format!("{:.1} MB", b / MB)
    } else {
        format!("{:.1} KB", b / 1024.0)
    }
}

/// The columns a character takes on a terminal: two for a wide one (CJK, most emoji), none
/// for a combining mark.
fn columns_of(ch: char) -> usize {
    unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0)
}

/// The columns each character adds as a text is read one character at a time, front to back
/// or back to front: as [`columns_of`], but an emoji joined to the one before it by U+200D
/// (👨‍👩‍👧) and a skin tone with its emoji (👍🏽) add none, so that a joined emoji counts the
/// two columns [`columns`] gives it and is never cut in two.
struct Reading {
    backwards: bool,
    previous: char,
}

impl Reading {
    const JOINER: char = '\u{200D}';

    fn new(backwards: bool) -> Self {
        Reading {
            backwards,
            previous: '\0',
        }
    }

    fn columns(&mut self, ch: char) -> usize {
        let tone = |c: char| ('\u{1F3FB}'..='\u{1F3FF}').contains(&c);
        let joined = ch == Self::JOINER
            || self.previous == Self::JOINER
            || if self.backwards {
                tone(self.previous)
            } else {
                tone(ch) && self.previous != '\0'
            };
        self.previous = ch;
        if joined { 0 } else { columns_of(ch) }
    }
}

/// The columns `text` takes on a terminal. Text from a session goes through [`one_line`]
/// first: a control character has no width of its own.
pub fn columns(text: &str) -> usize {
    // Whole, not character by character: an emoji sequence joined by U+200D (👨‍👩‍👧) or
    // with a skin tone takes the two columns of one emoji, not those of each it joins.
    unicode_width::UnicodeWidthStr::width(text)
}

/// Text on one line for a terminal: whitespace collapsed, cut to `max` columns with an
/// ellipsis ([`crate::model::text::one_line`] counts characters instead). A character that
/// would act on the terminal shows escaped (`\u001b`), as all output shows it
/// ([`super::escape`]), and is counted at the width it shows at.
pub fn one_line(text: &str, max: usize) -> String {
    let mut reading = Reading::new(false);
    crate::model::text::one_line_within(text, max, |ch| reading.columns(ch))
}

/// `text` and the spaces that make it `width` columns wide (none when it is wider): `format!`'s
/// own padding counts characters, and a wide character would push the next column out.
pub fn pad(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + width);
    out.push_str(text);
    out.extend(std::iter::repeat_n(
        ' ',
        width.saturating_sub(columns(text)),
    ));
    out
}

/// A table's cell: `text` on one line, cut to `width` columns and padded to them.
pub fn cell(text: &str, width: usize) -> String {
    pad(&one_line(text, width), width)
}

/// The width of a column holding `texts` as [`one_line`] shows them: the widest, within
/// `min..=max` columns.
pub fn column_width<'a>(texts: impl IntoIterator<Item = &'a str>, min: usize, max: usize) -> usize {
    texts
        .into_iter()
        .map(|text| columns(&one_line(text, max)))
        .max()
        .unwrap_or(min)
        .clamp(min, max)
}

/// The width of a column holding `paths` as [`path_tail`] shows them: the widest, within
/// `min..=max` columns. A path cut from the front can be a column wider than its start cut by
/// [`one_line`], when a wide character ends where the cut falls.
pub fn path_column_width<'a>(
    paths: impl IntoIterator<Item = &'a str>,
    min: usize,
    max: usize,
) -> usize {
    paths
        .into_iter()
        .map(|path| columns(&path_tail(path, max)))
        .max()
        .unwrap_or(min)
        .clamp(min, max)
}

/// A path on one line, cut from the front when wider than `max` columns
/// (`…/handlers/shared.ts`): its end names the file.
pub fn path_tail(path: &str, max: usize) -> String {
    let path = one_line(path, usize::MAX);
    if columns(&path) <= max {
        return path;
    }
    let mut tail = Vec::new();
    let mut used = 1;
    let mut reading = Reading::new(true);
    for ch in path.chars().rev() {
        let n = reading.columns(ch);
        if used + n > max {
            break;
        }
        tail.push(ch);
        used += n;
    }
    std::iter::once('…').chain(tail.into_iter().rev()).collect()
}

/// Prose without the markdown marks that make no sense in a one-line quote.
pub fn strip_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let line = line.trim_start();
        let line = line.trim_start_matches('#').trim_start();
        let line = line
            .strip_prefix("- ")
            .or_else(|| line.strip_prefix("* "))
            .unwrap_or(line);
        let _ = write!(
            out,
            "{} ",
            line.replace("**", "").replace("__", "").replace('`', "")
        );
    }
    out
}

/// Local date and time of a Unix timestamp: `2026-11-25 14:03`.
pub fn local_time(timestamp: f64) -> String {
    chrono::DateTime::from_timestamp(timestamp as i64, 0).map_or_else(
        || "-".to_owned(),
        |t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        },
    )
}

/// Local date of a Unix timestamp, as `--since` takes it: `2026-11-25`.
pub fn local_day(timestamp: f64) -> String {
    let time = local_time(timestamp);
    time.split_once(' ')
        .map_or(time.clone(), |(day, _)| day.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_the_rest_plural() {
        assert_eq!(count(1, "tool call"), "1 tool call");
        assert_eq!(count(0, "tool call"), "0 tool calls");
        assert_eq!(count(2, "subagent session"), "2 subagent sessions");
        assert_eq!(count_as(1, "retry", "retries"), "1 retry");
        assert_eq!(count_as(3, "retry", "retries"), "3 retries");
    }

    #[test]
    fn offsets_read_like_the_clock() {
        assert_eq!(offset(0.07), "+ 0.07s");
        assert_eq!(offset(27.65), "+27.65s");
        assert_eq!(offset(103.67), "+1m43.67s");
        assert_eq!(offset(7503.0), "+2h05m03s");
        assert_eq!(offset(-5.0), "- 5.00s");
        assert_eq!(offset(-600.0), "-10m00.00s");
        assert_eq!(offset(-0.0), "+ 0.00s");
    }

    #[test]
    fn durations_pick_their_unit() {
        assert_eq!(duration_ms(51.2), "51ms");
        assert_eq!(duration_ms(5880.0), "5.88s");
        assert_eq!(duration_ms(75_000.0), "1m 15s");
        assert_eq!(duration_secs(112.54), "1m 53s");
    }

    #[test]
    fn one_line_collapses_and_cuts() {
        assert_eq!(one_line("a\n  b\tc", 10), "a b c");
        assert_eq!(one_line("abcdefghij", 5), "abcd…");
        assert_eq!(
            strip_markdown("## Title\n- **bold** `code`"),
            "Title bold code "
        );
    }

    #[test]
    fn figures_read_well() {
        assert_eq!(dollars(0.00421), "$0.0042");
        assert_eq!(dollars(12.345), "$12.35");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(clock(65.4), "1:05");
        assert_eq!(clock(3725.0), "1:02:05");
        assert_eq!(human_size(512), "0.5 KB");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(5 * 1024 * 1024 * 1024), "5.0 GB");
    }

    #[test]
    fn long_paths_keep_their_end() {
        assert_eq!(path_tail("/a/b/c.rs", 20), "/a/b/c.rs");
        assert_eq!(path_tail("/very/long/path/to/file.rs", 12), "…/to/file.rs");
        assert_eq!(
            path_tail("/very/long/path/to/file.rs", 12).chars().count(),
            12
        );
        assert_eq!(path_tail("/home/用户/项目/代码", 10), "…项目/代码");
        // A wide character that does not fit leaves its column empty.
        assert_eq!(path_tail("/home/用户/项目/代码", 9), "…目/代码");
    }

    #[test]
    fn wide_characters_take_two_columns() {
        assert_eq!(columns("日本"), 4);
        assert_eq!(pad("日本", 6), "日本  ");
        assert_eq!(pad("abc", 2), "abc");
        assert_eq!(one_line("日本語のテキスト", 7), "日本語…");
        assert_eq!(columns("e\u{301}"), 1, "a combining mark takes none");
        assert_eq!(cell("日本語", 5), "日本…");
        assert_eq!(column_width(["ab", "日本語"], 4, 5), 5);
        assert_eq!(
            column_width(["ab", "\x1b[31m"], 1, 12),
            10,
            "an escape shows as its text"
        );
    }

    #[test]
    fn escapes_show_as_everything_else_shows_them() {
        assert_eq!(one_line("a\x1b[2Jb", 20), "a\\u001b[2Jb");
        assert_eq!(cell("x\u{202e}y", 9), "x\\u202ey ");
        assert_eq!(
            path_tail("/tmp/\x1b]0;t\x07", 40),
            "/tmp/\\u001b]0;t\\u0007"
        );
    }

    #[test]
    fn joined_emoji_take_two_columns_and_are_never_cut_in_two() {
        let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}";
        let thumb = "\u{1F44D}\u{1F3FD}";
        for text in [family, thumb] {
            let forwards: usize = {
                let mut reading = Reading::new(false);
                text.chars().map(|c| reading.columns(c)).sum()
            };
            let backwards: usize = {
                let mut reading = Reading::new(true);
                text.chars().rev().map(|c| reading.columns(c)).sum()
            };
            assert_eq!(
                (forwards, backwards),
                (columns(text), columns(text)),
                "{text}"
            );
            assert_eq!(one_line(&format!("{text}ab"), 4), format!("{text}ab"));
            assert_eq!(one_line(&format!("a{text}bc"), 4), format!("a{text}…"));
            assert_eq!(one_line(&format!("a{text}bc"), 3), "a…");
            assert_eq!(
                cell(&format!("{text}{text}{text}"), 5),
                format!("{text}{text}…")
            );
            assert_eq!(cell(&format!("{text}{text}"), 6), format!("{text}{text}  "));
            assert_eq!(path_tail(&format!("/x/{text}"), 4), format!("…/{text}"));
            assert_eq!(path_tail(&format!("/x/{text}y"), 3), "…y");
        }
    }

    #[test]
    fn painter_is_plain_without_colour() {
        assert_eq!(Painter::new(false).red("x"), "x");
        let mark = crate::render::escape::mark();
        assert_eq!(Painter::new(true).red("x"), format!("{mark}[31mx{mark}[0m"));
    }
}
