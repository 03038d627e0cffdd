//! Bringing an imported transcript up to date: what an import read of its file, kept with the
//! session it made, and how the file compares with that now.
//!
//! Claude Code appends to a transcript for as long as its session runs, and again each time the
//! session is resumed. An import records, in the `.import` file of the session's folder (see
//! adr/0001-store-format.md), where it stopped reading: the byte offset after the last line it
//! read, and a hash of that line. The next import of the file compares that line only (and the
//! file's length): the same line at the same place means the file was appended to, so reading
//! carries on at the offset with the importer's state as it was then (the record's second line),
//! and the session's events are continued from the mark taken before the events that closed it
//! (see [`crate::store::Mark`]); another line there, or a shorter file, means the file was
//! rewritten, and it is imported again whole. Either way the session appears in the store at
//! once, in place of the old one.
//!
//! The record's first line is small and is all that an up-to-date check reads, so `import
//! --all` over files imported before reads each file's last line read, not the file.
//!
//! The record is on disk beside the session, so it holds nothing the session's events would
//! not: what it keeps of the transcript's text (tool names, files, a response's usage, the
//! transcript's path) is scrubbed as the events it goes into are ([`kept_text`]), and what it
//! matches later lines by (a tool-use id, an agent id) is kept as the importer keys it
//! ([`kept_id`]), the id itself or, where it holds a secret, a stand-in made from it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read as _, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::claude_transcript::{Boundary, OpenCall};
use crate::capture::sink::Privacy;
use crate::capture::transcript::repeats::Repeats;
use crate::capture::transcript::repeats::StableHasher;
use crate::capture::transcript::responses::{Counted, Response};
use crate::store::{Mark, Store, StoreError, open_regular};

/// The version of what an import writes for the lines of a transcript and of the state it keeps
/// to carry on. A session imported under another version (or under none: before records were
/// kept) is imported again whole rather than continued, so that one session never mixes two
/// ways of reading the same file. Bump it when the events made of a line change: 3 recorded a
/// Codex call's `workdir`; 4 reads Claude Code's API-error line as the turn's error (not an
/// answer and a `<synthetic>` response), names a shell line's files from where it started
/// (Gemini CLI's `dir_path` too) and keeps a Codex prompt wrapped in markup; 5 counts the usage
/// of a Codex rollout or Copilot events file a newer version resumed from its older part's
/// totals and its newer part's records both (4 left the totals out once a file held a record).
pub const FORMAT: u32 = 5;

/// An id of the transcript's (a tool-use id, an agent id) as the importer keys what waits for
/// it and the record keeps it: the id, or where it holds what is scrubbed, the stand-in made
/// from it (`redacted-` and 16 hex digits, the same each time, so that the line naming it
/// later still finds it).
pub fn kept_id<'a>(privacy: &Privacy, id: &'a str) -> Cow<'a, str> {
    privacy.apply_id(id).map_or(Cow::Borrowed(id), Cow::Owned)
}

/// A text of the transcript's as the record keeps it: scrubbed as a string of an event's data
/// is, so that the events a resumed import makes of it are the ones it would have made of the
/// text itself.
pub fn kept_text(privacy: &Privacy, text: &str) -> String {
    let mut value = serde_json::Value::String(text.to_owned());
    privacy.apply(&mut value);
    match value {
        serde_json::Value::String(kept) => kept,
        other => other.to_string(),
    }
}

/// The transcript's path as the record keeps it ([`canonical`]), scrubbed as its
/// `transcript_path` in the events is. A path that held a secret names no file then, and
/// [`check`] compares the file by its last line read, as it compares a file that was moved.
pub fn kept_path(privacy: &Privacy, path: &Path) -> PathBuf {
    let path = canonical(path);
    match privacy.apply_str(&path.to_string_lossy()) {
        Cow::Owned(scrubbed) => PathBuf::from(scrubbed),
        Cow::Borrowed(_) => path,
    }
}

/// What an import read of its transcript: the record's first line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Read {
    pub format: u32,
    /// The transcript, as an absolute path with links resolved.
    pub transcript: PathBuf,
    /// Bytes read: the offset just past the last line read.
    pub offset: u64,
    /// Lines read.
    pub lines: u64,
    /// Where the last line read starts, and its hash (`repeats::stable_hash`, hex).
    pub last_line_at: u64,
    pub last_line_hash: String,
    /// The length of the session's events file as the import left it: a session something else
    /// added to since (hooks sharing the session's id) is left as it is.
    pub events: u64,
}

/// One session of the file (the main conversation or a sidechain) as the import left it,
/// before the events that closed it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Context {
    pub session_id: String,
    pub mark: Mark,
    pub open_calls: HashMap<String, OpenCall>,
    /// The API response in progress when the file ended.
    pub response: Option<Response<String>>,
    pub last: f64,
}

