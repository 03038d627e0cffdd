//! `list`: the sessions in the store (or in every store), newest first.

use std::collections::HashMap;
use std::io::Write;

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use super::Globals;
use super::args::{FormatArg, TimeRange};
use super::globals::Format;
use super::output::{stdout, usage};
use super::stores::ScopeArgs;
use crate::exit;
use crate::model::Money;
use crate::render::terminal::{self, Painter};
use crate::store::IndexedSession;

/// List recorded sessions, newest first, with what each cost (its subagents included)
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  agent-strace list\n  agent-strace list --last 5 --since 7d\n  agent-strace list --all-projects      # every project's sessions, with a PROJECT column\n  agent-strace list --all --format json"
)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    format: FormatArg,
    /// Also list subagent sessions (shown under `replay --tree` otherwise)
    #[arg(long)]
    all: bool,
    /// Show only the N newest sessions
    #[arg(long, value_name = "N")]
    last: Option<usize>,
    #[command(flatten)]
    period: TimeRange,
    #[command(flatten)]
    scope: ScopeArgs,
}

#[derive(Debug, Serialize)]
struct ListedSession {
    session_id: String,
    started_at: f64,
    ended_at: Option<f64>,
    duration_s: Option<f64>,
    agent_name: String,
    command: String,
    tool_calls: u64,
    /// Calls that failed, as `stats` counts them.
    errors: u64,
    /// Calls the user refused or stopped (not among `errors`).
    rejections: u64,
    llm_requests: u64,
    total_tokens: u64,
    parent_session_id: Option<String>,
    /// The title the agent gave the session (Claude Code's `summary`).
    title: Option<String>,
    first_prompt: Option<String>,
    /// The session's cost with its subagents', from the index; `None` when the index could
    /// not be used.
    cost_usd: Option<f64>,
    /// Some of that cost is estimated from payload sizes (no usage was recorded).
    cost_estimated: bool,
    /// The project folder whose store holds the session; `null` for the user-level store.
    project: Option<String>,
    /// The store's folder.
    store: String,
    #[serde(skip)]
    project_label: String,
}

/// How much of the first prompt is kept: enough to recognise the session.
const PROMPT_CHARS: usize = 60;

pub(crate) fn run(args: &ListArgs, globals: &Globals) -> Result<u8> {
    let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
    let since = args.period.since(now)?.unwrap_or(f64::NEG_INFINITY);
    let until = args.period.until(now)?.unwrap_or(f64::INFINITY);
    if since >= until {
        return Err(usage("--since must be before --until"));
    }
    let mut listed = Vec::new();
    for located in args.scope.stores(globals)? {
        let listing = super::listing::sessions(&located.store)?;
        let costs = with_subagents(&listing.sessions);
        // The same for every session of this store.
        let place = Place {
            project: located.path(),
            store: located.store.root().to_string_lossy().into_owned(),
            project_label: located.label(),
        };
        listed.extend(
            listing
                .sessions
                .into_iter()
                .zip(costs)
                .filter(|(s, _)| args.all || s.summary.meta.parent_session_id.is_none())
                .filter(|(s, _)| (since..until).contains(&s.summary.meta.started_at))
                .map(|(s, cost)| listed_session(s, cost, &place)),
        );
    }
    // Every store's listing is newest first; several are merged the same way.
    listed.sort_by(|a, b| {
        b.started_at
            .total_cmp(&a.started_at)
            .then_with(|| b.session_id.cmp(&a.session_id))
    });
    listed.truncate(args.last.unwrap_or(usize::MAX));
    let mut out = stdout(globals.colour());
    match args.format.format {
        Format::Json => crate::render::json::write(&mut out, &listed)?,
        Format::Text => text(
            &mut out,
            &listed,
            Painter::new(globals.colour()),
            args.scope.many(),
        )?,
    }
    out.flush()?;
    Ok(exit::OK)
}

/// Each session's cost with its subagents' (and theirs), and whether any of it is estimated,
/// in the order of `sessions`; `None` for sessions the index did not cost.
///
/// Most sessions have no subagents, so only the few parents walk their descendants, by
/// position, without copying any session's metadata.
fn with_subagents(sessions: &[IndexedSession]) -> Vec<Option<(Money, bool)>> {
    let position: HashMap<&str, usize> = sessions
        .iter()
        .enumerate()
        .map(|(i, s)| (s.summary.meta.session_id.as_str(), i))
        .collect();
    let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, s) in sessions.iter().enumerate() {
        if let Some(parent) = s.summary.meta.parent_session_id.as_deref()
            && let Some(&p) = position.get(parent)
        {
            children.entry(p).or_default().push(i);
        }
    }
    sessions
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let own = s.cost?;
            if !children.contains_key(&i) {
                return Some(own);
            }
            // The session and every descendant once each: a corrupt store could link a
            // session to itself or make a cycle; never loop.
            let mut seen = vec![i];
            let mut next = 0;
            while next < seen.len() {
                for &child in children.get(&seen[next]).map_or(&[][..], Vec::as_slice) {
                    if !seen.contains(&child) {
                        seen.push(child);
                    }
                }
                next += 1;
            }
            Some(
                seen.iter()
                    .filter_map(|&d| sessions[d].cost)
                    .fold((Money(0), false), |(sum, est), (cost, e)| {
                        (sum + cost, est || e)
                    }),
            )
        })
        .collect()
}

