//! `list`: the sessions in the store (or in every store), newest first.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use super::Globals;
use super::args::{FormatArg, TimeRange};
use super::globals::Format;
use super::output::{start_in_period, stdout, usage, warn_unbelievable};
use super::stores::ScopeArgs;
use crate::analysis::tree::TreeCost;
use crate::exit;
use crate::model::meta::{Believed, Unbelievable};
use crate::model::period::PeriodStarts;
use crate::render::terminal::{self, Painter, local_time};
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
    #[arg(long, value_name = "N", value_parser = super::args::at_least_one)]
    last: Option<usize>,
    #[command(flatten)]
    period: TimeRange,
    #[command(flatten)]
    scope: ScopeArgs,
}

#[derive(Debug, Serialize)]
struct ListedSession<'a> {
    session_id: &'a str,
    // A figure no session can have (a damaged or forged `meta.json`) is `null` in JSON, `?`
    // in the table.
    started_at: Believed<f64>,
    ended_at: Believed<Option<f64>>,
    duration_s: Believed<Option<f64>>,
    agent_name: &'a str,
    command: &'a str,
    tool_calls: Believed<u64>,
    /// Calls that failed, as `stats` counts them, and the API errors that ended turns.
    errors: Believed<u64>,
    /// Of `errors`, the calls' own (as `stats` and `explain` give it).
    tool_errors: Believed<u64>,
    /// Calls the user refused or stopped (not among `errors`).
    rejections: u64,
    llm_requests: Believed<u64>,
    total_tokens: Believed<u64>,
    parent_session_id: Option<&'a str>,
    /// The title the agent gave the session (Claude Code's `summary`).
    title: Option<&'a str>,
    first_prompt: Option<&'a str>,
    /// The session's cost with its subagents', from the index; `None` when the index could
    /// not be used.
    cost_usd: Option<f64>,
    /// Some of that cost is estimated from payload sizes (no usage was recorded).
    cost_estimated: bool,
    /// Models whose usage has no known price, in name order: `cost_usd` counts them at $0.
    cost_unpriced_models: Vec<&'a str>,
    /// Responses whose usage holds a count no response can have: `cost_usd` leaves them out.
    #[serde(skip_serializing_if = "crate::model::usage::is_zero")]
    cost_unbelieved_usage: u64,
    /// The project folder whose store holds the session (a workspace's store: its project's);
    /// `null` for the user-level store.
    project: Option<&'a str>,
    /// The workspace whose store holds the session, as the Python tool records them.
    #[serde(skip_serializing_if = "Option::is_none")]
    workspace: Option<&'a str>,
    /// The store's folder.
    store: &'a str,
    #[serde(skip)]
    project_label: &'a str,
    /// The fields of its metadata no real session can hold, with their values, for the
    /// warning.
    #[serde(skip)]
    unbelievable: Unbelievable,
    /// When it started, to put it in order by: its events' time for a start no session can
    /// have (`Store::start_to_order_by`).
    #[serde(skip)]
    order_by: f64,
}

/// How much of the first prompt is kept: enough to recognise the session.
const PROMPT_CHARS: usize = 60;

