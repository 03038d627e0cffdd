//! Reading the index: the sessions a listing shows, and the figures cached for layers above.

use std::collections::HashMap;

use rusqlite::params;

use super::scan::look_while_reading;
use super::{Index, IndexError, IndexedSession};
use crate::model::SessionMeta;
use crate::model::meta_cut::LeftOut;
use crate::store::layout::META;
use crate::store::{SessionSummary, Store, StoreError};

impl Index {
    /// Every session as [`Index::read_sessions`] gives it, after bringing the index up to date.
    ///
    /// Looking at every session's files and reading the index are independent, so they run at
    /// once (see [`look_while_reading`]): most reads find nothing stale, and then the rows read
    /// meanwhile are the answer.
    pub(super) fn read_fresh_sessions(
        &mut self,
        store: &Store,
    ) -> Result<(Vec<IndexedSession>, Vec<StoreError>), IndexError> {
        let (known, on_disk, read) = look_while_reading(
            store,
            || self.known(),
            |known| self.read_sessions(store, known.len()),
        )
        .map_err(|e| self.sql_error(e))?;
        let (on_disk, refused) = on_disk?;
        let read = if on_disk.iter().all(|d| !d.stale) && !known.strays() {
            read
        } else {
            let sessions = known.len();
            self.bring_up_to_date(store, on_disk, known)?;
            self.read_sessions(store, sessions)
        };
        read.map(|(sessions, mut unreadable)| {
            unreadable.extend(store.unusable_folders(&refused));
            (sessions, unreadable)
        })
    }

