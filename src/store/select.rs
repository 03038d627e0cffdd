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
        let ids = self.session_ids()?;
        match selector {
            Selector::Latest => self.latest(&ids),
            Selector::Prefix(prefix) => {
                if ids.iter().any(|id| id == prefix) {
                    return Ok(prefix.clone());
                }
                // A folder named exactly so that no session id can be is said so, rather than
                // not found.
                if !prefix.contains('/')
                    && let Some(err) = self.unusable_folders(std::slice::from_ref(prefix)).pop()
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

    fn latest(&self, ids: &[String]) -> Result<String> {
        // Subagent sessions start after their parent; "the latest" means the latest one a
        // person started: the latest session heading a tree, as `list` heads them (a subagent
        // whose parent is gone, or whose parents go round a loop, heads its own).
        let metas: Vec<SessionMeta> = ids
            .iter()
            .filter_map(|id| self.read_meta(id).ok())
            .collect();
        let refs: Vec<&SessionMeta> = metas.iter().collect();
        let heads = heads(&refs);
        metas
            .iter()
            .zip(heads)
            .filter(|(_, head)| *head)
            .map(|(meta, _)| (self.start_to_order_by(meta), &meta.session_id))
            .max_by(|(a, a_id), (b, b_id)| a.total_cmp(b).then_with(|| a_id.cmp(b_id)))
            .map(|(_, id)| id.clone())
            .ok_or_else(|| StoreError::NoSessions(self.root.clone()))
    }
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
