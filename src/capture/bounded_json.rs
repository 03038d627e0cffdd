//! Reading JSON from an agent with a bound on the values it makes, so that a hostile or
//! runaway payload cannot make the tracer take gigabytes.
//!
//! A JSON value of two bytes (`[]`, `0,`) becomes a `Value` of 32 bytes and more, and a
//! payload is copied while it is recorded: a 24 MB array of empty arrays took a hook 1.7 GB.
//! Text costs what it weighs, so strings and numbers are always kept; what is bounded is the
//! number of array items and object entries. Past the bound the rest of every array and object
//! is skipped (read, never kept) and counted, except the payload's own top-level fields, which
//! say what the payload is (its session, event and tool ids) and are always kept. No event
//! could hold what is left out anyway: an event is cut to 1 MiB (`capture::limit`). It nests
//! as deep as [`deep_json`] reads.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::model::deep_json;

/// The most array items and object entries a payload keeps: far more than an event can hold
/// (a 1 MiB event has room for half a million values at most), and a few tens of MB at worst.
pub(crate) const PAYLOAD_VALUES: usize = 1 << 18;

/// A JSON document read within a bound.
#[derive(Debug)]
pub(crate) struct Bounded {
    pub value: Value,
    /// How many array items and object entries were skipped, nested ones not counted.
    pub left_out: u64,
}

/// Reads `bytes` as one JSON document, keeping at most `most` array items and object entries
/// below the top level.
pub(crate) fn from_slice(bytes: &[u8], most: usize) -> serde_json::Result<Bounded> {
    let mut budget = Budget {
        left: most,
        left_out: 0,
    };
    let value = deep_json::from_slice_seed(
        bytes,
        Node {
            budget: &mut budget,
            top: true,
        },
    )?;
    Ok(Bounded {
        value,
        left_out: budget.left_out,
    })
}

struct Budget {
    left: usize,
    left_out: u64,
}

impl Budget {
    /// Takes room for one more item; false when there is none.
    fn take(&mut self) -> bool {
        let room = self.left > 0;
        self.left = self.left.saturating_sub(1);
        room
    }
}

/// One value to read, and the budget it draws on.
struct Node<'a> {
    budget: &'a mut Budget,
    /// The document's own value, whose object entries are never skipped.
    top: bool,
}

impl Node<'_> {
    fn inner(&mut self) -> Node<'_> {
        Node {
            budget: self.budget,
            top: false,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while self.budget.take() {
            let Some(item) = seq.next_element_seed(self.inner())? else {
                // The room taken for an item that was not there is given back.
                self.budget.left += 1;
                return Ok(Value::Array(items));
            };
            items.push(item);
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {
            self.budget.left_out += 1;
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Map::new();
        loop {
            if !self.top && !self.budget.take() {
                break;
            }
            let Some(key) = map.next_key::<String>()? else {
                if !self.top {
                    self.budget.left += 1;
                }
                return Ok(Value::Object(entries));
            };
            let value = map.next_value_seed(self.inner())?;
            entries.insert(key, value);
        }
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {
            self.budget.left_out += 1;
        }
        Ok(Value::Object(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_document_within_the_bound_reads_as_serde_json_reads_it() {
        let text = r#"{"a":[1,-2,3.5,"x",null,true,{"b":{}}],"c":{"d":[[]]},"e":1e400}"#;
        // 1e400 is out of f64's range: serde_json refuses it, and so must this.
        assert!(from_slice(text.as_bytes(), 100).is_err());
        let text =
            r#"{"a":[1,-2,3.5,"x",null,true,{"b":{}}],"c":{"d":[[]]},"e":18446744073709551615}"#;
        let read = from_slice(text.as_bytes(), 100).unwrap();
        assert_eq!(read.value, serde_json::from_str::<Value>(text).unwrap());
        assert_eq!(read.left_out, 0);
        assert!(from_slice(b"{} x", 100).is_err());
    }

    #[test]
    fn past_the_bound_items_are_counted_and_top_level_fields_kept() {
        let text = json!({
            "session_id": "s",
            "tool_response": {"stdout": [[], [], [], [], []], "more": 1},
            "tool_use_id": "t1",
        })
        .to_string();
        let read = from_slice(text.as_bytes(), 3).unwrap();
        assert_eq!(
            read.value,
            json!({"session_id": "s", "tool_response": {"stdout": [[], []]}, "tool_use_id": "t1"})
        );
        // Three of stdout's items and tool_response's `more`.
        assert_eq!(read.left_out, 4);
    }

    #[test]
    fn the_bound_is_on_items_at_every_depth() {
        let nested = format!("{}{}", "[".repeat(100), "]".repeat(100));
        let read = from_slice(nested.as_bytes(), 10).unwrap();
        let mut depth = 0;
        let mut at = &read.value;
        while let Value::Array(items) = at {
            depth += 1;
            match items.first() {
                Some(next) => at = next,
                None => break,
            }
        }
        assert_eq!(depth, 11);
        assert_eq!(read.left_out, 1);
    }
}