    /// Every indexed session, newest first (ties by id, last first), and the sessions whose
    /// metadata is unreadable; room is made for about `sessions` of them at once.
    pub(super) fn read_sessions(
        &self,
        store: &Store,
        sessions: usize,
    ) -> Result<(Vec<IndexedSession>, Vec<StoreError>), IndexError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT session_id, meta_error, started_at, ended_at, agent_name, command,
                    tool_calls, llm_requests, errors, total_tokens, total_duration_ms,
                    parent_session_id, parent_event_id, depth, meta_extra, first_prompt, events,
                    transcript_path, cost_pico, estimated, rejections, unpriced, turn_errors,
                    unbelieved_usage
                 FROM idx_sessions",
            )
            .map_err(|e| self.sql_error(e))?;
        let mut listed = Vec::with_capacity(sessions);
        let mut unreadable = Vec::new();
        let mut rows = stmt.query([]).map_err(|e| self.sql_error(e))?;
        while let Some(row) = rows.next().map_err(|e| self.sql_error(e))? {
            let get = || -> rusqlite::Result<Result<IndexedSession, StoreError>> {
                let id: String = row.get(0)?;
                let meta_error = row.get::<_, Option<String>>(1)?;
                // A meta.json that cannot be used hides nothing when there are events to
                // describe the session; without them there is nothing to show.
                if let Some(message) = &meta_error
                    && row.get::<_, Option<u64>>(16)?.unwrap_or(0) == 0
                {
                    return Ok(Err(StoreError::Corrupt {
                        path: store.session_dir(&id).join(META),
                        message: message.clone(),
                    }));
                }
                let meta_error = meta_error.map(|message| {
                    format!("{}: {message}", store.session_dir(&id).join(META).display())
                });
                let extra = row
                    .get::<_, Option<String>>(14)?
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .unwrap_or_default();
                let mut meta = SessionMeta {
                    session_id: id,
                    started_at: row.get(2)?,
                    ended_at: row.get(3)?,
                    agent_name: row.get(4)?,
                    command: row.get(5)?,
                    tool_calls: row.get::<_, u64>(6)?,
                    llm_requests: row.get::<_, u64>(7)?,
                    errors: row.get::<_, u64>(8)?,
                    total_tokens: row.get::<_, u64>(9)?,
                    total_duration_ms: row.get(10)?,
                    parent_session_id: row.get(11)?,
                    parent_event_id: row.get(12)?,
                    depth: row.get::<_, u64>(13)?,
                    extra,
                    left_out: LeftOut::default(),
                    held: Vec::new(),
                };
                super::fold::restore_counts(&mut meta);
                // The parent a subagent's id names, for one whose meta.json cannot be used:
                // read now, as its row keeps what was known when it was folded (by an earlier
                // version, or before the parent came into the store).
                if meta_error.is_some()
                    && meta.parent_session_id.is_none()
                    && let Some((parent, call)) =
                        crate::store::layout::parent_named_by(&meta.session_id, |p| {
                            store.has_session(p)
                        })
                {
                    meta.parent_session_id = Some(parent.to_owned());
                    meta.parent_event_id = call.map(str::to_owned);
                }
                let rejections = row.get::<_, Option<u64>>(20)?.unwrap_or(0);
                let turn_errors = row.get::<_, Option<u64>>(22)?.unwrap_or(0);
                Ok(Ok(IndexedSession {
                    // No counters: the row's counts are in `meta`, and counters built for each
                    // of ten thousand sessions (some 900 bytes, none of it read) were most of
                    // what a listing's sessions took and moved about.
                    summary: SessionSummary {
                        meta,
                        counters: None,
                        meta_error,
                        rejections,
                        turn_errors,
                    },
                    first_prompt: row.get(15)?,
                    transcript_path: row.get(17)?,
                    cost: Some((
                        super::fold::money(row.get(18)?).unwrap_or_default(),
                        row.get::<_, Option<bool>>(19)?.unwrap_or(false),
                    )),
                    unpriced: row
                        .get::<_, Option<String>>(21)?
                        .map(|names| names.lines().map(str::to_owned).collect())
                        .unwrap_or_default(),
                    unbelieved_usage: row.get::<_, Option<u64>>(23)?.unwrap_or(0),
                }))
            };
            match get().map_err(|e| self.sql_error(e))? {
                Ok(s) => listed.push(s),
                Err(e) => unreadable.push(e),
            }
        }
        newest_first(&mut listed, |meta| store.start_to_order_by(meta));
        Ok((listed, unreadable))
    }

    /// Every cached figure called `name`, by session id, with the key it was computed for.
    /// A session's cached figures are dropped whenever its files change.
    pub fn derived(&self, name: &str) -> Result<Derived, IndexError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT s.session_id, d.key, d.value FROM idx_derived d
                 JOIN idx_sessions s USING (sid) WHERE d.name = ?1",
            )
            .map_err(|e| self.sql_error(e))?;
        stmt.query_map([name], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
            .and_then(Iterator::collect)
            .map(Derived)
            .map_err(|e| self.sql_error(e))
    }

    /// Caches figures computed from sessions (by a layer above the store), as
    /// `(session id, key, value)`. An index this reader may only read (another user's store,
    /// read-only by design: docs/security.md) keeps none, and that is no failure: its owner's
    /// next run caches them.
    pub fn put_derived(
        &mut self,
        name: &str,
        entries: &[(String, String, String)],
    ) -> Result<(), IndexError> {
        if entries.is_empty() || self.read_only {
            return Ok(());
        }
        let (path, file, damaged) = (&self.path, self.file, &self.damaged);
        let sql = |source| super::schema::sqlite_error(path, file, damaged, source);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql)?;
        {
            let mut stmt = tx
                .prepare(
                    "INSERT OR REPLACE INTO idx_derived (sid, name, key, value)
                     SELECT sid, ?2, ?3, ?4 FROM idx_sessions WHERE session_id = ?1",
                )
                .map_err(sql)?;
            for (id, key, value) in entries {
                stmt.execute(params![id, name, key, value]).map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)
    }
}

