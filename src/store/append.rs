//! Appending events: one `write` per event on a file opened for appending, never a torn line.
//!
//! Writes to a file opened with `O_APPEND` land whole and in some order even with many
//! writers: the kernel holds the file for the whole of each one. A writer that died mid-line
//! can leave the file without its final newline, and the next event written then joins that
//! torn line. So each writer looks, after its write, at the byte before where its event landed;
//! when that byte ends no line, the event is written once more, whole, on a line of its own.
//! The torn line and the event glued to it stay one bad line, which readers skip.
//!
//! The look comes after the write because before it nothing can be known: a large write by
//! another writer still under way shows a last byte that is not yet its newline, and starting
//! an event on a fresh line then left a blank line, which strict readers fail on.
//!
//! The events of one hook event (a result and the file it read, a call and its denial) are
//! written in one `write` ([`Store::append_all`]), so that they land all together or not at
//! all. A write cut short (a full disk, a file size limit) would leave the first of them whole
//! and the story half told: the bytes that landed are ours alone, so they are overwritten in
//! place with `#` (keeping a final newline), a line no reader takes for an event and no event
//! glued to it makes whole. A proxy's [`Appender`] gathers events that each stand alone: of a
//! write cut short, the whole lines that landed are kept, and what landed of the line it cut is
//! taken back off the file's end.
//!
//! Under a file size limit (`ulimit -f`) a write is never started that would cross it: lines
//! that tell one story are not written at all, and of an [`Appender`]'s batch only the whole
//! lines that fit, short of [`ROOM_FOR_THE_END`], so the events that say why the writer
//! stopped and end its session still fit after.

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, FileExt};
use std::path::Path;

use super::files::Folder;
use super::layout::{self, EVENTS, GITIGNORE, GITIGNORE_TEXT, META};
use super::lock::{HOOK_LOCK_WAIT, LockGuard, share_folder};
use super::{Result, Store, StoreError, moved};
use crate::model::{Event, SessionMeta};

impl Store {
    /// Creates the store's directory (with a `.gitignore`, since traces hold prompts and
    /// output) if it is not there yet. Only the store's own folder is made: its parent must
    /// exist, so that a path from a payload never becomes a tree of new folders. It is made
    /// readable by its owner alone (0700): the sessions in it hold prompts, files and tool
    /// output, and the store's folder is the one gate in front of them all, whatever the
    /// umask gave their own modes. A folder that is there already keeps its mode.
    pub fn ensure_root(&self) -> Result<()> {
        self.made_root().map(drop)
    }

    /// The store's folder, made first when it is not there (see [`Store::ensure_root`]). A
    /// workspace's store ([`Store::workspace`]) is made with the project's store and the
    /// `workspaces` folder between them, as the Python tool makes them on a workspace's first
    /// session.
    pub(crate) fn made_root(&self) -> Result<Folder> {
        let (root, made) = self.root_made()?;
        if made {
            self.catalogue_it();
        }
        Ok(root)
    }

