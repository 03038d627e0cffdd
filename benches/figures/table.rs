//! How figures are judged and printed: one way to state a target ([`Target`]), one record of
//! a figure against its targets ([`Verdict`]), the statistics and formats every table uses,
//! and the table of command figures ([`Row`]).

use std::fmt::Write as _;
use std::time::Duration;

use crate::tool::Sample;

pub(crate) const MIB: u64 = 1024;

/// The unit of a measured value and of its limit, which also says how both are printed.
#[derive(Clone, Copy)]
pub(crate) enum Unit {
    /// Seconds of wall time, printed in ms or s.
    Seconds,
    /// Microseconds, printed in µs.
    Micros,
    /// KiB of memory, printed in MiB.
    KiB,
    /// A share, in percent.
    Percent,
    /// So many of something per second, printed whole and followed by this name (`MB/s`).
    PerSecond(&'static str),
}

impl Unit {
    fn show(self, value: f64) -> String {
        match self {
            Unit::Seconds => fmt_duration(Duration::try_from_secs_f64(value).unwrap_or_default()),
            Unit::Micros => format!("{value:.0} µs"),
            Unit::KiB => format!("{:.1} MiB", value / 1024.0),
            Unit::Percent => format!("{value:.0}%"),
            Unit::PerSecond(what) => format!("{value:.0} {what}"),
        }
    }
}

/// Which side of its limit a figure must stay on.
#[derive(Clone, Copy)]
pub(crate) enum Limit {
    AtMost(f64),
    AtLeast(f64),
}

/// What a figure must reach: `name` says what is limited (a miss is reported by it), `limit`
/// the bound, `unit` the unit of the bound and of what is measured.
#[derive(Clone, Copy)]
pub(crate) struct Target {
    pub(crate) name: &'static str,
    pub(crate) limit: Limit,
    pub(crate) unit: Unit,
}

impl Target {
    pub(crate) const fn at_most(name: &'static str, value: f64, unit: Unit) -> Self {
        Target {
            name,
            limit: Limit::AtMost(value),
            unit,
        }
    }

    pub(crate) const fn at_least(name: &'static str, value: f64, unit: Unit) -> Self {
        Target {
            name,
            limit: Limit::AtLeast(value),
            unit,
        }
    }

    /// A wall time that may not be exceeded.
    pub(crate) fn time(name: &'static str, limit: Duration) -> Self {
        Target::at_most(name, limit.as_secs_f64(), Unit::Seconds)
    }

    /// A peak RSS, in KiB, that may not be exceeded.
    pub(crate) fn rss(name: &'static str, limit_kib: u64) -> Self {
        Target::at_most(name, limit_kib as f64, Unit::KiB)
    }

    pub(crate) fn describe(&self) -> String {
        match self.limit {
            Limit::AtMost(v) => format!("{} ≤ {}", self.name, self.unit.show(v)),
            Limit::AtLeast(v) => format!("{} ≥ {}", self.name, self.unit.show(v)),
        }
    }

    fn missed_by(&self, measured: f64) -> bool {
        match self.limit {
            Limit::AtMost(v) => measured > v,
            Limit::AtLeast(v) => measured < v,
        }
    }
}

/// One figure and its targets, each with what was measured (`None`: not measured, as the RSS
/// without GNU time, which is never a miss). Every table prints its verdict column from one,
/// and the closing line lists every figure that missed.
pub(crate) struct Verdict {
    pub(crate) figure: String,
    checks: Vec<(Target, Option<f64>)>,
}

impl Verdict {
    pub(crate) fn new(figure: impl Into<String>) -> Self {
        Verdict {
            figure: figure.into(),
            checks: Vec::new(),
        }
    }

    /// Adds a target and what was measured against it.
    pub(crate) fn check(mut self, target: Target, measured: Option<f64>) -> Self {
        self.checks.push((target, measured));
        self
    }

    /// The names of the targets missed.
    pub(crate) fn misses(&self) -> Vec<&'static str> {
        self.checks
            .iter()
            .filter(|(t, m)| m.is_some_and(|m| t.missed_by(m)))
            .map(|(t, _)| t.name)
            .collect()
    }

    /// The targets, for a table's target column.
    pub(crate) fn targets(&self) -> String {
        if self.checks.is_empty() {
            return "(reference)".to_owned();
        }
        let parts: Vec<String> = self.checks.iter().map(|(t, _)| t.describe()).collect();
        parts.join(", ")
    }

    /// The verdict column: `-` without a target, else `ok` or what was missed.
    pub(crate) fn cell(&self) -> String {
        let misses = self.misses();
        if self.checks.is_empty() {
            "-".to_owned()
        } else if misses.is_empty() {
            "ok".to_owned()
        } else {
            format!("**OVER TARGET** ({})", misses.join(", "))
        }
    }
}

