//! `drift`: a behavioural fingerprint of a set of sessions (tool mix, error rate, retry rate,
//! blast radius, session duration, decision depth) and the Jensen–Shannon divergence between
//! two fingerprints, per dimension and overall.
//!
//! Each dimension is a distribution: the tool mix over tool names (share of all calls), the
//! others as histograms of one figure per session over fixed buckets. Every dimension is
//! compared the same way, by its Jensen–Shannon divergence in bits, so each score lies in
//! [0, 1]: 0 for the same distribution, 1 for distributions with nothing in common. (The
//! Python tool compares only the mean, median and 95th percentile of the per-session figures;
//! two windows with the same median and a different spread look the same to it.) The overall
//! score is the mean of the six.
//!
//! A fingerprint is small enough to commit beside an agent's settings: the tool mix keeps the
//! [`TOP_TOOLS`] most used tools and the rest as one share, and [`Fingerprint::to_file`] keeps
//! the file under [`BASELINE_LIMIT`] bytes.
//!
//! Sessions are read as the index folds them ([`Summary`]), never from their events, so a
//! fingerprint of ten thousand sessions costs one read of the index.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::meta::{BELIEVABLE_COUNT, BELIEVABLE_DURATION_SECS, BELIEVABLE_TIMES};
use crate::model::summary::Summary;

/// The version of the baseline file's layout (buckets included).
pub const BASELINE_FORMAT: u32 = 1;
/// Baseline files stay under this many bytes.
pub const BASELINE_LIMIT: usize = 2048;
/// Tools named in a fingerprint's tool mix; the rest are one share, [`OTHER_TOOLS`].
pub const TOP_TOOLS: usize = 12;
/// The share of the tools a fingerprint does not name.
pub const OTHER_TOOLS: &str = "(other)";
/// Below this many sessions on either side, divergences are mostly chance.
pub const FEW_SESSIONS: u64 = 10;

/// The bucket upper bounds of each per-session figure (the last bucket is open). A rate of
/// exactly 0 has a bucket of its own: most sessions have no errors.
const RATE_EDGES: &[f64] = &[0.0, 0.05, 0.1, 0.2, 0.35, 0.5];
const FILES_EDGES: &[f64] = &[0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0];
const DURATION_EDGES: &[f64] = &[
    30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0,
];
const DECISION_EDGES: &[f64] = &[0.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0];

/// The dimensions, in the order reports list them.
pub const DIMENSIONS: [&str; 6] = [
    "tool_mix",
    "error_rate",
    "retry_rate",
    "blast_radius",
    "session_duration",
    "decision_depth",
];

/// One session's figures, as drift reads them from its summary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SessionFigures {
    pub started_at: f64,
    pub tool_calls: u64,
    /// Failed calls per call (refused calls are no failures, and an API error that ended a
    /// turn is no call's).
    pub error_rate: f64,
    /// Retries (see [`Summary::retries`]) per call.
    pub retry_rate: f64,
    /// Files written.
    pub files_written: u64,
    /// From the first event to the last, in seconds, when known from times a session can have
    /// ([`crate::model::Counters::believed_span_secs`]); a session without one is left out of
    /// the durations.
    pub duration_secs: Option<f64>,
    /// `decision` events.
    pub decisions: u64,
}

impl SessionFigures {
    pub fn of(started_at: f64, summary: &Summary) -> SessionFigures {
        let c = &summary.counters;
        let calls = c.tool_calls.max(1) as f64;
        SessionFigures {
            started_at,
            tool_calls: c.tool_calls,
            error_rate: (c.tool_failures() as f64 / calls).min(1.0),
            retry_rate: (summary.retries as f64 / calls).min(1.0),
            // Every file the session wrote, as every view counts it: the last call's too, and
            // a call's that no result answered.
            files_written: summary
                .files_touched()
                .values()
                .filter(|f| f.writes > 0)
                .count() as u64,
            duration_secs: c.believed_span_secs(started_at),
            decisions: summary.decisions,
        }
    }
}

