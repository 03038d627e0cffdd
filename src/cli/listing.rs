//! Every session, from the index, for the commands that read across sessions; the one place
//! that says so when the index cannot be used, and that warns about sessions it could not read
//! (one line each: a bad session never stops a command that reads them all).

use anyhow::Result;

use super::output::warn;
use crate::store::{Listing, SessionSummary, Store, StoreError};

/// Every session, newest first, with a warning on stderr when the index was not used, for each
/// session skipped, and for each one whose `meta.json` could not be used.
pub(crate) fn sessions(store: &Store) -> Result<Listing> {
    let listing = store.sessions()?;
    if let Some(warning) = &listing.warning {
        warn(warning);
    }
    for err in &listing.unreadable {
        warn(format_args!("skipped a session: {err}"));
    }
    for session in &listing.sessions {
        if let Some(why) = &session.summary.meta_error {
            warn(format_args!(
                "{why}; the session is shown as its events tell it"
            ));
        }
    }
    Ok(listing)
}

/// Every session's metadata with counters caught up, newest first, as [`Store::list`] gives
/// them, but from the index.
pub(crate) fn list(store: &Store) -> Result<(Vec<SessionSummary>, Vec<StoreError>)> {
    let listing = sessions(store)?;
    Ok((
        listing.sessions.into_iter().map(|s| s.summary).collect(),
        listing.unreadable,
    ))
}
