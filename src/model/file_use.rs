//! What a call did to a file: read it, wrote its content, deleted it, or moved it elsewhere.
//!
//! A deletion (`rm f`, `git rm f`) or a move (`mv a b`, `git mv a b`) changes the tree but
//! writes no content: counted as a write, `explain` said the agent wrote a file it removed.
//! All three are recorded as a `file_write` event (the kind the Python tool and older readers
//! know), the deletion or move told by the event's `change` key (and a move's `to`), which
//! [`FileUse::of_data`] reads back.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The key of a `file_write` event that says the file was deleted or moved, not written.
const CHANGE: &str = "change";
/// The key of a move's event naming where the file went.
const TO: &str = "to";

/// What a call did to one file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(from = "Stored", rename_all = "snake_case")]
pub enum FileUse {
    Read,
    /// Its content was written: made, changed or appended to.
    Write,
    /// It was removed (a file, or a folder `rm -r` was given).
    Delete,
    /// It was moved (renamed) to the path held.
    Move(String),
}

impl FileUse {
    /// Whether the file changed: written, deleted or moved (a `file_write` event).
    pub fn changes(&self) -> bool {
        !matches!(self, FileUse::Read)
    }

    /// `Write` for a write, else `Read`: a file tool's use, which names no deletion.
    pub fn of_write(write: bool) -> FileUse {
        if write { FileUse::Write } else { FileUse::Read }
    }

    /// The use a file event's data tells: the event's kind (`write`, a `file_write`), refined
    /// by its `change` key.
    pub fn of_data(write: bool, data: &Value) -> FileUse {
        let change = data.get(CHANGE).and_then(Value::as_str);
        match change {
            Some("delete") if write => FileUse::Delete,
            Some("move") if write => match data.get(TO).and_then(Value::as_str) {
                Some(to) => FileUse::Move(to.to_owned()),
                None => FileUse::Write,
            },
            _ => FileUse::of_write(write),
        }
    }

    /// Writes into a file event's data the keys [`FileUse::of_data`] reads.
    pub fn write_data(&self, data: &mut Map<String, Value>) {
        match self {
            FileUse::Read | FileUse::Write => {}
            FileUse::Delete => {
                data.insert(CHANGE.into(), "delete".into());
            }
            FileUse::Move(to) => {
                data.insert(CHANGE.into(), "move".into());
                data.insert(TO.into(), to.clone().into());
            }
        }
    }
}

/// A [`FileUse`] as it is stored: as it serialises, or as states saved before deletions and
/// moves were told apart hold it, `true` for a write and `false` for a read.
#[derive(Deserialize)]
#[serde(untagged)]
enum Stored {
    Written(bool),
    Use(Tagged),
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Tagged {
    Read,
    Write,
    Delete,
    Move(String),
}

impl From<Stored> for FileUse {
    fn from(stored: Stored) -> FileUse {
        match stored {
            Stored::Written(write) => FileUse::of_write(write),
            Stored::Use(Tagged::Read) => FileUse::Read,
            Stored::Use(Tagged::Write) => FileUse::Write,
            Stored::Use(Tagged::Delete) => FileUse::Delete,
            Stored::Use(Tagged::Move(to)) => FileUse::Move(to),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_use_reads_back_from_its_event_and_from_a_saved_flag() {
        for file_use in [
            FileUse::Read,
            FileUse::Write,
            FileUse::Delete,
            FileUse::Move("b.txt".into()),
        ] {
            let mut data = Map::new();
            file_use.write_data(&mut data);
            let read = FileUse::of_data(file_use.changes(), &Value::Object(data));
            assert_eq!(read, file_use);
            let saved = serde_json::to_value(&file_use).unwrap();
            assert_eq!(serde_json::from_value::<FileUse>(saved).unwrap(), file_use);
        }
        let old: FileUse = serde_json::from_value(json!(true)).unwrap();
        assert_eq!(old, FileUse::Write);
        // A read names no deletion, whatever its data says.
        let read = FileUse::of_data(false, &json!({"change": "delete"}));
        assert_eq!(read, FileUse::Read);
    }
}
