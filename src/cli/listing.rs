//! Every session, from the index, for the commands that read across sessions; the one place
//! that says so when the index cannot be used, and that warns about sessions it could not read
//! (one line each: a bad session never stops a command that reads them all).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;

use super::output::warn;
use crate::analysis::copies::Copy;
use crate::analysis::tree::Forest;
use crate::model::SessionMeta;
use crate::model::summary::Summary;
use crate::model::tools::Agent;
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
        if let Some(warning) = session.summary.meta_warning() {
            warn(warning);
        }
    }
    Ok(listing)
}

/// What tells one copy of each session of `listing` from another store's copy of it (see
/// [`crate::analysis::copies`]): its last event is when it ended, as the index keeps it.
pub(crate) fn copies(listing: &Listing) -> Vec<Copy> {
    listing
        .sessions
        .iter()
        .map(|s| {
            let meta = &s.summary.meta;
            Copy {
                session_id: meta.session_id.clone(),
                parent_session_id: meta.parent_session_id.clone(),
                events: s.summary.counters.as_ref().map_or(0, |c| c.events),
                last: meta.ended_at,
            }
        })
        .collect()
}

/// What tells this copy of a session from another store's (see [`crate::analysis::copies`]).
pub(crate) fn copy_of(meta: &SessionMeta, summary: &Summary) -> Copy {
    Copy {
        session_id: meta.session_id.clone(),
        parent_session_id: meta.parent_session_id.clone(),
        events: summary.counters.events,
        last: summary.counters.last_timestamp,
    }
}

/// The sessions of a command about the sessions `roots` and their subagents (see [`family`]).
pub(crate) struct Family {
    /// Every session the listing could read.
    pub sessions: Vec<SessionSummary>,
    /// Their hierarchy, those it could not read linking the subagents below them into their
    /// root's tree but left out of every walk ([`Forest::leaving_out`]).
    pub forest: Forest,
    /// The subagents of the roots the listing could not read, warned of: for a view that says
    /// what its figures leave out beside them (the share page).
    pub unread_subagents: Vec<String>,
}

/// Every session's metadata, as [`sessions`] gives them, for a command about the sessions `roots`
/// and their subagents: it warns when the index cannot be used, and once for each subagent of
/// theirs that cannot be read, which is left out (before, one such subagent failed `replay`,
/// `cost` and `stats --include-subagents` of its parent, and `replay --tree` left it out
/// without a word). Sessions it could not read that are no part of those trees are not named.
///
/// A store this user may enter but not list (mode 711) gives the sessions `roots` alone, with
/// a warning: their subagents cannot be found (the command failed, where `replay` of the
/// same session read it).
pub(crate) fn family(store: &Store, roots: &[&str]) -> Result<Family> {
    let listing = match store.sessions() {
        Err(StoreError::Io { path, source })
            if source.kind() == std::io::ErrorKind::PermissionDenied && path == store.root() =>
        {
            warn(format_args!(
                "{}: {source}; the store cannot be listed, so the subagents of {} are left out",
                path.display(),
                roots.join(", ")
            ));
            let sessions = roots
                .iter()
                .map(|id| store.summary(id))
                .collect::<Result<Vec<_>, _>>()?;
            let forest = Forest::new(sessions.iter().map(|s| s.meta.clone()));
            return Ok(Family {
                sessions,
                forest,
                unread_subagents: Vec::new(),
            });
        }
        other => other?,
    };
    if let Some(warning) = &listing.warning {
        warn(warning);
    }
    Ok(readable_family(store, listing, roots))
}

/// A session the listing could not read.
pub(crate) struct Unreadable<'a> {
    pub id: String,
    pub error: &'a StoreError,
    /// Its metadata, for one the listing does not hold, when that alone can be read
    /// ([`Listing::left_out`]): it says where the session belongs.
    pub meta: Option<SessionMeta>,
}

