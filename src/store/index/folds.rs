//! Reading every session's folded [`Summary`] from the index, for aggregates (such as `drift`)
//! that need more than a listing's counters and must not read every events file.

use super::{Index, IndexError};
use crate::model::summary::Summary;

/// Every decoded summary by session id, and the ids whose fold does not decode.
pub type Summaries = (Vec<(String, Summary)>, Vec<String>);

impl Index {
    /// Every session's summary as the last refresh folded it, by session id (call after a
    /// refresh, e.g. [`crate::store::Store::sessions`]), and the ids of sessions whose fold
    /// does not decode (damage: the index is rebuilt when the summary's version changes), for
    /// the caller to fold from their events.
    pub fn summaries(&self) -> Result<Summaries, IndexError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT s.session_id, f.fold FROM idx_folds f JOIN idx_sessions s USING (sid)",
            )
            .map_err(|e| self.sql_error(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.sql_error(e))?;
        let (mut out, mut undecodable) = (Vec::new(), Vec::new());
        while let Some(row) = rows.next().map_err(|e| self.sql_error(e))? {
            let id: String = row.get(0).map_err(|e| self.sql_error(e))?;
            let fold = row.get_ref(1).map_err(|e| self.sql_error(e))?;
            match fold.as_str().map(serde_json::from_str::<Summary>) {
                Ok(Ok(summary)) => out.push((id, summary)),
                _ => undecodable.push(id),
            }
        }
        Ok((out, undecodable))
    }
}
