//! A session's `annotations.jsonl`: notes, labels and bookmarks kept beside its events, one
//! JSON object a line, as the Python tool keeps them.
//!
//! Adding appends one line; deleting writes the file anew under a temporary name and renames
//! it over the old one, both under the session's annotation lock, so two of our writers never
//! lose each other's lines. A line that does not read is kept as it is when others are deleted.

use std::collections::{HashMap, HashSet};
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
        let path = self.session_dir(&annotation.session_id).join(ANNOTATIONS);
        let mut line =
            serde_json::to_vec(annotation).map_err(|e| StoreError::io(&path, e.into()))?;
        line.push(b'\n');
        let (folder, _lock) = self.lock_annotations(&annotation.session_id)?;
        let mut file = folder.append(ANNOTATIONS)?;
        super::files::on_a_line_of_its_own(&file, &mut line)
            .map_err(|e| StoreError::io(&path, e))?;
        file.write_all(&line).map_err(|e| StoreError::io(&path, e))
    }

    /// Deletes the annotations `matches` picks; returns the ones deleted.
    pub fn delete_annotations(
        &self,
        session_id: &str,
        matches: impl Fn(&Annotation) -> bool,
    ) -> Result<Vec<Annotation>> {
        let path = self.session_dir(session_id).join(ANNOTATIONS);
        let (folder, _lock) = self.lock_annotations(session_id)?;
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

impl Store {
    /// A session's folder with its annotation lock taken, checked after the lock was taken to
    /// still be the folder under the session's name. An import that writes a session anew
    /// carries its notes under this lock and swaps the folders before letting go, so a writer
    /// that opened the old folder and waited finds it replaced, and takes the new one.
    fn lock_annotations(
        &self,
        session_id: &str,
    ) -> Result<(super::files::Folder, super::lock::LockGuard)> {
        self.lock_annotations_of(session_id, self.session_folder(session_id)?)
    }

    /// [`Store::lock_annotations`] from `folder`, the session's folder as it was opened.
    fn lock_annotations_of(
        &self,
        session_id: &str,
        mut folder: super::files::Folder,
    ) -> Result<(super::files::Folder, super::lock::LockGuard)> {
        // Each try waits for an import that swapped the folder; three in a row is no race.
        for _ in 0..3 {
            let lock = match lock_exclusive(&folder, LOCK, WAIT) {
                // Swapped out and removed before it was locked: the folder now under the name.
                Err(e) if removed(&e) => {
                    folder = self.session_folder(session_id)?;
                    continue;
                }
                other => other?,
            };
            let current = self.session_folder(session_id)?;
            if current.is_same(&folder) {
                return Ok((folder, lock));
            }
            folder = current;
        }
        Err(StoreError::LockTimeout(
            self.session_dir(session_id).join(LOCK),
        ))
    }
}

/// [`carry_annotations`] from the folder stored under `session_id` in `root`, `None` when there
/// is none. One swapped out by another writer (an import of the same file run at once) and
/// removed between being opened and locked has no room left for the lock file: the folder now
/// under the name is taken instead, which the caller then finds is not the one it read.
pub(crate) fn carry_stored_annotations(
    root: &super::files::Folder,
    session_id: &str,
    fresh: &super::files::Folder,
) -> Result<Option<super::lock::LockGuard>> {
    for _ in 0..3 {
        let Ok(stored) = root.child(session_id) else {
            return Ok(None);
        };
        match carry_annotations(&stored, fresh) {
            // Removed meanwhile: the next turn takes the folder now under the name.
            Err(e) if removed(&e) => {}
            other => return other.map(Some),
        }
    }
    Err(StoreError::SessionExists(session_id.to_owned()))
}

/// Whether `e` says a folder was removed under us: a file cannot be made in it any more.
fn removed(e: &StoreError) -> bool {
    matches!(e, StoreError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
}

/// Copies the annotations of the stored session folder `stored` into `fresh`, a session written
/// anew to take its place (an import read again, or carried on from where it stopped), and
/// returns `stored`'s annotation lock, to hold until `fresh` is in place: the writer makes only
/// the events and what it reads of them, and the user's notes are not the import's to drop.
/// No file to carry is no error.
fn carry_annotations(
    stored: &super::files::Folder,
    fresh: &super::files::Folder,
) -> Result<super::lock::LockGuard> {
    // Taken even when there is no file yet: a first note waiting for it then sees the swap.
    let lock = lock_exclusive(stored, LOCK, WAIT)?;
    // Read under the lock, so that a note added meanwhile is carried too.
    if let Some(mut file) = stored.read(ANNOTATIONS)? {
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| StoreError::io(&stored.path().join(ANNOTATIONS), e))?;
        fresh.write_new(ANNOTATIONS, &relink(stored, fresh, bytes))?;
    }
    Ok(lock)
}

/// An event as a session written anew finds it again: its kind and time, and which of the
/// events of that kind at that time it is.
type Place = (String, u64, u32);

/// The annotation lines `bytes` with each event they name that `fresh` does not hold taken to
/// the event of `fresh` in the same place as it had in `stored`, its kept number with it. A
/// session written anew gives its events new ids, and lines taken out before the event move it;
/// the note stays on its event when the event is still there. Lines that do not read, and
/// events found in no place, are kept as they are.
fn relink(stored: &super::files::Folder, fresh: &super::files::Folder, bytes: Vec<u8>) -> Vec<u8> {
    let named: HashSet<String> = bytes
        .split(|&b| b == b'\n')
        .filter_map(|line| serde_json::from_slice::<Annotation>(line).ok())
        .map(|a| a.event_id)
        .filter(|id| !id.is_empty())
        .collect();
    if named.is_empty() {
        return bytes;
    }
    let Some(now) = places(fresh) else {
        return bytes;
    };
    let held: HashSet<&String> = now.iter().map(|(id, _)| id).collect();
    if named.iter().all(|id| held.contains(id)) {
        return bytes;
    }
    let Some(before) = places(stored) else {
        return bytes;
    };
    // The events are numbered as replay numbers them, from 1 in file order.
    let by_place: HashMap<Place, (String, usize)> = now
        .into_iter()
        .enumerate()
        .map(|(i, (id, at))| (at, (id, i + 1)))
        .collect();
    let moved: HashMap<String, (String, usize)> = before
        .into_iter()
        .filter(|(id, _)| named.contains(id))
        .filter_map(|(id, at)| Some((id, by_place.get(&at)?.clone())))
        .collect();
    let mut out = Vec::with_capacity(bytes.len());
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(line) else {
            out.extend_from_slice(line);
            continue;
        };
        let to = value["event_id"].as_str().and_then(|id| moved.get(id));
        match (to.cloned(), value.as_object_mut()) {
            (Some((to, number)), Some(object)) => {
                object.insert("event_id".into(), to.into());
                if object.contains_key("event_number") {
                    object.insert("event_number".into(), number.into());
                }
                match serde_json::to_vec(&value) {
                    Ok(text) => out.extend_from_slice(&text),
                    Err(_) => out.extend_from_slice(line.trim_ascii_end()),
                }
                out.push(b'\n');
            }
            _ => out.extend_from_slice(line),
        }
    }
    out
}

