//! A note, label or bookmark a person attached to one event of a session: kept beside the
//! session (never inside its events), in the shape the Python tool reads and writes.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One annotation, as a line of the session's `annotations.jsonl`.
///
/// The fields are the Python tool's, so each tool lists what the other wrote; `bookmark` and
/// `event_number` are ours (the Python tool reads only the fields it knows). Fields we do not
/// know are kept and written back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Annotation {
    pub annotation_id: String,
    pub session_id: String,
    /// The event it is attached to (empty when the writer attached it to no event).
    #[serde(default)]
    pub event_id: String,
    /// The event's number when it was annotated, as replay numbers events: what finds the
    /// event when its id is empty or shared by several events (see [`EventNumbers`]).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole_number"
    )]
    pub event_number: Option<usize>,
    /// Seconds from the session's first event to the annotated one.
    #[serde(default)]
    pub offset_seconds: f64,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub author: String,
    /// When it was written, in seconds since the epoch.
    #[serde(default)]
    pub created_at: f64,
    /// A place to jump to in the HTML replay.
    #[serde(default, skip_serializing_if = "is_false")]
    pub bookmark: bool,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A number that is none unless it is a whole number: another writer's odd value loses only
/// itself, not the note.
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    let value = Value::deserialize(d)?;
    Ok(value.as_u64().and_then(|n| usize::try_from(n).ok()))
}

// serde's `skip_serializing_if` passes a reference.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_false(value: &bool) -> bool {
    !value
}

impl Annotation {
    /// Whether `text` names this annotation: its whole id, or a prefix of at least 4
    /// characters.
    pub fn is_named_by(&self, text: &str) -> bool {
        text.len() >= 4 && self.annotation_id.starts_with(text)
    }
}

/// The numbers of a session's events by id, to find the event an annotation is on.
///
/// An id that names one event finds it. An event with no id, or one of several sharing an id (a
/// merged or forged store), is found by the number kept with the note, as long as the event at
/// that number still has the note's id (a session written anew gives its events new ids, and
/// the note's id is moved to the new one). Else an id shared by several events finds the
/// first, as `why` takes it, and an empty id (the Python tool's note on a time) finds none.
#[derive(Debug, Default)]
pub struct EventNumbers {
    numbers: HashMap<String, Vec<usize>>,
}

impl EventNumbers {
    /// From each event's number and id, in the session's order.
    pub fn new<'a>(events: impl IntoIterator<Item = (usize, &'a str)>) -> EventNumbers {
        let mut numbers: HashMap<String, Vec<usize>> = HashMap::new();
        for (number, id) in events {
            numbers.entry(id.to_owned()).or_default().push(number);
        }
        EventNumbers { numbers }
    }

    /// The number of the event `annotation` is on; `None` when the session has no such event.
    pub fn of(&self, annotation: &Annotation) -> Option<usize> {
        let numbers = self.numbers.get(annotation.event_id.as_str())?;
        if let Some(kept) = annotation.event_number
            && numbers.contains(&kept)
        {
            return Some(kept);
        }
        if annotation.event_id.is_empty() {
            return None;
        }
        numbers.first().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(event_id: &str, event_number: Option<usize>) -> Annotation {
        let mut a: Annotation = serde_json::from_value(serde_json::json!({
            "annotation_id": "a", "session_id": "s", "event_id": event_id,
        }))
        .unwrap();
        a.event_number = event_number;
        a
    }

    #[test]
    fn a_note_finds_its_event_by_id_else_by_its_number() {
        let numbers = EventNumbers::new([(1, ""), (2, "dup"), (3, "x"), (4, "dup"), (5, "")]);
        assert_eq!(numbers.of(&on("x", None)), Some(3));
        // A number the id does not hold is stale: the id decides.
        assert_eq!(numbers.of(&on("x", Some(2))), Some(3));
        assert_eq!(numbers.of(&on("dup", Some(4))), Some(4));
        assert_eq!(numbers.of(&on("dup", None)), Some(2));
        assert_eq!(numbers.of(&on("", Some(5))), Some(5));
        assert_eq!(numbers.of(&on("", Some(3))), None);
        assert_eq!(numbers.of(&on("", None)), None);
        assert_eq!(numbers.of(&on("gone", Some(3))), None);
    }

    #[test]
    fn an_odd_event_number_loses_only_itself() {
        let line = r#"{"annotation_id":"a","session_id":"s","event_id":"e","event_number":"x"}"#;
        let a: Annotation = serde_json::from_str(line).unwrap();
        assert_eq!((a.event_id.as_str(), a.event_number), ("e", None));
        let line = r#"{"annotation_id":"a","session_id":"s","event_id":"","event_number":7}"#;
        let a: Annotation = serde_json::from_str(line).unwrap();
        assert_eq!(a.event_number, Some(7));
        assert_eq!(serde_json::to_value(&a).unwrap()["event_number"], 7);
    }

    #[test]
    fn a_python_line_reads_and_unknown_fields_survive() {
        let line = r#"{"annotation_id":"a1b2c3d4e5f6","session_id":"s","event_id":"e","offset_seconds":1.5,"label":"retry","note":"n","author":"","created_at":10.0,"colour":"x"}"#;
        let a: Annotation = serde_json::from_str(line).unwrap();
        assert_eq!((a.label.as_str(), a.bookmark), ("retry", false));
        let back = serde_json::to_value(&a).unwrap();
        assert_eq!(back["colour"], "x");
        assert!(back.get("bookmark").is_none());
        assert!(a.is_named_by("a1b2") && !a.is_named_by("a1b") && !a.is_named_by("b1b2"));
    }
}
