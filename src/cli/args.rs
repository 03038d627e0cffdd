//! Argument groups commands share, so a flag means one thing everywhere: how a session is
//! named, `--format`, and a time range (`--since` / `--until`).

use chrono::{NaiveDate, TimeDelta};
use clap::Args;

use super::globals::Format;
use crate::error::Error;
use crate::store::Selector;

/// One session, named by the positional argument.
#[derive(Debug, Clone, Args)]
pub(crate) struct SessionArg {
    /// Session id or unique prefix [default: the latest session]
    #[arg(value_parser = session_name)]
    session: Option<String>,
}

impl SessionArg {
    pub(crate) fn selector(&self) -> Selector {
        Selector::from_option(self.session.as_deref())
    }
}

/// One session, named by the positional argument or by `--session`, as the Python tool's
/// `standup` spells it.
#[derive(Debug, Clone, Args)]
pub(crate) struct SessionOrFlag {
    /// Session id or unique prefix [default: the latest session]
    #[arg(conflicts_with = "session_flag", value_parser = session_name)]
    session: Option<String>,
    /// The same, as a flag
    #[arg(long = "session", value_name = "ID", value_parser = session_name)]
    session_flag: Option<String>,
}

impl SessionOrFlag {
    pub(crate) fn selector(&self) -> Selector {
        Selector::from_option(self.session.as_deref().or(self.session_flag.as_deref()))
    }
}

/// A word a command looks for in names (`compare --tag`): an empty one would be in every name.
pub(crate) fn tag(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err("a tag is a word the sessions' agent name or command contains; an empty one is in every name".to_owned());
    }
    Ok(text.to_owned())
}

/// A session named on the command line: an id or a unique prefix of one. An empty name is
/// refused, by every command alike: it is most often a variable that was not set
/// (`replay "$ID"`), and would otherwise name the latest session, or every session at once.
pub(crate) fn session_name(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err(
            "an empty session id names no session: give an id or a unique prefix".to_owned(),
        );
    }
    Ok(text.to_owned())
}

/// A count that must be one or more (`sample --n`): zero would do nothing, silently.
pub(crate) fn at_least_one(text: &str) -> Result<usize, String> {
    match whole::<usize>(text) {
        Ok(0) => Err("0 would choose nothing: give 1 or more".to_owned()),
        Ok(n) => Ok(n),
        Err(_) => Err(not_whole(text, "1 or more")),
    }
}

/// A whole number of 0 or more (a count, a size, a seed), for a flag: clap's own reading
/// said Rust's words, "invalid digit found in string" for `-1` or `1.5`.
pub(crate) fn whole<T: TryFrom<u64>>(text: &str) -> Result<T, String> {
    text.trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| not_whole(text, "0 or more"))
}

/// A whole number of 1 or more (a size that cannot be empty, as a context window), with one
/// message for every other value: 0 and `nan` alike are told what is accepted.
pub(crate) fn positive<T: TryFrom<u64>>(text: &str) -> Result<T, String> {
    match whole::<u64>(text) {
        Ok(0) => Err("give a whole number, 1 or more".to_owned()),
        _ => whole::<T>(text).map_err(|_| not_whole(text, "1 or more")),
    }
}

/// Why `text` is no whole number of the range `wanted` names.
fn not_whole(text: &str, wanted: &str) -> String {
    let digits = text.trim();
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        format!(
            "too large: give a whole number up to {}",
            crate::model::text::thousands(u64::MAX)
        )
    } else {
        format!("give a whole number, {wanted}")
    }
}

/// `--format text|json`.
#[derive(Debug, Clone, Copy, Args)]
pub(crate) struct FormatArg {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
}

/// The forms of time every `--since` and `--until` takes, as [`instant`] reads them
/// ([`crate::model::when`]).
pub(crate) use crate::model::when::when_forms;