/// The closing lines: every figure that missed a target, then the notes.
pub(crate) fn print_verdict(verdicts: &[Verdict], notes: &[String]) {
    let over: Vec<&str> = verdicts
        .iter()
        .filter(|v| !v.misses().is_empty())
        .map(|v| v.figure.as_str())
        .collect();
    println!();
    if over.is_empty() {
        println!("All figures with a target are within it.");
    } else {
        println!("OVER TARGET: {}", over.join("; "));
    }
    for note in notes {
        println!("note: {note}");
    }
}

/// The targets of a command figure measured by wall time and peak RSS.
#[derive(Clone, Copy, Default)]
pub(crate) struct Targets {
    pub(crate) median: Option<Duration>,
    pub(crate) p99: Option<Duration>,
    pub(crate) peak_kib: Option<u64>,
}

impl Targets {
    /// A figure given for reference, without a target.
    pub(crate) fn none() -> Self {
        Targets::default()
    }

    /// A command whose median must stay within `limit`.
    pub(crate) const fn median(limit: Duration) -> Self {
        Targets {
            median: Some(limit),
            p99: None,
            peak_kib: None,
        }
    }

    /// The verdict on `sample` as figure `name`.
    pub(crate) fn judge(&self, name: &str, sample: &Sample) -> Verdict {
        let mut v = Verdict::new(name);
        if let Some(t) = self.median {
            v = v.check(
                Target::time("median", t),
                Some(median(&sample.wall).as_secs_f64()),
            );
        }
        if let Some(t) = self.p99 {
            v = v.check(
                Target::time("p99", t),
                Some(p99(&sample.wall).as_secs_f64()),
            );
        }
        if let Some(t) = self.peak_kib {
            v = v.check(
                Target::rss("peak RSS", t),
                sample.peak_kib.map(|k| k as f64),
            );
        }
        v
    }
}

/// One line of the table of command figures: ours, and the Python tool's when measured.
pub(crate) struct Row {
    pub(crate) name: String,
    pub(crate) ours: Sample,
    pub(crate) targets: Targets,
    pub(crate) python: Option<Sample>,
}

impl Row {
    pub(crate) fn new(name: impl Into<String>, ours: Sample, targets: Targets) -> Self {
        Row {
            name: name.into(),
            ours,
            targets,
            python: None,
        }
    }

    pub(crate) fn verdict(&self) -> Verdict {
        self.targets.judge(&self.name, &self.ours)
    }
}

/// The table of command figures, with the Python columns when `python`.
pub(crate) fn print_rows(rows: &[Row], python: bool) {
    let mut header = String::from("| figure | runs | median | p99 | peak RSS | target | verdict |");
    let mut rule = String::from("|---|---:|---:|---:|---:|---|---|");
    if python {
        header.push_str(" python runs | python median | python p99 | python peak RSS |");
        rule.push_str("---:|---:|---:|---:|");
    }
    println!("{header}");
    println!("{rule}");
    for row in rows {
        let verdict = row.verdict();
        let mut line = format!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.name,
            row.ours.wall.len(),
            fmt_duration(median(&row.ours.wall)),
            fmt_duration(p99(&row.ours.wall)),
            fmt_rss(row.ours.peak_kib),
            verdict.targets(),
            verdict.cell()
        );
        if python {
            match &row.python {
                Some(py) => {
                    let _ = write!(
                        line,
                        " {} | {} | {} | {} |",
                        py.wall.len(),
                        fmt_duration(median(&py.wall)),
                        fmt_duration(p99(&py.wall)),
                        fmt_rss(py.peak_kib)
                    );
                }
                None => line.push_str(" - | - | - | - |"),
            }
        }
        println!("{line}");
    }
}

fn sorted(samples: &[Duration]) -> Vec<Duration> {
    let mut s = samples.to_vec();
    s.sort();
    s
}

/// Nearest-rank percentile.
pub(crate) fn percentile(samples: &[Duration], p: f64) -> Duration {
    let s = sorted(samples);
    if s.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * s.len() as f64).ceil() as usize;
    s[rank.clamp(1, s.len()) - 1]
}

pub(crate) fn median(samples: &[Duration]) -> Duration {
    let s = sorted(samples);
    match s.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2,
    }
}

pub(crate) fn p99(samples: &[Duration]) -> Duration {
    percentile(samples, 99.0)
}

pub(crate) fn fmt_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

pub(crate) fn fmt_rss(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "n/a".to_owned(),
        |k| format!("{:.1} MiB", k as f64 / 1024.0),
    )
}

pub(crate) fn fmt_us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

pub(crate) fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "n/a".to_owned(), |r| format!("{r:.2}"))
}

/// The 1-minute load average, as /proc/loadavg says.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

pub(crate) fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    format!("{cpus} CPUs, {model}, Linux {kernel}")
}