pub(crate) fn run(args: &ListArgs, globals: &Globals) -> Result<u8> {
    let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
    let since = args.period.since(now)?;
    let until = args.period.until(now)?;
    // With no period every session is listed, a start no session can have shown as `?`; a
    // period has no place for one (a start in 2128 fell in every period reaching it), so it
    // is left out with a warning, as every other filter by time does.
    let period = (since.is_some() || until.is_some())
        .then(|| since.unwrap_or(f64::NEG_INFINITY)..until.unwrap_or(f64::INFINITY));
    if period.as_ref().is_some_and(|p| p.start >= p.end) {
        return Err(usage("--since must be before --until"));
    }
    let stores = args.scope.stores_unnamed(globals)?;
    // The same for every session of a store.
    let places: Vec<Place> = stores
        .iter()
        .map(|located| Place {
            project: located.project_path(),
            workspace: located.workspace.clone(),
            store: located.store.root().to_string_lossy().into_owned(),
            project_label: located.project_label(),
        })
        .collect();
    // Each store's index is closed once its sessions are read: a thousand stores' indexes held
    // open at once ran out of file descriptors (and took hundreds of MB).
    let listings = stores
        .iter()
        .map(|located| {
            super::listing::sessions(&located.store).map(|mut listing| {
                listing.index = None;
                listing
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut listed = Vec::with_capacity(listings.iter().map(|l| l.sessions.len()).sum());
    // The first and last start of the sessions a period left out, to say where they are
    // when it leaves out every one.
    let mut outside: Option<(f64, f64)> = None;
    // A period with no --until ends now: a session dated after it is in none.
    let mut starts = PeriodStarts::ending(until, now);
    for ((listing, place), located) in listings.iter().zip(&places).zip(&stores) {
        // A subagent below one the listing could not read counts in its root's tree, as
        // `cost` counts it; the one that could not be read was said (`skipped a session`).
        let costs =
            crate::analysis::tree::costs_with_subagents(&listing.sessions, &listing.left_out);
        let heads = crate::analysis::tree::heads(&listing.sessions, &listing.left_out);
        listed.extend(
            listing
                .sessions
                .iter()
                .zip(costs)
                .zip(heads)
                .filter(|(_, head)| args.all || *head)
                .map(|(listed, _)| listed)
                .filter(|(s, _)| {
                    let Some(period) = &period else {
                        return true;
                    };
                    let start = start_in_period(&mut starts, &s.summary.meta);
                    if let Some(t) = start.filter(|t| !period.contains(t)) {
                        outside = Some(outside.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
                    }
                    start.is_some_and(|t| period.contains(&t))
                })
                .map(|(s, cost)| {
                    let order_by = located.store.start_to_order_by(&s.summary.meta);
                    listed_session(s, cost, place, order_by)
                }),
        );
    }
    // Every store's listing is newest first; several are merged the same way. (One is in order
    // already, and sorting ten thousand sessions would move them about for nothing.)
    let newest_first = |a: &ListedSession, b: &ListedSession| {
        b.order_by
            .total_cmp(&a.order_by)
            .then_with(|| b.session_id.cmp(a.session_id))
    };
    if !listed.is_sorted_by(|a, b| newest_first(a, b).is_le()) {
        listed.sort_by(newest_first);
    }
    listed.truncate(args.last.unwrap_or(usize::MAX));
    super::output::warn_ahead(&starts);
    for s in &listed {
        warn_unbelievable(s.session_id, &s.unbelievable, args.format.format);
    }
    // Sessions the Python tool recorded in a workspace are in a store of their own, which only
    // that workspace's name reads: with none named, the listing says where they are.
    let workspaces: Vec<(String, usize)> =
        if super::globals::workspace() == Ok(None) && !args.scope.many() {
            stores.iter().flat_map(|l| l.store.workspaces()).collect()
        } else {
            Vec::new()
        };
    let mut out = stdout(globals.colour());
    match args.format.format {
        Format::Json => crate::render::json::write_list(&mut out, &listed)?,
        Format::Text if listed.is_empty() && period.is_none() && !workspaces.is_empty() => {
            writeln!(
                out,
                "No sessions recorded outside workspaces; {}",
                workspaces_held(&workspaces, false)
            )?;
        }
        Format::Text if listed.is_empty() => {
            writeln!(out, "{}", nothing_listed(period.as_ref(), outside))?;
        }
        Format::Text => {
            text(
                &mut out,
                &listed,
                Painter::new(globals.colour()),
                args.scope.many(),
            )?;
            if !workspaces.is_empty() {
                writeln!(out, "{}", workspaces_held(&workspaces, true))?;
            }
        }
    }
    out.flush()?;
    for located in &stores {
        kept_note(&located.store, &args.scope);
    }
    drop(listed);
    for listing in listings {
        // The process ends with this command, and freeing ten thousand sessions' strings one by
        // one (cold in the cache by now) takes as long as printing them did: that memory goes
        // back with the process instead.
        std::mem::forget(listing.sessions);
    }
    Ok(exit::OK)
}

/// One line when hooks kept calls in `store` for the collector: they wait for the next hook of
/// that store, which a project's last session never has.
fn kept_note(store: &crate::store::Store, scope: &ScopeArgs) {
    let Ok(found) = store.spooled_count() else {
        return;
    };
    if let Some(what) = found.not_a_folder {
        super::output::warn(super::send_kept::not_a_folder_note(store, what));
    }
    if found.strays > 0 {
        super::output::warn(super::send_kept::stray_note(found.strays));
    }
    if found.set_aside > 0 {
        super::output::warn(super::send_kept::set_aside_note(store, &found));
    }
    let count @ 1.. = found.calls else {
        return;
    };
    // Said as what is there: hook calls, proxies' batches of events, or both.
    let (hooks, batches) = (count - found.batches, found.batches);
    let named = |n: usize, one: &str, many: &str| match n {
        1 => format!("1 {one}"),
        n => format!("{n} {many}"),
    };
    let what = match (hooks, batches) {
        (_, 0) => named(hooks, "hook call", "hook calls"),
        (0, _) => named(
            batches,
            "proxy's batch of events",
            "proxies' batches of events",
        ),
        _ => format!(
            "{} and {}",
            named(hooks, "hook call", "hook calls"),
            named(
                batches,
                "proxy's batch of events",
                "proxies' batches of events"
            )
        ),
    };
    let (calls, them) = if count == 1 {
        (format!("{what} waits"), "it")
    } else {
        (format!("{what} wait"), "them")
    };
    let flag = match &scope.project {
        _ if scope.many() => " --all-projects".to_owned(),
        Some(path) => format!(" --project {}", path.display()),
        None => String::new(),
    };
    super::output::warn(format_args!(
        "{calls} for the collector in {}; send {them} now with `agent-strace send-kept{flag}`",
        store.spool_path().display()
    ));
}

/// Where a store's sessions come from, as each listed session says it.
struct Place {
    project: Option<String>,
    workspace: Option<String>,
    store: String,
    project_label: String,
}

fn listed_session<'a>(
    session: &'a IndexedSession,
    cost: Option<TreeCost<'a>>,
    place: &'a Place,
    order_by: f64,
) -> ListedSession<'a> {
    let meta = &session.summary.meta;
    let (cost_usd, cost_estimated, cost_unpriced_models, cost_unbelieved_usage) = match cost {
        Some(c) => (
            Some(c.cost.usd()),
            c.estimated,
            c.unpriced,
            c.unbelieved_usage,
        ),
        None => (None, false, Vec::new(), 0),
    };
    let unbelievable = meta.unbelievable();
    ListedSession {
        cost_usd,
        cost_estimated,
        cost_unpriced_models,
        cost_unbelieved_usage,
        project: place.project.as_deref(),
        workspace: place.workspace.as_deref(),
        store: &place.store,
        project_label: &place.project_label,
        // Milliseconds are the precision timestamps carry; more digits are float noise.
        duration_s: meta.duration_figure(
            &unbelievable,
            meta.duration_secs().map(crate::model::seconds::to_millis),
        ),
        session_id: &meta.session_id,
        started_at: unbelievable.figure("started_at", meta.started_at),
        ended_at: unbelievable.figure("ended_at", meta.ended_at),
        agent_name: &meta.agent_name,
        command: &meta.command,
        tool_calls: unbelievable.figure("tool_calls", meta.tool_calls),
        errors: unbelievable.figure("errors", session.summary.failures()),
        tool_errors: unbelievable.figure("errors", session.summary.tool_failures()),
        rejections: session.summary.rejections,
        llm_requests: unbelievable.figure("llm_requests", meta.llm_requests),
        total_tokens: unbelievable.figure("total_tokens", meta.total_tokens),
        title: meta.title(),
        parent_session_id: meta.parent_session_id.as_deref(),
        first_prompt: session.first_prompt.as_deref(),
        unbelievable,
        order_by,
    }
}

/// What `list` says when it lists nothing: that nothing is recorded, or, when a period left
/// every session out, where the sessions are instead (as `budget-report` says it), so an empty
/// period is not taken for an empty store.
fn nothing_listed(period: Option<&std::ops::Range<f64>>, outside: Option<(f64, f64)>) -> String {
    let (Some(period), Some((oldest, newest))) = (period, outside) else {
        return "No sessions recorded yet.".to_owned();
    };
    let day = terminal::local_day;
    let hint = if newest < period.start {
        format!(
            "the newest started {} (try --since {})",
            local_time(newest),
            day(newest)
        )
    } else if oldest >= period.end {
        format!(
            "the oldest started {} (try --until {})",
            local_time(oldest),
            day(oldest)
        )
    } else {
        format!(
            "the sessions recorded started from {} to {}",
            local_time(oldest),
            local_time(newest)
        )
    };
    format!("No session started in that period; {hint}.")
}

/// The most workspaces [`workspaces_held`] names.
const WORKSPACES_NAMED: usize = 5;

/// The workspaces that hold sessions, each with the variable that lists them:
/// `2 workspaces hold sessions too: AGENT_STRACE_WORKSPACE=prod (3 sessions), …`.
fn workspaces_held(found: &[(String, usize)], too: bool) -> String {
    let named: Vec<String> = found
        .iter()
        .take(WORKSPACES_NAMED)
        .map(|(name, sessions)| {
            format!(
                "{}={} ({})",
                super::globals::WORKSPACE_ENV,
                terminal::one_line(name, 128),
                crate::model::text::count(*sessions as u64, "session")
            )
        })
        .collect();
    let more = found.len().saturating_sub(WORKSPACES_NAMED);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!(
        "{} {} sessions{}: {}{more}.",
        crate::model::text::count(found.len() as u64, "workspace"),
        if found.len() == 1 { "holds" } else { "hold" },
        if too { " too" } else { "" },
        named.join(", ")
    )
}

/// How many columns of a project's folder the PROJECT column shows.
const PROJECT_CHARS: usize = 24;

/// The PROJECT column's text for each project shown: the end of its folder that fits in
/// [`PROJECT_CHARS`]; or, when that end is the end of another project shown too
/// (`…/clientA/payments-service-backend` and `…/clientB/payments-service-backend` both ended
/// `…ents-service-backend`), the fewest whole folders at its end that no other ends with.
fn project_tails<'a>(labels: impl Iterator<Item = &'a str>) -> HashMap<&'a str, String> {
    let distinct: BTreeSet<&str> = labels.collect();
    let ends_another = |label: &str, tail: &str| {
        distinct
            .iter()
            .any(|other| *other != label && other.ends_with(tail))
    };
    distinct
        .iter()
        .map(|&label| {
            let cut = terminal::path_tail(label, PROJECT_CHARS);
            let Some(end) = cut.strip_prefix('…') else {
                return (label, cut);
            };
            if !ends_another(label, end) {
                return (label, cut);
            }
            let folders: Vec<&str> = label.split('/').collect();
            let shown = (1..folders.len())
                .map(|n| folders[folders.len() - n..].join("/"))
                .find(|tail| !ends_another(label, &format!("/{tail}")))
                .map_or_else(|| label.to_owned(), |tail| format!("…/{tail}"));
            (label, terminal::one_line(&shown, usize::MAX))
        })
        .collect()
}

fn text(
    out: &mut impl Write,
    sessions: &[ListedSession],
    paint: Painter,
    projects: bool,
) -> std::io::Result<()> {
    if sessions.is_empty() {
        return writeln!(out, "No sessions recorded yet.");
    }
    let id_width = terminal::column_width(sessions.iter().map(|s| s.session_id), 10, usize::MAX);
    let tails = if projects {
        project_tails(sessions.iter().map(|s| s.project_label))
    } else {
        HashMap::new()
    };
    // A workspace's sessions show the project's folder and the workspace.
    let project_cell = |s: &ListedSession| {
        let tail = tails.get(s.project_label).map_or("", String::as_str);
        match s.workspace {
            Some(workspace) => format!("{tail} [{}]", terminal::one_line(workspace, usize::MAX)),
            None => tail.to_owned(),
        }
    };
    let cells: Vec<String> = if projects {
        sessions.iter().map(project_cell).collect()
    } else {
        Vec::new()
    };
    let project_width = terminal::column_width(
        cells.iter().map(String::as_str),
        "PROJECT".len(),
        usize::MAX,
    );
    // A REJECTED column when some session has rejections, as `stats` shows its table.
    let rejected_head = if sessions.iter().any(|s| s.rejections > 0) {
        "  REJECTED"
    } else {
        ""
    };
    // Of the errors, the turns' (an API error that ended one, no tool's) in a column of their
    // own when some session has some, as `dashboard` shows them.
    let turn_errors = |s: &ListedSession| s.errors.value.saturating_sub(s.tool_errors.value);
    let turn_head = if sessions.iter().any(|s| turn_errors(s) > 0) {
        "  TURN ERRORS"
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
            "{:<id_width$}  {project_head}{:<16}  {:>9}  {:<12}  {:>5}  {:>6}{turn_head}{rejected_head}  {:>9}  TITLE OR FIRST PROMPT",
            "SESSION", "STARTED", "DURATION", "AGENT", "TOOLS", "ERRORS", "COST"
        ))
    )?;
    for (n, s) in sessions.iter().enumerate() {
        let project = if projects {
            format!("{}  ", terminal::pad(&cells[n], project_width))
        } else {
            String::new()
        };
        // An estimate is marked `~`, as budget-report and cost label theirs "estimated"; a
        // cost that counts a model without a price at $0 is followed by `?`, in the gap after
        // the column so that the dollars stay aligned.
        let cost = s.cost_usd.map_or_else(String::new, |c| {
            let mark = if s.cost_estimated { "~" } else { "" };
            format!("{mark}{}", terminal::dollars(c))
        });
        // Responses of unknown usage count for $0 too.
        let unpriced = if s.cost_unpriced_models.is_empty() && s.cost_unbelieved_usage == 0 {
            ' '
        } else {
            terminal::UNPRICED_MARK
        };
        let started = terminal::believed(s.started_at, terminal::local_time);
        let duration = match s.duration_s.value {
            None => "running".to_owned(),
            Some(_) => terminal::believed(s.duration_s, |d| {
                terminal::duration_secs(d.unwrap_or_default())
            }),
        };
        let tools = terminal::believed(s.tool_calls, |n| n.to_string());
        let errors = format!("{:>6}", terminal::believed(s.errors, |n| n.to_string()));
        let errors = paint.errors(&errors, s.tool_errors.value, turn_errors(s));
        let of_the_turn = if turn_head.is_empty() {
            String::new()
        } else {
            format!("  {:>11}", turn_errors(s))
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
            .map(|t| terminal::one_line(t, PROMPT_CHARS))
            .or_else(|| {
                s.first_prompt
                    .map(|p| format!("\"{}\"", terminal::one_line(p, PROMPT_CHARS)))
            });
        writeln!(
            out,
            "{}  {project}{started:<16}  {duration:>9}  {}  {tools:>5}  {errors}{of_the_turn}{rejected}  {cost:>9}{unpriced} {}",
            paint.cyan(&terminal::cell(s.session_id, id_width)),
            terminal::cell(s.agent_name, 12),
            // A dim placeholder, never an empty cell (it left the line ending in a space).
            prompt.unwrap_or_else(|| paint.dim("(no prompt)")),
        )?;
    }
    let mut unpriced: Vec<&str> = sessions
        .iter()
        .flat_map(|s| s.cost_unpriced_models.iter().copied())
        .collect();
    unpriced.sort_unstable();
    unpriced.dedup();
    if let Some(note) = terminal::unpriced_note(&unpriced) {
        writeln!(out, "{}", paint.dim(&note))?;
    }
    // Saturating: a forged index row can say any count (three summed past u64::MAX panicked).
    let unbelieved = sessions
        .iter()
        .fold(0, |sum: u64, s| sum.saturating_add(s.cost_unbelieved_usage));
    if let Some(note) = terminal::unbelieved_cost_note(unbelieved) {
        writeln!(out, "{}", paint.dim(&note))?;
    }
    Ok(())
}
