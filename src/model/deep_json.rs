//! JSON from outside read to the depth its writers nest it, on a stack that grows as the
//! parser goes down, and refused past [`MAX_NESTING`] levels before it is parsed that deep.
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
    match serde_json::from_slice(text) {
        Ok(value) => within_cap(text).map(|()| value),
        Err(plain) => again(plain, text, || {
            read(
                serde_json::Deserializer::from_slice(text),
                text,
                PhantomData,
            )
        }),
    }
}

/// Reads `text` as one `T`, nested at most [`MAX_NESTING`] levels. Text known to be UTF-8 is
/// not checked again string by string, as a slice's is (an importer's line, checked once).
pub fn from_str<'de, T: Deserialize<'de>>(text: &'de str) -> serde_json::Result<T> {
    match serde_json::from_str(text) {
        Ok(value) => within_cap(text.as_bytes()).map(|()| value),
        Err(plain) => again(plain, text.as_bytes(), || {
            read(
                serde_json::Deserializer::from_str(text),
                text.as_bytes(),
                PhantomData,
            )
        }),
    }
}

/// serde_json skips what a reader does not keep (a head's `data`, a raw part) to any depth, so
/// a document it read may still nest past the cap; it is refused as every reader refuses it,
/// lest a light reader take a line a full one drops. Text shorter than the cap, or with fewer
/// brackets, cannot nest so deep: the brackets are counted first, as a plain count of bytes
/// the compiler makes fast, since nearly every line an importer reads has few, and following
/// its strings byte by byte made `import --all` a fifth slower.
fn within_cap(text: &[u8]) -> serde_json::Result<()> {
    if text.len() > MAX_NESTING
        && brackets(text) > MAX_NESTING
        && nests_deeper_than(text, MAX_NESTING)
    {
        return Err(too_deep());
    }
    Ok(())
}

fn too_deep() -> serde_json::Error {
    serde_json::Error::custom(format!("nested deeper than {MAX_NESTING} levels"))
}

/// What serde_json's own reader refused, read again past its 128 levels when the text may
/// nest past them. An ordinary document is read once as it always was (an importer reads
/// hundreds of MB of them), and the result is the same as reading every one deep: within 128
/// levels both readers are one, and past the cap both refuse ([`within_cap`]).
fn again<T>(
    plain: serde_json::Error,
    text: &[u8],
    deep: impl FnOnce() -> serde_json::Result<T>,
) -> serde_json::Result<T> {
    if brackets(text) <= PLAIN_BRACKETS {
        return Err(plain);
    }
    deep()
}

/// Reads `text` as one document with `seed`, nested at most [`MAX_NESTING`] levels.
pub fn from_slice_seed<'de, S: DeserializeSeed<'de>>(
    text: &'de [u8],
    seed: S,
) -> serde_json::Result<S::Value> {
    read(serde_json::Deserializer::from_slice(text), text, seed)
}

/// Reads the one document of `reader`, whose whole text is `text`.
fn read<'de, R: serde_json::de::Read<'de>, S: DeserializeSeed<'de>>(
    mut reader: serde_json::Deserializer<R>,
    text: &[u8],
    seed: S,
) -> serde_json::Result<S::Value> {
    let value = if brackets(text) <= PLAIN_BRACKETS {
        seed.deserialize(&mut reader)?
    } else {
        if nests_deeper_than(text, MAX_NESTING) {
            return Err(too_deep());
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
    fn text_reads_as_its_bytes_do() {
        for levels in [1, 129, MAX_NESTING - 1] {
            let text = format!(r#"{{"a":{}"b"{}}}"#, "[".repeat(levels), "]".repeat(levels));
            let from_text: Value = from_str(&text).unwrap();
            assert_eq!(from_text, from_slice::<Value>(text.as_bytes()).unwrap());
        }
        let deeper = nested(MAX_NESTING + 1);
        let refused = from_str::<Value>(&deeper).unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("nested deeper than 2000 levels")
        );
        let borrowed: &str = from_str(r#""plain""#).unwrap();
        assert_eq!(borrowed, "plain");
    }

    #[test]
    fn brackets_in_strings_leave_a_shallow_document_plain() {
        let text = format!(r#"{{"a":"{}","b":[1]}}"#, "[".repeat(MAX_NESTING * 2));
        let value: Value = from_slice(text.as_bytes()).unwrap();
        assert_eq!(value["b"][0], 1);
        assert!(from_slice::<Value>(b"[1] x").is_err());
        assert!(from_slice::<Value>(format!("{} x", nested(200)).as_bytes()).is_err());
    }

    #[test]
    fn parts_skipped_past_the_cap_are_refused_as_parts_read() {
        #[derive(Deserialize)]
        struct Head {
            a: u8,
        }
        let with = |levels: usize| format!(r#"{{"a":1,"b":{}}}"#, nested(levels));
        let read: Head = from_slice(with(MAX_NESTING - 1).as_bytes()).unwrap();
        assert_eq!(read.a, 1);
        let read: Head = from_str(&with(MAX_NESTING - 1)).unwrap();
        assert_eq!(read.a, 1);
        for refused in [
            from_slice::<Head>(with(MAX_NESTING).as_bytes()).err(),
            from_str::<Head>(&with(MAX_NESTING)).err(),
            from_slice::<serde::de::IgnoredAny>(nested(MAX_NESTING + 1).as_bytes()).err(),
        ] {
            let refused = refused.expect("refused");
            assert!(
                refused
                    .to_string()
                    .contains("nested deeper than 2000 levels")
            );
        }
    }

    #[test]
    fn a_refused_document_is_refused_for_what_is_wrong_with_it() {
        let within = format!("[{}, x]", nested(110));
        assert_eq!(
            from_slice::<Value>(within.as_bytes())
                .unwrap_err()
                .to_string(),
            serde_json::from_str::<Value>(&within)
                .unwrap_err()
                .to_string()
        );
        let deep = format!("{}x{}", "[".repeat(300), "]".repeat(300));
        for refused in [
            from_slice::<Value>(deep.as_bytes()).unwrap_err(),
            from_str::<Value>(&deep).unwrap_err(),
        ] {
            assert!(
                refused.to_string().starts_with("expected value"),
                "{refused}"
            );
        }
    }
}
