//! Following a session while it is written (`replay --follow`): the events appended since the
//! last look, whole lines only, and a wait that sleeps until the session's folder changes.
//!
//! On Linux the wait is an inotify watch on the session's folder (writers append to
//! `events.ndjson` there, and an import moves a whole folder in): the process sleeps in
//! `poll` until the kernel says something changed, and wakes once a second regardless, to
//! notice a folder replaced under it. Elsewhere it looks every quarter of a second. Either way
//! it never spins. The watch only wakes the reader: what is read still comes through the
//! descriptor the store opened without following links.
//!
//! What is read is bounded however the file grows (a chunk at a time, a line of at most
//! [`LINE_LIMIT`]), a stop asked for (Ctrl-C) is heeded between chunks, and a file cut in place
//! is read again from its start: one shorter than what was read of it, or one whose bytes before
//! where the reading got to are not those read (cut and written again past that length between
//! two looks).

use std::collections::HashSet;
use std::fs::File;
use std::hash::{BuildHasher, RandomState};
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::files::LINE_LIMIT;
use super::holes::skip_hole;
use super::layout::EVENTS;
use super::reader::parse_line;
use super::{BadLine, Result, Store, StoreError};
use crate::model::Event;

/// The events of a session, read as they are appended.
pub struct Follower {
    store: Store,
    session_id: String,
    path: PathBuf,
    file: Option<File>,
    /// The bytes of a line not finished yet.
    partial: Vec<u8>,
    /// The line being read is longer than [`LINE_LIMIT`]: its rest is dropped.
    skipping: bool,
    /// A hash of each line read as an event, to pass over those a file cut in place or
    /// replaced gives again once it is read from its start.
    lines_read: HashSet<u64>,
    hashing: RandomState,
    /// The file is read again from its start: a line read before is passed over.
    rereading: bool,
    line: u64,
    bad: Vec<BadLine>,
    bad_count: u64,
    /// The last bytes read (at most [`TAIL`]), which end where the reading got to.
    tail: Vec<u8>,
    /// The last cut in place not yet taken by [`Follower::take_cut`].
    cut: Option<Cut>,
    /// Set when the reader is asked to stop (see [`Follower::stop_on`]).
    stop: Option<Arc<AtomicBool>>,
    /// The most bytes one [`Follower::read_new`] reads (see [`Follower::in_batches_of`]).
    batch_bytes: Option<usize>,
    /// The last read stopped at `batch_bytes` with more of the file to read.
    more: bool,
    /// What was put in the file's place and is not followed (see [`Follower::take_refused`]),
    /// and why, until said.
    not_followed: Option<Identity>,
    refused: Option<String>,
    watch: Watch,
}

/// The events file was cut in place (or `replaced` by another file): `was` bytes of it had
/// been read, and it now holds `now`. It is read again from its start, its events read before
/// passed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cut {
    pub was: u64,
    pub now: u64,
    pub replaced: bool,
}

/// How much of the events file is read at a time.
const CHUNK: usize = 1024 * 1024;

/// How many of the last bytes read are kept to tell the file still holds them: enough for
/// whole events (their ids and times) at the end of what was read, however alike their ends are.
const TAIL: usize = 4096;

impl Store {
    /// Starts following a session's events from their beginning.
    pub fn follow(&self, session_id: &str) -> Result<Follower> {
        let folder = self.session_folder(session_id)?;
        let watch = Watch::new(folder.path());
        let file = folder.read(EVENTS)?;
        Ok(Follower {
            store: self.clone(),
            session_id: session_id.to_owned(),
            path: self.session_dir(session_id).join(EVENTS),
            file,
            partial: Vec::new(),
            skipping: false,
            lines_read: HashSet::new(),
            hashing: RandomState::new(),
            rereading: false,
            line: 0,
            bad: Vec::new(),
            bad_count: 0,
            tail: Vec::new(),
            cut: None,
            stop: None,
            batch_bytes: None,
            more: false,
            not_followed: None,
            refused: None,
            watch,
        })
    }
}

impl Follower {
    /// Makes [`Follower::read_new`] return between two chunks once `stop` is set: a file that
    /// grew by a long hole (one `truncate` makes terabytes of it) takes hours to read, and a
    /// Ctrl-C went unheeded all that time. What is left is read by the next call.
    pub fn stop_on(&mut self, stop: Arc<AtomicBool>) {
        self.stop = Some(stop);
    }

