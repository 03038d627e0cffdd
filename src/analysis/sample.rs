//! `sample`: the sessions most worth keeping for a regression suite or an eval dataset, picked
//! by a strategy from figures the index already holds (no events are read to choose).

use serde::Serialize;

use crate::model::meta::Believed;

/// What a session is scored on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Score {
    /// Failed calls per tool call (an API error that ended a turn is no call's).
    pub error_rate: f64,
    /// Calls that repeated the call before them, per tool call.
    pub retry_rate: f64,
    /// Distinct files written.
    pub blast_radius: u64,
    pub cost_usd: f64,
    /// `cost_usd` is estimated from payload sizes: the session recorded no token usage (as
    /// `list` marks it `~`). It weighs in `worst_score` as an exact cost does: it is the best
    /// figure there is, and $0 in its place would rank every such session as free.
    pub cost_estimated: bool,
    /// Unknown (`null`) when the session's start or end is one no session can have.
    pub duration_s: Believed<f64>,
    pub tool_calls: u64,
    /// The weighted sum the `worst` strategy ranks by (higher is worse).
    pub worst_score: f64,
}

impl Score {
    /// A score from a session's figures; the weights are the Python tool's, so both rank alike.
    pub fn new(
        errors: u64,
        repeated_calls: u64,
        tool_calls: u64,
        blast_radius: u64,
        (cost_usd, cost_estimated): (f64, bool),
        duration_s: Believed<f64>,
    ) -> Score {
        let calls = tool_calls.max(1) as f64;
        let error_rate = errors as f64 / calls;
        let retry_rate = repeated_calls as f64 / calls;
        let worst_score = error_rate * 0.35
            + retry_rate * 0.30
            + (blast_radius as f64 / 20.0).min(1.0) * 0.15
            + (cost_usd / 5.0).min(1.0) * 0.20;
        Score {
            error_rate,
            retry_rate,
            blast_radius,
            cost_usd,
            cost_estimated,
            duration_s,
            tool_calls,
            worst_score,
        }
    }

    fn features(&self) -> [f64; 4] {
        [
            self.error_rate.min(1.0),
            self.retry_rate.min(1.0),
            (self.blast_radius as f64 / 20.0).min(1.0),
            (self.cost_usd / 5.0).min(1.0),
        ]
    }
}

/// A session that may be picked.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub session_id: String,
    /// When it started, to order it by: its first event's time for a start no session can
    /// have ([`crate::model::SessionMeta::start_to_order_by`]).
    pub started_at: f64,
    pub score: Score,
    /// Equal for sessions that made the same tool calls in the same order.
    pub calls_fingerprint: u64,
}

/// How sessions are picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// The highest worst score: errors, retries, blast radius, cost.
    Worst,
    /// The most varied: each pick the farthest from those already picked.
    Diverse,
    /// The most recent.
    Recent,
    /// At random (the same seed picks the same sessions).
    Random,
}

/// Picks `n` of `candidates` by `strategy`; with `deduplicate`, of sessions that made the same
/// calls only the first (oldest) is a candidate, or for [`Strategy::Recent`] the newest.
pub fn pick(
    mut candidates: Vec<Candidate>,
    strategy: Strategy,
    n: usize,
    seed: u64,
    deduplicate: bool,
) -> Vec<Candidate> {
    candidates.sort_by(|a, b| {
        a.started_at
            .total_cmp(&b.started_at)
            .then_with(|| a.session_id.cmp(&b.session_id))
    });
    // Newest first for recent, so that of the same calls it keeps the one it is asked for.
    let recent = matches!(strategy, Strategy::Recent);
    if recent {
        candidates.reverse();
    }
    if deduplicate {
        let mut seen = std::collections::HashSet::new();
        candidates.retain(|c| seen.insert(c.calls_fingerprint));
    }
    match strategy {
        Strategy::Worst => {
            candidates.sort_by(|a, b| {
                b.score
                    .worst_score
                    .total_cmp(&a.score.worst_score)
                    .then_with(|| b.started_at.total_cmp(&a.started_at))
            });
            candidates.truncate(n);
            candidates
        }
        Strategy::Recent => {
            candidates.truncate(n);
            candidates
        }
        Strategy::Random => {
            let mut rng = SplitMix(seed);
            // A partial Fisher–Yates shuffle: the first n places are a uniform sample.
            let len = candidates.len();
            for i in 0..n.min(len) {
                let j = i + (rng.next() % (len - i) as u64) as usize;
                candidates.swap(i, j);
            }
            candidates.truncate(n);
            candidates
        }
        Strategy::Diverse => diverse(candidates, n),
    }
}

