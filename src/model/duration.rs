//! Durations as people write them on a command line or in a rules file: `30s`, `5m`, `2h`,
//! `1h30m`, `1d`, `1.5h`, `500ms`, or a bare number of seconds.

/// Why a duration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a duration: {why} (write it as 30s, 5m, 2h or 1h30m)")]
pub struct DurationError {
    pub text: String,
    pub why: &'static str,
}

const UNITS: [(&str, f64); 5] = [
    ("d", 86_400.0),
    ("h", 3_600.0),
    ("ms", 0.001),
    ("m", 60.0),
    ("s", 1.0),
];

/// The order units come in, largest first: `ms` is looked for before `m`, but is the smallest.
fn rank(unit: &str) -> usize {
    match unit {
        "d" => 0,
        "h" => 1,
        "m" => 2,
        "s" => 3,
        _ => 4,
    }
}

/// Reads a duration into seconds. Units are `d`, `h`, `m`, `s` and `ms`, each at most once and
/// in that order; a bare number is seconds. Zero and negative durations are refused: a ceiling of
/// nothing is a mistake, not a wish.
pub fn parse_seconds(text: &str) -> Result<f64, DurationError> {
    let fail = |why| DurationError {
        text: text.to_owned(),
        why,
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(fail("it is empty"));
    }
    if let Ok(seconds) = trimmed.parse::<f64>() {
        return if seconds.is_finite() && seconds > 0.0 {
            Ok(seconds)
        } else {
            Err(fail("it must be more than zero"))
        };
    }
    let mut total = 0.0;
    let mut next_unit = 0;
    let mut rest = trimmed;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| fail("a number needs a unit after it"))?;
        if digits == 0 {
            return Err(fail("each unit needs a number before it"));
        }
        let number: f64 = rest[..digits]
            .parse()
            .map_err(|_| fail("a number in it cannot be read"))?;
        let Some(&(unit, scale)) = UNITS.iter().find(|(u, _)| rest[digits..].starts_with(u)) else {
            return Err(fail("the units are d, h, m, s and ms"));
        };
        if rank(unit) < next_unit {
            return Err(fail("each unit comes once, largest first"));
        }
        next_unit = rank(unit) + 1;
        total += number * scale;
        rest = rest[digits + unit.len()..].trim_start();
    }
    if total.is_finite() && total > 0.0 {
        Ok(total)
    } else {
        Err(fail("it must be more than zero"))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_seconds;

    #[test]
    fn reads_what_people_write() {
        for (text, seconds) in [
            ("30s", 30.0),
            ("5m", 300.0),
            ("2h", 7_200.0),
            ("1h30m", 5_400.0),
            ("1h 30m", 5_400.0),
            ("1d", 86_400.0),
            ("1.5h", 5_400.0),
            ("90", 90.0),
            ("2m30s", 150.0),
            ("500ms", 0.5),
            ("1s500ms", 1.5),
        ] {
            assert_eq!(parse_seconds(text), Ok(seconds), "{text}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_duration() {
        for text in [
            "", "0", "-5", "5x", "m", "30m1h", "5mm", "1h30", "abc", "nan", "0s", "5ms1s", "0ms",
            "5msms",
        ] {
            assert!(parse_seconds(text).is_err(), "{text}");
        }
    }
}
