//! Which sessions a retention policy deletes: age, then count, then size, oldest first, as
//! the Python tool applies them; a session still being written is never deleted.
//!
//! The limits judge top-level sessions, as `list` shows them: a session with its subagents
//! (and theirs) is one tree, counted once, as old as its root and as large as all of it, and
//! kept or deleted whole, so no subagent is left without its parent. A subagent whose parent
//! is not in the store heads its own tree, as `list` shows it.

use serde::Serialize;

use super::tree::{head_positions, reachable, same_tree_children};

/// A session as retention sees it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub session_id: String,
    /// The session that spawned it, when it is a subagent.
    pub parent_session_id: Option<String>,
    pub started_at: f64,
    pub bytes: u64,
    /// Still being written: spared whatever the limits say, with the rest of its tree.
    pub live: bool,
}

/// The limits; none set means nothing is deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Limits {
    pub max_age_days: Option<f64>,
    pub max_sessions: Option<u64>,
    pub max_size_mb: Option<f64>,
}

impl Limits {
    pub fn any(&self) -> bool {
        self.max_age_days.is_some() || self.max_sessions.is_some() || self.max_size_mb.is_some()
    }
}

/// Which limit a session is deleted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    MaxAgeDays,
    MaxSessions,
    MaxSizeMb,
}

/// A top-level session the limits delete, with its subagents.
#[derive(Debug, Clone, Serialize)]
pub struct Deletion {
    pub session_id: String,
    pub started_at: f64,
    /// The bytes of the session and its subagents.
    pub bytes: u64,
    pub reason: Reason,
    /// Its subagent sessions (and theirs), deleted with it; parents before children.
    pub subagents: Vec<String>,
}

/// The top-level session that started first.
#[derive(Debug, Clone, Serialize)]
pub struct Oldest {
    pub session_id: String,
    pub started_at: f64,
}

/// What the limits make of a store.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Top-level sessions, as `list` counts them.
    pub sessions: usize,
    /// Subagent sessions under them.
    pub subagent_sessions: usize,
    pub total_bytes: u64,
    pub oldest: Option<Oldest>,
    /// Oldest first.
    pub delete: Vec<Deletion>,
    pub bytes_to_free: u64,
    /// Top-level sessions a limit would delete that are still being written (they or one of
    /// their subagents), so are kept.
    pub spared_live: Vec<String>,
}

impl Plan {
    /// The sessions deleted, subagents included.
    pub fn sessions_to_delete(&self) -> usize {
        self.delete.iter().map(|d| 1 + d.subagents.len()).sum()
    }
}

const DAY: f64 = 86_400.0;
const MIB: f64 = 1024.0 * 1024.0;

/// A top-level session with its subagents, as the limits judge it.
struct Tree {
    /// The root first, then its descendants, parents before children.
    members: Vec<usize>,
    started_at: f64,
    bytes: u64,
    live: bool,
}

/// The sessions `limits` delete from `candidates` at `now`.
pub fn plan(candidates: &[Candidate], limits: &Limits, now: f64) -> Plan {
    let total_bytes: u64 = candidates.iter().map(|c| c.bytes).sum();
    let mut trees = trees(candidates);
    trees.sort_by(|a, b| {
        a.started_at.total_cmp(&b.started_at).then_with(|| {
            candidates[a.members[0]]
                .session_id
                .cmp(&candidates[b.members[0]].session_id)
        })
    });
    let root = |t: &Tree| candidates[t.members[0]].session_id.clone();
    let mut reason: Vec<Option<Reason>> = vec![None; trees.len()];
    let mut spared = Vec::new();
    let mut mark = |i: usize, why: Reason, reason: &mut Vec<Option<Reason>>| {
        if trees[i].live {
            let id = root(&trees[i]);
            if !spared.contains(&id) {
                spared.push(id);
            }
            false
        } else {
            reason[i] = Some(why);
            true
        }
    };
    if let Some(days) = limits.max_age_days {
        let cutoff = now - days * DAY;
        let old: Vec<usize> = (0..trees.len())
            .filter(|&i| trees[i].started_at < cutoff)
            .collect();
        for i in old {
            mark(i, Reason::MaxAgeDays, &mut reason);
        }
    }
    if let Some(keep) = limits.max_sessions {
        let surviving: Vec<usize> = (0..trees.len()).filter(|&i| reason[i].is_none()).collect();
        let excess = surviving
            .len()
            .saturating_sub(usize::try_from(keep).unwrap_or(usize::MAX));
        for &i in surviving.iter().take(excess) {
            mark(i, Reason::MaxSessions, &mut reason);
        }
    }
    if let Some(mb) = limits.max_size_mb {
        let max = (mb.max(0.0) * MIB) as u64;
        let mut left: u64 = (0..trees.len())
            .filter(|&i| reason[i].is_none())
            .map(|i| trees[i].bytes)
            .sum();
        for i in 0..trees.len() {
            if left <= max {
                break;
            }
            if reason[i].is_none() && mark(i, Reason::MaxSizeMb, &mut reason) {
                left -= trees[i].bytes;
            }
        }
    }
    let delete: Vec<Deletion> = trees
        .iter()
        .zip(&reason)
        .filter_map(|(t, why)| {
            why.map(|reason| Deletion {
                session_id: root(t),
                started_at: t.started_at,
                bytes: t.bytes,
                reason,
                subagents: t.members[1..]
                    .iter()
                    .map(|&m| candidates[m].session_id.clone())
                    .collect(),
            })
        })
        .collect();
    Plan {
        sessions: trees.len(),
        subagent_sessions: candidates.len() - trees.len(),
        total_bytes,
        oldest: trees.first().map(|t| Oldest {
            session_id: root(t),
            started_at: t.started_at,
        }),
        bytes_to_free: delete.iter().map(|d| d.bytes).sum(),
        delete,
        spared_live: spared,
    }
}