    /// The store's folder, and whether this call made it, not catalogued yet: a caller that
    /// makes a session's folder next catalogues the store once for both (a catalogue read costs
    /// milliseconds once it lists tens of thousands of stores).
    fn root_made(&self) -> Result<(Folder, bool)> {
        match self.root_folder() {
            Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            }
            // Another user's folder: what is written there is theirs to read.
            Ok(root) if !root.owned_by_us()? => {
                return Err(StoreError::ForeignStore(self.root.clone()));
            }
            other => return other.map(|root| (root, false)),
        }
        let made = match self.workspace() {
            Some((project, name)) => Store::new(project)
                .with_catalogue(self.catalogue.clone())
                .made_root()?
                .child_made_with_mode(layout::WORKSPACES, STORE_MODE)?
                .make_child_with_mode(name, STORE_MODE)?,
            None => self.made_own_folder()?,
        };
        let root = self.root_folder()?;
        if made && let Ok(Some(file)) = root.create_new(GITIGNORE) {
            write_gitignore(&file);
        }
        Ok((root, made))
    }

    /// Adds the store to the catalogue (when this handle has one) unless it is listed: on its
    /// first write, and again whenever a session's folder is made in it, so that a store that
    /// was moved, or whose registration lost the race for the catalogue's lock to other hooks,
    /// is catalogued at its next session. A store already listed costs a read of the catalogue.
    /// A catalogue that cannot be written loses only `--all-projects`' view of this store, never
    /// the write itself.
    fn catalogue_it(&self) {
        if let Some(catalogue) = &self.catalogue {
            let _ = catalogue.register(&self.root, true);
        }
    }

    /// Makes the store's folder, whose parent must exist; true when this call made it.
    fn made_own_folder(&self) -> Result<bool> {
        match std::fs::DirBuilder::new()
            .mode(STORE_MODE)
            .create(&self.root)
        {
            Ok(()) => Ok(true),
            // Another writer made it at the same moment.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            // Only when it is so: a folder that is there but takes no new folders
            // (`/proc/self`) answers the same.
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    && !self.root.parent().is_some_and(Path::is_dir) =>
            {
                Err(StoreError::io(
                    &self.root,
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "its parent folder does not exist, and the store makes only its own folder",
                    ),
                ))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StoreError::io(
                &self.root,
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("its parent folder takes no new folder ({e})"),
                ),
            )),
            Err(e) => Err(StoreError::io(&self.root, e)),
        }
    }

    /// Makes a session's folder; true when this call made it. Exactly one of many processes
    /// doing this at once gets true.
    pub fn claim_session_dir(&self, session_id: &str) -> Result<bool> {
        if !layout::is_valid_session_id(session_id) {
            return Err(StoreError::InvalidSessionId(session_id.to_owned()));
        }
        let (root, made_root) = self.root_made()?;
        let made = root.make_child(session_id)?;
        if made {
            mend_gitignore(&root);
        }
        if made || made_root {
            self.catalogue_it();
        }
        Ok(made)
    }

    /// Gives back a folder made by [`Store::claim_session_dir`] whose meta could not be
    /// written: removed while empty, so that the next [`Store::claim_session_dir`] makes it
    /// again. Anything in it (another hook's event) keeps it.
    pub fn release_session_dir(&self, session_id: &str) {
        if layout::is_valid_session_id(session_id)
            && let Ok(root) = self.root_folder()
        {
            root.remove_empty_child(session_id);
        }
    }

    /// Creates a session with `meta` unless it exists. Returns whether this call created it.
    /// Safe against other processes creating the same session at the same moment: exactly one
    /// of them writes `meta.json`.
    pub fn create_session(&self, meta: &SessionMeta) -> Result<bool> {
        if !layout::is_valid_session_id(&meta.session_id) {
            return Err(StoreError::InvalidSessionId(meta.session_id.clone()));
        }
        let (root, made_root) = self.root_made()?;
        // The folder may exist already (made by `claim_session_dir`); that is fine.
        let made = root.make_child(&meta.session_id)?;
        if made {
            mend_gitignore(&root);
        }
        if made || made_root {
            self.catalogue_it();
        }
        let created = write_first_meta(&root, meta);
        // A folder this call made and could not give a meta (out of file descriptors, say) is
        // taken away again while empty: left, it would hide the session from every reader
        // while a caller that tries again sees it there and skips the meta.
        if made && created.is_err() {
            root.remove_empty_child(&meta.session_id);
        }
        created
    }

    /// Appends one event to its session's `events.ndjson`.
    pub fn append(&self, event: &Event) -> Result<()> {
        self.append_all(std::slice::from_ref(event))
    }

    /// Appends events of one session to its `events.ndjson` in one write: all of them land,
    /// or none does (see the module's text).
    pub fn append_all(&self, events: &[Event]) -> Result<()> {
        let Some(session) = events.first().map(|e| e.session_id.as_str()) else {
            return Ok(());
        };
        let corrupt = |message: String| StoreError::Corrupt {
            path: self.session_dir(session).join(EVENTS),
            message,
        };
        let mut lines = Vec::new();
        let mut first = 0;
        for event in events {
            if event.session_id != session {
                return Err(corrupt(format!(
                    "events of sessions {session} and {} cannot be written as one",
                    event.session_id
                )));
            }
            serde_json::to_writer(&mut lines, event)
                .map_err(|e| corrupt(format!("event does not serialise: {e}")))?;
            lines.push(b'\n');
            if first == 0 {
                first = lines.len();
            }
        }
        self.append_lines_to(session, &lines, first, Cut::Void, None)
            .map(drop)
    }

    /// Writes `lines` (whole lines, the first `first` bytes long) to the events of `session` in
    /// one write, `cut` saying what becomes of a write cut short; returns the events file it
    /// landed in. One made without the folder's lock into a folder moved away from the name
    /// meanwhile is written again under the name, unless the mover writes it again (see
    /// [`super::moved`]); a session deleted meanwhile is started again for it. `gone` is a
    /// folder of the session these lines were for, moved away already (a mover's) or maybe
    /// since (an [`Appender`]'s): with one, a session no longer in the store is started again
    /// for them, its agent and command taken from it.
    pub(super) fn append_lines_to(
        &self,
        session: &str,
        lines: &[u8],
        first: usize,
        cut: Cut,
        mut gone: Option<Folder>,
    ) -> Result<File> {
        for _ in 0..WRITES_AGAIN {
            let (dir, turn) = match (self.appending_to(session), &gone) {
                (Err(StoreError::Io { source, .. }), Some(gone))
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    self.start_again(session, gone)?;
                    continue;
                }
                (found, _) => found?,
            };
            let path = dir.path().join(EVENTS);
            let file = match dir.append(EVENTS) {
                // Removed whole since it was found (a deletion): nothing of it to look at.
                Err(StoreError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound
                        && !self
                            .session_folder(session)
                            .is_ok_and(|now| now.is_same(&dir)) =>
                {
                    gone = Some(dir);
                    continue;
                }
                opened => opened?,
            };
            let landed = append_lines(&file, &path, lines, first, cut)?;
            if turn.is_some()
                || self
                    .session_folder(session)
                    .is_ok_and(|now| now.is_same(&dir))
            {
                return Ok(file);
            }
            if moved::written_again_by_mover(&dir, &file, landed.start, landed.end)
                .map_err(|e| StoreError::io(&path, e))?
            {
                return Ok(file);
            }
            gone = Some(dir);
        }
        Err(StoreError::LockTimeout(self.session_dir(session)))
    }

    /// Makes the folder of `session` again, deleted while a hook wrote to it without the lock
    /// (the event is for a session begun anew, as any event of a session not in the store):
    /// with the agent and command of its folder `gone`, when that still tells them.
    fn start_again(&self, session: &str, gone: &Folder) -> Result<()> {
        let mut meta = SessionMeta::new(session, super::system_time());
        if let Ok(before) = super::meta::read_meta_in(gone, session) {
            meta.agent_name = before.agent_name;
            meta.command = before.command;
        }
        if self.create_session(&meta)? {
            self.init_counters(session)?;
        }
        Ok(())
    }

    /// The folder of `session` to append to, with its shared lock held. An import that swaps
    /// a copy of the session in for it takes that lock exclusive to look at the events, so an
    /// event lands before the look (and the import keeps the session as it is) or after the
    /// swap, in the folder put in place: a folder swapped away while its lock was awaited is
    /// left for the one now under the name. A lock still busy after [`HOOK_LOCK_WAIT`] is gone
    /// without (a hook never waits longer), as is a folder deleted while its lock was awaited:
    /// the caller then looks, once written, whether its folder is still the session's.
    fn appending_to(&self, session: &str) -> Result<(Folder, Option<LockGuard>)> {
        let mut dir = self.session_folder(session)?;
        for _ in 0..APPEND_TRIES {
            let turn = share_folder(&dir, HOOK_LOCK_WAIT);
            let now = match self.session_folder(session) {
                Ok(now) => now,
                Err(StoreError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    return Ok((dir, None));
                }
                Err(e) => return Err(e),
            };
            if now.is_same(&dir) {
                return Ok((dir, turn));
            }
            dir = now;
        }
        Ok((dir, None))
    }
}