    /// The whole events appended since the last call, in file order; a line still being
    /// written waits for its end. The file is read [`CHUNK`] bytes at a time, so what is held
    /// is one chunk and one line of at most [`LINE_LIMIT`], however much the file grew; a
    /// stop asked for (see [`Follower::stop_on`]) ends the read between two chunks.
    pub fn read_new(&mut self) -> Result<Vec<Event>> {
        if self.file.is_none() || self.replaced() {
            self.reopen()?;
        }
        let Some(mut file) = self.file.take() else {
            return Ok(Vec::new());
        };
        let read = self.read_from(&mut file);
        self.file = Some(file);
        read
    }

    /// Makes each [`Follower::read_new`] read at most about `bytes` (whole chunks), so that
    /// what a reader holds of a long file at once is bounded: [`Follower::has_more`] then says
    /// whether to read again before waiting.
    pub fn in_batches_of(&mut self, bytes: usize) {
        self.batch_bytes = Some(bytes);
    }

    /// Whether the last read stopped short of the file's end (see [`Follower::in_batches_of`]).
    pub fn has_more(&self) -> bool {
        self.more
    }

    fn read_from(&mut self, file: &mut File) -> Result<Vec<Event>> {
        self.restart_if_cut(file)?;
        let mut events = Vec::new();
        let mut chunk = vec![0; CHUNK];
        let mut taken = 0;
        self.more = false;
        loop {
            if self.stopped() {
                return Ok(events);
            }
            if self.batch_bytes.is_some_and(|most| taken >= most) {
                self.more = true;
                return Ok(events);
            }
            if self.tail.last() == Some(&0) {
                skip_hole(file).map_err(|e| StoreError::io(&self.path, e))?;
            }
            let n = match file.read(&mut chunk) {
                Ok(0) => return Ok(events),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(StoreError::io(&self.path, e)),
            };
            taken += n;
            self.take(&chunk[..n], &mut events);
            self.remember(&chunk[..n]);
        }
    }

    /// Keeps the last [`TAIL`] bytes of what was read, `bytes` the last of it.
    fn remember(&mut self, bytes: &[u8]) {
        let keep = TAIL.saturating_sub(bytes.len()).min(self.tail.len());
        self.tail.drain(..self.tail.len() - keep);
        self.tail
            .extend_from_slice(&bytes[bytes.len().saturating_sub(TAIL)..]);
    }

    /// Whether `file` still holds the bytes last read just before `at`, where the reading got
    /// to.
    fn still_holds_tail(&self, file: &File, at: u64) -> Result<bool> {
        use std::os::unix::fs::FileExt;
        let Some(from) = at.checked_sub(self.tail.len() as u64) else {
            return Ok(false);
        };
        let mut now = vec![0; self.tail.len()];
        match file.read_exact_at(&mut now, from) {
            Ok(()) => Ok(now == self.tail),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
            Err(e) => Err(StoreError::io(&self.path, e)),
        }
    }

    fn stopped(&self) -> bool {
        self.stop
            .as_ref()
            .is_some_and(|stop| stop.load(Ordering::Relaxed))
    }

    /// Reads `file` again from its start when it is shorter than what was read of it, or when
    /// the bytes last read are not there any more: it was cut in place (no writer of ours does
    /// that), and maybe written again past that length between two looks. Reading on from
    /// where it was would pass over what is written next until the file is as long again, and
    /// then start mid-line; a watch would not see the calls made meanwhile. What it holds now
    /// is read as new events, and [`Follower::take_cut`] says so.
    fn restart_if_cut(&mut self, file: &mut File) -> Result<()> {
        use std::io::{Seek, SeekFrom};
        let io = |e| StoreError::io(&self.path, e);
        let at = file.stream_position().map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len >= at && self.still_holds_tail(file, at)? {
            return Ok(());
        }
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        self.cut = Some(Cut {
            was: at,
            now: len,
            replaced: false,
        });
        self.rereading = true;
        self.tail.clear();
        self.partial.clear();
        self.skipping = false;
        self.line = 0;
        Ok(())
    }

