//! Waits a user sets in milliseconds through the environment: how long a hook or a proxy gives
//! the collector, how long `record`'s relay waits for its recorder.

use std::ops::RangeInclusive;
use std::time::Duration;

/// The milliseconds the environment variable `name` gives, when they read as a whole number
/// within `allowed`; else `default`, which a value that does not read or is out of bounds
/// leaves in place.
pub(crate) fn millis_from_env(
    name: &str,
    allowed: RangeInclusive<u64>,
    default: Duration,
) -> Duration {
    std::env::var(name)
        .ok()
        .and_then(|ms| ms.trim().parse::<u64>().ok())
        .filter(|ms| allowed.contains(ms))
        .map_or(default, Duration::from_millis)
}