/// Greedy max-min: the worst session first, then each time the one farthest from every pick.
fn diverse(candidates: Vec<Candidate>, n: usize) -> Vec<Candidate> {
    if candidates.len() <= n {
        return candidates;
    }
    let features: Vec<[f64; 4]> = candidates.iter().map(|c| c.score.features()).collect();
    let Some(first) = (0..candidates.len()).max_by(|&a, &b| {
        candidates[a]
            .score
            .worst_score
            .total_cmp(&candidates[b].score.worst_score)
            // On a tie the older session wins.
            .then(b.cmp(&a))
    }) else {
        return Vec::new();
    };
    let mut nearest: Vec<f64> = features
        .iter()
        .map(|f| distance(f, &features[first]))
        .collect();
    let mut picked = vec![first];
    nearest[first] = f64::NEG_INFINITY;
    while picked.len() < n {
        let Some(next) = (0..candidates.len())
            .filter(|i| nearest[*i].is_finite())
            .max_by(|&a, &b| nearest[a].total_cmp(&nearest[b]).then(b.cmp(&a)))
        else {
            break;
        };
        picked.push(next);
        nearest[next] = f64::NEG_INFINITY;
        for i in 0..candidates.len() {
            if nearest[i].is_finite() {
                nearest[i] = nearest[i].min(distance(&features[i], &features[next]));
            }
        }
    }
    picked.into_iter().map(|i| candidates[i].clone()).collect()
}

fn distance(a: &[f64; 4], b: &[f64; 4]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// SplitMix64: a small, well-mixed generator, enough to sample with a reproducible seed.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: &str, at: f64, errors: u64, calls: u64, fingerprint: u64) -> Candidate {
        Candidate {
            session_id: id.into(),
            started_at: at,
            score: Score::new(errors, 0, calls, 0, (0.0, false), Believed::default()),
            calls_fingerprint: fingerprint,
        }
    }

    fn ids(picked: &[Candidate]) -> Vec<&str> {
        picked.iter().map(|c| c.session_id.as_str()).collect()
    }

    #[test]
    fn worst_recent_and_deduplicated() {
        let all = vec![
            c("a", 1.0, 0, 4, 1),
            c("b", 2.0, 4, 4, 2),
            c("c", 3.0, 2, 4, 2),
        ];
        assert_eq!(
            ids(&pick(all.clone(), Strategy::Worst, 2, 0, false)),
            ["b", "c"]
        );
        assert_eq!(
            ids(&pick(all.clone(), Strategy::Recent, 2, 0, false)),
            ["c", "b"]
        );
        assert_eq!(
            ids(&pick(all.clone(), Strategy::Worst, 3, 0, true)),
            ["b", "a"]
        );
        // Of the same calls, recent keeps the newest.
        assert_eq!(
            ids(&pick(all.clone(), Strategy::Recent, 3, 0, true)),
            ["c", "a"]
        );
        let one = pick(all.clone(), Strategy::Random, 2, 42, false);
        assert_eq!(ids(&one), ids(&pick(all, Strategy::Random, 2, 42, false)));
    }

    #[test]
    fn diverse_starts_with_the_worst_and_goes_far() {
        let all = vec![
            c("bad", 1.0, 4, 4, 1),
            c("bad2", 2.0, 4, 4, 2),
            c("good", 3.0, 0, 4, 3),
            c("mid", 4.0, 2, 4, 4),
        ];
        assert_eq!(
            ids(&pick(all, Strategy::Diverse, 2, 0, false)),
            ["bad", "good"]
        );
    }
}
