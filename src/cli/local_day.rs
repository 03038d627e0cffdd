//! Local days as the zone's rules cut each date: a day the clocks change is 23 or 25 hours, so
//! a day's end is the next day's start, never its start plus 86,400 s.

use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, TimeDelta, TimeZone};

/// The first instant of the local `date`, in seconds since the epoch: its midnight, or where a
/// clock change skips midnight (a zone that springs forward at 00:00), the first minute the
/// clocks show that day.
pub(crate) fn start_of(date: NaiveDate) -> f64 {
    at_local(midnight(date)) as f64
}

/// The local date `ts` falls on.
pub(crate) fn date_of(ts: f64) -> NaiveDate {
    DateTime::from_timestamp(ts.floor() as i64, 0)
        .unwrap_or_default()
        .with_timezone(&Local)
        .date_naive()
}

/// Whether `ts` is the first instant of its local day.
pub(crate) fn is_day_start(ts: f64) -> bool {
    ts.fract() == 0.0 && at_local(midnight(date_of(ts))) == ts as i64
}

fn midnight(date: NaiveDate) -> NaiveDateTime {
    date.and_hms_opt(0, 0, 0).unwrap_or_default()
}

/// The instant the clocks show `by` later than they show at `ts` (earlier when negative): a
/// week back from a midnight is the midnight seven dates before, however many hours the clock
/// changes between them add or take away.
pub(crate) fn shift(ts: f64, by: TimeDelta) -> f64 {
    let whole = ts.floor();
    match wall(whole).and_then(|w| w.checked_add_signed(by)) {
        Some(moved) => at_local(moved) as f64 + (ts - whole),
        None => ts + by.as_seconds_f64(),
    }
}

/// How much later the clocks show at `to` than at `from`: whole days between two midnights.
pub(crate) fn wall_between(from: f64, to: f64) -> TimeDelta {
    match (wall(from.floor()), wall(to.floor())) {
        (Some(a), Some(b)) => b - a,
        _ => TimeDelta::seconds((to - from) as i64),
    }
}

/// What the clocks show at the whole second `ts`.
fn wall(ts: f64) -> Option<NaiveDateTime> {
    DateTime::from_timestamp(ts as i64, 0).map(|t| t.with_timezone(&Local).naive_local())
}

/// The instant the clocks show `wall`: the earlier of two when they show it twice (the hour
/// a fall-back repeats), and when a spring-forward skips it, the first minute after it they
/// show.
fn at_local(wall: NaiveDateTime) -> i64 {
    // A gap is at most a day long (Samoa skipped 2011-12-30 whole): a minute at a time finds
    // its end.
    for minutes in 0..=24 * 60 {
        let t = wall + chrono::Duration::minutes(minutes);
        if let Some(local) = Local.from_local_datetime(&t).earliest() {
            return local.timestamp();
        }
    }
    wall.and_utc().timestamp()
}
