//! `budget-report`: spend across sessions over a period, against the period before.

use std::borrow::Cow;
use std::io::Write;

use anyhow::Result;
use chrono::{Local, TimeDelta};
use clap::{Args, ValueEnum};

use super::Globals;
use super::args::TimeRange;
use super::explain::phases_of_listed;
use super::local_day;
use super::output::{stdout, usage};
use super::stores::ScopeArgs;
use crate::analysis::budget::{BudgetReport, CostedSession, Period, Spend, compute};
use crate::analysis::copies::Kept;
use crate::analysis::cost::{self, CostOptions};
use crate::exit;
use crate::model::Money;
use crate::model::period::PeriodStarts;
use crate::model::pricing::PriceTable;
use crate::model::text::{count, figure};
use crate::render::terminal::{self, Painter};
use crate::store::{IndexedSession, Listing, Store};

/// Spend across sessions over a period (the last 7 days unless --since or --until say
/// otherwise): total (against the period before), sessions, average, the five most expensive,
/// and cost by day, model, project (--all-projects) and tool
///
/// A session counts in the period it started in, with its subagents; what it spent after the
/// period's end is on the days it was spent, marked "after the period". --blocks adds the 5-hour
/// billing blocks the spend falls in: a block starts at the hour (UTC) of the first response
/// after the previous block and lasts five hours, as ccusage's `blocks` counts them.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace budget-report                          # the last 7 days\n  agent-strace budget-report --since 2026-11-01 --until 2026-11-15\n  agent-strace budget-report --format markdown        # to paste into chat or email\n  agent-strace budget-report --all-projects --blocks  # every project, by billing block"
)]
pub(crate) struct BudgetReportArgs {
    #[command(flatten)]
    period: TimeRange,
    /// Output format
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
    /// Also show spend by 5-hour billing block, as Claude's plans count usage
    #[arg(long)]
    blocks: bool,
    #[command(flatten)]
    scope: ScopeArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    Text,
    Markdown,
    Json,
}

/// Tools the text lists by name; the JSON lists them all.
const TOOL_ROWS: usize = 10;

pub(crate) fn run(args: &BudgetReportArgs, globals: &Globals) -> Result<u8> {
    let now = Local::now().timestamp_millis() as f64 / 1000.0;
    let today = Local::now().date_naive();
    let given_until = args.period.until(now)?;
    let until = match given_until {
        Some(until) => until,
        None => local_day::start_of(today.succ_opt().unwrap_or(today)),
    };
    // Seven local days, and the prior period as many local days before: a week the clocks
    // change in is 167 or 169 hours, and 7 × 86,400 s from a midnight is no midnight.
    let since = match args.period.since(now)? {
        Some(since) => since,
        None => local_day::shift(until, TimeDelta::days(-7)),
    };
    if since >= until {
        return Err(match (&args.period.since, &args.period.until) {
            (Some(given), None) => usage(format!(
                "--since `{}` is in the future: the period ends at the end of today unless --until says otherwise",
                crate::model::text::cut(given.trim(), 80)
            )),
            _ => usage("--since must be before --until"),
        });
    }
    let window = Window {
        since,
        until,
        prior_since: local_day::shift(since, -local_day::wall_between(since, until)),
    };
    // With no --until the period ends now (shown to the end of today): a session starting
    // later than the clock allows is after it.
    let mut sessions = Sessions {
        current: Vec::new(),
        prior: Vec::new(),
        newest: None,
        starts: PeriodStarts::ending(given_until, now),
    };
    let stores = args.scope.stores_unnamed(globals)?;
    let listings = stores
        .iter()
        .map(|located| super::listing::sessions(&located.store))
        .collect::<Result<Vec<_>>>()?;
    // A session in two stores (a copy) counts once, with its subagents, from the copy of it
    // that went furthest, as the dashboard counts it, under that copy's project.
    let copies: Vec<_> = listings.iter().map(super::listing::copies).collect();
    let kept = Kept::of(&copies);
    for (i, (located, listing)) in stores.iter().zip(listings).enumerate() {
        let project = args.scope.many().then(|| located.label());
        let counts = |session: &str| kept.counts(i, session);
        let from = (&located.store, listing, project.as_deref());
        gather(from, &counts, &window, &mut sessions)?;
    }
    super::output::warn_ahead(&sessions.starts);
    let day_of = |ts: f64| local(ts, "%Y-%m-%d");
    let period = Period {
        since,
        until,
        now,
        day: &day_of,
        newest_session_at: sessions.newest,
    };
    let report = compute(&period, &sessions.current, &sessions.prior);
    let mut out = stdout(globals.colour());
    let view = View {
        paint: Painter::new(globals.colour() && args.format == ReportFormat::Text),
        markdown: args.format == ReportFormat::Markdown,
        projects: args.scope.many(),
        blocks: args.blocks,
    };
    match args.format {
        ReportFormat::Json => crate::render::json::write(&mut out, &report)?,
        ReportFormat::Text | ReportFormat::Markdown => text(&mut out, &report, &view)?,
    }
    out.flush()?;
    // The process ends with this command: ten thousand sessions' metas and spends, freed map
    // by map, cost a twelfth of the report; their memory goes back with the process instead.
    std::mem::forget(sessions);
    Ok(exit::OK)
}

