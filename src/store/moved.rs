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

use std::fs::File;
use std::os::unix::fs::FileExt;

use super::files::Folder;
use super::layout::EVENTS;
use super::{Result, StoreError};

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

/// The cut a mover marked `folder` with; the least of several (a mover killed before its move
/// left one, and no seal is ever written before a move, so the least one is safe).
fn cut_of(folder: &Folder) -> Option<u64> {
    let names = folder.names().ok()?;
    names
        .iter()
        .filter_map(|name| name.strip_prefix(CUT)?.parse().ok())
        .min()
}

/// Appends the seal to the events of `folder`, moved away from its name, marked with `cut`:
/// returns where it starts, on a line of its own. A seal that cannot be written (a full disk)
/// takes the mark away instead and returns `None`: the folder is then as one moved by anyone
/// else, and a hook that wrote to it without the lock writes its event again itself, so the
/// mover must write none of its late lines. (A hook that looked while the mark was there, and
/// saw no seal yet, left its event to the mover: on a disk with no room for one line, that
/// event had none either.)
pub(super) fn seal(folder: &Folder, cut: u64) -> Option<u64> {
    let path = folder.path().join(EVENTS);
    let sealed = folder.append(EVENTS).and_then(|file| {
        super::append::append_lines(&file, &path, SEAL, SEAL.len(), super::append::Cut::Void)
    });
    if let Ok(landed) = sealed {
        Some(landed.whole)
    } else {
        unmark_cut(folder, cut);
        None
    }
}

/// The lines of `folder`'s events from `cut` to `seal`: written after the mover checked the
/// events and before it sealed them, by hooks that had no lock.
pub(super) fn late_lines(folder: &Folder, cut: u64, seal: u64) -> Result<Vec<u8>> {
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
    // The byte before `from` too: a seal starts a line.
    let before = from.min(1);
    let bytes = read_range(file, from - before, to)?;
    if before == 0 && bytes.starts_with(SEAL) {
        return Ok(true);
    }
    let mut line = Vec::with_capacity(SEAL.len() + 1);
    line.push(b'\n');
    line.extend_from_slice(SEAL);
    Ok(memchr::memmem::find(&bytes, &line).is_some())
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
}
