//! Which sessions a retention policy deletes: age, then count, then size, oldest first, as
//! the Python tool applies them; a session still being written is never deleted.

use serde::Serialize;

/// A session as retention sees it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub session_id: String,
    pub started_at: f64,
    pub bytes: u64,
    /// Still being written: spared whatever the limits say.
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

#[derive(Debug, Clone, Serialize)]
pub struct Deletion {
    pub session_id: String,
    pub started_at: f64,
    pub bytes: u64,
    pub reason: Reason,
}

/// The session that started first.
#[derive(Debug, Clone, Serialize)]
pub struct Oldest {
    pub session_id: String,
    pub started_at: f64,
}

/// What the limits make of a store.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub sessions: usize,
    pub total_bytes: u64,
    pub oldest: Option<Oldest>,
    /// Oldest first.
    pub delete: Vec<Deletion>,
    pub bytes_to_free: u64,
    /// Sessions a limit would delete that are still being written, so are kept.
    pub spared_live: Vec<String>,
}

const DAY: f64 = 86_400.0;
const MIB: f64 = 1024.0 * 1024.0;

/// The sessions `limits` delete from `candidates` at `now`.
pub fn plan(mut candidates: Vec<Candidate>, limits: &Limits, now: f64) -> Plan {
    candidates.sort_by(|a, b| {
        a.started_at
            .total_cmp(&b.started_at)
            .then_with(|| a.session_id.cmp(&b.session_id))
    });
    let total_bytes: u64 = candidates.iter().map(|c| c.bytes).sum();
    let mut reason: Vec<Option<Reason>> = vec![None; candidates.len()];
    let mut spared = Vec::new();
    let mut mark = |i: usize, why: Reason, reason: &mut Vec<Option<Reason>>| {
        if candidates[i].live {
            if !spared.contains(&candidates[i].session_id) {
                spared.push(candidates[i].session_id.clone());
            }
            false
        } else {
            reason[i] = Some(why);
            true
        }
    };
    if let Some(days) = limits.max_age_days {
        let cutoff = now - days * DAY;
        let old: Vec<usize> = (0..candidates.len())
            .filter(|&i| candidates[i].started_at < cutoff)
            .collect();
        for i in old {
            mark(i, Reason::MaxAgeDays, &mut reason);
        }
    }
    if let Some(keep) = limits.max_sessions {
        let surviving: Vec<usize> = (0..candidates.len())
            .filter(|&i| reason[i].is_none())
            .collect();
        let excess = surviving
            .len()
            .saturating_sub(usize::try_from(keep).unwrap_or(usize::MAX));
        for &i in surviving.iter().take(excess) {
            mark(i, Reason::MaxSessions, &mut reason);
        }
    }
    if let Some(mb) = limits.max_size_mb {
        let max = (mb.max(0.0) * MIB) as u64;
        let mut left: u64 = (0..candidates.len())
            .filter(|&i| reason[i].is_none())
            .map(|i| candidates[i].bytes)
            .sum();
        for i in 0..candidates.len() {
            if left <= max {
                break;
            }
            if reason[i].is_none() && mark(i, Reason::MaxSizeMb, &mut reason) {
                left -= candidates[i].bytes;
            }
        }
    }
    let delete: Vec<Deletion> = candidates
        .iter()
        .zip(&reason)
        .filter_map(|(c, why)| {
            why.map(|reason| Deletion {
                session_id: c.session_id.clone(),
                started_at: c.started_at,
                bytes: c.bytes,
                reason,
            })
        })
        .collect();
    Plan {
        sessions: candidates.len(),
        total_bytes,
        oldest: candidates.first().map(|c| Oldest {
            session_id: c.session_id.clone(),
            started_at: c.started_at,
        }),
        bytes_to_free: delete.iter().map(|d| d.bytes).sum(),
        delete,
        spared_live: spared,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: &str, days_old: f64, mb: f64, live: bool) -> Candidate {
        Candidate {
            session_id: id.into(),
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
        let plan = plan(all, &limits, 100.0 * DAY);
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
            plan(all.clone(), &Limits::default(), 100.0 * DAY)
                .delete
                .is_empty()
        );
        let limits = Limits {
            max_age_days: Some(30.0),
            ..Limits::default()
        };
        let plan = plan(all, &limits, 100.0 * DAY);
        assert_eq!(ids(&plan), [("b", Reason::MaxAgeDays)]);
        assert_eq!(plan.spared_live, ["a"]);
    }
}