/// The period and the one before it, by session start.
struct Window {
    since: f64,
    until: f64,
    prior_since: f64,
}

/// The sessions (with their subagents) of both periods, from every store read.
struct Sessions {
    current: Vec<CostedSession>,
    prior: Vec<CostedSession>,
    /// When the newest session of all started.
    newest: Option<f64>,
    /// The starts the sessions are placed by, and those left out for starting after a period
    /// that ends now.
    starts: PeriodStarts,
}

/// Costs one store's sessions of both periods (its listing, under its project) into `into`,
/// each session's spend cached in the store's index and computed again when its files change;
/// a tree whose root `counts` not (a copy counted from another store) is left out.
fn gather(
    (store, mut listing, project): (&Store, Listing, Option<&str>),
    counts: &dyn Fn(&str) -> bool,
    window: &Window,
    into: &mut Sessions,
) -> Result<()> {
    let cached = listing
        .index
        .as_ref()
        .and_then(|index| index.derived(SPEND).ok())
        .unwrap_or_default();
    let mut computed = Vec::new();
    let prices = prices_key();
    // Each session counts in one tree, as `list` heads them: a subagent whose parent is not
    // in the store, or whose line of parents loops, heads its own rather than vanishing; one
    // below a session that could not be read counts in the tree above that one.
    let links: Vec<(&str, Option<&str>)> = listing
        .sessions
        .iter()
        .map(|s| {
            let meta = &s.summary.meta;
            (meta.session_id.as_str(), meta.parent_session_id.as_deref())
        })
        .collect();
    let links = crate::analysis::tree::linked_through(&links, &listing.left_out);
    let members = crate::analysis::tree::tree_members(&links);
    for (session, members) in listing
        .sessions
        .iter()
        .zip(&members)
        .filter(|(session, members)| {
            !members.is_empty() && counts(&session.summary.meta.session_id)
        })
    {
        let meta = &session.summary.meta;
        let Some(start) = super::output::start_in_period(&mut into.starts, meta) else {
            continue;
        };
        into.newest = Some(into.newest.map_or(start, |n: f64| n.max(start)));
        let bucket = if (window.since..window.until).contains(&start) {
            &mut into.current
        } else if (window.prior_since..window.since).contains(&start) {
            &mut into.prior
        } else {
            continue;
        };
        let mut parts = Vec::new();
        for member in members.iter().map(|&m| &listing.sessions[m]) {
            let id = member.summary.meta.session_id.as_str();
            let key = spend_key(&prices, member);
            if let Some(spend) = cached.get::<Spend>(id, &key) {
                parts.push(spend);
                continue;
            }
            // One session that cannot be read is left out, with a warning, not the report.
            let phases = match phases_of_listed(store, id) {
                Ok(phases) => phases,
                Err(err) => {
                    super::output::warn(format_args!(
                        "skipped a session: {}",
                        crate::error::chain_text(&err)
                    ));
                    continue;
                }
            };
            let table = PriceTable::builtin();
            let report = cost::compute(id, &phases, table, &CostOptions::default())
                .map_err(|e| usage(e.to_string()))?;
            let spend = Spend::of(&phases, &report, table);
            if let Ok(json) = serde_json::to_string(&spend) {
                computed.push((id.to_owned(), key.into_owned(), json));
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
            project: project.map(str::to_owned),
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
    // As `list` does: the sessions' strings and their cached spends go back with the process,
    // not one by one.
    std::mem::forget(listing.sessions);
    std::mem::forget(cached);
    Ok(())
}

/// The name of the figures budget-report caches in the index.
const SPEND: &str = "budget-spend";

/// What a session's cached spend was computed from beyond its own files: this binary's prices
/// (`prices`, the same for every session: [`prices_key`]) and, for a session priced from its
/// transcript, that transcript.
fn spend_key<'a>(prices: &'a str, session: &IndexedSession) -> Cow<'a, str> {
    // Only a session that recorded no tokens is priced from its transcript.
    let priced_from = match session.transcript_path.as_deref() {
        Some(path) if session.summary.meta.total_tokens == 0 => Some(path),
        _ => None,
    };
    match priced_from.and_then(|path| std::fs::metadata(path).ok()) {
        None => Cow::Borrowed(prices),
        Some(m) => {
            use std::os::unix::fs::MetadataExt;
            Cow::Owned(format!(
                "{prices}{}:{}:{}.{:09}",
                m.ino(),
                m.size(),
                m.mtime(),
                m.mtime_nsec()
            ))
        }
    }
}

/// The part of every session's [`spend_key`] that is this binary's: the figures' version, the
/// binary's and its prices'.
fn prices_key() -> String {
    // `spend-2`: the figures gained days, models and blocks; `spend-3`: a session's total usage
    // (Copilot CLI) is no longer priced at long-context rates; `spend-4`: the unpriced models;
    // `spend-5`: the minutes and tools their usage falls on; `spend-6`: whether it was priced
    // from the transcript; `spend-7`: the prices by their fingerprint, not by the 450 bytes
    // that say when they were taken (read and compared for every session of every report);
    // `spend-8`: a cache price the table leaves null is the input price, no longer Anthropic's
    // multiple of it.
    format!(
        "spend-8|{}|{:016x}|",
        env!("CARGO_PKG_VERSION"),
        PriceTable::builtin_fingerprint()
    )
}

/// An instant in local time, in `format`.
fn local(ts: f64, format: &str) -> String {
    chrono::DateTime::from_timestamp(ts.floor() as i64, 0)
        .map(|t| t.with_timezone(&Local).format(format).to_string())
        .unwrap_or_default()
}

fn day(ts: f64) -> String {
    local(ts, "%b %-d, %Y")
}

/// The period's ends as the header names them: its first and last days when it runs from a
/// local midnight to one, else the times it starts and ends (to the second, or finer, when
/// whole minutes would not tell them apart).
fn span(since: f64, until: f64) -> (String, String) {
    if local_day::is_day_start(since) && local_day::is_day_start(until) {
        let last = local_day::date_of(until);
        let last = last.pred_opt().unwrap_or(last);
        return (day(since), last.format("%b %-d, %Y").to_string());
    }
    let to_the = |ts: f64, format: &str| {
        let nanos = (ts.fract() * 1e9).round() as u32;
        chrono::DateTime::from_timestamp(ts.floor() as i64, nanos.min(999_999_999))
            .map(|t| t.with_timezone(&Local).format(format).to_string())
            .unwrap_or_default()
    };
    let format = if since.fract() != 0.0 || until.fract() != 0.0 {
        "%b %-d, %Y %H:%M:%S%.f"
    } else if since % 60.0 != 0.0 || until % 60.0 != 0.0 {
        "%b %-d, %Y %H:%M:%S"
    } else {
        "%b %-d, %Y %H:%M"
    };
    (to_the(since, format), to_the(until, format))
}

/// The change against the prior period, marked (as a dollar figure is) when either period
/// counts a model without a price at $0.
fn change(now: f64, before: f64, pct: Option<f64>, unpriced: bool, prior_unpriced: bool) -> String {
    let mark = if unpriced {
        terminal::UNPRICED_MARK.to_string()
    } else {
        String::new()
    };
    match pct {
        // A prior period of a cent makes a change of millions of percent: separated, and short
        // past fifteen digits.
        Some(p) if p > 0.0 => format!("↑ {}%{mark} vs prior period", figure(p.round())),
        Some(p) if p < 0.0 => format!("↓ {}%{mark} vs prior period", figure(-p.round())),
        Some(_) => format!("same{mark} as prior period"),
        // A prior period whose models have no price spent what is not known, not nothing.
        None if prior_unpriced => "change not known: a model has no price".to_owned(),
        // Past the line above, `unpriced` is the current period's: it spent what is not known.
        None if (now > 0.0 || unpriced) && before == 0.0 => {
            "nothing spent in the prior period".to_owned()
        }
        None => "no spend in either period".to_owned(),
    }
}

/// How the report is shown.
struct View {
    paint: Painter,
    markdown: bool,
    /// The report covers several stores: spend by project is shown.
    projects: bool,
    blocks: bool,
}

fn text(out: &mut impl Write, r: &BudgetReport, v: &View) -> std::io::Result<()> {
    let paint = v.paint;
    let (h1, h2, item) = if v.markdown {
        ("# ", "## ", "- ")
    } else {
        ("", "", "")
    };
    if r.sessions == 0 {
        // One line: nothing to break down, and where the sessions are instead.
        let newest = match r.newest_session_at {
            Some(at) => format!(
                "the newest session started {} (try --since {})",
                day(at),
                local(at, "%Y-%m-%d")
            ),
            None => "no session is recorded".to_owned(),
        };
        let (from, to) = span(r.since, r.until);
        return writeln!(
            out,
            "No sessions started between {from} and {to}; {newest}.",
        );
    }
    let (from, to) = span(r.since, r.until);
    let title = format!("{h1}Budget Report — {from} to {to}");
    writeln!(out, "{}", paint.bold(&title))?;
    let gap = |out: &mut dyn Write| if v.markdown { writeln!(out) } else { Ok(()) };
    gap(out)?;
    // A figure that counts a model without a price at $0 is marked, and the report ends with
    // a note naming the models.
    let mark = |unpriced: bool| {
        if unpriced {
            terminal::UNPRICED_MARK.to_string()
        } else {
            String::new()
        }
    };
    writeln!(
        out,
        "{item}Total spend: {}{} ({})",
        terminal::dollars(r.total_usd),
        mark(!r.unpriced_models.is_empty()),
        change(
            r.total_usd,
            r.prior_total_usd,
            r.change_pct,
            r.change_unpriced,
            !r.prior_unpriced_models.is_empty()
        )
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
        terminal::dollars_marked(r.average_usd, !r.unpriced_models.is_empty())
    )?;
    if r.estimated_sessions > 0 {
        writeln!(
            out,
            "{item}{} of them estimated from payload sizes, in whole or in part (no usage \
             recorded by the session or a subagent)",
            r.estimated_sessions
        )?;
    }
    if r.unbelieved_sessions > 0 {
        writeln!(
            out,
            "{item}{} of them with responses of unknown usage ({}), left out of these figures",
            r.unbelieved_sessions,
            terminal::UNBELIEVED_USAGE
        )?;
    }
    if r.from_log_sessions > 0 {
        writeln!(
            out,
            "{item}{} of them priced from the agent's transcript (no usage recorded: `list` \
             shows an estimate from payload sizes)",
            r.from_log_sessions
        )?;
    }
    gap(out)?;
    let top = terminal::count(r.top.len() as u64, "most expensive session");
    writeln!(out, "{h2}Top {top}:")?;
    for (i, s) in r.top.iter().enumerate() {
        let id: String = s.session_id.chars().take(12).collect();
        let estimated = match (s.estimated, s.from_log) {
            (true, _) => " (estimated)",
            (false, true) => " (from the transcript)",
            (false, false) => "",
        };
        let label = terminal::one_line(&s.label, 40);
        let date = local(s.started_at, "%Y-%m-%d");
        let project = s
            .project
            .as_deref()
            .filter(|_| v.projects)
            .map(|p| format!(" [{}]", terminal::path_tail(p, 30)))
            .unwrap_or_default();
        let cost = format!(
            "{}{}",
            terminal::dollars(s.cost_usd),
            mark(!s.unpriced_models.is_empty() || s.unbelieved_usage > 0)
        );
        if v.markdown {
            writeln!(
                out,
                "{}. `{id}` {cost}{estimated} — {label} — {date}{project}",
                i + 1,
            )?;
        } else {
            writeln!(
                out,
                "{}. {} {cost}{estimated} {label} {date}{project}",
                i + 1,
                paint.cyan(&id),
            )?;
        }
    }
    gap(out)?;
    writeln!(out, "{h2}Cost by day:")?;
    for d in &r.by_day {
        // Its sessions started in the period; the day is named as it was spent.
        let after = if d.after_period {
            " (after the period)"
        } else {
            ""
        };
        writeln!(
            out,
            "{item}{}{after} {}",
            d.day,
            terminal::dollars_marked(d.cost_usd, d.unpriced)
        )?;
    }
    gap(out)?;
    writeln!(out, "{h2}Cost by model:")?;
    for m in &r.by_model {
        writeln!(
            out,
            "{item}{} {}{} ({:.0}%)",
            m.model,
            terminal::dollars(m.cost_usd),
            mark(m.unpriced),
            m.share * 100.0
        )?;
    }
    if v.projects {
        gap(out)?;
        writeln!(out, "{h2}Cost by project:")?;
        for p in &r.by_project {
            writeln!(
                out,
                "{item}{} {} ({}, {:.0}%)",
                p.project,
                terminal::dollars_marked(p.cost_usd, p.unpriced),
                terminal::count(p.sessions as u64, "session"),
                p.share * 100.0
            )?;
        }
    }
    gap(out)?;
    writeln!(out, "{h2}Cost by tool (estimated):")?;
    for t in r.by_tool.iter().take(TOOL_ROWS) {
        writeln!(
            out,
            "{item}{} {} ({:.0}%)",
            t.tool,
            terminal::dollars_marked(t.cost_usd, t.unpriced),
            t.share * 100.0
        )?;
    }
    // The rest in one line, so that the rows add up to the total above.
    let rest = r.by_tool.get(TOOL_ROWS..).unwrap_or_default();
    if !rest.is_empty() {
        let cost: Money = rest.iter().map(|t| Money::from_usd(t.cost_usd)).sum();
        writeln!(
            out,
            "{item}… and {} {} ({:.0}%)",
            count(rest.len() as u64, "more tool"),
            terminal::dollars_marked(cost.usd(), rest.iter().any(|t| t.unpriced)),
            rest.iter().map(|t| t.share).sum::<f64>() * 100.0
        )?;
    }
    if v.blocks {
        gap(out)?;
        writeln!(out, "{h2}5-hour billing blocks:")?;
        for b in &r.blocks {
            let active = match (b.active, b.after_period) {
                (true, true) => " — after the period, active",
                (true, false) => " — active",
                (false, true) => " — after the period",
                (false, false) => "",
            };
            writeln!(
                out,
                "{item}{}–{} {} (spent {}–{}){active}",
                local(b.start, "%Y-%m-%d %H:%M"),
                local(b.end, "%H:%M"),
                terminal::dollars_marked(b.cost_usd, b.unpriced),
                local(b.first, "%H:%M"),
                local(b.last, "%H:%M"),
            )?;
        }
    }
    gap(out)?;
    if r.watchdog.recorded {
        writeln!(
            out,
            "{item}Sessions terminated by watchdog: {} ({} saved by budget ceiling)",
            r.watchdog.sessions_stopped,
            terminal::dollars(r.watchdog.saved_usd)
        )?;
    } else {
        writeln!(
            out,
            "{item}Watchdog: no sessions stopped by a budget ceiling are recorded."
        )?;
    }
    // The change's mark may come of the prior period alone: its models are named too.
    let mut unpriced: Vec<&str> = r
        .unpriced_models
        .iter()
        .chain(&r.prior_unpriced_models)
        .map(String::as_str)
        .collect();
    unpriced.sort_unstable();
    unpriced.dedup();
    if let Some(note) = terminal::unpriced_note(&unpriced) {
        gap(out)?;
        writeln!(out, "{}", paint.dim(&note))?;
    }
    Ok(())
}
