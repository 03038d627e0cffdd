//! Local days as the zone's rules cut each date: a day the clocks change is 23 or 25 hours, so
//! a day's end is the next day's start, never its start plus 86,400 s.

use chrono::{Local, NaiveDate, NaiveDateTime, TimeZone};

/// The first instant of the local `date`, in seconds since the epoch: its midnight, or where a
/// clock change skips midnight (a zone that springs forward at 00:00), the first minute the
/// clocks show that day.
pub(crate) fn start_of(date: NaiveDate) -> f64 {
    at_local(date.and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// The instant the clocks show `wall`: the earlier of two when they show it twice (the hour
/// a fall-back repeats), and when a spring-forward skips it, the first minute after it they
/// show.
fn at_local(wall: NaiveDateTime) -> f64 {
    // A gap is at most a day long (Samoa skipped 2011-12-30 whole): a minute at a time finds
    // its end.
    for minutes in 0..=24 * 60 {
        let t = wall + chrono::Duration::minutes(minutes);
        if let Some(local) = Local.from_local_datetime(&t).earliest() {
            return local.timestamp() as f64;
        }
    }
    wall.and_utc().timestamp() as f64
}
