//! A session's folder moved away from its name (an import's swap, a deletion) while a hook wrote
//! to it without its lock: which of the two writes the hook's event again, so that it is kept
//! once.
//!
//! Every append holds the folder's lock shared, and a mover takes it exclusive; but a hook
//! waits at most [`super::lock::HOOK_LOCK_WAIT`] and then writes without it, so a mover stalled
//! for longer (a slow disk, a stopped process) may move the folder while, or before, the hook's
//! event lands in it. Writes to the events file land whole and in one order, so that order is
//! the judge: the mover, once the folder is away from the name, appends a seal line
//! ([`seal`]) and writes again under the name the lines between the events' length it checked
//! (the cut) and the seal ([`late_lines`]). A hook that wrote without the lock looks afterwards
//! whether its folder is still the session's; when it is not, its event was written again by
//! the mover if it lies before the seal, and the hook writes it again itself if it lies after
//! ([`written_again_by_mover`]). Exactly one of them writes it again: the seal is one line, before or
//! after the event, never both.
//!
//! The hook cannot wait for the mover, so it must know without waiting where the seal is,
//! or that none has been written: then one, when it comes, comes after the event. The mover
//! names the cut in the folder before it moves it (`.cut-<length>`, [`mark_cut`]): a hook that
//! finds no seal between the cut and its event leaves it to the mover. A folder whose mark is
//! gone was removed by its mover, which seals before it removes: the seal is in the file, after
//! the hook's event or before it. A folder moved by anyone else (an older version, a person)
//! is never sealed: the hook finds no seal after its event, and writes it again.
//!
//! Once its late lines are written under the name, the mover takes every mark away
//! ([`Store::write_late_lines`]): a folder whose late lines are written holds none, and one
//! whose mark is gone holds its seal, as the hook's rule above wants. A mover killed on the
//! way (after its move, its seal, or during its late write) leaves the folder aside with its
//! mark (`.deleting-<id>`, or an import's `.writing-…`): the sweep that later removes such a
//! folder finishes the move first ([`Store::finish_move`]), with the mover's cut (the greatest
//! mark, as marks a mover killed before its move left are of shorter events), the seal there
//! or one it appends, and the late lines written under the name as the mover would have, then
//! takes the marks away. Lines a mover wrote again before it was killed are never written
//! twice, but for one window a system call wide: a mover killed after its late write and before
//! the marks went (a line twice, where the window before held a line lost).

use std::fs::File;
use std::os::unix::fs::FileExt;

use super::files::Folder;
use super::layout::EVENTS;
use super::{Result, Store, StoreError};

/// The line a mover appends to the events of the folder it moved away. No event is a line
/// that starts with `#`, nor is a line of ours voided (all `#`).
const SEAL: &[u8] = b"#moved away\n";

/// The name of a folder's mark of its cut, before the length.
const CUT: &str = ".cut-";

/// Marks `folder`, about to be moved away from its name, with the length of its events that
/// the mover checked: what lands past it is the mover's to write again.
pub(super) fn mark_cut(folder: &Folder, cut: u64) -> Result<()> {
    folder.create_new(&format!("{CUT}{cut}")).map(drop)
}

/// Takes away the mark of a move that did not happen.
pub(super) fn unmark_cut(folder: &Folder, cut: u64) {
    let _ = folder.remove(&format!("{CUT}{cut}"));
}

/// Takes away every mark of `folder`: its late lines are written, or none will be.
fn unmark_all(folder: &Folder) {
    for cut in cuts(folder) {
        unmark_cut(folder, cut);
    }
}

/// The cuts `folder` is marked with.
fn cuts(folder: &Folder) -> Vec<u64> {
    let names = folder.names().unwrap_or_default();
    names
        .iter()
        .filter_map(|name| name.strip_prefix(CUT)?.parse().ok())
        .collect()
}

/// The cut a mover marked `folder` with, for a hook; the least of several (a mover killed
/// before its move left one, and no seal is ever written before a move, so the least one is
/// safe).
fn cut_of(folder: &Folder) -> Option<u64> {
    cuts(folder).into_iter().min()
}

impl Store {
    /// Seals `folder`, moved away from the name `session` by a mover that marked it with `cut`,
    /// and writes again under the name its late lines (see the module's text).
    pub(super) fn write_late_lines(&self, session: &str, folder: &Folder, cut: u64) -> Result<()> {
        match seal(folder) {
            Some(seal) => self.write_again(session, folder, cut, seal),
            None => Ok(()),
        }
    }