/// The sessions `listing` could not read, once each, in id order.
pub(crate) fn unreadable<'a>(store: &Store, listing: &'a Listing) -> Vec<Unreadable<'a>> {
    store
        .sessions_holding(&listing.unreadable)
        .into_iter()
        .map(|(id, error)| {
            let meta = listing
                .left_out
                .iter()
                .find(|m| m.session_id == id)
                .cloned();
            Unreadable { id, error, meta }
        })
        .collect()
}

/// The listing's sessions without those it could not read, having warned of each that is a
/// subagent of one of `roots`, and their hierarchy. The metadata of one it could not read,
/// when that can be read, says where it belongs ([`Listing::left_out`]): the subagents below
/// it stay in their root's tree (they were left out of it without a word).
pub(crate) fn readable_family(store: &Store, listing: Listing, roots: &[&str]) -> Family {
    let mut left_out = unreadable(store, &listing);
    let listed = listing.sessions.iter().map(|s| s.summary.meta.clone());
    let forest = Forest::new(listed.chain(left_out.iter_mut().filter_map(|u| u.meta.take())));
    let mut unread_subagents = Vec::new();
    if !left_out.is_empty() {
        for root in roots {
            for id in forest.descendants(root).into_iter().skip(1) {
                if let Some(u) = left_out.iter().find(|u| u.id == id) {
                    warn(format_args!("left out subagent session {id}: {}", u.error));
                    unread_subagents.push(id);
                }
            }
        }
    }
    let left_out: BTreeSet<String> = left_out.into_iter().map(|u| u.id).collect();
    let sessions = listing
        .sessions
        .into_iter()
        .map(|s| s.summary)
        .filter(|s| !left_out.contains(&s.meta.session_id))
        .collect();
    Family {
        sessions,
        forest: forest.leaving_out(left_out),
        unread_subagents,
    }
}

/// Hands `each` every session of `store` whose summary can be had, with its metadata: from the
/// index first, in its order; then, in the listing's order, folded from their events, those
/// the index cannot give (it cannot be used, `sessions` has warned; their fold is missing or
/// damaged; it failed midway, said here once). For aggregates that need more than a listing's
/// counters without reading every events file. One at a time, so that a command that keeps a few figures of each session
/// never holds every summary at once (ten thousand of them are a hundred megabytes, most of
/// a command's time in page faults). Returns the metadata of the sessions the listing could
/// not read ([`crate::store::Listing::left_out`]).
pub(crate) fn each_summary(
    store: &Store,
    mut each: impl FnMut(&SessionMeta, Summary),
) -> Result<Vec<SessionMeta>> {
    let mut listing = sessions(store)?;
    let left_out = std::mem::take(&mut listing.left_out);
    let metas: Vec<&SessionMeta> = listing.sessions.iter().map(|s| &s.summary.meta).collect();
    let at: BTreeMap<&str, usize> = metas
        .iter()
        .enumerate()
        .map(|(i, meta)| (meta.session_id.as_str(), i))
        .collect();
    // Which sessions were handed over, so that those the index could not give are folded
    // from their events, and none twice.
    let mut handed = vec![false; metas.len()];
    if let Some(index) = listing.index.as_ref() {
        // An index that fails midway leaves the rest unhanded, to be folded below; one whose
        // fold of a session does not decode leaves that session so too.
        let read = index.each_summary(|id, summary| {
            if let Some(&i) = at.get(id).filter(|&&i| !handed[i]) {
                handed[i] = true;
                each(metas[i], summary);
            }
        });
        if let Err(err) = read {
            warn(format_args!(
                "{err}; the sessions it did not give are folded from their events"
            ));
        }
    }
    let now = crate::store::system_time();
    for (meta, _) in metas.iter().zip(&handed).filter(|(_, handed)| !**handed) {
        let Ok(events) = store.events(&meta.session_id) else {
            continue;
        };
        let agent = Agent::from_name(&meta.agent_name);
        let mut summary = Summary::default();
        for event in events {
            summary.observe(agent, &event, now);
        }
        each(meta, summary);
    }
    Ok(left_out)
}
