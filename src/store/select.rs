//! Naming a session: the latest, or any unique prefix of its id (as git names commits).

use std::str::FromStr;

use super::{Result, Store, StoreError};
use crate::model::SessionMeta;
use crate::model::parents::heads;

/// Which session a command is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// The most recently started session heading a tree (see [`heads`]).
    Latest,
    /// The one session whose id starts with this (an exact id always wins).
    Prefix(String),
}

impl FromStr for Selector {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(if s.is_empty() {
            Selector::Latest
        } else {
            Selector::Prefix(s.to_owned())
        })
    }
}

impl Selector {
    pub fn from_option(id: Option<&str>) -> Self {
        id.map_or(Selector::Latest, |s| s.parse().unwrap_or(Selector::Latest))
    }
}

/// How many candidates an ambiguity error names.
const CANDIDATES_SHOWN: usize = 5;

impl Store {
    /// Resolves a selector to one session id.
    pub fn select(&self, selector: &Selector) -> Result<String> {
        // A session named by its whole id is found without listing the store's folder: a
        // store closed to listing and open to entering (mode 711) kept every session from its
        // readers, which may read each one they know the id of.
        if let Selector::Prefix(id) = selector
            && self.is_session(id)
        {
            self.require()?;
            return Ok(id.clone());
        }
        let ids = self.session_ids()?;
        match selector {
            Selector::Latest => self.latest(&ids),
            Selector::Prefix(prefix) => {
                // A folder named exactly so that no session id can be is said so, rather than
                // not found.
                if !prefix.contains('/')
                    && let Some(err) = self.unusable_folders(&[prefix.into()]).pop()
                {
                    return Err(err);
                }
                let mut matches: Vec<String> = ids
                    .into_iter()
                    .filter(|id| id.starts_with(prefix.as_str()))
                    .collect();
                matches.sort();
                match matches.len() {
                    0 => Err(StoreError::UnknownSession(prefix.clone())),
                    1 => Ok(matches.remove(0)),
                    n => {
                        let mut candidates: Vec<String> =
                            matches.into_iter().take(CANDIDATES_SHOWN).collect();
                        if n > CANDIDATES_SHOWN {
                            candidates.push(format!("and {} more", n - CANDIDATES_SHOWN));
                        }
                        Err(StoreError::AmbiguousSession {
                            prefix: prefix.clone(),
                            candidates,
                        })
                    }
                }
            }
        }
    }

    /// The latest session heading a tree (see [`Selector::Latest`]), or the error of the
    /// newest when none can be read ([`Store::latest_readable`]).
    fn latest(&self, ids: &[String]) -> Result<String> {
        Ok(self.latest_of(ids).into_pick(&self.root)?.0)
    }

    /// The latest session heading a tree that can be read, and the newer ones heading a tree
    /// that cannot, which it passed over. A session is read as `list` reads it: by its
    /// `meta.json`, or as its events tell it when that cannot be used; it cannot be read when
    /// neither can, or when its events file cannot be opened (a FIFO, a link, a folder). One
    /// of which neither can be read cannot be dated either: it is passed over when it may be
    /// newer than the pick (its folder changed after the pick started).
    pub fn latest_readable(&self) -> Result<Latest> {
        let ids = self.session_ids()?;
        Ok(self.latest_of(&ids))
    }