/// A sidechain of the file (older Claude Code wrote subagents into the main file); `None` when
/// it was left out.
#[derive(Debug, Serialize, Deserialize)]
pub struct Sidechain {
    pub agent: String,
    pub context: Option<Context>,
}

/// The importer's state at the end of what it read: the record's second line.
#[derive(Debug, Serialize, Deserialize)]
pub struct State {
    pub last_timestamp: f64,
    pub counted: Counted,
    pub repeats: Repeats,
    /// The subagent each spawning call ran: agent id to the call's event id.
    pub agent_calls: HashMap<String, String>,
    pub main: Context,
    pub sidechains: Vec<Sidechain>,
    /// A compaction whose boundary was read last and whose summary was not.
    #[serde(default)]
    pub compaction: Option<Boundary>,
}

/// How a transcript compares with what the store holds of it.
#[derive(Debug, Clone)]
pub enum Freshness {
    /// Its session is not in the store.
    New,
    /// Its session was recorded by hooks (see [`super::existing`]).
    RecordedByHooks,
    /// Its session was imported from another file, which is still there.
    OtherFile(PathBuf),
    /// Something else (hooks with the same session id) added to the imported session since:
    /// the session is left as it is, and the `new_lines` the file gained since it was read
    /// are not added (an import never writes into a session hooks write to; see
    /// [`super::existing`]).
    AddedTo { new_lines: u64 },
    /// Everything in the file is in the store.
    UpToDate(Read),
    /// The file holds `new_lines` lines more than were read.
    Grown { read: Read, new_lines: u64 },
    /// The file is not what was read (rewritten, or shorter), or the session was imported by a
    /// version that kept no record, or another format of it: it is imported again whole.
    Rewritten(Rewritten),
}

/// Why a transcript is imported again whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rewritten {
    /// The line last read is not where it was, or the file is shorter. `events`: the length of
    /// the session's events file when the check found it as the import left it (`None` when
    /// the check could not be made): an append since, a hook's, keeps the session as it is
    /// ([`crate::store::SessionWriter::expect_stored_events`]).
    Changed { events: Option<u64> },
    /// The import kept no record, or one of another format.
    NoRecord,
}

impl Freshness {
    /// What the store lacks, in a word (`--discover`'s JSON).
    pub fn status(&self) -> &'static str {
        match self {
            Freshness::New => "new",
            Freshness::RecordedByHooks => "recorded_by_hooks",
            Freshness::OtherFile(_) => "imported_from_another_file",
            Freshness::AddedTo { .. } => "added_to",
            Freshness::UpToDate(_) => "up_to_date",
            Freshness::Grown { .. } => "grown",
            Freshness::Rewritten(Rewritten::Changed { .. }) => "rewritten",
            Freshness::Rewritten(Rewritten::NoRecord) => "outdated",
        }
    }

    /// The length of the session's events file the check found as the import left it: the
    /// session is replaced only while it is still that long, so that a hook's event appended
    /// after the check is never swapped away with it.
    pub fn checked_events(&self) -> Option<u64> {
        match self {
            Freshness::UpToDate(read) | Freshness::Grown { read, .. } => Some(read.events),
            Freshness::Rewritten(Rewritten::Changed { events }) => *events,
            _ => None,
        }
    }

    /// Whether an import would change the store.
    pub fn needs_import(&self) -> bool {
        matches!(
            self,
            Freshness::New | Freshness::Grown { .. } | Freshness::Rewritten(_)
        )
    }

    /// Lines the file gained since it was read that an import leaves out: its session was
    /// added to by something else (see [`Freshness::AddedTo`]).
    pub fn not_added(&self) -> Option<u64> {
        match self {
            Freshness::AddedTo { new_lines } if *new_lines > 0 => Some(*new_lines),
            _ => None,
        }
    }

    pub fn new_lines(&self) -> Option<u64> {
        match self {
            Freshness::Grown { new_lines, .. } => Some(*new_lines),
            _ => None,
        }
    }
}

