//! Token counts in attributes, read alike for every sender: a whole number however it was sent
//! (an int, a whole double, a string of digits, as Claude Code's log events send them), and a
//! usage that holds any other kept as it came, unknown.
//!
//! An impossible count (negative, fractional, not finite, not a number, beyond what a response
//! holds) is never turned into a believable one: the usage is written with the count as sent,
//! and every reader of the store judges it unknown ([`crate::model::usage::ApiUsage`]), so
//! `cost` and `list` say the usage is unknown rather than price a zero.

use serde_json::{Map, Value};

use super::telemetry::Attributes;
use crate::model::Tokens;
use crate::model::usage::token_count;

/// A response's usage as a sender told it.
#[derive(Debug, Clone, PartialEq)]
pub enum Usage {
    /// Counts a response can have.
    Counted(Tokens),
    /// A count in it is none a response can have: the usage object under the API's names,
    /// with the counts as they were sent.
    Unknown(Value),
}

impl Default for Usage {
    fn default() -> Self {
        Usage::Counted(Tokens::default())
    }
}

impl Usage {
    /// Whether it tells of no token: known counts of none.
    pub fn is_zero(&self) -> bool {
        matches!(self, Usage::Counted(t) if t.is_zero())
    }

    /// As the `usage` object of an `llm_response`.
    pub fn to_usage(&self) -> Value {
        match self {
            Usage::Counted(t) => t.to_usage(),
            Usage::Unknown(sent) => sent.clone(),
        }
    }
}

/// The count under `key`: `Ok(None)` when there is none, `Err` with the value as sent when it
/// is no count a response can have ([`token_count`] judges a number).
pub fn count(attrs: &Attributes, key: &str) -> Result<Option<u64>, Value> {
    match attrs.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse::<u64>()
            .map(Some)
            .map_err(|_| s.clone().into()),
        Some(n @ Value::Number(_)) => token_count(n).map(Some).ok_or_else(|| n.clone()),
        Some(other) => Err(other.clone()),
    }
}

/// The counts under `keys` (an attribute and the usage object's name for it), absent ones 0;
/// `Err` with the usage object as sent when one is no count.
pub fn counts<const N: usize>(
    attrs: &Attributes,
    keys: [(&str, &str); N],
) -> Result<[u64; N], Value> {
    let mut out = [0; N];
    let mut sent = Map::new();
    let mut known = true;
    for ((key, name), slot) in keys.iter().zip(&mut out) {
        match count(attrs, key) {
            Ok(n) => {
                *slot = n.unwrap_or(0);
                if let Some(n) = n {
                    sent.insert((*name).to_owned(), n.into());
                }
            }
            Err(value) => {
                known = false;
                sent.insert((*name).to_owned(), value);
            }
        }
    }
    if known {
        Ok(out)
    } else {
        Err(Value::Object(sent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::usage::ApiUsage;
    use serde::Deserialize;

    fn attrs(pairs: &[(&str, Value)]) -> Attributes {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn a_count_is_a_whole_number_however_it_was_sent() {
        let a = attrs(&[
            ("int", 123.into()),
            ("text", " 123 ".into()),
            ("whole", 123.0.into()),
            ("max", i64::MAX.into()),
        ]);
        assert_eq!(count(&a, "int"), Ok(Some(123)));
        assert_eq!(count(&a, "text"), Ok(Some(123)));
        assert_eq!(count(&a, "whole"), Ok(Some(123)));
        assert_eq!(count(&a, "none"), Ok(None));
        // Beyond what a response holds, kept as it came (no trip through a double).
        assert_eq!(count(&a, "max"), Err(i64::MAX.into()));
    }

    #[test]
    fn a_usage_with_an_impossible_count_is_kept_as_sent_and_read_as_unknown() {
        for bad in [
            Value::from(-5),
            Value::from(1.5),
            Value::from("NaN"),
            Value::from("-Infinity"),
            Value::from("12 tokens"),
            Value::Bool(true),
            Value::from(i64::MAX),
        ] {
            let a = attrs(&[("in", bad.clone()), ("out", 7.into())]);
            let sent = counts(&a, [("in", "input_tokens"), ("out", "output_tokens")]).unwrap_err();
            assert_eq!(sent["input_tokens"], bad);
            assert_eq!(
                ApiUsage::deserialize(&sent).unwrap(),
                ApiUsage(None),
                "{bad}"
            );
        }
        let a = attrs(&[("in", "120".into())]);
        assert_eq!(
            counts(&a, [("in", "input_tokens"), ("out", "output_tokens")]),
            Ok([120, 0])
        );
    }
}
