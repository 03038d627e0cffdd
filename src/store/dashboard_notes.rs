//! The dashboard's dated notes, `.dashboard-notes.jsonl` at the store's root: one JSON object a
//! line (`{"date": "2026-11-25", "note": "…", "created_at": 1795…}`), appended with one write
//! on a file opened for appending, so two writers never tear each other's lines and no lock is
//! needed. The trend's charts mark each note's day.
//!
//! The file is opened as every store file is ([`super::files`]: no link followed, regular files
//! only), and read a line at a time under [`LINE_LIMIT`]; a line that does not read is counted
//! and left in the file.

use std::io::{BufReader, Write};

use serde::{Deserialize, Serialize};

use super::files::{LINE_LIMIT, read_line};
use super::{Result, Store, StoreError};

/// The file's name: hidden, so that nothing takes it for a session.
pub const DASHBOARD_NOTES: &str = ".dashboard-notes.jsonl";

/// One note: a day, and what happened on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayNote {
    /// The day, `YYYY-MM-DD`.
    pub date: String,
    pub note: String,
    /// When it was written, in seconds since the epoch.
    pub created_at: f64,
}

/// The notes the file holds, in the order they were written.
#[derive(Debug, Default)]
pub struct DayNotes {
    pub notes: Vec<DayNote>,
    /// Lines that are not notes (left in the file).
    pub bad_lines: usize,
}

impl Store {
    /// Every dashboard note; none when the file is not there.
    pub fn dashboard_notes(&self) -> Result<DayNotes> {
        let folder = self.root_folder()?;
        let mut found = DayNotes::default();
        let Some(file) = folder.read(DASHBOARD_NOTES)? else {
            return Ok(found);
        };
        let path = self.root().join(DASHBOARD_NOTES);
        let mut reader = BufReader::new(file);
        let mut line = Vec::new();
        loop {
            let read = read_line(&mut reader, &mut line, LINE_LIMIT)
                .map_err(|e| StoreError::io(&path, e))?;
            if read.consumed == 0 {
                break;
            }
            if read.too_long {
                found.bad_lines += 1;
                continue;
            }
            match serde_json::from_slice::<DayNote>(&line) {
                Ok(note) => found.notes.push(note),
                Err(_) if line.trim_ascii().is_empty() => {}
                Err(_) => found.bad_lines += 1,
            }
        }
        Ok(found)
    }

    /// Appends a note (the store must exist).
    pub fn add_dashboard_note(&self, note: &DayNote) -> Result<()> {
        self.require()?;
        let path = self.root().join(DASHBOARD_NOTES);
        let mut line = serde_json::to_vec(note).map_err(|e| StoreError::io(&path, e.into()))?;
        line.push(b'\n');
        let mut file = self.root_folder()?.append(DASHBOARD_NOTES)?;
        super::files::on_a_line_of_its_own(&file, &mut line)
            .map_err(|e| StoreError::io(&path, e))?;
        file.write_all(&line).map_err(|e| StoreError::io(&path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_round_trip_and_bad_lines_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join(".agent-traces"));
        std::fs::create_dir(store.root()).unwrap();
        assert!(store.dashboard_notes().unwrap().notes.is_empty());
        let note = DayNote {
            date: "2026-11-25".into(),
            note: "switched to </script> model".into(),
            created_at: 1.0,
        };
        store.add_dashboard_note(&note).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(store.root().join(DASHBOARD_NOTES))
            .unwrap()
            .write_all(b"{torn")
            .unwrap();
        store.add_dashboard_note(&note).unwrap();
        let read = store.dashboard_notes().unwrap();
        assert_eq!(read.notes, vec![note.clone(), note]);
        assert_eq!(read.bad_lines, 1);
    }

    #[test]
    fn a_link_in_place_of_the_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join(".agent-traces"));
        std::fs::create_dir(store.root()).unwrap();
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, "").unwrap();
        std::os::unix::fs::symlink(&target, store.root().join(DASHBOARD_NOTES)).unwrap();
        assert!(store.dashboard_notes().is_err());
        let note = DayNote {
            date: "2026-11-25".into(),
            note: "x".into(),
            created_at: 1.0,
        };
        assert!(store.add_dashboard_note(&note).is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"");
    }
}
