//! A note, label or bookmark a person attached to one event of a session: kept beside the
//! session (never inside its events), in the shape the Python tool reads and writes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One annotation, as a line of the session's `annotations.jsonl`.
///
/// The fields are the Python tool's, so each tool lists what the other wrote; `bookmark` is
/// ours (the Python tool ignores it). Fields we do not know are kept and written back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Annotation {
    pub annotation_id: String,
    pub session_id: String,
    /// The event it is attached to (empty when the writer attached it to no event).
    #[serde(default)]
    pub event_id: String,
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

#[cfg(test)]
mod tests {
    use super::*;

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
