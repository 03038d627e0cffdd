//! `export --format ndjson` without a rewrite: each session's event lines copied as the store
//! holds them, one session at a time, so that the export is the store's bytes and its memory
//! is one line's, whatever the session's size.

use std::io::Write;

use anyhow::Result;

use super::output::warn_bad_lines;
use crate::export::Exported;
use crate::store::Store;

/// Writes to `out` the event lines of `session` and its subagents (their metadata read, their
/// events not), the session's then each subagent's, parents before children, as
/// [`crate::export::session::write_ndjson`] orders them. A line the store's readers read as
/// no event is left out, with the warning they give; every other line is copied byte for
/// byte: parsed and written again, a `NaN` or `1e999` became `null` or a string and `-1e300`
/// became `-1e+300`.
pub(crate) fn write(store: &Store, session: &Exported, out: &mut dyn Write) -> Result<()> {
    for (i, s) in session.all().into_iter().enumerate() {
        let id = &s.meta.session_id;
        let mut reader = match store.events(id) {
            Ok(reader) => reader,
            // As a subagent whose events cannot be read is left out of every export.
            Err(e) if i > 0 => {
                super::export::warn_left_out_subagent(id, &e.into());
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        while let Some(line) = reader.next_line() {
            out.write_all(line)?;
            out.write_all(b"\n")?;
        }
        warn_bad_lines(reader.bad_lines(), reader.bad_count());
    }
    Ok(())
}