/// A distribution of one per-session figure: the share of sessions in each bucket, and the
/// figure's mean, median and 95th percentile for people to read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Histogram {
    pub shares: Vec<f64>,
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
}

impl Histogram {
    fn of(values: &[f64], edges: &[f64]) -> Histogram {
        let mut counts = vec![0u64; edges.len() + 1];
        for v in values {
            let bucket = edges.iter().position(|e| v <= e).unwrap_or(edges.len());
            counts[bucket] += 1;
        }
        let n = values.len().max(1) as f64;
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Histogram {
            shares: counts.iter().map(|c| round4(*c as f64 / n)).collect(),
            mean: round4(values.iter().sum::<f64>() / n),
            p50: round4(percentile(&sorted, 0.5)),
            p95: round4(percentile(&sorted, 0.95)),
        }
    }
}

/// The value below which `p` of `sorted` lies, interpolated between neighbours.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n => {
            let at = (n - 1) as f64 * p;
            let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
            sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo as f64)
        }
    }
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// The behaviour of a set of sessions. A baseline file is this build's own (the Python
/// tool's is another shape), and only this build writes it: a key it does not know is a slip
/// or another file, refused as settings files refuse one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fingerprint {
    /// [`BASELINE_FORMAT`].
    pub format: u32,
    pub sessions: u64,
    /// When the first and the last of the sessions started (Unix seconds).
    pub first_started: Option<f64>,
    pub last_started: Option<f64>,
    /// Each tool's share of all tool calls.
    pub tool_mix: BTreeMap<String, f64>,
    pub error_rate: Histogram,
    pub retry_rate: Histogram,
    pub blast_radius: Histogram,
    pub session_duration: Histogram,
    pub decision_depth: Histogram,
}

/// Sessions' figures and tool calls gathered one session at a time, as a command reads them,
/// for their [`Fingerprint`]: what it keeps of each session is a few numbers, not its summary.
#[derive(Debug, Clone, Default)]
pub struct Gathered {
    figures: Vec<SessionFigures>,
    tools: BTreeMap<String, u64>,
}

impl Gathered {
    /// Counts in one session: its figures and its tool calls by tool.
    pub fn add(&mut self, figures: SessionFigures, by_tool: &BTreeMap<String, u64>) {
        self.figures.push(figures);
        for (tool, n) in by_tool {
            match self.tools.get_mut(tool) {
                Some(total) => *total = total.saturating_add(*n),
                None => {
                    self.tools.insert(tool.clone(), *n);
                }
            }
        }
    }

    /// Whether no session was counted in.
    pub fn is_empty(&self) -> bool {
        self.figures.is_empty()
    }

    /// The fingerprint of the sessions counted in.
    pub fn fingerprint(&self) -> Fingerprint {
        let figures = &self.figures;
        let column = |f: fn(&SessionFigures) -> f64| figures.iter().map(f).collect::<Vec<_>>();
        let starts = column(|f| f.started_at);
        Fingerprint {
            format: BASELINE_FORMAT,
            sessions: figures.len() as u64,
            first_started: starts.iter().copied().reduce(f64::min),
            last_started: starts.iter().copied().reduce(f64::max),
            tool_mix: tool_mix(&self.tools),
            error_rate: Histogram::of(&column(|f| f.error_rate), RATE_EDGES),
            retry_rate: Histogram::of(&column(|f| f.retry_rate), RATE_EDGES),
            blast_radius: Histogram::of(&column(|f| f.files_written as f64), FILES_EDGES),
            session_duration: Histogram::of(
                &figures
                    .iter()
                    .filter_map(|f| f.duration_secs)
                    .collect::<Vec<_>>(),
                DURATION_EDGES,
            ),
            decision_depth: Histogram::of(&column(|f| f.decisions as f64), DECISION_EDGES),
        }
    }
}