    /// Takes the bytes read next: each whole line becomes an event (or a bad line), the rest
    /// waits for its end.
    fn take(&mut self, bytes: &[u8], events: &mut Vec<Event>) {
        let mut rest = bytes;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            let (piece, after) = rest.split_at(end);
            rest = &after[1..];
            if self.skipping {
                self.skipping = false;
                self.partial.clear();
                continue;
            }
            self.line += 1;
            if self.partial.len() + piece.len() > LINE_LIMIT {
                self.skip_long(piece);
                continue;
            }
            self.partial.extend_from_slice(piece);
            let line = std::mem::take(&mut self.partial);
            let text = line.trim_ascii();
            if text.is_empty() {
                continue;
            }
            let parsed = parse_line(text);
            let key = self.hashing.hash_one(text);
            // A line read before, given again by a file cut or replaced, is passed over: a bad
            // one is said once, as an event is counted once.
            if !self.lines_read.insert(key) && self.rereading {
                continue;
            }
            match parsed {
                Ok(event) => events.push(event),
                Err(message) => self.report(message),
            }
        }
        if !self.skipping {
            if self.partial.len() + rest.len() > LINE_LIMIT {
                self.line += 1;
                self.skip_long(rest);
                self.skipping = true;
            } else {
                self.partial.extend_from_slice(rest);
            }
        }
    }

    /// Skips the line `partial` and `more` begin, longer than [`LINE_LIMIT`]; said
    /// once, like a bad line (told by its first [`TAIL`] bytes: hashing all of its 64 MiB held a
    /// watch up for seconds).
    fn skip_long(&mut self, more: &[u8]) {
        use std::hash::Hasher;
        let mut hasher = self.hashing.build_hasher();
        let head = &self.partial[..self.partial.len().min(TAIL)];
        hasher.write(head);
        hasher.write(&more[..(TAIL - head.len()).min(more.len())]);
        self.partial.clear();
        if self.lines_read.insert(hasher.finish()) || !self.rereading {
            self.report(format!("line longer than {} MiB", LINE_LIMIT >> 20));
        }
    }

    /// Sleeps until the session's folder may have changed, or `at_most` has passed.
    pub fn wait(&mut self, at_most: Duration) {
        self.watch.wait(at_most);
    }

    /// Lines skipped so far (the first few; see [`Follower::bad_count`] for all).
    pub fn bad_lines(&self) -> &[BadLine] {
        &self.bad
    }

    pub fn bad_count(&self) -> u64 {
        self.bad_count
    }

    /// The cut in place found since the last call, if any (see [`Follower::read_new`]).
    pub fn take_cut(&mut self) -> Option<Cut> {
        self.cut.take()
    }

    fn report(&mut self, message: String) {
        self.bad_count += 1;
        if self.bad.len() < 20 {
            self.bad.push(BadLine {
                path: self.path.clone(),
                line: self.line,
                message,
            });
        }
    }

    /// Whether the events file was replaced (an import moved a new folder in) since it was
    /// opened.
    fn replaced(&self) -> bool {
        use std::os::unix::fs::MetadataExt;
        let (Some(file), Some(now)) = (&self.file, Identity::of(&self.path)) else {
            return false;
        };
        Some(now) != self.not_followed
            && file
                .metadata()
                .is_ok_and(|was| (was.dev(), was.ino()) != (now.dev, now.ino))
    }

    /// Why what was put in the events file's place is not followed, once: a link, a FIFO or a
    /// folder; the file open is read on.
    pub fn take_refused(&mut self) -> Option<String> {
        self.refused.take()
    }

    /// Opens the events file again from its start, passing over the events already read: an
    /// import that moved a new folder in gives them again, and so does a file restored or
    /// rotated; one with fewer lines than were read (a line deleted by hand, a file made
    /// anew) lost its first new events when as many lines as were read were passed over.
    fn reopen(&mut self) -> Result<()> {
        let opened = self
            .store
            .session_folder(&self.session_id)
            .and_then(|folder| folder.read(EVENTS));
        let file = match opened {
            Ok(file) => file,
            Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                None
            }
            // Put in the file's place by someone, a link, a FIFO or a folder is left alone,
            // and the file open is read on: the reader ended there (a watch's rules with it).
            Err(e) if self.file.is_some() => {
                let now = Identity::of(&self.path);
                // Said once for each thing put there: one refused already that only changed
                // since (a FIFO written to) is not said again.
                let again =
                    matches!((now, self.not_followed), (Some(n), Some(w)) if n.same_file(&w));
                if !again {
                    self.refused = Some(e.to_string());
                }
                self.not_followed = now;
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        self.not_followed = None;
        if let Some(new) = &file {
            // Said once something was read, of this file or of one before it.
            if !self.lines_read.is_empty() {
                let was = self
                    .file
                    .as_mut()
                    .and_then(|old| std::io::Seek::stream_position(old).ok())
                    .unwrap_or(0);
                self.cut = Some(Cut {
                    was,
                    now: new.metadata().map_or(0, |m| m.len()),
                    replaced: true,
                });
            }
            self.rereading = true;
            self.tail.clear();
            self.partial.clear();
            self.skipping = false;
            self.line = 0;
        }
        self.file = file;
        Ok(())
    }
}

