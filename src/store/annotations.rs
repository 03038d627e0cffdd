//! A session's `annotations.jsonl`: notes, labels and bookmarks kept beside its events, one
//! JSON object a line, as the Python tool keeps them.
//!
//! Adding appends one line; deleting writes the file anew under a temporary name and renames
//! it over the old one, both under the session's annotation lock, so two of our writers never
//! lose each other's lines. A line that does not read is kept as it is when others are deleted.

use std::io::{BufReader, Read, Write};

use super::files::{LINE_LIMIT, read_line};
use super::lock::lock_exclusive;
use super::{Result, Store, StoreError};
use crate::model::annotation::Annotation;

/// The file's name, as the Python tool names it.
pub const ANNOTATIONS: &str = "annotations.jsonl";
const LOCK: &str = ".annotations.lock";
const WRITING: &str = ".annotations.jsonl.writing";
const WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// What a session's annotation file holds.
#[derive(Debug, Default)]
pub struct Annotations {
    pub annotations: Vec<Annotation>,
    /// Lines that are not annotations (kept in the file, left out here).
    pub bad_lines: usize,
}

impl Store {
    /// The annotations of a session, in the order they were written.
    pub fn annotations(&self, session_id: &str) -> Result<Annotations> {
        let folder = self.session_folder(session_id)?;
        let mut found = Annotations::default();
        for line in raw_lines(&folder, &self.session_dir(session_id), ANNOTATIONS)? {
            match serde_json::from_slice::<Annotation>(&line) {
                Ok(annotation) => found.annotations.push(annotation),
                Err(_) if line.trim_ascii().is_empty() => {}
                Err(_) => found.bad_lines += 1,
            }
        }
        Ok(found)
    }

    /// Appends an annotation to its session's file.
    pub fn add_annotation(&self, annotation: &Annotation) -> Result<()> {
        let folder = self.session_folder(&annotation.session_id)?;
        let path = self.session_dir(&annotation.session_id).join(ANNOTATIONS);
        let mut line =
            serde_json::to_vec(annotation).map_err(|e| StoreError::io(&path, e.into()))?;
        line.push(b'\n');
        let _lock = lock_exclusive(&folder, LOCK, WAIT)?;
        let mut file = folder.append(ANNOTATIONS)?;
        file.write_all(&line).map_err(|e| StoreError::io(&path, e))
    }

    /// Deletes the annotations `matches` picks; returns the ones deleted.
    pub fn delete_annotations(
        &self,
        session_id: &str,
        matches: impl Fn(&Annotation) -> bool,
    ) -> Result<Vec<Annotation>> {
        let folder = self.session_folder(session_id)?;
        let path = self.session_dir(session_id).join(ANNOTATIONS);
        let _lock = lock_exclusive(&folder, LOCK, WAIT)?;
        let mut kept = Vec::new();
        let mut deleted = Vec::new();
        for line in raw_lines(&folder, &self.session_dir(session_id), ANNOTATIONS)? {
            match serde_json::from_slice::<Annotation>(&line) {
                Ok(annotation) if matches(&annotation) => deleted.push(annotation),
                _ => {
                    kept.extend_from_slice(line.trim_ascii_end());
                    kept.push(b'\n');
                }
            }
        }
        if !deleted.is_empty() {
            folder.write_new(WRITING, &kept)?;
            folder
                .rename(WRITING, ANNOTATIONS)
                .map_err(|e| StoreError::io(&path, e))?;
        }
        Ok(deleted)
    }
}

/// Copies the annotations of the stored session folder `stored` into `fresh`, a session written
/// anew to take its place (an import read again, or carried on from where it stopped), and
/// returns `stored`'s annotation lock, to hold until `fresh` is in place: the writer makes only
/// the events and what it reads of them, and the user's notes are not the import's to drop.
/// Nothing to carry (no stored session, no file) is no error.
pub(crate) fn carry_annotations(
    stored: &super::files::Folder,
    fresh: &super::files::Folder,
) -> Result<Option<super::lock::LockGuard>> {
    if stored.read(ANNOTATIONS)?.is_none() {
        return Ok(None);
    }
    let lock = lock_exclusive(stored, LOCK, WAIT)?;
    // Read under the lock, so that a note added meanwhile is carried too.
    if let Some(mut file) = stored.read(ANNOTATIONS)? {
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| StoreError::io(&stored.path().join(ANNOTATIONS), e))?;
        fresh.write_new(ANNOTATIONS, &bytes)?;
    }
    Ok(Some(lock))
}

/// The lines of the file `name`, each without its newline; none when there is no file. A line longer than
/// the store's line limit is skipped.
fn raw_lines(
    folder: &super::files::Folder,
    dir: &std::path::Path,
    name: &str,
) -> Result<Vec<Vec<u8>>> {
    let path = dir.join(name);
    let Some(file) = folder.read(name)? else {
        return Ok(Vec::new());
    };
    let mut reader = BufReader::new(file.take(u64::MAX));
    let mut lines = Vec::new();
    let mut buf = Vec::new();
    loop {
        let read =
            read_line(&mut reader, &mut buf, LINE_LIMIT).map_err(|e| StoreError::io(&path, e))?;
        if read.consumed == 0 {
            return Ok(lines);
        }
        if !read.too_long {
            let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
            lines.push(line.to_vec());
        }
    }
}

impl Store {
    /// The sessions labelled `label`: by an annotation of ours or the Python tool's, or listed
    /// in the Python tool's dataset file `datasets/<label>.jsonl`; in the store's order.
    pub fn labelled(&self, label: &str) -> Result<Vec<String>> {
        let mut ids: Vec<String> = Vec::new();
        for id in self.session_ids()? {
            if self
                .annotations(&id)
                .is_ok_and(|found| found.annotations.iter().any(|a| a.label == label))
            {
                ids.push(id);
            }
        }
        if crate::store::is_valid_session_id(label)
            && let Ok(datasets) = self.root_folder().and_then(|root| root.child("datasets"))
        {
            let path = self.root().join("datasets");
            for line in raw_lines(&datasets, &path, &format!("{label}.jsonl"))? {
                let entry: serde_json::Value = serde_json::from_slice(&line).unwrap_or_default();
                if let Some(id) = entry["session_id"].as_str()
                    && self.has_session(id)
                    && !ids.iter().any(|known| known == id)
                {
                    ids.push(id.to_owned());
                }
            }
        }
        ids.sort();
        Ok(ids)
    }
}