impl Fingerprint {
    /// The fingerprint of `sessions`: each one's figures and its tool calls by tool.
    pub fn of<'a>(
        sessions: impl IntoIterator<Item = (SessionFigures, &'a BTreeMap<String, u64>)>,
    ) -> Fingerprint {
        let mut gathered = Gathered::default();
        for (figures, by_tool) in sessions {
            gathered.add(figures, by_tool);
        }
        gathered.fingerprint()
    }

    fn histograms(&self) -> [(&'static str, &Histogram, &'static [f64]); 5] {
        [
            ("error_rate", &self.error_rate, RATE_EDGES),
            ("retry_rate", &self.retry_rate, RATE_EDGES),
            ("blast_radius", &self.blast_radius, FILES_EDGES),
            ("session_duration", &self.session_duration, DURATION_EDGES),
            ("decision_depth", &self.decision_depth, DECISION_EDGES),
        ]
    }

    /// What no baseline can hold, naming the field: a count, start, mean or
    /// percentile outside what a session can have (as the store believes it: a start from
    /// 1970 to 2100, a session of up to 10,000 hours, counts up to a billion), a rate outside
    /// 0 to 1, a median above the 95th percentile, a first start after the last. A file
    /// edited by hand or cut short printed them as they were (a median of 5124095576030431h,
    /// a negative one as 0.00s).
    fn unbelievable(&self) -> Option<String> {
        let outside = |field: &str, lo: f64, hi: f64| {
            format!("`{field}` is outside what a baseline can hold ({lo} to {hi})")
        };
        let count = BELIEVABLE_COUNT as f64;
        if self.sessions > BELIEVABLE_COUNT {
            return Some(outside("sessions", 1.0, count));
        }
        let (start, end) = (BELIEVABLE_TIMES.start, BELIEVABLE_TIMES.end);
        for (name, at) in [
            ("first_started", self.first_started),
            ("last_started", self.last_started),
        ] {
            if at.is_some_and(|t| !BELIEVABLE_TIMES.contains(&t)) {
                return Some(outside(name, start, end));
            }
        }
        if let (Some(first), Some(last)) = (self.first_started, self.last_started)
            && first > last
        {
            return Some("`first_started` is after `last_started`".to_owned());
        }
        let highest = [1.0, 1.0, count, BELIEVABLE_DURATION_SECS, count];
        for ((name, h, _), hi) in self.histograms().into_iter().zip(highest) {
            for (part, v) in [("mean", h.mean), ("p50", h.p50), ("p95", h.p95)] {
                if !(0.0..=hi).contains(&v) {
                    return Some(outside(&format!("{name}.{part}"), 0.0, hi));
                }
            }
            if h.p50 > h.p95 {
                return Some(format!("`{name}.p50` is above its p95"));
            }
        }
        None
    }

    /// The baseline file: one key a line, so that a change to it reads well in a diff, and
    /// under [`BASELINE_LIMIT`] bytes (the least used tools join [`OTHER_TOOLS`] until it is).
    pub fn to_file(&self) -> String {
        let mut fp = self.clone();
        loop {
            let text = fp.lines();
            let named = fp.tool_mix.keys().filter(|k| *k != OTHER_TOOLS).count();
            if text.len() < BASELINE_LIMIT || named == 0 {
                return text;
            }
            let least = fp
                .tool_mix
                .iter()
                .filter(|(k, _)| *k != OTHER_TOOLS)
                .min_by(|a, b| a.1.total_cmp(b.1).then_with(|| b.0.cmp(a.0)))
                .map(|(k, v)| (k.clone(), *v));
            if let Some((tool, share)) = least {
                fp.tool_mix.remove(&tool);
                *fp.tool_mix.entry(OTHER_TOOLS.to_owned()).or_default() += share;
            }
        }
    }