/// How many times a write made into a folder moved away meanwhile is made again: each time
/// takes another move of the session during the write.
const WRITES_AGAIN: usize = 8;

/// The mode a store's folder is made with: its owner's alone (see [`Store::ensure_root`]).
const STORE_MODE: u32 = 0o700;

/// Fills the store's new `.gitignore`, `file`. One that could not be filled whole (a full
/// disk, a file size limit) is left as it is, for [`mend_gitignore`] to finish.
fn write_gitignore(file: &File) {
    let _ = (&*file).write_all(GITIGNORE_TEXT);
}

/// Writes the store's `.gitignore` again when it holds only a start of ours (nothing at all,
/// as a store made on a full disk left it): an empty one ignores nothing, and every session
/// then showed in `git status`, to be committed. Done once per new session, so a store mends
/// itself when there is room again. A file with anything else in it is the user's, and one
/// who wants traces in git removes it.
fn mend_gitignore(root: &Folder) {
    let Ok(Some(size)) = root.regular_size(GITIGNORE) else {
        return;
    };
    if size >= GITIGNORE_TEXT.len() as u64 {
        return;
    }
    let mut held = Vec::new();
    let started = root
        .read(GITIGNORE)
        .is_ok_and(|file| file.is_some_and(|f| (&f).read_to_end(&mut held).is_ok()));
    if started
        && GITIGNORE_TEXT.starts_with(&held)
        && root.remove(GITIGNORE).is_ok()
        && let Ok(Some(file)) = root.create_new(GITIGNORE)
    {
        write_gitignore(&file);
    }
}

