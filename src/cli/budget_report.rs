//! `budget-report`: spend across sessions over a period, against the period before.

use std::collections::HashMap;
use std::io::Write;

use anyhow::Result;
use chrono::Local;
use clap::{Args, ValueEnum};

use super::Globals;
use super::args::TimeRange;
use super::explain::phases_of;
use super::output::{stdout, usage};
use crate::analysis::budget::{BudgetReport, CostedSession, Spend, compute};
use crate::analysis::cost::{self, CostOptions};
use crate::analysis::tree::Forest;
use crate::exit;
use crate::model::pricing::PriceTable;
use crate::render::terminal::{self, Painter};
use crate::store::{IndexedSession, Store};

/// Spend across sessions over a period (the last 7 days unless --since or --until say
/// otherwise): total (against the period before), sessions, average, the five most expensive,
/// and cost by tool
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace budget-report                          # the last 7 days\n  agent-strace budget-report --since 2026-11-01 --until 2026-11-15\n  agent-strace budget-report --format markdown        # to paste into chat or email"
)]
pub(crate) struct BudgetReportArgs {
    #[command(flatten)]
    period: TimeRange,
    /// Output format
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    Text,
    Markdown,
    Json,
}

const DAY: f64 = 86_400.0;

pub(crate) fn run(args: &BudgetReportArgs, globals: &Globals) -> Result<u8> {
    let now = Local::now().timestamp_millis() as f64 / 1000.0;
    let today = Local::now().date_naive().format("%Y-%m-%d").to_string();
    let until = match args.period.until(now)? {
        Some(until) => until,
        None => super::args::instant(&today, "--until", now, true)?,
    };
    let since = args.period.since(now)?.unwrap_or(until - 7.0 * DAY);
    if since >= until {
        return Err(usage("--since must be before --until"));
    }
    let store = Store::new(globals.store_root());
    let mut listing = super::listing::sessions(&store)?;
    let forest = Forest::new(listing.sessions.iter().map(|s| s.summary.meta.clone()));
    let by_id: HashMap<&str, &IndexedSession> = listing
        .sessions
        .iter()
        .map(|s| (s.summary.meta.session_id.as_str(), s))
        .collect();
    // Each session's spend is cached in the index, computed again when its files change.
    let cached = listing
        .index
        .as_ref()
        .and_then(|index| index.derived(SPEND).ok())
        .unwrap_or_default();
    let mut computed = Vec::new();
    let prior_since = since - (until - since);
    let mut current = Vec::new();
    let mut prior = Vec::new();
    for session in listing
        .sessions
        .iter()
        .filter(|s| s.summary.meta.parent_session_id.is_none())
    {
        let meta = &session.summary.meta;
        let start = meta.started_at;
        let bucket = if (since..until).contains(&start) {
            &mut current
        } else if (prior_since..since).contains(&start) {
            &mut prior
        } else {
            continue;
        };
        let mut parts = Vec::new();
        for id in forest.descendants(&meta.session_id) {
            let key = spend_key(by_id.get(id.as_str()).copied());
            if let Some(spend) = cached.get::<Spend>(&id, &key) {
                parts.push(spend);
                continue;
            }
            // One session that cannot be read is left out, with a warning, not the report.
            let phases = match phases_of(&store, &id) {
                Ok(phases) => phases,
                Err(err) => {
                    super::output::warn(format_args!("skipped a session: {err:#}"));
                    continue;
                }
            };
            let report =
                cost::compute(&id, &phases, PriceTable::builtin(), &CostOptions::default())
                    .map_err(|e| usage(e.to_string()))?;
            let spend = Spend::of(&phases, &report);
            if let Ok(json) = serde_json::to_string(&spend) {
                computed.push((id, key, json));
            }
            parts.push(spend);
        }
        let label = session
            .first_prompt
            .clone()
            .unwrap_or_else(|| meta.command.clone());
        bucket.push(CostedSession {
            meta: meta.clone(),
            label,
            parts,
        });
    }
    if let Some(index) = &mut listing.index
        && let Err(err) = index.put_derived(SPEND, &computed)
    {
        super::output::warn(format_args!(
            "could not cache costs in the session index ({err})"
        ));
    }
    let report = compute(since, until, &current, &prior);
    let mut out = stdout(globals.colour());
    match args.format {
        ReportFormat::Json => crate::render::json::write(&mut out, &report)?,
        ReportFormat::Text => text(&mut out, &report, Painter::new(globals.colour()), false)?,
        ReportFormat::Markdown => text(&mut out, &report, Painter::new(false), true)?,
    }
    out.flush()?;
    Ok(exit::OK)
}

/// The name of the figures budget-report caches in the index.
const SPEND: &str = "budget-spend";