    fn latest_of(&self, ids: &[String]) -> Latest {
        // Subagent sessions start after their parent; "the latest" means the latest one a
        // person started: the latest session heading a tree, as `list` heads them (a subagent
        // whose parent is gone, or whose parents go round a loop, heads its own). Only
        // `meta.json` is read for each; a session's events only when that cannot be used.
        let mut metas: Vec<SessionMeta> = Vec::new();
        // Those of which neither file can be read: nothing tells when they started.
        let mut undated: Vec<(String, StoreError)> = Vec::new();
        for id in ids {
            match self
                .read_meta_to_read(id)
                .or_else(|_| self.summary(id).map(|s| s.meta))
            {
                Ok(meta) => metas.push(meta),
                // What stops the events being read, as `list` says it; else why meta.json
                // cannot be used (the events are empty, or not there).
                Err(error) => undated.push((id.clone(), self.events(id).err().unwrap_or(error))),
            }
        }
        let refs: Vec<&SessionMeta> = metas.iter().collect();
        let heads = heads(&refs);
        let mut newest_first: Vec<(f64, &SessionMeta)> = metas
            .iter()
            .zip(heads)
            .filter(|(_, head)| *head)
            .map(|(meta, _)| (self.start_to_order_by(meta), meta))
            .collect();
        newest_first.sort_by(|(a, a_meta), (b, b_meta)| {
            b.total_cmp(a)
                .then_with(|| b_meta.session_id.cmp(&a_meta.session_id))
        });
        let mut latest = Latest {
            pick: None,
            passed_over: Vec::new(),
        };
        for (start, meta) in newest_first {
            match self.events(&meta.session_id) {
                Ok(_) => {
                    latest.pick = Some((meta.session_id.clone(), start));
                    break;
                }
                Err(error) => latest.passed_over.push(PassedOver {
                    id: meta.session_id.clone(),
                    start,
                    dated: true,
                    error,
                }),
            }
        }
        // A session that cannot be dated started before its folder last changed (its files
        // are made in it as it starts): one whose folder changed after the pick started may be
        // newer, and is said so; one that changed before cannot be.
        let picked = latest.pick.as_ref().map(|(_, start)| *start);
        for (id, error) in undated {
            let changed = self.folder_changed(&id).unwrap_or(f64::INFINITY);
            if picked.is_none_or(|start| changed >= start) {
                latest.passed_over.push(PassedOver {
                    id,
                    start: changed,
                    dated: false,
                    error,
                });
            }
        }
        latest
            .passed_over
            .sort_by(|a, b| b.start.total_cmp(&a.start).then_with(|| b.id.cmp(&a.id)));
        latest
    }

    /// When the folder of session `id` last changed, in seconds since the epoch; `None` when
    /// that cannot be told.
    fn folder_changed(&self, id: &str) -> Option<f64> {
        let modified = std::fs::metadata(self.session_dir(id))
            .ok()?
            .modified()
            .ok()?;
        let since = modified.duration_since(std::time::UNIX_EPOCH).ok()?;
        Some(since.as_secs_f64())
    }
}

/// The latest session that can be read ([`Store::latest_readable`]).
#[derive(Debug)]
pub struct Latest {
    /// Its id and the start it is put in order by; `None` when no session can be read.
    pub pick: Option<(String, f64)>,
    /// The sessions heading a tree that started after it (all of them, when there is no
    /// pick) and cannot be read, and those that cannot be dated that may have, newest first
    /// (see [`PassedOver::start`]).
    pub passed_over: Vec<PassedOver>,
}

impl Latest {
    /// The pick, and the sessions passed over for it; when none can be read, the error of the
    /// newest (what reading it says), or [`StoreError::NoSessions`] of the store at `root`
    /// when it holds none.
    pub fn into_pick(mut self, root: &std::path::Path) -> Result<(String, Vec<PassedOver>)> {
        match self.pick {
            Some((id, _)) => Ok((id, self.passed_over)),
            None if self.passed_over.is_empty() => Err(StoreError::NoSessions(root.to_path_buf())),
            None => Err(self.passed_over.swap_remove(0).error),
        }
    }
}

/// A session the latest pick passed over, as it cannot be read.
#[derive(Debug)]
pub struct PassedOver {
    pub id: String,
    /// The start it is put in order by; for one that cannot be dated, the time its folder
    /// last changed, which it started before.
    pub start: f64,
    /// Whether its start is known (its `meta.json` or its events say it): false when neither
    /// can be read.
    pub dated: bool,
    pub error: StoreError,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with(ids: &[(&str, f64)]) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        for (id, started) in ids {
            store
                .create_session(&SessionMeta::new(*id, *started))
                .unwrap();
        }
        (dir, store)
    }

    #[test]
    fn unique_prefixes_resolve_and_ambiguous_ones_do_not() {
        let (_dir, store) = store_with(&[("abc123", 1.0), ("abd456", 2.0), ("abc", 0.5)]);
        assert_eq!(
            store.select(&Selector::Prefix("abd".into())).unwrap(),
            "abd456"
        );
        assert_eq!(
            store.select(&Selector::Prefix("abc".into())).unwrap(),
            "abc"
        );
        assert!(matches!(
            store.select(&Selector::Prefix("ab".into())),
            Err(StoreError::AmbiguousSession { .. })
        ));
        assert!(matches!(
            store.select(&Selector::Prefix("zz".into())),
            Err(StoreError::UnknownSession(_))
        ));
        assert_eq!(store.select(&Selector::Latest).unwrap(), "abd456");
    }
}