#[cfg(test)]
fn append_line(file: &File, path: &Path, line: &[u8]) -> Result<()> {
    append_lines(file, path, line, line.len(), Cut::Void).map(drop)
}

/// What becomes of the lines that landed of a write cut short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cut {
    /// Voided: lines that tell one story together, none of them is kept.
    Void,
    /// Kept, the rest written after them: lines that each stand alone.
    KeepWhole,
}

/// How many times a line glued to a torn one is written again. Each try fails only when a
/// writer died mid-line just before it, so more than a second is for a store under attack.
const APPEND_TRIES: usize = 3;

/// Where lines written by [`append_lines`] landed in their file.
pub(super) struct Landed {
    /// Where the lines begin.
    pub start: u64,
    /// Where the first line begins on a line of its own: `start`, or where it was written
    /// again after a torn line.
    pub whole: u64,
    /// Where the last write ends.
    pub end: u64,
}

/// Writes `lines` (whole lines, the first `first` bytes long) in one `write`, and writes the
/// first line again when it was glued to a torn line (see the module's text). When a write is
/// cut short, `cut` says what becomes of what landed.
pub(super) fn append_lines(
    file: &File,
    path: &Path,
    lines: &[u8],
    first: usize,
    cut: Cut,
) -> Result<Landed> {
    let io = |e| StoreError::io(path, e);
    let start = write_landed_at(file, lines, cut).map_err(io)?;
    let mut at = start;
    let mut end = start + lines.len() as u64;
    for _ in 0..APPEND_TRIES {
        if !follows_torn_line(file, at).map_err(io)? {
            break;
        }
        at = match write_landed_at(file, &lines[..first], cut) {
            Ok(at) => at,
            Err(e) => {
                // The first line is lost (glued to the torn one): the others go with it.
                if cut == Cut::Void {
                    let _ = void(file, start + first as u64, &lines[first..]);
                }
                return Err(io(e));
            }
        };
        end = at + first as u64;
    }
    Ok(Landed {
        start,
        whole: at,
        end,
    })
}

/// What a batch of lines that each stand alone ([`Cut::KeepWhole`]) leaves unwritten under a
/// file size limit: room for the events a writer that stops writes last (why it stopped, its
/// session's end), which are a few hundred bytes.
const ROOM_FOR_THE_END: u64 = 8 * 1024;

/// Of `bytes`, what may be written under the process's file size limit when not all of it may:
/// with [`Cut::KeepWhole`] the whole lines that fit short of [`ROOM_FOR_THE_END`], with
/// [`Cut::Void`] none. `None` when all of it may (or there is no limit).
fn within_the_limit(file: &File, bytes: &[u8], cut: Cut) -> Option<usize> {
    use rustix::process::{Resource, getrlimit};
    let limit = getrlimit(Resource::Fsize).current?;
    fits_in(
        bytes,
        limit.saturating_sub(file.metadata().ok()?.len()),
        cut,
    )
}

/// [`within_the_limit`] where `room` bytes are left before the limit.
fn fits_in(bytes: &[u8], room: u64, cut: Cut) -> Option<usize> {
    let room = match cut {
        Cut::KeepWhole => room.saturating_sub(ROOM_FOR_THE_END),
        Cut::Void => room,
    };
    if bytes.len() as u64 <= room {
        return None;
    }
    let fits = match cut {
        Cut::KeepWhole => bytes[..room as usize]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |end| end + 1),
        Cut::Void => 0,
    };
    Some(fits)
}