/// Where a store's sessions come from, as each listed session says it.
struct Place {
    project: Option<String>,
    store: String,
    project_label: String,
}

fn listed_session(
    session: IndexedSession,
    cost: Option<(Money, bool)>,
    place: &Place,
) -> ListedSession {
    let (errors, rejections) = (session.summary.failures(), session.summary.rejections);
    let meta = session.summary.meta;
    let first_prompt = session.first_prompt;
    let title = meta.title().map(str::to_owned);
    ListedSession {
        cost_usd: cost.map(|(c, _)| c.usd()),
        cost_estimated: cost.is_some_and(|(_, e)| e),
        project: place.project.clone(),
        store: place.store.clone(),
        project_label: place.project_label.clone(),
        // Milliseconds are the precision timestamps carry; more digits are float noise.
        duration_s: meta.duration_secs().map(|d| (d * 1000.0).round() / 1000.0),
        session_id: meta.session_id,
        started_at: meta.started_at,
        ended_at: meta.ended_at,
        agent_name: meta.agent_name,
        command: meta.command,
        tool_calls: meta.tool_calls,
        errors,
        rejections,
        llm_requests: meta.llm_requests,
        total_tokens: meta.total_tokens,
        title,
        parent_session_id: meta.parent_session_id,
        first_prompt,
    }
}

/// How many characters of a project's folder the PROJECT column shows.
const PROJECT_CHARS: usize = 24;

fn text(
    out: &mut impl Write,
    sessions: &[ListedSession],
    paint: Painter,
    projects: bool,
) -> std::io::Result<()> {
    if sessions.is_empty() {
        return writeln!(out, "No sessions recorded yet.");
    }
    let id_width = sessions
        .iter()
        .map(|s| s.session_id.len())
        .max()
        .unwrap_or(10)
        .max(10);
    let project_width = if projects {
        sessions
            .iter()
            .map(|s| s.project_label.chars().count().min(PROJECT_CHARS))
            .max()
            .unwrap_or(7)
            .max(7)
    } else {
        0
    };
    // A REJECTED column when some session has rejections, as `stats` shows its table.
    let rejected_head = if sessions.iter().any(|s| s.rejections > 0) {
        "  REJECTED"
    } else {
        ""
    };
    let project_head = if projects {
        format!("{:<project_width$}  ", "PROJECT")
    } else {
        String::new()
    };
    writeln!(
        out,
        "{}",
        paint.bold(&format!(
            "{:<id_width$}  {project_head}{:<16}  {:>9}  {:<12}  {:>5}  {:>6}{rejected_head}  {:>9}  TITLE OR FIRST PROMPT",
            "SESSION", "STARTED", "DURATION", "AGENT", "TOOLS", "ERRORS", "COST"
        ))
    )?;
    for s in sessions {
        let project = if projects {
            format!(
                "{:<project_width$}  ",
                terminal::path_tail(&s.project_label, PROJECT_CHARS)
            )
        } else {
            String::new()
        };
        // An estimate is marked `~`, as budget-report and cost label theirs "estimated".
        let cost = s.cost_usd.map_or_else(String::new, |c| {
            let mark = if s.cost_estimated { "~" } else { "" };
            format!("{mark}{}", terminal::dollars(c))
        });
        let duration = s
            .duration_s
            .map_or_else(|| "running".to_owned(), terminal::duration_secs);
        let errors = format!("{:>6}", s.errors);
        let errors = if s.errors > 0 {
            paint.red(&errors)
        } else {
            errors
        };
        let rejected = if rejected_head.is_empty() {
            String::new()
        } else {
            let n = format!("  {:>8}", s.rejections);
            if s.rejections > 0 {
                paint.yellow(&n)
            } else {
                n
            }
        };
        // The agent's title names the session best; else the first prompt, quoted.
        let prompt = s
            .title
            .as_deref()
            .map(|t| terminal::one_line(t, PROMPT_CHARS))
            .or_else(|| {
                s.first_prompt
                    .as_deref()
                    .map(|p| format!("\"{}\"", terminal::one_line(p, PROMPT_CHARS)))
            });
        writeln!(
            out,
            "{}  {project}{:<16}  {:>9}  {:<12}  {:>5}  {errors}{rejected}  {cost:>9}  {}",
            paint.cyan(&format!("{:<id_width$}", s.session_id)),
            terminal::local_time(s.started_at),
            duration,
            terminal::one_line(&s.agent_name, 12),
            s.tool_calls,
            prompt.unwrap_or_default(),
        )?;
    }
    Ok(())
}