    fn lines(&self) -> String {
        let fields: [(&str, String); 10] = [
            ("format", json(&self.format)),
            ("sessions", json(&self.sessions)),
            ("first_started", json(&self.first_started)),
            ("last_started", json(&self.last_started)),
            ("tool_mix", json(&self.tool_mix)),
            ("error_rate", json(&self.error_rate)),
            ("retry_rate", json(&self.retry_rate)),
            ("blast_radius", json(&self.blast_radius)),
            ("session_duration", json(&self.session_duration)),
            ("decision_depth", json(&self.decision_depth)),
        ];
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("  \"{k}\": {v}"))
            .collect();
        format!("{{\n{}\n}}\n", body.join(",\n"))
    }

    /// Reads a baseline file.
    pub fn from_file(text: &str) -> Result<Fingerprint, BaselineError> {
        if let Ok(python) = serde_json::from_str::<PythonBaseline>(text)
            && python.fingerprint_id.is_some()
            && python.format.is_none()
        {
            let first_day = python
                .period
                .and_then(|p| p.start)
                .filter(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok());
            return Err(BaselineError::PythonTool { first_day });
        }
        let fp: Fingerprint =
            serde_json::from_str(text).map_err(|e| BaselineError::NotJson(e.to_string()))?;
        if fp.format != BASELINE_FORMAT {
            return Err(BaselineError::Format(fp.format));
        }
        for (name, h, edges) in fp.histograms() {
            if h.shares.len() != edges.len() + 1 {
                return Err(BaselineError::Buckets {
                    name,
                    found: h.shares.len(),
                    expected: edges.len() + 1,
                });
            }
            if !is_distribution(h.shares.iter()) {
                return Err(BaselineError::Shares(name));
            }
        }
        // A baseline of sessions that called no tool has no mix.
        if !fp.tool_mix.is_empty() && !is_distribution(fp.tool_mix.values()) {
            return Err(BaselineError::Shares("tool_mix"));
        }
        if fp.sessions == 0 {
            return Err(BaselineError::Empty);
        }
        if let Some(field) = fp.unbelievable() {
            return Err(BaselineError::Figure(field));
        }
        Ok(fp)
    }
}

/// What tells a baseline the Python tool saved: its `fingerprint_id` (which it always writes,
/// and no baseline of ours has) and no `format`, and the day its sessions start from. Its
/// figures do not map onto ours: each dimension is a mean, median and 95th percentile with no
/// spread over buckets, which our divergence compares, and some are counted otherwise (a retry
/// is a third call in a row of one tool, an error any error event, a refusal included).
#[derive(Deserialize)]
struct PythonBaseline {
    fingerprint_id: Option<serde_json::Value>,
    format: Option<serde_json::Value>,
    period: Option<PythonPeriod>,
}

#[derive(Deserialize)]
struct PythonPeriod {
    start: Option<String>,
}

/// Whether `shares` are a distribution: each from 0 to 1, and together 1 (give or take what
/// writing them rounded off). Shares of all 0 would take any behaviour for the baseline's.
fn is_distribution<'a>(shares: impl Iterator<Item = &'a f64>) -> bool {
    let mut sum = 0.0;
    for share in shares {
        if !(0.0..=1.0).contains(share) {
            return false;
        }
        sum += share;
    }
    (sum - 1.0).abs() < 1e-3
}

/// `value` as compact JSON.
fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// Why a baseline file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("not a drift baseline ({0})")]
    NotJson(String),
    #[error("a baseline of format {0}; this build reads format {BASELINE_FORMAT}")]
    Format(u32),
    #[error("its `{name}` has {found} buckets where this build has {expected}")]
    Buckets {
        name: &'static str,
        found: usize,
        expected: usize,
    },
    #[error("it holds no sessions")]
    Empty,
    #[error("its `{0}` shares are no distribution (each from 0 to 1, together 1)")]
    Shares(&'static str),
    #[error("its {0}")]
    Figure(String),
    #[error(
        "a baseline the Python tool saved, which this build cannot compare with: its figures are \
         each dimension's mean, median and 95th percentile, some counted otherwise, where this \
         build compares how the sessions spread over each"
    )]
    PythonTool {
        /// The day its sessions start from (`period.start`), when it is a day.
        first_day: Option<String>,
    },
}