    /// Finishes the move of `folder`, left aside by a mover of the session `session` killed
    /// before it wrote its late lines (a folder still marked): seals it unless the mover did,
    /// and writes its late lines again under the name. Nothing for a folder with no mark. The
    /// caller holds the folder's lock, as the mover did.
    pub(super) fn finish_move(&self, session: &str, folder: &Folder) -> Result<()> {
        // The mover's own mark is the last made, of the longest events.
        let Some(cut) = cuts(folder).into_iter().max() else {
            return Ok(());
        };
        let path = folder.path().join(EVENTS);
        let sealed = match folder.read(EVENTS)? {
            Some(file) => seal_from(&file, cut).map_err(|e| StoreError::io(&path, e))?,
            None => None,
        };
        match sealed {
            Some(seal) => self.write_again(session, folder, cut, seal),
            None => self.write_late_lines(session, folder, cut),
        }
    }

    /// Writes under the name `session` the lines of `folder` from `cut` to `seal` as a hook
    /// writes its event (a session deleted meanwhile begins anew), then takes the marks away.
    fn write_again(&self, session: &str, folder: &Folder, cut: u64, seal: u64) -> Result<()> {
        let late = late_lines(folder, cut, seal)?;
        if let Some(first) = late.iter().position(|&b| b == b'\n') {
            self.append_lines_to(
                session,
                &late,
                first + 1,
                super::append::Cut::Void,
                Some(folder.try_clone()?),
            )?;
        }
        unmark_all(folder);
        Ok(())
    }
}

/// Appends the seal to the events of `folder`, moved away from its name: returns where it
/// starts, on a line of its own. A seal that cannot be written (a full disk) takes the marks
/// away instead and returns `None`: the folder is then as one moved by anyone else, and a hook
/// that wrote to it without the lock writes its event again itself, so the mover must write
/// none of its late lines, nor a sweep after it. (A hook that looked while the mark was there,
/// and saw no seal yet, left its event to the mover: on a disk with no room for one line, that
/// event had none either.)
fn seal(folder: &Folder) -> Option<u64> {
    let path = folder.path().join(EVENTS);
    let sealed = folder.append(EVENTS).and_then(|file| {
        super::append::append_lines(&file, &path, SEAL, SEAL.len(), super::append::Cut::Void)
    });
    if let Ok(landed) = sealed {
        Some(landed.whole)
    } else {
        unmark_all(folder);
        None
    }
}

/// The lines of `folder`'s events from `cut` to `seal`: written after the mover checked the
/// events and before it sealed them, by hooks that had no lock.
fn late_lines(folder: &Folder, cut: u64, seal: u64) -> Result<Vec<u8>> {
    let path = folder.path().join(EVENTS);
    let Some(file) = folder.read(EVENTS)? else {
        return Ok(Vec::new());
    };
    read_range(&file, cut, seal).map_err(|e| StoreError::io(&path, e))
}

/// Whether the event a hook wrote without the lock at `start..end` of `file`, the events of
/// `folder`, which is no longer its session's, is written again by the folder's mover (see the
/// module's text); false when the hook must write it again.
pub(super) fn written_again_by_mover(
    folder: &Folder,
    file: &File,
    start: u64,
    end: u64,
) -> std::io::Result<bool> {
    match cut_of(folder) {
        Some(cut) => Ok(!sealed_within(file, cut, start)?),
        None => sealed_within(file, end, file.metadata()?.len()),
    }
}

/// Whether a seal line starts at or after `from` and ends by `to` in `file`.
fn sealed_within(file: &File, from: u64, to: u64) -> std::io::Result<bool> {
    Ok(seal_within(file, from, to)?.is_some())
}

/// Where the first seal line of `file` at or after `from` starts.
fn seal_from(file: &File, from: u64) -> std::io::Result<Option<u64>> {
    seal_within(file, from, file.metadata()?.len())
}

/// Where the first seal line that starts at or after `from` and ends by `to` in `file` starts.
fn seal_within(file: &File, from: u64, to: u64) -> std::io::Result<Option<u64>> {
    // The byte before `from` too: a seal starts a line.
    let before = from.min(1);
    let bytes = read_range(file, from - before, to)?;
    if before == 0 && bytes.starts_with(SEAL) {
        return Ok(Some(from));
    }
    let mut line = Vec::with_capacity(SEAL.len() + 1);
    line.push(b'\n');
    line.extend_from_slice(SEAL);
    Ok(memchr::memmem::find(&bytes, &line).map(|at| from - before + at as u64 + 1))
}

