//! A model response that arrives in chunks (Gemini CLI's AfterModel hook fires once per
//! streamed chunk): its parts are kept in the session's `.response` file until its last chunk,
//! which renames it `.response.finished`; the session's next event folds it into the one
//! `llm_response` event readers see (by then the agent has written the response's exact
//! counts to its own log).
//!
//! Hook processes of one session's events come one at a time (the agent waits for each hook
//! before it goes on). A chunk's part is one `O_APPEND` write after a look at the file's last
//! lines (at most [`TAIL_LIMIT`] bytes, whatever the response's length), or, when the caller
//! rewrites those lines (a secret the stream cut in two, scrubbed whole), a truncation at the
//! start of the first line it replaces and one `O_APPEND` write of the new lines. Both are done
//! under a lock on the file itself, so that a stray second process never has its line cut off
//! by a truncation nor a line written in the middle of another; a lock busy past
//! [`HOOK_LOCK_WAIT`] is gone on without, and the truncation then still checks that the file
//! is as long as when it was read. The event that folds a response takes its file by renaming
//! it aside, so that a stray second process can never fold the same parts twice.

use std::io::{Read, Write};
use std::os::unix::fs::FileExt;

use super::layout::{RESPONSE, RESPONSE_FINISHED, RESPONSE_TAKEN};
use super::lock::{HOOK_LOCK_WAIT, wait_for_lock};
use super::{Result, Store, StoreError};

/// What a response's parts may hold, at most: a reply longer than this is cut at the fold (a
/// model's answer is kilobytes; this bounds what a runaway file could make a hook read).
const PARTS_LIMIT: u64 = 8 * 1024 * 1024;

/// How much of an open response's end a new part may look at, at most: the bytes of its last
/// lines, read at each chunk, so that a chunk costs the same at the response's first part and
/// at its thousandth. A line is a part's text and about 250 bytes of counts and model name, so
/// this holds the last 4 KiB of text (what the capture looks at) unless the chunks are very
/// small or very escaped.
const TAIL_LIMIT: u64 = 64 * 1024;

/// What a new part does to an open response's last lines (those [`Store::add_response_part`]
/// showed its `edit`): the first `keep` of them stay as they are, the others are replaced by
/// `lines` (whole lines, each ending in `\n`), which also hold the new part.
#[derive(Debug)]
pub struct PartEdit {
    pub keep: usize,
    pub lines: Vec<u8>,
}

/// Truncations tried again when the file grew between its read and its truncation (a stray
/// process writing without the lock), before the last try cuts what came in between.
const EDIT_TRIES: usize = 3;

impl Store {
    /// Starts a new open response for `session_id` with `line` (one JSON line the capture path
    /// reads back: the request it answers); a response still open is replaced.
    pub fn open_response(&self, session_id: &str, line: &[u8]) -> Result<()> {
        self.session_folder(session_id)?.write_new(RESPONSE, line)
    }

    /// Adds one part to the session's open response, opening one when there is none: `edit`
    /// is shown the response's last whole lines (without their `\n`, oldest first, those within
    /// its last [`TAIL_LIMIT`] bytes) and says which of them stay and what comes after them. When
    /// `finish`, the response is then set aside as finished, for
    /// [`Store::take_finished_response`] (a finished response not yet taken is replaced).
    /// Without `look_back` the edit is shown no line and must keep them all: nothing but the
    /// file's last byte is read, and no lock is taken (a part with nothing to scrub).
    pub fn add_response_part(
        &self,
        session_id: &str,
        finish: bool,
        look_back: bool,
        mut edit: impl FnMut(&[&[u8]]) -> PartEdit,
    ) -> Result<()> {
        let folder = self.session_folder(session_id)?;
        let path = folder.path().join(RESPONSE);
        let io = |e| StoreError::io(&path, e);
        let mut file = folder.append(RESPONSE)?;
        // Busy past a hook's wait, or not to be had (a file system without locks): gone on
        // without, the length check below still holding.
        let _locked = look_back && wait_for_lock(&file, HOOK_LOCK_WAIT).unwrap_or(false);
        let tail_limit = if look_back { TAIL_LIMIT } else { 1 };
        for tries_left in (0..EDIT_TRIES).rev() {
            let len = file.metadata().map_err(io)?.len();
            let start = len.saturating_sub(tail_limit);
            let mut tail = vec![0; usize::try_from(len - start).unwrap_or(0)];
            file.read_exact_at(&mut tail, start).map_err(io)?;
            // The first line is whole only when the read began at the file's start.
            let first = if start == 0 {
                0
            } else {
                tail.iter()
                    .position(|b| *b == b'\n')
                    .map_or(tail.len(), |i| i + 1)
            };
            let mut starts = Vec::new();
            let mut lines = Vec::new();
            let mut at = first;
            for line in tail[first..].split_inclusive(|b| *b == b'\n') {
                starts.push(start + at as u64);
                lines.push(line.strip_suffix(b"\n").unwrap_or(line));
                at += line.len();
            }
            let PartEdit { keep, lines: new } = edit(&lines);
            let mut bytes = Vec::with_capacity(new.len() + 1);
            if keep >= lines.len() {
                // A line a killed process left without its end is ended, not glued to ours.
                if tail.last().is_some_and(|b| *b != b'\n') {
                    bytes.push(b'\n');
                }
            } else {
                if tries_left > 0 && file.metadata().map_err(io)?.len() != len {
                    continue;
                }
                file.set_len(starts[keep]).map_err(io)?;
            }
            bytes.extend_from_slice(&new);
            file.write_all(&bytes).map_err(io)?;
            break;
        }
        if finish {
            folder.rename(RESPONSE, RESPONSE_FINISHED).map_err(io)?;
        }
        Ok(())
    }

    /// Takes the session's open response: its lines as written, and no open response left
    /// behind; `None` when there is none.
    pub fn take_response(&self, session_id: &str) -> Result<Option<Vec<u8>>> {
        self.take(session_id, RESPONSE)
    }

    /// Takes the response whose last part [`Store::finish_response`] added, as
    /// [`Store::take_response`] takes an open one.
    pub fn take_finished_response(&self, session_id: &str) -> Result<Option<Vec<u8>>> {
        self.take(session_id, RESPONSE_FINISHED)
    }

    fn take(&self, session_id: &str, name: &str) -> Result<Option<Vec<u8>>> {
        let folder = self.session_folder(session_id)?;
        match folder.rename(name, RESPONSE_TAKEN) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::io(&folder.path().join(name), e)),
        }
        let path = folder.path().join(RESPONSE_TAKEN);
        let mut bytes = Vec::new();
        if let Some(file) = folder.read(RESPONSE_TAKEN)? {
            file.take(PARTS_LIMIT)
                .read_to_end(&mut bytes)
                .map_err(|e| StoreError::io(&path, e))?;
        }
        folder.remove(RESPONSE_TAKEN)?;
        Ok(Some(bytes))
    }
}