/// How the transcript at `path` compares with the stored session `session_id`.
pub fn check(store: &Store, session_id: &str, path: &Path) -> Result<Freshness, StoreError> {
    let head = store.import_record_head(session_id)?;
    let events_len = head.as_ref().and_then(|h| h.events_len);
    let read = match head {
        Some(head) => serde_json::from_slice::<Read>(&head.line)
            .ok()
            .filter(|r| r.format == FORMAT),
        None if !store.has_session(session_id) => return Ok(Freshness::New),
        None if super::existing::recorded_by_hooks(store, session_id) => {
            return Ok(Freshness::RecordedByHooks);
        }
        None => None,
    };
    let Some(read) = read else {
        return Ok(Freshness::Rewritten(Rewritten::NoRecord));
    };
    let io = |e| StoreError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    // The path as given, made absolute, is the recorded one unless a link is on the way.
    let same_file = std::path::absolute(path).is_ok_and(|p| p == read.transcript)
        || canonical(path) == read.transcript;
    if !same_file && read.transcript.exists() {
        return Ok(Freshness::OtherFile(read.transcript));
    }
    let mut file = open_regular(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let rewritten = len < read.offset
        || line_hash(&mut file, read.last_line_at, read.offset).map_err(io)?
            != Some(read.last_line_hash.clone());
    // Imported again whole, a session hooks added to since would lose their events: it is
    // left as it is, as when the file grew.
    if rewritten && events_len != Some(read.events) {
        return Ok(Freshness::AddedTo { new_lines: 0 });
    }
    if rewritten {
        return Ok(Freshness::Rewritten(Rewritten::Changed {
            events: Some(read.events),
        }));
    }
    let new_lines = if len > read.offset {
        file.seek(SeekFrom::Start(read.offset)).map_err(io)?;
        count_lines(file).map_err(io)?
    } else {
        0
    };
    if events_len != Some(read.events) {
        return Ok(Freshness::AddedTo { new_lines });
    }
    Ok(if new_lines == 0 {
        Freshness::UpToDate(read)
    } else {
        Freshness::Grown { read, new_lines }
    })
}

/// The hash of the bytes `[from, to)` of `file` (the last line read), hex; `None` when the file
/// does not hold them.
pub fn line_hash(file: &mut std::fs::File, from: u64, to: u64) -> std::io::Result<Option<String>> {
    let Some(len) = to.checked_sub(from) else {
        return Ok(None);
    };
    file.seek(SeekFrom::Start(from))?;
    // In pieces: a last line skipped for its length can be gigabytes.
    let mut hasher = StableHasher::new(0, len);
    let mut piece = vec![0; len.min(1 << 20) as usize];
    let mut rest = file.take(len);
    let mut read = 0;
    loop {
        let n = match rest.read(&mut piece) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&piece[..n]);
        read += n as u64;
    }
    Ok((read == len).then(|| format!("{:016x}", hasher.finish())))
}

/// Lines from where `reader` stands to the end: complete lines, and a last one without its
/// newline when it is whole JSON (Claude Code may still be writing a line that does not parse).
fn count_lines(file: std::fs::File) -> std::io::Result<u64> {
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut lines = 0;
    let mut tail = Vec::new();
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        let n = chunk.len();
        #[expect(
            clippy::naive_bytecount,
            reason = "the compiler vectorises this loop; a crate for it is not worth it here"
        )]
        let newlines = chunk.iter().filter(|&&b| b == b'\n').count() as u64;
        lines += newlines;
        match chunk.iter().rposition(|&b| b == b'\n') {
            Some(i) => {
                tail.clear();
                tail.extend_from_slice(&chunk[i + 1..]);
            }
            // A line without its end yet: only its start is needed to know whether it is one.
            None if tail.len() < crate::store::LINE_LIMIT => tail.extend_from_slice(chunk),
            None => {}
        }
        reader.consume(n);
    }
    let tail = tail.trim_ascii();
    if !tail.is_empty()
        && crate::model::deep_json::from_slice::<serde::de::IgnoredAny>(tail).is_ok()
    {
        lines += 1;
    }
    Ok(lines)
}

/// The record of an import: [`Read`] on the first line, [`State`] on the second.
pub fn record(read: &Read, state: &State) -> Vec<u8> {
    let mut out = serde_json::to_vec(read).unwrap_or_default();
    out.push(b'\n');
    // Maps, sets, strings and numbers only: serialising cannot fail.
    out.extend(serde_json::to_vec(state).unwrap_or_default());
    out.push(b'\n');
    out
}

/// The state an import kept with the stored session `session_id`; `None` when it kept none
/// that this version reads.
pub fn state(store: &Store, session_id: &str) -> Result<Option<State>, StoreError> {
    let Some(record) = store.import_record(session_id)? else {
        return Ok(None);
    };
    let mut lines = record.splitn(3, |&b| b == b'\n');
    let read = lines
        .next()
        .and_then(|l| serde_json::from_slice::<Read>(l).ok());
    if read.is_none_or(|r| r.format != FORMAT) {
        return Ok(None);
    }
    Ok(lines.next().and_then(|l| serde_json::from_slice(l).ok()))
}

/// The transcript's path as records keep it: absolute, links resolved.
pub fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}