/// Writes `bytes` at the end of the file and says where they began. A write cut short is voided
/// (see [`void`]) and is an error, or with [`Cut::KeepWhole`] is finished by a second write; one
/// that would cross a file size limit is not made ([`within_the_limit`]).
fn write_landed_at(file: &File, bytes: &[u8], cut: Cut) -> std::io::Result<u64> {
    use std::io::Seek;
    if let Some(fits) = within_the_limit(file, bytes, cut) {
        if fits > 0 {
            write_landed_at(file, &bytes[..fits], cut)?;
        }
        return Err(std::io::Error::from_raw_os_error(
            rustix::io::Errno::FBIG.raw_os_error(),
        ));
    }
    let mut file = file;
    let written = loop {
        match file.write(bytes) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            other => break other?,
        }
    };
    // After a write to a file opened for appending, its offset is the end of that write.
    let start = file.stream_position()? - written as u64;
    if written < bytes.len() && cut == Cut::KeepWhole {
        // Short only when the disk is full or past a file size limit: the rest then fails with
        // the reason, or lands (another writer may have come between: a torn line, at worst).
        if let Err(e) = file.write_all(&bytes[written..]) {
            take_back_torn_line(file, start, bytes);
            return Err(e);
        }
        return Ok(file.stream_position()? - bytes.len() as u64);
    }
    if written < bytes.len() {
        // Short only when the disk is full or past a file size limit. The rest is not
        // written: it would land after another writer's events, glued to a torn line.
        let ours = &bytes[..written];
        if void(file, start, ours).is_ok() && ours.last() != Some(&b'\n') {
            // The voided bytes end no line: ending it lets the next event start clean.
            let _ = file.write_all(b"\n");
        }
        return Err(cut_short(start + written as u64, written, bytes.len()));
    }
    Ok(start)
}

/// After a write of `bytes` at `start` cut short (a full disk), takes what landed of the line it
/// cut back off the file's end, keeping the whole lines before it, so that no half line is
/// left; when another writer's bytes came after ours (the file ends elsewhere), or the file
/// cannot be cut, the line is ended instead, so that the next event starts clean.
fn take_back_torn_line(file: &File, start: u64, bytes: &[u8]) {
    use std::io::Seek;
    let mut file = file;
    let Ok(end) = file.stream_position() else {
        return;
    };
    let landed = (end.saturating_sub(start) as usize).min(bytes.len());
    let whole = bytes[..landed]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    if whole == landed {
        return;
    }
    let ours_last = file.metadata().is_ok_and(|m| m.len() == end);
    if !(ours_last && file.set_len(start + whole as u64).is_ok()) {
        let _ = file.write_all(b"\n");
    }
}

/// Overwrites `ours`, the bytes of ours that landed at `start`, with `#`, a final newline
/// kept: no reader takes the line for an event, nor an event that another writer glued to it
/// (it writes that event again, whole). Only bytes of this write are touched: other writers'
/// events, before or after, are left as they are.
fn void(file: &File, start: u64, ours: &[u8]) -> std::io::Result<()> {
    use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
    if ours.is_empty() {
        return Ok(());
    }
    let mut filler = vec![b'#'; ours.len()];
    if ours.last() == Some(&b'\n') {
        filler[ours.len() - 1] = b'\n';
    }
    // A positioned write on a file opened for appending lands at the end (Linux): appending is
    // turned off on this descriptor, which is ours alone, for the overwrite.
    let flags = fcntl_getfl(file)?;
    fcntl_setfl(file, flags - OFlags::APPEND)?;
    let written = file.write_all_at(&filler, start);
    fcntl_setfl(file, flags)?;
    written
}

/// The error of a write cut short after `written` of `wanted` bytes, ending at `end`: a file
/// size limit when `end` is at it, else most likely a full disk.
fn cut_short(end: u64, written: usize, wanted: usize) -> std::io::Error {
    use rustix::process::{Resource, getrlimit};
    let limit = getrlimit(Resource::Fsize).current;
    if limit.is_some_and(|limit| end >= limit) {
        return std::io::Error::from_raw_os_error(rustix::io::Errno::FBIG.raw_os_error());
    }
    std::io::Error::new(
        std::io::ErrorKind::WriteZero,
        format!(
            "only {written} of {wanted} bytes could be written (a full disk?); \
             none of them is kept"
        ),
    )
}

/// Whether the byte before `start` ends no line: a writer died mid-line there.
fn follows_torn_line(file: &File, start: u64) -> std::io::Result<bool> {
    if start == 0 {
        return Ok(false);
    }
    let mut before = [0u8; 1];
    file.read_exact_at(&mut before, start - 1)?;
    Ok(before[0] != b'\n')
}

