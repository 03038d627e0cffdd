//! A model response that arrives in chunks (Gemini CLI's AfterModel hook fires once per
//! streamed chunk): its parts are kept in the session's `.response` file until its last chunk,
//! which renames it `.response.finished`; the session's next event folds it into the one
//! `llm_response` event readers see (by then the agent has written the response's exact
//! counts to its own log).
//!
//! Hook processes of one session's events come one at a time (the agent waits for each hook
//! before it goes on), so the files need no lock: each chunk is one `O_APPEND` write, and the
//! event that folds a response takes its file by renaming it aside, so that a stray second
//! process can never fold the same parts twice.

use std::io::{Read, Write};

use super::layout::{RESPONSE, RESPONSE_FINISHED, RESPONSE_TAKEN};
use super::{Result, Store, StoreError};

/// What a response's parts may hold, at most: a reply longer than this is cut at the fold (a
/// model's answer is kilobytes; this bounds what a runaway file could make a hook read).
const PARTS_LIMIT: u64 = 8 * 1024 * 1024;

impl Store {
    /// Starts a new open response for `session_id` with `line` (one JSON line the capture path
    /// reads back: the request it answers); a response still open is replaced.
    pub fn open_response(&self, session_id: &str, line: &[u8]) -> Result<()> {
        self.session_folder(session_id)?.write_new(RESPONSE, line)
    }

    /// Appends one part (one JSON line) to the session's open response, opening one when there
    /// is none.
    pub fn add_response_part(&self, session_id: &str, line: &[u8]) -> Result<()> {
        let folder = self.session_folder(session_id)?;
        let mut file = folder.append(RESPONSE)?;
        file.write_all(line)
            .map_err(|e| StoreError::io(&folder.path().join(RESPONSE), e))
    }

    /// Adds the last part (`line`) to the session's open response and sets the response aside
    /// as finished, for [`Store::take_finished_response`]; a finished response not yet taken is
    /// replaced.
    pub fn finish_response(&self, session_id: &str, line: &[u8]) -> Result<()> {
        self.add_response_part(session_id, line)?;
        let folder = self.session_folder(session_id)?;
        folder
            .rename(RESPONSE, RESPONSE_FINISHED)
            .map_err(|e| StoreError::io(&folder.path().join(RESPONSE), e))
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
