//! A JSON object's members, each value kept as its text: a reader that wants a few keys of a
//! large object pays for the bytes of the others, not for a tree of them (a `meta.json` of
//! three million short strings was 15 MB of text and 350 MB as `serde_json::Value`s).

use serde::Deserialize;
use serde::de::{Error as _, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

/// The members of an object, in the order written, their values borrowed from its text; a key
/// written twice is there twice.
pub struct Members<'a>(pub Vec<(String, &'a RawValue)>);

/// How deep `serde_json` reads a document into a `Value` (its limit of 128 refuses the 128th
/// level): the members' values are read one by one, a level below the object, so a document
/// is refused past it before it is split, as it was read whole.
const SERDE_NESTING: usize = 127;

/// Why a text's members could not be had.
pub enum NotMembers {
    /// It is no JSON (or nests deeper than `serde_json` reads a `Value`).
    Json(serde_json::Error),
    /// It is JSON, but no object.
    NotAnObject,
}

impl<'a> Members<'a> {
    /// The members of `text`, an object.
    pub fn of(text: &'a str) -> Result<Members<'a>, NotMembers> {
        if super::deep_json::nests_deeper_than(text.as_bytes(), SERDE_NESTING) {
            return Err(NotMembers::Json(serde_json::Error::custom(format!(
                "recursion limit exceeded (nested deeper than {SERDE_NESTING} levels)"
            ))));
        }
        if !text.trim_start().starts_with('{') {
            serde_json::from_str::<IgnoredAny>(text).map_err(NotMembers::Json)?;
            return Err(NotMembers::NotAnObject);
        }
        serde_json::from_str(text).map_err(NotMembers::Json)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Members<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Object<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Object<'a> {
            type Value = Members<'a>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'a>, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, &'a RawValue>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(Object(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn members_are_their_text_in_order() {
        let Ok(Members(members)) = Members::of(r#" {"b": [1, 2], "a": "x", "b": null} "#) else {
            panic!("an object");
        };
        let read: Vec<(&str, &str)> = members.iter().map(|(k, v)| (k.as_str(), v.get())).collect();
        assert_eq!(read, [("b", "[1, 2]"), ("a", r#""x""#), ("b", "null")]);
        assert!(matches!(Members::of("[1]"), Err(NotMembers::NotAnObject)));
        assert!(matches!(Members::of("[1"), Err(NotMembers::Json(_))));
        assert!(matches!(Members::of("{} x"), Err(NotMembers::Json(_))));
    }

    /// An object is refused for its depth exactly where `serde_json` refuses it as a `Value`.
    #[test]
    fn depth_is_refused_where_serde_json_refuses_it() {
        for levels in 120..140 {
            let text = format!(r#"{{"a":{}{}}}"#, "[".repeat(levels), "]".repeat(levels));
            assert_eq!(
                Members::of(&text).is_ok(),
                serde_json::from_str::<Value>(&text).is_ok(),
                "{levels} levels"
            );
        }
    }
}