/// Each tool's share of all calls, the [`TOP_TOOLS`] most used named and the rest together.
fn tool_mix(tools: &BTreeMap<String, u64>) -> BTreeMap<String, f64> {
    // Counts from a damaged or forged fold may be huge: they saturate, never overflow.
    let total = tools.values().fold(0u64, |sum, n| sum.saturating_add(*n));
    if total == 0 {
        return BTreeMap::new();
    }
    let mut ranked: Vec<(&str, u64)> = tools.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let mut mix = BTreeMap::new();
    let mut other = 0u64;
    for (i, (tool, n)) in ranked.into_iter().enumerate() {
        if i < TOP_TOOLS && tool != OTHER_TOOLS {
            mix.insert(tool.to_owned(), round4(n as f64 / total as f64));
        } else {
            other = other.saturating_add(n);
        }
    }
    if other > 0 {
        mix.insert(OTHER_TOOLS.to_owned(), round4(other as f64 / total as f64));
    }
    mix
}

/// The Jensen–Shannon divergence of two distributions (normalised here), in bits: in [0, 1].
/// Two empty distributions do not diverge; an empty one is wholly apart from one that is not
/// (sessions that call no tool from sessions that do).
pub fn jensen_shannon(p: &[f64], q: &[f64]) -> f64 {
    let (p_sum, q_sum) = (p.iter().sum::<f64>(), q.iter().sum::<f64>());
    match (p_sum > 0.0, q_sum > 0.0) {
        (false, false) => return 0.0,
        (true, false) | (false, true) => return 1.0,
        (true, true) => {}
    }
    // One side's part of the divergence from the mixture, for one category.
    let term = |x: f64, mix: f64| if x > 0.0 { x * (x / mix).log2() } else { 0.0 };
    let mut divergence = 0.0;
    for (pi, qi) in p.iter().zip(q) {
        let (pi, qi) = (pi / p_sum, qi / q_sum);
        let mix = f64::midpoint(pi, qi);
        divergence += 0.5 * term(pi, mix) + 0.5 * term(qi, mix);
    }
    divergence.clamp(0.0, 1.0)
}

/// The two tool mixes over the same categories: every tool either names, and the rest. A tool
/// one side names and the other does not is a category of its own (a tool that came or went),
/// unless the other side has a share of unnamed tools it may hide in: then it joins that.
fn aligned_mix(a: &BTreeMap<String, f64>, b: &BTreeMap<String, f64>) -> (Vec<f64>, Vec<f64>) {
    let mut keys: Vec<&str> = Vec::new();
    let (mut a_other, mut b_other) = (
        a.get(OTHER_TOOLS).copied().unwrap_or(0.0),
        b.get(OTHER_TOOLS).copied().unwrap_or(0.0),
    );
    for (k, v) in a.iter().filter(|(k, _)| *k != OTHER_TOOLS) {
        if b.contains_key(k) || !b.contains_key(OTHER_TOOLS) {
            keys.push(k);
        } else {
            a_other += v;
        }
    }
    for (k, v) in b.iter().filter(|(k, _)| *k != OTHER_TOOLS) {
        if a.contains_key(k) {
            continue;
        }
        if a.contains_key(OTHER_TOOLS) {
            b_other += v;
        } else {
            keys.push(k);
        }
    }
    let side = |m: &BTreeMap<String, f64>, other: f64| {
        let mut v: Vec<f64> = keys
            .iter()
            .map(|k| m.get(*k).copied().unwrap_or(0.0))
            .collect();
        v.push(other);
        v
    };
    (side(a, a_other), side(b, b_other))
}

/// How far one dimension drifted.
#[derive(Debug, Clone, Serialize)]
pub struct DimensionDrift {
    pub name: &'static str,
    /// Jensen–Shannon divergence in bits, rounded to three places.
    pub divergence: f64,
    pub label: Label,
    /// The figure's mean, median and 95th percentile in the reference and now (`None` for the
    /// tool mix, whose top tools are in `reference_tools` and `current_tools`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<Stats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<Stats>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reference_tools: Vec<(String, f64)>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub current_tools: Vec<(String, f64)>,
}