/// What a session's cached spend was computed from beyond its own files: this binary's prices
/// and, for a session priced from its transcript, that transcript.
fn spend_key(session: Option<&IndexedSession>) -> String {
    let transcript = session
        .filter(|s| s.summary.meta.total_tokens == 0)
        .and_then(|s| s.transcript_path.as_deref())
        .and_then(|path| std::fs::metadata(path).ok())
        .map(|m| {
            use std::os::unix::fs::MetadataExt;
            format!(
                "{}:{}:{}",
                m.ino(),
                m.size(),
                m.mtime_nsec() + m.mtime() * 1_000_000_000
            )
        })
        .unwrap_or_default();
    format!(
        "{}|{}|{transcript}",
        env!("CARGO_PKG_VERSION"),
        PriceTable::builtin().taken
    )
}

fn day(ts: f64) -> String {
    chrono::DateTime::from_timestamp(ts as i64, 0)
        .map(|t| t.with_timezone(&Local).format("%b %-d, %Y").to_string())
        .unwrap_or_default()
}

fn change(now: f64, before: f64, pct: Option<f64>) -> String {
    match pct {
        Some(p) if p > 0.0 => format!("↑ {p:.0}% vs prior period"),
        Some(p) if p < 0.0 => format!("↓ {:.0}% vs prior period", -p),
        Some(_) => "same as prior period".to_owned(),
        None if now > 0.0 && before == 0.0 => "nothing spent in the prior period".to_owned(),
        None => "no spend in either period".to_owned(),
    }
}

fn text(
    out: &mut impl Write,
    r: &BudgetReport,
    paint: Painter,
    markdown: bool,
) -> std::io::Result<()> {
    let (h1, h2, item) = if markdown {
        ("# ", "## ", "- ")
    } else {
        ("", "", "")
    };
    let title = format!(
        "{h1}Budget Report — {} to {}",
        day(r.since),
        day(r.until - 1.0)
    );
    writeln!(out, "{}", if markdown { title } else { paint.bold(&title) })?;
    if markdown {
        writeln!(out)?;
    }
    writeln!(
        out,
        "{item}Total spend: {} ({})",
        terminal::dollars(r.total_usd),
        change(r.total_usd, r.prior_total_usd, r.change_pct)
    )?;
    let sessions_change = match r.sessions.cmp(&r.prior_sessions) {
        std::cmp::Ordering::Equal => "same as prior period".to_owned(),
        std::cmp::Ordering::Greater => {
            format!("↑ {} vs prior period", r.sessions - r.prior_sessions)
        }
        std::cmp::Ordering::Less => format!("↓ {} vs prior period", r.prior_sessions - r.sessions),
    };
    writeln!(out, "{item}Sessions: {} ({sessions_change})", r.sessions)?;
    writeln!(
        out,
        "{item}Avg cost/session: {}",
        terminal::dollars(r.average_usd)
    )?;
    if r.estimated_sessions > 0 {
        writeln!(
            out,
            "{item}{} of them estimated from payload sizes (no recorded usage)",
            r.estimated_sessions
        )?;
    }
    if markdown {
        writeln!(out)?;
    }
    writeln!(out, "{h2}Top {} most expensive sessions:", r.top.len())?;
    for (i, s) in r.top.iter().enumerate() {
        let id: String = s.session_id.chars().take(12).collect();
        let estimated = if s.estimated { " (estimated)" } else { "" };
        let label = terminal::one_line(&s.label, 40);
        let date = chrono::DateTime::from_timestamp(s.started_at as i64, 0)
            .map(|t| t.with_timezone(&Local).format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        if markdown {
            writeln!(
                out,
                "{}. `{id}` {}{estimated} — {label} — {date}",
                i + 1,
                terminal::dollars(s.cost_usd)
            )?;
        } else {
            writeln!(
                out,
                "{}. {} {}{estimated} {label} {date}",
                i + 1,
                paint.cyan(&id),
                terminal::dollars(s.cost_usd)
            )?;
        }
    }
    if markdown {
        writeln!(out)?;
    }
    writeln!(out, "{h2}Cost by tool (estimated):")?;
    for t in r.by_tool.iter().take(10) {
        writeln!(
            out,
            "{item}{} {} ({:.0}%)",
            t.tool,
            terminal::dollars(t.cost_usd),
            t.share * 100.0
        )?;
    }
    if markdown {
        writeln!(out)?;
    }
    if r.watchdog.recorded {
        writeln!(
            out,
            "{item}Sessions terminated by watchdog: {} ({} saved by budget ceiling)",
            r.watchdog.sessions_stopped,
            terminal::dollars(r.watchdog.saved_usd)
        )
    } else {
        writeln!(
            out,
            "{item}Watchdog: no sessions stopped by a budget ceiling are recorded."
        )
    }
}