/// What a path names itself (a link is not followed), told apart from what is put in its place
/// next: its device and inode, and its type and when its inode last changed, since a
/// filesystem gives a freed inode to the next file made (a regular file put where a refused
/// link was took the link's inode, was taken for the link, and was never read), and a file
/// refused once may be readable since (its mode changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
    kind: std::fs::FileType,
    changed: (i64, i64),
}

impl Identity {
    fn of(path: &std::path::Path) -> Option<Identity> {
        use std::os::unix::fs::MetadataExt;
        std::fs::symlink_metadata(path).ok().map(|m| Identity {
            dev: m.dev(),
            ino: m.ino(),
            kind: m.file_type(),
            changed: (m.ctime(), m.ctime_nsec()),
        })
    }

    /// Whether both are the same file, whatever changed in it since.
    fn same_file(&self, other: &Identity) -> bool {
        (self.dev, self.ino, self.kind) == (other.dev, other.ino, other.kind)
    }
}

/// What wakes a follower: an inotify watch on the session's folder where there is one.
struct Watch {
    #[cfg(target_os = "linux")]
    inotify: Option<std::os::fd::OwnedFd>,
}

/// How long a follower without notifications sleeps between looks.
const LOOK_EVERY: Duration = Duration::from_millis(250);

impl Watch {
    #[cfg(target_os = "linux")]
    fn new(folder: &std::path::Path) -> Watch {
        use rustix::fs::inotify::{self, CreateFlags, WatchFlags};
        let inotify = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)
            .ok()
            .filter(|fd| {
                let flags = WatchFlags::MODIFY
                    | WatchFlags::CLOSE_WRITE
                    | WatchFlags::CREATE
                    | WatchFlags::MOVED_TO
                    | WatchFlags::DELETE_SELF
                    | WatchFlags::MOVE_SELF
                    | WatchFlags::ONLYDIR;
                inotify::add_watch(fd, folder, flags).is_ok()
            });
        Watch { inotify }
    }

    #[cfg(not(target_os = "linux"))]
    fn new(_folder: &std::path::Path) -> Watch {
        Watch {}
    }

    #[cfg(target_os = "linux")]
    fn wait(&mut self, at_most: Duration) {
        use rustix::event::{PollFd, PollFlags, Timespec, poll};
        use rustix::fs::inotify;
        let Some(fd) = &self.inotify else {
            std::thread::sleep(at_most.min(LOOK_EVERY));
            return;
        };
        let timeout = Timespec {
            tv_sec: at_most.as_secs().try_into().unwrap_or(i64::MAX),
            tv_nsec: at_most.subsec_nanos().into(),
        };
        let mut fds = [PollFd::new(fd, PollFlags::IN)];
        if matches!(poll(&mut fds, Some(&timeout)), Ok(n) if n > 0) {
            // What changed does not matter, only that something did: drain the queue.
            let mut buf = [std::mem::MaybeUninit::uninit(); 4096];
            let mut reader = inotify::Reader::new(fd, &mut buf);
            while reader.next().is_ok() {}
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn wait(&mut self, at_most: Duration) {
        std::thread::sleep(at_most.min(LOOK_EVERY));
    }
}