/// The bytes of `file` from `from` to `to` (fewer when it ends before).
fn read_range(file: &File, from: u64, to: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = vec![0; to.saturating_sub(from) as usize];
    let mut read = 0;
    while read < bytes.len() {
        match file.read_at(&mut bytes[read..], from + read as u64) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    bytes.truncate(read);
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(text: &[u8]) -> (tempfile::TempDir, Folder, File) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(EVENTS), text).unwrap();
        let folder = Folder::open(dir.path()).unwrap();
        let file = folder.read(EVENTS).unwrap().unwrap();
        (dir, folder, file)
    }

    #[test]
    fn a_seal_counts_only_whole_on_a_line_of_its_own_within_the_range() {
        let (_dir, _folder, file) = events(b"#moved away\n{\"a\":1}\n{\"b\":2}#moved away\n");
        // At the file's start, then not past it.
        assert!(sealed_within(&file, 0, 12).unwrap());
        assert!(!sealed_within(&file, 1, 12).unwrap());
        assert!(!sealed_within(&file, 0, 11).unwrap());
        // Glued to a line before it (a torn one): no seal.
        assert!(!sealed_within(&file, 12, 42).unwrap());
    }

    #[test]
    fn an_event_before_the_seal_is_the_movers_and_one_after_it_the_hooks() {
        let (_dir, folder, file) = events(b"{\"old\":0}\n{\"h\":1}\n#moved away\n{\"h\":2}\n");
        mark_cut(&folder, 10).unwrap();
        assert!(written_again_by_mover(&folder, &file, 10, 18).unwrap());
        assert!(!written_again_by_mover(&folder, &file, 30, 38).unwrap());
        assert_eq!(late_lines(&folder, 10, 18).unwrap(), b"{\"h\":1}\n");
        // The mark gone (the folder being removed): the seal after the event tells.
        unmark_cut(&folder, 10);
        assert!(written_again_by_mover(&folder, &file, 10, 18).unwrap());
        assert!(!written_again_by_mover(&folder, &file, 30, 38).unwrap());
    }

    #[test]
    fn a_folder_moved_by_no_mover_has_every_event_written_again() {
        let (_dir, folder, file) = events(b"{\"h\":1}\n");
        assert!(!written_again_by_mover(&folder, &file, 0, 8).unwrap());
    }

    #[test]
    fn a_seal_is_found_where_its_line_starts() {
        let (_dir, _folder, file) = events(b"{\"a\":1}\n#moved away\n{\"b\":2}\n#moved away\n");
        assert_eq!(seal_from(&file, 0).unwrap(), Some(8));
        assert_eq!(seal_from(&file, 8).unwrap(), Some(8));
        assert_eq!(seal_from(&file, 9).unwrap(), Some(28));
        assert_eq!(seal_from(&file, 29).unwrap(), None);
        let (_dir, _folder, file) = events(b"#moved away\n");
        assert_eq!(seal_from(&file, 0).unwrap(), Some(0));
    }

    /// A folder a mover left aside, marked by it (cut 10) and by one killed before its move
    /// (cut 5), holding a line past the cut: finished once, by the mover's cut, whether the
    /// mover sealed it or not, and never again.
    #[test]
    fn a_move_left_unfinished_has_its_late_lines_written_once() {
        for sealed in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::new(dir.path().join("store"));
            store
                .create_session(&crate::model::SessionMeta::new("s", 1.0))
                .unwrap();
            let aside = dir.path().join("aside");
            let mut text = b"{\"old\":0}\n{\"h\":1}\n".to_vec();
            if sealed {
                text.extend_from_slice(b"#moved away\n{\"h\":2}\n");
            }
            std::fs::create_dir(&aside).unwrap();
            std::fs::write(aside.join(EVENTS), &text).unwrap();
            let folder = Folder::open(&aside).unwrap();
            mark_cut(&folder, 5).unwrap();
            mark_cut(&folder, 10).unwrap();
            for _ in 0..2 {
                store.finish_move("s", &folder).unwrap();
                let under_name = std::fs::read(store.session_dir("s").join(EVENTS)).unwrap();
                assert_eq!(under_name, b"{\"h\":1}\n");
                assert!(cuts(&folder).is_empty());
                let left = std::fs::read(aside.join(EVENTS)).unwrap();
                assert_eq!(
                    left,
                    [
                        &b"{\"old\":0}\n{\"h\":1}\n#moved away\n"[..],
                        if sealed { b"{\"h\":2}\n" } else { b"" }
                    ]
                    .concat()
                );
            }
        }
    }
}
