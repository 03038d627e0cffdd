//! What a hook wrote only in part: one empty file per missing part in the session's folder,
//! `.owed.<part>`, left by the hook whose write failed and taken by the next hook that writes it.
//!
//! A hook that writes two things (a subagent's end in its own session, then the marker in its
//! parent's; a subagent's meta, then its start) cannot write both at once; when the second
//! write fails, the first stands, and the next try must write the second without the first.
//! The note says so: it is made only on failure, so a hook that succeeds pays one look (an
//! `unlink` that finds nothing). A note is
//! taken by deleting it, which succeeds for exactly one process, so the missing part is written
//! once; a hook that cannot write it either makes the note again. The note is an empty file in
//! the session's folder itself, not `.pending/`: on a full disk a name in a folder that exists
//! still fits where a new folder does not.

use serde_json::{Map, Value};

use super::{Result, Store, StoreError};

/// The part a session is owed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owed(String);

impl Owed {
    /// The `session_start` of a subagent's session whose `meta.json` was written: the next
    /// hook of the subagent writes it.
    pub fn start() -> Self {
        Owed("start".to_owned())
    }

    /// The parent's marker of the subagent stop whose payload is `fields`, written in the
    /// subagent's session already: the same stop sent again writes only the marker. The stop
    /// is known by its whole payload, so that another stop of the same subagent (resumed) is
    /// not taken for it.
    pub fn stop_marker(fields: &Map<String, Value>) -> Self {
        use super::pending::{fnv1a, fnv1a_from, hash_value};
        // Keys in sorted order, whatever order the map keeps them in.
        let mut keys: Vec<&String> = fields.keys().collect();
        keys.sort();
        let hash = keys.into_iter().fold(fnv1a(b"stop"), |h, key| {
            hash_value(fnv1a_from(h, key.as_bytes()), &fields[key])
        });
        Owed(format!("stop-marker-{hash:016x}"))
    }

    fn file(&self) -> String {
        format!(".owed.{}", self.0)
    }
}

impl Store {
    /// Notes that `session` is owed `part`. Owing it twice is owing it once.
    pub fn owe(&self, session_id: &str, part: &Owed) -> Result<()> {
        self.session_folder(session_id)?
            .create_new(&part.file())
            .map(drop)
    }

    /// Takes the note that `session` is owed `part`: true for the one caller that is to write
    /// it, false when nothing is owed (or another took it).
    pub fn settle(&self, session_id: &str, part: &Owed) -> Result<bool> {
        let dir = self.session_folder(session_id)?;
        let name = part.file();
        dir.claim(&name)
            .map_err(|e| StoreError::io(&dir.path().join(&name), e))
    }

    /// Whether `session` is owed `part`, without taking the note.
    pub fn owes(&self, session_id: &str, part: &Owed) -> bool {
        self.session_folder(session_id)
            .and_then(|dir| {
                dir.size_of(&part.file())
                    .map_err(|e| StoreError::io(dir.path(), e))
            })
            .is_ok_and(|size| size.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_part_owed_is_settled_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        std::fs::create_dir_all(dir.path().join("s")).unwrap();
        let part = Owed::stop_marker(&Map::new());
        assert!(!store.settle("s", &part).unwrap());
        store.owe("s", &part).unwrap();
        store.owe("s", &part).unwrap();
        assert!(store.owes("s", &part));
        assert!(store.settle("s", &part).unwrap());
        assert!(!store.settle("s", &part).unwrap());
        assert!(!store.owes("s", &part));
    }

    #[test]
    fn each_stop_is_owed_its_own_marker() {
        let stop = |text: &str| {
            let Value::Object(fields) = json!({"agent_id": "a1", "last_assistant_message": text})
            else {
                unreachable!()
            };
            Owed::stop_marker(&fields)
        };
        assert_eq!(stop("done"), stop("done"));
        assert_ne!(stop("done"), stop("done again"));
    }
}
