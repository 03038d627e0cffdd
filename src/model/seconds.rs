//! Seconds as reports give them: to the millisecond, the precision timestamps carry.

/// `secs` to the millisecond: more digits are float noise (`5.634000062942505` for 5.634 s).
pub fn to_millis(secs: f64) -> f64 {
    (secs * 1000.0).round() / 1000.0
}

/// Serializes seconds [`to_millis`]; for `#[serde(serialize_with = "...")]` on a report's
/// field, so that JSON gives them as `list` does.
pub fn serialize<S: serde::Serializer>(secs: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(to_millis(*secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_keep_the_milliseconds_and_drop_the_noise() {
        // As JSON writes them: the shortest digits that read back as the same number.
        assert_eq!(to_millis(5.634_000_062_942_505).to_string(), "5.634");
        assert_eq!(to_millis(-600.0).to_string(), "-600");
        assert_eq!(to_millis(0.0004).to_string(), "0");
    }
}