/// A session's events appended by a long-running writer (a proxy, the collector). Events are
/// gathered and written whole, many lines in one write, when the writer has a moment
/// ([`Appender::flush`]) or the batch grows large. Each batch is written as a hook's event is
/// ([`Store::append_lines_to`]): into the folder under the session's name at that moment, with
/// its lock shared, taken once for the batch; so a batch written while an import swaps the
/// session or retention deletes it is kept, never left in the folder moved away.
pub struct Appender {
    store: Store,
    session: String,
    /// The session's folder when the appender was opened: a session deleted since is started
    /// again for the batch, with its agent and command when this still tells them.
    folder: Folder,
    path: std::path::PathBuf,
    /// The events file the last batch landed in, for [`Appender::sync`].
    written_to: Option<File>,
    pending: Vec<u8>,
    /// Bytes of the lines appended so far.
    appended: u64,
}

/// The most an appender gathers before it writes.
const BATCH: usize = 64 * 1024;

impl Store {
    /// Opens a session, which must exist, for a stream of appends.
    pub fn appender(&self, session_id: &str) -> Result<Appender> {
        let folder = self.session_folder(session_id)?;
        Ok(Appender {
            store: self.clone(),
            session: session_id.to_owned(),
            path: folder.path().join(EVENTS),
            folder,
            written_to: None,
            pending: Vec::with_capacity(BATCH),
            appended: 0,
        })
    }
}

impl Appender {
    pub fn append(&mut self, event: &Event) -> Result<()> {
        let start = self.pending.len();
        if let Err(e) = serde_json::to_writer(&mut self.pending, event) {
            self.pending.truncate(start);
            return Err(StoreError::Corrupt {
                path: self.path.clone(),
                message: format!("event does not serialise: {e}"),
            });
        }
        self.pending.push(b'\n');
        self.appended += (self.pending.len() - start) as u64;
        if self.pending.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    /// Whether events appended are still gathered, not yet written: false once every event
    /// appended so far is in the file (a writer that must know which of its events were
    /// written when a later write fails asks after each append).
    pub fn has_gathered(&self) -> bool {
        !self.pending.is_empty()
    }

    /// The bytes of the lines appended so far, written or gathered (a line written again after
    /// a torn one counts once).
    pub fn appended(&self) -> u64 {
        self.appended
    }

    /// Writes what has been gathered.
    pub fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let first = self
            .pending
            .iter()
            .position(|&b| b == b'\n')
            .map_or(self.pending.len(), |i| i + 1);
        let result = self.folder.try_clone().and_then(|folder| {
            self.store.append_lines_to(
                &self.session,
                &self.pending,
                first,
                Cut::KeepWhole,
                Some(folder),
            )
        });
        self.pending.clear();
        self.written_to = Some(result?);
        Ok(())
    }

    /// Writes what has been gathered and flushes the file's data to the disk (`fdatasync`), for
    /// a writer that answers for the events only once they would survive a power cut.
    pub fn sync(&mut self) -> Result<()> {
        self.flush()?;
        match &self.written_to {
            Some(file) => file.sync_data().map_err(|e| StoreError::io(&self.path, e)),
            None => Ok(()),
        }
    }
}