/// Sorts `sessions` newest first by `start` (ties by id, last first). A session is a few hundred bytes,
/// so the order is found on small keys and then each session moved into its place by swaps,
/// at most once each, in place: neither a sort's many moves nor a second copy of them all.
/// (SQLite's `ORDER BY` costs more: it copies every row into its sorter first.)
fn newest_first(sessions: &mut [IndexedSession], start: impl Fn(&SessionMeta) -> f64) {
    // Sorted on (start, position) pairs side by side, so that comparing two reaches into
    // neither session, except for the id of a tie.
    let mut keys: Vec<(f64, usize)> = sessions
        .iter()
        .enumerate()
        .map(|(i, s)| (start(&s.summary.meta), i))
        .collect();
    keys.sort_by(|&(a_start, a), &(b_start, b)| {
        b_start.total_cmp(&a_start).then_with(|| {
            let (a, b) = (&sessions[a].summary.meta, &sessions[b].summary.meta);
            b.session_id.cmp(&a.session_id)
        })
    });
    let mut order: Vec<usize> = keys.into_iter().map(|(_, i)| i).collect();
    // Position `i` takes the session first at `order[i]`; one found at an earlier position has
    // been swapped away from there, so its trail of swaps is followed to where it is now.
    for i in 0..order.len() {
        let mut from = order[i];
        while from < i {
            from = order[from];
        }
        order[i] = from;
        sessions.swap(i, from);
    }
}

/// Figures a layer above the store computed from sessions and cached in the index, by session
/// id, each with the key it was computed for.
#[derive(Debug, Default)]
pub struct Derived(HashMap<String, (String, String)>);

impl Derived {
    /// The figures cached for `id`, when they were computed for `key` and still decode.
    pub fn get<T: serde::de::DeserializeOwned>(&self, id: &str, key: &str) -> Option<T> {
        self.0
            .get(id)
            .filter(|(k, _)| k == key)
            .and_then(|(_, v)| serde_json::from_str(v).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SessionMeta;

    fn session(id: &str, started_at: f64) -> IndexedSession {
        IndexedSession {
            summary: SessionSummary {
                meta: SessionMeta::new(id, started_at),
                counters: None,
                meta_error: None,
                rejections: 0,
                turn_errors: 0,
            },
            first_prompt: None,
            transcript_path: None,
            cost: None,
            unpriced: Vec::new(),
            unbelieved_usage: 0,
        }
    }

    /// A listing holds every session at once, and puts them in order by moving them: a
    /// session that held its counters inline (their calls and reads waiting for a pair, some
    /// 900 bytes, none of it read) took more than twice this bound.
    #[test]
    fn a_listed_session_holds_no_counters_inline() {
        let size = std::mem::size_of::<IndexedSession>();
        assert!(size < 512, "{size} bytes");
    }

    #[test]
    fn sessions_are_put_newest_first_in_place_ties_by_id_last_first() {
        // Every order of a few sessions, some starting at the same time.
        let starts = [3.0, 1.0, 2.0, 2.0, 5.0, 1.0, 4.0];
        for rotation in 0..starts.len() {
            let mut sessions: Vec<IndexedSession> = (0..starts.len())
                .map(|i| {
                    let j = (i + rotation) % starts.len();
                    session(&format!("s{j}"), starts[j])
                })
                .collect();
            sessions.swap(0, starts.len() - 1 - rotation % 3);
            newest_first(&mut sessions, |meta| meta.started_at);
            let order: Vec<(f64, &str)> = sessions
                .iter()
                .map(|s| {
                    (
                        s.summary.meta.started_at,
                        s.summary.meta.session_id.as_str(),
                    )
                })
                .collect();
            assert_eq!(
                order,
                [
                    (5.0, "s4"),
                    (4.0, "s6"),
                    (3.0, "s0"),
                    (2.0, "s3"),
                    (2.0, "s2"),
                    (1.0, "s5"),
                    (1.0, "s1")
                ]
            );
        }
    }
}
