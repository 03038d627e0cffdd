//! Cutting oversized payload fields so one huge tool output cannot bloat the store.

use serde_json::Value;

/// The most of any one payload field that is kept, as serialised JSON.
pub(crate) const FIELD_LIMIT: usize = 256 * 1024;

/// Returns the value unchanged when it serialises to at most [`FIELD_LIMIT`] bytes; otherwise
/// the first bytes of its JSON text as a string ending in a marker with the original size, and
/// that size.
pub(crate) fn limit(value: Value) -> (Value, Option<usize>) {
    // A string serialises to at most six bytes a byte (`\u00XX`) plus its quotes: short ones
    // need no measuring.
    if let Value::String(s) = &value
        && s.len() <= (FIELD_LIMIT - 2) / 6
    {
        return (value, None);
    }
    let size = serialized_len(&value);
    if size <= FIELD_LIMIT {
        return (value, None);
    }
    let text = match value {
        Value::String(s) => s,
        other => other.to_string(),
    };
    let mut cut = FIELD_LIMIT.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let kept = format!("{}{}", &text[..cut], cut_marker(size as u64));
    (Value::String(kept), Some(size))
}

/// What ends a cut value's kept start: an ellipsis and the value's size in all, in bytes of
/// JSON text. Everything that cuts a recorded value (this, a proxy's cut copy of a huge
/// message) ends it the same way.
pub(crate) fn cut_marker(size: u64) -> String {
    format!("… [cut by agent-strace: {size} bytes in all]")
}

fn serialized_len(value: &Value) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_values_are_kept_and_large_ones_cut_with_their_size() {
        let small = serde_json::json!({"stdout": "ok"});
        assert_eq!(limit(small.clone()), (small, None));
        let big = serde_json::json!({"stdout": "é".repeat(FIELD_LIMIT)});
        let (cut, size) = limit(big);
        let text = cut.as_str().unwrap();
        assert!(text.len() < FIELD_LIMIT + 100);
        assert!(text.ends_with(&format!("{} bytes in all]", size.unwrap())));
        assert_eq!(size, Some(FIELD_LIMIT * 2 + 13));
    }
}