/// A period of time: `--since` and `--until`.
#[derive(Debug, Clone, Args)]
pub(crate) struct TimeRange {
    #[arg(long, value_name = "WHEN", help = concat!(
        "Start of the period, a session started at it included: ", when_forms!()
    ))]
    pub(crate) since: Option<String>,
    #[arg(long, value_name = "WHEN", help = concat!(
        "End of the period, a session started at it left out (a date: that day included): ",
        when_forms!()
    ))]
    pub(crate) until: Option<String>,
}

const DAY: f64 = 86_400.0;

impl TimeRange {
    /// The start, in seconds since the epoch, if one was given.
    pub(crate) fn since(&self, now: f64) -> Result<Option<f64>, Error> {
        self.since
            .as_deref()
            .map(|t| instant(t, "--since", now, false))
            .transpose()
    }

    /// The end (exclusive), in seconds since the epoch, if one was given: a date names its
    /// whole day.
    pub(crate) fn until(&self, now: f64) -> Result<Option<f64>, Error> {
        self.until
            .as_deref()
            .map(|t| instant(t, "--until", now, true))
            .transpose()
    }
}

/// The most characters of a time an error quotes.
const QUOTED_CHARS: usize = 80;

/// `text` as an instant: a local date (its midnight, or the next one when `end_of_day`), an
/// RFC 3339 time, or an age before `now` (`30m`, `12h`, `7d`, `2w`). Minutes and hours are
/// exact durations; days and weeks are local days, the time the clocks show `now` that many
/// dates back: across a clock change `7d` is 167 or 169 hours, as the by-day buckets cut days.
pub(crate) fn instant(text: &str, flag: &str, now: f64, end_of_day: bool) -> Result<f64, Error> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        // The day ends where the next one starts: 23 or 25 hours on a day the clocks change.
        let day = if end_of_day {
            date.succ_opt().unwrap_or(date)
        } else {
            date
        };
        return Ok(super::local_day::start_of(day));
    }
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(seconds_of(&time));
    }
    let age = text
        .strip_suffix(" ago")
        .unwrap_or(text)
        .trim()
        .replace(' ', "");
    let split = age.find(|c: char| !c.is_ascii_digit()).unwrap_or(age.len());
    let (number, unit) = age.split_at(split);
    // The length of the unit, and whether it counts local days rather than seconds.
    let unit_secs = match unit {
        "m" | "min" | "mins" | "minute" | "minutes" => Some((60.0, false)),
        "h" | "hour" | "hours" => Some((3600.0, false)),
        "d" | "day" | "days" => Some((DAY, true)),
        "w" | "week" | "weeks" => Some((7.0 * DAY, true)),
        _ => None,
    };
    // Quoted back cut: an MCP client's `since` of megabytes made an answer of megabytes.
    let shown = || crate::model::text::cut(text, QUOTED_CHARS);
    let Some((secs, in_days)) = unit_secs.filter(|_| !number.is_empty()) else {
        return Err(Error::usage(format!(
            "{flag} `{}` is neither a date like 2026-11-25, a time like 2026-11-25T10:00:00Z nor an age like 7d",
            shown()
        )));
    };
    // Digits only: a number too long for a u64 is an age too, and far too long.
    let ago = number
        .parse::<u64>()
        .map_or(f64::INFINITY, |n| n as f64 * secs);
    if ago == 0.0 {
        // Now: nothing starts after it, so a window from it is always empty; every command
        // refuses it alike rather than report "no sessions".
        return Err(Error::usage(format!(
            "{flag} `{}` is no time ago: give an age of 1m or more, or a date",
            shown()
        )));
    }
    if ago > now {
        return Err(Error::usage(format!(
            "{flag} `{}` is too far back (before 1970): give a smaller age, or a date",
            shown()
        )));
    }
    if in_days {
        // At most 1970's distance in days, checked above: a TimeDelta holds it.
        let days = (ago / DAY).round() as i64;
        return Ok(super::local_day::shift(now, TimeDelta::days(-days)));
    }
    Ok(now - ago)
}