/// Writes `meta.json` into its session's folder unless one is there; whether it did.
fn write_first_meta(root: &Folder, meta: &SessionMeta) -> Result<bool> {
    let dir = root.session(&meta.session_id)?;
    let meta_path = dir.path().join(META);
    // Whatever is there (even a link someone planted) is the session's meta: it is never
    // written through.
    if dir
        .size_of(META)
        .map_err(|e| StoreError::io(&meta_path, e))?
        .is_some()
    {
        return Ok(false);
    }
    let temp = format!(".meta.{}.tmp", std::process::id());
    if let Err(e) = dir.write_new(&temp, meta.to_json().as_bytes()) {
        // A part written (a full disk) would keep the folder from being taken away again.
        let _ = dir.remove(&temp);
        return Err(e);
    }
    // A hard link never replaces an existing file: the first creator wins, the rest see
    // AlreadyExists and leave the winner's meta alone.
    let created = match dir.link(&temp, META) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
        Err(e) => {
            let _ = dir.remove(&temp);
            return Err(StoreError::io(&meta_path, e));
        }
    };
    let _ = dir.remove(&temp);
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Through the binary the name cannot be known in time: it carries the writer's process id.
    #[test]
    fn a_link_in_place_of_the_temporary_meta_is_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let store = Store::new(dir.path().join(".agent-traces"));
        store.claim_session_dir("s").unwrap();
        let temp = store
            .session_dir("s")
            .join(format!(".meta.{}.tmp", std::process::id()));
        std::os::unix::fs::symlink(&victim, &temp).unwrap();
        assert!(store.create_session(&SessionMeta::new("s", 1.0)).unwrap());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(store.read_meta("s").unwrap().session_id, "s");
        assert!(std::fs::symlink_metadata(&temp).is_err());
    }

    #[test]
    fn under_a_file_size_limit_a_batch_takes_the_whole_lines_that_leave_room_for_the_end() {
        let room = ROOM_FOR_THE_END;
        let lines = b"{\"a\":1}\n{\"b\":2}\n";
        assert_eq!(fits_in(lines, room + 16, Cut::KeepWhole), None);
        assert_eq!(fits_in(lines, room + 15, Cut::KeepWhole), Some(8));
        assert_eq!(fits_in(lines, room + 8, Cut::KeepWhole), Some(8));
        assert_eq!(fits_in(lines, room + 7, Cut::KeepWhole), Some(0));
        assert_eq!(fits_in(lines, 0, Cut::KeepWhole), Some(0));
        // Lines that tell one story are written whole to the last byte, or not at all.
        assert_eq!(fits_in(lines, 16, Cut::Void), None);
        assert_eq!(fits_in(lines, 15, Cut::Void), Some(0));
    }

    #[test]
    fn a_batch_cut_short_takes_back_what_landed_of_the_line_it_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.ndjson");
        std::fs::write(&path, b"{\"a\":1}\n{\"b\":2}\n{\"c\"").unwrap();
        let file = Folder::open(dir.path())
            .unwrap()
            .append("events.ndjson")
            .unwrap();
        // Where the cut write left the file's offset.
        std::io::Seek::seek(&mut &file, std::io::SeekFrom::End(0)).unwrap();
        take_back_torn_line(&file, 8, b"{\"b\":2}\n{\"c\":3}\n");
        assert_eq!(std::fs::read(&path).unwrap(), b"{\"a\":1}\n{\"b\":2}\n");
    }

    #[test]
    fn a_torn_tail_does_not_swallow_the_next_event() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.ndjson");
        std::fs::write(&path, b"{\"event_type\":\"tool_call\",\"timest").unwrap();
        let file = Folder::open(dir.path())
            .unwrap()
            .append("events.ndjson")
            .unwrap();
        append_line(&file, &path, b"{\"ok\":1}\n").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().last(), Some("{\"ok\":1}"));
    }

    #[test]
    fn an_event_glued_to_a_torn_line_is_written_again_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.ndjson");
        std::fs::write(&path, b"{\"a\":1}\n{\"event_type\":\"tool_call\",\"timest").unwrap();
        let file = Folder::open(dir.path())
            .unwrap()
            .append("events.ndjson")
            .unwrap();
        append_line(&file, &path, b"{\"ok\":1}\n").unwrap();
        append_line(&file, &path, b"{\"ok\":2}\n").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "{\"a\":1}\n{\"event_type\":\"tool_call\",\"timest{\"ok\":1}\n{\"ok\":1}\n{\"ok\":2}\n"
        );
    }

    #[test]
    fn a_batch_glued_to_a_torn_line_writes_its_first_event_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join(".agent-traces"));
        assert!(store.create_session(&SessionMeta::new("s", 1.0)).unwrap());
        let path = store.session_dir("s").join(EVENTS);
        std::fs::write(&path, b"{\"torn").unwrap();
        let mut appender = store.appender("s").unwrap();
        for n in 0..3 {
            let mut event = Event::new(
                crate::model::EventType::UserPrompt,
                2.0,
                format!("e{n}"),
                "s".into(),
            );
            event.data = serde_json::json!({"n": n});
            appender.append(&event).unwrap();
        }
        appender.flush().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[0].starts_with("{\"torn{"));
        let numbers: Vec<i64> = lines[1..]
            .iter()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["data"]["n"]
                    .as_i64()
                    .unwrap()
            })
            .collect();
        assert_eq!(numbers, [1, 2, 0]);
    }
}