/// Each event's id and place in a session's events file; `None` when it cannot be read.
fn places(folder: &super::files::Folder) -> Option<Vec<(String, Place)>> {
    #[derive(serde::Deserialize)]
    struct Head {
        event_id: String,
        event_type: String,
        timestamp: f64,
    }
    let file = folder.read(super::layout::EVENTS).ok()??;
    let mut reader = BufReader::new(file);
    let mut seen: HashMap<(String, u64), u32> = HashMap::new();
    let mut out = Vec::new();
    let mut buf = Vec::new();
    loop {
        let read = read_line(&mut reader, &mut buf, LINE_LIMIT).ok()?;
        if read.consumed == 0 {
            return Some(out);
        }
        let Ok(head) = serde_json::from_slice::<Head>(&buf) else {
            continue;
        };
        let kind = (head.event_type, head.timestamp.to_bits());
        let nth = seen.entry(kind.clone()).or_default();
        out.push((head.event_id, (kind.0, kind.1, *nth)));
        *nth += 1;
    }
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
            && let Ok(datasets) = self
                .root_folder()
                .and_then(|root| root.child(super::layout::DATASETS))
        {
            let path = self.root().join(super::layout::DATASETS);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn note(session_id: &str, text: &str) -> Annotation {
        serde_json::from_value(serde_json::json!({
            "annotation_id": text, "session_id": session_id, "note": text,
        }))
        .unwrap()
    }

    // The race this guards against cannot be timed in a test: a writer opens the session's
    // folder, an import swaps a new folder in under its name, then the writer takes the lock.
    // Here the swap is made by hand between the two steps.
    #[test]
    fn a_note_for_a_folder_swapped_while_it_waited_goes_to_the_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        std::fs::create_dir(dir.path().join("s1")).unwrap();
        let opened = store.session_folder("s1").unwrap();
        std::fs::rename(dir.path().join("s1"), dir.path().join(".old")).unwrap();
        std::fs::create_dir(dir.path().join("s1")).unwrap();

        let (folder, lock) = store.lock_annotations_of("s1", opened).unwrap();
        assert!(folder.is_same(&store.session_folder("s1").unwrap()));
        drop(lock);
        store.add_annotation(&note("s1", "kept")).unwrap();
        let found = store.annotations("s1").unwrap().annotations;
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].note, "kept");
        assert!(!dir.path().join(".old").join(ANNOTATIONS).exists());
    }
}