/// The candidates as trees, each headed as `list` heads them.
fn trees(candidates: &[Candidate]) -> Vec<Tree> {
    let links: Vec<(&str, Option<&str>)> = candidates
        .iter()
        .map(|c| (c.session_id.as_str(), c.parent_session_id.as_deref()))
        .collect();
    let heads = head_positions(&links);
    // Each session's children of the same tree, in start order.
    let mut children = same_tree_children(&links, &heads);
    for list in children.values_mut() {
        list.sort_by(|&a, &b| {
            let (a, b) = (&candidates[a], &candidates[b]);
            a.started_at
                .total_cmp(&b.started_at)
                .then_with(|| a.session_id.cmp(&b.session_id))
        });
    }
    (0..candidates.len())
        .filter(|&i| heads[i] == i)
        .map(|root| {
            // Every session below a head reaches it by its parents, so this finds them all.
            let members = reachable(root, |at| {
                children
                    .get(&at)
                    .map_or(&[][..], Vec::as_slice)
                    .iter()
                    .copied()
            });
            Tree {
                started_at: candidates[root].started_at,
                bytes: members.iter().map(|&m| candidates[m].bytes).sum(),
                live: members.iter().any(|&m| candidates[m].live),
                members,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: &str, days_old: f64, mb: f64, live: bool) -> Candidate {
        Candidate {
            session_id: id.into(),
            parent_session_id: None,
            started_at: 100.0 * DAY - days_old * DAY,
            bytes: (mb * MIB) as u64,
            live,
        }
    }

    fn ids(plan: &Plan) -> Vec<(&str, Reason)> {
        plan.delete
            .iter()
            .map(|d| (d.session_id.as_str(), d.reason))
            .collect()
    }

    #[test]
    fn age_then_count_then_size_oldest_first() {
        let all = vec![
            c("a", 40.0, 1.0, false),
            c("b", 20.0, 1.0, false),
            c("c", 10.0, 3.0, false),
            c("d", 5.0, 1.0, false),
            c("e", 1.0, 1.0, false),
        ];
        let limits = Limits {
            max_age_days: Some(30.0),
            max_sessions: Some(3),
            max_size_mb: Some(2.0),
        };
        let plan = plan(&all, &limits, 100.0 * DAY);
        assert_eq!(
            ids(&plan),
            [
                ("a", Reason::MaxAgeDays),
                ("b", Reason::MaxSessions),
                ("c", Reason::MaxSizeMb)
            ]
        );
        assert_eq!(plan.bytes_to_free, (5.0 * MIB) as u64);
        assert_eq!(
            plan.oldest.as_ref().map(|o| o.session_id.as_str()),
            Some("a")
        );
    }

    #[test]
    fn no_limits_delete_nothing_and_live_sessions_are_spared() {
        let all = vec![c("a", 40.0, 1.0, true), c("b", 39.0, 1.0, false)];
        assert!(
            plan(&all, &Limits::default(), 100.0 * DAY)
                .delete
                .is_empty()
        );
        let limits = Limits {
            max_age_days: Some(30.0),
            ..Limits::default()
        };
        let plan = plan(&all, &limits, 100.0 * DAY);
        assert_eq!(ids(&plan), [("b", Reason::MaxAgeDays)]);
        assert_eq!(plan.spared_live, ["a"]);
    }

    fn sub(id: &str, parent: &str, days_old: f64, mb: f64, live: bool) -> Candidate {
        Candidate {
            parent_session_id: Some(parent.into()),
            ..c(id, days_old, mb, live)
        }
    }

    #[test]
    fn a_session_and_its_subagents_count_once_and_go_together() {
        let all = vec![
            c("root", 40.0, 1.0, false),
            sub("kid-b", "root", 10.0, 1.0, false),
            sub("kid-a", "root", 39.0, 1.0, false),
            sub("grandkid", "kid-b", 9.0, 1.0, false),
            sub("stray", "gone", 50.0, 1.0, false),
            c("new", 1.0, 1.0, false),
        ];
        let limits = Limits {
            max_sessions: Some(1),
            ..Limits::default()
        };
        let plan = plan(&all, &limits, 100.0 * DAY);
        assert_eq!((plan.sessions, plan.subagent_sessions), (3, 3));
        assert_eq!(
            ids(&plan),
            [
                ("stray", Reason::MaxSessions),
                ("root", Reason::MaxSessions)
            ],
            "a subagent whose parent is gone is top-level; the tree is as old as its root"
        );
        assert_eq!(plan.delete[1].subagents, ["kid-a", "kid-b", "grandkid"]);
        assert_eq!(plan.delete[1].bytes, (4.0 * MIB) as u64);
        assert_eq!(plan.sessions_to_delete(), 5);

        let mut live = all;
        live[3].live = true;
        let limits = Limits {
            max_age_days: Some(30.0),
            ..Limits::default()
        };
        let plan = super::plan(&live, &limits, 100.0 * DAY);
        assert_eq!(ids(&plan), [("stray", Reason::MaxAgeDays)]);
        assert_eq!(plan.spared_live, ["root"], "a live subagent keeps its tree");
    }
}
