//! `watchdog-postmortem.json`: what `watch` writes into a session's folder when a rule kills
//! its agent. Written whole under a temporary name and renamed, so a reader (an `--on-death`
//! script) never sees half of it; a later kill replaces it.

use std::path::PathBuf;

use super::{Result, Store, StoreError};

/// The file's name, as the Python tool names it.
pub const POSTMORTEM: &str = "watchdog-postmortem.json";
const WRITING: &str = ".watchdog-postmortem.json.writing";

impl Store {
    /// Writes a session's post-mortem and returns its path.
    pub fn write_postmortem(&self, session_id: &str, bytes: &[u8]) -> Result<PathBuf> {
        let folder = self.session_folder(session_id)?;
        let path = self.postmortem_path(session_id);
        folder.write_new(WRITING, bytes)?;
        folder
            .rename(WRITING, POSTMORTEM)
            .map_err(|e| StoreError::io(&path, e))?;
        Ok(path)
    }

    /// Where the session's post-mortem is written.
    pub fn postmortem_path(&self, session_id: &str) -> PathBuf {
        self.session_dir(session_id).join(POSTMORTEM)
    }
}
