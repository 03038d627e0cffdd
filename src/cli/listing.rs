//! Every session, from the index, for the commands that read across sessions; the one place
//! that says so when the index cannot be used.

use anyhow::Result;

use crate::store::{Listing, SessionSummary, Store, StoreError};

/// Every session, newest first, with a warning on stderr when the index was not used.
pub(crate) fn sessions(store: &Store) -> Result<Listing> {
    let listing = store.sessions()?;
    if let Some(warning) = &listing.warning {
        super::output::warn(warning);
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
