//! Reading every session's folded [`Summary`] from the index, one at a time, for aggregates
//! (such as `drift`) that need more than a listing's counters and must not read every events
//! file. Each summary is handed over as it is decoded, so that a command that keeps a few
//! figures of each never holds ten thousand summaries at once.

use super::{Index, IndexError};
use crate::model::summary::Summary;

impl Index {
    /// Hands `each` every session's id and summary as the last refresh folded it (call after a
    /// refresh, e.g. [`crate::store::Store::sessions`]). A session whose fold does not decode
    /// (damage: the index is rebuilt when the summary's version changes) is not handed over,
    /// for the caller to fold it from its events.
    pub fn each_summary(&self, mut each: impl FnMut(&str, Summary)) -> Result<(), IndexError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT s.session_id, f.fold FROM idx_folds f JOIN idx_sessions s USING (sid)",
            )
            .map_err(|e| self.sql_error(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.sql_error(e))?;
        while let Some(row) = rows.next().map_err(|e| self.sql_error(e))? {
            let id = row.get_ref(0).map_err(|e| self.sql_error(e))?;
            let fold = row.get_ref(1).map_err(|e| self.sql_error(e))?;
            if let (Ok(id), Ok(Ok(summary))) = (
                id.as_str(),
                fold.as_str().map(serde_json::from_str::<Summary>),
            ) {
                each(id, summary);
            }
        }
        Ok(())
    }
}