/// The seconds since the epoch of `time`, to the nanosecond it gives, as the same decimal
/// number in an event's line reads: an event stamped with the very instant `--since` names is
/// at it, not before. Its milliseconds alone put `--since …T10:00:00.0004Z` after an event at
/// `10:00:00.0002`.
fn seconds_of(time: &chrono::DateTime<chrono::FixedOffset>) -> f64 {
    let nanos =
        i128::from(time.timestamp()) * 1_000_000_000 + i128::from(time.timestamp_subsec_nanos());
    let sign = if nanos < 0 { "-" } else { "" };
    let nanos = nanos.unsigned_abs();
    format!(
        "{sign}{}.{:09}",
        nanos / 1_000_000_000,
        nanos % 1_000_000_000
    )
    .parse()
    .unwrap_or(f64::NAN)
}

#[cfg(test)]
#[expect(clippy::float_cmp, reason = "whole seconds, exactly representable")]
mod tests {
    use super::*;

    #[test]
    fn ages_count_back_from_now() {
        let now = 1_800_000_000.0;
        assert_eq!(
            instant("12h", "--since", now, false).unwrap(),
            now - 43_200.0
        );
        assert_eq!(instant("30m", "--since", now, false).unwrap(), now - 1800.0);
        // Days and weeks are local dates back, at the time the clocks show now: 90 days back
        // from January reaches before the clocks went back in most zones that change them.
        let shown = |ts: f64| {
            chrono::DateTime::from_timestamp(ts as i64, 0)
                .unwrap()
                .with_timezone(&chrono::Local)
                .naive_local()
        };
        for (age, days) in [("7d", 7), ("90 days ago", 90), ("2w", 14)] {
            let at = instant(age, "--since", now, false).unwrap();
            assert_eq!(shown(at), shown(now) - TimeDelta::days(days), "{age}");
            assert!((now - at - days as f64 * DAY).abs() <= 3600.0, "{age}");
        }
    }

    #[test]
    fn dates_name_their_day() {
        let start = instant("2026-11-25", "--since", 0.0, false).unwrap();
        let end = instant("2026-11-25", "--until", 0.0, true).unwrap();
        assert!(
            (end - start - DAY).abs() <= 3600.0,
            "a day, give or take DST"
        );
        assert_eq!(
            instant("2026-11-25T10:00:00Z", "--since", 0.0, false).unwrap(),
            1_795_600_800.0
        );
    }

    /// A time given to the microsecond is the instant an event's line names with the same
    /// digits, exactly; its milliseconds alone were not.
    #[test]
    fn a_time_is_read_to_the_nanosecond_as_a_line_reads_it() {
        for (text, line) in [
            ("2026-11-25T10:00:00.000456Z", "1795600800.000456"),
            ("2026-11-25T10:00:00.123456789Z", "1795600800.123456789"),
            ("2026-11-25T11:00:00.5+01:00", "1795600800.5"),
            ("1969-12-31T23:59:59.25Z", "-0.75"),
        ] {
            let at = instant(text, "--since", 0.0, false).unwrap();
            assert_eq!(at, line.parse::<f64>().unwrap(), "{text}");
        }
    }

    #[test]
    fn nonsense_is_a_usage_error() {
        let err = instant("yesterday-ish", "--since", 0.0, false).unwrap_err();
        assert!(err.to_string().contains("--since `yesterday-ish`"), "{err}");
        assert!(instant("7y", "--since", 0.0, false).is_err());
        assert!(instant("d", "--since", 0.0, false).is_err());
    }

    #[test]
    fn a_zero_age_and_one_before_1970_are_refused() {
        let now = 1_800_000_000.0;
        for zero in ["0d", "0h", "0m", "0 days ago", "00w"] {
            let err = instant(zero, "--since", now, false).unwrap_err();
            assert!(err.to_string().contains("is no time ago"), "{err}");
        }
        for far in ["99999999999d", "99999999999999999999999d", "30000w"] {
            let err = instant(far, "--since", now, false).unwrap_err();
            assert!(err.to_string().contains("too far back"), "{err}");
        }
        assert!(instant("20000d", "--since", now, false).is_ok());
    }
}
