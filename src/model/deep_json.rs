//! JSON from outside read to the depth its writers nest it, on a stack that grows as the
//! parser goes down, and refused past [`MAX_NESTING`] levels before it is parsed.
//!
//! serde_json stops at 128 levels to guard its stack, but the Python tool writes (and reads)
//! events nested up to its own recursion limit of about 1,000, and agents send hook payloads
//! nested as deep as their tools' arguments go: a line or payload past 128 was dropped as
//! malformed, and a call a policy denies ran unjudged. adr/0006 says why these crates.

use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Error as _};

/// The deepest JSON read: twice what the Python tool writes, and shallow enough that the
/// readers that walk, print and drop a value recursively stay within a thread's stack (a debug
/// build's `audit`, `replay`, `list` and `sql` ran at 5,000 levels and overflowed at 10,000).
pub const MAX_NESTING: usize = 2_000;

/// Text with at most this many brackets nests within serde_json's own limit, so it needs
/// neither the count of its depth nor the growing stack.
const PLAIN_BRACKETS: usize = 100;

/// Reads `text` as one `T`, nested at most [`MAX_NESTING`] levels.
pub fn from_slice<'de, T: Deserialize<'de>>(text: &'de [u8]) -> serde_json::Result<T> {
    from_slice_seed(text, PhantomData)
}

/// Reads `text` as one document with `seed`, nested at most [`MAX_NESTING`] levels.
pub fn from_slice_seed<'de, S: DeserializeSeed<'de>>(
    text: &'de [u8],
    seed: S,
) -> serde_json::Result<S::Value> {
    let mut reader = serde_json::Deserializer::from_slice(text);
    let value = if brackets(text) <= PLAIN_BRACKETS {
        seed.deserialize(&mut reader)?
    } else {
        if nests_deeper_than(text, MAX_NESTING) {
            return Err(serde_json::Error::custom(format!(
                "nested deeper than {MAX_NESTING} levels"
            )));
        }
        reader.disable_recursion_limit();
        seed.deserialize(serde_stacker::Deserializer::new(&mut reader))?
    };
    reader.end()?;
    Ok(value)
}

fn brackets(text: &[u8]) -> usize {
    text.iter().filter(|&&b| b == b'[' || b == b'{').count()
}

/// Whether an array or object in `text` opens more than `most` levels deep, brackets in
/// strings not counted. Stops at the first that does, so a hostile line costs no more than
/// reading up to it.
pub fn nests_deeper_than(text: &[u8], most: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in text {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > most {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn nested(levels: usize) -> String {
        format!("{}{}", "[".repeat(levels), "]".repeat(levels))
    }

    #[test]
    fn depth_is_counted_outside_strings() {
        assert!(!nests_deeper_than(br#"{"a":[1,{"b":"[[[{{"}]}"#, 3));
        assert!(nests_deeper_than(br#"{"a":[1,{"b":[]}]}"#, 3));
        assert!(!nests_deeper_than(br#"{"a":"\"[[[[","b":[]}"#, 2));
        assert!(nests_deeper_than(br#"{"a":"\\","b":[[]]}"#, 2));
        assert!(!nests_deeper_than(&nested(5).into_bytes(), 5));
        assert!(nests_deeper_than(&nested(6).into_bytes(), 5));
    }

    #[test]
    fn deep_documents_read_up_to_the_cap() {
        for levels in [1, 127, 128, 129, 1_000, MAX_NESTING] {
            let value: Value = from_slice(nested(levels).as_bytes()).unwrap();
            let mut depth = 0;
            let mut at = &value;
            while let Value::Array(items) = at {
                depth += 1;
                match items.first() {
                    Some(next) => at = next,
                    None => break,
                }
            }
            assert_eq!(depth, levels);
        }
        let refused = from_slice::<Value>(nested(MAX_NESTING + 1).as_bytes()).unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("nested deeper than 2000 levels")
        );
    }

    #[test]
    fn brackets_in_strings_leave_a_shallow_document_plain() {
        let text = format!(r#"{{"a":"{}","b":[1]}}"#, "[".repeat(MAX_NESTING * 2));
        let value: Value = from_slice(text.as_bytes()).unwrap();
        assert_eq!(value["b"][0], 1);
        assert!(from_slice::<Value>(b"[1] x").is_err());
        assert!(from_slice::<Value>(format!("{} x", nested(200)).as_bytes()).is_err());
    }
}