/// Mean, median and 95th percentile.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Stats {
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
}

/// How a divergence compares with the threshold: under half of it, under it, or over it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    Stable,
    Moderate,
    High,
}

impl Label {
    fn of(score: f64, threshold: f64) -> Label {
        if score > threshold {
            Label::High
        } else if score >= threshold / 2.0 {
            Label::Moderate
        } else {
            Label::Stable
        }
    }
}

/// The sessions one side of a comparison covers.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    pub sessions: u64,
    pub first_started: Option<f64>,
    pub last_started: Option<f64>,
}

/// The drift of the current sessions from a reference.
#[derive(Debug, Clone, Serialize)]
pub struct DriftReport {
    /// The mean of the dimensions' divergences, rounded to three places.
    pub overall: f64,
    pub threshold: f64,
    /// `overall` is above `threshold`.
    pub exceeded: bool,
    pub label: Label,
    pub reference: Side,
    pub current: Side,
    /// Either side has fewer than [`FEW_SESSIONS`] sessions: the scores are mostly chance.
    pub few_sessions: bool,
    pub dimensions: Vec<DimensionDrift>,
}

/// How far `current` drifted from `reference`.
pub fn compare(reference: &Fingerprint, current: &Fingerprint, threshold: f64) -> DriftReport {
    let round3 = |x: f64| (x * 1000.0).round() / 1000.0;
    let top = |m: &BTreeMap<String, f64>| {
        let mut v: Vec<(String, f64)> = m.iter().map(|(k, s)| (k.clone(), *s)).collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(3);
        v
    };
    let (a, b) = aligned_mix(&reference.tool_mix, &current.tool_mix);
    let tools = jensen_shannon(&a, &b);
    let mut dimensions = vec![DimensionDrift {
        name: "tool_mix",
        divergence: round3(tools),
        label: Label::of(tools, threshold),
        reference: None,
        current: None,
        reference_tools: top(&reference.tool_mix),
        current_tools: top(&current.tool_mix),
    }];
    let stats = |h: &Histogram| Stats {
        mean: h.mean,
        p50: h.p50,
        p95: h.p95,
    };
    for ((name, r, _), (_, c, _)) in reference.histograms().into_iter().zip(current.histograms()) {
        let d = jensen_shannon(&r.shares, &c.shares);
        dimensions.push(DimensionDrift {
            name,
            divergence: round3(d),
            label: Label::of(d, threshold),
            reference: Some(stats(r)),
            current: Some(stats(c)),
            reference_tools: Vec::new(),
            current_tools: Vec::new(),
        });
    }
    let overall =
        round3(dimensions.iter().map(|d| d.divergence).sum::<f64>() / dimensions.len() as f64);
    let side = |f: &Fingerprint| Side {
        sessions: f.sessions,
        first_started: f.first_started,
        last_started: f.last_started,
    };
    DriftReport {
        overall,
        threshold,
        exceeded: overall > threshold,
        label: Label::of(overall, threshold),
        reference: side(reference),
        current: side(current),
        few_sessions: reference.sessions < FEW_SESSIONS || current.sessions < FEW_SESSIONS,
        dimensions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(i: u64, error_rate: f64, duration: f64) -> SessionFigures {
        SessionFigures {
            started_at: i as f64,
            tool_calls: 10,
            error_rate,
            retry_rate: 0.0,
            files_written: i % 3,
            duration_secs: Some(duration),
            decisions: i % 4,
        }
    }

    #[test]
    fn jensen_shannon_is_zero_for_equal_and_one_for_disjoint_distributions() {
        assert!(jensen_shannon(&[0.5, 0.5], &[0.5, 0.5]).abs() < 1e-12);
        assert!((jensen_shannon(&[1.0, 0.0], &[0.0, 1.0]) - 1.0).abs() < 1e-12);
        let d = jensen_shannon(&[0.9, 0.1], &[0.5, 0.5]);
        assert!(d > 0.05 && d < 0.2, "{d}");
        // Symmetric.
        assert!((d - jensen_shannon(&[0.5, 0.5], &[0.9, 0.1])).abs() < 1e-12);
        // No calls against calls is as far apart as it gets; none against none is no change.
        assert!((jensen_shannon(&[], &[0.5, 0.5]) - 1.0).abs() < 1e-12);
        assert!((jensen_shannon(&[0.0, 0.0], &[1.0, 0.0]) - 1.0).abs() < 1e-12);
        assert!(jensen_shannon(&[0.0], &[0.0]).abs() < 1e-12);
    }

    #[test]
    fn the_same_behaviour_does_not_drift_and_a_change_does() {
        let tools: BTreeMap<String, u64> = [("Bash".to_owned(), 5), ("Read".to_owned(), 5)].into();
        let shell: BTreeMap<String, u64> = [("Bash".to_owned(), 9), ("Read".to_owned(), 1)].into();
        let base = Fingerprint::of((0..40).map(|i| (figures(i, 0.0, 100.0), &tools)));
        let same = Fingerprint::of((40..80).map(|i| (figures(i, 0.0, 100.0), &tools)));
        let r = compare(&base, &same, 0.2);
        assert!(r.overall < 0.01 && !r.exceeded, "{r:?}");
        let changed = Fingerprint::of((40..80).map(|i| (figures(i, 0.4, 5000.0), &shell)));
        let r = compare(&base, &changed, 0.2);
        assert!(r.exceeded, "{r:?}");
        let by_name = |n| r.dimensions.iter().find(|d| d.name == n).unwrap();
        assert!((by_name("error_rate").divergence - 1.0).abs() < 1e-9);
        assert!((by_name("session_duration").divergence - 1.0).abs() < 1e-9);
        assert!(by_name("tool_mix").divergence > 0.1);
        // Tools that came and went are no common ground.
        let web: BTreeMap<String, u64> = [("WebFetch".to_owned(), 5)].into();
        let other = Fingerprint::of((40..80).map(|i| (figures(i, 0.0, 100.0), &web)));
        let r = compare(&base, &other, 0.2);
        assert!((r.dimensions[0].divergence - 1.0).abs() < 1e-9, "{r:?}");
        assert!(by_name("blast_radius").divergence < 0.01);
    }

    #[test]
    fn a_baseline_file_round_trips_and_stays_small_with_many_long_tool_names() {
        let tools: BTreeMap<String, u64> = (0..40)
            .map(|i| {
                (
                    format!("mcp__some_long_server_name__a_long_tool_name_{i:03}"),
                    i + 1,
                )
            })
            .collect();
        let fp = Fingerprint::of((0..30).map(|i| (figures(i, 0.1, 400.0), &tools)));
        let text = fp.to_file();
        assert!(text.len() < BASELINE_LIMIT, "{} bytes", text.len());
        let back = Fingerprint::from_file(&text).unwrap();
        assert_eq!(back.sessions, 30);
        assert_eq!(back.error_rate, fp.error_rate);
        let total: f64 = back.tool_mix.values().sum();
        assert!((total - 1.0).abs() < 0.01, "{total}");
        assert!(compare(&fp, &back, 0.2).overall < 0.01);
    }

    #[test]
    fn a_baseline_of_other_buckets_is_refused() {
        let tools = BTreeMap::new();
        let fp = Fingerprint::of((0..3).map(|i| (figures(i, 0.0, 1.0), &tools)));
        let text = fp.to_file().replace("\"format\": 1", "\"format\": 7");
        assert!(matches!(
            Fingerprint::from_file(&text),
            Err(BaselineError::Format(7))
        ));
        assert!(matches!(
            Fingerprint::from_file("[1, 2]"),
            Err(BaselineError::NotJson(_))
        ));
    }
}
